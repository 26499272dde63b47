"""The admin site: a read-only window on the records, for the programme administrator only.

Writes go through the services (permission check, transaction, audit record), so the admin
offers no add, change or delete.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest


def is_administrator(user: Any) -> bool:
    org = getattr(user, "organisation", None)
    return bool(user.is_active and org is not None and org.kind == "ADMINISTRATOR")


class KvcreditAdminSite(admin.AdminSite):
    site_header = "kvcredit"
    site_title = "kvcredit"

    def has_permission(self, request: HttpRequest) -> bool:
        return is_administrator(request.user)


class ReadOnlyAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return is_administrator(request.user)

    def has_module_permission(self, request: HttpRequest) -> bool:
        return is_administrator(request.user)

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
