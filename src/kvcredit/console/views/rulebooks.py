"""The administrator's rulebooks: the published ones (the one in force today marked), one
shown rule by rule, and upload, check (errors by key path), preview and publish with
confirmation. Administrators only (``role_required``)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext, gettext_lazy
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kvcredit import clock
from kvcredit.accounts.models import OrgKind
from kvcredit.console.access import role_required
from kvcredit.console.forms import MAX_POLICY_BYTES, add_service_error
from kvcredit.errors import Conflict, InvalidInput, KvcreditError, NotFound, NotPermitted
from kvcredit.rulebook import services
from kvcredit.rulebook.domain import Rulebook, flatten, rule_text
from kvcredit.rulebook.models import PublishedRulebook

ADMIN = OrgKind.ADMINISTRATOR


class RulebookForm(forms.Form):
    file = forms.FileField(label=gettext_lazy("Rulebook file (TOML)"), required=False)
    source = forms.CharField(
        label=gettext_lazy("or paste the rulebook"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 12, "spellcheck": "false"}),
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        upload = data.get("file")
        if upload is not None:
            if upload.size > MAX_POLICY_BYTES:
                raise forms.ValidationError(gettext("The file is larger than 1 MB."))
            try:
                data["source"] = upload.read().decode("utf-8")
            except UnicodeDecodeError:
                raise forms.ValidationError(gettext("The file is not UTF-8 text.")) from None
        if not (data.get("source") or "").strip():
            raise forms.ValidationError(gettext("Choose a rulebook file or paste its text."))
        return data


class ConfirmForm(forms.Form):
    source = forms.CharField(widget=forms.HiddenInput, max_length=MAX_POLICY_BYTES)
    confirm = forms.BooleanField(
        label=gettext_lazy("I have read what changes; publish this rulebook"), required=True
    )


def _in_force() -> PublishedRulebook | None:
    try:
        return services.in_force(clock.today())
    except KvcreditError:
        return None


def _list(
    request: HttpRequest, form: RulebookForm, status: int = 200, errors: object = ()
) -> HttpResponse:
    context = {
        "form": form,
        "publish_errors": errors,
        "rulebooks": PublishedRulebook.objects.select_related("published_by").order_by(
            "-effective"
        ),
        "current": _in_force(),
        "default": services.shipped_default(),
    }
    return render(request, "console/setup/rulebooks.html", context, status=status)


@role_required(ADMIN)
def rulebooks(request: HttpRequest) -> HttpResponse:
    return _list(request, RulebookForm())


def rules_rows(rb: Rulebook) -> list[tuple[str, str, list[tuple[str, Any, bool]]]]:
    """(section, its title, [(key path, value, ours)]) for the rule-by-rule view."""
    titles = {
        "fund": _("Fund rules"),
        "loan": _("Loan rules"),
        "subsidy": _("Interest subsidies"),
        "deferral": _("Deferrals"),
    }
    data = rb.dump()
    return [
        (name, title, [(p, rule_text(v), rb.is_ours(p)) for p, v in flatten(data[name], name)])
        for name, title in titles.items()
        if data[name]
    ]


@role_required(ADMIN)
def rulebook(request: HttpRequest, pk: int) -> HttpResponse:
    published = PublishedRulebook.objects.filter(pk=pk).first()
    if published is None:
        raise NotFound(_("no such rulebook"))
    rb = services.parsed(published)
    context = {
        "published": published,
        "rb": rb,
        "sections": rules_rows(rb),
        "current": _in_force(),
    }
    return render(request, "console/setup/rulebook.html", context)


@require_POST
@role_required(ADMIN)
def preview(request: HttpRequest) -> HttpResponse:
    """Check an uploaded rulebook; when valid, show what it changes and ask to confirm."""
    form = RulebookForm(request.POST, request.FILES)
    if not form.is_valid():
        return _list(request, form, status=422)
    source = form.cleaned_data["source"]
    try:
        p = services.preview(source)
    except InvalidInput as exc:
        context = {"problems": exc.problems}
        return render(request, "console/setup/rulebook_preview.html", context, status=422)
    except NotFound as exc:
        return _list(request, form, status=422, errors=[exc.detail])
    context = {
        "preview": p,
        "changes": [(path, rule_text(a), rule_text(b)) for path, a, b in p.changes],
        "rb": p.rulebook,
        "sections": rules_rows(p.rulebook),
        "confirm_form": ConfirmForm(initial={"source": source}),
    }
    return render(request, "console/setup/rulebook_preview.html", context)


@require_POST
@role_required(ADMIN)
def publish(request: HttpRequest) -> HttpResponse:
    form = ConfirmForm(request.POST)
    if form.is_valid():
        try:
            published = services.publish(form.cleaned_data["source"], request.user)
        except (InvalidInput, Conflict, NotPermitted) as exc:
            add_service_error(form, exc)
        else:
            messages.success(
                request,
                _("Rulebook %(rulebook)s published; in force from %(date)s.")
                % {
                    "rulebook": f"{published.rulebook_id} {published.version}",
                    "date": published.effective.isoformat(),
                },
            )
            return redirect("console:rulebooks")
    errors = [*form.non_field_errors(), *form.errors.get("source", [])]
    errors += form.errors.get("confirm", [])
    return _list(request, RulebookForm(), status=422, errors=errors)
