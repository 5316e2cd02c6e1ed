"""Loading a release into a remote SPARQL store (`kg load --endpoint URL`).

Every named graph of the release goes in, and every triple once into the store's default
graph (as `kg build` writes the on-disk store), so that the named queries answer the same on
a store started with or without a union default graph. Protocols (`--protocol`):

- `dataset`: the whole release in ONE request, `PUT <store URL>?no_transaction` of N-Quads
  (`application/n-quads`; without `?no_transaction` when refused): Oxigraph's `/store` takes
  a dataset, replaces its content, and with `no_transaction` uses its bulk loader.
  Then, unless the store's default graph is already the union of its named graphs, one
  `POST ?default` of N-Triples (each triple once). See docs/benchmark.md for times.
- `gsp`: SPARQL 1.1 Graph Store Protocol, one `PUT ?graph=<g>` of N-Triples per graph and a
  `PUT ?default` (Oxigraph, Fuseki, GraphDB; Virtuoso at `/sparql-graph-crud`); a graph of more
  than PIECE_LINES triples goes as a PUT and then POSTs (merges) of PIECE_LINES.
- `update`: SPARQL 1.1 Update, `DROP SILENT GRAPH` + `INSERT DATA` per graph, for stores
  without the GSP.
- `auto` (the default): `dataset`, and `gsp` when the store refuses a dataset (an HTTP
  error, or an HTML page instead of an empty success, as Virtuoso answers).

Every request replaces what it writes, so loading twice is harmless. `default_graph=IRI` puts
the default graph's triples into that named graph instead, for a store whose default graph
cannot be written and is queried with `default-graph-uri=IRI` (Virtuoso: without it a query
reads every graph of the quad store, system graphs included, and a triple held by two
documents matches twice).
"""
from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

import pyoxigraph as ox

from .errors import KGError, QueryError
from .rdf import check_iri
from .store import STORE_DIR

__all__ = ["load_endpoint", "PROTOCOLS"]

PROTOCOLS = ("auto", "dataset", "gsp", "update")
TIMEOUT = 900        # seconds per request: a 10^5-claim release is ~3 M quads
PIECE_LINES = 200_000     # triples per Graph Store request (see _pieces)


class _Refused(Exception):
    """The store does not take a whole dataset in one request."""


def load_endpoint(release: Path, endpoint: str, protocol: str = "auto", log: Callable[[str], object] = print,
                  default_graph: str | None = None) -> int:
    """Put a release into a remote store (see the module docstring); return the number of named graphs."""
    if protocol not in PROTOCOLS:
        raise QueryError(f"unknown protocol {protocol!r}; allowed: {', '.join(PROTOCOLS)}")
    release = Path(release)
    nquads = release / "graph.nq"
    if not nquads.is_file():
        raise KGError(f"no release at {release}: graph.nq missing (run `kg build` first)")
    if default_graph is not None:
        check_iri(default_graph)
    if protocol in ("auto", "dataset"):
        try:
            count = _load_dataset(nquads, endpoint, log)
        except _Refused as why:
            if protocol == "dataset":
                raise KGError(f"{endpoint} does not take a dataset in one request: {why}") from None
            log(f"the store does not take a dataset in one request ({why}); using the Graph Store Protocol")
            protocol = "gsp"
        else:
            _load_default(release, endpoint, "gsp", default_graph, log, post=default_graph is None)
            return count
    store = ox.Store()
    store.load(path=str(nquads), format=ox.RdfFormat.N_QUADS)
    count = 0
    for graph in sorted(store.named_graphs(), key=str):
        if not isinstance(graph, ox.NamedNode):
            continue
        body = store.dump(format=ox.RdfFormat.N_TRIPLES, from_graph=graph) or b""
        _put_graph(endpoint, protocol, graph.value, body)
        count += 1
        log(f"loaded {graph.value} ({len(body.splitlines())} triples)")
    _load_default(release, endpoint, protocol, default_graph, log, quads=store)
    return count


def _load_dataset(nquads: Path, endpoint: str, log: Callable[[str], object]) -> int:
    """One `PUT` of the release's N-Quads (the named graphs) to the store URL."""
    if "?" in endpoint:
        raise _Refused("the URL has a query string (a graph store URL takes ?graph= per graph)")
    size = nquads.stat().st_size
    # Oxigraph's `?no_transaction` loads with its bulk loader: 20 s instead of 134 s at 10^4 claims
    # (not atomic: a failed load leaves part of the release; loading again replaces it)
    for url in (endpoint + "?no_transaction", endpoint):
        try:
            with open(nquads, "rb") as fh:      # 4 MB writes (http.client reads a file 8 KB at a time)
                chunks = iter(lambda: fh.read(1 << 22), b"")
                status, media, body = _http(url, "PUT", chunks, "application/n-quads", length=size, refusable=True)
            if status not in (200, 201, 204) or (status == 200 and ("html" in media or body.strip()[:1] == b"<")):
                raise _Refused(f"HTTP {status} {media or 'without a body type'}")
            break
        except _Refused:
            if url == endpoint:
                raise
    graphs = _named_graphs(nquads.parent)
    log(f"loaded {len(graphs)} named graphs in one request ({size / 1e6:.1f} MB of N-Quads)")
    return len(graphs)


def _named_graphs(release: Path) -> set[str]:
    """The release's graph names: from its on-disk store (milliseconds), else read off graph.nq."""
    try:
        store = ox.Store.read_only(str(release / STORE_DIR))
        return {g.value for g in store.named_graphs() if isinstance(g, ox.NamedNode)}
    except OSError:
        pass
    return {q.graph_name.value for q in ox.parse(path=str(release / "graph.nq"), format=ox.RdfFormat.N_QUADS)
            if isinstance(q.graph_name, ox.NamedNode)}


def _load_default(release: Path, endpoint: str, protocol: str, default_graph: str | None,
                  log: Callable[[str], object], quads: ox.Store | None = None, post: bool = False) -> None:
    """Every triple once into the default graph, or into `default_graph`, unless the store's
    default graph is already the union of its named graphs."""
    if default_graph is None and _default_graph_is_union(endpoint):
        log("the endpoint's default graph is already the union of its named graphs: not loading it")
        return
    body = _default_triples(release, quads)
    lines = body.count(b"\n")
    if default_graph is not None:
        _put_graph(endpoint, protocol, default_graph, body)
        log(f"loaded the default graph into <{default_graph}> ({lines} triples, each once)")
        return
    sep = "&" if "?" in endpoint else "?"
    if protocol == "update":
        _http(endpoint, "POST", b"DROP SILENT DEFAULT ;\nINSERT DATA {\n" + body + b"}", "application/sparql-update")
    else:
        # after a dataset PUT the default graph is empty: POST adds without a second replace
        for i, piece in enumerate(_pieces(body)):
            _http(endpoint + sep + "default", "POST" if post or i else "PUT", piece, "application/n-triples")
    log(f"loaded the default graph ({lines} triples, each once)")


def _default_triples(release: Path, quads: ox.Store | None) -> bytes:
    """N-Triples of every triple of the release once: the on-disk store's default graph, which
    the build writes so; else the named graphs merged in memory."""
    folder = release / STORE_DIR
    if folder.is_dir():
        try:
            disk = ox.Store.read_only(str(folder))
            if next(iter(disk.quads_for_pattern(None, None, None, ox.DefaultGraph())), None) is not None:
                return disk.dump(format=ox.RdfFormat.N_TRIPLES, from_graph=ox.DefaultGraph()) or b""
        except OSError:
            pass
    if quads is None:
        quads = ox.Store()
        quads.load(path=str(release / "graph.nq"), format=ox.RdfFormat.N_QUADS)
    merged = ox.Store()
    merged.bulk_extend(ox.Quad(q.subject, q.predicate, q.object) for q in quads)
    return merged.dump(format=ox.RdfFormat.N_TRIPLES, from_graph=ox.DefaultGraph()) or b""


def _put_graph(endpoint: str, protocol: str, graph: str, body: bytes) -> None:
    if protocol == "update":
        text = (f"DROP SILENT GRAPH <{check_iri(graph)}> ;\nINSERT DATA {{ GRAPH <{graph}> {{\n".encode()
                + body + b"}}")
        _http(endpoint, "POST", text, "application/sparql-update")
    else:
        url = endpoint + ("&" if "?" in endpoint else "?") + urllib.parse.urlencode({"graph": graph})
        for i, piece in enumerate(_pieces(body)):
            _http(url, "PUT" if i == 0 else "POST", piece, "application/n-triples")



def _pieces(body: bytes) -> Iterator[bytes]:
    """A big graph's N-Triples in requests of PIECE_LINES triples: a PUT of the first, then POSTs
    (the Graph Store Protocol's merge). Virtuoso 7.2 stalled on one 3.2 M-triple PUT (the release's
    default graph at 10^5 claims: its lock monitor reported, nothing moved for 15 minutes), twice
    in three tries. Every triple with a blank node goes in the first request: a blank node label
    names one node only within one request."""
    if body.count(b"\n") <= PIECE_LINES:
        yield body
        return
    lines = body.splitlines(keepends=True)
    blank = [line for line in lines if b"_:" in line]
    rest = [line for line in lines if b"_:" not in line]
    yield b"".join(blank + rest[:PIECE_LINES])
    for start in range(PIECE_LINES, len(rest), PIECE_LINES):
        yield b"".join(rest[start:start + PIECE_LINES])


def _default_graph_is_union(endpoint: str) -> bool:
    """After the named graphs are loaded: does the store's query service already show them in
    its default graph (Oxigraph `--union-default-graph`, Fuseki `unionDefaultGraph`)? The query
    URL is guessed from the store URL (`/store`, `/data`, `/update` -> `/query`); when it cannot
    be asked, False (the default graph is loaded: right on a store without a union)."""
    parts = urllib.parse.urlsplit(endpoint)
    head, _, last = parts.path.rstrip("/").rpartition("/")
    if last not in ("store", "data", "update", "statements"):
        return False
    url = urllib.parse.urlunsplit((parts.scheme, parts.netloc, head + "/query",
                                   urllib.parse.urlencode({"query": "ASK { ?s ?p ?o }"}), ""))
    req = urllib.request.Request(url, headers={"Accept": "application/sparql-results+json"})
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            return bool(json.loads(resp.read()).get("boolean"))
    except (OSError, ValueError):
        return False


def _http(url: str, method: str, body: bytes | Iterable[bytes], content_type: str, length: int | None = None,
          refusable: bool = False) -> tuple[int, str, bytes]:
    """Send one request; (status, media type, body). With `refusable`, an HTTP error is `_Refused`."""
    headers = {"Content-Type": content_type}
    if length is not None:
        headers["Content-Length"] = str(length)
    req = urllib.request.Request(url, data=body, method=method, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=TIMEOUT) as resp:
            media = (resp.headers.get("Content-Type") or "").split(";")[0].strip().lower()
            return resp.status, media, resp.read()
    except urllib.error.HTTPError as err:
        detail = err.read()[:300]
        if refusable and err.code not in (401, 403):
            raise _Refused(f"HTTP {err.code} {detail[:120]!r}") from None
        raise KGError(f"{method} {url} failed: HTTP {err.code} {detail!r}") from err
    except (urllib.error.URLError, ConnectionError) as err:
        if refusable:       # Virtuoso resets the connection on a PUT without ?graph=
            raise _Refused(str(getattr(err, "reason", err))) from None
        raise KGError(f"{method} {url} failed: {getattr(err, 'reason', err)}") from err
