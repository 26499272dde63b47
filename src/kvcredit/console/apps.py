from __future__ import annotations

import logging

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

log = logging.getLogger(__name__)


class ConsoleConfig(AppConfig):
    name = "kvcredit.console"
    label = "console"
    verbose_name = _("web console")

    def ready(self) -> None:
        # Translations are compiled from the committed .po files (no GNU gettext needed);
        # `kvcredit i18n compile` does it explicitly, this covers a fresh checkout or install.
        from kvcredit.console.i18n import compile_catalogues

        try:
            compile_catalogues()
        except OSError as exc:  # a read-only installation: `kvcredit i18n compile` at build
            log.warning("could not compile the translation catalogues: %s", exc)
