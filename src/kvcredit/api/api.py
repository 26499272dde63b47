"""The NinjaAPI under /api/v1/: every app's router, token and session auth, problem+json."""

from __future__ import annotations

from ninja import NinjaAPI

from kvcredit.accounts.api import router as accounts_router
from kvcredit.api import problems
from kvcredit.api.auth import AUTH
from kvcredit.enterprises.api import router as enterprises_router
from kvcredit.enterprises.api_setup import router as setup_router
from kvcredit.lending.api import router as rates_router

api = NinjaAPI(
    title="kvcredit",
    version="1",
    description="Knowledge-value credit: programme set-up, enterprise registry, evaluations, "
    "credit lines. Authenticate with `Authorization: Bearer <token>` or a session.",
    auth=AUTH,
    urls_namespace="api-v1",
)
problems.install(api)
api.add_router("", accounts_router)
api.add_router("", setup_router)
api.add_router("", enterprises_router)
api.add_router("", rates_router)
api.add_router("", "kvcredit.fund.api.router")
api.add_router("", "kvcredit.lending.api_loans.router")
api.add_router("", "kvcredit.lending.api_deferrals.router")
api.add_router("", "kvcredit.documents.api.router")
api.add_router("", "kvcredit.jobs.api.router")
