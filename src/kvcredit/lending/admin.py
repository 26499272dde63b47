from __future__ import annotations

from django.contrib import admin

from kvcredit.lending.models import Rate
from kvcredit.site.admin import ReadOnlyAdmin


@admin.register(Rate)
class RateAdmin(ReadOnlyAdmin):
    list_display = ("rate_type", "effective_date", "annual_rate_ppm", "note")
    list_filter = ("rate_type",)
