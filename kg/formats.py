"""Writing answers: SPARQL results formats (by pyoxigraph), terminal tables, Markdown, Turtle.

One place turns an answer into bytes or text. SPARQL 1.1 results (JSON, XML, CSV, TSV) are
always written by pyoxigraph: a live `ox.QuerySolutions` is serialised directly; an
already-materialised `kg.store.Result` is first turned back into one (`solutions()`, through
the TSV results format, whose cells are exactly the N-Triples form `str(term)` gives), so
there is no hand-written SPARQL-JSON writer anywhere. The `table` and `md` forms are for
people: IRIs as CURIEs (`kg.rdf.compact`), literals as their lexical form.

    >>> format_boolean(True)
    'true\\n'
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Iterable

import pyoxigraph as ox

from .errors import QueryError
from .rdf import PREFIXES, compact

if TYPE_CHECKING:
    from .store import Result

__all__ = ["FORMATS", "RESULTS_FORMATS", "solutions", "result_bytes", "format_result", "cell_text",
           "format_boolean", "format_triples"]

#: What `kg query/sparql/find --format` accepts for a SELECT answer.
FORMATS = ["table", "csv", "json", "md"]

#: SPARQL 1.1 results formats, by short name; written by pyoxigraph.
RESULTS_FORMATS: dict[str, ox.QueryResultsFormat] = {
    "json": ox.QueryResultsFormat.JSON, "xml": ox.QueryResultsFormat.XML,
    "csv": ox.QueryResultsFormat.CSV, "tsv": ox.QueryResultsFormat.TSV,
}


def solutions(result: "Result") -> ox.QuerySolutions:
    """A materialised Result as pyoxigraph QuerySolutions again (rows, order and unbound cells kept).

    TSV results cells are N-Triples terms, which is what `str()` of a pyoxigraph term gives
    (tabs and newlines inside literals escaped), so the round trip is exact.
    """
    lines = ["\t".join("?" + v for v in result.variables)]
    for row in result.rows:
        lines.append("\t".join("" if row.get(v) is None else str(row[v]) for v in result.variables))
    return ox.parse_query_results(("\n".join(lines) + "\n").encode("utf-8"), format=ox.QueryResultsFormat.TSV)


def result_bytes(result: "Result", fmt: str = "json") -> bytes:
    """SPARQL 1.1 results JSON / XML / CSV / TSV of a materialised Result, written by pyoxigraph."""
    try:
        target = RESULTS_FORMATS[fmt]
    except KeyError:
        raise QueryError(f"unknown results format {fmt!r}; allowed: {', '.join(RESULTS_FORMATS)}") from None
    return solutions(result).serialize(format=target)


def cell_text(term: object) -> str:
    """A term for people: CURIE for an IRI in a known namespace, the lexical form of a literal."""
    if term is None:
        return ""
    if isinstance(term, ox.NamedNode):
        return compact(term.value)
    if isinstance(term, ox.BlankNode):
        return "_:" + term.value
    if isinstance(term, ox.Literal):
        return term.value
    return str(term)


def format_result(result: "Result", fmt: str = "table") -> str:
    """A SELECT answer as `table` (terminal), `csv` / `json` (SPARQL 1.1 results) or `md`."""
    if fmt in ("json", "csv"):
        text = result_bytes(result, fmt).decode("utf-8")
        return text if text.endswith("\n") else text + "\n"
    cells = [[cell_text(row.get(v)) for v in result.variables] for row in result.rows]
    if fmt == "md":
        def esc(s: str) -> str:
            return s.replace("|", "\\|").replace("\n", " ")
        lines = ["| " + " | ".join(result.variables) + " |",
                 "|" + "|".join("---" for _ in result.variables) + "|"]
        lines += ["| " + " | ".join(esc(c) for c in r) + " |" for r in cells]
        return "\n".join(lines) + "\n"
    if fmt == "table":
        widths = [min(60, max([len(v)] + [len(r[i]) for r in cells])) for i, v in enumerate(result.variables)]

        def line(r: list[str]) -> str:
            return "  ".join((c if len(c) <= w else c[:w - 1] + "…").ljust(w) for c, w in zip(r, widths)).rstrip()
        out = [line(result.variables), line(["-" * w for w in widths])] + [line(r) for r in cells]
        out.append(f"({len(result.rows)} row{'s' if len(result.rows) != 1 else ''})")
        return "\n".join(out) + "\n"
    raise QueryError(f"unknown format {fmt!r}; allowed: {', '.join(FORMATS)}")


def format_boolean(answer: bool, fmt: str = "table") -> str:
    """An ASK answer: `true`/`false`, or SPARQL 1.1 results JSON/XML written by pyoxigraph."""
    if fmt in ("json", "xml"):
        store = ox.Store()
        text = store.query("ASK {}" if answer else "ASK { FILTER(false) }").serialize(
            format=RESULTS_FORMATS[fmt]).decode("utf-8")
        return text if text.endswith("\n") else text + "\n"
    return ("true" if answer else "false") + "\n"


def format_triples(triples: Iterable[ox.Triple], fmt: str = "turtle") -> str:
    """A CONSTRUCT or DESCRIBE answer as Turtle (our prefixes) or N-Triples, written by pyoxigraph."""
    if fmt in ("nt", "ntriples", "n-triples"):
        return ox.serialize(list(triples), format=ox.RdfFormat.N_TRIPLES).decode("utf-8")
    return ox.serialize(list(triples), format=ox.RdfFormat.TURTLE, prefixes=PREFIXES).decode("utf-8")
