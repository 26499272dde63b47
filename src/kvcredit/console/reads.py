"""Reads the console composes from the apps' selectors (scoping stays in the selectors).

Where a page needs a read no app offers yet (the administrator's list of users and
organisations), it is here, and it answers nothing to anyone else.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db.models import Q, QuerySet
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from kvcredit.accounts.models import Organisation, OrgKind, User
from kvcredit.accounts.permissions import kind_of, sees_everything
from kvcredit.enterprises import selectors
from kvcredit.enterprises.evaluating import compiled_policy
from kvcredit.enterprises.models import CreditLine, Enterprise, Evaluation
from kvcredit.errors import NotFound
from kvcredit.scoring.engine import evaluate_record
from kvcredit.scoring.fields import BY_NAME


def chinese() -> bool:
    return (get_language() or "").lower().startswith("zh")


def label(en: str, zh: str) -> str:
    """A bilingual data label (policies and the data dictionary carry both languages)."""
    return (zh or en) if chinese() else (en or zh)


def field_label(name: str) -> str:
    f = BY_NAME.get(name)
    return label(f.en, f.zh) if f else name


def declared_label(f: Any) -> str:
    """A declared field's label in the active language (its Chinese header, its description)."""
    return label(f.en or f.name, f.zh)


def policy_title(published: Any) -> str:
    header = compiled_policy(published).doc.policy
    return label(header.title, header.title_zh)


def own_enterprise(user: Any) -> Enterprise:
    """The enterprise an enterprise user belongs to."""
    ent = selectors.enterprises(user).first() if kind_of(user) == OrgKind.ENTERPRISE else None
    if ent is None:
        raise NotFound(_("no enterprise for this user"))
    return ent


def enterprise(user: Any, pk: int) -> Enterprise:
    ent = selectors.enterprises(user).filter(pk=pk).first()
    if ent is None:
        raise NotFound(_("no such enterprise"))
    return ent


def latest_evaluation(user: Any, ent: Enterprise) -> Evaluation | None:
    qs = selectors.evaluations(user).filter(enterprise=ent).select_related("policy", "submission")
    return qs.order_by("-id").first()


@dataclass(frozen=True)
class Indicator:
    label: str
    points: Decimal
    max_points: Decimal


@dataclass(frozen=True)
class Advice:
    field: str
    current: Decimal
    increase: Decimal
    new_grade: str | None
    reason: str


@dataclass(frozen=True)
class Explained:
    evaluation: Evaluation
    indicators: list[Indicator]
    knocked_out_by: list[str]
    qualified_by: str
    suggestions: list[Advice] = field(default_factory=list)
    data_visible: bool = False
    policy_title: str = ""
    groups: list[tuple[str, Decimal]] = field(default_factory=list)  # every sub-score
    failed_requirements: list[str] = field(default_factory=list)
    routes: list[str] = field(default_factory=list)  # every route that holds


def explain(user: Any, ev: Evaluation) -> Explained:
    """An evaluation's indicator points (with each maximum) and what would raise its grade.

    The suggestions need the enterprise's data, so they are computed only for users who may
    see its submissions (never for a bank).
    """
    policy = compiled_policy(ev.policy)
    c = policy.compiled
    stored = _stored_points(ev.explanation)
    rules = (*c.basic, *c.routes, *c.uplifts, *c.requirements)
    names = {r.id: label(r.label, r.label_zh) or r.id for r in rules}
    stored_groups = ev.explanation.get("groups", {})
    groups = [
        (label(g.label, g.label_zh) or g.id, Decimal(str(stored_groups[g.id])))
        for g in c.groups
        if g.id in stored_groups
    ]
    indicators = [
        Indicator(
            label(ind.label, ind.label_zh) or ind.id,
            Decimal(stored.get(ind.id, "0")),
            Decimal(_max_points(ind)) / c.points_scale,
        )
        for ind in c.indicators
    ]
    knocked = [names.get(k, k) for k in ev.explanation.get("knocked_out_by", [])]
    qualified = ev.explanation.get("qualified_by") or ""
    sub = selectors.submissions(user).filter(pk=ev.submission_id).first()
    advice: list[Advice] = []
    if sub is not None:
        for s in evaluate_record(policy, sub.record, on=ev.valid_from).suggestions:
            reason = names.get(s.reason) or _indicator_label(c, s.reason)
            advice.append(Advice(field_label(s.field), s.current, s.increase, s.new_grade, reason))
    return Explained(
        ev,
        indicators,
        knocked,
        names.get(qualified, qualified),
        advice,
        sub is not None,
        policy_title(ev.policy),
        groups,
        [names.get(k, k) for k in ev.explanation.get("failed_requirements", [])],
        [names.get(k, k) for k in ev.explanation.get("routes", [])],
    )


def _stored_points(explanation: dict[str, Any]) -> dict[str, str]:
    """Points by indicator id from either evaluation path's stored explanation."""
    if "indicators" in explanation:
        return {i["id"]: str(i["points"]) for i in explanation["indicators"]}
    return {k: str(v) for k, v in explanation.get("points", {}).items()}


def _max_points(ind: Any) -> int:
    constant = [] if ind.constant is None else [ind.constant]
    points = [*(p for a in ind.alternatives for p in a.points), *(r.points for r in ind.rungs)]
    return max([*points, *constant, 0])


def _indicator_label(c: Any, ident: str) -> str:
    for ind in c.indicators:
        if ind.id == ident:
            return label(ind.label, ind.label_zh) or ident
    return ident


def credit_lines(
    user: Any, *, district_id: int | None = None, grade: str = "", query: str = ""
) -> QuerySet[CreditLine]:
    """Credit lines the user may see, filtered by district, grade and name or USCC."""
    qs = selectors.credit_lines(user).select_related("evaluation")
    if district_id is not None:
        qs = qs.filter(enterprise__district_id=district_id)
    if grade == "-":
        qs = qs.filter(Q(evaluation__isnull=True) | Q(evaluation__eligible=False))
    elif grade:
        qs = qs.filter(evaluation__grade=grade, evaluation__eligible=True)
    if query:
        qs = qs.filter(Q(enterprise__name__icontains=query) | Q(enterprise__uscc=query.upper()))
    return qs.order_by("enterprise__district__code", "enterprise__name", "id")


def visible_districts(user: Any) -> QuerySet[Any]:
    """Districts whose enterprises the user sees (all for the programme-wide roles)."""
    qs = selectors.districts(user)
    if sees_everything(user):
        return qs
    org = getattr(user, "organisation_id", None)
    mine = Q(organisation_id=org) | Q(admissions__bank__organisation_id=org)
    return qs.filter(mine).distinct()


def users(user: Any) -> QuerySet[User]:
    """Every user, for the administrator; nobody else lists users."""
    if kind_of(user) != OrgKind.ADMINISTRATOR:
        return User.objects.none()
    return User.objects.select_related("organisation").order_by("organisation__kind", "username")


def organisations(user: Any) -> QuerySet[Organisation]:
    if kind_of(user) != OrgKind.ADMINISTRATOR:
        return Organisation.objects.none()
    return Organisation.objects.order_by("kind", "name", "id")
