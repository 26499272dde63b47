"""Translation catalogues without GNU gettext: extract, check and compile with Babel.

The project's one catalogue per language lives in ``kvcredit/locale/<lang>/LC_MESSAGES``
(``LOCALE_PATHS``). Source strings are English; ``zh_Hans`` must translate every one of them.

    extract   scan the package's Python (gettext, gettext_lazy, …) and Django templates
              ({% translate %}, {% blocktranslate %}) for msgids; add new ones to the catalogue,
              keep the translations, drop what is no longer used
    missing   msgids used in the source that the catalogue does not translate
    compile   .po -> .mo (only where the .mo is missing or older), atomically
"""

from __future__ import annotations

import io
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir, extract_python
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

PACKAGE = Path(__file__).resolve().parent.parent  # src/kvcredit
LOCALE_DIR = PACKAGE / "locale"
DOMAIN = "django"
LANGUAGES = ("zh_Hans",)
KEYWORDS: dict[str, Any] = {
    "_": None,
    "gettext": None,
    "gettext_lazy": None,
    "gettext_noop": None,
    "ngettext": (1, 2),
    "ngettext_lazy": (1, 2),
    "pgettext": ((1, "c"), 2),
    "pgettext_lazy": ((1, "c"), 2),
    "npgettext": ((1, "c"), 2, 3),
    "npgettext_lazy": ((1, "c"), 2, 3),
}
HEADER = (
    "# kvcredit: every user-visible string of the project, in Simplified Chinese.\n"
    "# Update the msgids with `kvcredit i18n extract`, translate, then `kvcredit i18n compile`."
)
METHODS = [
    ("**/migrations/**", "ignore"),
    ("**/templates/**.html", "kvcredit.console.i18n:extract_django_template"),
    ("**.py", "python"),
]


def po_path(lang: str) -> Path:
    return LOCALE_DIR / lang / "LC_MESSAGES" / f"{DOMAIN}.po"


def extract_django_template(
    fileobj: Any, keywords: Any, comment_tags: Any, options: Any
) -> Iterator[Any]:
    """Babel extractor for Django templates: Django's own templatize, then the Python one.

    Templatize keeps the template's indentation, which Python's tokenizer would read as
    blocks; inside one pair of brackets indentation means nothing, and the lines keep their
    numbers."""
    from django.utils.translation.template import templatize

    text = "(" + templatize(fileobj.read().decode("utf-8")) + "\n)"
    return extract_python(io.BytesIO(text.encode("utf-8")), keywords, comment_tags, options)


def template_catalog(root: Path = PACKAGE) -> Catalog:
    """Every msgid the source uses (the .pot), with where it is used."""
    catalog = Catalog(domain=DOMAIN, project="kvcredit")
    for filename, lineno, message, comments, context in extract_from_dir(
        str(root), METHODS, keywords=KEYWORDS
    ):
        catalog.add(message, None, [(filename, lineno)], auto_comments=comments, context=context)
    return catalog


def read_catalog(lang: str) -> Catalog:
    path = po_path(lang)
    if not path.exists():
        return Catalog(locale=lang, domain=DOMAIN, project="kvcredit")
    with path.open("rb") as f:
        return read_po(f, locale=lang, domain=DOMAIN)


def extract(lang: str = "zh_Hans") -> int:
    """Update the catalogue of ``lang`` from the source; returns the count of untranslated."""
    catalog = read_catalog(lang)
    created = catalog.creation_date
    catalog.update(template_catalog(), no_fuzzy_matching=True, update_header_comment=False)
    catalog.creation_date = created  # no churn in the header when nothing changed
    catalog.obsolete.clear()
    catalog.fuzzy = False
    catalog.header_comment = HEADER
    path = po_path(lang)
    path.parent.mkdir(parents=True, exist_ok=True)
    _atomic_write(
        path, lambda f: write_po(f, catalog, width=100, sort_output=True, include_lineno=False)
    )
    return len(missing(lang))


def missing(lang: str = "zh_Hans") -> list[str]:
    """Msgids used in the source with no translation (or a fuzzy one) in ``lang``."""
    catalog = read_catalog(lang)
    out = []
    for msg in template_catalog():
        if not msg.id:
            continue
        have = catalog.get(msg.id, context=msg.context)
        strings = have.string if have is not None else None
        texts = strings if isinstance(strings, tuple | list) else (strings,)
        if have is None or have.fuzzy or not all(texts):
            out.append(msg.id if isinstance(msg.id, str) else msg.id[0])
    return sorted(out)


def compile_catalogues(*, force: bool = False) -> list[Path]:
    """Compile every ``.po`` under the locale directory whose ``.mo`` is missing or older."""
    written = []
    for po in sorted(LOCALE_DIR.glob(f"*/LC_MESSAGES/{DOMAIN}.po")):
        mo = po.with_suffix(".mo")
        if not force and mo.exists() and mo.stat().st_mtime >= po.stat().st_mtime:
            continue
        with po.open("rb") as f:
            catalog = read_po(f, locale=po.parent.parent.name, domain=DOMAIN)
        _atomic_write(mo, lambda out, c=catalog: write_mo(out, c, use_fuzzy=False))
        written.append(mo)
    return written


def _atomic_write(path: Path, write: Any) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
