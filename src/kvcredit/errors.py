"""The kvcredit exception tree.

    KvcreditError                   base of every error the project raises on purpose
    ├── PolicyError                 a policy file is invalid (carries key paths)
    ├── RulebookError               a programme rulebook is invalid (carries key paths)
    ├── InputFileError              an input file cannot be read at all (missing column, bad format)
    │   └── UploadTooLarge          it is over the configured bytes or rows (API: 413)
    ├── EvaluationError             an enterprise record cannot be evaluated by a policy
    ├── ServiceError                a use case of the service refused (API: problem+json)
    │   ├── NotPermitted            the acting user's role may not do this (403)
    │   ├── NotFound                no such object, or not visible to the acting user (404)
    │   ├── Conflict                it would duplicate or contradict a record (409)
    │   └── InvalidInput            a value is wrong; ``problems`` names each field (422)
    └── DomainError                 a pure rule refused (the services turn it into a ServiceError)
        ├── UnbalancedEntry         a journal entry's debits and credits differ      (ValueError)
        ├── InsufficientFunds       the pool cannot cover a payment; the claim waits (ValueError)
        ├── ClaimRefused            the fund's rules do not allow the claim          (ValueError)
        ├── Overpayment             a repayment larger than everything owed          (ValueError)
        ├── RateNotFound            no rate of the type in force on the date        (LookupError)
        ├── DayAlreadyRun           the end of day for the date (or later) has run   (ValueError)
        ├── DaySkipped              a day before the requested one has not run       (ValueError)
        ├── StepRefused             a lifecycle's table does not allow the step (statemachine)
        └── CreditLineError         a credit line would go negative (enterprises.domain)

StepRefused and CreditLineError live beside the rule they guard (``kvcredit.statemachine``,
``kvcredit.enterprises.domain.credit_line``). The domain errors also keep the built-in class
they had (in brackets), so a caller that
catches ``ValueError`` still catches them. They are raised by the pure packages (lending.domain,
fund.domain) and importable from there as well as from here.

Bad rows in an input file are not exceptions: they are values (``RowError``, one shape for
every importer) collected into the error report while valid rows go through.
"""

from __future__ import annotations

from dataclasses import dataclass

from kvcredit.money import fen_to_yuan


@dataclass(frozen=True, kw_only=True)
class RowError:
    """One problem of one row of an imported file; the fields are the error report's columns
    (``kvcredit.scoring.io.ERROR_COLUMNS``)."""

    row: int  # the row as a spreadsheet shows it: the header is row 1, data from row 2
    uscc: str = ""  # the enterprise the row is about, where the file names one
    field: str
    value: str | None = None  # the cell as written, where one cell is at fault
    message_zh: str
    message_en: str


class KvcreditError(Exception):
    """Base class of the project's deliberate errors."""


def _problem_lines(problems: list[tuple[str, str]], language: str, root: str) -> list[str]:
    zh = language.lower().startswith("zh")
    return [
        f"{path or root}: {getattr(message, 'zh', message) if zh else message}"
        for path, message in problems
    ]


class PolicyError(KvcreditError):
    """A policy is invalid. ``problems`` lists (key path, message) pairs."""

    def __init__(self, problems: list[tuple[str, str]], source: str = "") -> None:
        self.problems = problems
        self.source = source
        lines = [f"{path or '<policy>'}: {message}" for path, message in problems]
        prefix = f"invalid policy {source}: " if source else "invalid policy: "
        super().__init__(prefix + "; ".join(lines))

    def lines(self, language: str = "en") -> list[str]:
        """Each problem as ``path: message`` in ``language`` ("zh..." Chinese, else English);
        a message that carries a Chinese text (``scoring.policy_text.Said``) gives it."""
        return _problem_lines(self.problems, language, "<policy>")


class RulebookError(KvcreditError):
    """A programme rulebook is invalid. ``problems`` lists (key path, message) pairs, the
    messages bilingual (``Said``) as a policy's are."""

    def __init__(self, problems: list[tuple[str, str]], source: str = "") -> None:
        self.problems = problems
        self.source = source
        lines = [f"{path or '<rulebook>'}: {message}" for path, message in problems]
        prefix = f"invalid rulebook {source}: " if source else "invalid rulebook: "
        super().__init__(prefix + "; ".join(lines))

    def lines(self, language: str = "en") -> list[str]:
        """Each problem as ``path: message`` in ``language`` ("zh..." Chinese, else English)."""
        return _problem_lines(self.problems, language, "<rulebook>")


class InputFileError(KvcreditError):
    """An input file cannot be read as enterprise data."""


class UploadTooLarge(InputFileError):
    """An input file is over the bound on its uncompressed size or its rows; it was not read."""


class EvaluationError(KvcreditError):
    """An enterprise record cannot be evaluated."""


class ServiceError(KvcreditError):
    """A service refused a use case. ``status`` is the HTTP status the API answers with."""

    status = 400
    title = "Bad request"

    def __init__(self, detail: str, *, field: str | None = None) -> None:
        self.detail = detail
        self.field = field
        super().__init__(detail)


class NotPermitted(ServiceError):
    status = 403
    title = "Forbidden"


class NotFound(ServiceError):
    status = 404
    title = "Not found"


class Conflict(ServiceError):
    status = 409
    title = "Conflict"


class InvalidInput(ServiceError):
    """``problems`` lists (field, message) pairs; the first one is also ``field``."""

    status = 422
    title = "Invalid input"

    def __init__(self, problems: list[tuple[str, str]]) -> None:
        self.problems = problems
        detail = "; ".join(f"{f}: {m}" for f, m in problems)
        super().__init__(detail, field=problems[0][0] if problems else None)


class DomainError(KvcreditError):
    """A rule of the pure domain refused; the service that called it answers with a
    ``ServiceError`` (translated)."""


class UnbalancedEntry(DomainError, ValueError):
    """Debits and credits of a journal entry differ."""


class InsufficientFunds(DomainError, ValueError):
    """The pool cannot cover a payment; the claim waits."""

    def __init__(self, needed_fen: int, available_fen: int) -> None:
        self.needed_fen, self.available_fen = needed_fen, available_fen
        super().__init__(
            f"the pool holds {fen_to_yuan(available_fen)} yuan, "
            f"{fen_to_yuan(needed_fen)} are needed"
        )


class ClaimRefused(DomainError, ValueError):
    """A claim that the rules do not allow."""


class Overpayment(DomainError, ValueError):
    """A repayment larger than everything the borrower owes."""

    def __init__(self, amount_fen: int, owed_fen: int) -> None:
        self.amount_fen, self.owed_fen = amount_fen, owed_fen
        super().__init__(
            f"repayment of {fen_to_yuan(amount_fen)} yuan exceeds the "
            f"{fen_to_yuan(owed_fen)} yuan owed"
        )


class RateNotFound(DomainError, LookupError):
    """No rate of the type was in force on the date."""


class DayAlreadyRun(DomainError, ValueError):
    """The end of day for this date, or a later one, has already run."""


class DaySkipped(DomainError, ValueError):
    """A day between the last run and the requested date has not been run."""
