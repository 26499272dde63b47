"""The kvcredit exception tree.

    KvcreditError                   base of every error the project raises on purpose
    ├── PolicyError                 a policy file is invalid (carries key paths)
    ├── InputFileError              an input file cannot be read at all (missing column, bad format)
    └── EvaluationError             an enterprise record cannot be evaluated by a policy

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


class InputFileError(KvcreditError):
    """An input file cannot be read as enterprise data."""


class EvaluationError(KvcreditError):
    """An enterprise record cannot be evaluated."""
