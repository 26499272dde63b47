"""Attacks on the service from outside its roles' scopes: what a browser is told to refuse.

A text shown back (an enterprise's name from an import, a reason, a document's name) is escaped by
the templates; the Content-Security-Policy is the second wall, so a script that slips through is
not run. It holds only while no template runs a script of its own inline.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import kvcredit

pytestmark = pytest.mark.django_db
SRC = Path(kvcredit.__file__).parent


@pytest.mark.parametrize("url", ["/accounts/login/", "/api/v1/docs", "/no-such-page/"])
def test_every_response_carries_a_content_security_policy(client, url):
    csp = client.get(url).headers.get("Content-Security-Policy", "")
    directives = dict(d.strip().split(" ", 1) for d in csp.split(";") if d.strip())
    assert directives.get("script-src") == "'self'"
    assert directives.get("object-src") == "'none'"
    assert directives.get("frame-ancestors") == "'none'"
    assert directives.get("base-uri") == "'self'"


def test_the_other_security_headers_are_sent(client):
    headers = client.get("/accounts/login/").headers
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "same-origin"


_INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*type=\"application/json\")[^>]*>")
_HANDLER = re.compile(r"\son[a-z]+\s*=", re.IGNORECASE)
_JS_URL = re.compile(r"href=\"javascript:", re.IGNORECASE)


def test_no_template_runs_a_script_inline_so_the_policy_needs_no_unsafe_inline():
    found = []
    for template in sorted(SRC.glob("*/templates/**/*.html")):
        text = template.read_text(encoding="utf-8")
        for pattern in (_INLINE_SCRIPT, _HANDLER, _JS_URL):
            found += [f"{template.relative_to(SRC)}: {m.group(0)}" for m in pattern.finditer(text)]
    assert found == []


def test_a_forged_forwarded_address_does_not_reset_the_lockout(world):
    """The lockout counts failures per user name and client address; the address is the
    socket's, so a new X-Forwarded-For on each try buys the attacker nothing."""
    from django.test import Client

    c = Client()
    codes = []
    for i in range(6):
        forged = {"HTTP_X_FORWARDED_FOR": f"10.0.0.{i}", "HTTP_X_REAL_IP": f"10.0.1.{i}"}
        r = c.post("/accounts/login/", {"username": "bank_a", "password": "wrong"}, **forged)
        codes.append(r.status_code)
    assert codes[-1] == 429


HUGE = "9" * 25  # past every integer column: SQLite and PostgreSQL both refuse it as a key


@pytest.mark.parametrize(
    "url",
    [
        "/loans/{}/",
        "/applications/{}/",
        "/fund/claims/{}/",
        "/enterprises/{}/",
        "/jobs/{}.json",
        "/documents/application/{}/1/v1/",
        "/setup/users/{}/",
    ],
)
def test_an_id_too_large_for_the_database_is_not_found_not_an_error(client, world, url):
    client.force_login(world.users["admin"])
    assert client.get(url.format(HUGE)).status_code == 404


@pytest.mark.parametrize(
    "path", ["/api/v1/fund/entries?kind=A%00B", "/api/v1/fund/breakers?state=A%00B"]
)
def test_a_nul_in_a_list_filter_is_refused_naming_the_field(api_client, world, path):
    """PostgreSQL refuses NUL in text: a filter holding one answers 422, not a server error."""
    r = api_client.get(path, headers=world.auth("trustee"))
    assert r.status_code == 422, r.content
    field = path.split("?")[1].split("=")[0]
    assert field in r.content.decode()


def test_a_nul_in_the_search_box_is_not_a_server_error(client, world):
    client.force_login(world.users["admin"])
    r = client.get("/search/", {"q": "A\x00B"})
    assert r.status_code == 200
    assert 'id="search-q" type="search" name="q" value="AB"' in r.content.decode()
