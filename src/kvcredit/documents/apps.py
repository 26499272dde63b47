from __future__ import annotations

from django.apps import AppConfig


class DocumentsConfig(AppConfig):
    name = "kvcredit.documents"
    label = "documents"
    verbose_name = "documents"
