from __future__ import annotations

from django.apps import AppConfig


class FundConfig(AppConfig):
    """The circuit breakers run in the business day, ``kvcredit.day`` (no start-up hook)."""

    name = "kvcredit.fund"
    label = "fund"
    verbose_name = "risk compensation fund"
