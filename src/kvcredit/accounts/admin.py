from __future__ import annotations

from django.contrib import admin

from kvcredit.accounts.models import ApiToken, Organisation, User
from kvcredit.site.admin import ReadOnlyAdmin


@admin.register(Organisation)
class OrganisationAdmin(ReadOnlyAdmin):
    list_display = ("id", "kind", "name")
    list_filter = ("kind",)


@admin.register(User)
class UserAdmin(ReadOnlyAdmin):
    list_display = ("id", "username", "organisation", "is_active", "last_login")
    exclude = ("password",)


@admin.register(ApiToken)
class ApiTokenAdmin(ReadOnlyAdmin):
    list_display = ("id", "user", "name", "prefix", "expires_at", "revoked_at")
    exclude = ("digest",)
