"""The engine: one interface, an embedded Oxigraph store and any remote SPARQL 1.1 endpoint.

Both engines answer with pyoxigraph terms, so the same `.rq` file gives the same Python
types on a laptop and on a server:

- `select(sparql, bindings)` -> `Result` (variables, rows of terms, None = unbound);
- `ask(...)` -> bool; `construct(...)` -> list of `ox.Triple` (CONSTRUCT and DESCRIBE);
- `raw(sparql)` -> the live `ox.QuerySolutions` / `ox.QueryBoolean` / `ox.QueryTriples`, for
  the HTTP endpoint, which streams and serialises them with pyoxigraph itself.

`EmbeddedStore` is pyoxigraph in process; its default graph is the release, each triple once.
`open_store(release)` opens the release's on-disk store (`<release>/store/`, written by the
build) read-only, in milliseconds; an older release without one is loaded from `graph.nq`
into memory (said on stderr). `RemoteStore` sends every query form through SPARQLWrapper and
parses the answer with pyoxigraph. The embedded engine refuses SERVICE unless
`allow_service=True` (for a caller, like the HTTP server, that checks the hosts itself).

Parameters always arrive as typed terms, never as text: a `VALUES` block of terms in
N-Triples syntax (`str()` of a pyoxigraph term, which escapes quotes; IRIs checked with
`kg.rdf.check_iri`), placed as the first element of the query's outer `WHERE` group (a
trailing VALUES clause would be joined only after GROUP BY and FILTER, which changes the
meaning of aggregate and threshold queries), and in place of each `# @parameters` comment (a
subquery the author marks, evaluated for the values asked). Both engines use it: on pyoxigraph
it was measured 1.2-13x faster than `substitutions=` (SEP-0007 pre-binding) at 2x10^4 claims,
because Oxigraph plans the join from the bound values. `EmbeddedStore(binding="substitutions")`
keeps the other path (the outer query pre-bound, the marks still given the VALUES block: a
pre-binding does not reach into a subquery); the contract test runs both. The outer WHERE and
SERVICE are found on a copy with comments, strings and IRIs blanked out (same offsets).

    >>> open_store().select("SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }").rows[0]["n"].value  # doctest: +SKIP

rdflib, the naive peer, is measured by the benchmark (`benchmarks/rdflib_store.py`)."""
from __future__ import annotations

import re
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Protocol, TypeVar

import pyoxigraph as ox

from .errors import KGError, QueryError
from .paths import release_dir
from .rdf import check_iri

__all__ = ["Term", "Result", "Store", "EmbeddedStore", "RemoteStore", "open_store",
           "values_block", "with_values", "uses_service", "materialise", "once", "terms_once", "STORE_DIR"]

Term = ox.NamedNode | ox.BlankNode | ox.Literal      # pyoxigraph terms everywhere in the engine
T = TypeVar("T")
STORE_DIR = "store"          # <release>/store/: the on-disk Oxigraph store the build writes


@dataclass
class Result:
    """A SELECT answer: variable names in order, rows of pyoxigraph terms (None = unbound)."""

    variables: list[str]
    rows: list[dict[str, Term | None]] = field(default_factory=list)
    seconds: float = 0.0

    def __len__(self) -> int:
        return len(self.rows)


class Store(Protocol):
    """What the query layer and the server need from an engine."""

    name: str

    def select(self, sparql: str, bindings: Mapping[str, Term] | None = None) -> Result: ...

    def ask(self, sparql: str, bindings: Mapping[str, Term] | None = None) -> bool: ...

    def construct(self, sparql: str, bindings: Mapping[str, Term] | None = None) -> list[ox.Triple]: ...

    def raw(self, sparql: str) -> ox.QuerySolutions | ox.QueryBoolean | ox.QueryTriples: ...


# --- the query text: lexing once per text, binding ---------------------------------------

# comments, strings (long ones first) and IRIs: the spans where a keyword means nothing
_NOISE = re.compile(r'#[^\n]*|"""(?:.|\n)*?"""|\'\'\'(?:.|\n)*?\'\'\'|"(?:\\.|[^"\\\n])*"'
                    r"|'(?:\\.|[^'\\\n])*'|<[^<>\"{}|^`\\\s]*>")
_WHERE = re.compile(r"\bWHERE\s*\{", re.IGNORECASE)
_SERVICE = re.compile(r"(?<![\w:?$])SERVICE(?![\w:])", re.IGNORECASE)
_VAR_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


@lru_cache(maxsize=1024)
def _blanked(sparql: str) -> str:
    """The text with comments, strings and IRIs replaced by spaces (offsets kept)."""
    return _NOISE.sub(lambda m: " " * len(m.group()), sparql)


@lru_cache(maxsize=1024)
def _where_offset(sparql: str) -> int:
    """Offset just after the `{` of the outer WHERE group; -1 when there is none."""
    m = _WHERE.search(_blanked(sparql))
    return m.end() if m else -1


_FROM = re.compile(r"(?<![\w:?$])FROM(?![\w:])", re.IGNORECASE)


@lru_cache(maxsize=1024)
def uses_from(sparql: str) -> bool:
    """True when the query names its dataset (FROM / FROM NAMED) outside comments, strings and IRIs."""
    return bool(_FROM.search(_blanked(sparql)))


@lru_cache(maxsize=1024)
def uses_service(sparql: str) -> bool:
    """True when the query says SERVICE outside comments, strings and IRIs."""
    return bool(_SERVICE.search(_blanked(sparql)))


def values_block(bindings: Mapping[str, Term]) -> str:
    """`VALUES (?a ?b) { (<iri> "x"^^<...#decimal>) }` from pyoxigraph terms (N-Triples syntax)."""
    if not bindings:
        return ""
    names, cells = [], []
    for name, term in bindings.items():
        if not _VAR_NAME.fullmatch(name):
            raise QueryError(f"bad parameter name {name!r}")
        names.append("?" + name)
        cells.append(str(_checked(term)))
    return f"VALUES ({' '.join(names)}) {{ ({' '.join(cells)}) }}"


def with_values(sparql: str, bindings: Mapping[str, Term] | None, outer: bool = True) -> str:
    """Insert the VALUES block as the first element of the outer WHERE group (unless `outer` is
    False: substitutions= binds the outer query), and in place of each `# @parameters` comment
    (the author's mark on a subquery or UNION branch where the parameters mean what they mean
    outside: Oxigraph evaluates a subquery on its own, for every site and modality, before the
    outer VALUES or substitutions join it)."""
    block = values_block(bindings or {})
    if not block:
        return sparql
    at = _where_offset(sparql)
    if at < 0:
        raise QueryError("query has no WHERE { ... } to bind parameters into")
    pieces, start = [sparql[:at], "\n  " + block + "\n" if outer else ""], at
    for begin, end in _marks(sparql):
        if begin > at:
            pieces += [sparql[start:begin], block]
            start = end
    return "".join(pieces) + sparql[start:]


PARAMS_MARK = "# @parameters"     # a comment that starts so is replaced by the VALUES block


@lru_cache(maxsize=1024)
def _marks(sparql: str) -> tuple[tuple[int, int], ...]:
    """The spans of the `# @parameters` comments (not of those words inside a string or an IRI)."""
    return tuple(m.span() for m in _NOISE.finditer(sparql) if m.group().startswith(PARAMS_MARK))


Raw = ox.QuerySolutions | ox.QueryBoolean | ox.QueryTriples


def materialise(answer: Raw | list[ox.Triple], seconds: float = 0.0) -> Result | bool | list[ox.Triple]:
    """A live answer as a Result (SELECT), a bool (ASK) or a list of triples (CONSTRUCT, DESCRIBE)."""
    if isinstance(answer, ox.QuerySolutions):
        return _result(answer, seconds)
    if isinstance(answer, ox.QueryBoolean):
        return bool(answer)
    return list(answer)


def _result(answer: ox.QuerySolutions, seconds: float = 0.0) -> Result:
    names = [v.value for v in answer.variables]
    return Result(names, [dict(zip(names, sol, strict=True)) for sol in answer], seconds)  # cells in order


def _expect(answer: Any, kind: type, form: str) -> Any:
    if not isinstance(answer, kind):
        raise QueryError(f"not a {form} query (use select for SELECT, ask for ASK, construct for "
                         "CONSTRUCT and DESCRIBE)")
    return answer


# --- embedded: pyoxigraph ------------------------------------------------------------

class EmbeddedStore:
    """Oxigraph in process: opens a release's on-disk store in milliseconds, answers in milliseconds.

    `store` is any `ox.Store` (read-only on disk, or in memory for tests and the benchmark).
    SERVICE is refused unless `allow_service` (for a caller that has checked its hosts itself).
    """

    name = "embedded"

    def __init__(self, store: ox.Store | None = None, binding: str = "values", allow_service: bool = False):
        if binding not in ("values", "substitutions"):
            raise QueryError(f"unknown binding {binding!r}; allowed: values, substitutions")
        self.store = store if store is not None else ox.Store()
        self.binding = binding      # "values" (default, measured faster) or "substitutions"
        self.allow_service = allow_service
        self.load_seconds = 0.0
        self._has_default: bool | None = None
        self.memo: dict[str, Any] | None = None    # a read-only store's side answers (once)

    @classmethod
    def from_release(cls, release: Path) -> EmbeddedStore:
        """The release's graph.nq loaded into an in-memory store (the fallback, and the benchmark's load)."""
        nquads = Path(release) / "graph.nq"
        if not nquads.is_file():
            raise KGError(f"no release at {release}: {nquads.name} missing (run `kg build` first)")
        start = time.perf_counter()
        self = cls()
        # load() over N-Quads measured 8.0 s at 3 M triples, bulk_load() over TriG 9.8 s
        self.store.load(path=str(nquads), format=ox.RdfFormat.N_QUADS)
        # and each triple once in the default graph, as the build writes the on-disk store
        self.store.extend(ox.Quad(q.subject, q.predicate, q.object)
                          for q in ox.parse(path=str(nquads), format=ox.RdfFormat.N_QUADS))
        self.load_seconds = time.perf_counter() - start
        return self

    @classmethod
    def open(cls, release: Path) -> EmbeddedStore:
        """The release's on-disk store, read-only; graph.nq in memory when the release has none."""
        folder = Path(release) / STORE_DIR
        if not folder.is_dir():
            print(f"note: {release} has no {STORE_DIR}/ (an older release); loading graph.nq into memory "
                  "(`kg build` writes the on-disk store)", file=sys.stderr)
            return cls.from_release(release)
        start = time.perf_counter()
        try:
            self = cls(ox.Store.read_only(str(folder)))
        except OSError as err:
            raise KGError(f"cannot open the store {folder}: {err}") from err
        self.memo = {}
        self.load_seconds = time.perf_counter() - start
        return self

    @property
    def has_default_graph(self) -> bool:
        """True when the store's default graph holds the release (each triple once; the build
        writes it so). An older store has named graphs only: its default graph is their union."""
        if self._has_default is None:
            self._has_default = next(iter(self.store.quads_for_pattern(None, None, None, ox.DefaultGraph())),
                                     None) is not None
        return self._has_default

    def raw(self, sparql: str, bindings: Mapping[str, Term] | None = None, *, base_iri: str | None = None,
            default_graph: list[str] | None = None, named_graphs: list[str] | None = None) -> Raw:
        """The live answer. The default graph is the store's (every triple of the release once),
        or the union of the named graphs on a store without one; the query's FROM / FROM NAMED
        apply, and `default_graph` / `named_graphs` (the protocol's dataset) override them."""
        if not self.allow_service and uses_service(sparql):
            raise QueryError("SERVICE is not allowed in the embedded engine (it would call another "
                             "endpoint); run the query on that endpoint with --endpoint URL")
        subs: dict[ox.Variable, Any] | None
        if self.binding == "substitutions":
            subs = {ox.Variable(k): _checked(v) for k, v in (bindings or {}).items()} or None
            sparql = with_values(sparql, bindings, outer=False) if _marks(sparql) else sparql
        else:
            sparql, subs = with_values(sparql, bindings), None
        dataset: dict[str, Any] = {}
        if default_graph is not None or named_graphs is not None:      # the protocol's dataset wins
            # SPARQL 1.1 Protocol 2.1.4: then the dataset is exactly these graphs (either list may be empty)
            dataset = {"default_graph": [ox.NamedNode(check_iri(g)) for g in default_graph or []],
                       "named_graphs": [ox.NamedNode(check_iri(g)) for g in named_graphs or []]}
        elif not self.has_default_graph and not uses_from(sparql):
            dataset = {"use_default_graph_as_union": True}   # an older store: named graphs only
        try:
            return self.store.query(sparql, base_iri=base_iri, substitutions=subs, **dataset)
        except SyntaxError as err:
            raise QueryError(f"SPARQL syntax error: {err}") from err
        except (OSError, RuntimeError) as err:
            raise QueryError(f"query failed: {err}") from err

    def select(self, sparql: str, bindings: Mapping[str, Term] | None = None) -> Result:
        start = time.perf_counter()
        answer = _expect(self.raw(sparql, bindings), ox.QuerySolutions, "SELECT")
        return _result(answer, time.perf_counter() - start)

    def ask(self, sparql: str, bindings: Mapping[str, Term] | None = None) -> bool:
        return bool(_expect(self.raw(sparql, bindings), ox.QueryBoolean, "ASK"))

    def construct(self, sparql: str, bindings: Mapping[str, Term] | None = None) -> list[ox.Triple]:
        return list(_expect(self.raw(sparql, bindings), ox.QueryTriples, "CONSTRUCT or DESCRIBE"))


def once(store: Store, key: str, compute: Callable[[], T]) -> T:
    """`compute()` once per read-only store (`memo`: its data cannot change), else each time: for the
    query layer's side questions (retracted claims, known ids, terms under a parameter)."""
    memo: dict[str, Any] | None = getattr(store, "memo", None)
    if memo is None:
        return compute()
    found: T = memo[key] if key in memo else memo.setdefault(key, compute())
    return found


def terms_once(store: Store, sparql: str) -> frozenset[Term]:
    """A one-column SELECT's terms, `once` per read-only store."""
    def terms() -> frozenset[Term]:
        result = store.select(sparql)
        return frozenset(t for r in result.rows if (t := r[result.variables[0]]) is not None)
    return once(store, sparql, terms)


def _checked(term: Term) -> Term:
    """A bound parameter (VALUES block or substitutions=): IRIs checked, blank nodes refused."""
    if isinstance(term, ox.NamedNode):
        check_iri(term.value)
    elif not isinstance(term, ox.Literal):
        raise QueryError(f"cannot bind {term!r}: only IRIs and literals can be parameters")
    return term


# --- remote: any SPARQL 1.1 endpoint -------------------------------------------------

_RESULTS_ACCEPT = ("application/sparql-results+json, application/sparql-results+xml;q=0.8, "
                   "text/tab-separated-values;q=0.5")
_RDF_ACCEPT = "application/n-triples, text/turtle;q=0.9, application/rdf+xml;q=0.5"


class RemoteStore:
    """A SPARQL 1.1 query endpoint through SPARQLWrapper (Oxigraph, Virtuoso, GraphDB, Neptune).

    Every query form is POSTed; the answer is parsed by pyoxigraph from whatever results or
    RDF media type the endpoint chose among those asked for.
    """

    name = "remote"

    def __init__(self, endpoint: str, timeout: int = 60):
        import http.client
        # Virtuoso echoes the dataset as one X-SPARQL-named-graph header per graph: above 100
        # graphs Python's http.client refused the answer ("got more than 100 headers")
        http.client._MAXHEADERS = max(http.client._MAXHEADERS, 100_000)  # type: ignore[attr-defined]
        self.endpoint = endpoint
        self.timeout = timeout

    def _send(self, sparql: str) -> tuple[bytes, str, str]:
        """POST the query; (body, media type, SPARQLWrapper's reading of the query form)."""
        from SPARQLWrapper import POST, SPARQLWrapper
        client = SPARQLWrapper(self.endpoint)
        client.setQuery(sparql)
        client.setMethod(POST)
        client.setOnlyConneg(True)
        client.setTimeout(self.timeout)
        form = client.queryType or "SELECT"
        client.addCustomHttpHeader("Accept", _RDF_ACCEPT if form in ("CONSTRUCT", "DESCRIBE") else _RESULTS_ACCEPT)
        try:
            response = client.query().response
            body = response.read()
        except Exception as err:  # SPARQLWrapper raises several unrelated types
            detail = err.args[0] if err.args and isinstance(err.args[0], bytes) else err
            raise QueryError(f"endpoint {self.endpoint} failed: {detail!s:.500}") from err
        media = (response.headers.get("Content-Type") or "").split(";")[0].strip().lower()
        return body, media, form

    def _answer(self, sparql: str) -> ox.QuerySolutions | ox.QueryBoolean | list[ox.Triple]:
        """The answer as pyoxigraph parsed it: QuerySolutions, QueryBoolean or a list of triples."""
        body, media, form = self._send(sparql)
        results = ox.QueryResultsFormat.from_media_type(media) if media else None
        rdf = ox.RdfFormat.from_media_type(media) if media and results is None else None
        try:
            if results is not None:
                return ox.parse_query_results(body, format=results)
            if rdf is not None or form in ("CONSTRUCT", "DESCRIBE"):
                return [q.triple for q in ox.parse(body, format=rdf or ox.RdfFormat.N_TRIPLES)]
            return ox.parse_query_results(body, format=ox.QueryResultsFormat.JSON)
        except (SyntaxError, ValueError) as err:
            raise QueryError(f"endpoint {self.endpoint}: unreadable answer ({media or 'no type'}): {err}") from err

    def raw(self, sparql: str) -> Raw:
        answer = self._answer(sparql)
        if isinstance(answer, list):        # an ox.QueryTriples is made by a query only: re-query the triples
            graph = ox.Store()
            graph.extend(ox.Quad(t.subject, t.predicate, t.object) for t in answer)
            return graph.query("CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o }")
        return answer

    def select(self, sparql: str, bindings: Mapping[str, Term] | None = None) -> Result:
        start = time.perf_counter()
        answer = _expect(self._answer(with_values(sparql, bindings)), ox.QuerySolutions, "SELECT")
        return _result(answer, time.perf_counter() - start)

    def ask(self, sparql: str, bindings: Mapping[str, Term] | None = None) -> bool:
        return bool(_expect(self._answer(with_values(sparql, bindings)), ox.QueryBoolean, "ASK"))

    def construct(self, sparql: str, bindings: Mapping[str, Term] | None = None) -> list[ox.Triple]:
        triples: list[ox.Triple] = _expect(self._answer(with_values(sparql, bindings)), list, "CONSTRUCT or DESCRIBE")
        return triples


# --- opening and loading -------------------------------------------------------------

_CACHE: dict[tuple[str, int, int], EmbeddedStore] = {}


def _stamp(path: Path) -> int:
    try:
        return path.stat().st_mtime_ns
    except OSError:
        return 0


def open_store(release: Path | None = None, endpoint: str | None = None) -> Store:
    """The remote engine when an endpoint is given, else the embedded one over a release (cached per process).

    The release defaults to `kg.paths.release_dir()` (KG_RELEASE, else build/release).
    """
    if endpoint:
        return RemoteStore(endpoint)
    folder = release_dir(release).resolve()
    key = (str(folder), _stamp(folder / STORE_DIR), _stamp(folder / "graph.nq"))
    if key not in _CACHE:
        _CACHE.clear()
        _CACHE[key] = EmbeddedStore.open(folder)
    return _CACHE[key]
