"""API schemas for programme set-up and the enterprise registry."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from ninja import Field, Schema
from pydantic import StringConstraints, create_model

from kvcredit.api.common import Code, Id, ShortText, Text, Yuan, YuanOut, yuan
from kvcredit.enterprises.models import (
    Bank,
    CreditLine,
    DataSubmission,
    District,
    Enterprise,
    Evaluation,
    PublishedPolicy,
    ReevaluationJob,
)
from kvcredit.scoring.fields import FIELDS, MAX_COUNT, Kind
from kvcredit.scoring.fields import Field as ScoringField
from kvcredit.scoring.records import shown_value, user_text

Uscc = Annotated[str, StringConstraints(min_length=18, max_length=18, pattern=r"^[0-9A-Za-z]+$")]
Year = Annotated[int, Field(ge=2000, le=2100)]


class DistrictIn(Schema):
    code: Annotated[str, StringConstraints(min_length=1, max_length=12, pattern=r"^[0-9A-Za-z]+$")]
    name: ShortText
    name_en: Annotated[str, StringConstraints(max_length=100, pattern=r"^[^\x00-\x1f\x7f]*$")] = ""
    participating_since: dt.date


class DistrictOut(Schema):
    id: int
    code: str
    name: str
    name_en: str
    participating_since: dt.date

    @staticmethod
    def of(d: District) -> dict[str, Any]:
        return DistrictOut.from_orm(d).model_dump(mode="json")


class BankIn(Schema):
    code: Code
    name: Text


class AdmissionIn(Schema):
    district_id: Id


class BankOut(Schema):
    id: int
    code: str
    name: str
    district_ids: list[int]

    @staticmethod
    def of(b: Bank) -> dict[str, Any]:
        ids = sorted(d.id for d in b.districts.all())
        return {"id": b.id, "code": b.code, "name": b.name, "district_ids": ids}


class PolicyIn(Schema):
    source_toml: Annotated[str, StringConstraints(min_length=1, max_length=200_000)]


class PolicyOut(Schema):
    id: int
    policy_id: str
    version: str
    title: str
    content_hash: str
    published_at: dt.datetime
    reevaluated: int
    current: bool

    @staticmethod
    def of(p: PublishedPolicy, current_id: int | None) -> dict[str, Any]:
        out = {
            k: getattr(p, k)
            for k in (
                "id",
                "policy_id",
                "version",
                "title",
                "content_hash",
                "published_at",
                "reevaluated",
            )
        }
        return PolicyOut(**out, current=p.id == current_id).model_dump(mode="json")


class PolicySourceOut(PolicyOut):
    source_toml: str


class ReevaluationOut(Schema):
    """A policy's re-evaluation job: poll it until ``status`` is DONE (or FAILED/SUPERSEDED)."""

    id: int
    policy_pk: int
    status: str = Field(examples=["RUNNING"])
    total: int
    done: int
    created_at: dt.datetime
    started_at: dt.datetime | None
    finished_at: dt.datetime | None
    error: str
    missing_fields: dict[str, Any] = Field(
        default_factory=dict,
        description="declared fields enterprises lack: {field: {missing, outcomes}}",
    )

    @staticmethod
    def of(job: ReevaluationJob) -> dict[str, Any]:
        return ReevaluationOut(
            id=job.pk,
            policy_pk=job.policy_id,
            status=job.status,
            total=job.total,
            done=job.done,
            created_at=job.created_at,
            started_at=job.started_at,
            finished_at=job.finished_at,
            error=job.error,
            missing_fields=job.missing_fields or {},
        ).model_dump(mode="json")


class PublishOut(PolicyOut):
    """The published policy and its re-evaluation (``job_id``: poll ``/jobs/{job_id}``)."""

    reevaluation: ReevaluationOut
    job_id: int | None = None


class EnterpriseIn(Schema):
    uscc: Uscc
    name: Text
    district_id: Id


class EnterpriseOut(Schema):
    id: int
    uscc: str
    name: str
    district_id: int
    district_code: str
    registered_at: dt.datetime

    @staticmethod
    def of(e: Enterprise) -> dict[str, Any]:
        return {
            "id": e.id,
            "uscc": e.uscc,
            "name": e.name,
            "district_id": e.district_id,
            "district_code": e.district.code,
            "registered_at": e.registered_at.isoformat(),
        }


def _value_type(kind: Kind) -> Any:
    if kind is Kind.MONEY:
        return Yuan
    if kind is Kind.COUNT:
        return Annotated[int, Field(ge=0, le=MAX_COUNT)]
    if kind is Kind.FLAG:
        return bool
    return Annotated[str, StringConstraints(max_length=200, pattern=r"^[^\x00-\x1f\x7f]*$")]


_SKIP = {"uscc", "name", "district"}
DeclaredValue = str | int | bool | None
EXTRA_HELP = (
    "The fields the policy in force declares beyond the data dictionary, by name, in user "
    "units (money as yuan text, ratios as fractions, dates as 2024-05-31, categories as one "
    "of their values). GET /policies/current/fields lists them with kind, bounds and default."
)
EnterpriseData = create_model(  # type: ignore[call-overload]
    "EnterpriseData",
    __base__=Schema,
    **{
        f.name: ((_value_type(f.kind), ...) if f.required else (_value_type(f.kind) | None, None))
        for f in FIELDS
        if f.name not in _SKIP
    },
    extra=(
        dict[Annotated[str, StringConstraints(max_length=100)], DeclaredValue] | None,
        Field(None, description=EXTRA_HELP, examples=[{"debt_ratio": "0.42"}]),
    ),
)
EnterpriseData.__doc__ = "Yearly data in user units: money as yuan text, counts, true/false."


class FieldOut(Schema):
    """A field the policy in force declares: how to give it in a submission's ``extra``."""

    name: str
    kind: str = Field(examples=["ratio"], description="money count ratio flag text category date")
    label: str = Field(description="the English description")
    label_zh: str = Field(description="the Chinese column header")
    description_zh: str
    required: bool
    default: DeclaredValue = None
    min: str | None = None
    max: str | None = None
    values: list[str] = Field(default_factory=list, description="a category's allowed values")

    @staticmethod
    def of(f: ScoringField) -> dict[str, Any]:
        return FieldOut(
            name=f.name,
            kind=str(f.kind),
            label=f.en,
            label_zh=f.zh,
            description_zh=f.en_zh,
            required=f.required,
            default=shown_value(f, f.default),
            min=None if f.lo is None else user_text(f, f.lo),
            max=None if f.hi is None else user_text(f, f.hi),
            values=list(f.values),
        ).model_dump(mode="json")


class SubmissionIn(Schema):
    year: Year
    data: EnterpriseData  # type: ignore[valid-type]


class EvaluationOut(Schema):
    id: int
    enterprise_id: int
    submission_id: int
    policy_id: str
    policy_version: str
    policy_hash: str
    eligible: bool
    score: str
    grade: str | None
    credit_limit: YuanOut
    evaluated_at: dt.datetime
    valid_from: dt.date
    valid_until: dt.date
    explanation: dict[str, Any]

    @staticmethod
    def of(ev: Evaluation, explanation: dict[str, Any] | None = None) -> dict[str, Any]:
        """``explanation``: as the reader may see it (``selectors.explanation``); by default the
        stored one, for the enterprise's own submitters."""
        return EvaluationOut(
            id=ev.id,
            enterprise_id=ev.enterprise_id,
            submission_id=ev.submission_id,
            policy_id=ev.policy_code,
            policy_version=ev.policy_version,
            policy_hash=ev.policy_hash,
            eligible=ev.eligible,
            score=ev.score,
            grade=ev.grade,
            credit_limit=yuan(ev.limit_fen),
            evaluated_at=ev.evaluated_at,
            valid_from=ev.valid_from,
            valid_until=ev.valid_until,
            explanation=ev.explanation if explanation is None else explanation,
        ).model_dump(mode="json")


class SubmissionOut(Schema):
    id: int
    enterprise_id: int
    year: int
    version: int
    submitted_at: dt.datetime
    data: dict[str, Any]
    extra: dict[str, DeclaredValue] = Field(
        default_factory=dict, description="the declared fields, as stored (internal units)"
    )
    evaluation: EvaluationOut | None = None

    @staticmethod
    def of(s: DataSubmission, ev: Evaluation | None = None) -> dict[str, Any]:
        data = {
            k: (yuan(v) if k in _MONEY and isinstance(v, int) else v) for k, v in s.data.items()
        }
        return {
            "id": s.id,
            "enterprise_id": s.enterprise_id,
            "year": s.year,
            "version": s.version,
            "submitted_at": s.submitted_at.isoformat(),
            "data": data,
            "extra": dict(s.extra or {}),
            "evaluation": EvaluationOut.of(ev) if ev is not None else None,
        }


_MONEY = {f.name for f in FIELDS if f.kind is Kind.MONEY}


class CreditLineOut(Schema):
    id: int
    enterprise_id: int
    uscc: str
    district_id: int
    evaluation_id: int | None
    limit: YuanOut
    reserved: YuanOut
    used: YuanOut
    available: YuanOut
    valid_until: dt.date | None
    updated_at: dt.datetime

    @staticmethod
    def of(c: CreditLine, today: dt.date) -> dict[str, Any]:
        expired = c.valid_until is None or c.valid_until <= today
        return CreditLineOut(
            id=c.id,
            enterprise_id=c.enterprise_id,
            uscc=c.enterprise.uscc,
            district_id=c.enterprise.district_id,
            evaluation_id=c.evaluation_id,
            limit=yuan(c.limit_fen),
            reserved=yuan(c.reserved_fen),
            used=yuan(c.used_fen),
            available=yuan(0 if expired else c.available_fen),
            valid_until=c.valid_until,
            updated_at=c.updated_at,
        ).model_dump(mode="json")
