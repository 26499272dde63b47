"""Shared set-up for the database tests (tests/integration, tests/e2e).

The same tests run once on SQLite and once on PostgreSQL (``KVCREDIT_TEST_BACKEND=postgresql``
with ``KVCREDIT_TEST_DATABASE_URL``); where that server is missing they skip, saying why.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

DB_DIRS = ("integration", "e2e")


def _postgres_unavailable() -> str | None:
    if os.environ.get("KVCREDIT_TEST_BACKEND") != "postgresql":
        return None
    url = os.environ.get("KVCREDIT_TEST_DATABASE_URL")
    if not url:
        return "PostgreSQL run asked for, but KVCREDIT_TEST_DATABASE_URL is not set"
    try:
        import psycopg

        psycopg.connect(url, connect_timeout=3).close()
    except Exception as exc:
        return f"PostgreSQL at {url} is unreachable: {str(exc).strip()[:200]}"
    return None


def pytest_report_header(config: pytest.Config) -> str:
    from django.conf import settings

    return f"kvcredit database tests on: {settings.DATABASES['default']['ENGINE']}"


def _postgres_pass_follows() -> bool:
    """True on the SQLite pass of ``make test`` when the PostgreSQL pass will run after it."""
    if os.environ.get("KVCREDIT_TEST_BACKEND") == "postgresql":
        return False
    url = os.environ.get("KVCREDIT_TEST_DATABASE_URL")
    if not url:
        return False
    try:
        import psycopg

        psycopg.connect(url, connect_timeout=3).close()
    except Exception:
        return False
    return True


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    # schemathesis is the slowest part of the suite: it runs once, on PostgreSQL (where the
    # typical findings — NUL bytes, integer ranges — arise), or on SQLite when there is none.
    if _postgres_pass_follows():
        later = pytest.mark.skip(reason="schemathesis runs in the PostgreSQL pass")
        for item in items:
            if Path(str(item.fspath)).name == "test_schemathesis.py":
                item.add_marker(later)
    reason = _postgres_unavailable()
    if reason is None:
        return
    skip = pytest.mark.skip(reason=reason)
    for item in items:
        if any(part in DB_DIRS for part in Path(str(item.fspath)).parts):
            item.add_marker(skip)


# -- a small programme: two of each organisation, so isolation can be tested both ways -------
PASSWORD = "correct-horse-battery-staple-42"


def user_values(seed: int, **overrides: object) -> dict[str, object]:
    """One synthetic enterprise's yearly data in user units (yuan text, counts, booleans)."""
    from kvcredit.money import fen_to_yuan
    from kvcredit.scoring.fields import FIELDS, Kind
    from kvcredit.scoring.synth import generate

    row = generate(1, seed).to_dicts()[0]
    out: dict[str, object] = {}
    for f in FIELDS:
        if f.name in {"uscc", "name", "district"} or f.name not in row:
            continue
        v = row[f.name]
        out[f.name] = (
            str(fen_to_yuan(v)) if f.kind is Kind.MONEY else bool(v) if f.kind is Kind.FLAG else v
        )
    return out | overrides


def strong_values(**overrides: object) -> dict[str, object]:
    """An enterprise that every shipped policy grades: staff, R&D, IP and a certificate."""
    base = user_values(1)
    base.update(
        total_staff=100,
        tech_staff=60,
        revenue="50000000",
        total_costs="40000000",
        rd_expense="6000000",
        total_assets="80000000",
        ip_invention=5,
        ip_utility_model=10,
        high_tech_certified=True,
        abnormal_operation=False,
        serious_dishonesty=False,
        major_incident=False,
    )
    return base | overrides


class World:
    """Users and objects by side: ``a`` and ``b`` are two organisations of each role."""

    def __init__(self) -> None:
        import datetime as dt

        from kvcredit.accounts.models import Organisation, OrgKind, User
        from kvcredit.accounts.services import ensure_system_user, issue_token
        from kvcredit.enterprises import services
        from kvcredit.enterprises.setup import publish_shipped_policy
        from kvcredit.lending.services import load_shipped_rates

        self.system = ensure_system_user()
        publish_shipped_policy(self.system, "chongqing-kvc")
        load_shipped_rates(self.system)
        s = self.system
        self.district = {}
        self.bank = {}
        self.enterprise = {}
        self.users: dict[str, User] = {}
        self.tokens: dict[str, str] = {}
        since = dt.date(2017, 1, 1)
        uscc = {"a": "91500000MA5U0A0A05", "b": "91500000MA5U0B0B0X"}
        from kvcredit.scoring.fields import uscc_check_char

        for side, code, dname in (("a", "500101", "万州区"), ("b", "500102", "涪陵区")):
            d = services.create_district(s, code=code, name=dname, participating_since=since)
            b = services.create_bank(s, code=f"BANK{side.upper()}", name=f"银行{side}")
            services.admit_bank(s, bank_id=b.pk, district_id=d.pk)
            first17 = uscc[side][:17]
            e = services.register_enterprise(
                s,
                uscc=first17 + uscc_check_char(first17),
                name=f"企业{side}科技有限公司",
                district_id=d.pk,
            )
            services.submit_data(s, enterprise_id=e.pk, year=2024, values=strong_values())
            self.district[side], self.bank[side], self.enterprise[side] = d, b, e
            self.users[f"district_{side}"] = self._user(f"district_{side}", d.organisation)
            self.users[f"bank_{side}"] = self._user(f"bank_{side}", b.organisation)
            self.users[f"enterprise_{side}"] = self._user(f"enterprise_{side}", e.organisation)
        self.users["admin"] = self._user("admin", self.system.organisation)
        trustee = Organisation.objects.create(kind=OrgKind.TRUSTEE, name="trustee")
        self.users["trustee"] = self._user("trustee", trustee)
        # maker-checker: a claim checked by one trustee user is approved by another
        self.users["trustee_b"] = self._user("trustee_b", trustee)
        for name, u in self.users.items():
            self.tokens[name] = issue_token(u, name="test")[1]

    @staticmethod
    def _user(username: str, org: object) -> object:
        from kvcredit.accounts.models import User

        u = User(username=username, organisation=org)
        u.set_password(PASSWORD)
        u.save()
        return u

    def auth(self, who: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[who]}"}


@pytest.fixture
def world(db: None) -> World:
    return World()


@pytest.fixture
def english():  # type: ignore[no-untyped-def]
    """Messages asserted in English (the programme's default language is zh-hans)."""
    from django.utils import translation

    with translation.override("en"):
        yield


@pytest.fixture
def trustees(world: World) -> tuple[object, object]:
    """The trustee's two users: the maker (checks a claim) and the checker (pays it)."""
    return world.users["trustee"], world.users["trustee_b"]


def _audit_truncate(enable: bool) -> None:
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute(
            f"ALTER TABLE audit_auditrecord {'ENABLE' if enable else 'DISABLE'} "
            "TRIGGER audit_no_truncate"
        )


@pytest.fixture
def _restore_audit_trigger(django_db_blocker):  # type: ignore[no-untyped-def]
    """Set up before the database and torn down after its flush: the trigger is back on."""
    yield
    with django_db_blocker.unblock():
        _audit_truncate(True)


@pytest.fixture
def committed_world(_restore_audit_trigger, transactional_db, world):  # type: ignore[no-untyped-def]
    """A world whose rows are committed (concurrent connections must see them; PostgreSQL
    tests of locks and races). The flush at the end TRUNCATEs every table, which the audit
    log refuses, so its trigger is off for the flush and back on after it."""
    yield world
    _audit_truncate(False)


@pytest.fixture
def api_client():  # type: ignore[no-untyped-def]
    from django.test import Client

    return Client()
