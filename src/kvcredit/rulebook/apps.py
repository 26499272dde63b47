from __future__ import annotations

from django.apps import AppConfig


class RulebookConfig(AppConfig):
    name = "kvcredit.rulebook"
    label = "rulebook"
    verbose_name = "programme rulebook"
