"""Documents of an application or a claim: the list of every version, upload (a new document or
the next version of one), download. Scoped like the object (``documents.selectors``)."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from kvcredit.accounts.permissions import kind_of
from kvcredit.console.access import EVERY_ROLE, role_required
from kvcredit.console.forms import DocumentForm, add_service_error
from kvcredit.documents import selectors, services
from kvcredit.documents.domain.kinds import ObjectType, kinds_for
from kvcredit.documents.http import file_response
from kvcredit.errors import ServiceError, UploadTooLarge

OBJECTS = {"application": ObjectType.APPLICATION, "claim": ObjectType.CLAIM}


def _page(request: HttpRequest, obj: ObjectType, pk: int) -> HttpResponse:
    owner = selectors.owner(request.user, obj, pk)  # NotFound: 404
    docs = list(selectors.documents(request.user, obj, pk))
    may_attach = kind_of(request.user) in services.WRITERS[obj]
    form = DocumentForm(
        request.POST or None,
        request.FILES or None,
        kinds=kinds_for(obj),
        documents=docs,
    )
    status = 200
    if request.method == "POST":
        if not may_attach:
            return HttpResponse(status=403)
        if form.is_valid():
            upload = form.cleaned_data["file"]
            limit = services.max_bytes()
            try:
                if (upload.size or 0) > limit:
                    raise services.too_large(upload.name or "", limit)
                v = services.attach(
                    request.user,
                    obj=obj,
                    obj_id=pk,
                    data=upload.read(limit + 1),
                    filename=upload.name or "",
                    kind=form.cleaned_data["kind"],
                    title=form.cleaned_data["title"],
                    document_id=form.document_id(),
                )
            except UploadTooLarge as exc:
                form.add_error("file", str(exc))
                status = 413
            except ServiceError as exc:
                add_service_error(form, exc)
                status = 422
            else:
                messages.success(
                    request,
                    _("%(name)s attached as version %(n)s.") % {"name": v.filename, "n": v.version},
                )
                return redirect(request.path)
        else:
            status = 422
    context = {
        "object": owner,
        "object_kind": "application" if obj == ObjectType.APPLICATION else "claim",
        "documents": docs,
        "form": form if may_attach else None,
    }
    return render(request, "console/documents/documents.html", context, status=status)


@role_required(*EVERY_ROLE)
def application_documents(request: HttpRequest, pk: int) -> HttpResponse:
    return _page(request, ObjectType.APPLICATION, pk)


@role_required(*EVERY_ROLE)
def claim_documents(request: HttpRequest, pk: int) -> HttpResponse:
    return _page(request, ObjectType.CLAIM, pk)


@role_required(*EVERY_ROLE)
def download(request: HttpRequest, what: str, pk: int, doc: int, version: int) -> HttpResponse:
    v = selectors.version(request.user, OBJECTS[what], pk, doc, version)  # NotFound: 404
    return file_response(v)
