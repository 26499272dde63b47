"""The administrator's loan products page: add a product, a refused value shown at its field,
edit the terms, deactivate and reactivate (an enterprise then can or cannot choose it), and
every other role refused. Every write goes through ``lending.services`` and is audited."""

from __future__ import annotations

import html

import pytest
from django.test import Client
from django.urls import reverse

from kvcredit.audit.models import AuditRecord
from kvcredit.lending.models import Product

pytestmark = pytest.mark.django_db


def login(world, who: str, lang: str = "zh-hans") -> Client:  # type: ignore[no-untyped-def]
    c = Client(HTTP_ACCEPT_LANGUAGE=lang)
    c.force_login(world.users[who])
    return c


def terms(**overrides: object) -> dict[str, object]:
    """What the administrator types into the product form."""
    base: dict[str, object] = {
        "code": "KVC-2",
        "name": "知识价值信用贷款（二期）",
        "rate_basis": "LPR_1Y",
        "spread_bp": "50",
        "max_term_months": "12",
        "methods": ["QUARTERLY_INTEREST", "EQUAL_INSTALMENT"],
        "penalty_uplift_percent": "50",
        "grace_days": "3",
        "allocation_order": "PENALTY,INTEREST,PRINCIPAL",
        "bound_normal": "0",
        "bound_special_mention": "90",
        "bound_substandard": "180",
        "bound_doubtful": "360",
        "approval_valid_days": "30",
    }
    return base | overrides


def page_text(response) -> str:  # type: ignore[no-untyped-def]
    return html.unescape(response.content.decode())


@pytest.fixture
def product(world):  # type: ignore[no-untyped-def]
    from kvcredit.lending.services import create_product

    return create_product(world.system, code="KVC", name="知识价值信用贷款", spread_bp=-20)


def test_the_administrator_adds_a_product_and_sees_its_terms(world) -> None:  # type: ignore[no-untyped-def]
    c = login(world, "admin")
    response = c.post(reverse("console:products"), terms())
    assert response.status_code == 302, page_text(response)[:3000]
    p = Product.objects.get(code="KVC-2")
    assert (p.rate_basis, p.spread_bp, p.max_term_months, p.grace_days) == ("LPR_1Y", 50, 12, 3)
    assert p.methods == ["QUARTERLY_INTEREST", "EQUAL_INSTALMENT"]
    assert p.allocation_order == ["PENALTY", "INTEREST", "PRINCIPAL"]
    assert p.classification_bounds == [0, 90, 180, 360]
    assert p.active
    audit = AuditRecord.objects.get(action="PRODUCT_CREATE", object_id=str(p.pk))
    assert audit.actor_username == "admin"
    assert audit.after["spread_bp"] == 50

    listing = page_text(c.get(response["Location"]))
    assert "贷款产品已添加。" in listing
    assert "知识价值信用贷款（二期）" in listing
    assert "签约日一年期贷款市场报价利率（LPR）" in listing
    assert '<td class="num">+50</td>' in listing
    assert "按季付息、到期还本<br>等额本息" in listing
    assert "罚息 → 利息 → 本金" in listing
    assert "关注 ≤ 90" in listing
    assert "在用" in listing


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("spread_bp", "20000", "须在 -10000 与 10000 之间"),
        ("max_term_months", "0", "须在 1 与 360 之间"),
        ("penalty_uplift_percent", "-1", "须在 0 与 1000 之间"),
        ("grace_days", "400", "须在 0 与 365 之间"),
        ("approval_valid_days", "0", "须在 1 与 3650 之间"),
    ],
)
def test_a_value_the_service_refuses_is_shown_at_its_field(world, field, value, message) -> None:  # type: ignore[no-untyped-def]
    response = login(world, "admin").post(reverse("console:products"), terms(**{field: value}))
    assert response.status_code == 200
    assert response.context["form"].errors == {field: [message]}
    assert not Product.objects.filter(code="KVC-2").exists()
    assert not AuditRecord.objects.filter(action="PRODUCT_CREATE").exists()


def test_falling_classification_bounds_are_refused_at_the_bounds(world) -> None:  # type: ignore[no-untyped-def]
    response = login(world, "admin", "en").post(
        reverse("console:products"), terms(bound_substandard="60")
    )
    assert response.status_code == 200
    assert response.context["form"].errors == {
        "bound_normal": ["four rising non-negative day counts"]
    }
    assert not Product.objects.filter(code="KVC-2").exists()


def test_a_taken_code_no_method_and_a_bad_code_are_refused_at_their_fields(world, product) -> None:  # type: ignore[no-untyped-def]
    c = login(world, "admin")
    taken = c.post(reverse("console:products"), terms(code="KVC"))
    assert taken.context["form"].errors == {"code": ["该代码的产品已存在"]}
    none = c.post(reverse("console:products"), terms(methods=[]))
    assert list(none.context["form"].errors) == ["methods"]
    spaced = c.post(reverse("console:products"), terms(code="KVC 2"))
    assert list(spaced.context["form"].errors) == ["code"]
    assert Product.objects.count() == 1


def test_the_administrator_edits_a_products_terms(world, product) -> None:  # type: ignore[no-untyped-def]
    c = login(world, "admin")
    url = reverse("console:product", args=[product.pk])
    form = c.get(url).context["form"]
    assert "code" not in form.fields
    assert form.initial["spread_bp"] == -20
    assert form.initial["bound_doubtful"] == 360
    changed = terms(
        name="知识价值信用贷款",
        rate_basis="PBOC_BENCHMARK",
        spread_bp="30",
        max_term_months="24",
        methods=["EQUAL_PRINCIPAL"],
        allocation_order="INTEREST,PENALTY,PRINCIPAL",
        bound_special_mention="60",
    )
    del changed["code"]
    response = c.post(url, changed)
    assert response.status_code == 302, page_text(response)[:3000]
    product.refresh_from_db()
    assert (product.code, product.rate_basis, product.spread_bp) == ("KVC", "PBOC_BENCHMARK", 30)
    assert product.max_term_months == 24 and product.methods == ["EQUAL_PRINCIPAL"]
    assert product.allocation_order == ["INTEREST", "PENALTY", "PRINCIPAL"]
    assert product.classification_bounds == [0, 60, 180, 360]
    audit = AuditRecord.objects.get(action="PRODUCT_UPDATE", object_id=str(product.pk))
    assert audit.before["spread_bp"] == -20 and audit.after["spread_bp"] == 30
    assert "产品条款已保存。" in page_text(c.get(response["Location"]))

    # A refused change leaves the product as it was, and says which field.
    refused = c.post(url, changed | {"grace_days": "-1"})
    assert refused.status_code == 200
    assert refused.context["form"].errors == {"grace_days": ["须在 0 与 365 之间"]}
    product.refresh_from_db()
    assert product.grace_days == 3  # as the first edit left it
    assert AuditRecord.objects.filter(action="PRODUCT_UPDATE").count() == 1


def test_a_deactivated_product_cannot_be_chosen_on_the_application_form(world, product) -> None:  # type: ignore[no-untyped-def]
    admin, enterprise = login(world, "admin"), login(world, "enterprise_a")
    choices = enterprise.get(reverse("console:apply")).context["form"].fields["product"].choices
    assert (product.pk, product.name) in choices

    toggle = reverse("console:product_active", args=[product.pk])
    response = admin.post(toggle, {"active": "0"})
    assert response.status_code == 302
    product.refresh_from_db()
    assert not product.active
    listing = page_text(admin.get(response["Location"]))
    assert "产品 KVC 已停用，企业不能再选择该产品申请贷款。" in listing
    assert "已停用" in listing and "重新启用" in listing
    audit = AuditRecord.objects.get(action="PRODUCT_UPDATE", object_id=str(product.pk))
    assert audit.before["active"] is True and audit.after["active"] is False

    form = enterprise.get(reverse("console:apply")).context["form"]
    assert (product.pk, product.name) not in form.fields["product"].choices
    applied = enterprise.post(
        reverse("console:apply"),
        {
            "bank": world.bank["a"].pk,
            "product": product.pk,
            "amount": "100000",
            "term_months": 12,
            "method": "EQUAL_INSTALMENT",
            "purpose": "研发投入",
        },
    )
    assert applied.status_code == 200
    assert "product" in applied.context["form"].errors

    assert admin.post(toggle, {"active": "1"}).status_code == 302
    product.refresh_from_db()
    assert product.active
    choices = enterprise.get(reverse("console:apply")).context["form"].fields["product"].choices
    assert (product.pk, product.name) in choices


def test_deactivating_needs_a_post_and_a_clear_choice(world, product) -> None:  # type: ignore[no-untyped-def]
    c = login(world, "admin")
    toggle = reverse("console:product_active", args=[product.pk])
    assert c.get(toggle).status_code == 405
    response = c.post(toggle, {"active": "maybe"}, follow=True)
    assert "请选择停用或重新启用该产品。" in page_text(response)
    product.refresh_from_db()
    assert product.active
    assert c.get(reverse("console:product", args=[product.pk + 999])).status_code == 404
    assert c.post(reverse("console:product_active", args=[product.pk + 999])).status_code == 404


@pytest.mark.parametrize("who", ["bank_a", "enterprise_a", "district_a", "trustee"])
def test_only_the_administrator_sets_products(world, product, who) -> None:  # type: ignore[no-untyped-def]
    c = login(world, who)
    assert c.get(reverse("console:products")).status_code == 403
    assert c.post(reverse("console:products"), terms()).status_code == 403
    assert c.get(reverse("console:product", args=[product.pk])).status_code == 403
    assert c.post(reverse("console:product", args=[product.pk]), terms()).status_code == 403
    toggle = reverse("console:product_active", args=[product.pk])
    assert c.post(toggle, {"active": "0"}).status_code == 403
    product.refresh_from_db()
    assert product.active and product.spread_bp == -20
    assert Product.objects.count() == 1
    assert not AuditRecord.objects.filter(action__startswith="PRODUCT_UPDATE").exists()


def test_the_administrators_menu_links_the_products_page(world) -> None:  # type: ignore[no-untyped-def]
    url = reverse("console:products")
    assert f'href="{url}"' in login(world, "admin").get(reverse("console:rates")).content.decode()
    assert f'href="{url}"' not in login(world, "bank_a").get("/credit-lines/").content.decode()


def test_the_page_reads_in_english_too(world, product) -> None:  # type: ignore[no-untyped-def]
    text = page_text(login(world, "admin", "en").get(reverse("console:products")))
    assert "Loan products" in text and "Spread (bp)" in text
    assert '<td class="num">-20</td>' in text
    assert "penalty interest → interest → principal" in text
