from __future__ import annotations

from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "kvcredit.accounts"
    label = "accounts"
    verbose_name = "accounts"
