"""The engine seam: one small interface, an embedded engine and a remote one.

Every engine answers `select(sparql, bindings)` with a `Result` of rdflib terms, so the
same `.rq` file gives comparable answers on a laptop (pyoxigraph, loaded from the
release's `graph.nq`, default graph = union of the named graphs) and on any SPARQL 1.1
endpoint (SPARQLWrapper). Parameters always arrive as typed RDF terms, never as text:

- a `VALUES` block of terms serialised by rdflib, placed as the first element of the
  query's outer `WHERE` group (a trailing VALUES clause would be joined only after GROUP BY
  and FILTER, which changes the meaning of aggregate and threshold queries). Both engines
  use it: on pyoxigraph it was measured 1.2-13x faster than `substitutions=` (SEP-0007
  pre-binding) at 2x10^4 claims, because Oxigraph plans the join from the bound values.
  `EmbeddedStore(binding="substitutions")` keeps the other path, and the contract test
  runs both.

    >>> store = open_store(Path("build/release"))                # doctest: +SKIP
    >>> store.select("SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }").rows[0]["n"]  # doctest: +SKIP

An rdflib in-memory engine exists only so the benchmark can measure it against Oxigraph.
"""
from __future__ import annotations

import json
import re
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping, Protocol

from rdflib import BNode, Literal, URIRef
from rdflib.term import Node

from .errors import KGError, QueryError

__all__ = ["Result", "Engine", "EmbeddedStore", "RemoteStore", "RdflibStore", "open_store",
           "load_endpoint", "values_block", "check_iri"]

NL = b"\n"
XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"
_BAD_IRI = re.compile(r'[\x00-\x20<>"{}|^`\\]')


@dataclass
class Result:
    """A SELECT answer: variable names in order, rows of rdflib terms (None = unbound)."""

    variables: list[str]
    rows: list[dict[str, Node | None]] = field(default_factory=list)
    seconds: float = 0.0

    def __len__(self) -> int:
        return len(self.rows)


class Engine(Protocol):
    """What the query layer needs from a store: run one SELECT with bound terms."""

    name: str

    def select(self, sparql: str, bindings: Mapping[str, Node] | None = None) -> Result: ...


def check_iri(iri: str) -> str:
    """Reject characters that may not appear in an IRI (so a term can never break out of <...>)."""
    if not iri or _BAD_IRI.search(iri):
        raise QueryError(f"not a valid IRI: {iri!r}")
    return iri


# --- embedded: pyoxigraph ------------------------------------------------------------

def _to_ox(term: Node):
    """A bound parameter as a pyoxigraph term: IRIs are checked first, so a crafted value cannot
    break out of its term."""
    from .release import to_ox
    if isinstance(term, URIRef):
        check_iri(str(term))
    try:
        return to_ox(term)
    except TypeError:
        raise QueryError(f"cannot bind {term!r}") from None


def _from_ox(term) -> Node | None:
    import pyoxigraph as ox
    if term is None:
        return None
    if isinstance(term, ox.NamedNode):
        return URIRef(term.value)
    if isinstance(term, ox.Literal):
        if term.language:
            return Literal(term.value, lang=term.language)
        if term.datatype.value == XSD_STRING:      # RDF 1.1: "x" and "x"^^xsd:string are one term
            return Literal(term.value)
        return Literal(term.value, datatype=URIRef(term.datatype.value))
    if isinstance(term, ox.BlankNode):
        return BNode(term.value)
    return Literal(str(term))


class EmbeddedStore:
    """Oxigraph in process: no server, loads a release in seconds, answers in milliseconds."""

    name = "embedded"

    def __init__(self, store=None, binding: str = "values"):
        import pyoxigraph as ox
        self.store = store if store is not None else ox.Store()
        self.load_seconds = 0.0
        self.binding = binding      # "values" (default, measured faster) or "substitutions"

    @classmethod
    def from_release(cls, release: Path) -> "EmbeddedStore":
        import pyoxigraph as ox
        nquads = Path(release) / "graph.nq"
        if not nquads.is_file():
            raise KGError(f"no release at {release}: {nquads.name} missing (run `kg build` first)")
        start = time.perf_counter()
        self = cls()
        # load() over N-Quads measured 8.0 s at 3 M triples, bulk_load() over TriG 9.8 s
        self.store.load(path=str(nquads), format=ox.RdfFormat.N_QUADS)
        self.load_seconds = time.perf_counter() - start
        return self

    def select(self, sparql: str, bindings: Mapping[str, Node] | None = None) -> Result:
        import pyoxigraph as ox
        start = time.perf_counter()
        if self.binding == "substitutions":
            subs = {ox.Variable(k): _to_ox(v) for k, v in (bindings or {}).items()} or None
        else:
            sparql, subs = with_values(sparql, bindings or {}), None
        try:
            answer = self.store.query(sparql, use_default_graph_as_union=True, substitutions=subs)
        except SyntaxError as err:
            raise QueryError(f"SPARQL syntax error: {err}") from err
        if not isinstance(answer, ox.QuerySolutions):
            raise QueryError("only SELECT queries are supported here")
        names = [v.value for v in answer.variables]
        rows = [{n: _from_ox(sol[n]) for n in names} for sol in answer]
        return Result(names, rows, time.perf_counter() - start)


# --- rdflib in memory (benchmark baseline only) --------------------------------------

class RdflibStore:
    """rdflib's memory Dataset; kept to measure it, not as a default (12-15x slower to load)."""

    name = "rdflib"

    def __init__(self, release: Path):
        from rdflib import Dataset
        start = time.perf_counter()
        self.ds = Dataset(default_union=True)
        self.ds.parse(str(Path(release) / "graph.trig"), format="trig")
        self.load_seconds = time.perf_counter() - start

    def select(self, sparql: str, bindings: Mapping[str, Node] | None = None) -> Result:
        start = time.perf_counter()
        # rdflib's initBindings is applied late for aggregates; the VALUES block keeps
        # the same meaning as the other engines.
        answer = self.ds.query(with_values(sparql, bindings or {}))
        names = [str(v) for v in answer.vars]
        rows = [{n: r[i] for i, n in enumerate(names)} for r in answer]
        return Result(names, rows, time.perf_counter() - start)


# --- remote: any SPARQL 1.1 endpoint -------------------------------------------------

def values_block(bindings: Mapping[str, Node]) -> str:
    """`VALUES (?a ?b) { (<iri> "x"^^xsd:decimal) }` from terms rdflib serialises and escapes."""
    if not bindings:
        return ""
    names = list(bindings)
    cells = []
    for n in names:
        term = bindings[n]
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", n):
            raise QueryError(f"bad parameter name {n!r}")
        if isinstance(term, URIRef):
            check_iri(str(term))
        elif not isinstance(term, Literal):
            raise QueryError(f"cannot bind {term!r} remotely")
        cells.append(term.n3())
    return f"VALUES ({' '.join('?' + n for n in names)}) {{ ({' '.join(cells)}) }}"


_WHERE = re.compile(r"\bWHERE\s*\{", re.IGNORECASE)


def _strip_comments(sparql: str) -> str:
    """Blank out comments (keeping offsets) so a '#'-comment cannot hide or fake a WHERE."""
    out, in_str, in_iri, i = [], None, False, 0
    while i < len(sparql):
        ch = sparql[i]
        if in_str:
            if ch == "\\":
                out.append(sparql[i:i + 2]); i += 2; continue
            if ch == in_str:
                in_str = None
        elif in_iri:
            in_iri = ch != ">"
        elif ch in "\"'":
            in_str = ch
        elif ch == "<" and re.match(r"<[^\s<>\"{}|^`\\]*>", sparql[i:]):
            in_iri = True
        elif ch == "#":
            j = sparql.find("\n", i)
            j = len(sparql) if j < 0 else j
            out.append(" " * (j - i)); i = j; continue
        out.append(ch); i += 1
    return "".join(out)


def with_values(sparql: str, bindings: Mapping[str, Node]) -> str:
    """Insert the VALUES block as the first element of the outer WHERE group."""
    block = values_block(bindings)
    if not block:
        return sparql
    m = _WHERE.search(_strip_comments(sparql))
    if not m:
        raise QueryError("query has no WHERE { ... } to bind parameters into")
    return sparql[:m.end()] + "\n  " + block + "\n" + sparql[m.end():]


class RemoteStore:
    """A SPARQL 1.1 query endpoint through SPARQLWrapper (Oxigraph, Virtuoso, GraphDB, Neptune)."""

    name = "remote"

    def __init__(self, endpoint: str, timeout: int = 60):
        self.endpoint = endpoint
        self.timeout = timeout

    def select(self, sparql: str, bindings: Mapping[str, Node] | None = None) -> Result:
        from SPARQLWrapper import JSON, POST, SPARQLWrapper
        text = with_values(sparql, bindings or {})
        client = SPARQLWrapper(self.endpoint)
        client.setQuery(text)
        client.setMethod(POST)
        client.setReturnFormat(JSON)
        client.setTimeout(self.timeout)
        start = time.perf_counter()
        try:
            data = client.query().convert()
        except Exception as err:  # SPARQLWrapper raises several unrelated types
            raise QueryError(f"endpoint {self.endpoint} failed: {err}") from err
        return parse_results_json(data, time.perf_counter() - start)


def parse_results_json(data: dict, seconds: float = 0.0) -> Result:
    """SPARQL 1.1 Query Results JSON -> Result."""
    names = list(data.get("head", {}).get("vars", []))
    rows = []
    for b in data.get("results", {}).get("bindings", []):
        rows.append({n: _from_json(b.get(n)) for n in names})
    return Result(names, rows, seconds)


def _from_json(cell: dict | None) -> Node | None:
    if cell is None:
        return None
    kind, value = cell["type"], cell["value"]
    if kind == "uri":
        return URIRef(value)
    if kind == "bnode":
        return BNode(value)
    if "xml:lang" in cell:
        return Literal(value, lang=cell["xml:lang"])
    dt = cell.get("datatype")
    return Literal(value, datatype=URIRef(dt) if dt and dt != XSD_STRING else None)


# --- opening and loading -------------------------------------------------------------

_CACHE: dict[tuple, EmbeddedStore] = {}


def open_store(release: Path | None = None, endpoint: str | None = None) -> Engine:
    """The remote engine when an endpoint is given, else the embedded one (cached per release)."""
    if endpoint:
        return RemoteStore(endpoint)
    from .query import default_release
    release = Path(release or default_release()).resolve()
    nquads = release / "graph.nq"
    key = (str(release), nquads.stat().st_mtime_ns if nquads.exists() else 0)
    if key not in _CACHE:
        _CACHE.clear()
        _CACHE[key] = EmbeddedStore.from_release(release)
    return _CACHE[key]


def load_endpoint(release: Path, endpoint: str, protocol: str = "gsp", log=print) -> int:
    """Put every named graph of a release into a remote store; return the number of graphs.

    `gsp`: SPARQL 1.1 Graph Store Protocol, one `PUT ?graph=<g>` of N-Triples per graph
    (replaces the graph, so loading twice is harmless). `update`: SPARQL 1.1 Update,
    `DROP SILENT GRAPH` then `INSERT DATA` per graph, for stores without the GSP.
    """
    import pyoxigraph as ox
    trig = Path(release) / "graph.trig"
    if not trig.is_file():
        raise KGError(f"no release at {release}: graph.trig missing (run `kg build` first)")
    store = ox.Store()
    store.bulk_load(path=str(trig), format=ox.RdfFormat.TRIG)
    count = 0
    for graph in sorted(store.named_graphs(), key=str):
        if not isinstance(graph, ox.NamedNode):
            continue
        body = store.dump(format=ox.RdfFormat.N_TRIPLES, from_graph=graph)
        g = graph.value
        if protocol == "gsp":
            url = endpoint + ("&" if "?" in endpoint else "?") + urllib.parse.urlencode({"graph": g})
            _http(url, "PUT", body, "application/n-triples")
        elif protocol == "update":
            text = (f"DROP SILENT GRAPH <{check_iri(g)}> ;\nINSERT DATA {{ GRAPH <{g}> {{\n".encode()
                    + body + b"}}")
            _http(endpoint, "POST", text, "application/sparql-update")
        else:
            raise QueryError(f"unknown protocol {protocol!r}; allowed: gsp, update")
        count += 1
        log(f"loaded {g} ({body.count(NL)} triples)")
    return count


def _http(url: str, method: str, body: bytes, content_type: str) -> None:
    req = urllib.request.Request(url, data=body, method=method, headers={"Content-Type": content_type})
    try:
        with urllib.request.urlopen(req, timeout=120) as resp:
            resp.read()
    except urllib.error.HTTPError as err:
        raise KGError(f"{method} {url} failed: HTTP {err.code} {err.read()[:300]!r}") from err
    except urllib.error.URLError as err:
        raise KGError(f"{method} {url} failed: {err.reason}") from err


def result_to_json(result: Result) -> str:
    """SPARQL 1.1 Query Results JSON."""
    def cell(t: Node) -> dict:
        if isinstance(t, URIRef):
            return {"type": "uri", "value": str(t)}
        if isinstance(t, BNode):
            return {"type": "bnode", "value": str(t)}
        d = {"type": "literal", "value": str(t)}
        if t.language:
            d["xml:lang"] = t.language
        elif t.datatype and str(t.datatype) != "http://www.w3.org/2001/XMLSchema#string":
            d["datatype"] = str(t.datatype)
        return d
    bindings = [{k: cell(v) for k, v in row.items() if v is not None} for row in result.rows]
    return json.dumps({"head": {"vars": result.variables}, "results": {"bindings": bindings}},
                      indent=1, ensure_ascii=False) + "\n"
