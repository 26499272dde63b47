"""A demo programme from a seed: ``kvcredit demo load --seed S --enterprises N``.

Everything is written through the apps' services, day by day in date order, so the stored
state is what the service would hold after running the programme from ``DEMO_START``
(2021-01-01; ``years``: that many years before the end) to yesterday (``until``):

* the rulebooks in date order (``RULEBOOKS``): chongqing-2017, in force from the start, is
  published before anything happens (unless ``kvcredit init --rulebook chongqing-2017`` did);
  chongqing-2022 is published through the rulebook service at the end of 2021-12-31, after that
  day's end of day, in force from 2022-01-01 (publishing never rewrites the past). So the service
  fees charged in 2021 are waived (the pilot's waiver), those of 2022 cut by 20 %, those from 2023
  in full; the district interest subsidy (loans signed from 2020, instalments to 2022-12-31) is
  paid from 2022-01-15 for the instalments of 2021 and 2022 and stops, pro rata, at the window's
  edge; in 2022 Q4 one performing borrower asks for the deferral to 2023-06-30, its bank grants
  it, and the borrower pays the merged instalment the day after. A database holding any other
  rulebook (``kvcredit init`` publishes chongqing-2022) is refused (``DemoError``), nothing
  written;

* the shipped districts, rates and policy (``kvcredit init``), four banks each admitted to
  about half of the districts, one loan product;
* ``N`` synthetic enterprises (``kvcredit.scoring.synth``) registered and evaluated through the
  bulk import path (``enterprises.importing``), their data submitted again each year;
* two trustee users: ``trustee`` checks claims, ``trustee2`` approves them (maker-checker);
  a pool per district with its target, paid in by the city and the district 4 : 6 each year
  (the district's part in two halves), smaller in the counties;
* every month: applications (some rejected), approvals and disbursements on the 14th, about
  1.7 M yuan a loan on average (the press: 15.116 bn lent in 8,762 enterprise-times); a
  first-time borrower (首贷) while those are under the published share of enterprise-times
  (1,488 of 8,762, 17 %); beside a loan, the bank often draws in a commercial loan
  (``lending.services.record_commercial_loan``) while those are under the published 0.7 of
  the amount lent (10.552 bn beside 15.116 bn); repayments of what fell due, the service
  fees and the trustee's breaker recompute on the 15th; the end of day for every day
  (``lending.endofday``), caught up before each day on which something happens;
* at maturity, a performing borrower renews (续贷, ``lending.loans.renew``: a new loan linked
  to the old, counted as another enterprise-time) about 45 % of the time, or repays with a
  bridge loan from its district's pool (过桥, ``fund.services.lend_bridge``), borrows anew from
  the bank and repays the bridge loan with its fee ten days later; renewed loans fall due on
  the day after (the 15th, 16th...), and are repaid on the day after that;
* defaults: about 6 % of the loans in a book of at least ``MIN_BOOK`` live loans of their bank
  in their district stop paying (bullet loans at maturity, instalment loans from a random
  instalment), a few percent of all; and a downturn: in the last year ``FOCUS_DEFAULTS`` loans
  of the *focus pair* stop paying, two a month. The focus pair is the demo's ``bank``
  (重庆农村商业银行)
  in the ``district`` user's district, which gets 30 % of each month's loans: a book of some 60
  loans, whose non-performing share then passes the breaker's warning and suspension thresholds
  for a real reason (not a book of one loan). The bank registers a claim once the loan is a
  month overdue and files it the day the loan is 90 days overdue; ``trustee`` checks it (or
  rejects it, about one in twelve) days to weeks later and ``trustee2`` pays it some days after.
  A claim its pool cannot cover waits; after three months the city and the district top the pool
  up. The bank reports partial recoveries (shared pool : bank 80 : 20) and within about a year
  the trustee closes the claim (recovered) or writes it off; either way the loan is written off
  the bank's book (WRITTEN_OFF) and counts in no exposure after. The last defaults are timed so
  that at the end claims are in process at each step: registered, filed, checked and waiting for
  ``trustee2``;
* one user per role, with a printed password.

The business day (``kvcredit.day``) runs lending's end of day and then the circuit breakers,
which recompute every pair's exposure from the whole book; over the history the demo runs
lending's end of day alone (``lending.endofday.run_eod``) and the trustee's monthly recompute
(same rules, same service) stands in for the breakers; the last days are whole business days.
The suspended pairs take no new applications, renewals or claims.

The volume of loans scales with ``N`` (about one new loan a month per 500 enterprises, and
their renewals), so a demo of 5,000 enterprises (six years) loads in some three minutes on
SQLite.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import random
import tempfile
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.db.models import Sum

DEMO_PASSWORD = "kvcredit-demo-2017"
PRODUCT_CODE = "KVC_STD"
BANKS = (
    ("CQRCB", "重庆农村商业银行"),
    ("CQBANK", "重庆银行"),
    ("ABC_CQ", "中国农业银行重庆分行"),
    ("CCB_CQ", "中国建设银行重庆分行"),
)
LOAN_DAY = 14  # applications, approvals and disbursements; instalments fall due on this day
PAY_DAY = 15  # repayments, fees, recoveries and closings, the breaker recompute
RETRY_DAY = 5  # trustee2 retries the claims waiting for money
DEFAULT_RATE = 0.06  # loans that stop paying in a book of MIN_BOOK (and the focus pair's cluster)
# The programme's published shape (press figures, Chongqing): enterprise-times (家次) count every
# loan, renewals too; 1,488 of 8,762 were first-time borrowers (17 %); 10.552 bn of commercial
# loans drawn in beside 15.116 bn lent (0.7); about 1.7 M yuan a loan.
FIRST_TIME_SHARE = 1488 / 8762
COMMERCIAL_SHARE = 10.552 / 15.116
AMOUNTS_WAN = (50, 80, 100, 150, 200, 300, 500)  # a loan's request, in 10,000 yuan
AMOUNT_WEIGHTS = (1, 4, 10, 17, 22, 23, 23)
RENEW_SHARE = 0.45  # performing loans renewed at maturity (续贷) ...
BRIDGE_SHARE = 0.15  # ... and repaid with a bridge loan from the pool, then lent anew (过桥)
BRIDGE_DAYS = 10
FOCUS_SHARE = 0.3  # of the month's loans go to the focus pair (the demo bank in its district)
FOCUS_DEFAULTS = 7  # loans of the focus pair that stop paying in the last year (a downturn)
MIN_BOOK = 5  # live loans a bank holds in a district before one of them defaults there
REGISTER_AFTER = 31  # days overdue before the bank registers a claim (and up to 20 more)
FILE_AFTER = 91  # the day after the end of day that has the loan 90 days overdue
TOP_UP_AFTER = 90  # days a claim waits before the city and the district top the pool up
POOL_YUAN = {"urban": 2_000_000, "county": 800_000}  # paid in a year
# The programme's start and its rulebooks in date order: chongqing-2017 in force from the start
# (the guarantee fee waived to the end of 2021); chongqing-2022 published on 2021-12-31, in force
# from 2022-01-01 (the fee cut 20 % in 2022, district interest subsidies to 2022-12-31, the 2022
# Q4 deferral to 2023-06-30).
DEMO_START = dt.date(2021, 1, 1)
RULEBOOKS = ("chongqing-2017", "chongqing-2022")
Progress = Callable[[str], None]


class DemoError(Exception):
    """The demo cannot load into this database (nothing was written)."""


@dataclass
class Credential:
    role: str
    username: str
    password: str
    organisation: str


@dataclass
class DemoReport:
    enterprises: int = 0
    applications: int = 0
    rejected: int = 0
    loans: int = 0
    repayments: int = 0
    defaulted: int = 0
    renewals: int = 0  # loans renewed at maturity (renew: a new loan linked to the old)
    bridges: int = 0  # bridge loans from a pool to repay a matured loan, then a new loan
    commercial: int = 0  # commercial loans the banks drew in alongside
    first_time: int = 0  # loans to first-time borrowers
    lent_fen: int = 0
    commercial_fen: int = 0
    claims_paid: int = 0
    recoveries: int = 0
    eod_days: int = 0
    start: dt.date | None = None
    end: dt.date | None = None
    claims: dict[str, int] = field(default_factory=dict)  # by status at the end
    waiting: int = 0  # claims checked but waiting for money
    suspended: int = 0  # bank and district pairs suspended by the breaker at the end
    deferrals: int = 0  # deferrals granted (one per deferral rule of the rulebooks in force)
    subsidies: int = 0  # interest subsidies paid
    credentials: list[Credential] = field(default_factory=list)


def month_starts(start: dt.date, months: int) -> list[dt.date]:
    out = []
    y, m = start.year, start.month
    for _ in range(months):
        out.append(dt.date(y, m, 1))
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return out


def _months_before(day: dt.date, months: int) -> dt.date:
    y, m = divmod(day.year * 12 + day.month - 1 - months, 12)
    return dt.date(y, m + 1, 1)


def _loan_day_on_or_before(day: dt.date) -> dt.date:
    if day.day >= LOAN_DAY:
        return day.replace(day=LOAN_DAY)
    first = day.replace(day=1) - dt.timedelta(days=1)
    return first.replace(day=LOAN_DAY)


@dataclass
class _Case:
    """A defaulted loan followed from its first unpaid due date to the end of its claim."""

    loan_id: int
    bank_id: int
    overdue_from: dt.date  # the first due date left unpaid
    register_lag: int  # days after REGISTER_AFTER
    check_lag: int  # days from filing to trustee's check
    pay_lag: int  # days from the check to trustee2's approval
    reject: bool = False
    claim_id: int = 0
    overdue_principal_fen: int = 0
    recovered_fen: int = 0
    paid_on: dt.date | None = None
    waiting_since: dt.date | None = None
    topped_up: bool = False
    recovery_chance: float = 0.0  # a month, once paid
    close_on: dt.date | None = None


def load(
    *,
    seed: int = 2017,
    enterprises: int = 5000,
    until: dt.date | None = None,
    years: int | None = None,
    default_rate: float = DEFAULT_RATE,
    progress: Progress | None = None,
) -> DemoReport:
    """Generate the demo programme into the configured (empty) database; see the module doc.

    The history runs from ``DEMO_START`` (or, with ``years``, from that many years before its
    end) to ``until`` (default yesterday). ``default_rate`` is the share of loans that stop
    paying (a test's small book takes more, to have claims to follow). Raises DemoError, having
    written nothing, when the rulebooks published already do not fit the demo's."""
    from kvcredit import clock
    from kvcredit.accounts.models import Organisation, OrgKind
    from kvcredit.accounts.services import ensure_system_user
    from kvcredit.day import run_day
    from kvcredit.enterprises import services as ent_services
    from kvcredit.enterprises.importing import import_file
    from kvcredit.enterprises.models import CreditLine, District
    from kvcredit.enterprises.setup import load_initial_data
    from kvcredit.fund import services as fund
    from kvcredit.lending.endofday import run_eod
    from kvcredit.lending.models import Method
    from kvcredit.lending.services import create_product
    from kvcredit.rulebook import services as rulebook
    from kvcredit.scoring.io import write_enterprises
    from kvcredit.scoring.synth import generate

    say = progress or (lambda _msg: None)
    rng = random.Random(seed)
    report = DemoReport()
    end = until or (clock.today() - dt.timedelta(days=1))
    start = month_starts(dt.date(end.year - years, end.month, 1), 2)[1] if years else DEMO_START
    if end < start:
        raise DemoError(f"the demo runs from {start}: its last day {end} is before that")
    later = _rulebooks_to_publish(start)
    years = max(1, -(-((end.year - start.year) * 12 + end.month - start.month + 1) // 12))
    _fast_sqlite()
    system = ensure_system_user()
    load_initial_data(system, policy_id="chongqing-kvc")
    report.start, report.end = start, end
    now = dt.datetime.combine(start, dt.time(9), tzinfo=dt.UTC)
    _publish_at_start(system, start, now, say)

    # -- organisations ---------------------------------------------------------------------
    say("banks and admissions")
    districts = list(District.objects.order_by("code"))
    banks = []
    for i, (code, name) in enumerate(BANKS):
        bank = ent_services.create_bank(system, code=code, name=name, now=now)
        banks.append(bank)
        for j, d in enumerate(districts):
            if j % 2 == i % 2 or (j + i) % 4 == 0:
                ent_services.admit_bank(system, bank_id=bank.pk, district_id=d.pk, now=now)
    say(f"{enterprises} enterprises (bulk import and evaluation)")
    tmp = tempfile.TemporaryDirectory()
    data_file = Path(tmp.name) / "enterprises.parquet"
    write_enterprises(generate(enterprises, seed), data_file)
    imported = import_file(system, data_file, year=start.year - 1, now=now)
    report.enterprises = imported.registered
    product = create_product(
        system,
        code=PRODUCT_CODE,
        name="知识价值信用贷款",
        max_term_months=12,
        methods=[Method.QUARTERLY_INTEREST.value, Method.EQUAL_INSTALMENT.value],
        grace_days=3,
        now=now,
    )
    trustee_org = Organisation.objects.create(kind=OrgKind.TRUSTEE, name="风险补偿基金受托管理机构")
    users = _users(system, banks, districts, trustee_org, report)

    # -- the fund: pool targets (the fees' waivers and cuts are the rulebooks') -------------
    say("pools")
    yearly = {d.pk: _pool_yuan(d) * 100 for d in districts}
    for d in districts:
        fund.set_pool_target(users["trustee"], district_id=d.pk, target_fen=yearly[d.pk] * years)

    # -- borrowers: rated enterprises with a limit ------------------------------------------
    lines = list(
        CreditLine.objects.filter(limit_fen__gte=100_000_00)
        .select_related("enterprise", "enterprise__organisation")
        .order_by("id")
    )
    rng.shuffle(lines)
    admitted: dict[int, list[int]] = {}
    for b in banks:
        for d_id in b.admissions.values_list("district_id", flat=True):
            admitted.setdefault(d_id, []).append(b.pk)

    sim = _Programme(
        rng=rng,
        system=system,
        users=users,
        bank_users={b.pk: _bank_user(system, b) for b in banks},
        product_id=product.pk,
        lines=lines,
        admitted=admitted,
        per_month=max(2, enterprises // 500),
        yearly=yearly,
        data_file=data_file,
        start=start,
        end=end,
        default_rate=default_rate,
        report=report,
        say=say,
    )
    say(f"{start} to {end}: lending, defaults and claims")
    try:
        day = start
        while day <= end:
            if later and day >= later[0].effective:  # at the end of its eve, through the service
                rb = later.pop(0)
                eve = rb.effective - dt.timedelta(days=1)
                if report.loans:
                    report.eod_days += len(run_eod(as_of=eve, catch_up=True, actor=system))
                at = dt.datetime.combine(eve, dt.time(18), tzinfo=dt.UTC)
                rulebook.publish(rb.source_text, users["admin"], now=at)
                say(f"{eve}: rulebook {rb.id} {rb.version} published, in force from {rb.effective}")
            if sim.busy(day):
                if report.loans:  # the end of day starts with the first loan
                    eve = day - dt.timedelta(days=1)
                    report.eod_days += len(run_eod(as_of=eve, catch_up=True, actor=system))
                sim.run_day(day)
            day += dt.timedelta(days=1)
    finally:
        tmp.cleanup()
    report.eod_days += len(run_day(as_of=end, catch_up=True, actor=system))
    sim.summarise()
    return report


def _rulebooks_to_publish(start: dt.date) -> list[Any]:
    """The demo's rulebooks (``RULEBOOKS``) that take force after ``start``, to publish on the
    eve of their effective date. DemoError unless every rulebook published already is one of
    the demo's in force by ``start`` (none, or ``kvcredit init --rulebook chongqing-2017``)."""
    from kvcredit.rulebook.domain import load_rulebook
    from kvcredit.rulebook.models import PublishedRulebook

    books = [load_rulebook(ref) for ref in RULEBOOKS]
    plan = "; ".join(f"{b.id} in force from {b.effective}" for b in books)
    if start < books[0].effective:
        raise DemoError(f"the demo's rulebooks ({plan}) have none in force on {start}")
    mine = {b.content_hash for b in books if b.effective <= start}
    published = list(PublishedRulebook.objects.order_by("effective"))
    if any(p.content_hash not in mine for p in published):
        have = ", ".join(f"{p.rulebook_id} {p.version} (from {p.effective})" for p in published)
        raise DemoError(
            f"the demo runs from {start} under its rulebooks ({plan}), each published by the "
            f"eve of its effective date, but this database has {have} published already. Load "
            "the demo into an empty data directory: `kvcredit demo load` alone, or after "
            f"`kvcredit init --rulebook {RULEBOOKS[0]}`. 演示数据须载入空数据目录：直接运行 "
            f"`kvcredit demo load`，或先运行 `kvcredit init --rulebook {RULEBOOKS[0]}`。"
        )
    return [b for b in books if b.effective > start]


def _publish_at_start(system: Any, start: dt.date, now: dt.datetime, say: Progress) -> None:
    """Publish, in date order, the demo's rulebooks in force by ``start`` that come after the
    last one published (so that the rulebook in force on ``start`` is the demo's)."""
    from kvcredit.rulebook import services as rulebook
    from kvcredit.rulebook.domain import load_rulebook
    from kvcredit.rulebook.models import PublishedRulebook

    last = PublishedRulebook.objects.order_by("-effective").values_list("effective", flat=True)
    after = last.first()
    for ref in RULEBOOKS:
        rb = load_rulebook(ref)
        if rb.effective > start or (after is not None and rb.effective <= after):
            continue
        rulebook.publish(rb.source_text, system, now=now)
        say(f"rulebook {rb.id} {rb.version} published, in force from {rb.effective}")


def _pool_yuan(district: Any) -> int:
    """What the city and the district pay into the district's pool in a year (yuan)."""
    return POOL_YUAN["county" if district.name.endswith("县") else "urban"]


class _Programme:
    """The days of the demo: what each actor does on a day, through the services."""

    def __init__(
        self,
        *,
        rng: random.Random,
        system: Any,
        users: dict[str, Any],
        bank_users: dict[int, Any],
        product_id: int,
        lines: list[Any],
        admitted: dict[int, list[int]],
        per_month: int,
        yearly: dict[int, int],
        data_file: Path,
        start: dt.date,
        end: dt.date,
        default_rate: float,
        report: DemoReport,
        say: Progress,
    ) -> None:
        self.rng, self.system, self.report, self.say = rng, system, report, say
        self.trustee_a, self.trustee_b = users["trustee"], users["trustee2"]
        self.bank_users, self.product_id = bank_users, product_id
        self.demo_bank_id = users["bank"].organisation.bank.pk
        self.lines, self.admitted, self.per_month = lines, admitted, per_month
        # the focus pair: the demo's bank in the demo's district user's district, a real book
        # (a share of every month's loans) in which the last year's downturn trips the breaker
        self.focus_bank_id = self.demo_bank_id
        self.focus_district_id = users["district"].organisation.district.pk
        self.focus_lines = [x for x in lines if x.enterprise.district_id == self.focus_district_id]
        self.lines = [x for x in lines if x.enterprise.district_id != self.focus_district_id]
        self.due_days = {LOAN_DAY}  # the days of the month on which some loan falls due
        self.downturn = _months_before(end, 11)  # the focus pair's loans stop from here on
        self.yearly, self.data_file = yearly, data_file
        self.start, self.end, self.default_rate = start, end, default_rate
        self.borrowed: set[int] = set()
        self.ent_users: dict[int, Any] = {}
        self.stops: dict[int, dt.date] = {}  # loan id -> first due date it leaves unpaid
        self.defaulted: set[int] = set()  # loans whose claim is scheduled
        self.stop_pairs: set[tuple[int, int]] = set()  # (bank, district) of stopping loans
        self.today = start
        self.agenda: dict[dt.date, list[tuple[str, Any]]] = defaultdict(list)
        self.waiting: list[_Case] = []
        self.paid: list[_Case] = []
        self.slots = self._slots()
        self.forborne: set[str] = set()  # deferral rules a demo borrower was granted
        self.struck = 0  # focus loans stopped by the downturn
        # a small demo's books are all small: there any loan may default
        self.min_book = min(MIN_BOOK, max(1, per_month // 2))

    # -- the calendar ------------------------------------------------------------------------
    def _slots(self) -> dict[dt.date, str]:
        """The due dates from which three loans stop paying so that, on the last day, their
        claims are checked (waiting for trustee2), filed and registered."""
        filed = _loan_day_on_or_before(self.end - dt.timedelta(days=FILE_AFTER))
        checked = _loan_day_on_or_before(filed - dt.timedelta(days=1))
        registered = _loan_day_on_or_before(self.end - dt.timedelta(days=REGISTER_AFTER))
        first_due = month_starts(self.start, 2)[1].replace(day=LOAN_DAY)
        plan = {checked: "CHECKED", filed: "FILED", registered: "REGISTERED"}
        # and early ones, which run their whole course (paid, recovered, closed or written off)
        late = _months_before(self.end, 7).replace(day=LOAN_DAY)  # paid, still open at the end
        plan.setdefault(late, "EARLY")
        for months in (4, 7, 10):
            plan.setdefault(
                month_starts(self.start, months + 1)[months].replace(day=LOAN_DAY), "EARLY"
            )
        return {d: kind for d, kind in plan.items() if d >= first_due}

    def _anniversary(self, day: dt.date) -> bool:
        return day.day == 1 and day.month == self.start.month

    def _half_year(self, day: dt.date) -> bool:
        return day.day == 1 and day.month == month_starts(self.start, 7)[6].month

    def busy(self, day: dt.date) -> bool:
        """Whether anything happens on ``day`` (the end of day is caught up only for those)."""
        return (
            day.day in (LOAN_DAY, PAY_DAY)
            or (day.day - 1) in self.due_days
            or (day.day == RETRY_DAY and bool(self.waiting))
            or self._anniversary(day)
            or self._half_year(day)
            or day in self.agenda
        )

    def run_day(self, day: dt.date) -> None:
        self.today = day
        if self._anniversary(day):
            self._yearly(day)
        elif self._half_year(day):
            self._contribute(day, who="DISTRICT", half=2)
        for kind, case in self.agenda.pop(day, []):
            getattr(self, f"_{kind}")(case, day)
        if day.day == RETRY_DAY:
            self._retry_waiting(day)
        if day.day == LOAN_DAY:
            self._lend(day)
        if day.day == PAY_DAY:
            self._pay_day(day)
        elif (day.day - 1) in self.due_days:  # renewed and bridged loans fall due later
            self._repay_due(day)

    def _at(self, day: dt.date, kind: str, case: Any) -> None:
        """Schedule a step of a claim (on a later day: today's agenda has been read)."""
        self.agenda[max(day, self.today + dt.timedelta(days=1))].append((kind, case))

    # -- the fund's year -----------------------------------------------------------------------
    def _yearly(self, day: dt.date) -> None:
        from kvcredit.enterprises.importing import import_file

        if day != self.start:  # the yearly data: new evaluations, limits valid a year
            self.say(f"{day.year}: yearly data and evaluations")
            at = dt.datetime.combine(day, dt.time(8), tzinfo=dt.UTC)
            import_file(self.system, self.data_file, year=day.year - 1, now=at)
        self._contribute(day, who="CITY")
        self._contribute(day, who="DISTRICT", half=1)

    def _contribute(self, day: dt.date, *, who: str, half: int = 0) -> None:
        """The city's 40 % of the year's amount, or one half of the district's 60 %."""
        from kvcredit.fund import config
        from kvcredit.fund import services as fund
        from kvcredit.fund.domain.rules import contribution_split

        rules = config.rules(day)
        for district_id, total in self.yearly.items():
            city, district = contribution_split(total, rules)
            amount = city if who == "CITY" else (district + 1) // 2 if half == 1 else district // 2
            ref = f"{who} {day.year}" + (f" {half}/2" if half else "")
            fund.record_contribution(
                self.trustee_a,
                district_id=district_id,
                contributor=who,
                amount_fen=amount,
                paid_date=day,
                reference=ref,
            )

    # -- lending ---------------------------------------------------------------------------
    def _ent_user(self, ent: Any) -> Any:
        from kvcredit.accounts.models import User

        if ent.pk not in self.ent_users:
            u = User(username=f"ent{ent.pk}", organisation=ent.organisation)
            u.set_unusable_password()
            u.save()
            self.ent_users[ent.pk] = u
        return self.ent_users[ent.pk]

    def _next_line(self) -> tuple[Any, bool]:
        """The next borrower: from the focus district a share of the time (and from the
        demo's bank there), else from anywhere."""
        if self.focus_lines and (self.rng.random() < FOCUS_SHARE or not self.lines):
            return self.focus_lines.pop(), True
        return (self.lines.pop(), False) if self.lines else (None, False)

    def _first_time(self) -> bool:
        """A first-time borrower (首贷) while their share of enterprise-times is under the
        published one."""
        return self.report.first_time < FIRST_TIME_SHARE * (self.report.loans + 1)

    def _lend(self, day: dt.date) -> None:
        from kvcredit.errors import ServiceError
        from kvcredit.lending.models import Method

        rng = self.rng
        for _ in range(self.per_month):
            line, focus = self._next_line()
            if line is None:
                break
            ent = line.enterprise
            choices = self.admitted.get(ent.district_id)
            if not choices:
                continue
            bank_id = self.focus_bank_id if focus else rng.choice(choices)
            wan = rng.choices(AMOUNTS_WAN, weights=AMOUNT_WEIGHTS)[0]
            amount = min(line.limit_fen, wan * 10_000_00)
            method = rng.choice([Method.QUARTERLY_INTEREST] * 3 + [Method.EQUAL_INSTALMENT])
            try:
                loan = self._new_loan(ent, bank_id, amount, method, day, first=self._first_time())
            except ServiceError:
                continue  # e.g. the bank is suspended in the district by the breaker
            if loan is None:
                continue
            if rng.random() < self.default_rate and self._book(loan) >= self.min_book:
                # a bullet loan fails at maturity; an instalment loan from a random instalment
                seq = 12 if method == Method.QUARTERLY_INTEREST else rng.randint(3, 12)
                due = loan.instalments.filter(seq__lte=seq).order_by("-seq").first()
                self.stops[loan.pk] = due.due_date if due else loan.maturity_date
                self.stop_pairs.add((loan.bank_id, loan.district_id))

    @staticmethod
    def _book(loan: Any) -> int:
        """The live loans of the loan's bank in its district (a default in a book of one or
        two would be a breaker's noise, not a story)."""
        from kvcredit.lending.models import LIVE_STATUSES, Loan

        return Loan.objects.filter(
            bank_id=loan.bank_id, district_id=loan.district_id, status__in=LIVE_STATUSES
        ).count()

    def _new_loan(
        self, ent: Any, bank_id: int, amount: int, method: Any, day: dt.date, *, first: bool
    ) -> Any:
        """Apply, and (nine times in ten) approve and disburse; the bank draws a commercial
        loan in beside it while those are under their published share of the amount lent."""
        from kvcredit.lending import loans as lending

        rng, report = self.rng, self.report
        stamp = dt.datetime.combine(day, dt.time(10), tzinfo=dt.UTC)
        app = lending.apply(
            self._ent_user(ent),
            bank_id=bank_id,
            product_id=self.product_id,
            amount_fen=amount,
            term_months=12,
            method=method.value,
            purpose=rng.choice(["研发投入", "设备采购", "流动资金", "技术改造"]),
            first_time_borrower=first,
            today=day,
            now=stamp,
        )
        report.applications += 1
        banker = self.bank_users[bank_id]
        if rng.random() < 0.1:
            lending.reject(banker, application_id=app.pk, reason="经营数据不足", now=stamp)
            report.rejected += 1
            return None
        lending.approve(
            banker, application_id=app.pk, amount_fen=app.amount_fen, today=day, now=stamp
        )
        loan = lending.disburse(
            banker, application_id=app.pk, disbursed_on=day, today=day, now=stamp
        )
        self.borrowed.add(ent.pk)
        self._count(loan, first=first)
        return loan

    def _count(self, loan: Any, *, first: bool = False) -> None:
        from kvcredit.lending import services as lending_services

        rng, report = self.rng, self.report
        report.loans += 1
        report.first_time += first
        report.lent_fen += loan.amount_fen
        self.due_days.add(loan.disbursed_on.day)
        if report.commercial_fen < COMMERCIAL_SHARE * report.lent_fen and rng.random() < 0.6:
            amount = max(10, round(loan.amount_fen * rng.uniform(0.6, 1.8) / 10_000_00)) * 10_000_00
            lending_services.record_commercial_loan(
                self.bank_users[loan.bank_id],
                enterprise_id=loan.enterprise_id,
                amount_fen=amount,
                loan_date=loan.disbursed_on,
                term_months=rng.choice([6, 12, 12, 24, 36]),
                reference=f"CL-{loan.pk}",
                today=loan.disbursed_on,
                now=dt.datetime.combine(loan.disbursed_on, dt.time(10, 30), tzinfo=dt.UTC),
            )
            report.commercial += 1
            report.commercial_fen += amount

    # -- the 15th: repayments, fees, recoveries and closings, the breakers --------------------
    def _pay_day(self, day: dt.date) -> None:
        from kvcredit.fund import breakers, subsidies
        from kvcredit.fund import services as fund

        self._repay_due(day)
        self._forbear(day)
        self.report.subsidies += len(subsidies.pay_subsidies(self.trustee_a, on=day).paid)
        fund.charge_service_fees(self.trustee_a, on=day)
        self._follow_paid(day)
        # the trustee's recompute closes the day (the business day's breaker step's stand-in)
        breakers.recompute(self.trustee_a, as_of=day)

    def _repay_due(self, day: dt.date) -> None:
        """Each performing borrower pays what fell due; a defaulter from its stop date on."""
        from kvcredit.fund.models import Breaker, BreakerLevel
        from kvcredit.lending.models import Loan, LoanStatus

        fell_due = day - dt.timedelta(days=1)
        due = list(
            Loan.objects.filter(status=LoanStatus.ACTIVE)
            .exclude(due_principal_fen=0, due_interest_fen=0, penalty_fen=0)
            .order_by("id")
        )
        slot = self.slots.pop(fell_due, None)
        if slot is not None:  # one borrower stops paying now, timed for the end (see _slots)
            suspended = set(
                Breaker.objects.filter(state=BreakerLevel.SUSPENDED).values_list(
                    "bank_id", "district_id"
                )
            )
            # a bank whose book in the district holds another default would be suspended by
            # the breaker before this claim is filed: such pairs are passed over
            taken = suspended | self.stop_pairs
            candidates = [
                loan
                for loan in due
                if loan.pk not in self.stops
                and loan.due_principal_fen > 0
                and loan.oldest_unpaid_due_date == fell_due
                and (loan.bank_id, loan.district_id) not in taken
            ]
            # the demo's ``bank`` user sees them when it can
            mine = [loan for loan in candidates if loan.bank_id == self.demo_bank_id]
            if candidates:
                chosen = self.rng.choice(mine or candidates)
                self.stops[chosen.pk] = fell_due
                self.stop_pairs.add((chosen.bank_id, chosen.district_id))
                self._default(chosen, planned=slot)
        if day >= self.downturn:
            self._strike(due, fell_due)
        stamp = dt.datetime.combine(day, dt.time(11), tzinfo=dt.UTC)
        for loan in due:
            stop = self.stops.get(loan.pk)
            if stop is not None and day > stop:
                if loan.pk not in self.defaulted:
                    self._default(loan)
                continue
            if loan.maturity_date == fell_due and self._roll_over(loan, day, stamp):
                continue
            self._repay(loan, day, stamp)

    def _repay(
        self, loan: Any, day: dt.date, stamp: dt.datetime, *, only_interest: bool = False
    ) -> None:
        from kvcredit.lending import repayments

        owed = loan.due_interest_fen + loan.penalty_fen
        if not only_interest:
            owed += loan.due_principal_fen
        if owed <= 0:
            return
        repayments.repay(
            self.bank_users[loan.bank_id],
            loan_id=loan.pk,
            amount_fen=owed,
            paid_on=day,
            today=day,
            reference=f"DEMO-{loan.pk}-{day:%Y%m%d}" + ("-I" if only_interest else ""),
            now=stamp,
        )
        self.report.repayments += 1

    def _strike(self, due: list[Any], fell_due: dt.date) -> None:
        """The downturn: loans of the focus pair stop paying, two a month, until
        ``FOCUS_DEFAULTS`` have: their non-performing share of the pair's book trips its
        breaker (warning, then suspension)."""
        pair = (self.focus_bank_id, self.focus_district_id)
        hit = [
            loan
            for loan in due
            if (loan.bank_id, loan.district_id) == pair
            and loan.pk not in self.stops
            and loan.due_principal_fen + loan.due_interest_fen > 0
            and loan.oldest_unpaid_due_date == fell_due
        ]
        self.rng.shuffle(hit)
        for loan in hit[: min(2, FOCUS_DEFAULTS - self.struck)]:
            self.stops[loan.pk] = fell_due
            self.stop_pairs.add(pair)
            self.struck += 1

    def _roll_over(self, loan: Any, day: dt.date, stamp: dt.datetime) -> bool:
        """At maturity a performing borrower may renew (续贷) or repay with a bridge loan and
        borrow anew; False: it repays as usual."""
        if loan.due_principal_fen <= 0:
            return False
        r = self.rng.random()
        if r < RENEW_SHARE:
            return self._renew(loan, day, stamp)
        if r < RENEW_SHARE + BRIDGE_SHARE:
            return self._bridge(loan, day, stamp)
        return False

    def _renew(self, loan: Any, day: dt.date, stamp: dt.datetime) -> bool:
        """The interest and any penalty first, then the principal rolls into a new loan."""
        from kvcredit.errors import ServiceError
        from kvcredit.lending import loans as lending

        self._repay(loan, day, stamp, only_interest=True)
        try:
            new = lending.renew(
                self.bank_users[loan.bank_id], loan_id=loan.pk, today=day, now=stamp
            )
        except ServiceError:  # no valid evaluation, over the limit, suspended: repaid instead
            loan.refresh_from_db()
            self._repay(loan, day, stamp)
            return True
        self.report.renewals += 1
        self.report.repayments += 1  # the old loan's principal, paid off by the renewal
        self._count(new)
        return True

    def _bridge(self, loan: Any, day: dt.date, stamp: dt.datetime) -> bool:
        """The pool lends the principal for a few days (过桥); the borrower repays the loan,
        borrows anew from the bank and repays the bridge loan with its fee."""
        from kvcredit.errors import ServiceError
        from kvcredit.fund import services as fund
        from kvcredit.lending.models import Method

        try:
            bridge = fund.lend_bridge(
                self.trustee_a,
                enterprise_id=loan.enterprise_id,
                principal_fen=loan.due_principal_fen,
                term_days=BRIDGE_DAYS,
                on=day,
                bank_id=loan.bank_id,
                purpose="续贷过桥：归还到期贷款本金",
            )
        except ServiceError:  # the pool cannot lend so much now: the borrower repays itself
            return False
        self._repay(loan, day, stamp)
        self.report.bridges += 1
        ent, method = loan.enterprise, Method(loan.method)
        # the bank may lend no more: the borrower repays the bridge loan all the same
        with contextlib.suppress(ServiceError):
            self._new_loan(ent, loan.bank_id, loan.amount_fen, method, day, first=False)
        self._at(day + dt.timedelta(days=BRIDGE_DAYS - 2), "bridge_back", bridge.pk)
        return True

    def _bridge_back(self, bridge_id: int, day: dt.date) -> None:
        from kvcredit.fund import services as fund
        from kvcredit.fund.models import BridgeLoan

        b = BridgeLoan.objects.get(pk=bridge_id)
        fund.repay_bridge(
            self.trustee_a, bridge_id=b.pk, amount_fen=b.outstanding_fen + b.fee_due_fen, on=day
        )

    def _forbear(self, day: dt.date) -> None:
        """While a deferral rule of the rulebook in force can be granted, one performing
        borrower with an instalment in its window asks its bank, which grants it."""
        from kvcredit import relief
        from kvcredit.errors import ServiceError
        from kvcredit.lending import deferrals
        from kvcredit.lending.domain import deferral as dd
        from kvcredit.lending.models import Loan, LoanStatus

        for rule in relief.rules_on(day).deferrals:
            if rule.key in self.forborne or not dd.may_grant_on(rule, day):
                continue
            candidates = (
                Loan.objects.filter(
                    status=LoanStatus.ACTIVE,
                    next_due_date__gte=max(rule.window_from, day),
                    next_due_date__lt=rule.window_to,
                    due_principal_fen=0,
                    due_interest_fen=0,
                )
                .exclude(pk__in=self.stops)
                .select_related("enterprise", "district")
                .order_by("id")[:20]
            )
            for loan in candidates:
                if not any(r.key == rule.key for r in deferrals.eligible_rules(loan, day)):
                    continue
                try:
                    d = deferrals.request(
                        self._ent_user(loan.enterprise),
                        loan_id=loan.pk,
                        rule=rule.key,
                        reason="受疫情影响，申请延期还本付息",
                        today=day,
                    )
                    deferrals.grant(self.bank_users[loan.bank_id], deferral_id=d.pk, today=day)
                except ServiceError:
                    continue
                self.forborne.add(rule.key)
                self.report.deferrals += 1
                # the deferred plan falls due on the deferral date: the borrower pays the next day
                self._at(rule.defer_to + dt.timedelta(days=1), "due", loan.pk)
                break

    def _due(self, _loan_id: int, day: dt.date) -> None:
        """What fell due yesterday off the usual days (a deferred plan's date) is paid."""
        if day.day != PAY_DAY and (day.day - 1) not in self.due_days:
            self._repay_due(day)

    def _default(self, loan: Any, *, planned: str = "") -> None:
        """The loan has left its due date unpaid and will pay no more: schedule its claim."""
        rng, end = self.rng, self.end
        self.defaulted.add(loan.pk)
        self.report.defaulted += 1
        since = loan.oldest_unpaid_due_date
        filed_on = since + dt.timedelta(days=FILE_AFTER)
        case = _Case(
            loan_id=loan.pk,
            bank_id=loan.bank_id,
            overdue_from=since,
            register_lag=rng.randint(0, 20),
            check_lag=rng.randint(3, 30),
            pay_lag=rng.randint(2, 20),
            reject=not planned and rng.random() < 1 / 12,
        )
        if planned == "REGISTERED":
            room = (end - since).days - REGISTER_AFTER
            case.register_lag = rng.randint(0, max(room, 0))
        elif planned == "FILED":  # the trustee's check falls after the end
            case.check_lag = (end - filed_on).days + rng.randint(3, 15)
        elif planned == "CHECKED":  # checked before the end, approval after it
            room = (end - filed_on).days
            case.check_lag = rng.randint(min(3, room), min(25, room))
            case.pay_lag = room - case.check_lag + rng.randint(3, 15)
        self._at(since + dt.timedelta(days=REGISTER_AFTER + case.register_lag), "register", case)

    # -- the claim's steps -----------------------------------------------------------------
    def _register(self, case: _Case, day: dt.date) -> None:
        from kvcredit.errors import ServiceError
        from kvcredit.fund import claims

        try:
            c = claims.register(self.bank_users[case.bank_id], loan_id=case.loan_id, on=day)
        except ServiceError:
            return  # e.g. the bank is suspended in the district: no claim
        case.claim_id = c.pk
        self._at(max(day, case.overdue_from + dt.timedelta(days=FILE_AFTER)), "file", case)

    def _file(self, case: _Case, day: dt.date) -> None:
        from kvcredit.errors import ServiceError
        from kvcredit.fund import claims
        from kvcredit.lending.models import Loan

        dpd = Loan.objects.values_list("days_past_due", flat=True).get(pk=case.loan_id)
        if dpd < 90:  # not yet: the day it will be
            self._at(day + dt.timedelta(days=90 - dpd), "file", case)
            return
        try:
            c = claims.file(self.bank_users[case.bank_id], claim_id=case.claim_id, on=day)
        except ServiceError:
            return  # suspended meanwhile by another loan: the claim stays registered
        case.overdue_principal_fen = c.overdue_principal_fen
        self._at(day + dt.timedelta(days=case.check_lag), "check", case)

    def _check(self, case: _Case, day: dt.date) -> None:
        from kvcredit.fund import claims

        if case.reject:
            claims.reject(
                self.trustee_a,
                claim_id=case.claim_id,
                on=day,
                reason="代偿申请材料不全（缺少催收记录），退回银行",
            )
            return
        claims.check(self.trustee_a, claim_id=case.claim_id, on=day, note="资料齐全，同意代偿")
        self._at(day + dt.timedelta(days=case.pay_lag), "pay", case)

    def _pay(self, case: _Case, day: dt.date) -> None:
        from kvcredit.errors import Conflict
        from kvcredit.fund import claims

        try:
            c = claims.pay(self.trustee_b, claim_id=case.claim_id, on=day)
        except Conflict:  # the borrower caught up since the check: the fund pays nothing
            if case in self.waiting:
                self.waiting.remove(case)
            claims.reject(
                self.trustee_a,
                claim_id=case.claim_id,
                on=day,
                reason="借款企业已补还逾期本金，不再符合代偿条件，退回银行",
            )
            return
        if c.waiting_for_funds:
            case.waiting_since = c.waiting_since
            if case not in self.waiting:
                self.waiting.append(case)
            return
        if case in self.waiting:
            self.waiting.remove(case)
        self.report.claims_paid += 1
        case.paid_on = day
        case.overdue_principal_fen = c.overdue_principal_fen  # as it stood at payment
        # most borrowers pay something back through the bank's collection; some nothing
        case.recovery_chance = 0.45 if self.rng.random() < 0.6 else 0.08
        case.close_on = day + dt.timedelta(days=self.rng.randint(120, 360))
        self.paid.append(case)

    def _retry_waiting(self, day: dt.date) -> None:
        """trustee2 tries the waiting claims again; after three months of waiting the city and
        the district pay the claim's amount into the pool (4 : 6)."""
        from kvcredit.fund import config
        from kvcredit.fund import services as fund
        from kvcredit.fund.domain.rules import contribution_split
        from kvcredit.fund.models import Claim

        for case in list(self.waiting):
            assert case.waiting_since is not None
            if not case.topped_up and (day - case.waiting_since).days >= TOP_UP_AFTER:
                claim = Claim.objects.select_related("pool").get(pk=case.claim_id)
                top_up = -(-claim.amount_fen // 10_000_000) * 10_000_000  # whole 100,000 yuan
                city, district = contribution_split(top_up, config.rules(day))
                for who, amount in (("CITY", city), ("DISTRICT", district)):
                    fund.record_contribution(
                        self.trustee_a,
                        district_id=claim.pool.district_id,
                        contributor=who,
                        amount_fen=amount,
                        paid_date=day,
                        reference=f"{who} 追加出资 claim {claim.pk}",
                    )
                case.topped_up = True
            self._pay(case, day)

    def _follow_paid(self, day: dt.date) -> None:
        """The bank reports what it recovers; the trustee closes or writes off the claim."""
        from kvcredit.fund import claims

        rng = self.rng
        for case in list(self.paid):
            assert case.paid_on is not None and case.close_on is not None
            if (day - case.paid_on).days < 30:
                continue
            left = case.overdue_principal_fen - case.recovered_fen
            if day >= case.close_on:
                recovered_enough = case.recovered_fen * 10 >= case.overdue_principal_fen * 3
                claims.close(
                    self.trustee_a,
                    claim_id=case.claim_id,
                    on=day,
                    written_off=not recovered_enough,
                    reason="追偿程序终结，结案"
                    if recovered_enough
                    else "借款企业已破产清算，剩余损失按规定核销",
                )
                self.paid.remove(case)
            elif left > 0 and rng.random() < case.recovery_chance:
                share = rng.uniform(0.08, 0.3)
                amount = min(left, max(100, int(case.overdue_principal_fen * share) // 100 * 100))
                claims.recover(
                    self.bank_users[case.bank_id], claim_id=case.claim_id, amount_fen=amount, on=day
                )
                case.recovered_fen += amount
                self.report.recoveries += 1
                if case.recovered_fen == case.overdue_principal_fen:
                    claims.close(
                        self.trustee_a,
                        claim_id=case.claim_id,
                        on=day,
                        written_off=False,
                        reason="全部追回，结案",
                    )
                    self.paid.remove(case)

    def summarise(self) -> None:
        from django.db.models import Count

        from kvcredit.fund.models import Breaker, BreakerLevel, Claim
        from kvcredit.fund.selectors import waiting_for_funds

        rows = Claim.objects.values_list("status").annotate(n=Count("id"))
        self.report.claims = {status: n for status, n in rows}
        self.report.waiting = Claim.objects.filter(waiting_for_funds()).count()
        self.report.suspended = Breaker.objects.filter(state=BreakerLevel.SUSPENDED).count()


def _fast_sqlite() -> None:
    """A demo is rebuilt, not recovered: on SQLite, skip the fsync of each day's commit."""
    from django.db import connection

    if connection.vendor == "sqlite" and not connection.in_atomic_block:
        with connection.cursor() as c:
            c.execute("PRAGMA journal_mode=WAL").fetchall()
            c.execute("PRAGMA synchronous=OFF")


def _bank_user(system: Any, bank: Any) -> Any:
    from kvcredit.accounts.models import User

    u = User.objects.filter(organisation=bank.organisation).order_by("id").first()
    if u is None:
        u = User(username=f"bank-{bank.code.lower()}", organisation=bank.organisation)
        u.set_unusable_password()
        u.save()
    return u


def _users(
    system: Any, banks: list[Any], districts: list[Any], trustee_org: Any, report: DemoReport
) -> dict[str, Any]:
    """One user per role (two trustees), with the demo password; the administrator is
    ``admin``; the enterprise user belongs to a rated enterprise of the first bank's district."""
    from kvcredit.enterprises.models import CreditLine

    first = banks[0]
    district = first.admissions.order_by("district__code").first().district
    line = (
        CreditLine.objects.filter(enterprise__district=district, limit_fen__gte=500_000_00)
        .select_related("enterprise__organisation")
        .order_by("-limit_fen", "id")
        .first()
    )
    plan = [
        ("administrator", "admin", system.organisation),
        ("bank", "bank", first.organisation),
        ("district", "district", district.organisation),
        ("trustee", "trustee", trustee_org),
        ("trustee", "trustee2", trustee_org),
    ]
    if line is not None:
        plan.append(("enterprise", "enterprise", line.enterprise.organisation))
    from django.contrib.auth.hashers import make_password
    from django.db import transaction
    from django.utils import timezone

    from kvcredit.accounts.models import User
    from kvcredit.audit import services as audit

    hashed = make_password(DEMO_PASSWORD)  # hashed once: the demo users share it
    out = {}
    for role, username, org in plan:
        with transaction.atomic():
            u = User.objects.create(username=username, organisation=org, password=hashed)
            after = {"username": username, "organisation_id": org.pk}
            audit.record(system, "USER_CREATE", "user", u.pk, after=after, now=timezone.now())
        out[username] = u
        report.credentials.append(Credential(role, username, DEMO_PASSWORD, org.name))
    return out


def books_balance() -> bool:
    """Every journal entry of the fund balances (debits equal credits), overall and per entry."""
    from kvcredit.fund.models import Posting

    total = Posting.objects.aggregate(s=Sum("amount_fen"))["s"] or 0
    per_entry = (
        Posting.objects.values("entry_id").annotate(s=Sum("amount_fen")).exclude(s=0).exists()
    )
    return total == 0 and not per_entry


# -- kvcredit demo load ---------------------------------------------------------------------
def cli_load(seed: int, enterprises: int, until: str | None, years: int | None) -> None:
    """Migrate, load the demo and print what was made with the users' credentials."""
    import time

    from rich.console import Console

    from kvcredit.site import paths
    from kvcredit.site.bootstrap import django_setup

    paths.ensure_secret_key()
    django_setup()
    from django.conf import settings
    from django.core.management import call_command

    out = Console()
    started = time.monotonic()
    settings.DATA_DIR.mkdir(parents=True, exist_ok=True)
    call_command("migrate", interactive=False, verbosity=0)
    day = dt.date.fromisoformat(until) if until else None

    def say(msg: str) -> None:
        out.print(f"[dim]{time.monotonic() - started:6.1f}s[/dim] {msg}")

    try:
        r = load(seed=seed, enterprises=enterprises, until=day, years=years, progress=say)
    except DemoError as exc:
        Console(stderr=True).print(f"[red]{exc}[/red]")
        raise SystemExit(1) from None
    paths.mark_demo(settings.DATA_DIR)  # served on this machine over plain http
    say(
        f"{r.enterprises} enterprises, {r.applications} applications ({r.rejected} rejected), "
        f"{r.loans} loans, {r.repayments} repayments, {r.defaulted} defaulted, "
        f"{r.claims_paid} claims paid, {r.recoveries} recoveries, {r.eod_days} days closed "
        f"({r.start} to {r.end}); fund books balance: {books_balance()}"
    )
    statuses = ", ".join(f"{n} {status.lower()}" for status, n in sorted(r.claims.items()))
    say(
        f"{r.renewals} renewals and {r.bridges} bridge loans at maturity; "
        f"{r.first_time} first-time borrowers ({r.first_time / max(r.loans, 1):.0%} of the "
        f"enterprise-times); average loan {r.lent_fen / max(r.loans, 1) / 100:,.0f} yuan; "
        f"{r.commercial} commercial loans drawn in, {r.commercial_fen / max(r.lent_fen, 1):.2f} "
        "of the amount lent"
    )
    say(
        f"claims: {statuses or 'none'} ({r.waiting} waiting for money); "
        f"{r.suspended} bank and district pairs suspended by the circuit breaker; "
        f"{r.deferrals} deferrals granted, {r.subsidies} interest subsidies paid"
    )
    out.print("\n[bold]Users[/bold] (password for all: " + DEMO_PASSWORD + ")")
    for c in r.credentials:
        out.print(f"  {c.role:<14} {c.username:<10} {c.password}  {c.organisation}")
