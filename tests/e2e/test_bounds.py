"""Uploads are bounded, and a client's mistake is a 4xx problem, never a 500.

An XLSX is a zip: its sheet can inflate a thousandfold. A file over the bounds
(``KVCREDIT_UPLOAD_MAX_BYTES`` uncompressed, ``KVCREDIT_UPLOAD_MAX_ROWS``) is refused before a
spreadsheet reader parses it, with a message naming the file.
"""

from __future__ import annotations

import io
import json
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from kvcredit.enterprises.importing import read_rows
from kvcredit.errors import InputFileError, UploadTooLarge
from kvcredit.scoring.io import read_enterprises
from kvcredit.scoring.upload_limits import Limits

pytestmark = pytest.mark.django_db
V1 = "/api/v1"
PROBLEM = "application/problem+json"
ROW = '<row><c t="inlineStr"><is><t>1</t></is></c><c t="inlineStr"><is><t>10</t></is></c></row>'


def xlsx_bomb(rows: int) -> bytes:
    """A workbook whose one sheet holds ``rows`` identical rows: it compresses ~1000 to 1."""
    sheet = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
        '<row><c t="inlineStr"><is><t>loan_id</t></is></c>'
        '<c t="inlineStr"><is><t>amount</t></is></c></row>'
        + ROW * rows
        + "</sheetData></worksheet>"
    )
    parts = {
        "[Content_Types].xml": '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats'
        '.org/package/2006/content-types"><Default Extension="rels" ContentType="application/'
        'vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType='
        '"application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.'
        'openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/'
        'worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.'
        'spreadsheetml.worksheet+xml"/></Types>',
        "_rels/.rels": '<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats'
        '.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.'
        'openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target='
        '"xl/workbook.xml"/></Relationships>',
        "xl/workbook.xml": '<?xml version="1.0"?><workbook xmlns="http://schemas.openxmlformats'
        '.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/'
        'officeDocument/2006/relationships"><sheets><sheet name="s" sheetId="1" r:id="rId1"/>'
        "</sheets></workbook>",
        "xl/_rels/workbook.xml.rels": '<?xml version="1.0"?><Relationships xmlns="http://'
        'schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" '
        'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" '
        'Target="worksheets/sheet1.xml"/></Relationships>',
        "xl/worksheets/sheet1.xml": sheet,
    }
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
        for name, text in parts.items():
            z.writestr(name, text)
    return buf.getvalue()


@pytest.fixture
def small_bounds(settings):
    settings.KVCREDIT_UPLOAD_MAX_BYTES = 1 << 20  # 1 MiB uncompressed
    settings.KVCREDIT_UPLOAD_MAX_ROWS = 1000


def test_the_bomb_is_small_and_a_valid_workbook(tmp_path):
    data = xlsx_bomb(20_000)
    path = tmp_path / "b.xlsx"
    path.write_bytes(data)
    with zipfile.ZipFile(path) as z:
        inflated = sum(i.file_size for i in z.infolist())
    assert len(data) < 10_000 and inflated > 1 << 20  # a few KB inflating to MBs
    assert len(read_rows(path, Limits())) == 20_000  # unbounded, it is read (the rows are real)


def test_a_workbook_that_inflates_over_the_bound_is_refused_before_it_is_parsed(tmp_path):
    path = tmp_path / "payments.xlsx"
    path.write_bytes(xlsx_bomb(20_000))
    with pytest.raises(UploadTooLarge, match="uncompressed") as info:
        read_rows(path, Limits(max_bytes=1 << 20))
    assert str(info.value).startswith("payments.xlsx: ") and "1.0 MB" in str(info.value)
    with pytest.raises(UploadTooLarge, match="uncompressed"):
        read_enterprises(path, limits=Limits(max_bytes=1 << 20))


def test_the_declared_sizes_refuse_a_bomb_before_anything_is_inflated(tmp_path, monkeypatch):
    path = tmp_path / "b.xlsx"
    path.write_bytes(xlsx_bomb(20_000))

    def no_inflating(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise AssertionError("a member was inflated")

    monkeypatch.setattr(zipfile.ZipFile, "open", no_inflating)
    with pytest.raises(UploadTooLarge):
        read_rows(path, Limits(max_bytes=1 << 20))


def test_a_file_with_too_many_rows_is_refused(tmp_path):
    path = tmp_path / "r.csv"
    path.write_text("loan_id,amount\n" + "1,10\n" * 1001, encoding="utf-8")
    with pytest.raises(UploadTooLarge, match="more than 1000 rows"):
        read_rows(path, Limits(max_rows=1000))
    assert len(read_rows(path, Limits(max_rows=1001))) == 1001
    with pytest.raises(InputFileError):
        read_rows(tmp_path / "missing.xlsx", Limits())


def test_the_api_answers_413_naming_the_file(api_client, world, small_bounds):
    upload = SimpleUploadedFile("bank-march.xlsx", xlsx_bomb(20_000))
    r = api_client.post(f"{V1}/repayments/import", {"file": upload}, headers=world.auth("bank_a"))
    assert r.status_code == 413 and r["Content-Type"] == PROBLEM
    body = r.json()
    assert body["field"] == "file" and body["detail"].startswith("bank-march.xlsx: ")
    assert "解压后超过" in body["detail"] and "uncompressed" in body["detail"]
    rows = "loan_id,amount,paid_on\n" + "1,10,2025-01-01\n" * 1001
    upload = SimpleUploadedFile("many.csv", rows.encode())
    r = api_client.post(f"{V1}/repayments/import", {"file": upload}, headers=world.auth("bank_a"))
    assert r.status_code == 413 and "1000" in r.json()["detail"]


def test_the_console_says_so_on_the_page(world, small_bounds, client):
    client.force_login(world.users["bank_a"])
    upload = SimpleUploadedFile("bank-march.xlsx", xlsx_bomb(20_000))
    r = client.post(reverse("console:upload_repayments"), {"file": upload})
    assert r.status_code == 200
    page = r.content.decode()
    assert "bank-march.xlsx" in page and "解压后超过" in page


def test_an_enterprise_import_is_bounded_by_the_settings(world, small_bounds, tmp_path):
    from kvcredit.enterprises.importing import import_file

    path = tmp_path / "e.xlsx"
    path.write_bytes(xlsx_bomb(20_000))
    with pytest.raises(UploadTooLarge):
        import_file(world.system, path, year=2024)


# -- a client's mistake is not a 500 -----------------------------------------------------------
def test_a_body_over_the_size_limit_answers_413(api_client, world, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    body = json.dumps({"name": "x" * 2000})
    r = api_client.post(
        f"{V1}/tokens", body, content_type="application/json", headers=world.auth("bank_a")
    )
    assert r.status_code == 413 and r["Content-Type"] == PROBLEM
    assert r.json()["status"] == 413


def test_multipart_without_a_boundary_answers_400(api_client, world):
    r = api_client.post(
        f"{V1}/repayments/import",
        b"--x\r\nContent-Disposition: form-data; name=file\r\n\r\nabc\r\n--x--\r\n",
        content_type="multipart/form-data",
        headers=world.auth("bank_a"),
    )
    assert r.status_code == 400 and r["Content-Type"] == PROBLEM


DEEP_TOML = "x = " + "[" * 1000 + "]" * 1000


def test_a_policy_nested_1000_deep_is_an_invalid_policy(tmp_path):
    from typer.testing import CliRunner

    from kvcredit.cli import app
    from kvcredit.errors import PolicyError
    from kvcredit.scoring.policy import parse_policy

    for text in (DEEP_TOML, "x = " + "{a = " * 1000 + "1" + "}" * 1000):
        with pytest.raises(PolicyError, match="nested too deeply"):
            parse_policy(text)
    path = tmp_path / "deep.toml"
    path.write_text(DEEP_TOML, encoding="utf-8")
    result = CliRunner().invoke(app, ["policy", "check", str(path)])
    assert result.exit_code != 0 and "nested too deeply" in result.output
    assert not isinstance(result.exception, RecursionError)


def test_publishing_a_deeply_nested_policy_answers_422(api_client, world):
    body = json.dumps({"source_toml": DEEP_TOML})
    r = api_client.post(
        f"{V1}/policies", body, content_type="application/json", headers=world.auth("admin")
    )
    assert r.status_code == 422 and r["Content-Type"] == PROBLEM
    assert "nested too deeply" in r.content.decode()


def test_a_json_body_nested_too_deeply_answers_422(api_client, world):
    body = '{"source_toml": ' + "[" * 100_000 + "]" * 100_000 + "}"
    r = api_client.post(
        f"{V1}/policies", body, content_type="application/json", headers=world.auth("admin")
    )
    assert r.status_code in (400, 422) and r["Content-Type"] == PROBLEM
