"""docs/rulebook.md stays true to the shipped rulebooks: the hash table, and every quoted TOML
excerpt is what the named file says."""

from __future__ import annotations

import re
import tomllib
from decimal import Decimal
from pathlib import Path

from kvcredit.rulebook.domain import builtin_rulebook_ids, builtin_text, load_rulebook

DOC = Path(__file__).resolve().parents[2] / "docs" / "rulebook.md"


def test_the_hash_table_names_the_shipped_rulebooks_current_hashes():
    text = DOC.read_text(encoding="utf-8")
    rows = re.findall(r"\| `([a-z0-9-]+)` \| ([^|]+) \| ([^|]+) \| `([0-9a-f]{64})` \|", text)
    table = {i: (v.strip(), e.strip(), h) for i, v, e, h in rows}
    expected = {}
    for ref in builtin_rulebook_ids():
        rb = load_rulebook(ref)
        expected[ref] = (rb.version, rb.effective.isoformat(), rb.content_hash)
    assert table == expected


def _subset(part: object, whole: object) -> bool:
    if isinstance(part, dict):
        return isinstance(whole, dict) and all(
            k in whole and _subset(v, whole[k]) for k, v in part.items()
        )
    if isinstance(part, list):
        if not isinstance(whole, list) or len(part) > len(whole):
            return False
        if all(isinstance(p, dict) and "id" in p for p in part):  # tables matched by id
            by_id = {w.get("id"): w for w in whole if isinstance(w, dict)}
            return all(_subset(p, by_id.get(p["id"])) for p in part)
        if len(part) == len(whole):
            return all(_subset(p, w) for p, w in zip(part, whole, strict=True))
        return all(isinstance(p, dict) for p in part) and all(
            any(_subset(p, w) for w in whole) for p in part
        )
    return part == whole


def test_every_quoted_excerpt_is_in_its_rulebook():
    text = DOC.read_text(encoding="utf-8")
    sections = re.split(r"^### ", text, flags=re.M)
    checked = 0
    for section in sections:
        ref = section.split(maxsplit=1)[0] if section.strip() else ""
        if ref not in builtin_rulebook_ids():
            continue
        whole = tomllib.loads(builtin_text(ref), parse_float=Decimal)
        for block in re.findall(r"```toml\n(.*?)```", section, re.S):
            part = tomllib.loads(block, parse_float=Decimal)
            assert _subset(part, whole), (ref, block)
            checked += 1
    assert checked == 3
