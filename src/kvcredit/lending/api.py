"""REST resource for the rate table."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from django.http import HttpRequest
from ninja import Header, Query, Router, Schema
from pydantic import StringConstraints

from kvcredit.api.common import PageIn, filtered, idempotent, page, page_schema
from kvcredit.api.problems import Problem
from kvcredit.lending import selectors, services
from kvcredit.lending.domain import rates
from kvcredit.lending.models import Rate

router = Router(tags=["rates"])
ERRORS: dict[int, Any] = {c: Problem for c in (401, 403, 404, 409, 422)}
RateType = Annotated[str, StringConstraints(min_length=1, max_length=40, pattern=r"^[A-Z0-9_]+$")]
Percent = Annotated[str, StringConstraints(pattern=r"^[0-9]{1,3}(\.[0-9]{1,4})?$")]
Note = Annotated[str, StringConstraints(max_length=300, pattern=r"^[^\x00-\x1f\x7f]*$")]


class RateIn(Schema):
    rate_type: RateType
    effective_date: dt.date
    annual_rate_percent: Percent
    note: Note = ""


class RateOut(Schema):
    id: int
    rate_type: str
    effective_date: dt.date
    annual_rate_percent: str
    note: str

    @staticmethod
    def of(r: Rate) -> dict[str, Any]:
        pct = format(rates.ppm_to_percent(r.annual_rate_ppm), "f")
        return {
            "id": r.id,
            "rate_type": r.rate_type,
            "effective_date": r.effective_date.isoformat(),
            "annual_rate_percent": pct,
            "note": r.note,
        }


class RateFilter(Schema):
    rate_type: RateType | None = None
    in_force_on: dt.date | None = None


@router.get("/rates", response={200: page_schema(RateOut), **ERRORS})
def list_rates(request: HttpRequest, p: Query[PageIn], f: Query[RateFilter]) -> Any:
    """All rows, or with ``in_force_on`` the row of each type in force on that date."""
    qs = filtered(selectors.rates(request.user), f, in_force_on=None)
    if f.in_force_on is not None:
        ids = [
            r.id
            for t in qs.values_list("rate_type", flat=True).distinct()
            if (r := selectors.rate_in_force(request.user, t, f.in_force_on)) is not None
        ]
        qs = qs.filter(id__in=ids)
    return page(qs, p, RateOut.of)


@router.post("/rates", response={201: RateOut, **ERRORS})
def add_rate(
    request: HttpRequest,
    payload: RateIn,
    idempotency_key: str | None = Header(None, alias="Idempotency-Key", max_length=100),
) -> Any:
    def run() -> tuple[int, Any]:
        r = services.add_rate(request.user, **payload.model_dump())
        return 201, RateOut.of(r)

    return idempotent(request, idempotency_key, run)
