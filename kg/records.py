"""The typed records the pipeline stages hand each other: a document, its studies, cases,
claims and exclusions, as checked by kg/sources.py from one extraction file.

A claim's own fields are not attributes here but `Claim.values`, keyed by the claim model's
YAML keys (kg/model.py FIELDS), so a field added to the model needs no change in this file.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from fractions import Fraction

__all__ = ["Figure", "as_number", "Arm", "Document", "Study", "Case", "Claim", "Exclusion", "Source",
           "DeprecatedUse"]


# --- figures as written -------------------------------------------------------------------

def as_number(value: object) -> Decimal | Fraction | None:
    """A figure as written: int/Decimal, or a fraction string such as '1/3'."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, Decimal):
        return value
    if isinstance(value, str) and re.fullmatch(r"\d+/[1-9]\d*", value.strip()):
        return Fraction(value.strip())
    if isinstance(value, str):
        try:
            number = Decimal(value.strip())
        except InvalidOperation:
            return None
        return number if number.is_finite() else None
    return None




# --- the typed objects the stages hand each other ------------------------------------------

Figure = Decimal | int | str            # a number exactly as the curator wrote it ("74.70", 17, "1/3")


@dataclass
class Arm:
    id: str
    label: str
    modality: str | None = None          # term id
    n: int | None = None
    note: str | None = None


@dataclass
class Document:
    id: str
    corpus_file: str
    sha256: str
    title: str
    authors: list[str]
    year: int
    venue: str
    designs: list[str]                   # term ids
    doi: str | None = None
    language: str | None = None
    note: str | None = None
    line: int = 0
    lines: dict[str, int] = field(default_factory=dict)


@dataclass
class Study:
    id: str
    label: str
    designs: list[str]                   # term ids
    first_author: str | None = None
    year: int | None = None
    n: int | None = None
    n_qualifier: str | None = None
    country: str | None = None
    period: str | None = None
    registry_ids: list[str] = field(default_factory=list)
    trial_name: str | None = None
    doi: str | None = None
    reference: str | None = None
    title: str | None = None
    arms: list[Arm] = field(default_factory=list)
    is_document: bool = False
    note: str | None = None
    line: int = 0
    aliases: list[str] = field(default_factory=list)   # other labels documents use (skos:altLabel)


@dataclass
class Case:
    id: str
    study: str
    patient: int
    recurrence_site: str                 # term id
    operation: str                       # term id
    progressed: bool
    locator: str
    span: tuple[int, int]
    stage: str | None = None
    recurrence_site_detail: str | None = None
    progression_site: str | None = None  # term id
    note: str | None = None
    line: int = 0
    lines: dict[str, int] = field(default_factory=dict)


@dataclass
class Claim:
    """One checked claim. `values` holds every other model field by its YAML key: term and enum
    fields as term ids and words, figures as written, text as text (see FIELDS)."""

    id: str
    kind: str
    study: str
    locator: str
    span: tuple[int, int]
    values: dict[str, object] = field(default_factory=dict)
    arm_id: str | None = None            # the study arm the `arm` text names, when the study defines it
    line: int = 0
    lines: dict[str, int] = field(default_factory=dict)

    def get(self, key: str, default: object = None) -> object:
        return self.values.get(key, default)


@dataclass
class Exclusion:
    span: tuple[int, int]
    reason: str
    line: int = 0
    lines: dict[str, int] = field(default_factory=dict)


@dataclass
class Source:
    """One extraction file, checked and resolved."""

    path: str
    document: Document
    studies: list[Study]
    cases: list[Case]
    claims: list[Claim]
    exclusions: list[Exclusion]
    deprecated_uses: list[DeprecatedUse] = field(default_factory=list)


@dataclass
class DeprecatedUse:
    """A value that resolved to a retired term: where, what was written, and what replaces it."""

    file: str
    line: int | None
    field: str
    written: str
    term: str
    replaced_by: str
