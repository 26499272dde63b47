from __future__ import annotations

from django.apps import AppConfig


class LendingConfig(AppConfig):
    name = "kvcredit.lending"
    label = "lending"
    verbose_name = "lending"
