"""Set Django up outside a web server (the ``kvcredit`` commands, the demo loader).

``django_setup()`` points ``DJANGO_SETTINGS_MODULE`` at the site's settings (unless it is set
already), runs ``django.setup()`` and activates the language of the command line's messages.
"""

from __future__ import annotations

import os
from collections.abc import Mapping


def cli_language(environ: Mapping[str, str] = os.environ) -> str:
    """The language of the service's messages on the command line: $KVCREDIT_LANGUAGE, else the
    locale's (LC_ALL, LC_MESSAGES, LANG: zh_* is Simplified Chinese), else English."""
    chosen = environ.get("KVCREDIT_LANGUAGE", "").strip().lower()
    if chosen:
        return "zh-hans" if chosen.startswith("zh") else "en"
    for var in ("LC_ALL", "LC_MESSAGES", "LANG"):
        value = environ.get(var, "")
        if value:
            return "zh-hans" if value.lower().startswith("zh") else "en"
    return "en"


def django_setup() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kvcredit.site.settings")
    import django
    from django.utils import translation

    django.setup()
    translation.activate(cli_language())
