"""Helpers of the browser tests: where chromium is, screenshots, logging in."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

CHROMIUM = Path(os.environ.get("KVCREDIT_CHROMIUM", "/usr/bin/chromium"))
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "browser"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
    "--disable-dev-shm-usage",
]


def unavailable() -> str | None:
    """Why the browser tests cannot run here, or None."""
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "Playwright is not installed (pip install -e '.[test]')"
    if not CHROMIUM.exists():
        return f"no chromium at {CHROMIUM} (apt-get install chromium; never downloaded)"
    return None


def shot(pg: Any, test: str, step: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / re.sub(r"[^\w.-]+", "_", f"{test}-{step}.png", flags=re.ASCII)
    pg.screenshot(path=str(path), full_page=True)
    return path


def log_in(pg: Any, username: str) -> None:
    from conftest import PASSWORD

    pg.goto("/accounts/login/")
    pg.get_by_label("用户名").fill(username)
    pg.get_by_label("密码").fill(PASSWORD)
    pg.get_by_role("button", name="登录").click()
    pg.wait_for_load_state()
