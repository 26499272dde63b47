"""A repayment file posts once and reads what users send (SQLite and PostgreSQL).

Each row is posted in its own transaction with the bank's reference (流水号) as its key: the
same file uploaded twice, or again after a crash, posts nothing twice; the headers the upload
page shows, GBK CSV from Excel, and the spreadsheet's row numbers are what the reader takes.
"""

from __future__ import annotations

import datetime as dt
import io
import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import IntegrityError, transaction
from django.urls import reverse
from test_lending import _eod_to, _loan, _loan_of_bank_b, product  # noqa: F401

from kvcredit.lending.models import Repayment, RepaymentKind
from kvcredit.lending.repayment_import import HEADERS_EN, HEADERS_ZH, in_chinese, read_file

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]
PAID = dt.date(2024, 6, 21)
URL = "/api/v1/repayments/import"


@pytest.fixture
def loan(world, product):  # noqa: F811
    made = _loan(world, product)
    _eod_to(dt.date(2024, 6, 20))
    return made


def _upload(api_client, world, content: bytes, name="r.csv", who="bank_a", key=None):
    upload = SimpleUploadedFile(name, content, content_type="application/octet-stream")
    headers = world.auth(who) | ({"Idempotency-Key": key} if key else {})
    return api_client.post(URL, {"file": upload}, headers=headers)


def _csv(*rows: str, header="loan_id,amount,paid_on,reference") -> bytes:
    return ("\n".join((header, *rows)) + "\n").encode()


def _posted(loan) -> int:
    return Repayment.objects.filter(loan=loan, kind=RepaymentKind.REPAYMENT).count()


# -- item 5: a repayment file posts once ----------------------------------------------------
def test_the_same_file_uploaded_twice_posts_each_row_once(world, loan, api_client):
    data = _csv(f"{loan.pk},100.00,{PAID},R1", f"{loan.pk},200.00,{PAID},R2")
    first = _upload(api_client, world, data).json()
    assert first["applied"] == 2 and not first["errors"]
    again = _upload(api_client, world, data).json()
    assert again["applied"] == 0
    assert [(e["row"], e["field"]) for e in again["errors"]] == [(2, "reference"), (3, "reference")]
    assert "already been recorded" in again["errors"][0]["message_en"]
    assert again["errors"][0]["message_zh"] != again["errors"][0]["message_en"]
    assert _posted(loan) == 2


def test_a_reference_repeated_inside_a_file_is_posted_once_and_reported(world, loan, api_client):
    data = _csv(f"{loan.pk},100.00,{PAID},R1", f"{loan.pk},100.00,{PAID},R1")
    body = _upload(api_client, world, data).json()
    assert body["applied"] == 1
    assert [(e["row"], e["field"]) for e in body["errors"]] == [(3, "reference")]
    assert "repeats row 2" in body["errors"][0]["message_en"]
    assert _posted(loan) == 1


def test_a_reference_is_unique_per_bank_in_the_database(world, product, api_client):  # noqa: F811
    loan, other = _loan(world, product), _loan_of_bank_b(world, product)
    _eod_to(dt.date(2024, 6, 20))
    _upload(api_client, world, _csv(f"{loan.pk},100.00,{PAID},R1"))
    first = Repayment.objects.get(reference="R1")
    with pytest.raises(IntegrityError), transaction.atomic():
        Repayment.objects.create(
            loan=loan,
            bank=loan.bank,
            kind=RepaymentKind.REPAYMENT,
            paid_on=PAID,
            amount_fen=100,
            principal_prepaid_fen=100,
            reference="R1",
            recorded_by=first.recorded_by,
            recorded_at=first.recorded_at,
        )
    # another bank's R1 is another repayment
    body = _upload(api_client, world, _csv(f"{other.pk},100.00,{PAID},R1"), who="bank_b").json()
    assert body["applied"] == 1, body


def test_a_file_uploaded_again_after_a_crash_posts_only_the_missing_rows(world, loan, api_client):
    # the first upload stopped after row 2 (its row committed, the rest never ran)
    _upload(api_client, world, _csv(f"{loan.pk},100.00,{PAID},R1"))
    data = _csv(f"{loan.pk},100.00,{PAID},R1", f"{loan.pk},200.00,{PAID},R2")
    body = _upload(api_client, world, data).json()
    assert body["applied"] == 1 and [e["row"] for e in body["errors"]] == [2]
    amounts = Repayment.objects.filter(loan=loan).values_list("reference", "amount_fen")
    assert sorted(amounts) == [("R1", 10_000), ("R2", 20_000)]


def test_a_nul_byte_in_a_row_is_reported_and_the_other_rows_post(world, loan, api_client):
    data = _csv(f"{loan.pk},100.00,{PAID},R\x001", f"{loan.pk},200.00,{PAID},R2")
    response = _upload(api_client, world, data)
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["applied"] == 1
    assert [(e["row"], e["field"]) for e in body["errors"]] == [(2, "reference")]
    assert "NUL" in body["errors"][0]["message_en"] and "NUL" in body["errors"][0]["message_zh"]
    assert _posted(loan) == 1


def test_the_idempotency_key_replays_an_upload_and_refuses_another_file(world, loan, api_client):
    data = _csv(f"{loan.pk},100.00,{PAID},R1")
    first = _upload(api_client, world, data, key="file-2024-06-21")
    again = _upload(api_client, world, data, key="file-2024-06-21")  # a new multipart boundary
    assert again.status_code == 200 and again.json() == first.json()
    assert first.json()["applied"] == 1 and _posted(loan) == 1
    other = _upload(api_client, world, _csv(f"{loan.pk},5.00,{PAID},R9"), key="file-2024-06-21")
    assert other.status_code == 422 and other.json()["field"] == "Idempotency-Key"


def test_idempotency_keys_compare_the_parsed_request_not_its_bytes(world, loan, api_client):
    url = f"/api/v1/loans/{loan.pk}/repayments"
    headers = world.auth("bank_a") | {"Idempotency-Key": "pay-1"}
    one = json.dumps({"amount": "100.00", "paid_on": str(PAID), "reference": "P1"})
    two = json.dumps({"reference": "P1", "paid_on": str(PAID), "amount": "100.00"}, indent=2)
    a = api_client.post(url, one, content_type="application/json", headers=headers)
    b = api_client.post(url, two, content_type="application/json", headers=headers)
    assert a.status_code == b.status_code == 201, b.content
    assert a.json()["id"] == b.json()["id"] and _posted(loan) == 1


def test_a_refusal_is_translated_from_its_one_failure():
    english = "repayment of 99999999.00 yuan exceeds the 3011237.50 yuan owed"
    zh = in_chinese(english)
    assert zh != english and "99999999.00" in zh and "3011237.50" in zh
    assert in_chinese("no such loan") != "no such loan"


# -- item 6: uploads read what users send ---------------------------------------------------
def test_the_headers_the_upload_page_shows_are_accepted(world, loan, api_client):
    for headers, ref in ((HEADERS_ZH, "Z1"), (HEADERS_EN, "E1")):
        data = _csv(f"{loan.pk},100.00,{PAID},{ref},", header=",".join(headers))
        body = _upload(api_client, world, data).json()
        assert body["applied"] == 1, (headers, body)


def test_a_gbk_csv_as_excel_saves_it_on_chinese_windows_is_read(world, loan, api_client):
    text = f"贷款编号,还款金额（元）,还款日期,流水号,备注\n{loan.pk},100.00,{PAID},G1,六月利息\n"
    body = _upload(api_client, world, text.encode("gbk")).json()
    assert body["applied"] == 1, body
    assert Repayment.objects.get(reference="G1").note == "六月利息"


def test_a_file_that_is_neither_utf8_nor_gb18030_is_refused_not_mangled(world, api_client):
    response = _upload(api_client, world, b"loan_id,amount,paid_on,reference\n1,\xff\xfe,x,y\n")
    assert response.status_code == 422 and response.json()["field"] == "file"


@pytest.mark.parametrize("amount", ["1e3", "1_000", "１０００", "100.001", "-5", "٣٠"])
def test_amounts_are_parsed_strictly(world, loan, api_client, amount):
    body = _upload(api_client, world, _csv(f"{loan.pk},{amount},{PAID},A1")).json()
    assert body["applied"] == 0
    assert [e["field"] for e in body["errors"]] == ["amount"]
    assert "digits 0-9" in body["errors"][0]["message_en"]


@pytest.mark.parametrize("amount", ["１００", "1e3", "١٠٠"])
def test_the_api_refuses_amounts_in_other_digits(world, loan, api_client, amount):
    response = api_client.post(
        f"/api/v1/loans/{loan.pk}/repayments",
        {"amount": amount, "paid_on": str(PAID)},
        content_type="application/json",
        headers=world.auth("bank_a"),
    )
    assert response.status_code == 422 and response.json()["field"] == "amount"
    assert _posted(loan) == 0


def test_row_numbers_are_those_the_spreadsheet_shows_across_empty_rows(world, loan, api_client):
    csv = _csv(f"{loan.pk},100.00,{PAID},N1", "", ",,,", f"{loan.pk},1e3,{PAID},N2")
    body = _upload(api_client, world, csv).json()
    assert [e["row"] for e in body["errors"]] == [5]
    import xlsxwriter

    out = io.BytesIO()
    wb = xlsxwriter.Workbook(out, {"in_memory": True})
    ws = wb.add_worksheet()
    ws.write_row(0, 0, HEADERS_ZH)
    ws.write_row(1, 0, [loan.pk, 100, str(PAID), "X1"])
    ws.write_row(4, 0, [loan.pk, "1e3", str(PAID), "X2"])  # rows 3 and 4 left empty
    wb.close()
    body = _upload(api_client, world, out.getvalue(), name="r.xlsx").json()
    assert body["applied"] == 1 and [e["row"] for e in body["errors"]] == [5], body


def test_a_missing_column_refuses_the_file_by_name(world, api_client):
    response = _upload(api_client, world, b"loan_id,amount\n1,100\n")
    assert response.status_code == 422
    assert "paid_on" in response.json()["detail"] and "reference" in response.json()["detail"]


def test_the_upload_page_offers_a_template_with_the_exact_headers(world, loan):
    from django.test import Client

    c = Client(HTTP_ACCEPT_LANGUAGE="zh-hans")
    c.force_login(world.users["bank_a"])
    page = c.get(reverse("console:upload_repayments")).content.decode()
    assert reverse("console:repayment_template") in page
    response = c.get(reverse("console:repayment_template"))
    assert response.status_code == 200
    import fastexcel

    sheet = fastexcel.read_excel(response.content).load_sheet(0).to_polars()
    assert sheet.columns == HEADERS_ZH
    assert "，".join(HEADERS_ZH[:3]).replace("，", "、") in page  # the page names the same
    assert read_file(response.content, "template.xlsx") == []  # the reader takes it as is
