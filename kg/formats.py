"""Writing answers: SPARQL results formats (by pyoxigraph), terminal tables, Markdown, Turtle.

One place turns an answer into bytes or text. SPARQL 1.1 results (JSON, XML, CSV, TSV) are
always written by pyoxigraph: a live `ox.QuerySolutions` is serialised directly; an
already-materialised `kg.store.Result` is first turned back into one (`solutions()`, through
the TSV results format, whose cells are exactly the N-Triples form `str(term)` gives), so
there is no hand-written SPARQL-JSON writer anywhere. The `table` and `md` forms are for
people: IRIs as CURIEs (`kg.rdf.compact`), literals as their lexical form. `to_rows` gives
Python the same answer as `Rows` of plain values (str, Decimal, int, float, bool).

    >>> format_boolean(True)
    'true\\n'
"""
from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

import pyoxigraph as ox

from .claim_rows import column_header  # tables for people: labels as headers; csv/json keep variables
from .errors import QueryError
from .jsonld import jsonld_document
from .rdf import PREFIXES, XSD, compact, serialize

if TYPE_CHECKING:
    from .store import Result

__all__ = ["FORMATS", "RESULTS_FORMATS", "solutions", "result_bytes", "format_result", "cell_text",
           "format_boolean", "format_triples", "Rows", "python_value", "to_rows"]

#: What `kg query/sparql/find --format` accepts for a SELECT answer.
FORMATS = ["table", "csv", "json", "md"]

#: SPARQL 1.1 results formats, by short name; written by pyoxigraph.
RESULTS_FORMATS: dict[str, ox.QueryResultsFormat] = {
    "json": ox.QueryResultsFormat.JSON, "xml": ox.QueryResultsFormat.XML,
    "csv": ox.QueryResultsFormat.CSV, "tsv": ox.QueryResultsFormat.TSV,
}


def solutions(result: Result) -> ox.QuerySolutions:
    """A materialised Result as pyoxigraph QuerySolutions again (rows, order and unbound cells kept).

    TSV results cells are N-Triples terms, which is what `str()` of a pyoxigraph term gives
    (tabs and newlines inside literals escaped), so the round trip is exact.
    """
    lines = ["\t".join("?" + v for v in result.variables)]
    for row in result.rows:
        lines.append("\t".join("" if row.get(v) is None else str(row[v]) for v in result.variables))
    parsed = ox.parse_query_results(("\n".join(lines) + "\n").encode("utf-8"), format=ox.QueryResultsFormat.TSV)
    assert isinstance(parsed, ox.QuerySolutions)
    return parsed


def result_bytes(result: Result, fmt: str = "json") -> bytes:
    """SPARQL 1.1 results JSON / XML / CSV / TSV of a materialised Result, written by pyoxigraph."""
    try:
        target = RESULTS_FORMATS[fmt]
    except KeyError:
        raise QueryError(f"unknown results format {fmt!r}; allowed: {', '.join(RESULTS_FORMATS)}") from None
    return _bytes(solutions(result).serialize(format=target))


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


def format_result(result: Result, fmt: str = "table", width: int = 0, columns: list[str] | None = None) -> str:
    """A SELECT answer as `table` (cells cut with '…' to fit `width`), `csv` / `json` (SPARQL 1.1) or `md`."""
    if fmt in ("json", "csv"):
        text = result_bytes(result, fmt).decode("utf-8")
        return text if text.endswith("\n") else text + "\n"
    names = columns or result.variables
    if bad := set(names) - set(result.variables):
        raise QueryError(f"unknown column(s) {', '.join(sorted(bad))}; columns: {', '.join(result.variables)}")
    cells = [[cell_text(row.get(v)) for v in names] for row in result.rows]
    if fmt == "md":
        lines = ["| " + " | ".join(column_header(n) for n in names) + " |", "|" + "|".join("---" for _ in names) + "|"]
        lines += ["| " + " | ".join(c.replace("|", "\\|").replace("\n", " ") for c in r) + " |" for r in cells]
        return "\n".join(lines) + "\n"
    if fmt == "table":
        widths = [max([len(column_header(v))] + [len(r[i]) for r in cells]) for i, v in enumerate(names)]
        while width and len(names) > 1 and sum(min(6, w) + 2 for w in widths) > width:   # too many: drop the last
            names, widths, cells = names[:-1], widths[:-1], [r[:-1] for r in cells]
        cap = next((c for c in range(60, 6, -1) if not width or sum(min(c, w) + 2 for w in widths) <= width), 6)
        widths = [min(cap, w) for w in widths]       # the widest column narrowed until the table fits
        def line(r: list[str]) -> str:
            return "  ".join((c if len(c) <= w else c[:w - 1] + "…").ljust(w) for c, w in zip(r, widths, strict=True)).rstrip()
        out = [line([column_header(n) for n in names]), line(["-" * w for w in widths])] + [line(r) for r in cells]
        shown = "" if len(names) == len(result.variables) else f"; {len(names)} of {len(result.variables)} columns"
        out.append(f"({len(result.rows)} row{'s' if len(result.rows) != 1 else ''}{shown})")
        return "\n".join(out) + "\n"
    raise QueryError(f"unknown format {fmt!r}; allowed: {', '.join(FORMATS)}")


def format_boolean(answer: bool, fmt: str = "table") -> str:
    """An ASK answer: `true`/`false`, or SPARQL 1.1 results JSON/XML written by pyoxigraph."""
    if fmt in ("json", "xml"):
        asked = ox.Store().query("ASK {}" if answer else "ASK { FILTER(false) }")
        assert isinstance(asked, ox.QueryBoolean)
        text = _bytes(asked.serialize(format=RESULTS_FORMATS[fmt])).decode("utf-8")
        return text if text.endswith("\n") else text + "\n"
    return ("true" if answer else "false") + "\n"


def format_triples(triples: Iterable[ox.Triple], fmt: str = "turtle") -> str:
    """A CONSTRUCT or DESCRIBE answer as Turtle (our prefixes) or N-Triples, written by pyoxigraph."""
    if fmt in ("nt", "ntriples", "n-triples"):
        return serialize(list(triples), ox.RdfFormat.N_TRIPLES).decode("utf-8")
    return serialize(list(triples), ox.RdfFormat.TURTLE, PREFIXES).decode("utf-8")


def _bytes(data: bytes | None) -> bytes:
    """pyoxigraph's writers return None only when given an output file."""
    assert data is not None
    return data


# --- rows for Python (kg.query) -----------------------------------------------------------

_XSD = str(XSD)
_INTEGERS = {_XSD + t for t in ("integer", "int", "long", "short", "byte", "nonNegativeInteger", "positiveInteger",
                                "nonPositiveInteger", "negativeInteger", "unsignedLong", "unsignedInt",
                                "unsignedShort", "unsignedByte")}
_FLOATS = {_XSD + "double", _XSD + "float"}


class Rows(list[dict[str, Any]]):
    """A list of dicts (plain Python values); `.to_dataframe()` when pandas is installed."""

    variables: list[str] = []

    def to_dataframe(self) -> Any:
        try:
            import pandas as pd
        except ImportError as err:
            raise ImportError("to_dataframe() needs pandas: pip install pandas") from err
        frame = pd.DataFrame(list(self), columns=self.variables)
        for col in frame.columns:
            if frame[col].map(lambda v: isinstance(v, Decimal)).any():
                frame[col] = frame[col].map(lambda v: float(v) if isinstance(v, Decimal) else v)
        return frame


def python_value(term: object) -> Any:
    """str for IRIs and blank nodes, Decimal / int / float / bool for numbers and booleans, else the text."""
    if term is None:
        return None
    if not isinstance(term, ox.Literal):
        return getattr(term, "value", str(term))
    dt, text = term.datatype.value, term.value
    try:
        if dt == _XSD + "decimal":
            return Decimal(text)
        if dt in _INTEGERS:
            return int(text)
        if dt == _XSD + "boolean":
            if text in ("true", "1", "false", "0"):
                return text in ("true", "1")
            return text
        if dt in _FLOATS:
            return float(text)
    except (ValueError, InvalidOperation):
        return text                 # an ill-typed literal keeps its text
    return text


def to_rows(result: Result) -> Rows:
    """A SELECT answer as Rows of plain Python values (`python_value` of each term)."""
    rows = Rows({k: python_value(row.get(k)) for k in result.variables} for row in result.rows)
    rows.variables = list(result.variables)
    return rows


# --- HTTP: content negotiation and response bodies (kg serve) ----------------------------
# The server's tables live here beside the writers they choose between, so that what a
# format key means (media type, writer) is defined once.

#: Media types a resource (or a CONSTRUCT/DESCRIBE answer) is offered in, in tie-break order.
RDF_TYPES: dict[str, str] = {
    "text/html": "html", "text/turtle": "ttl", "application/ld+json": "jsonld",
    "application/n-triples": "nt", "application/rdf+xml": "rdfxml",
}
#: Media types a CONSTRUCT or DESCRIBE answer is offered in: Turtle first, the HTML table last.
GRAPH_TYPES: dict[str, str] = {**{m: k for m, k in RDF_TYPES.items() if k != "html"}, "text/html": "html"}
#: Media types a SELECT or ASK answer is offered in; the first is the default.
RESULT_TYPES: dict[str, str] = {
    "application/sparql-results+json": "json", "application/json": "json",
    "application/sparql-results+xml": "xml", "application/xml": "xml", "text/xml": "xml",
    "text/csv": "csv", "text/tab-separated-values": "tsv", "text/html": "html",
}
#: `?format=` values (and document-URL extensions) -> format key.
FORMAT_ALIASES: dict[str, str] = {
    "ttl": "ttl", "turtle": "ttl", "jsonld": "jsonld", "json-ld": "jsonld", "nt": "nt",
    "ntriples": "nt", "n-triples": "nt", "rdf": "rdfxml", "rdfxml": "rdfxml", "owl": "rdfxml",
    "html": "html", "json": "json", "xml": "xml", "csv": "csv", "tsv": "tsv", "srj": "json",
    "srx": "xml", "rdf+xml": "rdfxml", "n3": "ttl", "text/n3": "ttl", "text/rdf+n3": "ttl",
    "application/turtle": "ttl", "application/x-json+ld": "jsonld", "application/n3": "ttl",
}
#: Format key -> the Content-Type a response carries.
MEDIA: dict[str, str] = {
    "html": "text/html; charset=utf-8", "ttl": "text/turtle; charset=utf-8",
    "jsonld": "application/ld+json", "nt": "application/n-triples",
    "rdfxml": "application/rdf+xml", "json": "application/sparql-results+json",
    "xml": "application/sparql-results+xml", "csv": "text/csv; charset=utf-8",
    "tsv": "text/tab-separated-values; charset=utf-8",
}
#: Media type -> format key, for `format=` values given as media types (any query form).
MEDIA_KEYS: dict[str, str] = {**{m: k for m, k in RDF_TYPES.items()}, **RESULT_TYPES,
                              "text/html": "html"}
#: Format key -> the extension of the format-specific document URL (`/vocab/X.ttl`).
EXTENSION: dict[str, str] = {"html": "html", "ttl": "ttl", "jsonld": "jsonld", "nt": "nt", "rdfxml": "rdf"}
#: RDF format keys pyoxigraph writes (JSON-LD is compacted with the release's context instead).
RDF_FORMATS: dict[str, ox.RdfFormat] = {
    "ttl": ox.RdfFormat.TURTLE, "nt": ox.RdfFormat.N_TRIPLES, "rdfxml": ox.RdfFormat.RDF_XML,
}


def _ranges(accept: str) -> list[tuple[str, float]]:
    """Accept as (media range, q), lower-cased; a malformed q counts as 0 ("not this")."""
    out = []
    for part in accept.split(","):
        media, *params = [p.strip() for p in part.split(";")]
        if not media:
            continue
        q = 1.0
        for p in params:
            name, _, value = p.partition("=")
            if name.strip().lower() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        out.append((media.lower(), q))
    return out


_GRAPH_SAME = {"json": "jsonld", "xml": "rdfxml"}


def format_key(values: Iterable[str] | str | None, offers: dict[str, str]) -> str | None:
    """The format key a `format=` parameter names, or None when it names none we know.

    Several values may come (SPARQLWrapper sends `format=tsv&format=text/tab-separated-values`):
    the last one we recognise wins. A value is a short name (`ttl`, `json-ld`, `rdf+xml`, `n3`...)
    or a media type; a key we know that these `offers` lack is still returned (the caller 406s).
    """
    if isinstance(values, str):
        values = [values]
    found = None
    for value in values or []:
        v = value.strip().lower()
        key = FORMAT_ALIASES.get(v) or offers.get(v.split(";")[0].strip()) or MEDIA_KEYS.get(v.split(";")[0].strip())
        if key:
            found = key
    return found


def negotiate(accept: str | None, offers: dict[str, str], fmt: Iterable[str] | str | None = None) -> str | None:
    """Pick a format key: a recognised `?format=` wins, then the Accept header (RFC 9110:
    media types case-insensitive, the most specific matching range gives an offer its q,
    q=0 means "not this"), ties in offer order. An unrecognised `format=` is ignored.

    >>> negotiate("text/turtle;q=0.9, application/ld+json", RDF_TYPES)
    'jsonld'
    >>> negotiate("text/html;q=0, */*;q=0.1", RDF_TYPES)
    'ttl'
    """
    key = format_key(fmt, offers) if fmt else None
    if key is not None:
        if key not in offers.values():      # `json` / `xml` asked of a graph: JSON-LD / RDF/XML
            key = _GRAPH_SAME.get(key, key) if "ttl" in offers.values() else key
        return key if key in offers.values() else None
    if not accept or not accept.strip():
        return next(iter(offers.values()))
    ranges = _ranges(accept)
    best: tuple[float, int, int, str] | None = None
    for rank, (offer, key) in enumerate(offers.items()):
        match: tuple[int, float] | None = None          # (specificity, q) of the most specific range
        for media, q in ranges:
            if media == offer:
                spec = 2
            elif media.endswith("/*") and media != "*/*" and offer.startswith(media[:-1]):
                spec = 1
            elif media == "*/*" or media == "*":
                spec = 0
            else:
                continue
            if match is None or spec > match[0]:
                match = (spec, q)
        if match is None or match[1] <= 0:
            continue
        cand = (match[1], 1 if match[0] == 2 else 0, -rank, key)
        if best is None or cand[:3] > best[:3]:
            best = cand
    return best[3] if best else None


def rdf_bytes(triples: Iterable[ox.Triple], key: str, context: dict[str, object] | None = None) -> bytes:
    """Turtle / N-Triples / RDF-XML by pyoxigraph; JSON-LD compacted with the release's @context.

    JSON-LD is compacted with the release's context by `jsonld_document`, the writer of the
    release's graph.jsonld, so a client written against one works on the other.
    """
    if key in RDF_FORMATS:
        prefixes = None if key == "nt" else PREFIXES
        return serialize(list(triples), RDF_FORMATS[key], prefixes)
    if key != "jsonld":
        raise QueryError(f"unknown RDF format {key!r}; allowed: {', '.join([*RDF_FORMATS, 'jsonld'])}")
    by_subject = sorted(triples, key=lambda t: (str(t.subject), str(t.predicate), str(t.object)))
    return "".join(jsonld_document(by_subject, context)).encode()


def answer_bytes(answer: ox.QuerySolutions | ox.QueryBoolean, key: str) -> bytes:
    """A live SELECT or ASK answer in a SPARQL 1.1 results format, written by pyoxigraph."""
    try:
        target = RESULTS_FORMATS[key]
    except KeyError:
        raise QueryError(f"unknown results format {key!r}; allowed: {', '.join(RESULTS_FORMATS)}") from None
    return _bytes(answer.serialize(format=target))


__all__ += ["RDF_TYPES", "GRAPH_TYPES", "RESULT_TYPES",
            "FORMAT_ALIASES", "MEDIA", "MEDIA_KEYS", "EXTENSION", "RDF_FORMATS", "negotiate", "format_key",
            "rdf_bytes", "answer_bytes"]
