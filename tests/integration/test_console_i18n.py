"""Every user-visible string is translated: the zh_Hans catalogue covers every msgid the source
uses, and the console's pages rendered in Simplified Chinese show no English UI text."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from importlib import resources

import pytest
from django.test import Client
from django.urls import reverse

from kvcredit.console import i18n
from kvcredit.enterprises.models import PublishedPolicy

SKIP_TAGS = {"script", "style", "code", "pre", "textarea", "option"}
WORD = re.compile(r"\b[A-Za-z]{3,}\b")
# Words that may appear in Chinese pages: codes and abbreviations, not UI text.
ALLOWED = {"USCC", "TOML", "LPR", "PBOC", "UTF", "kvcredit"}


class TextNodes(HTMLParser):
    """Visible text of a page, leaving out data marked translate="no" or lang="en"."""

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[bool] = []
        self.texts: list[str] = []
        self.attrs_seen: list[str] = []

    VOID = {"input", "br", "meta", "link", "img", "hr", "source", "col", "wbr"}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        for key in ("aria-label", "placeholder", "title", "alt"):
            if a.get(key):
                self.attrs_seen.append(a[key] or "")
        if tag in self.VOID:
            return
        parent = self.stack[-1] if self.stack else False
        hidden = tag in SKIP_TAGS or a.get("translate") == "no" or a.get("lang") == "en"
        self.stack.append(parent or hidden)

    def handle_endtag(self, tag: str) -> None:
        if tag not in self.VOID and self.stack:
            self.stack.pop()

    def handle_data(self, data: str) -> None:
        if not (self.stack and self.stack[-1]) and data.strip():
            self.texts.append(data.strip())


def english_words(html: str) -> list[str]:
    parser = TextNodes()
    parser.feed(html)
    words = [w for t in parser.texts + parser.attrs_seen for w in WORD.findall(t)]
    return [w for w in words if w not in ALLOWED]


def test_the_chinese_catalogue_translates_every_msgid_of_the_source() -> None:
    assert i18n.missing("zh_Hans") == []


def test_the_compiled_catalogue_is_what_django_reads(settings) -> None:  # type: ignore[no-untyped-def]
    from django.utils import translation

    i18n.compile_catalogues()
    with translation.override("zh-hans"):
        assert translation.gettext("Credit lines") == "授信额度"
    with translation.override("en"):
        assert translation.gettext("Credit lines") == "Credit lines"


PAGES = {
    "enterprise_a": ["evaluation", "submissions", "submit"],
    "bank_a": ["credit_lines", "statistics", "loans", "applications", "repayments", "claims"],
    "district_a": ["credit_lines", "statistics", "contributions"],
    "trustee": ["programme", "credit_lines", "statistics", "fees", "claims", "search"],
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


def _pages(world) -> list[tuple[str, str]]:  # type: ignore[no-untyped-def]
    from kvcredit.lending.services import create_product

    # A product, so that the products page shows a row of terms and its edit page opens.
    product = create_product(world.system, code="KVC", name="知识价值信用贷款", spread_bp=50)
    sub = world.enterprise["a"].submissions.first()
    ent = world.enterprise["a"]
    out = [(who, reverse(f"console:{p}")) for who, ps in PAGES.items() for p in ps]
    out += [
        ("enterprise_a", reverse("console:submission", args=[sub.pk])),
        ("bank_a", reverse("console:enterprise", args=[ent.pk])),
        ("district_a", reverse("console:enterprise", args=[ent.pk])),
        ("admin", reverse("console:policy", args=[PublishedPolicy.objects.first().pk])),
        ("admin", reverse("console:credit_lines") + "?grade=-&page=1"),
        ("admin", reverse("console:product", args=[product.pk])),
        ("trustee", reverse("console:search") + "?q=企业"),
        ("enterprise_a", reverse("console:loans")),
        ("enterprise_a", reverse("console:applications")),
    ]
    return out


@pytest.mark.django_db
def test_no_page_shows_english_ui_text_in_simplified_chinese(world) -> None:  # type: ignore[no-untyped-def]
    leaks = {}
    for who, url in _pages(world):
        c = Client(HTTP_ACCEPT_LANGUAGE="zh-CN,zh;q=0.9")
        c.force_login(world.users[who])
        response = c.get(url)
        assert response.status_code == 200, (who, url)
        words = english_words(response.content.decode())
        if words:
            leaks[f"{who} {url}"] = sorted(set(words))
    assert leaks == {}


@pytest.mark.django_db
def test_the_login_page_and_the_policy_preview_are_chinese_too(world) -> None:  # type: ignore[no-untyped-def]
    assert (
        english_words(Client(HTTP_ACCEPT_LANGUAGE="zh-CN").get(reverse("login")).content.decode())
        == []
    )
    source = resources.files("kvcredit.scoring.policies").joinpath("chongqing-kvc.toml")
    text = source.read_text("utf-8").replace('version = "2026.1"', 'version = "2026.2"', 1)
    c = Client(HTTP_ACCEPT_LANGUAGE="zh-CN")
    c.force_login(world.users["admin"])
    response = c.post(reverse("console:policy_preview"), {"source": text})
    assert response.status_code == 200
    assert english_words(response.content.decode()) == []


@pytest.mark.django_db
def test_a_services_refusal_reaches_the_page_in_the_users_language(world) -> None:  # type: ignore[no-untyped-def]
    """A claim step the claim's status does not allow: the fund's refusal, worded by the
    service, is shown in Chinese to a Chinese browser and in English to an English one."""
    import datetime as dt
    import html

    from kvcredit.fund import claims
    from support.fund import make_loan

    loan = make_loan(
        enterprise=world.enterprise["a"],
        bank=world.bank["a"],
        due_principal_fen=100_000_00,
        days_past_due=95,
    )
    claim = claims.register(world.users["bank_a"], loan_id=loan.pk, on=dt.date(2025, 6, 30))
    url = reverse("console:claim_step", args=[claim.pk, "check"])
    for lang, text in (
        (
            "zh-CN,zh;q=0.9",
            "未能办理：代偿申请当前状态为“已登记（逾期已报告）”；此步骤要求状态为“已申请代偿”",
        ),
        ("en", "Refused: the claim is registered (overdue reported); this step needs claim filed"),
    ):
        c = Client(HTTP_ACCEPT_LANGUAGE=lang)
        c.force_login(world.users["trustee"])
        page = c.post(url, follow=True)
        assert page.status_code == 200
        assert text in html.unescape(page.content.decode()), lang
