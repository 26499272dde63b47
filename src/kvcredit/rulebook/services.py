"""Publishing rulebooks and asking which rules were in force on a date.

    publish(text, actor)  validate, refuse what would rewrite the past, store (immutable), audit
    in_force(on)          the published rulebook in force on a date (None: nothing published)
    rules_on(on)          its parsed ``Rulebook`` (cached by content hash); the shipped default
                          (chongqing-2022) while nothing is published
    preview(text)         what publishing would change: the rules that differ, and whether and
                          why it would be refused

The rulebook in force on a date D is the published one with the latest ``effective`` date on or
before D. Publishing never rewrites the past: a rulebook is refused unless its effective date is
after the latest date the programme has decided anything on (``latest_decision_date``: a loan
signed, a service fee charged, a claim registered or filed, a bridge loan lent, a breaker change,
an end of day run). Two rulebooks never share an effective date. Every decision records the
content hash of the rulebook it applied (``hash_on``).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import get_language, gettext_noop
from django.utils.translation import gettext as _

from kvcredit.accounts.models import OrgKind
from kvcredit.accounts.permissions import require
from kvcredit.audit import services as audit
from kvcredit.errors import Conflict, InvalidInput, NotFound, RulebookError
from kvcredit.rulebook.domain import Rulebook, default_rulebook, diff, parse_rulebook
from kvcredit.rulebook.models import PublishedRulebook
from kvcredit.scoring.policy_text import zh_of

_PARSED: dict[str, Rulebook] = {}


def parsed(published: PublishedRulebook) -> Rulebook:
    """The published rulebook's rules, parsed once per content hash."""
    rb = _PARSED.get(published.content_hash)
    if rb is None:
        rb = parse_rulebook(published.source_toml, f"{published.rulebook_id} {published.version}")
        _PARSED[published.content_hash] = rb
    return rb


def rulebook_by_hash(content_hash: str) -> Rulebook | None:
    """The rulebook with this content hash: a published one, or the shipped default (which
    applied while nothing was published); None when neither has it."""
    rb = _PARSED.get(content_hash)
    if rb is not None:
        return rb
    if content_hash == shipped_default().content_hash:
        return shipped_default()
    published = PublishedRulebook.objects.filter(content_hash=content_hash).first()
    return None if published is None else parsed(published)


_DEFAULT: list[Rulebook] = []


def shipped_default() -> Rulebook:
    if not _DEFAULT:
        _DEFAULT.append(default_rulebook())
    return _DEFAULT[0]


def in_force(on: dt.date) -> PublishedRulebook | None:
    """The published rulebook in force on ``on``; None when none is published at all.

    Refuses (NotFound) a date before the first published rulebook's effective date."""
    found = PublishedRulebook.objects.filter(effective__lte=on).order_by("-effective").first()
    if found is None:
        if not PublishedRulebook.objects.exists():
            return None
        first = PublishedRulebook.objects.order_by("effective").first()
        assert first is not None
        raise NotFound(
            _("no rulebook is in force on %(date)s (the first is in force from %(first)s)")
            % {"date": on.isoformat(), "first": first.effective.isoformat()}
        )
    return found


def rules_on(on: dt.date) -> Rulebook:
    """The rules in force on ``on`` (the shipped default while nothing is published)."""
    published = in_force(on)
    return shipped_default() if published is None else parsed(published)


def hash_on(on: dt.date) -> str:
    """The content hash a decision on ``on`` records."""
    return rules_on(on).content_hash


def latest_decision_date() -> dt.date | None:
    """The latest date the programme has decided anything on (see the module's docstring)."""
    from kvcredit.fund.models import BreakerChange, BridgeLoan, Claim, ServiceFee
    from kvcredit.lending.models import EodRun, Loan

    dates = [
        Loan.objects.aggregate(d=Max("signing_date"))["d"],
        ServiceFee.objects.aggregate(d=Max("charged_on"))["d"],
        Claim.objects.aggregate(d=Max("registered_on"))["d"],
        Claim.objects.aggregate(d=Max("filed_on"))["d"],
        BridgeLoan.objects.aggregate(d=Max("lent_on"))["d"],
        BreakerChange.objects.aggregate(d=Max("as_of_date"))["d"],
        EodRun.objects.aggregate(d=Max("run_date"))["d"],
    ]
    known = [d for d in dates if d is not None]
    return max(known) if known else None


def _as_input(exc: RulebookError) -> InvalidInput:
    zh = (get_language() or "").lower().startswith("zh")
    return InvalidInput(
        [
            (f"source_toml.{p}" if p else "source_toml", zh_of(m) if zh else m)
            for p, m in exc.problems
        ]
    )


def parse_text(text: str) -> Rulebook:
    """Parse a rulebook for publishing: a RulebookError becomes InvalidInput naming
    ``source_toml.<key path>`` in the active language."""
    try:
        return parse_rulebook(text, "published")
    except RulebookError as exc:
        raise _as_input(exc) from None


def refusal(rb: Rulebook, *, check_past: bool = True) -> str | None:
    """Why publishing ``rb`` would be refused now (None: it would not)."""
    if "\x00" in rb.source_text:
        return _("the rulebook contains a NUL character")
    if len(rb.id) > 100 or len(rb.version) > 50:
        return _("the rulebook's id or version is too long")
    if PublishedRulebook.objects.filter(content_hash=rb.content_hash).exists():
        return _("this rulebook is already published")
    if PublishedRulebook.objects.filter(rulebook_id=rb.id, version=rb.version).exists():
        return _("rulebook %(id)s version %(version)s is published") % {
            "id": rb.id,
            "version": rb.version,
        }
    same_day = PublishedRulebook.objects.filter(effective=rb.effective).first()
    if same_day is not None:
        return _("rulebook %(other)s is already in force from %(date)s") % {
            "other": f"{same_day.rulebook_id} {same_day.version}",
            "date": rb.effective.isoformat(),
        }
    latest = latest_decision_date() if check_past else None
    if latest is not None and rb.effective <= latest:
        return _(
            "the rulebook would be in force from %(effective)s, but decisions were taken up to "
            "%(latest)s; publishing never rewrites the past: choose an effective date after "
            "%(latest)s"
        ) % {"effective": rb.effective.isoformat(), "latest": latest.isoformat()}
    return None


def publish(
    text: str, actor: Any, *, now: dt.datetime | None = None, _first_default: bool = False
) -> PublishedRulebook:
    """Validate and publish a rulebook (administrators only); refuses what would rewrite the
    past (see the module's docstring). Audited as RULEBOOK_PUBLISH."""
    require(actor, OrgKind.ADMINISTRATOR, action=gettext_noop("publish rulebooks"))
    now = now or timezone.now()
    rb = parse_text(text)
    with transaction.atomic():
        # one publisher at a time, and no decision slips in between the check and the write
        list(PublishedRulebook.objects.select_for_update().all())
        reason = refusal(rb, check_past=not _first_default)
        if reason is not None:
            raise Conflict(reason, field="source_toml")
        published = PublishedRulebook.objects.create(
            rulebook_id=rb.id,
            version=rb.version,
            effective=rb.effective,
            title=rb.header.title[:300],
            content_hash=rb.content_hash,
            source_toml=text,
            published_at=now,
            published_by=actor,
        )
        after = {
            "rulebook_id": rb.id,
            "version": rb.version,
            "effective": rb.effective.isoformat(),
            "hash": rb.content_hash,
        }
        audit.record(actor, "RULEBOOK_PUBLISH", "rulebook", published.pk, after=after, now=now)
    return published


def publish_default(actor: Any, ref: str = "") -> bool:
    """Publish the shipped default (or ``ref``: a shipped id or a path) when nothing is
    published yet (``kvcredit init``); whether it published."""
    from kvcredit.rulebook.domain import load_rulebook

    if PublishedRulebook.objects.exists():
        return False
    rb = load_rulebook(ref) if ref else shipped_default()
    # The shipped default is what applied while nothing was published (``rules_on``): an
    # upgraded programme publishes it over its past without rewriting anything.
    publish(rb.source_text, actor, _first_default=rb.content_hash == shipped_default().content_hash)
    return True


@dataclass
class Preview:
    """What publishing a rulebook would change, shown before the administrator confirms."""

    rulebook: Rulebook
    against: Rulebook | None  # the rulebook in force on its effective date now
    changes: list[tuple[str, Any, Any]] = field(default_factory=list)
    refused: str | None = None
    effects: dict[str, Any] = field(default_factory=dict)  # filled by the fund and lending


def preview(text: str, *, on: dt.date | None = None) -> Preview:
    """The rules that would change from the rulebook's effective date, whether publishing
    would be refused (and why), and its effects on the book as it stands on ``on`` (default
    today; ``kvcredit.rulebook.effects``: pairs that would trip or could be lifted, the fee,
    live loans outside the new loan rules)."""
    from kvcredit import clock
    from kvcredit.rulebook.effects import effects_on_book

    rb = parse_text(text)
    try:
        against = rules_on(rb.effective)
    except NotFound:
        against = None
    changes = diff(against, rb) if against is not None else []
    effects = effects_on_book(rb, against, on or clock.today())
    return Preview(
        rulebook=rb, against=against, changes=changes, refused=refusal(rb), effects=effects
    )
