from __future__ import annotations

from django.apps import AppConfig


class EnterprisesConfig(AppConfig):
    name = "kvcredit.enterprises"
    label = "enterprises"
    verbose_name = "enterprises"
