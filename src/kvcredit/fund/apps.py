from __future__ import annotations

from typing import Any

from django.apps import AppConfig
from django.db.models.signals import post_migrate


def _sqlite_guards(sender: Any, using: str = "default", **kwargs: Any) -> None:
    """Keep the books append-only on SQLite after every migration. SQLite rebuilds a table to
    alter one of its columns (a new choice, a new constraint), and a rebuilt table has lost its
    triggers; PostgreSQL keeps them. The triggers are 0002_ledger_integrity's, made again where
    missing (IF NOT EXISTS: a database that has them is left as it is)."""
    import importlib

    from django.db import connections

    connection = connections[using]
    if connection.vendor != "sqlite":
        return
    guard = importlib.import_module("kvcredit.fund.migrations.0002_ledger_integrity")
    tables = set(connection.introspection.table_names())
    with connection.cursor() as cur:
        for table in guard.APPEND_ONLY:
            if table not in tables:
                continue
            for sql in guard.SQLITE_UP:
                if f" ON {table}\n" in sql or f" ON {table} " in sql:
                    cur.execute(sql.replace("CREATE TRIGGER", "CREATE TRIGGER IF NOT EXISTS", 1))


class FundConfig(AppConfig):
    """The circuit breakers run in the business day, ``kvcredit.day`` (no start-up hook); after
    a migration the books' SQLite guards are made again where a rebuilt table lost them."""

    name = "kvcredit.fund"
    label = "fund"
    verbose_name = "risk compensation fund"

    def ready(self) -> None:
        post_migrate.connect(_sqlite_guards, sender=self)
