"""Retracted and superseded claims: kept in the release (their IRIs resolve), left out of answers.

A curator marks a claim `retracted: <date>` or `superseded_by: <claim id>` with a
`retraction_reason`. Every named query takes `include_retracted` (default false); without it,
rows that name such a claim in any column are dropped after the query ran, so the rule holds
for every query, old or new, without a FILTER in each.
"""
from __future__ import annotations

from .errors import QueryError
from .rdf import BCMKG
from .store import Result, Store, terms_once

__all__ = ["include_retracted_flag", "without_retracted"]

_VOCAB = str(BCMKG)
_RETRACTED = ("PREFIX bcmkg: <" + _VOCAB + "> SELECT ?c WHERE { { ?c bcmkg:retractedOn ?on } "
              "UNION { ?c bcmkg:supersededBy ?by } }")


def include_retracted_flag(query: str, raw: object) -> bool:
    """`include_retracted`, a parameter every named query takes: true/false (default false)."""
    if raw is None or raw == "" or raw is False:
        return False
    if raw is True or str(raw).lower() in ("true", "yes", "1"):
        return True
    if str(raw).lower() in ("false", "no", "0"):
        return False
    raise QueryError(f"query {query}: parameter include_retracted: {raw!r} is not true or false")


def without_retracted(result: Result, store: Store) -> Result:
    """Leave out rows about a retracted or superseded claim (they stay in the release and resolve)."""
    if not result.rows:
        return result
    gone = terms_once(store, _RETRACTED)   # asked once per release store
    if not gone:
        return result
    rows = [r for r in result.rows if not any(v in gone for v in r.values() if v is not None)]
    return Result(result.variables, rows, result.seconds)

