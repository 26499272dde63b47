"""A demo programme from a seed: ``kvcredit demo load --seed S --enterprises N``.

Everything is written through the apps' services, in date order, so the stored state is what
the service would hold after running the programme for three years:

* the shipped districts, rates and policy (``kvcredit init``), four banks each admitted to
  half of the districts, one loan product;
* ``N`` synthetic enterprises (``kvcredit.scoring.synth``) registered and evaluated through the
  bulk import path (``enterprises.importing``);
* two trustee users (maker and checker), pools funded by the city and the districts, a
  service-fee reduction window in the second year;
* every month: applications (some rejected), approvals and disbursements on the 14th; the end
  of day run for every day (``lending.endofday``, the breaker hook included); repayments of what
  fell due on the 15th; a few borrowers stop paying and, once 90 days overdue, the bank files a
  claim that trustee A checks and trustee B pays; later some money is recovered;
* one user per role, with a printed password.

The volume of loans scales with ``N`` (about one loan a month per 500 enterprises), so a
demo of 5,000 enterprises stays under two minutes on SQLite.
"""

from __future__ import annotations

import datetime as dt
import random
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
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
PAY_DAY = 15  # repayments, claims, recoveries, fees
Progress = Callable[[str], None]


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
    claims_paid: int = 0
    recoveries: int = 0
    eod_days: int = 0
    start: dt.date | None = None
    end: dt.date | None = None
    credentials: list[Credential] = field(default_factory=list)


def month_starts(start: dt.date, months: int) -> list[dt.date]:
    out = []
    y, m = start.year, start.month
    for _ in range(months):
        out.append(dt.date(y, m, 1))
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return out


def load(
    *,
    seed: int = 2017,
    enterprises: int = 5000,
    until: dt.date | None = None,
    years: int = 3,
    progress: Progress | None = None,
) -> DemoReport:
    """Generate the demo programme into the configured (empty) database; see the module doc."""
    from kvcredit.accounts.models import Organisation, OrgKind
    from kvcredit.accounts.services import ensure_system_user
    from kvcredit.enterprises import services as ent_services
    from kvcredit.enterprises.importing import import_file
    from kvcredit.enterprises.models import CreditLine, District
    from kvcredit.enterprises.setup import load_initial_data
    from kvcredit.errors import ServiceError
    from kvcredit.fund import claims
    from kvcredit.fund import services as fund
    from kvcredit.lending import loans as lending
    from kvcredit.lending import repayments
    from kvcredit.lending.endofday import run_eod
    from kvcredit.lending.models import Loan, LoanStatus, Method
    from kvcredit.lending.services import create_product
    from kvcredit.scoring.io import write_enterprises
    from kvcredit.scoring.synth import generate

    say = progress or (lambda _msg: None)
    rng = random.Random(seed)
    report = DemoReport()
    _fast_sqlite()
    system = ensure_system_user()
    load_initial_data(system, policy_id="chongqing-kvc")

    end = until or (dt.date.today() - dt.timedelta(days=1))
    first_month = month_starts(dt.date(end.year - years, end.month, 1), 2)[1]
    months = month_starts(first_month, years * 12)
    start = months[0]
    report.start, report.end = start, end
    now = dt.datetime.combine(start, dt.time(9), tzinfo=dt.UTC)

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
    trustee_a, trustee_b = users["trustee"], users["trustee2"]
    bank_users = {b.pk: _bank_user(system, b) for b in banks}

    # -- the fund: contributions and a fee-reduction window ---------------------------------
    say("pools and fee reduction")
    year2 = month_starts(start, 13)[12]
    fund.add_fee_reduction(
        trustee_a,
        valid_from=year2,
        valid_to=month_starts(year2, 13)[12],
        percent_off=Decimal("20"),
        reason="支持企业复工复产，担保服务费减免两成",
    )

    def contribute(on: dt.date) -> None:
        for d in districts:
            for who, amount in (("CITY", 3_000_000_00), ("DISTRICT", 1_000_000_00)):
                fund.record_contribution(
                    trustee_a,
                    district_id=d.pk,
                    contributor=who,
                    amount_fen=amount,
                    paid_date=on,
                    reference=f"{who} {on.year}",
                )

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
    per_month = max(2, enterprises // 500)
    borrowed: set[int] = set()
    defaulters: set[int] = set()
    ent_users: dict[int, Any] = {}

    def ent_user(ent: Any) -> Any:
        if ent.pk not in ent_users:
            from kvcredit.accounts.models import User

            u = User(username=f"ent{ent.pk}", organisation=ent.organisation)
            u.set_unusable_password()
            u.save()
            ent_users[ent.pk] = u
        return ent_users[ent.pk]

    say(f"{len(months)} months of lending")
    # The circuit breaker's end-of-day hook recomputes every pair's exposure from the whole
    # book each day; over three years of history the trustee's monthly recompute stands in for
    # it (same rules, same service), and the hook is back for every day the demo runs after.
    from kvcredit.fund import breakers
    from kvcredit.lending import endofday

    hooks = list(endofday.EXPOSURE_HOOKS)
    endofday.EXPOSURE_HOOKS.clear()
    try:
        for month in months:
            loan_day = month.replace(day=LOAN_DAY)
            pay_day = month.replace(day=PAY_DAY)
            if loan_day > end:
                break
            if month.month == start.month:
                contribute(month)
                if month != start:  # the yearly data: new evaluations, limits valid a year
                    say(f"{month.year}: yearly data and evaluations")
                    at = dt.datetime.combine(month, dt.time(8), tzinfo=dt.UTC)
                    import_file(system, data_file, year=month.year - 1, now=at)
            report.eod_days += len(run_eod(as_of=loan_day - dt.timedelta(days=1), catch_up=True))
            stamp = dt.datetime.combine(loan_day, dt.time(10), tzinfo=dt.UTC)
            for _ in range(per_month):
                if not lines:
                    break
                line = lines.pop()
                ent = line.enterprise
                choices = admitted.get(ent.district_id)
                if not choices:
                    continue
                bank_id = rng.choice(choices)
                amount = min(line.limit_fen, rng.choice([50, 100, 150, 200, 300, 500]) * 10_000_00)
                method = rng.choice([Method.QUARTERLY_INTEREST] * 3 + [Method.EQUAL_INSTALMENT])
                try:
                    app = lending.apply(
                        ent_user(ent),
                        bank_id=bank_id,
                        product_id=product.pk,
                        amount_fen=amount,
                        term_months=12,
                        method=method.value,
                        purpose=rng.choice(["研发投入", "设备采购", "流动资金", "技术改造"]),
                        first_time_borrower=ent.pk not in borrowed and rng.random() < 0.6,
                        today=loan_day,
                        now=stamp,
                    )
                except ServiceError:
                    continue  # e.g. the bank is suspended in the district by the breaker
                report.applications += 1
                banker = bank_users[bank_id]
                if rng.random() < 0.1:
                    lending.reject(banker, application_id=app.pk, reason="经营数据不足", now=stamp)
                    report.rejected += 1
                    continue
                lending.approve(
                    banker,
                    application_id=app.pk,
                    amount_fen=app.amount_fen,
                    today=loan_day,
                    now=stamp,
                )
                loan = lending.disburse(
                    banker, application_id=app.pk, disbursed_on=loan_day, today=loan_day, now=stamp
                )
                borrowed.add(ent.pk)
                report.loans += 1
                if rng.random() < 0.06:
                    defaulters.add(loan.pk)
            if pay_day > end:
                break
            report.eod_days += len(run_eod(as_of=loan_day, catch_up=True))
            _repay_due(loan_day, pay_day, defaulters, bank_users, report, repayments)
            # one by one: fund.charge_service_fees locks through an outer join, which
            # PostgreSQL refuses (FOR UPDATE on the nullable side); reported to the lead
            for loan_id in Loan.objects.filter(
                disbursed_on__lte=pay_day, fund_fee__isnull=True
            ).values_list("id", flat=True):
                fund.charge_service_fee(trustee_a, loan_id=loan_id, on=pay_day)
            breakers.recompute(trustee_a, as_of=pay_day)
            _claims(pay_day, bank_users, trustee_a, trustee_b, rng, report, claims)
    finally:
        endofday.EXPOSURE_HOOKS[:] = hooks
        tmp.cleanup()
    report.eod_days += len(run_eod(as_of=end, catch_up=True))
    report.defaulted = (
        Loan.objects.filter(pk__in=defaulters).exclude(status=LoanStatus.CLOSED).count()
    )
    return report


def _repay_due(
    loan_day: dt.date,
    pay_day: dt.date,
    defaulters: set[int],
    bank_users: dict[int, Any],
    report: DemoReport,
    repayments: Any,
) -> None:
    """Each performing borrower pays what fell due; a defaulter stops two months before maturity."""
    from kvcredit.lending.models import Loan, LoanStatus

    due = Loan.objects.filter(status=LoanStatus.ACTIVE).exclude(
        due_principal_fen=0, due_interest_fen=0, penalty_fen=0
    )
    for loan in due.order_by("id"):
        if loan.pk in defaulters and (loan.maturity_date - pay_day).days < 75:
            continue
        owed = loan.due_principal_fen + loan.due_interest_fen + loan.penalty_fen
        repayments.repay(
            bank_users[loan.bank_id],
            loan_id=loan.pk,
            amount_fen=owed,
            paid_on=pay_day,
            today=pay_day,
            reference=f"DEMO-{loan.pk}-{pay_day:%Y%m}",
            now=dt.datetime.combine(pay_day, dt.time(11), tzinfo=dt.UTC),
        )
        report.repayments += 1


def _claims(
    on: dt.date,
    bank_users: dict[int, Any],
    trustee_a: Any,
    trustee_b: Any,
    rng: random.Random,
    report: DemoReport,
    claims: Any,
) -> None:
    """Claims on loans 90+ days overdue: the bank registers and files, A checks, B pays; then a
    part of some paid claims is recovered."""
    from kvcredit.errors import ServiceError
    from kvcredit.fund.models import Claim, ClaimStatus
    from kvcredit.lending.models import Loan, LoanStatus

    overdue = Loan.objects.filter(
        status=LoanStatus.ACTIVE,
        days_past_due__gte=90,
        due_principal_fen__gt=0,
        fund_claims__isnull=True,
    )
    for loan in overdue.order_by("id"):
        banker = bank_users[loan.bank_id]
        try:
            c = claims.register(banker, loan_id=loan.pk, on=on)
            claims.file(banker, claim_id=c.pk, on=on)
            claims.check(trustee_a, claim_id=c.pk, on=on, note="资料齐全")
            paid = claims.pay(trustee_b, claim_id=c.pk, on=on)
        except ServiceError:
            continue
        if paid.status == ClaimStatus.PAID:
            report.claims_paid += 1
    for c in Claim.objects.filter(status=ClaimStatus.PAID, paid_on__lt=on - dt.timedelta(days=60)):
        if rng.random() < 0.3:
            amount = max(1, c.overdue_principal_fen // rng.choice([3, 4, 5]))
            try:
                claims.recover(bank_users[c.bank_id], claim_id=c.pk, amount_fen=amount, on=on)
            except ServiceError:
                continue
            report.recoveries += 1


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
def cli_load(seed: int, enterprises: int, until: str | None, years: int) -> None:
    """Migrate, load the demo and print what was made with the users' credentials."""
    import time

    from rich.console import Console

    from kvcredit.platform_cli import django_setup

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

    r = load(seed=seed, enterprises=enterprises, until=day, years=years, progress=say)
    say(
        f"{r.enterprises} enterprises, {r.applications} applications ({r.rejected} rejected), "
        f"{r.loans} loans, {r.repayments} repayments, {r.defaulted} defaulted, "
        f"{r.claims_paid} claims paid, {r.recoveries} recoveries, {r.eod_days} days closed "
        f"({r.start} to {r.end}); fund books balance: {books_balance()}"
    )
    out.print("\n[bold]Users[/bold] (password for all: " + DEMO_PASSWORD + ")")
    for c in r.credentials:
        out.print(f"  {c.role:<14} {c.username:<10} {c.password}  {c.organisation}")
