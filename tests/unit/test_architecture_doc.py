"""docs/architecture.md draws every lifecycle exactly as its transition table says."""

from __future__ import annotations

import re
from pathlib import Path

from kvcredit.lifecycles import MACHINES

DOC = Path(__file__).resolve().parents[2] / "docs" / "architecture.md"


def _blocks() -> dict[str, str]:
    text = DOC.read_text(encoding="utf-8")
    found = re.findall(r"<!-- lifecycle:(\w+) -->\n```mermaid\n(.*?)\n```", text, flags=re.S)
    return dict(found)


def test_every_lifecycle_is_drawn_in_the_architecture_doc():
    assert set(_blocks()) == set(MACHINES)


def test_each_drawing_is_the_transition_table():
    blocks = _blocks()
    for name, machine in MACHINES.items():
        assert blocks[name] == machine.mermaid(), (
            f"docs/architecture.md's {name} diagram differs from its table: "
            "paste the output of `python -m kvcredit.lifecycles`"
        )


def test_a_changed_table_would_be_caught():
    """The comparison is not vacuous: a drawing with one transition less differs."""
    machine = MACHINES["claim"]
    drawn = machine.mermaid().splitlines()
    assert "\n".join(drawn[:1] + drawn[2:]) != machine.mermaid()
