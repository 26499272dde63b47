from __future__ import annotations

from django.apps import AppConfig


class FundConfig(AppConfig):
    name = "kvcredit.fund"
    label = "fund"
    verbose_name = "risk compensation fund"

    def ready(self) -> None:
        """The circuit breaker runs inside the lending app's end of day."""
        from kvcredit.fund.breakers import on_end_of_day
        from kvcredit.lending.endofday import register_exposure_hook

        register_exposure_hook(on_end_of_day)
