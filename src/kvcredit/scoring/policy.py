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
import re
import tomllib
from collections.abc import Mapping
from decimal import Decimal
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    ValidationError,
    field_validator,
    model_validator,
)

from kvcredit.errors import PolicyError
from kvcredit.scoring.policy_text import PolicyValueError, Said, from_pydantic

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
    """A band: ``from`` (inclusive lower edge, higher is better) or ``below`` (exclusive upper
    edge, lower is better)."""

    from_: Number | None = Field(default=None, alias="from")
    below: Number | None = None
    points: Number

    @model_validator(mode="after")
    def _one_edge(self) -> Band:
        if (self.from_ is None) == (self.below is None):
            raise PolicyValueError("band_edge")
        return self


FieldKind = Literal["money", "count", "ratio", "flag", "text", "category", "date"]


class FieldDecl(_Model):
    """A field a policy declares beyond the data dictionary (``[[fields]]``)."""

    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    kind: FieldKind
    zh: str = Field(min_length=1)  # the Chinese column header
    description: str = ""
    description_zh: str = ""
    required: bool = False
    default: Number | bool | str | dt.date | None = None
    min: Number | None = None
    max: Number | None = None
    values: list[str] | None = None  # category: the allowed values

    @model_validator(mode="after")
    def _shape(self) -> FieldDecl:
        if self.kind == "category":
            if not self.values or len(set(self.values)) != len(self.values):
                raise PolicyValueError("category_values")
        elif self.values is not None:
            raise PolicyValueError("values_not_category")
        if self.required and self.default is not None:
            raise PolicyValueError("required_default")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise PolicyValueError("bounds_order")
        return self


ConditionOp = Literal[">=", ">", "<=", "<", "==", "!=", "in", "not in", "within"]
WINDOW_RE = re.compile(r"^\s*(\d{1,4})\s+(year|years|month|months|day|days)\s*$")
DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


class Condition(_Model):
    """``input op value``; written in TOML as a string ``"total_staff <= 500"`` or a table."""

    input: str
    op: ConditionOp
    value: Number | bool | dt.date | list[str] | str

    @model_validator(mode="after")
    def _value_fits_op(self) -> Condition:
        if self.op in ("in", "not in") and not isinstance(self.value, list):
            raise PolicyValueError("needs_list", op=self.op)
        if self.op not in ("in", "not in") and isinstance(self.value, list):
            raise PolicyValueError("needs_single", op=self.op)
        if self.op == "within" and not (
            isinstance(self.value, str) and WINDOW_RE.match(self.value)
        ):
            raise PolicyValueError("bad_window", value=self.value)
        return self


class AnyOf(_Model):
    """At least one of the conditions holds."""

    any: list[Cond] = Field(min_length=1)


class AllOf(_Model):
    """Every condition holds."""

    all: list[Cond] = Field(min_length=1)


class NotOf(_Model):
    """The condition does not hold."""

    not_: Cond = Field(alias="not")


def _cond_tag(raw: Any) -> str:
    if isinstance(raw, dict):
        for key in ("any", "all", "not"):
            if key in raw:
                return f"~{key}"
        return "~leaf"
    tags: dict[type, str] = {AnyOf: "~any", AllOf: "~all", NotOf: "~not"}
    return tags.get(type(raw), "~leaf")


Cond = Annotated[
    Annotated[Condition, Tag("~leaf")]
    | Annotated[AnyOf, Tag("~any")]
    | Annotated[AllOf, Tag("~all")]
    | Annotated[NotOf, Tag("~not")],
    Discriminator(_cond_tag),
]
for _m in (AnyOf, AllOf, NotOf):
    _m.model_rebuild()


def _parse_value(text: str) -> Any:
    if text in ("true", "false"):
        return text == "true"
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"":
        return text[1:-1]
    if DATE_RE.match(text):
        try:
            return dt.date.fromisoformat(text)
        except ValueError:
            pass
    try:
        return Decimal(text)
    except ArithmeticError as exc:
        raise PolicyValueError("not_a_value", text=text) from exc


def _parse_condition(raw: Any) -> Any:
    if isinstance(raw, list):
        return {"all": [_parse_condition(item) for item in raw]}
    if isinstance(raw, dict):
        for key in ("any", "all"):
            if key in raw and isinstance(raw[key], list):
                raw = {**raw, key: [_parse_condition(item) for item in raw[key]]}
        if "not" in raw:
            raw = {**raw, "not": _parse_condition(raw["not"])}
        return raw
    if not isinstance(raw, str):
        return raw
    parts = raw.split()
    if len(parts) == 4 and parts[1] == "within":
        return {"input": parts[0], "op": "within", "value": f"{parts[2]} {parts[3]}"}
    if len(parts) != 3:
        raise PolicyValueError("condition_shape", raw=raw)
    name, op, text = parts
    return {"input": name, "op": op, "value": _parse_value(text)}


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

    when: list[Cond] = Field(min_length=1)
    min_grade: str | None = None  # routes in grade policies: the grade the route guarantees
    steps: int = Field(default=1, ge=1)  # uplifts: grades added

    _when = field_validator("when", mode="before")(_parse_conditions)


class Rung(_Model):
    """A ladder rung: its conditions all hold, or it is the last, ``else`` rung."""

    when: list[Cond] | None = Field(default=None, min_length=1)
    else_: bool = Field(default=False, alias="else")
    points: Number

    _when = field_validator("when", mode="before")(_parse_conditions)

    @model_validator(mode="after")
    def _shape(self) -> Rung:
        if (self.when is None) != self.else_:
            raise PolicyValueError("rung_shape")
        return self


def _check_bands(bands: list[Band]) -> list[Band]:
    froms = [b.from_ for b in bands if b.from_ is not None]
    belows = [b.below for b in bands if b.below is not None]
    if froms and belows:
        raise PolicyValueError("bands_mixed")
    if any(a <= b for a, b in itertools.pairwise(froms)):
        raise PolicyValueError("bands_descending")
    if any(a >= b for a, b in itertools.pairwise(belows)):
        raise PolicyValueError("bands_ascending")
    return bands


class Banded(Named):
    input: str
    bands: list[Band] = Field(min_length=1)
    if_undefined: Number = 0  # points when the input is undefined (a zero denominator)
    format: Literal["number", "percent", "yuan"] = "number"

    @field_validator("bands")
    @classmethod
    def _ordered(cls, bands: list[Band]) -> list[Band]:
        return _check_bands(bands)


class Indicator(Named):
    """One scored indicator: banded, the best of several banded alternatives, a ladder, or
    constant points."""

    input: str | None = None
    bands: list[Band] | None = None
    if_undefined: Number = 0
    format: Literal["number", "percent", "yuan"] = "number"
    best_of: list[Banded] | None = None
    ladder: list[Rung] | None = None
    points: Number | None = None  # constant points
    weight: Number = 1

    @field_validator("bands")
    @classmethod
    def _ordered(cls, bands: list[Band] | None) -> list[Band] | None:
        return None if bands is None else _check_bands(bands)

    @model_validator(mode="after")
    def _one_kind(self) -> Indicator:
        kinds = [self.bands, self.best_of, self.ladder, self.points]
        if sum(k is not None for k in kinds) != 1:
            raise PolicyValueError("one_kind")
        if self.bands is not None and self.input is None:
            raise PolicyValueError("needs_input")
        if self.ladder is not None and any(r.else_ for r in self.ladder[:-1]):
            raise PolicyValueError("else_last")
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
                raise PolicyValueError("qualify_shape")
        else:
            if not self.grades or self.min_score is not None:
                raise PolicyValueError("grades_shape")
            scores = [g.min_score for g in self.grades]
            if any(a <= b for a, b in itertools.pairwise(scores)):
                raise PolicyValueError("grades_falling")
            names = [g.grade for g in self.grades]
            if len(set(names)) != len(names):
                raise PolicyValueError("grades_unique")
        return self


class PolicyDoc(_Model):
    policy: Header
    fields: list[FieldDecl] = Field(default_factory=list)
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
    def declared(self) -> tuple[Any, ...]:
        """The fields this policy declares (``kvcredit.scoring.fields.Field`` values)."""
        return self.compiled.declared

    @property
    def uses_dates(self) -> bool:
        """Whether an evaluation needs the evaluation date (a date condition)."""
        return self.compiled.uses_dates

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


# Keys added by the second version of the language, left out of the hash at their default so
# that a policy written without them keeps the hash it had (published policies keep verifying).
_NEW_KEYS: dict[str, Any] = {
    "fields": [],
    "below": None,
    "else": False,
    "points": None,
    "when": None,
}


def _canonical(value: Any, new_keys: Mapping[str, Any]) -> Any:
    """Numbers as their shortest exact decimal text (0.30 and 0.3 are the same number); a key
    of ``new_keys`` at its default (same value, same type) is left out."""
    if isinstance(value, bool):
        return value
    if isinstance(value, Decimal | int):
        return f"{Decimal(value).normalize():f}"
    if isinstance(value, dict):
        return {
            k: _canonical(v, new_keys)
            for k, v in value.items()
            if not (k in new_keys and v == new_keys[k] and type(v) is type(new_keys[k]))
        }
    if isinstance(value, list | tuple):
        return [_canonical(v, new_keys) for v in value]
    return value


def canonical_sha256(data: Any, *, new_keys: Mapping[str, Any] | None = None) -> str:
    """SHA-256 of ``data``'s canonical JSON (sorted keys, numbers as exact decimal text, dates
    as ISO text). The policies' and the rulebooks' content hash (``kvcredit.rulebook.domain``)."""
    canonical = json.dumps(
        _canonical(data, new_keys or {}), sort_keys=True, ensure_ascii=False, default=str
    )
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def content_hash(doc: PolicyDoc) -> str:
    """SHA-256 of the policy's canonical JSON: formatting, comments and the way a number is
    written (0.30 or 0.3, 20 or 20.0) do not change it; any change of content does."""
    return canonical_sha256(doc.model_dump(mode="python", by_alias=True), new_keys=_NEW_KEYS)


def key_path(loc: tuple[int | str, ...]) -> str:
    """A pydantic error location as a dotted key path (``indicators.2.bands.0.points``)."""
    return ".".join(str(p) for p in loc if not str(p).startswith(("function-", "~")))


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
        raise PolicyError([("", Said("not_toml", error=exc))], source) from exc
    try:
        doc = PolicyDoc.model_validate(raw)
    except ValidationError as exc:
        problems: list[tuple[str, str]] = [
            (key_path(e["loc"]), from_pydantic(e)) for e in exc.errors()
        ]
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
            said = Said("cannot_read", path=path, error=exc.strerror)
            raise PolicyError([("", said)], str(path)) from exc
        return parse_policy(text, str(path))
    if str(ref) not in builtin_policy_ids():
        known = ", ".join(builtin_policy_ids())
        raise PolicyError([("", Said("no_shipped", ref=str(ref), known=known))], str(ref))
    text = resources.files(POLICY_PACKAGE).joinpath(f"{ref}.toml").read_text(encoding="utf-8")
    return parse_policy(text, str(ref))
