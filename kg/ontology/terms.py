"""Reading the tabular template: rows of `ontology/template/*.tsv` as dicts and as terms.

Everything that only needs the template files lives here, so loading the vocabulary for a
build or a query never imports rdflib's OWL writer or the reasoner. `TermIndex` resolves
what a curator wrote (id, label, synonym or abbreviation) to one term id.

>>> idx = TermIndex([Term("Modality", "treatment modality"),
...                  Term("MicrowaveAblation", "microwave ablation", ["Modality"], ["MWA"])])
>>> idx.resolve("MWA", root="Modality")
'MicrowaveAblation'
"""
from __future__ import annotations

import csv
import difflib
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import InputError, Problem
from ..rdf import BCMKG, expand

if TYPE_CHECKING:
    from rdflib import URIRef

TEMPLATE_COLUMNS = ["id", "label", "parents", "definition", "synonyms", "abbreviations",
                    "xrefs", "components", "equivalent", "deprecated", "replaced_by", "comment"]

#: Template roots whose descendants are OWL named individuals rather than classes: a unit
#: has no subkinds, and the data side uses it as a plain value (`bcmkg:unit bcmkg:Percent`).
INDIVIDUAL_ROOTS = {"Unit"}

_SKOS = "http://www.w3.org/2004/02/skos/core#"
#: xref predicate -> its IRI (plain strings: resolving a term needs no rdflib)
XREF_PREDICATES = {f"skos:{name}": _SKOS + name for name in ("exactMatch", "closeMatch", "broadMatch", "narrowMatch",
                                                            "relatedMatch")}
ID_PATTERN = re.compile(r"^[A-Z][A-Za-z0-9]*$")
CURIE_PATTERN = re.compile(r"^([A-Za-z]+):([A-Za-z0-9_.-]+)$")
TRUE_VALUES = ("true", "yes", "1")

#: One template row: column -> cell text, plus `_file` and `_line` (an int) for messages.
Row = dict[str, Any]


# --- the template files ----------------------------------------------------------------------

def template_files(ontology_dir: Path) -> list[Path]:
    """Every template TSV: the curated groups, then curators' additions."""
    tdir = Path(ontology_dir) / "template"
    return sorted(tdir.glob("*.tsv")) + sorted((tdir / "additions").glob("*.tsv"))


def read_rows(ontology_dir: Path) -> tuple[list[Row], list[Problem]]:
    """Rows of every template file plus header problems (kept apart so QC can report both)."""
    rows: list[Row] = []
    problems: list[Problem] = []
    for path in template_files(ontology_dir):
        with open(path, encoding="utf-8", newline="") as fh:
            reader = csv.DictReader(fh, delimiter="\t", quoting=csv.QUOTE_NONE)
            header = reader.fieldnames or []
            missing = [c for c in ("id", "label", "parents") if c not in header]
            if missing:
                problems.append(Problem(str(path), 1, "header", header,
                                        f"missing column(s) {', '.join(missing)}",
                                        f"expected columns: {', '.join(TEMPLATE_COLUMNS)}"))
                continue
            for col in header:
                if col not in TEMPLATE_COLUMNS:
                    problems.append(Problem(str(path), 1, col, col, "unknown column",
                                            f"expected columns: {', '.join(TEMPLATE_COLUMNS)}"))
            for lineno, row in enumerate(reader, start=2):
                if not any((v or "").strip() for v in row.values() if isinstance(v, str)):
                    continue
                if None in row:
                    problems.append(Problem(str(path), lineno, "row", row[None],
                                            "more cells than header columns", "check for stray tabs"))
                clean = {k: (v or "").strip() for k, v in row.items() if k is not None}
                clean["_file"], clean["_line"] = str(path), lineno
                rows.append(clean)
    return rows, problems


def read_template(ontology_dir: Path) -> list[Row]:
    """Read every template row as a dict, remembering file and line for error messages."""
    rows, problems = read_rows(ontology_dir)
    fatal = [p for p in problems if p.field == "header"]
    if fatal:
        raise InputError(fatal)
    return rows


def verified_curies(ontology_dir: Path) -> dict[str, dict[str, str]]:
    """The verification record: every xref code with the published source it was checked in."""
    path = Path(ontology_dir) / "xref-sources.tsv"
    if not path.exists():
        return {}
    with open(path, encoding="utf-8", newline="") as fh:
        return {r["curie"]: r for r in csv.DictReader(
            (line for line in fh if not line.startswith("#")), delimiter="\t", quoting=csv.QUOTE_NONE)}


# --- cells ----------------------------------------------------------------------------------

def split_list(cell: str) -> list[str]:
    """`'a | b|'` -> `['a', 'b']`: the template joins several values with `|`."""
    return [p.strip() for p in (cell or "").split("|") if p.strip()]


def split_abbreviation(item: str) -> tuple[str, str]:
    """`'HR [document 003]'` -> `('HR', 'document 003')`; the tag says where the meaning holds.

    >>> split_abbreviation("HR [document 003]")
    ('HR', 'document 003')
    >>> split_abbreviation("MWA")
    ('MWA', '')
    """
    m = re.match(r"^(.*?)\s*\[(.*)\]\s*$", item)
    return (m.group(1).strip(), m.group(2).strip()) if m else (item.strip(), "")


def is_deprecated(row: Row) -> bool:
    return row.get("deprecated", "").lower() in TRUE_VALUES


def parse_xrefs(cell: str) -> list[tuple[str, str]]:
    """`'skos:exactMatch NCIT:C15666|skos:closeMatch MAXO:0001395'` -> [(predicate, curie), ...]."""
    out = []
    for item in split_list(cell):
        parts = item.split()
        out.append((parts[0], parts[1]) if len(parts) == 2 else ("", item))
    return out


def expand_curie(curie: str) -> URIRef:
    """The IRI of an xref CURIE (through kg.rdf's converter; the prefix must be known)."""
    from rdflib import URIRef
    return URIRef(expand(curie))


def parse_equivalent(cell: str) -> list[tuple[str, str]]:
    """Parse the `equivalent` cell: parts joined by `&`, each `Class` or `property some Class`.

    Returns [(property or '', class id), ...]; raises ValueError on anything else.

    >>> parse_equivalent("BreastCancerSubtype & hasReceptorStatus some HER2PositiveStatus")
    [('', 'BreastCancerSubtype'), ('hasReceptorStatus', 'HER2PositiveStatus')]
    """
    parts = []
    for part in (p.strip() for p in cell.split("&")):
        words = part.split()
        if len(words) == 1 and ID_PATTERN.match(words[0]):
            parts.append(("", words[0]))
        elif len(words) == 3 and words[1] == "some" and ID_PATTERN.match(words[2]):
            parts.append((words[0], words[2]))
        else:
            raise ValueError(f"cannot read {part!r}: write 'Class' or 'property some Class', joined by '&'")
    return parts


def is_individual(term_id: str, parents: dict[str, list[str]]) -> bool:
    """True when the term sits below one of INDIVIDUAL_ROOTS (the root itself stays a class)."""
    seen, stack = set(), list(parents.get(term_id, []))
    while stack:
        p = stack.pop()
        if p in INDIVIDUAL_ROOTS:
            return True
        if p not in seen:
            seen.add(p)
            stack.extend(parents.get(p, []))
    return False


# --- terms and the index ----------------------------------------------------------------------

@dataclass
class Term:
    """One vocabulary term as the template defines it (plain data)."""

    id: str
    label: str
    parents: list[str] = field(default_factory=list)
    abbreviations: list[str] = field(default_factory=list)
    synonyms: list[str] = field(default_factory=list)
    deprecated: bool = False
    replaced_by: str = ""

    @property
    def iri(self) -> URIRef:
        return BCMKG[self.id]


def terms_from_rows(rows: list[Row]) -> list[Term]:
    """Template rows -> Terms (abbreviations without their context tags)."""
    return [Term(id=r["id"], label=r["label"], parents=split_list(r.get("parents", "")),
                 abbreviations=[split_abbreviation(a)[0] for a in split_list(r.get("abbreviations", ""))],
                 synonyms=split_list(r.get("synonyms", "")), deprecated=is_deprecated(r),
                 replaced_by=r.get("replaced_by", ""))
            for r in rows]


class TermIndex:
    """Resolves what a curator wrote (id, label, synonym or abbreviation) to one term id."""

    def __init__(self, terms: list[Term]) -> None:
        self.terms = {t.id: t for t in terms}
        self._by_name: dict[str, set[str]] = {}   # labels and synonyms, case-insensitive
        self._by_abbr: dict[str, set[str]] = {}   # abbreviations, case-sensitive: 'mwa' is not 'MWA'
        for t in terms:
            for name in [t.label, *t.synonyms]:
                if name:
                    self._by_name.setdefault(name.casefold(), set()).add(t.id)
            for abbr in t.abbreviations:
                self._by_abbr.setdefault(abbr, set()).add(t.id)

    def ancestors(self, term_id: str) -> set[str]:
        seen: set[str] = set()
        stack = [term_id]
        while stack:
            for p in self.terms.get(stack.pop(), Term("", "")).parents:
                if p not in seen:
                    seen.add(p)
                    stack.append(p)
        return seen

    def is_a(self, term_id: str, root: str) -> bool:
        return term_id == root or root in self.ancestors(term_id)

    def under(self, root: str) -> list[str]:
        return sorted(t for t in self.terms if self.is_a(t, root))

    def resolve(self, name: str, root: str | None = None) -> str:
        """Return the term id for `name`; raise LookupError with a 'did you mean' otherwise."""
        if name in self.terms and (root is None or self.is_a(name, root)):
            return name
        hits = {t for t in self._by_name.get(str(name).casefold(), set()) | self._by_abbr.get(str(name), set())
                if root is None or self.is_a(t, root)}
        if len(hits) == 1:
            return hits.pop()
        kind = self.terms[root].label if root in self.terms else "term"
        if len(hits) > 1:
            raise LookupError(f"ambiguous {kind} {name!r}: could be {', '.join(sorted(hits))}")
        raise LookupError(f"unknown {kind} {name!r}{self.suggest(name, root)}")

    def suggest(self, name: str, root: str | None = None) -> str:
        pool: dict[str, str] = {}
        for key, ids in [*self._by_name.items(), *((k.casefold(), v) for k, v in self._by_abbr.items())]:
            for term_id in ids:
                if root is None or self.is_a(term_id, root):
                    pool[key] = term_id
        close = difflib.get_close_matches(str(name).casefold(), list(pool), n=3, cutoff=0.6)
        if not close:
            return ""
        shown = []
        for key in close:
            t = self.terms[pool[key]]
            abbr = f" ({', '.join(t.abbreviations)})" if t.abbreviations else ""
            shown.append(f"'{t.label}'{abbr} = {t.id}")
        return "; did you mean " + " or ".join(dict.fromkeys(shown)) + "?"


def load_terms(ontology_dir: Path) -> TermIndex:
    """The vocabulary curators may use, straight from the ontology template."""
    return TermIndex(terms_from_rows(read_template(Path(ontology_dir))))
