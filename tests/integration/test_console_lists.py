"""Every list page: filters, sorting, paging over the whole history, and an export (Excel and
CSV) holding exactly the filtered rows, scoped as the page is; bad filter values are errors at
their field; the global search finds only what the user may see."""

from __future__ import annotations

import csv
import datetime as dt
import io
from decimal import Decimal
from typing import Any

import openpyxl
import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

pytestmark = pytest.mark.django_db
DAY = dt.date(2025, 3, 14)
# (amount in fen, bank side, days past due) of the loans made: amounts with fen that a float
# would round, and one over a million yuan
LOANS = [
    (123_456_789_01, "a", 0),
    (5_000_000_00, "a", 0),
    (1_000_000_01, "a", 120),
    (300_000_00, "a", 0),
    (7_777_777_77, "b", 120),
    (250_000_00, "b", 0),
]


@pytest.fixture
def today(monkeypatch):  # type: ignore[no-untyped-def]
    monkeypatch.setattr("kvcredit.clock.today", lambda: DAY)
    return DAY


def login(world, who: str, lang: str = "zh-hans") -> Client:  # type: ignore[no-untyped-def]
    c = Client(HTTP_ACCEPT_LANGUAGE=lang)
    c.force_login(world.users[who])
    return c


@pytest.fixture
def book(world, today):  # type: ignore[no-untyped-def]
    """Loans of both banks, an application each, repayments, contributions, a claim, fees."""
    from kvcredit.fund import claims, services
    from kvcredit.lending.models import Application, Repayment
    from support.fund import make_loan

    loans = []
    for i, (amount, side, dpd) in enumerate(LOANS):
        loan = make_loan(
            enterprise=world.enterprise[side],
            bank=world.bank[side],
            amount_fen=amount,
            due_principal_fen=min(amount, 50_000_00) if dpd else 0,
            days_past_due=dpd,
            disbursed_on=dt.date(2024, 1 + i, 10),
        )
        loans.append(loan)
        app = Application.objects.create(
            enterprise=world.enterprise[side],
            bank=world.bank[side],
            product=loan.product,
            amount_fen=amount,
            term_months=12,
            method="MONTHLY_INTEREST",
            purpose='=HYPERLINK("x")' if i == 0 else "working capital",
            first_time_borrower=False,
            status="DISBURSED" if i % 2 == 0 else "REJECTED",
            reject_reason="" if i % 2 == 0 else "-1+2 not enough",
            submitted_at=timezone.make_aware(dt.datetime(2024, 1 + i, 1, 9)),
        )
        if i % 2 == 0:
            loan.application = app
            loan.save(update_fields=["application"])
        Repayment.objects.create(
            loan=loan,
            bank=loan.bank,
            kind="REPAYMENT",
            paid_on=dt.date(2024, 6, 1 + i),
            amount_fen=1_234_56 + i,
            principal_due_fen=1_234_56 + i,
            reference=f"R{i}" if i else "@SUM(A1)",
            recorded_by=world.users[f"bank_{side}"],
            recorded_at=timezone.now(),
        )
    trustee = world.users["trustee"]
    for side, amount in (("a", 10_000_000_00), ("b", 3_000_000_55)):
        services.record_contribution(
            trustee,
            district_id=world.district[side].pk,
            contributor="CITY",
            amount_fen=amount,
            paid_date=dt.date(2024, 1, 5),
            reference=f"city-{side}",
        )
    for loan in loans:
        services.charge_service_fee(trustee, loan_id=loan.pk, on=DAY)
    for loan in loans:
        if loan.days_past_due:
            c = claims.register(
                world.users[f"bank_{loan.bank.code[-1].lower()}"], loan_id=loan.pk, on=DAY
            )
            claims.file(world.users[f"bank_{loan.bank.code[-1].lower()}"], claim_id=c.pk, on=DAY)
    return loans


# -- reading what the page shows and what the file holds -------------------------------------
def page_rows(response) -> list[Any]:  # type: ignore[no-untyped-def]
    assert response.status_code == 200, response.content.decode()[:2000]
    return [row.record for row in response.context["table"].paginated_rows]


def xlsx_rows(client: Client, url: str) -> tuple[list[str], list[list[Any]]]:
    response = client.get(url + ("&" if "?" in url else "?") + "export=xlsx")
    assert response.status_code == 200, response.content[:500]
    assert response["Content-Disposition"].startswith("attachment;")
    ws = openpyxl.load_workbook(io.BytesIO(response.content)).active
    values = [list(r) for r in ws.iter_rows(values_only=True)]
    return [str(h) for h in values[0]], values[1:]


def csv_rows(client: Client, url: str) -> tuple[list[str], list[list[str]]]:
    response = client.get(url + ("&" if "?" in url else "?") + "export=csv")
    assert response.status_code == 200
    text = response.content.decode("utf-8")
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text.removeprefix("\ufeff"))))
    return rows[0], rows[1:]


def column(headers: list[str], rows: list[list[Any]], name: str) -> list[Any]:
    i = headers.index(name)
    return [r[i] for r in rows]


def fen(value: Any) -> int:
    """A money cell (a float in the workbook, exact decimal text in the CSV) in fen."""
    return int((Decimal(str(value)) * 100).quantize(Decimal(1)))


# -- one export test per list ----------------------------------------------------------------
# (url name, who, filter query, header of the key column, attribute of the record, header of a
# money column, attribute in fen)
MONEY, NO, USCC = "金额（元）", "编号", "统一社会信用代码"
LISTS = [
    (
        "loans",
        "trustee",
        "amount_min=1000000.01&sort=-amount_fen",
        "编号",
        "pk",
        "金额（元）",
        "amount_fen",
    ),
    ("loans", "bank_a", "status=ACTIVE", NO, "pk", MONEY, "amount_fen"),
    ("applications", "district_a", "status=DISBURSED", NO, "pk", MONEY, "amount_fen"),
    (
        "applications",
        "trustee",
        "date_from=2024-02-01&sort=amount_fen",
        "编号",
        "pk",
        "金额（元）",
        "amount_fen",
    ),
    ("claims", "trustee", "status=FILED", "编号", "pk", "申请代偿金额（元）", "amount_fen"),
    (
        "fees",
        "trustee",
        "amount_min=0.01&sort=-amount_fen",
        "贷款",
        "loan_id",
        "服务费（元）",
        "amount_fen",
    ),
    ("repayments", "bank_a", "date_to=2024-06-03", NO, "pk", MONEY, "amount_fen"),
    ("contributions", "trustee", "contributor=CITY", NO, "pk", MONEY, "amount_fen"),
    (
        "credit_lines",
        "admin",
        "grade=A",
        "统一社会信用代码",
        "enterprise.uscc",
        "额度（元）",
        "limit_fen",
    ),
    ("users", "admin", "kind=BANK", "用户名", "username", None, None),
    ("districts", "admin", "q=5001", "代码", "code", None, None),
    ("banks", "admin", "q=BANK", "代码", "code", None, None),
    (
        "rates",
        "admin",
        "date_from=2015-01-01&sort=-effective_date",
        "生效日期",
        "effective_date",
        None,
        None,
    ),
]


def _attr(record: Any, path: str) -> Any:
    for part in path.split("."):
        record = getattr(record, part)
    return record


@pytest.mark.parametrize(("page", "who", "query", "key", "attr", "money", "money_attr"), LISTS)
def test_the_export_holds_exactly_the_filtered_rows_of_the_page(  # type: ignore[no-untyped-def]
    world, book, page, who, query, key, attr, money, money_attr
) -> None:
    c = login(world, who)
    url = reverse(f"console:{page}") + "?" + query
    shown = page_rows(c.get(url + "&per_page=200"))
    assert shown, f"the filter {query} should leave rows on {page}"
    everything = page_rows(c.get(reverse(f"console:{page}") + "?per_page=200"))
    for fmt in ("xlsx", "csv"):
        headers, rows = (xlsx_rows if fmt == "xlsx" else csv_rows)(c, url)
        assert len(rows) == len(shown) == c.get(url).context["count"]
        keys = [
            str(v.date() if isinstance(v, dt.datetime) else v) for v in column(headers, rows, key)
        ]
        assert keys == [str(_attr(r, attr)) for r in shown]  # the same rows, in the same order
        if money:
            assert [fen(v) for v in column(headers, rows, money)] == [
                getattr(r, money_attr) for r in shown
            ]
    if query.split("=")[0] not in ("sort",) and "sort" not in query:
        assert len(shown) <= len(everything)


def test_money_is_exact_and_formatted_in_the_workbook(world, book) -> None:  # type: ignore[no-untyped-def]
    c = login(world, "trustee")
    response = c.get(reverse("console:loans") + "?export=xlsx&sort=-amount_fen")
    ws = openpyxl.load_workbook(io.BytesIO(response.content)).active
    headers = [cell.value for cell in ws[1]]
    amount = ws.cell(row=2, column=headers.index("金额（元）") + 1)
    assert amount.number_format == "#,##0.00"
    assert fen(amount.value) == 123_456_789_01
    page = c.get(reverse("console:loans") + "?sort=-amount_fen").content.decode()
    assert "123,456,789.01" in page


def test_text_cells_are_neutralised_in_both_files(world, book) -> None:  # type: ignore[no-untyped-def]
    c = login(world, "bank_a")
    headers, rows = csv_rows(c, reverse("console:repayments") + "?sort=id")
    assert "'@SUM(A1)" in column(headers, rows, "流水号")
    headers, rows = xlsx_rows(c, reverse("console:applications") + "?status=REJECTED")
    assert all(str(r).startswith("'-1+2") for r in column(headers, rows, "原因"))


def test_headers_follow_the_users_language(world, book) -> None:  # type: ignore[no-untyped-def]
    headers, _rows = csv_rows(login(world, "trustee", "en"), reverse("console:loans"))
    assert headers[:2] == ["No.", "Enterprise"]
    headers, _rows = csv_rows(login(world, "trustee"), reverse("console:loans"))
    assert headers[:2] == ["编号", "企业"]


# -- scope ------------------------------------------------------------------------------------
SCOPED = ["loans", "applications", "claims", "repayments"]


@pytest.mark.parametrize("page", SCOPED)
def test_a_banks_export_never_holds_another_banks_rows(world, book, page) -> None:  # type: ignore[no-untyped-def]
    c = login(world, "bank_a")
    for fmt in ("xlsx", "csv"):
        _h, rows = (xlsx_rows if fmt == "xlsx" else csv_rows)(c, reverse(f"console:{page}"))
        text = repr(rows)
        assert rows
        assert "企业a" in text
        assert "企业b" not in text and "银行b" not in text
    # asking for bank B's rows by its id finds nothing (the filter does not even offer it)
    other = world.bank["b"].pk
    response = c.get(reverse(f"console:{page}") + f"?bank={other}&export=csv")
    assert response.status_code in (200, 400)
    assert "企业b" not in response.content.decode()


def test_a_districts_lists_hold_only_its_enterprises(world, book) -> None:  # type: ignore[no-untyped-def]
    c = login(world, "district_b")
    for page in ("loans", "applications", "claims", "fees", "repayments", "contributions"):
        _h, rows = csv_rows(c, reverse(f"console:{page}"))
        assert rows, page
        assert "企业a" not in repr(rows) and "万州区" not in repr(rows), page


def test_an_enterprise_lists_only_its_own_loans_and_applications(world, book) -> None:  # type: ignore[no-untyped-def]
    c = login(world, "enterprise_b")
    for page in ("loans", "applications", "repayments"):
        shown = page_rows(c.get(reverse(f"console:{page}")))
        assert shown and "企业a" not in c.get(reverse(f"console:{page}")).content.decode()


# -- filters, sorting, paging -----------------------------------------------------------------
def test_amounts_filter_exact_to_the_fen(world, book) -> None:  # type: ignore[no-untyped-def]
    c = login(world, "trustee")
    url = reverse("console:loans")
    exact = page_rows(c.get(url + "?amount_min=1000000.01&amount_max=1000000.01"))
    assert [loan.amount_fen for loan in exact] == [1_000_000_01]
    assert page_rows(c.get(url + "?amount_min=1000000.02&amount_max=5000000")) == [
        loan for loan in book if loan.amount_fen == 5_000_000_00
    ]


def test_district_bank_status_and_dates_filter(world, book) -> None:  # type: ignore[no-untyped-def]
    c = login(world, "trustee")
    url = reverse("console:loans")
    by_bank = page_rows(c.get(url + f"?bank={world.bank['b'].pk}"))
    assert {loan.bank_id for loan in by_bank} == {world.bank["b"].pk} and len(by_bank) == 2
    by_district = page_rows(c.get(url + f"?district={world.district['a'].pk}"))
    assert len(by_district) == 4
    dated = page_rows(c.get(url + "?date_from=2024-02-01&date_to=2024-03-31"))
    assert sorted(loan.disbursed_on.month for loan in dated) == [2, 3]
    overdue = page_rows(c.get(reverse("console:claims") + "?status=FILED"))
    assert len(overdue) == 2


def test_sorting_by_a_column_orders_the_whole_list(world, book) -> None:  # type: ignore[no-untyped-def]
    c = login(world, "trustee")
    up = page_rows(c.get(reverse("console:loans") + "?sort=amount_fen"))
    assert [loan.amount_fen for loan in up] == sorted(a for a, _s, _d in LOANS)
    down = page_rows(c.get(reverse("console:loans") + "?sort=-amount_fen"))
    assert [loan.amount_fen for loan in down] == sorted((a for a, _s, _d in LOANS), reverse=True)
    page = c.get(reverse("console:loans") + "?sort=-amount_fen").content.decode()
    assert 'aria-sort="descending"' in page


def test_pages_cover_the_whole_history_and_keep_filter_and_sort(world, book) -> None:  # type: ignore[no-untyped-def]
    c = login(world, "trustee")
    url = reverse("console:loans") + "?sort=amount_fen&per_page=2"
    seen = []
    for n in (1, 2, 3):
        seen += page_rows(c.get(url + f"&page={n}"))
    assert [loan.amount_fen for loan in seen] == sorted(a for a, _s, _d in LOANS)
    first = c.get(url).content.decode()
    assert "page=2" in first and "sort=amount_fen" in first
    # past the end: the last page; nonsense: the first
    assert page_rows(c.get(url + "&page=99")) == seen[-2:]
    assert page_rows(c.get(url + "&page=abc")) == seen[:2]


BAD = [
    ("amount_min=12.345", "amount_min"),
    ("amount_min=abc", "amount_min"),
    ("date_from=2024-13-01", "date_from"),
    ("status=NOPE", "status"),
    ("bank=999999", "bank"),
    ("amount_max=-1", "amount_max"),
]


@pytest.mark.parametrize(("query", "field"), BAD)
def test_a_bad_filter_value_is_an_error_at_its_field_not_a_500(world, book, query, field) -> None:  # type: ignore[no-untyped-def]
    c = login(world, "trustee")
    response = c.get(reverse("console:loans") + "?" + query)
    assert response.status_code == 400
    assert field in response.context["filter"].form.errors
    assert response.context["count"] == 0
    export = c.get(reverse("console:loans") + "?" + query + "&export=xlsx")
    assert export.status_code == 400
    assert export["Content-Type"].startswith("text/plain")


def test_filter_errors_speak_the_users_language(world, book) -> None:  # type: ignore[no-untyped-def]
    zh = login(world, "trustee").get(reverse("console:loans") + "?amount_min=abc").content
    en = login(world, "trustee", "en").get(reverse("console:loans") + "?amount_min=abc").content
    assert "输入一个数字" in zh.decode()
    assert "Enter a number" in en.decode()
    assert "Enter a number" not in zh.decode()


def test_an_unknown_export_format_is_refused(world, book) -> None:  # type: ignore[no-untyped-def]
    assert login(world, "trustee").get(reverse("console:loans") + "?export=pdf").status_code == 400


def test_filter_choices_come_from_the_lifecycles(world, book) -> None:  # type: ignore[no-untyped-def]
    from kvcredit.lending.domain import lifecycle as lc

    form = login(world, "trustee").get(reverse("console:loans")).context["filter"].form
    codes = [code for code, _label in form.fields["status"].choices if code]
    assert codes == [getattr(m, "value", m.name) for m in lc.LOAN_LABELS]


def test_a_bank_is_offered_no_bank_filter_and_only_its_districts(world, book) -> None:  # type: ignore[no-untyped-def]
    form = login(world, "bank_a").get(reverse("console:loans")).context["filter"].form
    assert "bank" not in form.fields
    assert [d.pk for d in form.fields["district"].queryset] == [world.district["a"].pk]


# -- the global search ------------------------------------------------------------------------
def test_search_finds_enterprises_and_numbers_within_scope(world, book) -> None:  # type: ignore[no-untyped-def]
    mine, theirs = book[0], book[4]
    bank_a = login(world, "bank_a")
    hits = bank_a.get(reverse("console:search") + "?q=企业").context["hits"]
    assert [h["text"].split(" · ")[0] for h in hits] == ["企业a科技有限公司"]
    found = bank_a.get(reverse("console:search") + f"?q={mine.pk}").context["hits"]
    assert any(h["url"] == reverse("console:loan", args=[mine.pk]) for h in found)
    none = bank_a.get(reverse("console:search") + f"?q={theirs.pk}").context["hits"]
    assert not any(h["url"] == reverse("console:loan", args=[theirs.pk]) for h in none)
    uscc = world.enterprise["b"].uscc
    assert bank_a.get(reverse("console:search") + f"?q={uscc}").context["hits"] == []
    trustee = login(world, "trustee").get(reverse("console:search") + f"?q={uscc.lower()}")
    assert [h["text"] for h in trustee.context["hits"]] == [f"企业b科技有限公司 · {uscc}"]


def test_the_search_box_is_in_the_top_bar(world, book) -> None:  # type: ignore[no-untyped-def]
    page = login(world, "district_a").get(reverse("console:loans")).content.decode()
    assert f'action="{reverse("console:search")}"' in page


# -- the user form's organisation: typed and suggested, not a 5,000-item select -------------
def test_the_organisation_is_typed_with_suggestions(world) -> None:  # type: ignore[no-untyped-def]
    from kvcredit.accounts.models import User

    c = login(world, "admin")
    page = c.get(reverse("console:users")).content.decode()
    assert "<select" not in page.split('name="organisation"')[0][-300:]
    assert 'list="id_organisation-options"' in page and "<datalist" in page
    org = world.bank["a"].organisation
    label = f"#{org.pk} {org.name} · 合作银行"
    assert f'<option value="{label}">' in page
    strong = "a-long-and-unusual-passphrase-7"
    for n, typed in enumerate([label, str(org.pk), org.name]):
        r = c.post(
            reverse("console:users"),
            {"username": f"t{n}", "password": strong, "organisation": typed},
        )
        assert r.status_code == 302, r.context["form"].errors
        assert User.objects.get(username=f"t{n}").organisation_id == org.pk
    bad = c.post(
        reverse("console:users"), {"username": "tx", "password": strong, "organisation": "无此机构"}
    )
    assert "请从提示中选择一个机构" in bad.content.decode()


# -- numbers in messages --------------------------------------------------------------------
def test_money_in_messages_reads_as_money() -> None:
    from kvcredit.errors import InsufficientFunds, Overpayment
    from kvcredit.money import format_yuan

    assert format_yuan(5_000_000_00) == "5,000,000.00"
    assert format_yuan(-1_234_56) == "-1,234.56"
    assert format_yuan(1) == "0.01"
    assert "5,000,000.00" in str(InsufficientFunds(5_000_000_00, 12_345_00))
    assert "12,345.00" in str(Overpayment(12_345_00, 1_000_00))


def test_django_validation_text_is_chinese_on_chinese_pages(world) -> None:  # type: ignore[no-untyped-def]
    """Django's own messages (required, a number, a date) come from its zh_Hans catalogue."""
    c = login(world, "admin")
    page = c.post(reverse("console:users"), {"username": "", "password": ""}).content.decode()
    assert "这个字段是必填项" in page
    assert "This field is required" not in page


def test_the_filters_say_all_in_the_users_language(world, book) -> None:  # type: ignore[no-untyped-def]
    page = login(world, "trustee").get(reverse("console:loans")).content.decode()
    assert "---------" not in page and '<option value="" selected>全部</option>' in page
    users = login(world, "admin").get(reverse("console:users") + "?is_active=false")
    assert users.status_code == 200 and users.context["count"] == 0
    assert "未知" not in users.content.decode()


@pytest.mark.parametrize("page", sorted({p for p, *_rest in LISTS}))
def test_the_export_reads_each_cell_as_django_tables2_would(world, book, page) -> None:  # type: ignore[no-untyped-def]
    """The export works each column's getter out once; it gives what ``get_cell_value`` does."""
    from kvcredit.console.lists import cells

    who = next(w for p, w, *_rest in LISTS if p == page)
    table = login(world, who).get(reverse(f"console:{page}")).context["table"]
    _headers, rows = cells(table)
    fast = [[v for _c, v in row] for row in rows]
    names = [c.name for c in table.columns if c.column.exclude_from_export is not True]
    slow = [[row.get_cell_value(n) for n in names] for row in table.rows]
    assert fast == slow and fast
