"""The statistics aggregated in the database give exactly the figures of the pure reference
(``aggregate.breakdown`` over every row), for every role and dimension, with and without a
date window; and the number of queries does not grow with the book."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

pytestmark = pytest.mark.django_db

UNTIL = dt.date(2025, 6, 30)


@pytest.fixture
def book():  # type: ignore[no-untyped-def]
    from kvcredit import demo

    demo.load(seed=11, enterprises=120, until=UNTIL, years=2, default_rate=0.2)


def _one_user_per_role() -> dict[str, object]:
    from kvcredit.accounts.models import User
    from kvcredit.accounts.permissions import kind_of

    users: dict[str, object] = {}
    for u in User.objects.order_by("id"):
        kind = kind_of(u)
        if kind is not None and str(kind) not in users:
            users[str(kind)] = u
    return users


def _plain(h):  # type: ignore[no-untyped-def]
    return {**dataclasses.asdict(h), "average_loan_fen": h.average_loan_fen}


WINDOWS = [(None, None), (dt.date(2024, 3, 1), dt.date(2025, 2, 15))]


def test_sql_statistics_equal_the_reference_for_every_role_and_dimension(book) -> None:  # type: ignore[no-untyped-def]
    """Both windows (the whole book and a date window) on one book: it takes a while to build."""
    from kvcredit.reporting import programme
    from kvcredit.reporting.aggregate import DIMENSIONS

    users = _one_user_per_role()
    assert {"ADMINISTRATOR", "TRUSTEE", "DISTRICT", "BANK", "ENTERPRISE"} <= set(users)
    seen_money = False
    for (date_from, date_to), (role, user) in ((w, ru) for w in WINDOWS for ru in users.items()):
        assert programme.figures(user) == programme.figures_reference(user), role
        for by in DIMENSIONS:
            stats = programme.statistics(user, by=by, date_from=date_from, date_to=date_to)
            total, groups, by_month = programme.breakdown_reference(
                user, by=by, date_from=date_from, date_to=date_to
            )
            assert _plain(stats["total"]) == _plain(total), (role, by)
            assert [_plain(g) for g in stats["groups"]] == [_plain(g) for g in groups], (role, by)
            assert [_plain(g) for g in stats["by_month"]] == [_plain(g) for g in by_month]
            seen_money |= total.compensation_paid_fen > 0 and total.enterprise_times > 0
    assert seen_money  # the book has loans and compensation, so the test compares something


def test_an_organisation_sees_only_its_own_figures(book) -> None:  # type: ignore[no-untyped-def]
    from kvcredit.reporting import programme

    users = _one_user_per_role()
    everyone = programme.statistics(users["TRUSTEE"], by="bank")["total"]
    bank = programme.statistics(users["BANK"], by="bank")
    assert 0 < bank["total"].enterprise_times < everyone.enterprise_times
    assert len([g for g in bank["groups"] if g.enterprise_times]) == 1


def test_the_statistics_take_a_bounded_number_of_queries(  # type: ignore[no-untyped-def]
    book, django_assert_max_num_queries
) -> None:
    from kvcredit.reporting import programme

    users = _one_user_per_role()
    for by in ("district", "grade", "industry"):
        with django_assert_max_num_queries(30):
            programme.statistics(users["TRUSTEE"], by=by)
        with django_assert_max_num_queries(12):
            programme.figures(users["TRUSTEE"])


def _queries(client, url: str, **headers: str) -> int:  # type: ignore[no-untyped-def]
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url, **headers)
    assert response.status_code == 200, (url, response.status_code)
    return len(ctx.captured_queries)


def test_lists_take_as_many_queries_for_a_long_page_as_for_a_short_one(book) -> None:  # type: ignore[no-untyped-def]
    """No query per row: the administrator's credit lines and the API's applications."""
    from django.test import Client
    from django.urls import reverse

    from kvcredit.accounts.services import issue_token
    from kvcredit.enterprises.models import CreditLine
    from kvcredit.lending.models import Application

    users = _one_user_per_role()
    assert CreditLine.objects.count() > 60 and Application.objects.count() > 30
    for role in ("ADMINISTRATOR", "TRUSTEE", "DISTRICT", "BANK"):
        c = Client()
        c.force_login(users[role])
        url = reverse("console:credit_lines")
        assert _queries(c, url + "?per_page=5") == _queries(c, url + "?per_page=60"), role
    for role in ("ADMINISTRATOR", "BANK", "ENTERPRISE"):
        auth = {"HTTP_AUTHORIZATION": f"Bearer {issue_token(users[role], name='t')[1]}"}
        url = "/api/v1/applications"
        short, long = (
            _queries(Client(), url + "?limit=2", **auth),
            _queries(Client(), url + "?limit=30", **auth),
        )
        assert short == long, role
