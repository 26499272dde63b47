"""The console's pages: each role reaches its pages, other roles are refused, and no
organisation sees another's data (a small test per page for a user of another organisation)."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

pytestmark = pytest.mark.django_db


def login(world, who: str, lang: str = "zh-hans") -> Client:  # type: ignore[no-untyped-def]
    c = Client(HTTP_ACCEPT_LANGUAGE=lang)
    c.force_login(world.users[who])
    return c


ROLE_PAGES = {
    "enterprise_a": ["evaluation", "submissions", "submit"],
    "bank_a": ["credit_lines", "statistics"],
    "district_a": ["credit_lines", "statistics"],
    "trustee": ["programme", "credit_lines", "statistics"],
    "admin": [
        "policies",
        "districts",
        "banks",
        "users",
        "rates",
        "products",
        "credit_lines",
        "statistics",
    ],
}
ADMIN_ONLY = ["policies", "districts", "banks", "users", "rates", "products"]


@pytest.mark.parametrize(("who", "page"), [(w, p) for w, ps in ROLE_PAGES.items() for p in ps])
def test_each_role_opens_its_pages(world, who: str, page: str) -> None:  # type: ignore[no-untyped-def]
    response = login(world, who).get(reverse(f"console:{page}"))
    assert response.status_code == 200, response.content[:500]


def test_pages_ask_for_a_login_first(world) -> None:  # type: ignore[no-untyped-def]
    response = Client().get(reverse("console:evaluation"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


@pytest.mark.parametrize("who", ["enterprise_a", "bank_a", "district_a", "trustee"])
@pytest.mark.parametrize("page", ADMIN_ONLY)
def test_set_up_pages_refuse_everyone_but_the_administrator(world, who, page) -> None:  # type: ignore[no-untyped-def]
    assert login(world, who).get(reverse(f"console:{page}")).status_code == 403


@pytest.mark.parametrize("who", ["bank_a", "district_a", "admin", "trustee"])
def test_enterprise_pages_refuse_other_roles(world, who) -> None:  # type: ignore[no-untyped-def]
    assert login(world, who).get(reverse("console:evaluation")).status_code == 403


def test_the_start_page_sends_each_role_to_its_work(world) -> None:  # type: ignore[no-untyped-def]
    assert login(world, "enterprise_a").get("/")["Location"] == reverse("console:evaluation")
    assert login(world, "bank_a").get("/")["Location"] == reverse("console:credit_lines")
    assert login(world, "admin").get("/")["Location"] == reverse("console:policies")
    assert login(world, "trustee").get("/")["Location"] == reverse("console:programme")


# -- an organisation never sees another's data: one test per page with an object in it --------
def test_an_enterprise_never_opens_another_enterprises_submission(world) -> None:  # type: ignore[no-untyped-def]
    theirs = world.enterprise["a"].submissions.first()
    assert login(world, "enterprise_a").get(f"/data/{theirs.pk}/").status_code == 200
    assert login(world, "enterprise_b").get(f"/data/{theirs.pk}/").status_code == 404


@pytest.mark.parametrize("who", ["enterprise_b", "bank_b", "district_b"])
def test_another_organisation_never_opens_an_enterprise_page(world, who) -> None:  # type: ignore[no-untyped-def]
    pk = world.enterprise["a"].pk
    assert login(world, who).get(f"/enterprises/{pk}/").status_code == 404


@pytest.mark.parametrize("who", ["bank_a", "district_a", "admin", "trustee"])
def test_those_who_see_an_enterprise_open_its_page(world, who) -> None:  # type: ignore[no-untyped-def]
    response = login(world, who).get(f"/enterprises/{world.enterprise['a'].pk}/")
    assert response.status_code == 200
    assert world.enterprise["a"].name in response.content.decode()


def test_the_enterprise_pages_show_its_own_data_only(world) -> None:  # type: ignore[no-untyped-def]
    for page in ("evaluation", "submissions", "submit"):
        html = login(world, "enterprise_b").get(reverse(f"console:{page}")).content.decode()
        assert world.enterprise["a"].name not in html
        assert world.enterprise["a"].uscc not in html


@pytest.mark.parametrize("who", ["bank_b", "district_b"])
def test_credit_lines_of_another_district_are_never_listed(world, who) -> None:  # type: ignore[no-untyped-def]
    html = login(world, who).get(reverse("console:credit_lines")).content.decode()
    assert world.enterprise["b"].name in html
    assert world.enterprise["a"].name not in html
    # Asking for the other district by its id finds nothing either.
    url = reverse("console:credit_lines") + f"?district={world.district['a'].pk}"
    assert world.enterprise["a"].name not in login(world, who).get(url).content.decode()


@pytest.mark.parametrize("who", ["bank_b", "district_b"])
def test_statistics_count_only_what_the_user_may_see(world, who) -> None:  # type: ignore[no-untyped-def]
    response = login(world, who).get(reverse("console:statistics"))
    assert response.context["figures"].enterprises == 1
    assert [d for d, _ in response.context["figures"].by_district] == [world.district["b"].name]


def test_the_programme_wide_statistics_count_every_enterprise(world) -> None:  # type: ignore[no-untyped-def]
    figures = login(world, "trustee").get(reverse("console:statistics")).context["figures"]
    assert figures.enterprises == 2
    assert dict(figures.grade_mix)["A"] == 2


def test_suggestions_are_never_computed_from_data_a_bank_may_not_see(world) -> None:  # type: ignore[no-untyped-def]
    url = f"/enterprises/{world.enterprise['a'].pk}/"
    bank = login(world, "bank_a").get(url).context["explained"]
    district = login(world, "district_a").get(url).context["explained"]
    assert not bank.data_visible and bank.suggestions == []
    assert district.data_visible


# -- forms: CSRF, services, errors at their fields --------------------------------------------
def test_forms_refuse_a_post_without_the_csrf_token(world) -> None:  # type: ignore[no-untyped-def]
    c = Client(enforce_csrf_checks=True)
    c.force_login(world.users["admin"])
    response = c.post(reverse("console:rates"), {"rate_type": "LPR_1Y"})
    assert response.status_code == 403


def test_an_enterprise_submission_from_the_form_is_stored_and_evaluated(world) -> None:  # type: ignore[no-untyped-def]
    from conftest import strong_values

    c = login(world, "enterprise_a")
    values = {k: v for k, v in strong_values().items() if not isinstance(v, bool)}
    values |= {k: "on" for k, v in strong_values().items() if v is True}
    response = c.post(reverse("console:submit"), {"year": 2025, **values})
    assert response.status_code == 302, response.context["form"].errors
    sub = world.enterprise["a"].submissions.order_by("-id").first()
    assert sub.year == 2025 and sub.data["high_tech_certified"] == 1
    assert sub.data["revenue"] == 50_000_000 * 100


def test_technology_staff_above_all_staff_is_shown_at_its_field(world) -> None:  # type: ignore[no-untyped-def]
    c = login(world, "enterprise_a")
    response = c.post(reverse("console:submit"), {"year": 2025, "total_staff": 5, "tech_staff": 9})
    assert response.status_code == 200
    assert "科技人员数不能大于职工总数。" in response.context["form"].errors["tech_staff"]


def test_the_administrator_adds_a_rate_and_a_duplicate_is_refused_at_its_field(world) -> None:  # type: ignore[no-untyped-def]
    c = login(world, "admin")
    row = {"rate_type": "LPR_1Y", "effective_date": "2031-01-20", "annual_rate_percent": "3.05"}
    assert c.post(reverse("console:rates"), row).status_code == 302
    again = c.post(reverse("console:rates"), row)
    assert again.status_code == 200
    assert "effective_date" in again.context["form"].errors


def test_the_administrator_adds_a_district_a_bank_and_admits_it(world) -> None:  # type: ignore[no-untyped-def]
    from kvcredit.enterprises.models import Bank, District

    c = login(world, "admin")
    district = {"code": "500199", "name": "测试区", "participating_since": "2020-01-01"}
    assert c.post(reverse("console:districts"), district).status_code == 302
    bank = {"code": "BANKZ", "name": "测试银行", "add_bank": "1"}
    assert c.post(reverse("console:banks"), bank).status_code == 302
    b, d = Bank.objects.get(code="BANKZ"), District.objects.get(code="500199")
    admit = {"bank": b.pk, "district": d.pk, "admit": "1"}
    assert c.post(reverse("console:banks"), admit).status_code == 302
    assert list(b.districts.all()) == [d]


def test_the_administrator_adds_a_user_and_a_weak_password_is_refused(world) -> None:  # type: ignore[no-untyped-def]
    c = login(world, "admin")
    org = world.bank["a"].organisation_id
    weak = {"username": "teller", "password": "123", "organisation": org}
    assert "password" in c.post(reverse("console:users"), weak).context["form"].errors
    good = weak | {"password": "a-long-and-unusual-passphrase-7"}
    assert c.post(reverse("console:users"), good).status_code == 302


def test_credit_lines_are_paginated_and_keep_the_filter(world) -> None:  # type: ignore[no-untyped-def]
    c = login(world, "admin")
    first = c.get(reverse("console:credit_lines") + "?grade=A&per_page=1")
    assert first.context["table"].paginator.num_pages == 2
    assert "grade=A" in first.content.decode() and "page=2" in first.content.decode()
    second = c.get(reverse("console:credit_lines") + "?grade=A&per_page=1&page=2")
    assert second.context["table"].page.number == 2


def test_plotly_is_served_from_its_package_and_cached(world) -> None:  # type: ignore[no-untyped-def]
    response = Client().get(reverse("console:plotly_js"))
    assert response.status_code == 200
    assert "immutable" in response["Cache-Control"]
    assert b"plotly" in b"".join(response.streaming_content)[:2000].lower()
