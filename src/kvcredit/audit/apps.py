from __future__ import annotations

from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "kvcredit.audit"
    label = "audit"
    verbose_name = "audit"
