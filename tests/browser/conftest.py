"""Browser tests: Playwright for Python driving Debian's chromium, headless, against a live
server (pytest-django's ``live_server``). Never a downloaded browser: where /usr/bin/chromium
(or $KVCREDIT_CHROMIUM) is missing, or Playwright is not installed, these tests skip, saying why.
Screenshots go to test-artifacts/browser/ (kept by CI as test artefacts).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

# Playwright's sync API runs an event loop in the test thread; the ORM calls the tests make
# around it (set-up, assertions) are still synchronous and safe.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

from browser.support import ARGS, CHROMIUM, shot, unavailable


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    reason = unavailable()
    if reason is None:
        return
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.skip(reason=reason))


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=ARGS)
        yield b
        b.close()


def _audit_guard(on: bool) -> None:
    """The audit log refuses DELETE and TRUNCATE, and the fund's books refuse DELETE; the test
    database's flush needs both (TRUNCATE on PostgreSQL, where row triggers do not fire, and
    DELETE on SQLite)."""
    import importlib

    from django.db import connection

    guards = [
        importlib.import_module("kvcredit.audit.migrations.0002_append_only"),
        importlib.import_module("kvcredit.fund.migrations.0002_ledger_integrity"),
    ]
    with connection.cursor() as cur:
        if connection.vendor == "postgresql":
            cur.execute(
                f"ALTER TABLE audit_auditrecord {'ENABLE' if on else 'DISABLE'} TRIGGER USER"
            )
            return
        for guard in guards:
            # down first: the fund's post_migrate (after the flush) may have made them again
            for sql in (*guard.SQLITE_DOWN, *guard.SQLITE_UP) if on else guard.SQLITE_DOWN:
                cur.execute(sql)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_teardown(item: pytest.Item, nextitem: pytest.Item | None) -> Iterator[None]:
    """The live tests commit; the flush that ends them deletes every row, which the audit log
    refuses. Its guard is lifted for the flush and put back right after it."""
    blocker = getattr(item, "funcargs", {}).get("django_db_blocker")
    if blocker is None or "live_world" not in item.fixturenames:
        yield
        return
    with blocker.unblock():
        _audit_guard(False)
    yield
    if nextitem is not None:  # after the last test the test database is gone
        with blocker.unblock():
            _audit_guard(True)


@pytest.fixture
def live_world(django_db_blocker: Any, transactional_db: None, live_server: Any) -> Any:
    """The two-organisations-per-role world, committed, in the live server's database."""
    from conftest import World

    return World()


@pytest.fixture
def page(browser: Any, live_server: Any, request: pytest.FixtureRequest) -> Iterator[Any]:
    """A fresh browser context (Simplified Chinese, as most users' browsers send)."""
    context = browser.new_context(
        base_url=live_server.url, locale="zh-CN", viewport={"width": 1280, "height": 900}
    )
    context.set_default_timeout(15_000)
    pg = context.new_page()
    # The console must work on a closed network: any request off the live server fails the test.
    off_site: list[str] = []
    pg.on(
        "request",
        lambda r: (
            off_site.append(r.url)
            if r.url.startswith(("http:", "https:", "ws:"))
            and not r.url.startswith(live_server.url)
            else None
        ),
    )
    yield pg
    shot(pg, request.node.name, "end")
    context.close()
    assert off_site == [], f"requests left the server: {off_site}"
