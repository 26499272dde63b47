"""REST resources for the signed-in user and their API tokens."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from django.http import HttpRequest
from ninja import Field, Path, Router, Schema, Status

from kvcredit.accounts import selectors, services
from kvcredit.accounts.models import ApiToken
from kvcredit.api.common import Id, ShortText
from kvcredit.api.problems import Problem

router = Router(tags=["accounts"])
ERRORS: dict[int, Any] = {c: Problem for c in (401, 403, 404, 409, 422)}


class MeOut(Schema):
    id: int
    username: str
    organisation_id: int | None
    organisation_name: str | None
    role: str | None


@router.get("/me", response={200: MeOut, **ERRORS})
def me(request: HttpRequest) -> Any:
    u: Any = request.user
    org = u.organisation
    return {
        "id": u.id,
        "username": u.username,
        "organisation_id": org.id if org else None,
        "organisation_name": org.name if org else None,
        "role": org.kind if org else None,
    }


class TokenIn(Schema):
    name: ShortText
    # default KVCREDIT_TOKEN_DAYS; never beyond KVCREDIT_TOKEN_MAX_DAYS nor the maker's expiry
    days: Annotated[int, Field(ge=1, le=366)] | None = None


class TokenOut(Schema):
    id: int
    name: str
    prefix: str
    created_at: dt.datetime
    expires_at: dt.datetime
    revoked_at: dt.datetime | None

    @staticmethod
    def of(t: ApiToken) -> dict[str, Any]:
        return TokenOut.from_orm(t).model_dump(mode="json")


class NewTokenOut(TokenOut):
    token: str = Field(description="the bearer token; shown once, stored only as a digest")


@router.get("/tokens", response={200: list[TokenOut], **ERRORS})
def list_tokens(request: HttpRequest) -> Any:
    return [TokenOut.of(t) for t in selectors.tokens_of(request.user)]  # type: ignore[arg-type]


@router.post("/tokens", response={201: NewTokenOut, **ERRORS})
def issue_token(request: HttpRequest, payload: TokenIn) -> Any:
    tok, plain = services.issue_token(
        request.user,  # type: ignore[arg-type]
        name=payload.name,
        days=payload.days,
        parent=getattr(request, "api_token", None),  # the bearer token of this request, if any
    )
    return Status(201, {**TokenOut.of(tok), "token": plain})


@router.post("/tokens/{token_id}/revoke", response={200: TokenOut, **ERRORS})
def revoke_token(request: HttpRequest, token_id: Path[Id]) -> Any:
    return TokenOut.of(services.revoke_token(request.user, token_id))  # type: ignore[arg-type]
