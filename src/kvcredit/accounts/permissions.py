"""The one place where a role is checked against what a use case allows."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _

from kvcredit.accounts.models import PROGRAMME_WIDE, OrgKind
from kvcredit.errors import NotPermitted


def kind_of(user: Any) -> str | None:
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return None
    org = getattr(user, "organisation", None)
    return org.kind if org is not None else None


def not_permitted(action: str) -> NotPermitted:
    """The refusal naming the action, in the active language: "your role may not <action>".

    ``action`` is an English phrase marked for translation where it is written, with
    ``gettext_noop("record contributions")``; it is translated here, when the refusal is made.
    """
    return NotPermitted(_("your role may not %(action)s") % {"action": _(action)})


def require(user: Any, *kinds: OrgKind, action: str) -> str:
    """Return the user's organisation kind, or raise NotPermitted naming the action
    (``action`` marked with ``gettext_noop``, see ``not_permitted``)."""
    kind = kind_of(user)
    if kind is None or kind not in kinds:
        raise not_permitted(action)
    return kind


def sees_everything(user: Any) -> bool:
    return kind_of(user) in PROGRAMME_WIDE
