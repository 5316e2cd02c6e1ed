"""How a row matched a term parameter: the term asked for, a narrower one, one the reasoner placed
under it, or a combination that contains it.

A query for "HR-positive" also returns an HR-positive/HER2-positive population (the reasoner puts
it under HR-positive), a query for microwave ablation also returns MWA plus TACE, and a query for
liver metastases also returns a narrower site. The `matchedVia` column says which, per parameter,
so a reader can tell an asserted match from an inferred one. Kept in one place for every query:
the row's term labels (siteLabel, modalityLabel, ...) are compared with the hierarchy the release
itself holds (its inferred rdfs:subClassOf and bcmkg:componentModality), and with the curated
template for what was asserted.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

import pyoxigraph as ox

from .rdf import BCMKG, prefix_block

if TYPE_CHECKING:
    from .ontology.terms import TermIndex
    from .store import Result, Store, Term

__all__ = ["COLUMNS", "matched_via"]

#: the term parameter's root -> (the row's label column, what the parameter is called in the note)
COLUMNS = {"MetastaticBreastCancer": ("siteLabel", "site"), "Modality": ("modalityLabel", "modality"),
           "BreastCancerSubtype": ("subtypeLabel", "subtype"), "Endpoint": ("endpointLabel", "endpoint")}
_VOCAB = str(BCMKG)
_UNDER = (prefix_block() + "SELECT ?l ?how ?asked WHERE {\n"
          "  { ?t rdfs:subClassOf* ?asked BIND(\"sub\" AS ?how) }\n  UNION\n"
          "  { ?t (rdfs:subClassOf|bcmkg:componentModality)* ?asked "
          "BIND(\"part\" AS ?how) }\n"
          "  ?t rdfs:label ?l }")


def matched_via(params: Mapping[str, Any], bindings: Mapping[str, Term], result: Result, store: Store,
                terms: Callable[[], TermIndex], has_own_basis: bool = False) -> Result:
    """`result` with a `matchedVia` column when a hierarchical term parameter is bound below its root
    (`terms` gives the curated vocabulary, read only then)."""
    from .store import Result
    asked = [(name, p) for name, p in params.items()
             if p.type == "term" and p.root in COLUMNS and name in bindings
             and bindings[name].value != _VOCAB + p.root and COLUMNS[p.root][0] in result.variables
             and not (has_own_basis and p.root == "BreastCancerSubtype")]   # flagship: matchBasis says it
    if not asked or not result.rows:
        return result
    how = {name: _below(store, bindings[name]) for name, _ in asked}
    index = terms()
    rows = []
    for row in result.rows:
        notes = [_note(row.get(COLUMNS[p.root][0]), COLUMNS[p.root][1], bindings[name].value[len(_VOCAB):],
                       how[name], index) for name, p in asked]
        rows.append({**row, "matchedVia": ox.Literal("; ".join(n for n in notes if n))})
    return Result([*result.variables, "matchedVia"], rows, result.seconds)


def _below(store: Store, asked: Term) -> dict[str, str]:
    """The labels of the terms under `asked`, each with how it is under it ("sub" before "part");
    asked `once` per term on a read-only store, whose hierarchy cannot change."""
    from .store import once

    def labels() -> dict[str, str]:
        found: dict[str, str] = {}
        for row in store.select(_UNDER, {"asked": asked}).rows:
            label, kind = getattr(row["l"], "value", ""), getattr(row["how"], "value", "")
            if found.get(label) != "sub":
                found[label] = kind
        return found
    return once(store, f"matched_via {asked}", labels)


def _note(term_label: Any, kind: str, asked: str, how: Mapping[str, str], index: TermIndex) -> str:
    label = getattr(term_label, "value", None)
    asked_label = index.terms[asked].label if asked in index.terms else asked
    if label is None:
        return f"{kind}: not stated"
    if label == asked_label:
        return f"{kind}: as asked"
    if how.get(label) == "sub":
        try:
            asserted = index.is_a(index.resolve(label), asked)
        except LookupError:
            asserted = False
        return f"{kind}: {'narrower' if asserted else 'inferred by the reasoner'} ({label})"
    if how.get(label) == "part":
        return f"{kind}: a combination containing {asked_label} ({label})"
    return ""
