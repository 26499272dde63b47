"""The batch paths with COPY (``kvcredit.bulk.copy_create``) for every batch, however small:
the import and the publish re-evaluation tests again, then COPY's own promises (ids, the
audit chain linked by the trigger, a unique violation as Django's IntegrityError). On SQLite
``copy_create`` is ``bulk_create``: the same tests pass there too."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
from django.db import IntegrityError, transaction

from kvcredit import bulk
from kvcredit.accounts.models import Organisation, OrgKind
from kvcredit.audit import services as audit
from kvcredit.audit.models import AuditRecord

pytestmark = pytest.mark.django_db


def _tests_of(name: str) -> dict[str, object]:
    path = Path(__file__).with_name(f"{name}.py")
    spec = importlib.util.spec_from_file_location(f"copied_{name}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return {f"{k}_with_copy": v for k, v in vars(module).items() if k.startswith("test_")}


globals().update(_tests_of("test_import"))
globals().update(_tests_of("test_programme"))


@pytest.fixture(autouse=True)
def _copy_always(monkeypatch):  # type: ignore[no-untyped-def]
    monkeypatch.setattr(bulk, "COPY_ABOVE", 0)


def test_copy_create_gives_ids_and_the_chain_links_every_record(world):
    with transaction.atomic():
        orgs = bulk.copy_create(
            Organisation,
            [Organisation(kind=OrgKind.ENTERPRISE, name=f"组织{k}") for k in range(50)],
        )
        entries = [
            audit.Entry("TEST", "organisation", o.pk, after={"n": k}) for k, o in enumerate(orgs)
        ]
        records = audit.record_many(world.system, entries)
    assert [
        o.name for o in Organisation.objects.filter(pk__in=[o.pk for o in orgs]).order_by("pk")
    ] == [f"组织{k}" for k in range(50)]
    stored = {r.pk: r for r in AuditRecord.objects.filter(pk__in=[r.pk for r in records])}
    assert [stored[r.pk].object_id for r in records] == [str(o.pk) for o in orgs]
    assert [stored[r.pk].digest for r in records] == [r.digest for r in records]
    assert audit.verify().ok


def test_a_unique_violation_is_djangos_integrity_error(world):
    from kvcredit.enterprises.models import Enterprise

    taken = world.enterprise["a"]
    org = Organisation.objects.create(kind=OrgKind.ENTERPRISE, name="dup")
    with pytest.raises(IntegrityError), transaction.atomic():
        bulk.copy_create(
            Enterprise,
            [
                Enterprise(
                    uscc=taken.uscc,
                    name="dup",
                    district=taken.district,
                    organisation=org,
                    registered_at=taken.registered_at,
                )
            ],
        )
