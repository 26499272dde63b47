"""The statements one API data submission and one credit-line read cost (a count, not a time):
the submission path is the programme's hot write (bench/api.py measures its throughput)."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

pytestmark = pytest.mark.django_db

# The audit records: one INSERT on PostgreSQL (its trigger links them); SQLite reads the chain's
# head first (the links are computed in Python under the write lock).
AUDIT = ["INSERT"] if connection.vendor == "postgresql" else ["SELECT", "INSERT"]


def _submit(api_client, world, year: int, **headers: str):  # type: ignore[no-untyped-def]
    from conftest import strong_values

    ent = world.enterprise["a"].pk
    return api_client.post(
        f"/api/v1/enterprises/{ent}/submissions",
        {"year": year, "data": strong_values()},
        content_type="application/json",
        headers={**world.auth("enterprise_a"), **headers},
    )


def test_a_submission_costs_few_statements(world, api_client) -> None:  # type: ignore[no-untyped-def]
    assert _submit(api_client, world, 2024).status_code == 201  # warms the per-process caches
    with CaptureQueriesContext(connection) as q:
        r = _submit(api_client, world, 2025)
    assert r.status_code == 201, r.content
    sql = [x["sql"].split(None, 1)[0].upper() for x in q.captured_queries]
    # the token; the credit line locked; the year's last version and the policy in force (one
    # statement); the submission, the evaluation, the line's limit; the audit records (one
    # INSERT). The test's own transaction turns the service's atomic block into a savepoint.
    body = [s for s in sql if s not in {"SAVEPOINT", "RELEASE"}]
    assert body == ["SELECT", "SELECT", "SELECT", "INSERT", "INSERT", "UPDATE", *AUDIT], sql
    assert sql.count("SAVEPOINT") <= 1


def test_an_idempotent_submission_adds_only_its_key(world, api_client) -> None:  # type: ignore[no-untyped-def]
    assert _submit(api_client, world, 2024).status_code == 201
    with CaptureQueriesContext(connection) as q:
        r = _submit(api_client, world, 2025, **{"Idempotency-Key": "k-1"})
    assert r.status_code == 201, r.content
    body = [x["sql"].split(None, 1)[0].upper() for x in q.captured_queries]
    body = [s for s in body if s not in {"SAVEPOINT", "RELEASE"}]
    # the key looked up before and stored after the use case, in its transaction
    use_case = ["SELECT", "SELECT", "SELECT", "INSERT", "INSERT", "UPDATE", *AUDIT]
    assert body == ["SELECT", *use_case, "INSERT"], body
    again = _submit(api_client, world, 2025, **{"Idempotency-Key": "k-1"})
    assert again.status_code == 201 and again.json()["id"] == r.json()["id"]


def test_a_credit_line_read_is_two_statements(world, api_client) -> None:  # type: ignore[no-untyped-def]
    from kvcredit.enterprises.models import CreditLine

    line = CreditLine.objects.get(enterprise=world.enterprise["a"])
    auth = world.auth("enterprise_a")
    with CaptureQueriesContext(connection) as q:
        r = api_client.get(f"/api/v1/credit-lines/{line.pk}", headers=auth)
        url = f"/api/v1/enterprises/{line.enterprise_id}/credit-line"
        by_ent = api_client.get(url, headers=auth)
    assert r.status_code == 200 and by_ent.status_code == 200, r.content
    assert r.json() == by_ent.json()
    body = r.json()
    assert (body["uscc"], body["district_id"]) == (
        world.enterprise["a"].uscc,
        world.enterprise["a"].district_id,
    )
    # the token, the line with its enterprise (no district row): twice
    assert len(q.captured_queries) == 4, [x["sql"] for x in q.captured_queries]
    selects = [x["sql"].split("WHERE")[0] for x in q.captured_queries[1::2]]
    assert not any("enterprises_district" in s for s in selects), selects
    other = world.enterprise["b"].credit_line.pk
    assert api_client.get(f"/api/v1/credit-lines/{other}", headers=auth).status_code == 404
