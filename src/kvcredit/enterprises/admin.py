from __future__ import annotations

from django.contrib import admin

from kvcredit.enterprises.models import (
    Bank,
    BankAdmission,
    CreditLine,
    DataSubmission,
    District,
    Enterprise,
    Evaluation,
    PublishedPolicy,
)
from kvcredit.site.admin import ReadOnlyAdmin


@admin.register(District)
class DistrictAdmin(ReadOnlyAdmin):
    list_display = ("code", "name", "participating_since")


@admin.register(Bank)
class BankAdmin(ReadOnlyAdmin):
    list_display = ("code", "name")


@admin.register(BankAdmission)
class BankAdmissionAdmin(ReadOnlyAdmin):
    list_display = ("bank", "district", "admitted_at")


@admin.register(PublishedPolicy)
class PublishedPolicyAdmin(ReadOnlyAdmin):
    list_display = ("id", "policy_id", "version", "content_hash", "published_at", "reevaluated")


@admin.register(Enterprise)
class EnterpriseAdmin(ReadOnlyAdmin):
    list_display = ("uscc", "name", "district", "registered_at")
    search_fields = ("uscc", "name")


@admin.register(DataSubmission)
class DataSubmissionAdmin(ReadOnlyAdmin):
    list_display = ("id", "enterprise", "year", "version", "submitted_at")


@admin.register(Evaluation)
class EvaluationAdmin(ReadOnlyAdmin):
    list_display = ("id", "enterprise", "policy_code", "policy_version", "grade", "limit_fen")


@admin.register(CreditLine)
class CreditLineAdmin(ReadOnlyAdmin):
    list_display = ("enterprise", "limit_fen", "reserved_fen", "used_fen", "valid_until")
