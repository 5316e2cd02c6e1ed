"""One error hierarchy. The library raises; only the CLI turns errors into exit codes.

Exit codes (documented in the README): 0 ok, 1 the data does not conform (SHACL, QC,
span or completeness failures), 2 bad input or usage (malformed files, unknown terms,
bad parameters).
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction


def shown(value: object) -> str:
    """A value as the curator wrote it, for messages: 0.71, [0.60, 0.71], 'text', (empty)."""
    if value is None:
        return "(empty)"
    if isinstance(value, (Decimal, int, Fraction)) and not isinstance(value, bool):
        return str(value)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(shown(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {shown(v)}" for k, v in value.items()) + "}"
    text = str(value)
    return repr(text if len(text) <= 200 else text[:200] + "…")


class KGError(Exception):
    """Base of every error the project raises on purpose."""

    exit_code = 2


@dataclass
class Problem:
    """One thing wrong with one value, located as precisely as we can."""

    file: str
    line: int | None
    field: str
    value: object
    message: str
    hint: str = ""

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        text = f"{where}: {self.field}: {self.message} (value {shown(self.value)})"
        return f"{text}; {self.hint}" if self.hint else text


class InputError(KGError):
    """Bad input: every problem names file, line, field, value and what would be valid."""

    exit_code = 2

    def __init__(self, problems: list[Problem] | Problem):
        self.problems = problems if isinstance(problems, list) else [problems]
        super().__init__("\n".join(str(p) for p in self.problems))


class ConformanceError(KGError):
    """The input was read, but the result breaks a rule (SHACL, QC, spans)."""

    exit_code = 1

    def __init__(self, message: str, problems: list[Problem] | None = None):
        self.problems = problems or []
        lines = [message] + [str(p) for p in self.problems]
        super().__init__("\n".join(lines))


class QueryError(KGError):
    """A named query could not be found, bound or run."""

    exit_code = 2
