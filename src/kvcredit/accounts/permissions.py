"""The one place where a role is checked against what a use case allows."""

from __future__ import annotations

from typing import Any

from kvcredit.accounts.models import PROGRAMME_WIDE, OrgKind
from kvcredit.errors import NotPermitted


def kind_of(user: Any) -> str | None:
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return None
    org = getattr(user, "organisation", None)
    return org.kind if org is not None else None


def require(user: Any, *kinds: OrgKind, action: str) -> str:
    """Return the user's organisation kind, or raise NotPermitted naming the action."""
    kind = kind_of(user)
    if kind is None or kind not in kinds:
        raise NotPermitted(f"your role may not {action}")
    return kind


def sees_everything(user: Any) -> bool:
    return kind_of(user) in PROGRAMME_WIDE
