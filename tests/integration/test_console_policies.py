"""The administrator checks a policy (errors by key path), previews it against the policy in
force on the registered enterprises (migration matrix, change in total credit) and publishes."""

from __future__ import annotations

from importlib import resources

import pytest
from django.test import Client
from django.urls import reverse

from kvcredit.enterprises.models import PublishedPolicy

pytestmark = pytest.mark.django_db


def shipped(version: str = "2026.2", a_limit: str = "5000000") -> str:
    text = resources.files("kvcredit.scoring.policies").joinpath("chongqing-kvc.toml")
    source = text.read_text("utf-8").replace('version = "2026.1"', f'version = "{version}"', 1)
    return source.replace("credit_limit = 5000000", f"credit_limit = {a_limit}", 1)


def admin(world) -> Client:  # type: ignore[no-untyped-def]
    c = Client(HTTP_ACCEPT_LANGUAGE="en")
    c.force_login(world.users["admin"])
    return c


def test_a_broken_policy_is_reported_by_key_path(world) -> None:  # type: ignore[no-untyped-def]
    broken = shipped().replace("credit_limit = 4000000", 'credit_limit = "lots"', 1)
    response = admin(world).post(reverse("console:policy_preview"), {"source": broken})
    preview = response.context["preview"]
    assert not preview.ok
    assert any(path.startswith("outcome.grades.1.credit_limit") for path, _ in preview.problems)
    assert "outcome.grades.1.credit_limit" in response.content.decode()


def test_the_preview_shows_the_grade_migration_and_the_change_in_credit(world) -> None:  # type: ignore[no-untyped-def]
    response = admin(world).post(
        reverse("console:policy_preview"), {"source": shipped(a_limit="6000000")}
    )
    m = response.context["preview"].migration
    assert response.context["preview"].enterprises == 2
    assert m.same == 2 and m.up == 0 and m.down == 0
    # Both enterprises hold grade A: one million yuan more each, in fen.
    assert m.credit_change_fen == 2 * 1_000_000 * 100
    assert response.context["matrix"][0][0] == "A" and response.context["matrix"][0][1] == 2
    assert PublishedPolicy.objects.count() == 1, "a preview stores nothing"


def test_an_uploaded_file_is_checked_like_pasted_text(world) -> None:  # type: ignore[no-untyped-def]
    from django.core.files.uploadedfile import SimpleUploadedFile

    upload = SimpleUploadedFile("p.toml", shipped().encode(), content_type="text/plain")
    response = admin(world).post(reverse("console:policy_preview"), {"file": upload})
    assert response.context["preview"].ok


def test_publishing_makes_the_policy_current_and_re_evaluates(world) -> None:  # type: ignore[no-untyped-def]
    c = admin(world)
    response = c.post(reverse("console:policy_publish"), {"source": shipped(a_limit="6000000")})
    assert response.status_code == 302
    current = PublishedPolicy.objects.order_by("-id").first()
    assert (current.version, current.reevaluated) == ("2026.2", 2)
    again = c.post(reverse("console:policy_publish"), {"source": shipped(a_limit="6000000")})
    assert again.status_code == 422
    assert "is published" in again.content.decode()


@pytest.mark.parametrize("who", ["bank_a", "district_a", "trustee", "enterprise_a"])
def test_only_the_administrator_previews_or_publishes(world, who) -> None:  # type: ignore[no-untyped-def]
    c = Client()
    c.force_login(world.users[who])
    assert c.post(reverse("console:policy_preview"), {"source": shipped()}).status_code == 403
    assert c.post(reverse("console:policy_publish"), {"source": shipped()}).status_code == 403
    assert PublishedPolicy.objects.count() == 1
