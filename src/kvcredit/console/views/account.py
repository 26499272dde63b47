"""The account lifecycle in the console: one's own password and API tokens (every user);
the administrator resets passwords, deactivates and reactivates users and revokes anyone's
tokens. Every write goes through ``accounts.services`` (audited); deactivating a user and
revoking a token are confirmed first (``console.confirm``)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse, reverse_lazy
from django.utils.decorators import method_decorator
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kvcredit.accounts import services as accounts
from kvcredit.accounts.models import OrgKind, User
from kvcredit.console import confirm
from kvcredit.console.access import EVERY_ROLE, role_required
from kvcredit.console.views.audit import trail
from kvcredit.errors import ServiceError

ADMIN = OrgKind.ADMINISTRATOR


@method_decorator(login_required, name="dispatch")
class PasswordChange(auth_views.PasswordChangeView):
    """Django's own view and form (old password checked, validators applied); the new
    password is set through ``accounts.services.change_password`` (audited)."""

    template_name = "console/tasks/password_change.html"
    success_url = reverse_lazy("console:home")

    def form_valid(self, form: Any) -> HttpResponse:
        try:
            accounts.change_password(
                self.request.user, new_password=form.cleaned_data["new_password1"]
            )
        except ServiceError as exc:
            for _field, message in getattr(exc, "problems", []) or [("", exc.detail)]:
                form.add_error("new_password1", message)
            return self.form_invalid(form)
        update_session_auth_hash(self.request, self.request.user)
        messages.success(self.request, _("Your password was changed."))
        return redirect(self.get_success_url())


class PasswordResetConfirm(auth_views.PasswordResetConfirmView):
    """Django's view of the e-mailed link; the new password is set through
    ``accounts.services.change_password`` (audited, ``by`` e-mail)."""

    def form_valid(self, form: Any) -> HttpResponse:
        from django.contrib.auth.views import INTERNAL_RESET_SESSION_TOKEN
        from django.http import HttpResponseRedirect

        accounts.change_password(
            form.user, new_password=form.cleaned_data["new_password1"], by="email"
        )
        self.request.session.pop(INTERNAL_RESET_SESSION_TOKEN, None)
        return HttpResponseRedirect(self.get_success_url())


def _managed(request: HttpRequest, pk: int) -> User:
    target = User.objects.select_related("organisation").filter(pk=pk).first()
    if target is None or target.username == accounts.SYSTEM_USERNAME:
        raise Http404
    return target


@role_required(ADMIN)
def user_detail(request: HttpRequest, pk: int) -> HttpResponse:
    target = _managed(request, pk)
    context = {
        "target": target,
        "tokens": accounts.tokens_of(request.user).filter(user=target).order_by("-id"),
        "is_self": target.pk == request.user.pk,
        "email_reset": _email_reset(),
        "audit": trail(request.user, "user", target.pk),
    }
    return render(request, "console/tasks/user.html", context)


def _email_reset() -> bool:
    from django.conf import settings

    return bool(getattr(settings, "KVCREDIT_EMAIL_RESET", False))


@require_POST
@role_required(ADMIN)
def user_reset(request: HttpRequest, pk: int) -> HttpResponse:
    """A temporary password, shown once on the answer page (never stored in plain text)."""
    target = _managed(request, pk)
    back = reverse("console:user", args=[pk])
    if not confirm.confirmed(request):
        q = confirm.Question(
            title=_("Reset the password of %(name)s") % {"name": target.username},
            what=_(
                "A new temporary password replaces the user's password; it is shown to you "
                "once. Give it to the user, who should change it at once."
            ),
            button=_("Reset the password"),
            back=back,
        )
        return confirm.ask(request, q)
    try:
        target, temporary = accounts.reset_password(request.user, user_id=pk)
    except ServiceError as exc:
        confirm.refused(request, exc)
        return redirect(back)
    context = {"target": target, "temporary": temporary}
    response = render(request, "console/tasks/user_reset.html", context)
    response["Cache-Control"] = "no-store"
    return response


@require_POST
@role_required(ADMIN)
def user_active(request: HttpRequest, pk: int, state: str) -> HttpResponse:
    """Deactivate (confirmed first: what stops working) or reactivate a user."""
    target = _managed(request, pk)
    back = reverse("console:user", args=[pk])
    if state == "reactivate":

        def run_reactivate() -> str:
            accounts.reactivate_user(request.user, user_id=pk)
            messages.success(request, _("%(name)s may sign in again.") % {"name": target.username})
            return back

        return confirm.once(request, run_reactivate, fallback=back)
    if state != "deactivate":
        raise Http404
    if not confirm.confirmed(request):
        try:
            p = accounts.preview_deactivate(request.user, user_id=pk)
        except ServiceError as exc:
            confirm.refused(request, exc)
            return redirect(back)
        q = confirm.Question(
            title=_("Deactivate %(name)s") % {"name": target.username},
            what=_(
                "The user can no longer sign in; their open sessions stop working and their "
                "API tokens are revoked. An administrator can reactivate the account later; "
                "the revoked tokens stay revoked."
            ),
            facts=[
                (_("User name"), target.username),
                (_("Organisation"), target.organisation.name if target.organisation else "—"),
                (_("API tokens revoked"), str(p["tokens"])),
            ],
            danger=True,
            button=_("Deactivate the user"),
            back=back,
        )
        return confirm.ask(request, q)

    def run() -> str:
        accounts.deactivate_user(request.user, user_id=pk)
        messages.success(request, _("%(name)s was deactivated.") % {"name": target.username})
        return back

    return confirm.once(request, run, fallback=back)


@role_required(*EVERY_ROLE)
def tokens(request: HttpRequest) -> HttpResponse:
    """One's own tokens (the administrator: everyone's); a new one shown once."""
    user = request.user
    plain = None
    if request.method == "POST":
        name = (request.POST.get("name") or "").strip()[:100]
        if not name:
            messages.error(request, _("Name the token (what it is for)."))
        else:
            try:
                _tok, plain = accounts.issue_token(user, name=name)
            except ServiceError as exc:
                confirm.refused(request, exc)
    rows = accounts.tokens_of(user).order_by("-id")[:200]
    context = {"tokens": rows, "plain": plain, "admin": user.kind == ADMIN}
    response = render(request, "console/tasks/tokens.html", context)
    if plain:
        response["Cache-Control"] = "no-store"
    return response


@require_POST
@role_required(*EVERY_ROLE)
def token_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    if not accounts.tokens_of(request.user).filter(pk=pk).exists():
        raise Http404
    back = request.POST.get("back") or ""
    if not back.startswith("/") or not url_has_allowed_host_and_scheme(back, allowed_hosts=None):
        back = reverse("console:tokens")
    if not confirm.confirmed(request):
        try:
            p = accounts.preview_revoke(request.user, token_id=pk)
        except ServiceError as exc:
            confirm.refused(request, exc)
            return redirect(back)
        tok = p["token"]
        q = confirm.Question(
            title=_("Revoke the token %(prefix)s…") % {"prefix": tok.prefix},
            what=_(
                "Programs using this token will be refused from now on; so will those using "
                "the tokens created with it."
            ),
            facts=[
                (_("Token"), f"{tok.prefix}… ({tok.name})"),
                (_("User name"), tok.user.username),
                (_("Tokens created with it, also revoked"), str(p["children"])),
            ],
            danger=True,
            button=_("Revoke the token"),
            back=back,
        )
        return confirm.ask(request, q)

    def run() -> str:
        accounts.revoke_any_token(request.user, token_id=pk)
        messages.success(request, _("The token was revoked."))
        return back

    return confirm.once(request, run, fallback=back)
