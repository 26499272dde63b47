"""The enterprise registry: registration, versioned submissions, evaluations, credit lines."""

from __future__ import annotations

import pytest

from conftest import strong_values, user_values
from kvcredit.enterprises import selectors, services
from kvcredit.enterprises.models import CreditLine, DataSubmission, Evaluation
from kvcredit.errors import Conflict, InvalidInput, NotFound, NotPermitted

pytestmark = pytest.mark.django_db


def test_a_submission_is_evaluated_at_once_with_the_current_policy(world):
    ent = world.enterprise["a"]
    ev = Evaluation.objects.get(enterprise=ent)
    assert ev.policy_code == "chongqing-kvc"
    assert len(ev.policy_hash) == 64
    assert ev.eligible and ev.grade is not None and ev.limit_fen > 0
    assert (ev.valid_until - ev.valid_from).days in (365, 366)
    line = CreditLine.objects.get(enterprise=ent)
    assert line.limit_fen == ev.limit_fen and line.available_fen == ev.limit_fen
    assert ev.explanation["policy_id"] == "chongqing-kvc"


def test_resubmitting_adds_a_version_and_never_overwrites(world):
    ent = world.enterprise["a"]
    first = DataSubmission.objects.get(enterprise=ent)
    sub, _ = services.submit_data(
        world.users["enterprise_a"], enterprise_id=ent.pk, year=2024, values=user_values(7)
    )
    assert sub.version == 2 and sub.pk != first.pk
    first.refresh_from_db()
    assert first.version == 1 and first.data["total_staff"] == 100
    assert Evaluation.objects.filter(enterprise=ent).count() == 2


def test_an_ineligible_enterprise_gets_a_zero_limit(world):
    ent = world.enterprise["a"]
    _, ev = services.submit_data(
        world.system, enterprise_id=ent.pk, year=2024, values=strong_values(serious_dishonesty=True)
    )
    assert ev is not None and not ev.eligible and ev.limit_fen == 0
    assert CreditLine.objects.get(enterprise=ent).limit_fen == 0


def test_bad_data_names_every_wrong_field_and_writes_nothing(world):
    ent = world.enterprise["a"]
    before = DataSubmission.objects.count()
    with pytest.raises(InvalidInput) as info:
        services.submit_data(
            world.system,
            enterprise_id=ent.pk,
            year=2024,
            values=strong_values(tech_staff=500, revenue="1.234"),
        )
    fields = {f for f, _ in info.value.problems}
    assert {"tech_staff", "revenue"} <= fields
    assert DataSubmission.objects.count() == before


def test_uscc_is_checked_and_unique(world):
    with pytest.raises(InvalidInput) as info:
        services.register_enterprise(
            world.system, uscc="91500000MA5U0A0A00", name="x", district_id=world.district["a"].pk
        )
    assert info.value.field == "uscc"
    with pytest.raises(Conflict):
        services.register_enterprise(
            world.system,
            uscc=world.enterprise["a"].uscc,
            name="x",
            district_id=world.district["a"].pk,
        )


def test_a_district_registers_only_in_its_own_district(world):
    from kvcredit.scoring.fields import uscc_check_char

    code = "91500000MA5U0C0C0" + uscc_check_char("91500000MA5U0C0C0")
    with pytest.raises(InvalidInput):
        services.register_enterprise(
            world.users["district_a"], uscc=code, name="x", district_id=world.district["b"].pk
        )
    ent = services.register_enterprise(
        world.users["district_a"], uscc=code, name="x", district_id=world.district["a"].pk
    )
    assert ent.district == world.district["a"]


@pytest.mark.parametrize("who", ["bank_a", "trustee", "enterprise_a"])
def test_only_administrator_and_districts_register(world, who):
    with pytest.raises(NotPermitted):
        services.register_enterprise(
            world.users[who], uscc="x" * 18, name="x", district_id=world.district["a"].pk
        )


def test_an_enterprise_cannot_submit_for_another(world):
    with pytest.raises(NotFound):
        services.submit_data(
            world.users["enterprise_a"],
            enterprise_id=world.enterprise["b"].pk,
            year=2024,
            values=strong_values(),
        )


@pytest.mark.parametrize(
    ("who", "sees"),
    [
        ("admin", {"a", "b"}),
        ("trustee", {"a", "b"}),
        ("district_a", {"a"}),
        ("district_b", {"b"}),
        ("bank_a", {"a"}),
        ("bank_b", {"b"}),
        ("enterprise_a", {"a"}),
        ("enterprise_b", {"b"}),
    ],
)
def test_each_role_sees_only_its_scope(world, who, sees):
    user = world.users[who]
    expected = {world.enterprise[s].pk for s in sees}
    assert set(selectors.enterprises(user).values_list("id", flat=True)) == expected
    assert {c.enterprise_id for c in selectors.credit_lines(user)} == expected
    assert {e.enterprise_id for e in selectors.evaluations(user)} == expected
    subs = {s.enterprise_id for s in selectors.submissions(user)}
    assert subs == (set() if who.startswith("bank") else expected)


def test_a_district_is_not_told_that_a_uscc_exists_in_another_district(world, english):
    """District a registering district b's enterprise learns only that it cannot."""
    taken = world.enterprise["b"].uscc
    with pytest.raises(InvalidInput) as info:
        services.register_enterprise(
            world.users["district_a"], uscc=taken, name="x", district_id=world.district["a"].pk
        )
    assert info.value.problems == [("uscc", "this USCC cannot be registered by your district")]
    assert "registered" not in info.value.detail.replace("cannot be registered", "")
    # its own district and the administrator are told it is registered
    for who, side in (("district_b", "b"), ("admin", "a")):
        with pytest.raises(Conflict, match="is registered"):
            services.register_enterprise(
                world.users[who], uscc=taken, name="x", district_id=world.district[side].pk
            )


def test_an_import_by_a_district_does_not_disclose_another_districts_enterprise(world, tmp_path):
    import csv

    from conftest import strong_values as values
    from kvcredit.enterprises.importing import import_file
    from kvcredit.scoring.fields import BY_NAME

    row = {BY_NAME[k].zh: v for k, v in values().items()}
    row |= {"统一社会信用代码": world.enterprise["b"].uscc, "企业名称": "x", "所属区县": "500101"}
    path = tmp_path / "e.csv"
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=list(row))
        w.writeheader()
        w.writerow(row)
    (e,) = import_file(world.users["district_a"], path, year=2024).errors
    assert (e.field, e.message_en) == ("uscc", "this USCC cannot be registered by your district")
    assert "其他区县" not in e.message_zh and "another district" not in e.message_en
    (e,) = import_file(world.users["admin"], path, year=2024).errors
    assert e.message_en == "the enterprise is registered in another district"
