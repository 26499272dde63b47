"""The Content-Security-Policy header on every response (Django 5.2 has none of its own).

The console's pages load their scripts from this site only (no inline script, no handler
attribute: ``tests/e2e/test_attacks.py`` holds the templates to that), so a script injected into
a page through any text shown back is not run. Styles allow 'unsafe-inline' (the charts'
library writes style attributes); images allow data: URIs (the charts' downloads). A response
that already carries the header keeps its own.
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data: blob:",
        "font-src 'self' data:",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)


class ContentSecurityPolicyMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response.headers.setdefault("Content-Security-Policy", POLICY)
        return response
