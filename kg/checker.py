"""Field-level checks for one extraction file: each problem found is kept with its file, line,
field and value, so a curator fixes every one of them in one pass (kg/sources.py applies them)."""
from __future__ import annotations

import re
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from typing import Any

from .errors import Problem
from .ontology.terms import TermIndex
from .records import DeprecatedUse, as_number
from .yaml_lines import Node

__all__ = ["Checker", "whole", "scalar", "as_list"]


class Checker:
    """Collects problems for one file."""

    def __init__(self, path: Path, terms: TermIndex):
        self.path, self.terms = str(path), terms
        self.problems: list[Problem] = []
        self.deprecated: list[DeprecatedUse] = []

    def bad(self, node: Any, field: str, value: object, message: str, hint: str = "") -> None:
        line = node.lines.get(field.split(".")[-1], node.line) if isinstance(node, Node) else None
        self.problems.append(Problem(self.path, line, field, value, message, hint))

    def mapping(self, parent: Node, node: object, where: str, what: str) -> bool:
        if isinstance(node, Node):
            return True
        message = f"{what} is empty" if node is None else f"{what} must be a set of 'key: value' lines"
        self.bad(parent, where, node, message, "see docs/extraction-format.md")
        return False

    def unknown_fields(self, node: Node, allowed: set[str], where: str) -> None:
        for key in node:
            if key not in allowed:
                self.bad(node, f"{where}.{key}", node[key], "unknown field", "allowed: " + ", ".join(sorted(allowed)))

    def need(self, node: Node, fields: list[str], where: str) -> None:
        for f in fields:
            if node.get(f) in (None, "", []):
                self.bad(node, f"{where}.{f}", node.get(f), "required field is missing")

    def text(self, node: Node, field: str, where: str) -> str | None:
        value = node.get(field)
        if value is None or value == "":
            return None
        if isinstance(value, (Node, list)):
            self.bad(node, f"{where}.{field}", value, "must be a single value, not a list or a mapping")
            return None
        return str(value)

    def term(self, node: Node, field: str, where: str, root: str | None) -> str | None:
        value = node.get(field)
        if value is None:
            return None
        roots: list[str | None] = list(root.split("|")) if root else [None]
        errors: list[str] = []
        for r in roots:
            try:
                found = self.terms.resolve(str(value), r)
            except LookupError as err:
                errors.append(str(err))
                continue
            term = self.terms.terms[found]
            if term.deprecated:
                line = node.lines.get(field, node.line) if isinstance(node, Node) else None
                self.deprecated.append(DeprecatedUse(self.path, line, f"{where}.{field}", str(value), found,
                                                     term.replaced_by))
            return found
        self.bad(node, f"{where}.{field}", value, errors[0])
        return None

    def number(self, node: Node, field: str, where: str, lo: Decimal | int | None = None,
               hi: Decimal | int | None = None, integer: bool = False) -> Decimal | Fraction | None:
        value = node.get(field)
        if value is None:
            return None
        num = as_number(value)
        if num is None or (integer and (not isinstance(value, int) or isinstance(value, bool))):
            self.bad(node, f"{where}.{field}", value, "not a number" if not integer else "not a whole number",
                     "write digits as printed, e.g. 74.70" if not integer else "write a whole number, e.g. 17")
            return None
        if (lo is not None and num < lo) or (hi is not None and num > hi):
            self.bad(node, f"{where}.{field}", value, f"out of range [{lo}, {hi if hi is not None else '∞'}]")
        return num

    def choice(self, node: Node, field: str, where: str, allowed: list[str] | tuple[str, ...]) -> str | None:
        value = node.get(field)
        if value is not None and value not in allowed:
            self.bad(node, f"{where}.{field}", value, "not an allowed value", "allowed: " + ", ".join(allowed))
            return None
        return None if value is None else str(value)

    def span(self, node: Node, where: str) -> tuple[int, int]:
        s = node.get("span")
        if not (isinstance(s, list) and len(s) == 2 and all(isinstance(x, int) and not isinstance(x, bool)
                                                             for x in s)):
            self.bad(node, f"{where}.span", s, "span must be [start, end] in characters", "e.g. span: [1200, 1260]")
            return (0, 0)
        if not 0 <= s[0] < s[1]:
            self.bad(node, f"{where}.span", s, "span start must be >= 0 and before its end")
        return (int(s[0]), int(s[1]))

    def slug(self, node: Node, where: str, pattern: re.Pattern[str], hint: str) -> str:
        value = node.get("id")
        if value is not None and not pattern.fullmatch(str(value)):
            self.bad(node, f"{where}.id", value, "not a valid id", hint)
        return str(value) if value is not None else ""

    def terms_of(self, node: Node, field: str, root: str, where: str) -> list[str]:
        found = []
        for value in as_list(node.get(field)):
            try:
                term = self.terms.resolve(str(value), root)
            except LookupError as err:
                self.bad(node, f"{where}.{field}", value, str(err))
                continue
            found.append(term)
            if self.terms.terms[term].deprecated:
                self.deprecated.append(DeprecatedUse(self.path, node.lines.get(field, node.line), f"{where}.{field}",
                                                     str(value), term, self.terms.terms[term].replaced_by))
        return found


def whole(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def scalar(value: object) -> str | None:
    """An id or reference as text; None for a list or a mapping (reported by the field checks)."""
    return None if value is None or isinstance(value, (list, dict)) else str(value)


def as_list(value: object) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, list) else [value]
