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
    if not ApiToken.objects.filter(pk=token_id, user=actor).exists():
        raise NotFound(_("no such token"))
    return _revoke_tree(actor, token_id, now=now)


def _revoke_tree(actor: User, token_id: int, *, now: dt.datetime | None = None) -> ApiToken:
    now = now or timezone.now()
    with transaction.atomic():
        tok = ApiToken.objects.select_for_update().get(pk=token_id)
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


# -- the account lifecycle: password change and reset, deactivation, tokens ------------------
TEMPORARY_PASSWORD_BYTES = 12


def _other_user(actor: User, user_id: int, action: str) -> User:
    """A user the administrator may manage: any but the system user and the actor itself."""
    require(actor, OrgKind.ADMINISTRATOR, action=action)
    target = User.objects.select_for_update().filter(pk=user_id).first()
    if target is None or target.username == SYSTEM_USERNAME:
        raise NotFound(_("no such user"), field="user_id")
    if target.pk == actor.pk:
        raise Conflict(_("you cannot do this to your own account"), field="user_id")
    return target


def change_password(actor: User, *, new_password: str, by: str = "self") -> User:
    """The user sets a new password of their own (the old one, or the e-mailed link's token,
    was checked by Django's form: ``by`` says which, "self" or "email")."""
    try:
        validate_password(new_password, actor)
    except ValidationError as exc:
        raise InvalidInput([("new_password1", m) for m in exc.messages]) from None
    with transaction.atomic():
        actor.set_password(new_password)
        actor.save(update_fields=["password"])
        audit.record(actor, "USER_PASSWORD_CHANGE", "user", actor.pk, after={"by": by})
    return actor


def reset_password(actor: User, *, user_id: int) -> tuple[User, str]:
    """The administrator gives a user a temporary password, returned once and never stored
    in plain text; the user's API tokens keep working (a leaver is deactivated instead)."""
    with transaction.atomic():
        target = _other_user(actor, user_id, gettext_noop("reset passwords"))
        temporary = secrets.token_urlsafe(TEMPORARY_PASSWORD_BYTES)
        target.set_password(temporary)
        target.save(update_fields=["password"])
        audit.record(actor, "USER_PASSWORD_RESET", "user", target.pk, after={"by": "admin"})
    return target, temporary


def _live_tokens(user: User) -> Any:
    return ApiToken.objects.filter(user=user, revoked_at__isnull=True)


def preview_deactivate(actor: User, *, user_id: int) -> dict[str, Any]:
    """What deactivating ``user_id`` will do: the user, the tokens revoked with it."""
    require(actor, OrgKind.ADMINISTRATOR, action=gettext_noop("deactivate users"))
    target = User.objects.filter(pk=user_id).exclude(username=SYSTEM_USERNAME).first()
    if target is None:
        raise NotFound(_("no such user"), field="user_id")
    if target.pk == actor.pk:
        raise Conflict(_("you cannot do this to your own account"), field="user_id")
    if not target.is_active:
        raise Conflict(_("this user is already deactivated"), field="user_id")
    return {"user": target, "tokens": _live_tokens(target).count()}


def deactivate_user(actor: User, *, user_id: int, now: dt.datetime | None = None) -> User:
    """A leaver: the user can no longer sign in, their sessions stop working (Django refuses
    an inactive user's session) and every API token of theirs is revoked."""
    now = now or timezone.now()
    with transaction.atomic():
        target = _other_user(actor, user_id, gettext_noop("deactivate users"))
        if not target.is_active:
            raise Conflict(_("this user is already deactivated"), field="user_id")
        target.is_active = False
        target.save(update_fields=["is_active"])
        tokens = list(_live_tokens(target).select_for_update().values_list("pk", flat=True))
        ApiToken.objects.filter(pk__in=tokens).update(revoked_at=now)
        after = {"is_active": False, "tokens_revoked": len(tokens)}
        entries = [audit.Entry("USER_DEACTIVATE", "user", target.pk, after=after)] + [
            audit.Entry("TOKEN_REVOKE", "api_token", t, after={"revoked_at": now}) for t in tokens
        ]
        audit.record_many(actor, entries, now=now)
    return target


def reactivate_user(actor: User, *, user_id: int) -> User:
    """The user may sign in again (their revoked tokens stay revoked)."""
    with transaction.atomic():
        target = _other_user(actor, user_id, gettext_noop("reactivate users"))
        if target.is_active:
            raise Conflict(_("this user is active"), field="user_id")
        target.is_active = True
        target.save(update_fields=["is_active"])
        audit.record(actor, "USER_REACTIVATE", "user", target.pk, after={"is_active": True})
    return target


def tokens_of(actor: User) -> Any:
    """The tokens the actor may see: their own; the administrator's, everyone's."""
    rows = ApiToken.objects.select_related("user")
    if actor.kind == OrgKind.ADMINISTRATOR:
        return rows
    return rows.filter(user=actor)


def preview_revoke(actor: User, *, token_id: int) -> dict[str, Any]:
    """What revoking a token will do: the token and the live tokens created with it."""
    tok = tokens_of(actor).filter(pk=token_id).first()
    if tok is None:
        raise NotFound(_("no such token"), field="token_id")
    if tok.revoked_at is not None:
        raise Conflict(_("this token is already revoked"), field="token_id")
    count, level = 0, [tok.pk]
    while level:
        level = list(
            ApiToken.objects.filter(created_by_token__in=level).values_list("pk", flat=True)
        )
        count += len(level)
    return {"token": tok, "children": count}


def revoke_any_token(actor: User, *, token_id: int, now: dt.datetime | None = None) -> ApiToken:
    """Revoke a token the actor may see (their own, or as administrator anyone's), and every
    token created with it."""
    tok = tokens_of(actor).filter(pk=token_id).first()
    if tok is None:
        raise NotFound(_("no such token"), field="token_id")
    if tok.revoked_at is not None:
        raise Conflict(_("this token is already revoked"), field="token_id")
    return _revoke_tree(actor, tok.pk, now=now)
