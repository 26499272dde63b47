"""The administrator's programme set-up: districts, banks and admissions, users, rates,
loan products."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kvcredit.accounts import services as accounts
from kvcredit.accounts.models import OrgKind
from kvcredit.console import reads
from kvcredit.console.access import role_required
from kvcredit.console.forms import (
    AdmissionForm,
    BankForm,
    DistrictForm,
    ProductForm,
    RateForm,
    UserForm,
    add_service_error,
)
from kvcredit.enterprises import selectors, services
from kvcredit.errors import Conflict, InvalidInput, NotFound
from kvcredit.lending import selectors as lending_selectors
from kvcredit.lending import services as lending

ADMIN = OrgKind.ADMINISTRATOR
USERS_PER_PAGE = 50
REFUSALS = (InvalidInput, Conflict, NotFound)


def _submitted(request: HttpRequest, form: Any, action: Any, done: str, to: str) -> Any:
    """Run ``action(cleaned_data)`` for a valid form; a refusal is shown on the form."""
    if not form.is_valid():
        return None
    try:
        action(form.cleaned_data)
    except REFUSALS as exc:
        add_service_error(form, exc)
        return None
    messages.success(request, done)
    return redirect(to)


@role_required(ADMIN)
def districts(request: HttpRequest) -> HttpResponse:
    form = DistrictForm(request.POST or None)
    if request.method == "POST":
        done = _submitted(
            request,
            form,
            lambda d: services.create_district(request.user, **d),
            _("The district was added."),
            "console:districts",
        )
        if done:
            return done
    rows = selectors.districts(request.user)
    return render(request, "console/setup/districts.html", {"form": form, "districts": rows})


@role_required(ADMIN)
def banks(request: HttpRequest) -> HttpResponse:
    user = request.user
    all_banks, all_districts = selectors.banks(user), selectors.districts(user)
    post = request.POST if request.method == "POST" else None
    bank_form = BankForm(post if post and "add_bank" in post else None)
    admit_form = AdmissionForm(
        post if post and "admit" in post else None, banks=all_banks, districts=all_districts
    )
    if post and "add_bank" in post:
        done = _submitted(
            request,
            bank_form,
            lambda d: services.create_bank(user, code=d["code"], name=d["name"]),
            _("The bank was added."),
            "console:banks",
        )
        if done:
            return done
    if post and "admit" in post:
        done = _submitted(
            request,
            admit_form,
            lambda d: services.admit_bank(user, bank_id=d["bank"].pk, district_id=d["district"].pk),
            _("The bank was admitted to the district."),
            "console:banks",
        )
        if done:
            return done
    context = {"banks": all_banks, "bank_form": bank_form, "admit_form": admit_form}
    return render(request, "console/setup/banks.html", context)


@role_required(ADMIN)
def users(request: HttpRequest) -> HttpResponse:
    user = request.user
    form = UserForm(request.POST or None, organisations=reads.organisations(user))
    if request.method == "POST":
        done = _submitted(
            request,
            form,
            lambda d: accounts.add_user(
                user,
                username=d["username"],
                password=d["password"],
                organisation=d["organisation"],
                email=d["email"],
            ),
            _("The user was added."),
            "console:users",
        )
        if done:
            return done
    # The choice lists the programme's organisations, not its (hundreds of thousands of)
    # enterprises: a POST is still validated against every organisation.
    field: Any = form.fields["organisation"]
    field.queryset = reads.organisations(user).exclude(kind=OrgKind.ENTERPRISE)
    field.help_text = _(
        "Enterprises are not listed: an enterprise's users are added with kvcredit user add."
    )
    page = Paginator(reads.users(user), USERS_PER_PAGE).get_page(request.GET.get("page"))
    return render(request, "console/setup/users.html", {"form": form, "page": page})


@role_required(ADMIN)
def rates(request: HttpRequest) -> HttpResponse:
    form = RateForm(request.POST or None)
    if request.method == "POST":
        done = _submitted(
            request,
            form,
            lambda d: lending.add_rate(request.user, **d),
            _("The rate was added."),
            "console:rates",
        )
        if done:
            return done
    rows = lending_selectors.rates(request.user).order_by("rate_type", "-effective_date")
    return render(request, "console/setup/rates.html", {"form": form, "rates": rows})


@role_required(ADMIN)
def products(request: HttpRequest) -> HttpResponse:
    """The loan products with their terms, and the form to add one."""
    form = ProductForm(request.POST or None)
    if request.method == "POST":
        done = _submitted(
            request,
            form,
            lambda d: lending.create_product(request.user, code=d["code"], **form.terms()),
            _("The product was added."),
            "console:products",
        )
        if done:
            return done
    rows = lending_selectors.products(request.user)
    return render(request, "console/setup/products.html", {"form": form, "products": rows})


def _product(request: HttpRequest, pk: int) -> Any:
    product = lending_selectors.products(request.user).filter(pk=pk).first()
    if product is None:
        raise Http404
    return product


@role_required(ADMIN)
def product(request: HttpRequest, pk: int) -> HttpResponse:
    """Change a product's terms (its code stays). Loans already made keep their own."""
    p = _product(request, pk)
    form = ProductForm(request.POST or None, initial=ProductForm.initial_from(p), editing=True)
    if request.method == "POST":
        done = _submitted(
            request,
            form,
            lambda d: lending.update_product(request.user, product_id=p.pk, **form.terms()),
            _("The product's terms were saved."),
            "console:products",
        )
        if done:
            return done
    return render(request, "console/setup/product.html", {"form": form, "product": p})


@require_POST
@role_required(ADMIN)
def product_active(request: HttpRequest, pk: int) -> HttpResponse:
    """Deactivate (``active=0``) or reactivate (``active=1``) a product: a deactivated product
    takes no new applications; applications and loans made with it go on."""
    p = _product(request, pk)
    wanted = request.POST.get("active")
    if wanted not in ("0", "1"):
        messages.error(request, _("Choose to deactivate or to reactivate the product."))
        return redirect("console:products")
    try:
        lending.update_product(request.user, product_id=p.pk, active=wanted == "1")
    except REFUSALS as exc:
        problems = getattr(exc, "problems", None)
        why = "; ".join(m for _f, m in problems) if problems else exc.detail
        messages.error(request, _("Refused: %(why)s") % {"why": why})
        return redirect("console:products")
    if wanted == "1":
        messages.success(request, _("The product %(code)s is offered again.") % {"code": p.code})
    else:
        messages.success(
            request,
            _("The product %(code)s was deactivated: enterprises can no longer choose it.")
            % {"code": p.code},
        )
    return redirect("console:products")
