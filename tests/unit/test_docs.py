"""The operators' docs stay true to the shipped policies."""

from __future__ import annotations

import re
from pathlib import Path

from kvcredit.scoring import load_policy
from kvcredit.scoring.policy import parse_policy

DOC = Path(__file__).resolve().parents[2] / "docs" / "policy-language.md"
HASHES = {p: load_policy(p).content_hash for p in ("chongqing-kvc", "most-tech-sme")}


def test_the_hash_table_names_the_shipped_policies_current_hashes():
    text = DOC.read_text(encoding="utf-8")
    table = dict(re.findall(r"\| `([a-z-]+)` \| [^|]+ \| `([0-9a-f]{64})` \|", text))
    assert table == HASHES


def test_every_result_quoted_in_the_doc_carries_a_current_hash():
    quoted = re.findall(r'"policy_hash": "([0-9a-f]{64})"', DOC.read_text(encoding="utf-8"))
    assert quoted
    assert set(quoted) <= set(HASHES.values())


def test_the_quoted_national_policy_is_the_shipped_one():
    text = DOC.read_text(encoding="utf-8")
    blocks = re.findall(r"```toml\n(.*?)```", text, re.S)
    block = max((b for b in blocks if 'id = "most-tech-sme"' in b), key=len)  # the full quote
    assert parse_policy(block).content_hash == HASHES["most-tech-sme"]


def test_the_high_tech_example_quotes_the_shipped_policy():
    from importlib import resources

    text = DOC.read_text(encoding="utf-8")
    section = text[text.index("## Worked example 4: high-tech-enterprise") :]
    shipped = (
        resources.files("kvcredit.scoring.policies")
        .joinpath("high-tech-enterprise.toml")
        .read_text(encoding="utf-8")
    )
    blocks = re.findall(r"```toml\n(.*?)```", section, re.S)
    assert len(blocks) >= 4
    for block in blocks:
        assert block.strip() in shipped, block
