"""Documents attached to applications and claims: checked by their content and size, scoped
like their object (another bank's token is refused), immutable (a correction is a new version,
the old one kept), stored through the storage API with their SHA-256, audited; over the API and
on the console's pages."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import zipfile

import pytest
from django.utils import timezone

from kvcredit.audit.models import AuditRecord
from kvcredit.documents import services
from kvcredit.documents.domain.kinds import FileType, ObjectType, Refusal, check, sniff
from kvcredit.documents.models import Document, DocumentVersion
from kvcredit.errors import InvalidInput, NotFound, NotPermitted, UploadTooLarge
from kvcredit.fund import claims
from kvcredit.lending.models import Application, Method
from support.fund import make_loan, product

pytestmark = pytest.mark.django_db
V1 = "/api/v1"
DAY = dt.date(2025, 6, 30)
PDF = b"%PDF-1.7\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


def _office(member: str) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr(member, "<x/>")
    return buf.getvalue()


@pytest.fixture(autouse=True)
def _storage(settings, tmp_path):
    settings.STORAGES = settings.STORAGES | {
        "documents": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": tmp_path / "documents"},
        }
    }
    settings.KVCREDIT_DOCUMENT_MAX_BYTES = 4096
    return tmp_path / "documents"


def _application(world, side="a"):
    return Application.objects.create(
        enterprise=world.enterprise[side],
        bank=world.bank[side],
        product=product(),
        amount_fen=100_000_000,
        term_months=12,
        method=Method.MONTHLY_INTEREST,
        purpose="研发投入",
        first_time_borrower=False,
        status="SUBMITTED",
        submitted_at=timezone.now(),
    )


def _claim(world, side="a"):
    loan = make_loan(
        enterprise=world.enterprise[side],
        bank=world.bank[side],
        due_principal_fen=10**7,
        days_past_due=100,
    )
    return claims.register(world.users[f"bank_{side}"], loan_id=loan.pk, on=DAY)


# -- the pure check ---------------------------------------------------------------------------
def test_the_type_is_read_from_the_content_not_the_name():
    assert sniff(PDF) == FileType.PDF
    assert sniff(PNG) == FileType.PNG
    assert sniff(b"\xff\xd8\xff\xe0" + b"\x00" * 16) == FileType.JPEG
    assert sniff(_office("xl/workbook.xml")) == FileType.XLSX
    assert sniff(_office("word/document.xml")) == FileType.DOCX
    assert sniff(_office("other.txt")) is None  # a zip, but no office document
    assert sniff(b"MZ\x90\x00 an executable") is None
    assert check(PNG, "contract.pdf", max_bytes=100) == Refusal("EXTENSION", "PNG .pdf")
    assert check(b"<html>", "contract.pdf", max_bytes=100) == Refusal("UNKNOWN_TYPE")
    assert check(PDF, "c.pdf", max_bytes=10) == Refusal("TOO_LARGE", "10")
    assert check(b"", "c.pdf", max_bytes=10) == Refusal("EMPTY")
    assert check(PDF, "合同", max_bytes=1000) == FileType.PDF  # no extension: the content says


# -- the service --------------------------------------------------------------------------------
def test_a_correction_is_a_new_version_and_the_old_one_is_kept(world, _storage):
    app = _application(world)
    bank = world.users["bank_a"]
    v1 = services.attach(
        bank,
        obj=ObjectType.APPLICATION,
        obj_id=app.pk,
        data=PDF,
        filename="合同.pdf",
        kind="CONTRACT",
        title="借款合同",
    )
    fixed = PDF + b"% signed\n"
    v2 = services.attach(
        bank,
        obj=ObjectType.APPLICATION,
        obj_id=app.pk,
        data=fixed,
        filename="合同-签字.pdf",
        document_id=v1.document_id,
    )
    assert (v1.version, v2.version, v2.document_id) == (1, 2, v1.document_id)
    assert Document.objects.count() == 1 and DocumentVersion.objects.count() == 2
    assert v1.sha256 == hashlib.sha256(PDF).hexdigest()
    assert services.read(DocumentVersion.objects.get(pk=v1.pk)) == PDF  # the first is intact
    assert services.read(DocumentVersion.objects.get(pk=v2.pk)) == fixed
    assert (_storage / v1.stored_as).read_bytes() == PDF  # through the configured storage
    with pytest.raises(ValueError, match="immutable"):
        v1.filename = "changed.pdf"
        v1.save()
    audits = AuditRecord.objects.filter(action="DOCUMENT_ATTACH").order_by("id")
    assert [a.after["version"] for a in audits] == [1, 2]
    assert audits[1].after["sha256"] == hashlib.sha256(fixed).hexdigest()


def test_files_are_refused_by_type_size_role_and_scope(world, english):
    app = _application(world)
    bank = world.users["bank_a"]
    kw = {"obj": ObjectType.APPLICATION, "obj_id": app.pk, "kind": "CONTRACT"}
    with pytest.raises(InvalidInput) as bad:
        services.attach(bank, data=b"<script>", filename="c.pdf", **kw)
    assert (
        bad.value.problems[0][0] == "file" and "judged by its content" in bad.value.problems[0][1]
    )
    with pytest.raises(UploadTooLarge, match=r"over 0\.0 MB"):
        services.attach(bank, data=PDF * 200, filename="c.pdf", **kw)
    with pytest.raises(InvalidInput) as wrong_kind:
        services.attach(bank, data=PDF, filename="c.pdf", **(kw | {"kind": "EVIDENCE"}))
    assert wrong_kind.value.problems[0][0] == "kind"
    with pytest.raises(NotFound):  # another bank does not see the application
        services.attach(world.users["bank_b"], data=PDF, filename="c.pdf", **kw)
    with pytest.raises(NotPermitted):  # the district reads, does not attach
        services.attach(world.users["district_a"], data=PDF, filename="c.pdf", **kw)
    assert not DocumentVersion.objects.exists()


# -- the API ----------------------------------------------------------------------------------
def _upload(client, path, headers, data, name, **form):
    from django.core.files.uploadedfile import SimpleUploadedFile

    body = {"file": SimpleUploadedFile(name, data)} | form
    return client.post(V1 + path, body, headers=headers)


def test_application_documents_over_the_api_with_the_banks_token(api_client, world):
    app = _application(world)
    path = f"/applications/{app.pk}/documents"
    r = _upload(api_client, path, world.auth("bank_a"), PDF, "contract.pdf", kind="CONTRACT")
    assert r.status_code == 201, r.content
    doc = r.json()
    assert (
        doc["kind"] == "CONTRACT"
        and doc["versions"][0]["sha256"] == hashlib.sha256(PDF).hexdigest()
    )
    r = _upload(
        api_client, path, world.auth("bank_a"), PDF + b"%2", "contract.pdf", document_id=doc["id"]
    )
    assert r.status_code == 201 and [v["version"] for v in r.json()["versions"]] == [2, 1]
    listed = api_client.get(V1 + path, headers=world.auth("enterprise_a"))
    assert listed.status_code == 200 and len(listed.json()) == 1
    got = api_client.get(listed.json()[0]["versions"][1]["url"], headers=world.auth("trustee"))
    assert got.status_code == 200 and got.content == PDF
    assert got["Content-Type"] == "application/pdf"
    assert got["X-Content-SHA256"] == hashlib.sha256(PDF).hexdigest()
    # another bank's token: the application is not there for it
    for call in (
        lambda h: api_client.get(V1 + path, headers=h),
        lambda h: api_client.get(doc["versions"][0]["url"], headers=h),
        lambda h: _upload(api_client, path, h, PDF, "x.pdf", kind="OTHER"),
    ):
        assert call(world.auth("bank_b")).status_code == 404
        assert call(world.auth("enterprise_b")).status_code == 404
    assert api_client.get(V1 + path).status_code == 401
    big = _upload(api_client, path, world.auth("bank_a"), PDF * 200, "big.pdf", kind="OTHER")
    assert big.status_code == 413 and big.json()["errors"][0]["field"] == "file"
    fake = _upload(api_client, path, world.auth("bank_a"), b"MZ..", "fake.pdf", kind="OTHER")
    assert fake.status_code == 422 and fake.json()["errors"][0]["field"] == "file"
    assert DocumentVersion.objects.count() == 2


def test_claim_documents_over_the_api(api_client, world):
    c = _claim(world)
    path = f"/fund/claims/{c.pk}/documents"
    r = _upload(
        api_client,
        path,
        world.auth("bank_a"),
        PNG,
        "notice.png",
        kind="OVERDUE_NOTICE",
        title="逾期催收通知书",
    )
    assert r.status_code == 201, r.content
    r = _upload(
        api_client,
        path,
        world.auth("trustee"),
        _office("word/document.xml"),
        "记录.docx",
        kind="EVIDENCE",
    )
    assert r.status_code == 201, r.content
    listed = api_client.get(V1 + path, headers=world.auth("district_a")).json()
    assert sorted(d["kind"] for d in listed) == ["EVIDENCE", "OVERDUE_NOTICE"]
    assert api_client.get(V1 + path, headers=world.auth("bank_b")).status_code == 404
    assert api_client.get(V1 + path, headers=world.auth("district_b")).status_code == 404
    refused = _upload(api_client, path, world.auth("district_a"), PNG, "n.png", kind="EVIDENCE")
    assert refused.status_code == 403


# -- the console ------------------------------------------------------------------------------
def test_the_console_lists_attaches_and_downloads(world, client):
    from django.core.files.uploadedfile import SimpleUploadedFile

    c = _claim(world)
    url = f"/fund/claims/{c.pk}/documents/"
    client.force_login(world.users["bank_a"])
    r = client.post(
        url, {"kind": "EVIDENCE", "title": "催收记录", "file": SimpleUploadedFile("r.pdf", PDF)}
    )
    assert r.status_code == 302
    page = client.get(url)
    assert page.status_code == 200 and "r.pdf" in page.content.decode()
    doc = Document.objects.get()
    r = client.post(
        url, {"document": str(doc.pk), "file": SimpleUploadedFile("r2.pdf", PDF + b"%")}
    )
    assert r.status_code == 302 and doc.versions.count() == 2
    bad = client.post(url, {"kind": "EVIDENCE", "file": SimpleUploadedFile("x.pdf", b"<html>")})
    assert bad.status_code == 422 and 'role="alert"' in bad.content.decode()
    big = client.post(url, {"kind": "EVIDENCE", "file": SimpleUploadedFile("x.pdf", PDF * 200)})
    assert big.status_code == 413
    got = client.get(f"/documents/claim/{c.pk}/{doc.pk}/v1/")
    assert got.status_code == 200 and got.content == PDF
    assert f"/fund/claims/{c.pk}/documents/" in client.get(f"/fund/claims/{c.pk}/").content.decode()
    client.force_login(world.users["bank_b"])
    assert client.get(url).status_code == 404
    assert client.get(f"/documents/claim/{c.pk}/{doc.pk}/v1/").status_code == 404
    client.force_login(world.users["district_a"])
    page = client.get(url)
    assert page.status_code == 200 and 'enctype="multipart/form-data"' not in page.content.decode()
    app = _application(world)
    client.force_login(world.users["enterprise_a"])
    r = client.post(
        f"/applications/{app.pk}/documents/",
        {"kind": "OTHER", "file": SimpleUploadedFile("plan.xlsx", _office("xl/workbook.xml"))},
    )
    assert r.status_code == 302
    assert DocumentVersion.objects.filter(document__application=app).get().file_type == "XLSX"
