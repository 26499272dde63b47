"""Who takes a step: the organisation kinds of the programme, and the system itself.

Pure (no Django): the lifecycle tables (``kvcredit.statemachine``) name who may take each step
with these codes, and ``accounts.models.OrgKind`` is built from them, so each code is defined
once. ``SYSTEM`` is the programme acting on its own (the end of day), never a user's kind.
"""

from __future__ import annotations

from enum import StrEnum


def gettext_noop(message: str) -> str:
    """Mark a label for translation (the catalogue's extractor reads this name); the Django
    layer translates it where it is shown."""
    return message


class Role(StrEnum):
    ADMINISTRATOR = "ADMINISTRATOR"
    TRUSTEE = "TRUSTEE"
    DISTRICT = "DISTRICT"
    BANK = "BANK"
    ENTERPRISE = "ENTERPRISE"
    SYSTEM = "SYSTEM"


ROLE_LABELS: dict[Role, str] = {
    Role.ADMINISTRATOR: gettext_noop("programme administrator"),
    Role.TRUSTEE: gettext_noop("fund trustee"),
    Role.DISTRICT: gettext_noop("district"),
    Role.BANK: gettext_noop("cooperating bank"),
    Role.ENTERPRISE: gettext_noop("enterprise"),
    Role.SYSTEM: gettext_noop("the end of day"),
}

# The kinds an organisation (and so a user) can be: every role but the system.
ORGANISATION_KINDS: tuple[Role, ...] = tuple(r for r in Role if r is not Role.SYSTEM)
