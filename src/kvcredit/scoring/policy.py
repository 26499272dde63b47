"""Evaluation policies: the TOML language, its validation, and its content hash.

A policy is data. ``load_policy`` reads a shipped policy by id or a TOML file by path, validates
it with pydantic (errors name the key path, e.g. ``indicators.2.bands.0.points``), checks every
name it uses, and compiles it (``kvcredit.scoring.compiled``) for the two evaluation paths.
The language is documented in docs/policy-language.md.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import itertools
import json
import tomllib
from decimal import Decimal
from importlib import resources
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from kvcredit.errors import PolicyError

Number = Decimal | int
POLICY_PACKAGE = "kvcredit.scoring.policies"


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Header(_Model):
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    version: str = Field(min_length=1)
    title: str = Field(min_length=1)
    title_zh: str = ""
    effective_date: dt.date
    authority: str = Field(min_length=1)
    notes: str = ""


class Band(_Model):
    from_: Number = Field(alias="from")
    points: Number


class Condition(_Model):
    """``input op value``; written in TOML as a string ``"total_staff <= 500"`` or a table."""

    input: str
    op: Literal[">=", ">", "<=", "<", "==", "!=", "in", "not in"]
    value: Number | bool | list[str]

    @model_validator(mode="after")
    def _value_fits_op(self) -> Condition:
        if self.op in ("in", "not in") and not isinstance(self.value, list):
            raise ValueError(f"'{self.op}' needs a list of values")
        if self.op not in ("in", "not in") and isinstance(self.value, list):
            raise ValueError(f"'{self.op}' needs a single value, not a list")
        return self


def _parse_condition(raw: Any) -> Any:
    if not isinstance(raw, str):
        return raw
    parts = raw.split()
    if len(parts) != 3:
        raise ValueError(f"write a condition as 'input op value', got {raw!r}")
    name, op, text = parts
    value: Number | bool
    if text in ("true", "false"):
        value = text == "true"
    else:
        try:
            value = Decimal(text)
        except ArithmeticError as exc:
            raise ValueError(f"{text!r} is not a number, true or false") from exc
    return {"input": name, "op": op, "value": value}


def _parse_conditions(raw: Any) -> Any:
    if isinstance(raw, str | dict):
        raw = [raw]
    if isinstance(raw, list):
        return [_parse_condition(item) for item in raw]
    return raw


class Named(_Model):
    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    label: str = ""
    label_zh: str = ""


class Rule(Named):
    """A named list of conditions that must all hold (basic condition, requirement, route)."""

    when: list[Condition] = Field(min_length=1)
    min_grade: str | None = None  # routes in grade policies: the grade the route guarantees
    steps: int = Field(default=1, ge=1)  # uplifts: grades added

    _when = field_validator("when", mode="before")(_parse_conditions)


class Rung(_Model):
    when: list[Condition] = Field(min_length=1)
    points: Number

    _when = field_validator("when", mode="before")(_parse_conditions)


class Banded(Named):
    input: str
    bands: list[Band] = Field(min_length=1)
    if_undefined: Number = 0  # points when the input is undefined (a zero denominator)
    format: Literal["number", "percent", "yuan"] = "number"

    @field_validator("bands")
    @classmethod
    def _descending(cls, bands: list[Band]) -> list[Band]:
        edges = [b.from_ for b in bands]
        if any(a <= b for a, b in itertools.pairwise(edges)):
            raise ValueError("bands must be listed from the highest 'from' down, no repeats")
        return bands


class Indicator(Named):
    """One scored indicator: banded, the best of several banded alternatives, or a ladder."""

    input: str | None = None
    bands: list[Band] | None = None
    if_undefined: Number = 0
    format: Literal["number", "percent", "yuan"] = "number"
    best_of: list[Banded] | None = None
    ladder: list[Rung] | None = None
    weight: Number = 1

    @model_validator(mode="after")
    def _one_kind(self) -> Indicator:
        kinds = [self.bands is not None, self.best_of is not None, self.ladder is not None]
        if sum(kinds) != 1:
            raise ValueError("an indicator has exactly one of 'bands', 'best_of' or 'ladder'")
        if self.bands is not None:
            if self.input is None:
                raise ValueError("a banded indicator needs 'input'")
            Banded(id=self.id, input=self.input, bands=self.bands)  # reuse the band checks
        return self

    @property
    def alternatives(self) -> list[Banded]:
        """The banded alternatives (one for a plain banded indicator)."""
        if self.best_of is not None:
            return self.best_of
        if self.bands is not None and self.input is not None:
            return [
                Banded(
                    id=self.id,
                    input=self.input,
                    bands=self.bands,
                    if_undefined=self.if_undefined,
                    format=self.format,
                    label=self.label,
                    label_zh=self.label_zh,
                )
            ]
        return []


class Group(Named):
    indicators: list[str] = Field(min_length=1)
    weight: Number = 1
    cap: Number | None = None


class Grade(_Model):
    grade: str = Field(pattern=r"^[A-Z][A-Z0-9_]*$")
    min_score: Number
    credit_limit: Number = Field(ge=0)


class Outcome(_Model):
    kind: Literal["grades", "qualify"]
    min_score: Number | None = None  # qualify policies
    grades: list[Grade] | None = None  # grade policies, best first
    max_uplift_steps: int | None = Field(default=None, ge=0)

    @model_validator(mode="after")
    def _shape(self) -> Outcome:
        if self.kind == "qualify":
            if self.min_score is None or self.grades is not None:
                raise ValueError("a 'qualify' outcome has min_score and no grades")
        else:
            if not self.grades or self.min_score is not None:
                raise ValueError("a 'grades' outcome lists grades (best first), not min_score")
            scores = [g.min_score for g in self.grades]
            if any(a <= b for a, b in itertools.pairwise(scores)):
                raise ValueError("grades must be listed best first, min_score strictly falling")
            names = [g.grade for g in self.grades]
            if len(set(names)) != len(names):
                raise ValueError("grade names must be unique")
        return self


class PolicyDoc(_Model):
    policy: Header
    derived: dict[str, str] = Field(default_factory=dict)
    basic: list[Rule] = Field(default_factory=list)
    indicators: list[Indicator] = Field(min_length=1)
    groups: list[Group] = Field(default_factory=list)
    requirements: list[Rule] = Field(default_factory=list)
    routes: list[Rule] = Field(default_factory=list)
    uplifts: list[Rule] = Field(default_factory=list)
    outcome: Outcome


class Policy:
    """A validated, compiled policy with its content hash."""

    def __init__(self, doc: PolicyDoc, source: str = "") -> None:
        from kvcredit.scoring.compiled import compile_policy

        self.doc = doc
        self.source = source
        try:
            self.compiled = compile_policy(doc)
        except PolicyError as exc:
            raise PolicyError(exc.problems, source) from None
        self.content_hash = content_hash(doc)

    @property
    def id(self) -> str:
        return self.doc.policy.id

    @property
    def version(self) -> str:
        return self.doc.policy.version

    @property
    def is_graded(self) -> bool:
        return self.doc.outcome.kind == "grades"

    def __repr__(self) -> str:
        return f"<Policy {self.id} {self.version} {self.content_hash[:12]}>"


def _canonical(value: Any) -> Any:
    """Numbers as their shortest exact decimal text (0.30 and 0.3 are the same number)."""
    if isinstance(value, bool):
        return value
    if isinstance(value, Decimal | int):
        return f"{Decimal(value).normalize():f}"
    if isinstance(value, dict):
        return {k: _canonical(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_canonical(v) for v in value]
    return value


def content_hash(doc: PolicyDoc) -> str:
    """SHA-256 of the policy's canonical JSON: formatting, comments and the way a number is
    written (0.30 or 0.3, 20 or 20.0) do not change it; any change of content does."""
    data = _canonical(doc.model_dump(mode="python", by_alias=True))
    canonical = json.dumps(data, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _key_path(loc: tuple[int | str, ...]) -> str:
    return ".".join(str(part) for part in loc if not str(part).startswith("function-"))


def parse_policy(text: str, source: str = "") -> Policy:
    """Validate and compile a policy from TOML text; raise PolicyError naming key paths.

    A policy nested deeper than Python's recursion allows (arrays or tables 1000 deep) is an
    invalid policy too, not a crash.
    """
    try:
        return _parse_policy(text, source)
    except RecursionError:
        problem = "嵌套层级过深 / the policy is nested too deeply"
        raise PolicyError([("", problem)], source) from None


def _parse_policy(text: str, source: str) -> Policy:
    try:
        raw = tomllib.loads(text, parse_float=Decimal)
    except tomllib.TOMLDecodeError as exc:
        raise PolicyError([("", f"not valid TOML: {exc}")], source) from exc
    try:
        doc = PolicyDoc.model_validate(raw)
    except ValidationError as exc:
        problems = [(_key_path(e["loc"]), e["msg"]) for e in exc.errors()]
        raise PolicyError(problems, source) from exc
    return Policy(doc, source)


def builtin_policy_ids() -> list[str]:
    files = resources.files(POLICY_PACKAGE).iterdir()
    return sorted(f.name.removesuffix(".toml") for f in files if f.name.endswith(".toml"))


def load_policy(ref: str | Path) -> Policy:
    """Load a shipped policy by id (``chongqing-kvc``) or a policy file by path."""
    path = Path(ref)
    if path.suffix == ".toml" or path.exists():
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise PolicyError([("", f"cannot read {path}: {exc.strerror}")], str(path)) from exc
        return parse_policy(text, str(path))
    if str(ref) not in builtin_policy_ids():
        known = ", ".join(builtin_policy_ids())
        raise PolicyError([("", f"no shipped policy {ref!r} (shipped: {known})")], str(ref))
    text = resources.files(POLICY_PACKAGE).joinpath(f"{ref}.toml").read_text(encoding="utf-8")
    return parse_policy(text, str(ref))
