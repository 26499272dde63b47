"""Import many enterprises from a CSV/XLSX/Parquet file: every valid row in, every bad row reported.

The file is read and validated by ``kvcredit.scoring.io.read_enterprises`` (vectorised, the same
rules and the same bilingual per-row report as ``kvcredit evaluate``); the registry adds its own
checks (the district exists and the actor may import into it; a known USCC stays in its
district). The valid rows are evaluated together by ``evaluate_frame`` and stored in bulk in
one transaction: enterprises, data submissions, evaluations, credit lines and their audit
records. A failure there (a concurrent registration of the same USCC) writes nothing at all.

Re-running an import: a row whose data for that year is identical to the enterprise's latest
version is *unchanged* (no new version, no new evaluation, counted apart); different data is a
new version, never an overwrite.

Audit: one record per object, as the single path writes them (ENTERPRISE_REGISTER, DATA_SUBMIT,
EVALUATE, CREDIT_LIMIT_SET), all appended in one chain step at the end of the transaction; so an
object's history reads the same however it was written.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl
from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from kvcredit import clock
from kvcredit.accounts.models import Organisation, OrgKind, User
from kvcredit.accounts.permissions import kind_of, require
from kvcredit.audit import services as audit
from kvcredit.bulk import copy_create
from kvcredit.enterprises import selectors
from kvcredit.enterprises.evaluating import (
    apply_limit,
    audit_evaluation,
    audit_submission,
    batch_evaluations,
    compiled_policy,
    declared_fields,
    save_limits,
    split_record,
)
from kvcredit.enterprises.models import (
    CreditLine,
    DataSubmission,
    District,
    Enterprise,
    Evaluation,
)
from kvcredit.enterprises.services import require_past_year
from kvcredit.errors import Conflict, InputFileError, RowError
from kvcredit.scoring.fields import Field
from kvcredit.scoring.io import ERROR_COLUMNS, IGNORED_EN, IGNORED_ZH, read_enterprises
from kvcredit.scoring.upload_limits import Limits, check_size, too_many_rows
from kvcredit.scoring.vector import evaluate_frame

Progress = Callable[[str], None]


@dataclass
class ImportReport:
    rows: int = 0  # data rows read
    registered: int = 0  # new enterprises
    submitted: int = 0  # new data versions (each evaluated when a policy is current)
    unchanged: int = 0  # rows identical to the enterprise's latest data for the year
    evaluated: int = 0
    errors: list[RowError] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)  # headers of the columns not read

    @property
    def rejected_rows(self) -> int:
        return len({e.row for e in self.errors})

    def error_frame(self) -> pl.DataFrame:
        """The error report as ``kvcredit.scoring.io.write_errors`` writes it, then one line
        per column not used (row 1, the header row)."""
        unused = [RowError(1, "", h, None, IGNORED_ZH, IGNORED_EN) for h in self.ignored]
        lines = [*self.errors, *unused]
        cols: dict[str, Any] = {c: [getattr(e, c) for e in lines] for c in ERROR_COLUMNS}
        return pl.DataFrame(
            cols, schema=dict.fromkeys(ERROR_COLUMNS, pl.String) | {"row": pl.Int64}
        )


def upload_limits() -> Limits:
    """The bounds of an uploaded or imported file (``KVCREDIT_UPLOAD_MAX_BYTES`` / ``_ROWS``)."""
    return Limits(settings.KVCREDIT_UPLOAD_MAX_BYTES, settings.KVCREDIT_UPLOAD_MAX_ROWS)


def read_rows(
    path: Path, limits: Limits | None = None, *, name: str | None = None
) -> list[dict[str, Any]]:
    """Every cell as text (or None), header names as written; CSV (UTF-8) or XLSX.

    A plain reader for other tabular uploads (the lending app's); enterprise files go through
    ``import_file``. A file over ``limits`` (default: the settings) raises ``UploadTooLarge``
    before it is parsed; ``name`` is the file's name in its messages (default ``path.name``).
    """
    limits = limits or upload_limits()
    check_size(path, limits, name)
    try:
        if path.suffix.lower() in {".xlsx", ".xls", ".xlsm"}:
            read_options = {"n_rows": limits.read_rows()}
            frame = pl.read_excel(path, infer_schema_length=0, read_options=read_options)
        else:
            frame = pl.read_csv(
                path, infer_schema=False, encoding="utf8-lossy", n_rows=limits.read_rows()
            )
    except (OSError, pl.exceptions.PolarsError, ValueError) as exc:
        raise InputFileError(f"cannot read {path}: {exc}") from exc
    too_many_rows(path, frame.height, limits, name)
    return frame.to_dicts()


def import_file(
    actor: User,
    path: str | Path,
    *,
    year: int,
    progress: Progress | None = None,
    now: dt.datetime | None = None,
    chunk_rows: int | None = None,
    resume: dict[str, Any] | None = None,
    on_chunk: Callable[[int, int, dict[str, Any]], None] | None = None,
) -> ImportReport:
    """Read, validate, evaluate and store an enterprise file (see the module docstring).

    With ``chunk_rows`` (the job runner's way) the valid rows are stored ``chunk_rows`` at a
    time, each chunk in its own transaction, which calls ``on_chunk(done, total, state)``
    before it commits; ``resume`` (a ``state`` so recorded) skips the chunks already stored."""
    require(
        actor, OrgKind.ADMINISTRATOR, OrgKind.DISTRICT, action=gettext_noop("import enterprises")
    )
    now = now or timezone.now()
    require_past_year(year, now)
    declared = declared_fields(selectors.current_policy())
    read = read_enterprises(path, progress=progress, limits=upload_limits(), declared=declared)
    report = ImportReport(rows=read.total_rows, ignored=list(read.ignored))
    report.errors += [RowError(**r) for r in read.errors.select(ERROR_COLUMNS).to_dicts()]
    frame = _registry_checks(actor, read.frame, report)
    if progress:
        progress("storing")
    if chunk_rows is None:
        with transaction.atomic():
            _store(actor, frame, year, now, report, declared)
    else:
        _store_in_chunks(actor, frame, year, now, report, declared, chunk_rows, resume, on_chunk)
    report.errors.sort(key=lambda e: (e.row, e.field))
    return report


COUNTS = ("registered", "submitted", "unchanged", "evaluated")


def _store_in_chunks(
    actor: User,
    frame: pl.DataFrame,
    year: int,
    now: dt.datetime,
    report: ImportReport,
    declared: tuple[Field, ...],
    chunk_rows: int,
    resume: dict[str, Any] | None,
    on_chunk: Callable[[int, int, dict[str, Any]], None] | None,
) -> None:
    """Store the valid rows in chunks; resume after the file row ``resume["after_row"]``."""
    state = {"after_row": 0, **dict.fromkeys(COUNTS, 0), **(resume or {})}
    total = frame.height
    done = frame.filter(pl.col("_row") <= state["after_row"]).height
    rest = frame.filter(pl.col("_row") > state["after_row"]).sort("_row")
    for start in range(0, rest.height, chunk_rows):
        part = rest.slice(start, chunk_rows)
        counts = ImportReport()
        with transaction.atomic():
            _store(actor, part, year, now, counts, declared)
            done += part.height
            state = {
                "after_row": int(part["_row"].max()),  # type: ignore[arg-type]
                **{k: state[k] + getattr(counts, k) for k in COUNTS},
            }
            if on_chunk:
                on_chunk(done, total, state)
    for k in COUNTS:
        setattr(report, k, state[k])


# -- registry checks -----------------------------------------------------------------------
OWN_ONLY = "a district imports enterprises of its own only"
ELSEWHERE = "the enterprise is registered in another district"  # told to the administrator
UNREGISTRABLE = "this USCC cannot be registered by your district"  # told to another district


def _row_error(row: dict[str, Any], fld: str, zh: str, en: str) -> RowError:
    value = row.get(fld)
    return RowError(
        row=row["_row"],
        uscc=str(row["uscc"]),
        field=fld,
        value=None if value is None else str(value),
        message_zh=zh,
        message_en=en,
    )


def _registry_checks(actor: User, frame: pl.DataFrame, report: ImportReport) -> pl.DataFrame:
    """Keep the rows whose district is known and the actor's, and whose USCC stays put.

    Adds ``_district_id`` and ``_enterprise_id`` (null for a new enterprise).
    """
    visible = list(selectors.districts(actor))
    by_key = {d.name: d for d in visible} | {d.code: d for d in visible}
    kind_is_district = kind_of(actor) == OrgKind.DISTRICT
    known = dict(
        Enterprise.objects.filter(uscc__in=frame.get_column("uscc").to_list()).values_list(
            "uscc", "id"
        )
    )
    ent_district = dict(
        Enterprise.objects.filter(id__in=known.values()).values_list("id", "district_id")
    )
    keep, district_ids, ent_ids = [], [], []
    for row in frame.select("uscc", "district", "_row").iter_rows(named=True):
        d: District | None = by_key.get(str(row["district"]))
        ent_id = known.get(row["uscc"])
        problem = None  # (field, zh, en)
        if d is None:
            problem = ("district", "未知区县", "unknown district")
        elif kind_is_district and d.organisation_id != actor.organisation_id:
            problem = ("district", "区县只能导入本区县的企业", OWN_ONLY)
        elif ent_id is not None and ent_district[ent_id] != d.pk and kind_is_district:
            # another district's enterprise: its existence is not disclosed
            problem = ("uscc", "本区县不能登记该统一社会信用代码", UNREGISTRABLE)
        elif ent_id is not None and ent_district[ent_id] != d.pk:
            problem = ("district", "该企业已登记在其他区县", ELSEWHERE)
        if problem:
            report.errors.append(_row_error(row, *problem))
        keep.append(problem is None)
        district_ids.append(d.pk if d else None)
        ent_ids.append(ent_id)
    return frame.with_columns(
        pl.Series("_district_id", district_ids, dtype=pl.Int64),
        pl.Series("_enterprise_id", ent_ids, dtype=pl.Int64),
    ).filter(pl.Series(keep, dtype=pl.Boolean))


# -- storing -------------------------------------------------------------------------------
def _store(
    actor: User,
    frame: pl.DataFrame,
    year: int,
    now: dt.datetime,
    report: ImportReport,
    declared: tuple[Field, ...] = (),
) -> None:
    entries: list[audit.Entry] = []
    districts = {d.pk: d for d in District.objects.filter(pk__in=frame["_district_id"].unique())}
    new = frame.filter(pl.col("_enterprise_id").is_null())
    created = _register(actor, new, districts, now, entries)
    report.registered = len(created)
    ents = created | {
        e.uscc: e
        for e in Enterprise.objects.select_related("district").filter(
            pk__in=frame["_enterprise_id"].drop_nulls().to_list()
        )
    }
    # Lock the credit lines: serialises with single submissions of the same enterprises.
    lines = {
        cl.enterprise_id: cl
        for cl in CreditLine.objects.select_for_update().filter(
            enterprise_id__in=[e.pk for e in ents.values()]
        )
    }
    subs, data_rows = _submissions(actor, frame, ents, year, now, report, declared)
    copy_create(DataSubmission, subs)
    entries += [
        audit.Entry("DATA_SUBMIT", "data_submission", s.pk, after=audit_submission(s)) for s in subs
    ]
    report.submitted = len(subs)
    published = selectors.current_policy()
    if published is not None and subs:
        today = clock.date_of(now)
        result = evaluate_frame(compiled_policy(published), data_rows, explain=True, on=today)
        evs = batch_evaluations(subs, result, published, now, today)
        copy_create(Evaluation, evs)
        for ev in evs:
            line = lines[ev.enterprise_id]
            before = apply_limit(line, ev, now)
            after = {"limit_fen": line.limit_fen, "valid_until": line.valid_until}
            entries.append(audit.Entry("EVALUATE", "evaluation", ev.pk, after=audit_evaluation(ev)))
            entries.append(
                audit.Entry("CREDIT_LIMIT_SET", "credit_line", line.pk, before=before, after=after)
            )
        save_limits([lines[ev.enterprise_id] for ev in evs])
        report.evaluated = len(evs)
    audit.record_many(actor, entries, now=now)


def _register(
    actor: User,
    new: pl.DataFrame,
    districts: dict[int, District],
    now: dt.datetime,
    entries: list[audit.Entry],
) -> dict[str, Enterprise]:
    """Register the new enterprises (organisation, enterprise, empty credit line) in bulk."""
    rows = new.select("uscc", "name", "_district_id").to_dicts()
    if not rows:
        return {}
    names = [f"{r['name']} [{r['uscc']}]" for r in rows]
    try:
        with transaction.atomic():
            orgs = copy_create(
                Organisation, [Organisation(kind=OrgKind.ENTERPRISE, name=n) for n in names]
            )
            ents = copy_create(
                Enterprise,
                [
                    Enterprise(
                        uscc=r["uscc"],
                        name=r["name"],
                        district=districts[r["_district_id"]],
                        organisation=org,
                        registered_at=now,
                    )
                    for r, org in zip(rows, orgs, strict=True)
                ],
            )
    except IntegrityError:
        raise Conflict(
            _("another user registered some of these enterprises meanwhile; import again"),
            field="uscc",
        ) from None
    copy_create(CreditLine, [CreditLine(enterprise=e, updated_at=now) for e in ents])
    for e in ents:
        after = {"uscc": e.uscc, "name": e.name, "district_id": e.district_id}
        entries.append(audit.Entry("ENTERPRISE_REGISTER", "enterprise", e.pk, after=after))
    return {e.uscc: e for e in ents}


def _submissions(
    actor: User,
    frame: pl.DataFrame,
    ents: dict[str, Enterprise],
    year: int,
    now: dt.datetime,
    report: ImportReport,
    declared: tuple[Field, ...] = (),
) -> tuple[list[DataSubmission], pl.DataFrame]:
    """New versions for the rows whose data differ from the latest of that year."""
    ids = [e.pk for e in ents.values()]
    last_version = dict(
        DataSubmission.objects.filter(enterprise_id__in=ids, year=year)
        .values("enterprise_id")
        .annotate(v=Max("version"))
        .values_list("enterprise_id", "v")
    )
    latest = {
        s.enterprise_id: s.record
        for s in DataSubmission.objects.filter(
            enterprise_id__in=list(last_version), year=year
        ).only("enterprise_id", "version", "data", "extra")
        if s.version == last_version[s.enterprise_id]
    }
    data = frame.drop("_row", "_district_id", "_enterprise_id")
    subs, keep = [], []
    for rec in data.iter_rows(named=True):
        ent = ents[rec["uscc"]]
        rec["district"] = ent.district.name
        if latest.get(ent.pk) == rec:
            report.unchanged += 1
            keep.append(False)
            continue
        keep.append(True)
        version = last_version.get(ent.pk, 0) + 1
        fields, extra = split_record(rec, declared)
        subs.append(
            DataSubmission(
                enterprise=ent,
                year=year,
                version=version,
                data=fields,
                extra=extra,
                submitted_at=now,
                submitted_by=actor,
            )
        )
    return subs, data.filter(pl.Series(keep, dtype=pl.Boolean))
