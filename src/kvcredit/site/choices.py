"""Django choices built from the pure lifecycle enums and label tables, so each code and each
label is defined once (``kvcredit.roles``, ``kvcredit.lending.domain.lifecycle`` …).

``text_choices("LoanStatus", LOAN_LABELS)`` is a ``models.TextChoices`` whose members are the
enum's codes (``LoanStatus.ACTIVE == "ACTIVE"``) and whose labels are the table's English
msgids, translated lazily where they are shown (``.label``, ``get_status_display``).
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import Enum
from typing import Any

from django.db import models
from django.utils.translation import gettext_lazy


def code_of(member: Enum) -> str:
    """The stored code of an enum member: a StrEnum's value, else its name (Category)."""
    return member.value if isinstance(member.value, str) else member.name


def text_choices(name: str, labels: Mapping[Any, str], *, module: str) -> Any:
    """A ``TextChoices`` class named ``name`` with one member per entry of ``labels`` (enum
    member -> English msgid), in the table's order."""
    members = [(code_of(m), (code_of(m), gettext_lazy(label))) for m, label in labels.items()]
    return models.TextChoices(name, members, module=module)  # type: ignore[call-overload]


def lazy_choices(labels: Mapping[Any, str]) -> list[tuple[str, Any]]:
    """(code, lazily translated label) pairs from a label table."""
    return [(code_of(m), gettext_lazy(label)) for m, label in labels.items()]
