"""Who may open a page: signed in, and of one of the page's roles (403 otherwise).

Which objects a page shows is the selectors' business (an object outside the user's scope is
a 404); this only gates whole pages by role, in one place.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse

from kvcredit.accounts.models import OrgKind
from kvcredit.accounts.permissions import kind_of
from kvcredit.errors import NotFound, NotPermitted

View = Callable[..., HttpResponse]
EVERY_ROLE = tuple(OrgKind)


def role_required(*kinds: OrgKind) -> Callable[[View], View]:
    """Login required, then the user's organisation must be one of ``kinds``."""

    def decorate(view: View) -> View:
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if kind_of(request.user) not in kinds:
                raise PermissionDenied
            try:
                return view(request, *args, **kwargs)
            except NotFound as exc:
                raise Http404(str(exc)) from None
            except NotPermitted:
                raise PermissionDenied from None

        return login_required(wrapped)

    return decorate
