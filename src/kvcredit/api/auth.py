"""API authentication: bearer tokens for machine clients, the Django session for browsers."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja.security import HttpBearer, SessionAuth

from kvcredit.accounts.services import token_for


class TokenAuth(HttpBearer):
    """``Authorization: Bearer kvc_…``: one indexed lookup of the token's SHA-256 digest."""

    def authenticate(self, request: HttpRequest, token: str) -> Any:
        tok = token_for(token)
        if tok is None:
            return None
        request.user = tok.user
        request.api_token = tok  # type: ignore[attr-defined]  # the maker of tokens it issues
        return tok.user


class ActiveSessionAuth(SessionAuth):
    """The Django session (CSRF-checked on writes) of an active user with an organisation."""

    def authenticate(self, request: HttpRequest, key: str | None) -> Any:
        user = request.user
        if user.is_authenticated and user.is_active:
            return user
        return None


AUTH = [TokenAuth(), ActiveSessionAuth()]
