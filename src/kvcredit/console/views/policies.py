"""The administrator's policies: upload, check (errors by key path), preview, publish."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kvcredit.accounts.models import OrgKind
from kvcredit.console import reads
from kvcredit.console.access import role_required
from kvcredit.console.forms import PolicyForm, PublishForm, add_service_error
from kvcredit.enterprises import policies as policy_services
from kvcredit.enterprises import selectors
from kvcredit.errors import Conflict, InvalidInput, NotFound
from kvcredit.jobs.models import Job
from kvcredit.reporting.policy_preview import preview_policy

ADMIN = OrgKind.ADMINISTRATOR


def _list(
    request: HttpRequest, form: PolicyForm, status: int = 200, errors: object = ()
) -> HttpResponse:
    current = selectors.current_policy()
    context = {
        "form": form,
        "publish_errors": errors,
        "policies": [
            (p, reads.policy_title(p)) for p in selectors.policies(request.user).order_by("-id")
        ],
        "current": current,
        "job": Job.objects.defer("payload", "output").filter(kind="reevaluate").first(),
    }
    return render(request, "console/setup/policies.html", context, status=status)


@role_required(ADMIN)
def policies(request: HttpRequest) -> HttpResponse:
    return _list(request, PolicyForm())


@role_required(ADMIN)
def policy_source(request: HttpRequest, pk: int) -> HttpResponse:
    pol = selectors.policies(request.user).filter(pk=pk).first()
    if pol is None:
        raise NotFound(_("no such policy"))
    context = {"policy": pol, "title": reads.policy_title(pol)}
    return render(request, "console/setup/policy_source.html", context)


@require_POST
@role_required(ADMIN)
def preview(request: HttpRequest) -> HttpResponse:
    """Check an uploaded policy; when valid, show its effect against the current one."""
    form = PolicyForm(request.POST, request.FILES)
    if not form.is_valid():
        return _list(request, form, status=422)
    source = form.cleaned_data["source"]
    result = preview_policy(request.user, source)
    context = {
        "preview": result,
        "publish_form": PublishForm(initial={"source": source}),
        "matrix": result.migration.matrix.rows() if result.migration else [],
    }
    return render(request, "console/setup/policy_preview.html", context)


@require_POST
@role_required(ADMIN)
def publish(request: HttpRequest) -> HttpResponse:
    form = PublishForm(request.POST)
    if form.is_valid():
        try:
            published, job = policy_services.publish_and_queue(
                request.user, source_toml=form.cleaned_data["source"]
            )
        except (InvalidInput, Conflict) as exc:
            add_service_error(form, exc)
        else:
            job.refresh_from_db()
            name = f"{published.policy_id} {published.version}"
            if job.state == Job.State.DONE:
                msg = _("Policy %(policy)s published; %(count)s enterprises re-evaluated.") % {
                    "policy": name,
                    "count": job.done,
                }
            else:
                msg = _(
                    "Policy %(policy)s published; its re-evaluation is job %(job)s: "
                    "the progress shows below."
                ) % {"policy": name, "job": job.pk}
            messages.success(request, msg)
            return redirect("console:policies")
    errors = [*form.non_field_errors(), *form.errors.get("source", [])]
    return _list(request, PolicyForm(), status=422, errors=errors)
