"""One way to confirm an irreversible step, for every page that has one.

A form posts its values to the step's URL. Without ``confirmed=yes`` the view asks: it
computes what will happen with the service layer's preview function and renders
``console/_confirm.html`` (the facts, a danger style for destructive steps, the same values
carried in hidden fields, a one-time ``once`` token). With ``confirmed=yes`` the view runs
the step through :func:`once`, which records the token in the same transaction as the step:
a retried or double-clicked POST finds it and does nothing twice.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.contrib import messages
from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _

from kvcredit.api.models import IdempotencyKey
from kvcredit.errors import ServiceError

ONCE_RE = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
NOT_CARRIED = {"csrfmiddlewaretoken", "confirmed", "once"}


@dataclass(frozen=True)
class Question:
    """What the confirmation page says: a title, a sentence, facts (label, value), whether
    the step destroys something, the button's words and where "back" goes."""

    title: str
    what: str
    facts: Sequence[tuple[str, str]] = field(default_factory=tuple)
    danger: bool = False
    button: str = ""
    back: str = "/"


def confirmed(request: HttpRequest) -> bool:
    return request.method == "POST" and request.POST.get("confirmed") == "yes"


def ask(request: HttpRequest, question: Question) -> HttpResponse:
    """The confirmation page, carrying the posted values on to the confirmed POST."""
    hidden = [(k, v) for k in request.POST if k not in NOT_CARRIED for v in request.POST.getlist(k)]
    context = {
        "q": question,
        "hidden": hidden,
        "action": request.get_full_path(),
        "once": new_token(),
    }
    return render(request, "console/_confirm.html", context)


def refused(request: HttpRequest, exc: ServiceError) -> None:
    """The service's refusal as a message (the services word it in the active language)."""
    problems = getattr(exc, "problems", None)
    detail = "; ".join(m for _f, m in problems) if problems else exc.detail
    messages.error(request, _("Refused: %(why)s") % {"why": detail})


def once(request: HttpRequest, run: Callable[[], str], *, fallback: str) -> HttpResponse:
    """Run a confirmed step once per ``once`` token: ``run`` does the step and answers where
    to go next. A refusal is a message and a return to ``fallback``; the token is kept only
    when the step succeeded (one transaction), so a refused step can be retried."""
    token = request.POST.get("once", "")
    if not ONCE_RE.match(token):
        return _run(request, run, fallback)
    key = f"console:{token}"
    user = request.user
    seen = IdempotencyKey.objects.filter(user=user, key=key).first()
    if seen is not None:
        return _again(request, seen)
    try:
        with transaction.atomic():
            response = _run(request, run, fallback, raise_refusal=True)
            IdempotencyKey.objects.create(
                user=user,
                key=key,
                method="POST",
                path=request.path[:300],
                body_hash="",
                status=response.status_code,
                response={"next": response["Location"]},
                created_at=timezone.now(),
            )
    except ServiceError as exc:
        refused(request, exc)
        return redirect(fallback)
    except IntegrityError:  # a concurrent copy of this POST won; ours rolled back
        seen = IdempotencyKey.objects.filter(user=user, key=key).first()
        if seen is None:
            raise
        return _again(request, seen)
    return response


def _again(request: HttpRequest, seen: IdempotencyKey) -> HttpResponse:
    messages.info(request, _("This step was already done; it was not repeated."))
    return redirect(seen.response.get("next", "/"))


def _run(
    request: HttpRequest, run: Callable[[], str], fallback: str, *, raise_refusal: bool = False
) -> HttpResponse:
    try:
        return redirect(run())
    except ServiceError as exc:
        if raise_refusal:
            raise
        refused(request, exc)
        return redirect(fallback)


def yes_no(value: Any) -> str:
    return _("yes") if value else _("no")


def new_token() -> str:
    """A ``once`` token for a form that posts a money step without a confirmation page."""
    return secrets.token_urlsafe(24)
