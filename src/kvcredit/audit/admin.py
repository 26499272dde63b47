from __future__ import annotations

from django.contrib import admin

from kvcredit.audit.models import AuditRecord
from kvcredit.site.admin import ReadOnlyAdmin


@admin.register(AuditRecord)
class AuditRecordAdmin(ReadOnlyAdmin):
    list_display = ("id", "at", "actor_username", "action", "object_type", "object_id")
    list_filter = ("action", "object_type")
