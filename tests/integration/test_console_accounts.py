"""The account lifecycle in the console: password change, reset by the administrator,
deactivate (confirmed; sessions and tokens stop working) and reactivate, tokens listed and
revoked, and the audit log for the administrator and the trustee."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

pytestmark = pytest.mark.django_db


def login(world, who: str) -> Client:  # type: ignore[no-untyped-def]
    c = Client(HTTP_ACCEPT_LANGUAGE="zh-hans")
    c.force_login(world.users[who])
    return c


def test_a_user_changes_their_password_through_djangos_form(world) -> None:  # type: ignore[no-untyped-def]
    from conftest import PASSWORD
    from kvcredit.audit.models import AuditRecord

    c = login(world, "bank_a")
    new = "another-horse-battery-staple-77"
    r = c.post(
        reverse("console:password_change"),
        {"old_password": PASSWORD, "new_password1": new, "new_password2": new},
    )
    assert r.status_code == 302
    world.users["bank_a"].refresh_from_db()
    assert world.users["bank_a"].check_password(new)
    assert AuditRecord.objects.filter(action="USER_PASSWORD_CHANGE").count() == 1
    assert c.get(reverse("console:loans")).status_code == 200  # still signed in


def test_a_wrong_old_password_is_refused_on_the_field(world) -> None:  # type: ignore[no-untyped-def]
    c = login(world, "bank_a")
    r = c.post(
        reverse("console:password_change"),
        {
            "old_password": "nope",
            "new_password1": "x-y-z-1234567",
            "new_password2": "x-y-z-1234567",
        },
    )
    assert r.status_code == 200
    assert "old_password" in r.context["form"].errors


def test_the_administrator_resets_a_password_shown_once(world) -> None:  # type: ignore[no-untyped-def]
    admin = login(world, "admin")
    target = world.users["bank_a"]
    url = reverse("console:user_reset", args=[target.pk])
    asked = admin.post(url)
    assert asked.status_code == 200 and b'name="confirmed"' in asked.content
    target.refresh_from_db()
    assert target.check_password(__import__("conftest").PASSWORD)  # nothing changed yet
    done = admin.post(url, {"confirmed": "yes"})
    temporary = done.context["temporary"]
    target.refresh_from_db()
    assert target.check_password(temporary)
    assert done["Cache-Control"] == "no-store"


def test_only_the_administrator_manages_users(world) -> None:  # type: ignore[no-untyped-def]
    target = world.users["bank_a"]
    for who in ("trustee", "bank_b", "district_a", "enterprise_a"):
        c = login(world, who)
        assert c.get(reverse("console:user", args=[target.pk])).status_code == 403
        url = reverse("console:user_active", args=[target.pk, "deactivate"])
        assert c.post(url, {"confirmed": "yes"}).status_code == 403
    target.refresh_from_db()
    assert target.is_active


def test_deactivation_asks_first_then_stops_sessions_and_tokens(world, api_client) -> None:  # type: ignore[no-untyped-def]
    from kvcredit.audit.models import AuditRecord

    target = world.users["bank_a"]
    theirs = login(world, "bank_a")
    assert theirs.get(reverse("console:loans")).status_code == 200
    admin = login(world, "admin")
    url = reverse("console:user_active", args=[target.pk, "deactivate"])
    asked = admin.post(url)
    assert asked.status_code == 200
    page = asked.content.decode()
    assert 'class="confirm danger"' in page and 'name="once"' in page
    target.refresh_from_db()
    assert target.is_active
    once = asked.context["once"]
    done = admin.post(url, {"confirmed": "yes", "once": once})
    assert done.status_code == 302
    target.refresh_from_db()
    assert not target.is_active
    # the open session and the API token stop working
    assert theirs.get(reverse("console:loans")).status_code == 302
    assert api_client.get("/api/v1/loans", headers=world.auth("bank_a")).status_code == 401
    signin = Client().post(
        "/accounts/login/", {"username": "bank_a", "password": __import__("conftest").PASSWORD}
    )
    assert signin.status_code == 200  # the form again: an inactive user is not signed in
    # a retried POST does nothing twice
    again = admin.post(url, {"confirmed": "yes", "once": once})
    assert again.status_code == 302
    assert AuditRecord.objects.filter(action="USER_DEACTIVATE").count() == 1
    # reactivation: the user signs in again, the revoked token stays revoked
    admin.post(reverse("console:user_active", args=[target.pk, "reactivate"]))
    target.refresh_from_db()
    assert target.is_active
    assert api_client.get("/api/v1/loans", headers=world.auth("bank_a")).status_code == 401


def test_the_administrator_cannot_deactivate_themself(world) -> None:  # type: ignore[no-untyped-def]
    me = world.users["admin"]
    admin = login(world, "admin")
    admin.post(reverse("console:user_active", args=[me.pk, "deactivate"]), {"confirmed": "yes"})
    me.refresh_from_db()
    assert me.is_active


def test_a_user_sees_and_revokes_only_their_own_tokens(world, api_client) -> None:  # type: ignore[no-untyped-def]
    from kvcredit.accounts.models import ApiToken

    mine = ApiToken.objects.get(user=world.users["bank_a"])
    other = ApiToken.objects.get(user=world.users["bank_b"])
    c = login(world, "bank_a")
    page = c.get(reverse("console:tokens")).content.decode()
    assert mine.prefix in page and other.prefix not in page
    assert c.post(reverse("console:token_revoke", args=[other.pk])).status_code == 404
    asked = c.post(reverse("console:token_revoke", args=[mine.pk]))
    assert asked.status_code == 200 and 'class="confirm danger"' in asked.content.decode()
    c.post(reverse("console:token_revoke", args=[mine.pk]), {"confirmed": "yes"})
    mine.refresh_from_db()
    other.refresh_from_db()
    assert mine.revoked_at is not None and other.revoked_at is None
    assert api_client.get("/api/v1/loans", headers=world.auth("bank_a")).status_code == 401


def test_the_administrator_revokes_anyones_token(world) -> None:  # type: ignore[no-untyped-def]
    from kvcredit.accounts.models import ApiToken

    other = ApiToken.objects.get(user=world.users["bank_b"])
    admin = login(world, "admin")
    assert other.prefix in admin.get(reverse("console:tokens")).content.decode()
    admin.post(reverse("console:token_revoke", args=[other.pk]), {"confirmed": "yes"})
    other.refresh_from_db()
    assert other.revoked_at is not None


def test_a_new_token_is_shown_once(world) -> None:  # type: ignore[no-untyped-def]
    c = login(world, "district_a")
    r = c.post(reverse("console:tokens"), {"name": "报表"})
    assert r.context["plain"].startswith("kvc_")
    assert r.context["plain"] not in c.get(reverse("console:tokens")).content.decode()


def test_the_audit_log_is_searchable_by_the_administrator_and_the_trustee(world) -> None:  # type: ignore[no-untyped-def]
    for who in ("admin", "trustee"):
        c = login(world, who)
        r = c.get(reverse("console:audit_log"), {"action": "USER_CREATE"})
        assert r.status_code == 200
        rows = list(r.context["page"].object_list)
        assert rows and all("USER_CREATE" in x.action for x in rows)
        r = c.get(reverse("console:audit_log"), {"object_type": "district", "actor": "system"})
        assert {x.object_type for x in r.context["page"].object_list} == {"district"}
        r = c.get(
            reverse("console:audit_log"), {"date_from": "2000-01-01", "date_to": "2000-01-02"}
        )
        assert r.context["page"].paginator.count == 0
    for who in ("bank_a", "district_a", "enterprise_a"):
        assert login(world, who).get(reverse("console:audit_log")).status_code == 403


def test_the_user_page_shows_the_users_audit_trail(world) -> None:  # type: ignore[no-untyped-def]
    target = world.users["bank_a"]
    admin = login(world, "admin")
    admin.post(reverse("console:user_reset", args=[target.pk]), {"confirmed": "yes"})
    page = admin.get(reverse("console:user", args=[target.pk])).content.decode()
    assert "USER_PASSWORD_RESET" in page


def test_the_enterprise_page_shows_the_enterprises_audit_trail(world) -> None:  # type: ignore[no-untyped-def]
    ent = world.enterprise["a"]
    page = login(world, "district_a").get(reverse("console:enterprise", args=[ent.pk]))
    assert page.status_code == 200
    assert "ENTERPRISE_REGISTER" in page.content.decode()
    assert all(r.object_type in {"enterprise", "credit_line"} for r in page.context["audit"])
    assert (
        login(world, "district_b").get(reverse("console:enterprise", args=[ent.pk])).status_code
        == 404
    )


@pytest.fixture
def email_reset(settings):  # type: ignore[no-untyped-def]
    """The site's URLs as they are when e-mail is configured (KVCREDIT_EMAIL_HOST)."""
    import importlib

    from django.urls import clear_url_caches

    import kvcredit.site.urls as site_urls

    settings.KVCREDIT_EMAIL_RESET = True
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    importlib.reload(site_urls)
    clear_url_caches()
    yield
    settings.KVCREDIT_EMAIL_RESET = False
    importlib.reload(site_urls)
    clear_url_caches()


def test_password_reset_by_email_uses_djangos_views_when_mail_is_configured(
    world, email_reset
) -> None:  # type: ignore[no-untyped-def]
    from django.core import mail

    u = world.users["bank_a"]
    u.email = "bank@example.com"
    u.save(update_fields=["email"])
    c = Client()
    assert "/accounts/password_reset/" in c.get("/accounts/login/").content.decode()
    r = c.post("/accounts/password_reset/", {"email": "bank@example.com"})
    assert r.status_code == 302
    assert len(mail.outbox) == 1 and "/accounts/reset/" in mail.outbox[0].body
    import re

    link = re.search(r"http://testserver(/accounts/reset/\S+/)", mail.outbox[0].body).group(1)
    form = c.get(link, follow=True)
    assert form.status_code == 200 and form.context["validlink"]
    new = "reset-by-mail-horse-staple-9"
    done = c.post(form.redirect_chain[-1][0], {"new_password1": new, "new_password2": new})
    assert done.status_code == 302
    u.refresh_from_db()
    assert u.check_password(new)
    from kvcredit.audit.models import AuditRecord

    assert AuditRecord.objects.filter(action="USER_PASSWORD_CHANGE", after__by="email").exists()


def test_without_mail_there_is_no_reset_by_email(world) -> None:  # type: ignore[no-untyped-def]
    c = Client()
    assert c.get("/accounts/password_reset/").status_code == 404
    assert "password_reset" not in c.get("/accounts/login/").content.decode()


def test_the_way_back_after_revoking_stays_on_the_site(world) -> None:  # type: ignore[no-untyped-def]
    from kvcredit.accounts.models import ApiToken

    mine = ApiToken.objects.get(user=world.users["bank_a"])
    c = login(world, "bank_a")
    url = reverse("console:token_revoke", args=[mine.pk])
    for evil in ("//evil.example", "/\\evil.example", "https://evil.example/"):
        r = c.post(url, {"back": evil})
        assert r.context["q"].back == reverse("console:tokens"), evil
