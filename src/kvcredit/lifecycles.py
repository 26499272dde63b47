"""Every lifecycle of the programme, by name: the one list docs/architecture.md is drawn from.

Pure (no Django). ``python -m kvcredit.lifecycles`` prints each state diagram (Mermaid), the
text that docs/architecture.md quotes; a test keeps the two equal, so the picture cannot drift
from the transition tables the services apply.
"""

from __future__ import annotations

from typing import Any

from kvcredit.fund.domain.claim import CLAIM
from kvcredit.jobs.domain import JOB
from kvcredit.lending.domain.lifecycle import APPLICATION, DEFERRAL, LOAN
from kvcredit.statemachine import Machine

MACHINES: dict[str, Machine[Any]] = {
    "application": APPLICATION,
    "loan": LOAN,
    "deferral": DEFERRAL,
    "claim": CLAIM,
    "job": JOB,
}


def diagrams() -> str:
    """Each lifecycle's diagram as a Markdown section body: a fenced Mermaid block per name."""
    parts = []
    for name, machine in MACHINES.items():
        parts.append(f"<!-- lifecycle:{name} -->\n```mermaid\n{machine.mermaid()}\n```")
    return "\n\n".join(parts)


if __name__ == "__main__":
    print(diagrams())
