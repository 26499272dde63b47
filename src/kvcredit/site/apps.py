from __future__ import annotations

from django.contrib.admin.apps import AdminConfig


class KvcreditAdminConfig(AdminConfig):
    """The Django admin, open to the programme administrator only."""

    default_site = "kvcredit.site.admin.KvcreditAdminSite"
