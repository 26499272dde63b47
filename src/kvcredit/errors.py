"""The kvcredit exception tree.

    KvcreditError                   base of every error the project raises on purpose
    ├── PolicyError                 a policy file is invalid (carries key paths)
    ├── InputFileError              an input file cannot be read at all (missing column, bad format)
    ├── EvaluationError             an enterprise record cannot be evaluated by a policy
    └── ServiceError                a use case of the service refused (API: problem+json)
        ├── NotPermitted            the acting user's role may not do this (403)
        ├── NotFound                no such object, or not visible to the acting user (404)
        ├── Conflict                it would duplicate or contradict a record (409)
        └── InvalidInput            a value is wrong; ``problems`` names each field (422)

Bad rows in an input file are not exceptions: they are values (``RowError``) collected into the
error report while valid rows go through.
"""

from __future__ import annotations


class KvcreditError(Exception):
    """Base class of the project's deliberate errors."""


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
        zh = language.lower().startswith("zh")
        return [
            f"{path or '<policy>'}: {getattr(message, 'zh', message) if zh else message}"
            for path, message in self.problems
        ]


class InputFileError(KvcreditError):
    """An input file cannot be read as enterprise data."""


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
