"""Writes on organisations, users and API tokens."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from typing import Any

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from kvcredit.accounts.models import ApiToken, Organisation, OrgKind, User
from kvcredit.accounts.permissions import require
from kvcredit.audit import services as audit
from kvcredit.errors import Conflict, InvalidInput, NotFound

TOKEN_PREFIX = "kvc_"
SYSTEM_USERNAME = "system"


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def ensure_system_user() -> User:
    """The non-login actor that `kvcredit init` records its writes under."""
    with transaction.atomic():
        org, _created = Organisation.objects.get_or_create(
            kind=OrgKind.ADMINISTRATOR, name="programme administrator"
        )
        user, created = User.objects.get_or_create(
            username=SYSTEM_USERNAME, defaults={"organisation": org, "is_active": True}
        )
        if created:
            user.set_unusable_password()
            user.save(update_fields=["password"])
            audit.record(user, "USER_CREATE", "user", user.pk, after={"username": user.username})
    return user


def create_organisation(actor: User, *, kind: str, name: str) -> Organisation:
    require(actor, OrgKind.ADMINISTRATOR, action=gettext_noop("create organisations"))
    if kind not in OrgKind.values:
        msg = _("unknown organisation kind %(kind)s") % {"kind": repr(kind)}
        raise InvalidInput([("kind", msg)])
    with transaction.atomic():
        try:
            with transaction.atomic():
                org = Organisation.objects.create(kind=kind, name=name)
        except IntegrityError:
            msg = _("an organisation %(name)s of kind %(kind)s exists") % {
                "name": repr(name),
                "kind": kind,
            }
            raise Conflict(msg, field="name") from None
        audit.record(actor, "ORGANISATION_CREATE", "organisation", org.pk, after=_org(org))
    return org


def add_user(
    actor: User, *, username: str, password: str, organisation: Organisation, email: str = ""
) -> User:
    """Create a user in an organisation; the password must pass the validators."""
    require(actor, OrgKind.ADMINISTRATOR, action=gettext_noop("add users"))
    candidate = User(username=username, email=email, organisation=organisation)
    try:
        validate_password(password, candidate)
    except ValidationError as exc:
        raise InvalidInput([("password", m) for m in exc.messages]) from None
    with transaction.atomic():
        if User.objects.filter(username=username).exists():
            raise Conflict(_("user %(name)s exists") % {"name": repr(username)}, field="username")
        candidate.set_password(password)
        candidate.save()
        after = {"username": username, "organisation_id": organisation.pk}
        audit.record(actor, "USER_CREATE", "user", candidate.pk, after=after)
    return candidate


def issue_token(
    actor: User,
    *,
    name: str,
    days: int | None = None,
    now: dt.datetime | None = None,
    parent: ApiToken | None = None,
) -> tuple[ApiToken, str]:
    """A new API token for the acting user; the plain token is returned once, never stored.

    ``parent`` is the bearer token the request authenticated with (None for a session or the
    CLI). A token never lives longer than ``KVCREDIT_TOKEN_MAX_DAYS`` nor than its parent: a
    lifetime asked beyond either is refused, the default lifetime is cut to fit.
    """
    if not actor.is_authenticated or actor.organisation_id is None:
        raise InvalidInput([("user", _("the user has no organisation"))])
    now = now or timezone.now()
    latest = now + dt.timedelta(days=settings.KVCREDIT_TOKEN_MAX_DAYS)
    if parent is not None:
        latest = min(latest, parent.expires_at)
    if days is None:
        expires_at = min(now + dt.timedelta(days=settings.KVCREDIT_TOKEN_DAYS), latest)
    else:
        expires_at = now + dt.timedelta(days=days)
        if days < 1 or expires_at > latest:
            msg = _("a token may live until %(latest)s at the latest (its maker's expiry)") % {
                "latest": latest.isoformat(timespec="minutes")
            }
            raise InvalidInput([("days", msg)])
    plain = TOKEN_PREFIX + secrets.token_urlsafe(32)
    with transaction.atomic():
        tok = ApiToken.objects.create(
            user=actor,
            name=name,
            digest=token_digest(plain),
            prefix=plain[:10],
            created_at=now,
            expires_at=expires_at,
            created_by_token=parent,
        )
        after = {"name": name, "prefix": tok.prefix, "expires_at": tok.expires_at}
        if parent is not None:
            after["created_by_token_id"] = parent.pk
        audit.record(actor, "TOKEN_ISSUE", "api_token", tok.pk, after=after, now=now)
    return tok, plain


def revoke_token(actor: User, token_id: int, *, now: dt.datetime | None = None) -> ApiToken:
    """Revoke one of the actor's tokens and every token created with it, at any depth."""
    now = now or timezone.now()
    with transaction.atomic():
        tok = ApiToken.objects.select_for_update().filter(pk=token_id, user=actor).first()
        if tok is None:
            raise NotFound(_("no such token"))
        revoked, level = [], [tok]
        while level:
            revoked += [t for t in level if t.revoked_at is None]
            ids = [t.pk for t in level]
            level = list(ApiToken.objects.select_for_update().filter(created_by_token__in=ids))
        for t in revoked:
            t.revoked_at = now
        ApiToken.objects.filter(pk__in=[t.pk for t in revoked]).update(revoked_at=now)
        if revoked:
            entries = [
                audit.Entry("TOKEN_REVOKE", "api_token", t.pk, after={"revoked_at": now})
                for t in revoked
            ]
            audit.record_many(actor, entries, now=now)
    return tok


def token_for(plain: str, *, now: dt.datetime | None = None) -> ApiToken | None:
    """The valid token (unknown, expired, revoked or of an inactive user: None) of ``plain``."""
    if not plain.startswith(TOKEN_PREFIX) or len(plain) > 100:
        return None
    now = now or timezone.now()
    # digest is unique: no ORDER BY (building one costs more than the indexed lookup itself)
    tok = next(
        iter(
            ApiToken.objects.select_related("user", "user__organisation")
            .filter(digest=token_digest(plain), revoked_at__isnull=True, expires_at__gt=now)
            .order_by()[:1]
        ),
        None,
    )
    if tok is None or not tok.user.is_active:
        return None
    return tok


def user_for_token(plain: str, *, now: dt.datetime | None = None) -> User | None:
    """The active user a bearer token stands for, or None (unknown, expired or revoked)."""
    tok = token_for(plain, now=now)
    return tok.user if tok is not None else None


def _org(org: Organisation) -> dict[str, Any]:
    return {"kind": org.kind, "name": org.name}
