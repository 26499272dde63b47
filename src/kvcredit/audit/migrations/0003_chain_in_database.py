"""The chain's link is made by the database on PostgreSQL: a BEFORE INSERT trigger takes the
chain lock (a transaction-level advisory lock, held until COMMIT), reads the head, links the
new record (hash = SHA-256(prev_hash || digest)) and numbers it under the lock, so ids follow
the chain. SQLite links in Python (its write lock, taken at BEGIN, serialises writers); adding
the column rebuilds its table, so the append-only triggers of 0002 are created again."""

from __future__ import annotations

import importlib
from typing import Any

from django.db import migrations, models

LOCK_KEY = 0x6B7663726564  # "kvcred" (audit.services.CHAIN_LOCK_KEY)

PG_UP = f"""
CREATE OR REPLACE FUNCTION kvcredit_audit_link() RETURNS trigger AS $$
DECLARE
  head text;
BEGIN
  PERFORM pg_advisory_xact_lock({LOCK_KEY:d});
  -- a new snapshot for this statement: it sees the head the previous holder committed
  SELECT a.hash INTO head FROM audit_auditrecord a ORDER BY a.id DESC LIMIT 1;
  NEW.id := nextval(pg_get_serial_sequence('audit_auditrecord', 'id'));
  NEW.prev_hash := coalesce(head, repeat('0', 64));
  NEW.hash := encode(sha256(convert_to(NEW.prev_hash || NEW.digest, 'UTF8')), 'hex');
  RETURN NEW;
END;
$$ LANGUAGE plpgsql VOLATILE;
CREATE TRIGGER audit_link BEFORE INSERT ON audit_auditrecord
  FOR EACH ROW EXECUTE FUNCTION kvcredit_audit_link();
"""
PG_DOWN = """
DROP TRIGGER IF EXISTS audit_link ON audit_auditrecord;
DROP FUNCTION IF EXISTS kvcredit_audit_link();
"""


def _run(sql: str, *, sqlite_guard: bool = False) -> Any:
    def run(apps: Any, schema_editor: Any) -> None:
        vendor = schema_editor.connection.vendor
        if vendor == "postgresql":
            schema_editor.execute(sql, params=None)
        elif vendor == "sqlite" and sqlite_guard:
            guard = importlib.import_module("kvcredit.audit.migrations.0002_append_only")
            for statement in guard.SQLITE_UP:
                schema_editor.execute(statement, params=None)

    return run


class Migration(migrations.Migration):
    dependencies = [("audit", "0002_append_only")]

    operations = [
        migrations.AddField(
            model_name="auditrecord",
            name="digest",
            field=models.CharField(blank=True, default="", max_length=64),
        ),
        migrations.RunPython(_run(PG_UP, sqlite_guard=True), _run(PG_DOWN)),
    ]
