"""The README's tour, run as written after ``make demo``: every command of its shell blocks
(the tour and "Run the service"), in a directory laid out as the repository after ``make demo``
(``.venv/bin/kvcredit``, ``src/``, a freshly loaded small ``demo-data/``), with none of the
settings in the environment: the commands must find the demo by themselves. ``make demo`` and
``make test`` are what made that state; the server start is exercised on its own (the console
served without debug: the login page, its static files, a login)."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
SECTIONS = ("## A tour", "## Run the service")
SKIPPED = ("make demo", "make test")  # what made the state the tour starts from
SETTINGS = ("KVCREDIT_DATA_DIR", "KVCREDIT_DEBUG", "KVCREDIT_SECRET_KEY", "KVCREDIT_DATABASE_URL")

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        os.environ.get("KVCREDIT_TEST_BACKEND") == "postgresql",
        reason="the tour is the SQLite demo's (make demo); it runs in the SQLite pass",
    ),
]


def tour_blocks(text: str) -> list[list[str]]:
    """The shell blocks (fenced, no language or sh/bash/shell) of the tour's sections, each a
    list of its command lines."""
    blocks = []
    for heading in SECTIONS:
        start = text.index(heading)
        end = text.find("\n## ", start + len(heading))
        section = text[start : end if end >= 0 else len(text)]
        for lang, body in re.findall(r"^```([a-z]*)\n(.*?)^```", section, re.M | re.S):
            if lang in ("", "sh", "bash", "shell"):
                lines = [x for x in body.splitlines() if x.strip() and not x.startswith("#")]
                blocks.append(lines)
    return blocks


def _is_serve(line: str) -> bool:
    return " serve" in line.split("#", 1)[0]


def test_the_tour_has_the_commands_the_reader_expects() -> None:
    text = README.read_text(encoding="utf-8")
    first = re.search(r"^```\n(.*?)^```", text, re.M | re.S)
    assert first is not None and first.group(1).splitlines()[:2] == ["make demo", "make test"]
    commands = [line for block in tour_blocks(text) for line in block]
    assert any("kvcredit evaluate" in c for c in commands)
    assert any("policy diff" in c for c in commands)
    assert sum(_is_serve(c) for c in commands) == 2  # the demo's and a fresh programme's


@pytest.fixture(scope="module")
def checkout(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The repository's root as ``make demo`` leaves it, with a small demo loaded."""
    root = tmp_path_factory.mktemp("tour")
    (root / "src").symlink_to(ROOT / "src")
    bin_dir = root / ".venv" / "bin"
    bin_dir.mkdir(parents=True)
    wrapper = bin_dir / "kvcredit"
    wrapper.write_text(
        f'#!/bin/sh\nexec "{sys.executable}" -c "from kvcredit.cli import app; app()" "$@"\n'
    )
    wrapper.chmod(0o755)
    (bin_dir / "python").symlink_to(sys.executable)
    env = _env()
    demo = root / "demo-data"
    demo.mkdir()
    # as the Makefile does: the demo loads without `kvcredit init` (it publishes its rulebooks)
    for args in (["demo", "load", "--seed", "2017", "--enterprises", "300"],):
        r = subprocess.run(
            [str(wrapper), *args],
            cwd=root,
            env=env | {"KVCREDIT_DATA_DIR": str(demo)},  # as the Makefile does
            capture_output=True,
            text=True,
            timeout=900,
        )
        assert r.returncode == 0, r.stdout + r.stderr
    return root


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in SETTINGS}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    src = str(ROOT / "src")
    env["PYTHONPATH"] = src + os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else src
    return env


def test_every_command_of_the_tour_runs_as_written(checkout: Path) -> None:
    text = README.read_text(encoding="utf-8")
    ran = 0
    for block in tour_blocks(text):
        lines = [x for x in block if x.strip() not in SKIPPED and not _is_serve(x)]
        if not lines:
            continue
        script = "set -euo pipefail\n" + "\n".join(lines) + "\n"
        r = subprocess.run(
            ["bash", "-c", script],
            cwd=checkout,
            env=_env(),
            capture_output=True,
            text=True,
            timeout=900,
        )
        assert r.returncode == 0, f"{lines}\n{r.stdout[-3000:]}\n{r.stderr[-3000:]}"
        ran += len(lines)
    assert ran >= 15
    assert (checkout / "grades.xlsx").is_file() and (checkout / "fund.beancount").is_file()
    assert (checkout / "my-programme" / "kvcredit.sqlite3").is_file()  # the fresh programme's
    assert not (checkout / "var").exists()  # the demo's commands found demo-data


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_the_demo_console_serves_without_debug(checkout: Path) -> None:
    port = _free_port()
    wrapper = str(checkout / ".venv" / "bin" / "kvcredit")
    proc = subprocess.Popen(
        [wrapper, "serve", "--bind", f"127.0.0.1:{port}", "--workers", "1"],
        cwd=checkout,
        env=_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        with httpx.Client(base_url=base, timeout=30) as client:
            for _ in range(600):
                try:
                    page = client.get("/accounts/login/")
                    break
                except httpx.TransportError:
                    assert proc.poll() is None, proc.stderr.read().decode() if proc.stderr else ""
                    time.sleep(0.2)
            assert page.status_code == 200
            statics = re.findall(r'(?:href|src)="(/static/[^"]+)"', page.text)
            assert statics, "the login page links its static files"
            for path in statics:
                assert client.get(path).status_code == 200, path
            token = client.cookies["csrftoken"]
            r = client.post(
                "/accounts/login/",
                data={
                    "username": "admin",
                    "password": "kvcredit-demo-2017",
                    "csrfmiddlewaretoken": token,
                },
                headers={"Referer": base + "/accounts/login/"},
            )
            assert r.status_code == 302, r.text[:500]
            home = client.get("/", follow_redirects=True)
            assert home.status_code == 200 and "admin" in home.text
    finally:
        proc.terminate()
        proc.wait(timeout=30)
