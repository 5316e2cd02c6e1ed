"""Vocabulary terms as plain data, and the index that resolves what a curator wrote to a term id."""
from __future__ import annotations

import difflib
from dataclasses import dataclass, field

from rdflib import URIRef

from .rdf import BCMKG

__all__ = ["Term", "TermIndex"]


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


class TermIndex:
    """Resolves what a curator wrote (id, label, synonym or abbreviation) to one term id.

    >>> idx = TermIndex([Term("Modality", "treatment modality"),
    ...                  Term("MicrowaveAblation", "microwave ablation", ["Modality"], ["MWA"])])
    >>> idx.resolve("MWA", root="Modality")
    'MicrowaveAblation'
    """

    def __init__(self, terms: list[Term]):
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
        pool = {}
        for key, ids in [*self._by_name.items(), *((k.casefold(), v) for k, v in self._by_abbr.items())]:
            for t in ids:
                if root is None or self.is_a(t, root):
                    pool[key] = t
        close = difflib.get_close_matches(str(name).casefold(), list(pool), n=3, cutoff=0.6)
        if not close:
            return ""
        shown = []
        for key in close:
            t = self.terms[pool[key]]
            abbr = f" ({', '.join(t.abbreviations)})" if t.abbreviations else ""
            shown.append(f"'{t.label}'{abbr} = {t.id}")
        return "; did you mean " + " or ".join(dict.fromkeys(shown)) + "?"
