"""A lifecycle as data: states, a transition table (from, step, to, who), and its questions.

Pure (no Django). Each lifecycle of the programme (an application, a loan, a claim) is one
``Machine`` in its own domain module; services apply a step with ``Machine.step`` (which
refuses a step the table does not allow), and views, templates, the API and selectors ask
``allowed_steps`` / ``may`` instead of re-deriving a rule. ``mermaid()`` draws the table, and a
test keeps docs/architecture.md equal to the drawing.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Generic, TypeVar

from kvcredit.errors import DomainError
from kvcredit.roles import Role

S = TypeVar("S", bound=StrEnum)


class StepRefused(DomainError):
    """The lifecycle table does not allow this step from this state, or not for this role.

    ``reason`` is ``"state"`` (the step is not open from ``state``) or ``"role"`` (the step is
    open, but ``role`` may not take it)."""

    def __init__(self, machine: str, state: str | None, step: str, role: str, reason: str) -> None:
        self.machine, self.state, self.step, self.role, self.reason = (
            machine,
            state,
            step,
            role,
            reason,
        )
        where = state if state is not None else "(new)"
        super().__init__(f"{machine}: step {step!r} by {role} refused from {where} ({reason})")


@dataclass(frozen=True)
class Transition(Generic[S]):
    source: S | None  # None: the step creates the object
    step: str
    target: S
    who: frozenset[Role]


def t(source: S | None, step: str, target: S, *who: Role) -> Transition[S]:
    return Transition(source, step, target, frozenset(who))


class Machine(Generic[S]):
    """One lifecycle: ``states`` (an enum), ``labels`` (English msgids per state) and the
    table of transitions. A (source, step) pair may lead to several targets; the caller then
    names the one its facts choose, and the table checks it."""

    def __init__(
        self,
        name: str,
        states: type[S],
        labels: Mapping[S, str],
        transitions: Iterable[Transition[S]],
        *,
        final: Iterable[S] = (),
    ) -> None:
        self.name = name
        self.states = states
        self.labels = dict(labels)
        self.transitions: tuple[Transition[S], ...] = tuple(transitions)
        self.final = frozenset(final)
        missing = [s for s in states if s not in self.labels]
        if missing:
            raise ValueError(f"{name}: states without a label: {missing}")
        steps = {(x.source, x.step, x.target) for x in self.transitions}
        if len(steps) != len(self.transitions):
            raise ValueError(f"{name}: a transition is listed twice")

    @property
    def steps(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(x.step for x in self.transitions))

    def choices(self) -> list[tuple[str, str]]:
        """(code, English label) for every state, in the enum's order (Django choices)."""
        return [(s.value, self.labels[s]) for s in self.states]

    def _rows(self, source: S | None, step: str) -> list[Transition[S]]:
        src = None if source is None else self.states(source)
        return [x for x in self.transitions if x.source == src and x.step == step]

    def targets(self, source: S | str | None, step: str) -> tuple[S, ...]:
        src = None if source is None else self.states(source)
        return tuple(x.target for x in self._rows(src, step))

    def may(self, source: S | str | None, step: str, role: Role | str | None = None) -> bool:
        """Is ``step`` open from ``source`` (for ``role``, when given)?"""
        src = None if source is None else self.states(source)
        rows = self._rows(src, step)
        return bool(rows) and (role is None or any(Role(role) in x.who for x in rows))

    def allowed_steps(self, source: S | str | None, role: Role | str | None = None) -> list[str]:
        """The steps open from ``source`` (for ``role``), in the table's order."""
        return [s for s in self.steps if self.may(source, s, role)]

    def sources(self, step: str) -> tuple[S, ...]:
        """The states from which ``step`` is open (for a query: ``status__in=...``)."""
        return tuple(
            dict.fromkeys(x.source for x in self.transitions if x.step == step and x.source)
        )

    def step(
        self,
        source: S | str | None,
        step: str,
        role: Role | str,
        *,
        target: S | str | None = None,
    ) -> S:
        """The state after ``step`` taken by ``role`` from ``source``; refuses what the table
        does not allow (``StepRefused``). ``target`` chooses among several targets."""
        src = None if source is None else self.states(source)
        rows = self._rows(src, step)
        shown = None if src is None else src.value
        if not rows:
            raise StepRefused(self.name, shown, step, str(role), "state")
        rows = [x for x in rows if Role(role) in x.who]
        if not rows:
            raise StepRefused(self.name, shown, step, str(role), "role")
        if target is not None:
            rows = [x for x in rows if x.target == self.states(target)]
            if not rows:
                raise StepRefused(self.name, shown, step, str(role), "state")
        if len(rows) > 1:
            raise ValueError(f"{self.name}: step {step!r} from {shown} needs a target")
        return rows[0].target

    def mermaid(self) -> str:
        """The state diagram (Mermaid ``stateDiagram-v2``), one line per transition."""
        lines = ["stateDiagram-v2"]
        for x in self.transitions:
            src = "[*]" if x.source is None else x.source.value
            who = ", ".join(sorted(r.value for r in x.who))
            lines.append(f"    {src} --> {x.target.value}: {x.step} ({who})")
        for s in self.states:
            if s in self.final:
                lines.append(f"    {s.value} --> [*]")
        return "\n".join(lines)
