"""The books' integrity in the database.

Both backends: journal entries, postings, breaker changes and claim events are append-only
(UPDATE and DELETE raise an error). PostgreSQL only: a deferred constraint trigger checks at
commit that every journal entry has at least two postings and that they sum to zero. SQLite
cannot defer a trigger to commit, so there the services' check (the pure domain's balanced
``JournalEntry``, built before anything is written) is the only one.
"""

from __future__ import annotations

from typing import Any

from django.db import migrations

APPEND_ONLY = ["fund_journalentry", "fund_posting", "fund_breakerchange", "fund_claimevent"]

PG_UP = [
    """
CREATE OR REPLACE FUNCTION kvcredit_fund_append_only() RETURNS trigger AS $$
BEGIN
  RAISE EXCEPTION 'fund records are append-only (% on % refused)', TG_OP, TG_TABLE_NAME;
END;
$$ LANGUAGE plpgsql;
""",
    *[
        f"CREATE TRIGGER {t}_append_only BEFORE UPDATE OR DELETE ON {t} "
        "FOR EACH ROW EXECUTE FUNCTION kvcredit_fund_append_only();"
        for t in APPEND_ONLY
    ],
    """
CREATE OR REPLACE FUNCTION kvcredit_fund_entry_balances() RETURNS trigger AS $$
DECLARE
  eid bigint;
  total bigint;
  n integer;
BEGIN
  IF TG_TABLE_NAME = 'fund_posting' THEN eid := NEW.entry_id; ELSE eid := NEW.id; END IF;
  SELECT COALESCE(SUM(amount_fen), 0), COUNT(*) INTO total, n
    FROM fund_posting WHERE entry_id = eid;
  IF n < 2 OR total <> 0 THEN
    RAISE EXCEPTION 'journal entry % does not balance: % postings summing to % fen', eid, n, total
      USING ERRCODE = 'check_violation';
  END IF;
  RETURN NULL;
END;
$$ LANGUAGE plpgsql;
""",
    """CREATE CONSTRAINT TRIGGER fund_posting_balances AFTER INSERT ON fund_posting
       DEFERRABLE INITIALLY DEFERRED FOR EACH ROW
       EXECUTE FUNCTION kvcredit_fund_entry_balances();""",
    """CREATE CONSTRAINT TRIGGER fund_entry_balances AFTER INSERT ON fund_journalentry
       DEFERRABLE INITIALLY DEFERRED FOR EACH ROW
       EXECUTE FUNCTION kvcredit_fund_entry_balances();""",
]
PG_DOWN = [
    "DROP TRIGGER IF EXISTS fund_entry_balances ON fund_journalentry;",
    "DROP TRIGGER IF EXISTS fund_posting_balances ON fund_posting;",
    "DROP FUNCTION IF EXISTS kvcredit_fund_entry_balances();",
    *[f"DROP TRIGGER IF EXISTS {t}_append_only ON {t};" for t in APPEND_ONLY],
    "DROP FUNCTION IF EXISTS kvcredit_fund_append_only();",
]
SQLITE_UP = [
    f"""CREATE TRIGGER {t}_no_{op.lower()} BEFORE {op} ON {t}
       BEGIN SELECT RAISE(ABORT, 'fund records are append-only ({op} refused)'); END"""
    for t in APPEND_ONLY
    for op in ("UPDATE", "DELETE")
]
SQLITE_DOWN = [
    f"DROP TRIGGER IF EXISTS {t}_no_{op.lower()}" for t in APPEND_ONLY for op in ("UPDATE", "DELETE")
]


def _run(statements: dict[str, list[str]]) -> Any:
    def run(apps: Any, schema_editor: Any) -> None:
        for sql in statements.get(schema_editor.connection.vendor, []):
            schema_editor.execute(sql, params=None)

    return run


class Migration(migrations.Migration):
    dependencies = [("fund", "0001_initial")]

    operations = [
        migrations.RunPython(
            _run({"postgresql": PG_UP, "sqlite": SQLITE_UP}),
            _run({"postgresql": PG_DOWN, "sqlite": SQLITE_DOWN}),
        )
    ]
