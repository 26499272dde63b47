"""Where the service keeps its files, decided before Django starts (no Django here).

The data dir is ``$KVCREDIT_DATA_DIR``; unset, it is ``./demo-data`` where that holds a
database (after ``make demo``, so the README's commands find the demo), else ``./var``. It holds
the SQLite file, the collected static files, attached documents and ``secret_key``: the key
``kvcredit init`` writes (random, mode 0600) when ``$KVCREDIT_SECRET_KEY`` is not set, read by
the settings on every start. A directory ``kvcredit demo load`` filled carries the ``DEMO``
marker: the console is then served over plain http on this machine (no Secure cookies), unless
``$KVCREDIT_SECURE_COOKIES`` says otherwise.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from pathlib import Path

DEMO_DIR = "demo-data"
SECRET_FILE = "secret_key"
DEMO_MARKER = "DEMO"


def data_dir(environ: Mapping[str, str] = os.environ, cwd: Path | None = None) -> Path:
    chosen = environ.get("KVCREDIT_DATA_DIR")
    if chosen:
        return Path(chosen).resolve()
    here = cwd or Path.cwd()
    demo = here / DEMO_DIR
    if (demo / "kvcredit.sqlite3").is_file():
        return demo.resolve()
    return (here / "var").resolve()


def stored_secret_key(directory: Path) -> str | None:
    try:
        key = (directory / SECRET_FILE).read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError):
        return None
    return key or None


def ensure_secret_key(environ: Mapping[str, str] = os.environ) -> Path | None:
    """Write a random secret key into the data dir unless one is set or stored already;
    return the file written (None: nothing to do)."""
    if environ.get("KVCREDIT_SECRET_KEY"):
        return None
    directory = data_dir(environ)
    if stored_secret_key(directory) is not None:
        return None
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / SECRET_FILE
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as f:
        f.write(secrets.token_urlsafe(50) + "\n")
    return path


def mark_demo(directory: Path) -> None:
    (directory / DEMO_MARKER).write_text("kvcredit demo load\n", encoding="ascii")


def is_demo(directory: Path) -> bool:
    return (directory / DEMO_MARKER).is_file()
