"""Enterprise import in the console: the per-row report (row, field, reason in the user's
language) and the bilingual error report to download; the administrator and a district
(its own enterprises only) may import, nobody else."""

from __future__ import annotations

import csv
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from conftest import strong_values
from kvcredit.scoring.fields import BY_NAME, uscc_check_char

pytestmark = pytest.mark.django_db


def login(world, who: str, lang: str = "zh-hans") -> Client:  # type: ignore[no-untyped-def]
    c = Client(HTTP_ACCEPT_LANGUAGE=lang)
    c.force_login(world.users[who])
    return c


def _uscc(n: int) -> str:
    first = f"91500000MA5U{n:05d}"
    return first + uscc_check_char(first)


def _file(*rows: dict[str, object]) -> SimpleUploadedFile:
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=list(rows[0]))
    w.writeheader()
    w.writerows(rows)
    return SimpleUploadedFile("e.csv", buf.getvalue().encode(), content_type="text/csv")


def _row(n: int, district: str = "500101", **over: object) -> dict[str, object]:
    vals = {BY_NAME[k].zh: v for k, v in strong_values().items()}
    vals |= {"统一社会信用代码": _uscc(n), "企业名称": f"导入企业{n}", "所属区县": district}
    return vals | {BY_NAME[k].zh: v for k, v in over.items()}


def test_the_administrator_imports_and_reads_the_per_row_report(world) -> None:  # type: ignore[no-untyped-def]
    from kvcredit.enterprises.models import Enterprise

    c = login(world, "admin")
    assert c.get(reverse("console:import_enterprises")).status_code == 200
    upload = _file(_row(1), _row(2, tech_staff=1000), _row(3, district="999999"))
    r = c.post(reverse("console:import_enterprises"), {"file": upload, "year": 2024})
    assert r.status_code == 200
    report = r.context["report"]
    assert report.rows == 3 and r.context["accepted"] == 1 and report.rejected_rows == 2
    body = r.content.decode()
    assert "<td>3</td>" in body and "tech_staff" in body  # row 3 of the sheet, the field
    assert Enterprise.objects.filter(uscc=_uscc(1)).exists()
    assert not Enterprise.objects.filter(uscc=_uscc(2)).exists()
    download = c.get(reverse("console:import_errors"))
    assert download["Content-Type"].startswith("text/csv")
    lines = list(csv.DictReader(io.StringIO(download.content.decode("utf-8-sig"))))
    assert {(int(x["row"]), x["field"]) for x in lines} == {(3, "tech_staff"), (4, "district")}
    assert all(x["message_zh"] and x["message_en"] for x in lines)


def test_the_report_speaks_english_to_an_english_user(world) -> None:  # type: ignore[no-untyped-def]
    c = login(world, "admin", "en")
    upload = _file(_row(2, tech_staff=1000))
    r = c.post(reverse("console:import_enterprises"), {"file": upload, "year": 2024})
    (e,) = r.context["report"].errors
    assert e.message_en in r.content.decode() and e.message_zh not in r.content.decode()


def test_a_district_imports_only_its_own_and_others_may_not_import(world) -> None:  # type: ignore[no-untyped-def]
    from kvcredit.enterprises.models import Enterprise

    c = login(world, "district_a")
    upload = _file(_row(5), _row(6, district="500102"))
    r = c.post(reverse("console:import_enterprises"), {"file": upload, "year": 2024})
    assert r.context["report"].rejected_rows == 1
    assert Enterprise.objects.filter(uscc=_uscc(5)).exists()
    assert not Enterprise.objects.filter(uscc=_uscc(6)).exists()
    for who in ("bank_a", "trustee", "enterprise_a"):
        assert login(world, who).get(reverse("console:import_enterprises")).status_code == 403
        assert login(world, who).get(reverse("console:import_errors")).status_code == 403


def test_an_unreadable_file_is_refused_on_the_file_field(world) -> None:  # type: ignore[no-untyped-def]
    c = login(world, "admin")
    bad = SimpleUploadedFile("e.xlsx", b"not a spreadsheet", content_type="application/zip")
    r = c.post(reverse("console:import_enterprises"), {"file": bad, "year": 2024})
    assert r.context["report"] is None and "file" in r.context["form"].errors
