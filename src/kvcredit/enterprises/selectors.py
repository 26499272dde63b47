"""Every read of programme and enterprise data, scoped to what the acting user may see.

    administrator, trustee   the whole programme
    district                 the enterprises located in that district
    bank                     enterprises, evaluations and credit lines in the districts it is
                             admitted to; no raw data submissions
    enterprise               itself only

Districts, banks, policies and rates are programme set-up, visible to every signed-in user.
Objects outside the scope are simply absent (the API answers 404, never 403, for them).
"""

from __future__ import annotations

from typing import Any

from django.db.models import Max, Q, QuerySet

from kvcredit.accounts.models import OrgKind
from kvcredit.accounts.permissions import kind_of
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


def _enterprise_scope(user: Any, prefix: str = "") -> Q | None:
    """A filter on enterprises (through ``prefix``), Q() for everything, None for nothing."""
    kind = kind_of(user)
    if kind in (OrgKind.ADMINISTRATOR, OrgKind.TRUSTEE):
        return Q()
    org_id = user.organisation_id
    if kind == OrgKind.DISTRICT:
        return Q(**{f"{prefix}district__organisation_id": org_id})
    if kind == OrgKind.BANK:
        admitted = District.objects.filter(admissions__bank__organisation_id=org_id)
        return Q(**{f"{prefix}district_id__in": admitted.values("id")})
    if kind == OrgKind.ENTERPRISE:
        return Q(**{f"{prefix}organisation_id": org_id})
    return None


def _scoped(qs: QuerySet[Any], user: Any, prefix: str) -> QuerySet[Any]:
    scope = _enterprise_scope(user, prefix)
    return qs.none() if scope is None else qs.filter(scope)


def enterprises(user: Any) -> QuerySet[Enterprise]:
    return _scoped(Enterprise.objects.select_related("district"), user, "").order_by("id")


def submissions(user: Any) -> QuerySet[DataSubmission]:
    if kind_of(user) == OrgKind.BANK:
        return DataSubmission.objects.none()
    qs = DataSubmission.objects.select_related("enterprise")
    return _scoped(qs, user, "enterprise__").order_by("id")


def latest_submission_ids(qs: QuerySet[DataSubmission]) -> QuerySet[Any]:
    """The id of each enterprise's latest submission among ``qs`` (a subquery): one per
    enterprise, whatever the years. The queryset's ordering is cleared first: an ORDER BY
    column would join the GROUP BY and give one row per submission."""
    return (
        qs.order_by()
        .values("enterprise_id")
        .annotate(last=Max("id"))
        .values_list("last", flat=True)
    )


def evaluations(user: Any) -> QuerySet[Evaluation]:
    qs = Evaluation.objects.select_related("enterprise")
    return _scoped(qs, user, "enterprise__").order_by("id")


def sees_data(user: Any) -> bool:
    """Whether ``user`` may see enterprises' yearly data and what is computed from it (each
    indicator's value, what would raise the grade): everyone in scope but a bank."""
    return kind_of(user) not in (None, OrgKind.BANK)


_DATA_DERIVED = ("value", "inputs")


def explanation(user: Any, ev: Evaluation, *, suggest: bool = False) -> dict[str, Any]:
    """An evaluation's explanation as ``user`` may read it (``ev`` already in their scope).

    A bank gets the points, bands and outcome, not the values computed from the enterprise's
    data. Those who may see the data get, with ``suggest``, what would raise the grade,
    computed now from the stored submission and the policy of the evaluation.
    """
    out = dict(ev.explanation)
    out.pop("suggestions", None)  # evaluations stored before suggestions moved to reading
    if not sees_data(user):
        out["indicators"] = [
            {k: v for k, v in i.items() if k not in _DATA_DERIVED}
            for i in out.get("indicators", [])
        ]
        return out
    if suggest:
        from kvcredit.enterprises.evaluating import compiled_policy
        from kvcredit.scoring.engine import evaluate_record

        policy, sub = compiled_policy(ev.policy), ev.submission
        result = evaluate_record(policy, sub.record, on=ev.valid_from)
        out["suggestions"] = result.to_dict()["suggestions"]
    return out


def credit_lines(user: Any) -> QuerySet[CreditLine]:
    qs = CreditLine.objects.select_related("enterprise", "enterprise__district")
    return _scoped(qs, user, "enterprise__").order_by("id")


def _signed_in(qs: QuerySet[Any], user: Any) -> QuerySet[Any]:
    return qs if kind_of(user) is not None else qs.none()


def districts(user: Any) -> QuerySet[District]:
    return _signed_in(District.objects.all(), user).order_by("code", "id")


def banks(user: Any) -> QuerySet[Bank]:
    return _signed_in(Bank.objects.prefetch_related("districts"), user).order_by("code", "id")


def policies(user: Any) -> QuerySet[PublishedPolicy]:
    return _signed_in(PublishedPolicy.objects.all(), user).order_by("id")


def reevaluations(user: Any) -> QuerySet[ReevaluationJob]:
    return _signed_in(ReevaluationJob.objects.all(), user).order_by("id")


def current_policy() -> PublishedPolicy | None:
    """The policy in force: the latest published (no user scope: used by services).

    Its TOML text is deferred (read only when this process has not compiled that hash yet).
    """
    return PublishedPolicy.objects.defer("source_toml").order_by("-id").first()


def current_declared_fields(user: Any) -> tuple[Any, ...]:
    """The fields the policy in force declares (for any signed-in user; none without one)."""
    from kvcredit.enterprises.evaluating import declared_fields

    if kind_of(user) is None:
        return ()
    return declared_fields(current_policy())
