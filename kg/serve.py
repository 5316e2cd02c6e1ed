"""HTTP: every minted IRI by path with content negotiation, HTML pages, and a read-only /sparql.

The only module that imports the web stack (Starlette, uvicorn, Jinja2), so the library and
the CLI install without the ``[serve]`` extra.

Why user queries run in worker *processes*: an embedded engine cannot be interrupted in the
middle of a query, so the only hard time limit is a process we can kill. Each worker checks
the query (parsed, never string-matched), runs it, stops reading at ``max_results + 1`` and
serialises; the server waits ``query_timeout`` seconds, then kills and replaces the worker.
Pages use the same engine directly: their queries are ours and bounded.

Why 200 and not 303 here: the persistent IRI ``https://w3id.org/bcmkg/vocab/X`` is answered
by w3id.org with a 303 to this server (see docs/serving.md), which already tells clients that
the IRI names a thing and the response describes it. Answering the path again with a second
303 would only add a round trip, so ``/vocab/X`` answers 200 with the negotiated description,
``Vary: Accept`` and a ``Content-Location`` naming the format-specific document
(``/vocab/X.ttl``). ``/resolve?iri=...`` answers 303 for clients that hold a full IRI.

>>> cfg = ServeConfig(release=Path("build/release"))       # doctest: +SKIP
>>> serve(cfg, host="127.0.0.1", port=8000)                # doctest: +SKIP
"""
from __future__ import annotations

import asyncio
import contextlib
import csv
import ctypes
import difflib
import functools
import io
import json
import multiprocessing
import re
import shutil
import tempfile
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable
from urllib.parse import urlencode, urlparse
from xml.sax.saxutils import escape as xml_escape

import httpx
import pyoxigraph as ox
from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import (FileResponse, HTMLResponse, JSONResponse, PlainTextResponse,
                                 RedirectResponse, Response)
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from .errors import KGError, QueryError
from .rdf import BASE, IAO_DEFINITION, IAO_REPLACED_BY, PREFIXES

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
RDFS_LABEL = "http://www.w3.org/2000/01/rdf-schema#label"
RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
SKOS = "http://www.w3.org/2004/02/skos/core#"
OBOINOWL = "http://www.geneontology.org/formats/oboInOwl#"
OWL = "http://www.w3.org/2002/07/owl#"
XSD = "http://www.w3.org/2001/XMLSchema#"
V = BASE + "vocab/"

# Literal predicates that name a thing: what search and 404 suggestions look at.
NAME_PREDICATES = [RDFS_LABEL, SKOS + "prefLabel", SKOS + "altLabel", SKOS + "hiddenLabel",
                   SKOS + "notation", OBOINOWL + "hasExactSynonym", OBOINOWL + "hasRelatedSynonym",
                   OBOINOWL + "hasNarrowSynonym", OBOINOWL + "hasBroadSynonym", V + "abbreviation",
                   V + "synonym", "http://purl.org/dc/terms/title", V + "trialName",
                   V + "registryId", "http://purl.obolibrary.org/obo/IAO_0000118",
                   "http://purl.obolibrary.org/obo/OMO_0003000", "http://purl.obolibrary.org/obo/OMO_0003012"]
SYNONYM_PREDICATES = [SKOS + "altLabel", OBOINOWL + "hasExactSynonym", OBOINOWL + "hasRelatedSynonym",
                      OBOINOWL + "hasNarrowSynonym", OBOINOWL + "hasBroadSynonym", V + "synonym",
                      "http://purl.obolibrary.org/obo/IAO_0000118"]
ABBREVIATION_PREDICATES = [V + "abbreviation", SKOS + "hiddenLabel", SKOS + "notation",
                           "http://purl.obolibrary.org/obo/OMO_0003000",
                           "http://purl.obolibrary.org/obo/OMO_0003012"]
DEFINITION_PREDICATES = [str(IAO_DEFINITION), SKOS + "definition"]
MAPPING_PREDICATES = {SKOS + "exactMatch": "exact", SKOS + "closeMatch": "close",
                      SKOS + "broadMatch": "broad", SKOS + "narrowMatch": "narrow",
                      SKOS + "relatedMatch": "related", OBOINOWL + "hasDbXref": "xref"}
# Where a study's survival figure sits, for the dot chart.
CHART_UNITS = {V + "Percent": "rate", V + "Month": "median"}


class EndpointError(KGError):
    """A request the endpoint answers with a 4xx/5xx status and a message meant for people."""

    def __init__(self, status: int, message: str):
        self.status = status
        super().__init__(message)


# --- configuration and engines --------------------------------------------------------

@dataclass
class ServeConfig:
    """What to serve and how hard to bound it. One of `release` or `endpoint`."""

    release: Path | None = None
    endpoint: str | None = None
    query_timeout: float = 10.0
    max_results: int = 10_000
    allow_service: list[str] = field(default_factory=list)
    cors: list[str] = field(default_factory=list)
    workers: int = 2
    queries: Path = ROOT / "queries"


@dataclass
class EngineSpec:
    """Picklable recipe for opening the engine in a worker process."""

    store_path: str | None = None
    endpoint: str | None = None
    timeout: float = 10.0
    isolate_network: bool = False

    def open(self) -> "Engine":
        if self.endpoint:
            return RemoteEngine(self.endpoint, self.timeout)
        return EmbeddedEngine(ox.Store.read_only(self.store_path))


class EmbeddedEngine:
    """pyoxigraph, read-only; the default graph is the union of the release's named graphs."""

    def __init__(self, store: ox.Store):
        self.store = store

    def select(self, text: str) -> ox.QuerySolutions:
        return self.store.query(text, use_default_graph_as_union=True)

    def ask(self, text: str) -> bool:
        return bool(self.store.query(text, use_default_graph_as_union=True))

    def construct(self, text: str) -> Iterable[ox.Triple]:
        return self.store.query(text, use_default_graph_as_union=True)


class RemoteEngine:
    """A SPARQL 1.1 endpoint; answers come back as pyoxigraph terms, like the embedded one."""

    def __init__(self, url: str, timeout: float):
        self.url, self.client = url, httpx.Client(timeout=timeout)

    def _post(self, text: str, accept: str) -> bytes:
        r = self.client.post(self.url, data={"query": text}, headers={"Accept": accept})
        if r.status_code >= 400:
            raise EndpointError(502, f"remote endpoint answered {r.status_code}: {r.text[:500]}")
        return r.content

    def select(self, text: str) -> ox.QuerySolutions:
        return ox.parse_query_results(self._post(text, "application/sparql-results+json"),
                                      format=ox.QueryResultsFormat.JSON)

    def ask(self, text: str) -> bool:
        return bool(self.select(text))

    def construct(self, text: str) -> Iterable[ox.Triple]:
        return ox.parse(self._post(text, "application/n-triples"), format=ox.RdfFormat.N_TRIPLES)


Engine = EmbeddedEngine | RemoteEngine


def load_release(release: Path, workdir: Path) -> str:
    """Bulk-load the release's graph.trig into an on-disk store that workers open read-only.

    On disk, not in memory, so N workers share one copy instead of loading N.
    """
    trig = Path(release) / "graph.trig"
    if not trig.is_file():
        raise QueryError(f"no release at {release}: {trig.name} missing; run `kg build` first")
    path = str(workdir / "store")
    store = ox.Store(path)
    store.bulk_load(path=str(trig), format=ox.RdfFormat.TRIG)
    store.flush()
    del store
    return path


# --- the SPARQL guard -----------------------------------------------------------------

_LEX_NOISE = re.compile(r'#[^\n]*|"""(?:.|\n)*?"""|\'\'\'(?:.|\n)*?\'\'\'|"(?:\\.|[^"\\\n])*"'
                        r"|'(?:\\.|[^'\\\n])*'|<[^<>\"{}|^`\\\s]*>")


@functools.lru_cache(maxsize=512)
def check_query(text: str, allowed_hosts: tuple[str, ...] = ()) -> str:
    """Parse `text` with rdflib; return SELECT/ASK/CONSTRUCT/DESCRIBE or raise EndpointError.

    Updates are recognised by parsing them as updates (a comment or a string holding
    "INSERT" is no update). SERVICE is found in the algebra, including inside EXISTS and
    subqueries; a SERVICE whose IRI is a variable is refused, as is any host not listed.
    A lexical backstop refuses the SERVICE keyword if the algebra walk did not see it, so a
    disagreement between rdflib's parser and the engine's can never let a call through.

    >>> check_query("SELECT * WHERE { ?s ?p ?o }")
    'SELECT'
    """
    from pyparsing import ParseException
    from rdflib.plugins.sparql.algebra import translateQuery
    from rdflib.plugins.sparql.parser import parseQuery, parseUpdate

    try:
        parsed = parseQuery(text)
    except ParseException as err:
        try:
            parseUpdate(text)
        except Exception:
            raise EndpointError(400, f"malformed query: {err}") from None
        raise EndpointError(403, "this endpoint is read-only: SPARQL Update (INSERT, DELETE, LOAD, "
                                 "CLEAR, CREATE, DROP, COPY, MOVE, ADD) is not accepted") from None
    except Exception as err:
        raise EndpointError(400, f"malformed query: {err}") from None
    try:
        algebra = translateQuery(parsed).algebra
    except Exception as err:
        raise EndpointError(400, f"malformed query: {type(err).__name__}: {err}") from None
    kind = {"SelectQuery": "SELECT", "AskQuery": "ASK", "ConstructQuery": "CONSTRUCT",
            "DescribeQuery": "DESCRIBE"}.get(algebra.name)
    if kind is None:
        raise EndpointError(400, f"unsupported query form {algebra.name}")
    services = list(_services(algebra))
    for term in services:
        if not isinstance(term, str) or term.startswith("?") or type(term).__name__ == "Variable":
            raise EndpointError(403, f"SERVICE with a variable endpoint ({term}) is not allowed")
        host = urlparse(str(term)).hostname or ""
        if host not in allowed_hosts:
            allowed = ", ".join(allowed_hosts) or "none"
            raise EndpointError(403, f"SERVICE to {host or term!s} is not allowed "
                                     f"(hosts this endpoint may call: {allowed})")
    if not services and re.search(r"(?<![\w:])SERVICE(?![\w:])", _LEX_NOISE.sub(" ", text), re.I):
        raise EndpointError(403, "SERVICE is not allowed (could not verify its endpoint)")
    return kind


def _services(node: Any) -> Iterable[Any]:
    """Every SERVICE term in an rdflib algebra tree (CompValue is a dict subclass)."""
    if isinstance(node, dict):
        if getattr(node, "name", None) == "ServiceGraphPattern":
            yield node.get("term")
        for value in node.values():
            yield from _services(value)
    elif isinstance(node, (list, tuple)):
        for value in node:
            yield from _services(value)


# --- results: negotiation and serialisation ------------------------------------------

RDF_TYPES = {  # media type -> (format key, pyoxigraph format or None for JSON-LD/HTML)
    "text/html": "html", "text/turtle": "ttl", "application/ld+json": "jsonld",
    "application/n-triples": "nt", "application/rdf+xml": "rdfxml",
}
RESULT_TYPES = {
    "application/sparql-results+json": "json", "application/json": "json",
    "application/sparql-results+xml": "xml", "application/xml": "xml", "text/xml": "xml",
    "text/csv": "csv", "text/tab-separated-values": "tsv", "text/html": "html",
}
FORMAT_ALIASES = {
    "ttl": "ttl", "turtle": "ttl", "jsonld": "jsonld", "json-ld": "jsonld", "nt": "nt",
    "ntriples": "nt", "n-triples": "nt", "rdf": "rdfxml", "rdfxml": "rdfxml", "owl": "rdfxml",
    "html": "html", "json": "json", "xml": "xml", "csv": "csv", "tsv": "tsv", "srj": "json",
}
MEDIA = {"html": "text/html; charset=utf-8", "ttl": "text/turtle; charset=utf-8",
         "jsonld": "application/ld+json", "nt": "application/n-triples",
         "rdfxml": "application/rdf+xml", "json": "application/sparql-results+json",
         "xml": "application/sparql-results+xml", "csv": "text/csv; charset=utf-8",
         "tsv": "text/tab-separated-values; charset=utf-8"}
EXTENSION = {"html": "html", "ttl": "ttl", "jsonld": "jsonld", "nt": "nt", "rdfxml": "rdf"}


def negotiate(accept: str | None, offers: dict[str, str], fmt: str | None = None) -> str | None:
    """Pick a format key: `?format=` wins, then the highest-q Accept entry, ties in offer order.

    >>> negotiate("text/turtle;q=0.9, application/ld+json", RDF_TYPES)
    'jsonld'
    """
    if fmt:
        key = FORMAT_ALIASES.get(fmt.lower())
        return key if key in offers.values() else None
    if not accept or not accept.strip():
        return next(iter(offers.values()))
    best: tuple[float, int, str] | None = None
    for i, part in enumerate(accept.split(",")):
        media, *params = [p.strip() for p in part.split(";")]
        q = 1.0
        for p in params:
            if p.startswith("q="):
                try:
                    q = float(p[2:])
                except ValueError:
                    q = 0.0
        if q <= 0:
            continue
        for rank, (offer, key) in enumerate(offers.items()):
            if media == offer or media == "*/*" or (media.endswith("/*") and offer.startswith(media[:-1])):
                specific = 0 if media in ("*/*",) or media.endswith("/*") else 1
                cand = (q, specific, -rank)
                if best is None or cand > best[:3]:
                    best = (*cand, key)  # type: ignore[assignment]
    return best[3] if best else None  # type: ignore[index]


def term_json(t: Any) -> dict[str, str]:
    if isinstance(t, ox.NamedNode):
        return {"type": "uri", "value": t.value}
    if isinstance(t, ox.BlankNode):
        return {"type": "bnode", "value": t.value}
    if isinstance(t, ox.Literal):
        out = {"type": "literal", "value": t.value}
        if t.language:
            out["xml:lang"] = t.language
        elif t.datatype.value != XSD + "string":
            out["datatype"] = t.datatype.value
        return out
    return {"type": "literal", "value": str(t)}


def results_bytes(variables: list[str], rows: list[list[Any]], key: str) -> bytes:
    """SPARQL 1.1 results in JSON, XML, CSV or TSV from rows of pyoxigraph terms (None = unbound)."""
    if key in ("json", "html"):
        bindings = [{v: term_json(t) for v, t in zip(variables, row) if t is not None} for row in rows]
        return json.dumps({"head": {"vars": variables}, "results": {"bindings": bindings}}).encode()
    if key == "csv":
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\r\n")
        w.writerow(variables)
        for row in rows:
            w.writerow(["" if t is None else ("_:" + t.value if isinstance(t, ox.BlankNode) else t.value)
                        for t in row])
        return buf.getvalue().encode()
    if key == "tsv":
        lines = ["\t".join("?" + v for v in variables)]
        lines += ["\t".join("" if t is None else str(t) for t in row) for row in rows]
        return ("\n".join(lines) + "\n").encode()
    out = ['<?xml version="1.0"?>\n<sparql xmlns="http://www.w3.org/2005/sparql-results#"><head>']
    out += [f'<variable name="{v}"/>' for v in variables] + ["</head><results>"]
    for row in rows:
        out.append("<result>")
        for v, t in zip(variables, row):
            if t is None:
                continue
            j = term_json(t)
            if j["type"] == "uri":
                inner = f"<uri>{xml_escape(j['value'])}</uri>"
            elif j["type"] == "bnode":
                inner = f"<bnode>{xml_escape(j['value'])}</bnode>"
            else:
                attr = (f' xml:lang="{j["xml:lang"]}"' if "xml:lang" in j else
                        f' datatype="{xml_escape(j["datatype"])}"' if "datatype" in j else "")
                inner = f"<literal{attr}>{xml_escape(j['value'])}</literal>"
            out.append(f'<binding name="{v}">{inner}</binding>')
        out.append("</result>")
    out.append("</results></sparql>\n")
    return "".join(out).encode()


def boolean_bytes(value: bool, key: str) -> bytes:
    if key in ("json", "html"):
        return json.dumps({"head": {}, "boolean": value}).encode()
    if key in ("csv", "tsv"):
        return (f"{'?' if key == 'tsv' else ''}_askResult\n{str(value).lower()}\n").encode()
    return ('<?xml version="1.0"?>\n<sparql xmlns="http://www.w3.org/2005/sparql-results#">'
            f"<head/><boolean>{str(value).lower()}</boolean></sparql>\n").encode()


def rdf_bytes(triples: list[ox.Triple], key: str, context: dict | None = None) -> bytes:
    """Turtle / N-Triples / RDF-XML by pyoxigraph; JSON-LD compacted with the release's @context."""
    if key == "ttl":
        return ox.serialize(triples, format=ox.RdfFormat.TURTLE, prefixes=PREFIXES)
    if key == "nt":
        return ox.serialize(triples, format=ox.RdfFormat.N_TRIPLES)
    if key == "rdfxml":
        return ox.serialize(triples, format=ox.RdfFormat.RDF_XML, prefixes=PREFIXES)
    import rdflib
    g = rdflib.Graph()
    g.parse(data=ox.serialize(triples, format=ox.RdfFormat.N_TRIPLES).decode(), format="nt")
    ctx = (context or {}).get("@context", context) or {k: v for k, v in PREFIXES.items()}
    return g.serialize(format="json-ld", context=ctx, auto_compact=True, indent=2).encode()


# --- worker processes -----------------------------------------------------------------

@dataclass
class Limits:
    timeout: float
    max_results: int
    allow_service: tuple[str, ...]


def answer_query(engine: Engine, text: str, accept: str | None, fmt: str | None,
                 limits: Limits, context: dict | None = None) -> tuple[int, str, bytes]:
    """Check, run and serialise one query: (status, format key, body). Runs inside a worker."""
    try:
        kind = check_query(text, limits.allow_service)
        graph = kind in ("CONSTRUCT", "DESCRIBE")
        key = negotiate(accept, RDF_TYPES if graph else RESULT_TYPES, fmt)
        if key is None:
            offered = ", ".join(RDF_TYPES if graph else RESULT_TYPES)
            raise EndpointError(406, f"cannot answer a {kind} query as {fmt or accept}; offered: {offered}")
        cap = limits.max_results
        too_many = (f"the result has more than {cap} {'triples' if graph else 'rows'} (this endpoint's "
                    f"limit); add a LIMIT, or narrow the query")
        if kind == "ASK":
            return 200, key, boolean_bytes(engine.ask(text), key)
        if graph:
            triples = []
            for t in engine.construct(text):
                triples.append(t)
                if len(triples) > cap:
                    raise EndpointError(422, too_many)
            return 200, key, (rdf_bytes(triples, "nt") if key == "html" else rdf_bytes(triples, key, context))
        solutions = engine.select(text)
        variables = [v.value for v in solutions.variables]
        rows: list[list[Any]] = []
        for s in solutions:
            rows.append([s[v] for v in variables])
            if len(rows) > cap:
                raise EndpointError(422, too_many)
        return 200, key, results_bytes(variables, rows, key)
    except EndpointError as err:
        return err.status, "text", str(err).encode()
    except SyntaxError as err:
        return 400, "text", f"malformed query: {err}".encode()
    except Exception as err:  # the engine's own failure, e.g. a remote endpoint down
        return 500, "text", f"query failed: {type(err).__name__}: {err}".encode()


def _drop_network() -> bool:
    """Move this process into an empty network namespace, so the engine cannot follow SERVICE.

    Best effort: needs root or unprivileged user namespaces; the parsed check still applies.
    """
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        if libc.unshare(0x40000000) == 0:  # CLONE_NEWNET
            return True
        return libc.unshare(0x10000000 | 0x40000000) == 0  # CLONE_NEWUSER | CLONE_NEWNET
    except Exception:
        return False


def answer_named(store: Any, name: str, values: dict[str, str], fmt: str, limits: Limits,
                 folder: Path) -> tuple[int, str, bytes]:
    """Run one named query through kg.query (its parameter checks and messages); runs in a worker."""
    from .query import format_result, run
    try:
        result = run(name, values, engine=store, folder=folder)
        if len(result.rows) > limits.max_results:
            raise EndpointError(422, f"the result has more than {limits.max_results} rows (this "
                                     f"endpoint's limit); narrow the parameters")
        if fmt == "csv":
            return 200, "csv", format_result(result, "csv").encode()
        return 200, "json", format_result(result, "json").encode()
    except EndpointError as err:
        return err.status, "text", str(err).encode()
    except KGError as err:
        return 400, "text", str(err).encode()
    except Exception as err:
        return 500, "text", f"query failed: {type(err).__name__}: {err}".encode()


def _worker_main(conn: Any, spec: EngineSpec, limits: Limits, context: dict | None, folder: Path) -> None:
    from .store import EmbeddedStore, RemoteStore
    isolated = _drop_network() if spec.isolate_network else False
    engine = spec.open()
    store = (RemoteStore(spec.endpoint, int(spec.timeout) + 1) if spec.endpoint
             else EmbeddedStore(engine.store))  # type: ignore[union-attr]
    conn.send(("ready", isolated))
    while True:
        try:
            request = conn.recv()
        except (EOFError, OSError):
            return
        if request[0] == "named":
            conn.send(answer_named(store, request[1], request[2], request[3], limits, folder))
        else:
            conn.send(answer_query(engine, request[1], request[2], request[3], limits, context))


class WorkerPool:
    """Runs queries in killable processes: a worker that overruns the time limit is replaced."""

    def __init__(self, spec: EngineSpec, limits: Limits, size: int, context: dict | None, folder: Path):
        self.spec, self.limits, self.size, self.context, self.folder = spec, limits, size, context, folder
        self.ctx = multiprocessing.get_context("spawn")
        self.idle: asyncio.Queue | None = None
        self.isolated = False
        self.procs: set[Any] = set()

    async def start(self) -> None:
        self.idle = asyncio.Queue()
        await asyncio.gather(*(self._add() for _ in range(self.size)))

    async def _add(self) -> None:
        parent, child = self.ctx.Pipe()
        proc = self.ctx.Process(target=_worker_main, args=(child, self.spec, self.limits, self.context, self.folder),
                                daemon=True)
        proc.start()
        child.close()
        self.procs.add(proc)
        try:
            await self._readable(parent, 120)
            _, self.isolated = parent.recv()
        except Exception:
            proc.kill()
            self.procs.discard(proc)
            raise
        self.idle.put_nowait((proc, parent))

    @staticmethod
    async def _readable(conn: Any, timeout: float) -> None:
        loop = asyncio.get_running_loop()
        fut = loop.create_future()
        loop.add_reader(conn.fileno(), lambda: fut.done() or fut.set_result(None))
        try:
            await asyncio.wait_for(fut, timeout)
        finally:
            loop.remove_reader(conn.fileno())

    async def run(self, *request: Any) -> tuple[int, str, bytes]:
        """Send ("sparql", text, accept, format) or ("named", name, values, format) to a worker."""
        assert self.idle is not None
        t = self.limits.timeout
        try:
            proc, conn = await asyncio.wait_for(self.idle.get(), t)
        except asyncio.TimeoutError:
            return 503, "text", f"all query workers are busy; try again (time limit {t:g} s)".encode()
        try:
            conn.send(request)
            await self._readable(conn, t)
            answer = conn.recv()
        except (asyncio.TimeoutError, EOFError, OSError) as err:
            proc.kill()
            proc.join(1)
            self.procs.discard(proc)
            conn.close()
            asyncio.get_running_loop().create_task(self._add())
            if isinstance(err, asyncio.TimeoutError):
                return 503, "text", (f"query stopped: it ran longer than this endpoint's time limit "
                                     f"of {t:g} s; add a LIMIT or narrow the query").encode()
            return 500, "text", f"query worker failed: {err}".encode()
        self.idle.put_nowait((proc, conn))
        return answer

    def stop(self) -> None:
        for proc in list(self.procs):
            proc.kill()
        self.procs.clear()


# --- reading the graph for pages -------------------------------------------------------

def iri_ok(iri: str) -> bool:
    """An IRI safe to write between <...> in a query."""
    return bool(re.fullmatch(r"[^\s<>\"{}|\\^`]+", iri))


def lit(value: str) -> str:
    return json.dumps(value)


def pyval(t: Any) -> Any:
    return None if t is None else t.value


def local_name(iri: str) -> str:
    return re.split(r"[/#]", iri.rstrip("/"))[-1]


def humanise(name: str) -> str:
    return re.sub(r"(?<=[a-z])(?=[A-Z])", " ", name).lower()


def curie(iri: str) -> str:
    m = re.match(r"http://purl\.obolibrary\.org/obo/([A-Za-z]+)_(\w+)$", iri)
    if m:
        return f"{m.group(1)}:{m.group(2)}"
    for prefix, ns in PREFIXES.items():
        if iri.startswith(ns) and len(iri) > len(ns):
            return f"{prefix}:{iri[len(ns):]}"
    return iri


def local_path(iri: str) -> str | None:
    """The server path of a minted IRI, or None if we did not mint it."""
    return "/" + iri[len(BASE):] if iri.startswith(BASE) else None


def kind_of(iri: str) -> str:
    path = iri[len(BASE):] if iri.startswith(BASE) else ""
    if path.startswith("vocab/"):
        return "term"
    if path.startswith("id/claim/"):
        return "claim" if path.count("/") == 3 else "resource"
    if path.startswith("id/study/"):
        return "study" if path.count("/") == 2 else "arm"
    for k in ("document", "case", "exclusion"):
        if path.startswith(f"id/{k}/"):
            return k
    return "resource"


class Graph:
    """What the pages read: labels, names for search, and small queries over the engine."""

    def __init__(self, engine: Engine):
        self.engine = engine
        self.labels: dict[str, str] = {}
        self.names: list[tuple[str, str, str]] = []  # (casefolded name, name, iri)
        self.refresh()

    def refresh(self) -> None:
        preds = " ".join(f"<{p}>" for p in NAME_PREDICATES)
        rows = self.select(f"SELECT ?s ?p ?o WHERE {{ VALUES ?p {{ {preds} }} ?s ?p ?o FILTER(isLiteral(?o)) }}")
        labels: dict[str, str] = {}
        names = []
        for r in rows:
            s, p, o = r["s"], r["p"], r["o"]
            if p in (RDFS_LABEL, "http://purl.org/dc/terms/title") and s not in labels:
                labels[s] = o
            names.append((o.casefold(), o, s))
        self.labels, self.names = labels, names

    def select(self, text: str) -> list[dict[str, Any]]:
        sols = self.engine.select(text)
        variables = [v.value for v in sols.variables]
        return [{v: pyval(s[v]) for v in variables} for s in sols]

    def label(self, iri: str) -> str:
        if iri in self.labels:
            return self.labels[iri]
        if iri.startswith("https://doi.org/"):
            return "doi:" + iri[len("https://doi.org/"):]
        if iri.startswith(V):
            return humanise(local_name(iri))
        return curie(iri)

    def triples(self, iri: str) -> list[ox.Triple]:
        """The resource's statements, with its blank nodes and the parts it owns
        (`{iri}/evidence`, `{iri}/selector`, a study's arms), two levels deep."""
        own = lit(iri + "/")
        q = f"""CONSTRUCT {{ <{iri}> ?p ?o . ?o ?p2 ?o2 . ?o2 ?p3 ?o3 }} WHERE {{ <{iri}> ?p ?o
          OPTIONAL {{ ?o ?p2 ?o2 FILTER(isBlank(?o) || STRSTARTS(STR(?o), {own}))
            OPTIONAL {{ ?o2 ?p3 ?o3 FILTER(isBlank(?o2) || STRSTARTS(STR(?o2), {own})) }} }} }}"""
        return list(dict.fromkeys(self.engine.construct(q)))

    def search(self, text: str, limit: int = 50) -> list[dict[str, Any]]:
        """Rank exact names (labels, abbreviations, synonyms) first, then prefixes, then substrings."""
        q = text.strip().casefold()
        if not q:
            return []
        best: dict[str, tuple[int, int, str]] = {}
        kinds = {"term": 0, "study": 1, "document": 2, "claim": 3}
        for key, name, iri in self.names:
            if key == q:
                score = 0
            elif key.startswith(q):
                score = 1
            elif re.search(r"\b" + re.escape(q), key):
                score = 2
            elif q in key:
                score = 3
            else:
                continue
            rank = (score, kinds.get(kind_of(iri), 4), name)
            if iri not in best or rank < best[iri]:
                best[iri] = rank
        hits = sorted(best.items(), key=lambda kv: (kv[1], self.label(kv[0])))[:limit]
        return [{"iri": iri, "path": local_path(iri) or iri, "label": self.label(iri),
                 "matched": name if name != self.label(iri) else "", "kind": kind_of(iri)}
                for iri, (_, _, name) in hits]

    def suggest(self, missing: str, n: int = 5) -> list[dict[str, str]]:
        """Closest labels and ids to an unknown IRI's last segment, for the 404 page."""
        word = humanise(local_name(missing)).casefold()
        pool: dict[str, str] = {}
        for key, _, iri in self.names:
            if kind_of(iri) != "claim":
                pool.setdefault(key, iri)
                pool.setdefault(humanise(local_name(iri)).casefold(), iri)
        close = difflib.get_close_matches(word, list(pool), n=n * 2, cutoff=0.5)
        out = list(dict.fromkeys(pool[c] for c in close))[:n]
        return [{"path": local_path(i) or i, "label": self.label(i), "iri": i} for i in out]

    # --- claims tables and the chart ---

    CLAIM_COLUMNS = """?claim ?value ?vq ?low ?high ?unit ?tp ?tpu ?stat ?endpoint ?cil ?ciu
        ?study ?doc ?locator ?site ?modality ?arm ?n ?ctype ?interp"""

    def claims(self, where: str, limit: int = 500) -> list[dict[str, Any]]:
        """Claims matching a pattern over ?claim, with what a reader needs to judge the figure."""
        b = f"<{V}"
        q = f"""SELECT DISTINCT {self.CLAIM_COLUMNS} ?role ?via WHERE {{ {where}
          FILTER(STRSTARTS(STR(?claim), {lit(BASE + 'id/claim/')}))
          OPTIONAL {{ ?claim {b}value> ?value }} OPTIONAL {{ ?claim {b}valueQualifier> ?vq }}
          OPTIONAL {{ ?claim {b}valueLow> ?low }} OPTIONAL {{ ?claim {b}valueHigh> ?high }}
          OPTIONAL {{ ?claim {b}unit> ?unit }} OPTIONAL {{ ?claim {b}timePoint> ?tp }}
          OPTIONAL {{ ?claim {b}timePointUnit> ?tpu }} OPTIONAL {{ ?claim {b}statisticType> ?stat }}
          OPTIONAL {{ ?claim {b}endpoint> ?endpoint }} OPTIONAL {{ ?claim {b}ciLower> ?cil }}
          OPTIONAL {{ ?claim {b}ciUpper> ?ciu }} OPTIONAL {{ ?claim {b}aboutStudy> ?study }}
          OPTIONAL {{ ?claim <http://www.w3.org/ns/prov#wasDerivedFrom> ?doc }}
          OPTIONAL {{ ?claim {b}locator> ?locator }} OPTIONAL {{ ?claim {b}metastaticSite> ?site }}
          OPTIONAL {{ ?claim {b}modality> ?modality }} OPTIONAL {{ ?claim {b}arm> ?arm }}
          OPTIONAL {{ ?claim {b}sampleSize> ?n }} OPTIONAL {{ ?claim {b}interpretedValue> ?interp }} OPTIONAL {{ ?claim a ?ctype FILTER(STRSTARTS(STR(?ctype), {lit(V)})) }}
        }} LIMIT {limit * 4}"""
        merged: dict[str, dict[str, Any]] = {}
        for r in self.select(q):
            c = merged.setdefault(r["claim"], {**r, "sites": [], "modalities": [], "roles": []})
            for key, into in (("site", "sites"), ("modality", "modalities")):
                if r[key] and r[key] not in c[into]:
                    c[into].append(r[key])
            if r.get("role") and (r["role"], r.get("via")) not in c["roles"]:
                c["roles"].append((r["role"], r.get("via")))
        rows = list(merged.values())[:limit]
        for c in rows:
            c["label"] = self.label(c["claim"])
            c["value_text"] = self.value_text(c)
            c["time_text"] = f"{fmt_num(c['tp'])} {self.label(c['tpu'])}" if c["tp"] else ""
        rows.sort(key=lambda c: (self.label(c["study"] or ""), c["label"]))
        return rows

    def value_text(self, c: dict[str, Any]) -> str:
        unit = c.get("unit")
        u = {V + "Percent": "%"}.get(unit or "", f" {self.label(unit)}" if unit else "")
        if c.get("value") is not None:
            text = f"{c['vq'] + ' ' if c.get('vq') else ''}{fmt_num(c['value'])}{u}"
        elif c.get("low") is not None:
            text = f"{fmt_num(c['low'])}–{fmt_num(c.get('high'))}{u}"
        else:
            return ""
        if c.get("interp") is not None:
            text += f" (read as {fmt_num(c['interp'])}{u})"
        if c.get("cil") is not None and c.get("ciu") is not None:
            text += f" (CI {fmt_num(c['cil'])}–{fmt_num(c['ciu'])})"
        return text

    def chart(self, claims: list[dict[str, Any]]) -> Markup | None:
        """A dot chart of survival figures (rates in %, medians in months), one row per claim."""
        panels: dict[str, list[dict[str, Any]]] = {"rate": [], "median": []}
        for c in claims:
            kind = CHART_UNITS.get(c.get("unit") or "")
            if not kind or c.get("value") is None or "survival" not in self.label(c.get("endpoint") or "").casefold():
                continue
            try:
                c["plotted"] = float(c["interp"] if c.get("interp") is not None else c["value"])
            except ValueError:
                continue
            panels[kind].append(c)
        if not any(panels.values()):
            return None
        return Markup("".join(self._panel(k, rows) for k, rows in panels.items() if rows))

    def _panel(self, kind: str, rows: list[dict[str, Any]]) -> str:
        rows = sorted(rows, key=lambda c: (self.label(c["endpoint"]), float(c["tp"] or 0), -c["plotted"]))[:80]
        top = 100.0 if kind == "rate" else max(max(float(c["ciu"] or c["plotted"]) for c in rows) * 1.1, 12)
        left, width, rh = 380, 360, 22
        height = 40 + rh * len(rows)
        title = "Survival rate (%)" if kind == "rate" else "Median survival (months)"
        x = lambda v: left + width * min(max(float(v), 0), top) / top  # noqa: E731
        parts = [f'<figure class="chart"><figcaption>{title}</figcaption>'
                 f'<svg role="img" aria-label="{title}" viewBox="0 0 {left + width + 70} {height}" '
                 f'width="100%" xmlns="http://www.w3.org/2000/svg">']
        ticks = [0, 25, 50, 75, 100] if kind == "rate" else [round(top * i / 4) for i in range(5)]
        for t in ticks:
            parts.append(f'<line x1="{x(t):.1f}" y1="14" x2="{x(t):.1f}" y2="{height - 18}" class="grid"/>'
                         f'<text x="{x(t):.1f}" y="{height - 4}" class="tick">{t}</text>')
        for i, c in enumerate(rows):
            y = 26 + rh * i
            study = self.label(c["study"]) if c.get("study") else "?"
            what = self.label(c["endpoint"]).replace("overall survival", "OS").replace(
                "disease-free survival", "DFS").replace("progression-free survival", "PFS")
            arm = c.get("arm") or ", ".join(self.label(m) for m in c["modalities"][:1])
            when = f" {c['time_text']}" if c["time_text"] else ""
            doc = local_name(c["doc"]) if c.get("doc") else ""
            text = xml_escape(f"{study} · {arm} · {what}{when}"[:48]) + f' <tspan class="src">[{xml_escape(doc)}]</tspan>'

            link = local_path(c["claim"]) or c["claim"]
            parts.append(f'<a href="{xml_escape(link)}"><title>{xml_escape(c["label"])}</title>'
                         f'<text x="{left - 8}" y="{y + 4}" class="row">{text}</text>')
            if c.get("cil") is not None and c.get("ciu") is not None:
                parts.append(f'<line x1="{x(c["cil"]):.1f}" y1="{y}" x2="{x(c["ciu"]):.1f}" y2="{y}" class="ci"/>')
            shown = fmt_num(c["value"]) if c.get("interp") is None else f"{fmt_num(c['interp'])}*"
            parts.append(f'<circle cx="{x(c["plotted"]):.1f}" cy="{y}" r="5" class="dot{" interp" if c.get("interp") is not None else ""}"/>'
                         f'<text x="{left + width + 8}" y="{y + 4}" class="val">{xml_escape(shown)}</text></a>')
        parts.append("</svg></figure>")
        return "".join(parts)


def fmt_num(v: Any) -> str:
    return "" if v is None else str(v)


# --- named queries ---------------------------------------------------------------------

def named_queries(folder: Path) -> list[Any]:
    """The query library (kg.query reads and checks the .rq headers); re-read when a file changes."""
    stamp = tuple((p.name, p.stat().st_mtime_ns) for p in sorted(Path(folder).glob("*.rq")))
    return _load_queries(str(folder), stamp)


@functools.lru_cache(maxsize=4)
def _load_queries(folder: str, stamp: tuple) -> list[Any]:
    from .query import load_queries
    return list(load_queries(Path(folder)).values())


# --- the web application ---------------------------------------------------------------

class App:
    """Holds what every handler needs; built once per server."""

    def __init__(self, cfg: ServeConfig):
        self.cfg = cfg
        self.workdir = Path(tempfile.mkdtemp(prefix="kg-serve-"))
        self.release = Path(cfg.release) if cfg.release else None
        self.manifest: dict[str, Any] = {}
        self.context: dict | None = None
        if self.release:
            mf = self.release / "manifest.json"
            self.manifest = json.loads(mf.read_text()) if mf.is_file() else {}
            cx = self.release / "context.jsonld"
            self.context = json.loads(cx.read_text()) if cx.is_file() else None
            spec = EngineSpec(store_path=load_release(self.release, self.workdir), timeout=cfg.query_timeout,
                              isolate_network=not cfg.allow_service)
        else:
            spec = EngineSpec(endpoint=cfg.endpoint, timeout=cfg.query_timeout)
        self.spec = spec
        self.graph = Graph(spec.open())
        self.pool = WorkerPool(spec, Limits(cfg.query_timeout, cfg.max_results, tuple(cfg.allow_service)),
                               max(1, cfg.workers), self.context, cfg.queries)
        self.env = Environment(loader=FileSystemLoader(HERE / "templates"),
                               autoescape=select_autoescape(["html"]))
        self.env.globals.update(label=self.graph.label, path=self.path_of, curie=curie,
                                version=self.version(), humanise=humanise, local_name=local_name)
        self._ontology: list[ox.Triple] | None = None
        self.cache: OrderedDict[Any, Any] = OrderedDict()

    async def cached(self, key: Any, make: Any, keep: Any = lambda value: True) -> Any:
        """A release never changes while served, so pages and named-query answers are kept
        (LRU, 2048 entries); ad-hoc /sparql queries are not."""
        if key in self.cache:
            self.cache.move_to_end(key)
            return self.cache[key]
        value = await make()
        if not keep(value):
            return value
        self.cache[key] = value
        if len(self.cache) > 2048:
            self.cache.popitem(last=False)
        return value

    def version(self) -> str:
        """The release date (data releases are dated), with the code version when known."""
        date, code = self.release_date(), self.manifest.get("version")
        return f"{date} ({code})" if date and code and code != date else str(date or code or "")

    def release_date(self) -> str:
        iri = str(self.manifest.get("ontology_version_iri") or "")
        m = re.search(r"/releases/([^/]+)/ontology$", iri)
        return str(self.manifest.get("date") or (m.group(1) if m else ""))

    def path_of(self, iri: str) -> str:
        return local_path(iri) or iri

    def render(self, name: str, status: int = 200, headers: dict | None = None, **ctx: Any) -> HTMLResponse:
        return HTMLResponse(self.env.get_template(name).render(**ctx), status_code=status, headers=headers)

    def close(self) -> None:
        self.pool.stop()
        shutil.rmtree(self.workdir, ignore_errors=True)

    def ontology_triples(self) -> list[ox.Triple]:
        if self._ontology is None:
            onto = self.release / "ontology.ttl" if self.release else None
            if onto and onto.is_file():
                self._ontology = list(ox.parse(path=str(onto), format=ox.RdfFormat.TURTLE))
            else:
                self._ontology = list(self.graph.engine.construct(
                    f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ GRAPH <{BASE}graph/ontology> {{ ?s ?p ?o }} }}"))
        return self._ontology


def _fmt_from_path(path: str) -> tuple[str, str | None]:
    """Split `/vocab/X.ttl` into (`/vocab/X`, 'ttl'); a dot inside an id stays."""
    for ext, key in (("ttl", "ttl"), ("jsonld", "jsonld"), ("nt", "nt"), ("rdf", "rdfxml"), ("html", "html")):
        if path.endswith("." + ext):
            return path[: -len(ext) - 1], key
    return path, None


def create_app(cfg: ServeConfig) -> Starlette:
    """The ASGI app; `kg serve` runs it under uvicorn."""
    app_state = App(cfg)

    async def run_sync(fn: Any, *args: Any) -> Any:
        return await asyncio.get_running_loop().run_in_executor(None, fn, *args)

    async def index(request: Request) -> Response:
        q = request.query_params.get("q", "")
        hits = await app_state.cached(("search", q), lambda: run_sync(app_state.graph.search, q)) if q else []
        roots, docs, counts = await app_state.cached("index", lambda: run_sync(index_data, app_state.graph))
        return app_state.render("index.html", q=q, hits=hits, roots=roots, docs=docs,
                                counts=counts, title="Breast cancer metastasis knowledge graph")

    async def resource(request: Request) -> Response:
        raw_path, ext_fmt = _fmt_from_path(request.url.path)
        iri = BASE + raw_path.lstrip("/")
        fmt = request.query_params.get("format") or ext_fmt
        key = negotiate(request.headers.get("accept"), RDF_TYPES, fmt)
        if key is None:
            return PlainTextResponse(f"cannot serve {fmt or request.headers.get('accept')}; "
                                     f"offered: {', '.join(RDF_TYPES)} (or ?format=ttl|jsonld|nt|rdf|html)", 406)
        if not iri_ok(iri):
            return await not_found(request, iri, key)
        async def make() -> bytes | None:
            triples = await run_sync(app_state.graph.triples, iri)
            if not triples:
                return None
            if key != "html":
                return await run_sync(rdf_bytes, triples, key, app_state.context)
            page = await run_sync(resource_page, app_state, iri, triples)
            return app_state.env.get_template("resource.html").render(**page).encode()
        body = await app_state.cached(("resource", iri, key), make)
        if body is None:
            return await not_found(request, iri, key)
        headers = {"Vary": "Accept", "Content-Location": f"{raw_path}.{EXTENSION[key]}",
                   "Link": f'<{iri}>; rel="canonical"'}
        return Response(body, media_type=MEDIA[key], headers=headers)

    async def not_found(request: Request, iri: str, key: str) -> Response:
        sugg = await run_sync(app_state.graph.suggest, iri)
        if key == "html":
            return app_state.render("notfound.html", 404, iri=iri, suggestions=sugg, title="Not found")
        lines = [f"404 not found: {iri} is not in this release"] + [f"did you mean {s['iri']} ({s['label']})?" for s in sugg]
        return PlainTextResponse("\n".join(lines) + "\n", 404)

    async def ontology(request: Request) -> Response:
        date = request.path_params.get("date")
        current = app_state.release_date()
        path, ext_fmt = _fmt_from_path(request.url.path)
        if date and date != current:
            msg = (f"this server serves release {current or '(undated)'}; release {date} is not here. "
                   f"Older releases are kept at their own deployment; see docs/serving.md.")
            return PlainTextResponse(msg, 404)
        key = negotiate(request.headers.get("accept"), RDF_TYPES, request.query_params.get("format") or ext_fmt)
        if key is None:
            return PlainTextResponse(f"offered: {', '.join(RDF_TYPES)}", 406)
        headers = {"Vary": "Accept", "Content-Location": f"{path}.{EXTENSION[key]}"}
        triples = await run_sync(app_state.ontology_triples)
        if key != "html":
            return Response(await run_sync(rdf_bytes, triples, key, app_state.context), media_type=MEDIA[key],
                            headers=headers)
        roots = await run_sync(vocabulary_roots, app_state.graph)
        meta = [(p.value, o) for p, o in ((t.predicate, t.object) for t in triples
                                          if t.subject.value == BASE + "ontology")]
        return app_state.render("ontology.html", headers=headers, meta=meta, roots=roots, date=date,
                                title="Ontology", n=len(triples))

    async def resolve(request: Request) -> Response:
        iri = request.query_params.get("iri", "")
        if not iri.startswith(BASE):
            return PlainTextResponse(f"not an IRI this project mints (they start with {BASE})", 404)
        return RedirectResponse(local_path(iri) or "/", status_code=303)

    async def sparql(request: Request) -> Response:
        params = dict(request.query_params)
        text = params.get("query")
        if request.method == "POST":
            ctype = request.headers.get("content-type", "").split(";")[0].strip()
            if ctype == "application/sparql-query":
                text = (await request.body()).decode("utf-8", "replace")
            elif ctype == "application/sparql-update":
                return PlainTextResponse("this endpoint is read-only: SPARQL Update is not accepted", 403)
            elif ctype in ("application/x-www-form-urlencoded", "multipart/form-data"):
                form = await request.form()
                if "update" in form:
                    return PlainTextResponse("this endpoint is read-only: SPARQL Update is not accepted", 403)
                text = form.get("query")
                params.update({k: v for k, v in form.items() if k == "format"})
            else:
                return PlainTextResponse("POST a query as application/x-www-form-urlencoded (query=...) "
                                         "or as application/sparql-query", 415)
        if "update" in params:
            return PlainTextResponse("this endpoint is read-only: SPARQL Update is not accepted", 403)
        accept = request.headers.get("accept")
        fmt = params.get("format")
        if not text:
            if negotiate(accept, {"text/html": "html", "*/*": "other"}, None) == "html" or fmt == "html":
                return app_state.render("sparql.html", query=EXAMPLE_QUERY, title="SPARQL endpoint",
                                        limits=app_state.cfg)
            return PlainTextResponse("missing query parameter: /sparql?query=SELECT...", 400)
        status, key, body = await app_state.pool.run("sparql", str(text), accept, fmt)
        wants_html = key == "html" or (status >= 400 and negotiate(accept, {"text/html": "html"}, fmt) == "html"
                                       and (fmt in (None, "html")) and "text/html" in (accept or ""))
        if wants_html:
            table = body_table(body) if status == 200 else None
            return app_state.render("sparql.html", status, query=text, table=table,
                                    error=None if status == 200 else body.decode(), title="SPARQL endpoint",
                                    limits=app_state.cfg)
        if status != 200:
            return PlainTextResponse(body.decode(), status)
        return Response(body, media_type=MEDIA[key], headers={"Vary": "Accept"})

    async def queries_index(request: Request) -> Response:
        items = await run_sync(named_queries, app_state.cfg.queries)
        return app_state.render("queries.html", queries=items, title="Query library")

    async def query_page(request: Request) -> Response:
        name = request.path_params["name"]
        items = {q.name: q for q in await run_sync(named_queries, app_state.cfg.queries)}
        nq = items.get(name)
        if nq is None:
            close = difflib.get_close_matches(name, list(items), n=3)
            return app_state.render("notfound.html", 404, iri=f"query {name}", title="Not found",
                                    suggestions=[{"path": f"/queries/{c}", "label": c, "iri": c} for c in close])
        given = {p: request.query_params.get(p, "") for p in nq.params}
        values = {p: given[p] or ("" if nq.params[p].default is None else str(nq.params[p].default))
                  for p in nq.params}
        fmt = request.query_params.get("format")
        table, error = None, None
        if fmt not in (None, "html", "csv", "json"):
            return PlainTextResponse(f"unknown format {fmt!r}; allowed: html, csv, json", 400)
        if "run" in request.query_params or fmt:
            args = {k: v for k, v in values.items() if v != ""}
            status, key, body = await app_state.cached(
                ("named", name, tuple(sorted(args.items())), fmt or "json"),
                lambda: app_state.pool.run("named", name, args, fmt or "json"), keep=lambda v: v[0] == 200)
            if status != 200:
                error = body.decode()
            elif fmt in ("csv", "json"):
                return Response(body, media_type=MEDIA[key], headers={
                    "Content-Disposition": f'attachment; filename="{name}.{fmt}"'})
            else:
                table = body_table(body)
        if error and fmt and fmt != "html":
            return PlainTextResponse(error, 400)
        qs = urlencode({k: v for k, v in values.items() if v != ""})
        return app_state.render("query.html", 400 if error else 200, q=nq, values=values, table=table,
                                ran="run" in request.query_params,
                                error=error, qs=qs, title=getattr(nq, "title", name) or name)

    async def downloads(request: Request) -> Response:
        files = sorted(p.name for p in app_state.release.iterdir() if p.is_file()) if app_state.release else []
        return app_state.render("downloads.html", files=files, manifest=app_state.manifest, title="Downloads")

    async def release_file(request: Request) -> Response:
        name = request.path_params["name"]
        p = (app_state.release / name) if app_state.release else None
        if not p or "/" in name or name.startswith(".") or not p.is_file():
            return PlainTextResponse(f"no release file {name}", 404)
        media = {".ttl": "text/turtle", ".trig": "application/trig", ".jsonld": "application/ld+json",
                 ".json": "application/json"}.get(p.suffix, "application/octet-stream")
        return FileResponse(p, media_type=media)

    async def context(request: Request) -> Response:
        if not app_state.context:
            return PlainTextResponse("this release has no context.jsonld", 404)
        return JSONResponse(app_state.context, media_type="application/ld+json")

    async def health(request: Request) -> Response:
        return JSONResponse({"ok": True, "release": app_state.release_date(), "version": app_state.version(), "workers": app_state.pool.size,
                             "worker_network_isolated": app_state.pool.isolated,
                             "query_timeout": cfg.query_timeout, "max_results": cfg.max_results})

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> Any:
        await app_state.pool.start()
        try:
            yield
        finally:
            app_state.close()

    routes = [
        Route("/", index), Route("/search", index),
        Route("/sparql", sparql, methods=["GET", "POST"]),
        Route("/queries", queries_index), Route("/queries/{name}", query_page),
        Route("/ontology", ontology), Route("/ontology.{ext}", ontology),
        Route("/releases/{date}/ontology", ontology), Route("/releases/{date}/ontology.{ext}", ontology),
        Route("/resolve", resolve), Route("/downloads", downloads), Route("/downloads/{name}", release_file),
        Route("/context.jsonld", context), Route("/health", health),
        Route("/vocab/{rest:path}", resource), Route("/id/{rest:path}", resource),
        Route("/graph/{rest:path}", graph_resource(app_state)),
        Mount("/static", StaticFiles(directory=HERE / "static"), name="static"),
    ]
    middleware = [Middleware(CORSMiddleware, allow_origins=cfg.cors, allow_methods=["GET", "POST"],
                             allow_headers=["Accept", "Content-Type"])] if cfg.cors else []

    async def not_found_page(request: Request, exc: Exception) -> Response:
        return await not_found(request, BASE + request.url.path.lstrip("/"),
                               negotiate(request.headers.get("accept"), RDF_TYPES) or "html")

    app = Starlette(routes=routes, middleware=middleware, lifespan=lifespan,
                    exception_handlers={404: not_found_page})
    app.state.kg = app_state
    return app


def graph_resource(app_state: App) -> Any:
    """A document's named graph: its triples as RDF, or a short page pointing at the document."""
    async def handler(request: Request) -> Response:
        path, ext_fmt = _fmt_from_path(request.url.path)
        iri = BASE + path.lstrip("/")
        key = negotiate(request.headers.get("accept"), RDF_TYPES, request.query_params.get("format") or ext_fmt)
        if key is None or not iri_ok(iri):
            return PlainTextResponse(f"offered: {', '.join(RDF_TYPES)}", 406)
        q = f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ GRAPH <{iri}> {{ ?s ?p ?o }} }}"
        triples = await asyncio.get_running_loop().run_in_executor(
            None, lambda: list(app_state.graph.engine.construct(q)))
        if not triples:
            return PlainTextResponse(f"404 not found: {iri} is not a graph of this release", 404)
        if key != "html":
            body = await asyncio.get_running_loop().run_in_executor(None, rdf_bytes, triples, key, app_state.context)
            return Response(body, media_type=MEDIA[key], headers={"Vary": "Accept"})
        doc = BASE + "id/document/" + local_name(iri)
        return app_state.render("graph.html", iri=iri, n=len(triples), doc=doc, title=local_name(iri))
    return handler


EXAMPLE_QUERY = """PREFIX bcmkg: <https://w3id.org/bcmkg/vocab/>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
SELECT ?claim ?label ?value WHERE {
  ?claim bcmkg:modality/rdfs:subClassOf* bcmkg:ThermalAblation ;
         bcmkg:endpoint bcmkg:OverallSurvival ; rdfs:label ?label ; bcmkg:value ?value .
} LIMIT 50"""


def body_table(body: bytes) -> dict[str, Any]:
    """SPARQL JSON results as a table for the templates: IRIs become links, literals text."""
    data = json.loads(body)
    if "boolean" in data:
        return {"vars": ["result"], "rows": [[{"text": str(data["boolean"]).lower()}]]}
    if "head" not in data:  # N-Triples for an HTML view of a graph result
        return data
    variables = data["head"]["vars"]
    rows = []
    for b in data["results"]["bindings"]:
        row = []
        for v in variables:
            t = b.get(v)
            if t is None:
                row.append({"text": ""})
            elif t["type"] == "uri":
                row.append({"text": curie(t["value"]), "href": local_path(t["value"]) or t["value"]})
            else:
                row.append({"text": t["value"]})
        rows.append(row)
    return {"vars": variables, "rows": rows}


def index_data(graph: Graph) -> tuple[list, list, dict]:
    """Vocabulary roots, documents and counts for the index page."""
    docs = graph.select(f"""SELECT ?d ?t ?date WHERE {{ ?d a <{V}SourceDocument>
        OPTIONAL {{ ?d <http://purl.org/dc/terms/title> ?t }} OPTIONAL {{ ?d <http://purl.org/dc/terms/date> ?date }} }} ORDER BY ?d""")
    counts = graph.select(f"""SELECT (COUNT(DISTINCT ?c) AS ?claims) (COUNT(DISTINCT ?s) AS ?studies) WHERE {{
        {{ ?c <{V}aboutStudy> ?x }} UNION {{ ?s a ?st VALUES ?st {{ <{V}Study> <{V}ClinicalTrial> }} }} }}""")
    return vocabulary_roots(graph), docs, (counts[0] if counts else {})


def vocabulary_roots(graph: Graph) -> list[dict[str, Any]]:
    """Top vocabulary classes (no named parent) with their direct children, for browsing."""
    rows = graph.select(f"""SELECT ?root ?child WHERE {{ ?root a <{OWL}Class>
        FILTER(STRSTARTS(STR(?root), {lit(V)}))
        FILTER NOT EXISTS {{ ?root <http://www.w3.org/2000/01/rdf-schema#subClassOf> ?p FILTER(isIRI(?p) && STRSTARTS(STR(?p), {lit(V)})) }}
        FILTER NOT EXISTS {{ ?root <{OWL}deprecated> true }}
        OPTIONAL {{ ?child <http://www.w3.org/2000/01/rdf-schema#subClassOf> ?root FILTER(isIRI(?child))
                   FILTER NOT EXISTS {{ ?child <{OWL}deprecated> true }} }} }}""")
    roots: dict[str, list[str]] = {}
    for r in rows:
        kids = roots.setdefault(r["root"], [])
        if r["child"]:
            kids.append(r["child"])
    return sorted(({"iri": k, "children": sorted(v, key=graph.label)} for k, v in roots.items()),
                  key=lambda r: graph.label(r["iri"]))


PREDICATE_ORDER = [RDF_TYPE, RDFS_LABEL, "http://purl.org/dc/terms/title", *DEFINITION_PREDICATES]


def resource_page(app_state: App, iri: str, triples: list[ox.Triple]) -> dict[str, Any]:
    """Everything a resource page shows, as plain data for the template."""
    g = app_state.graph
    own: dict[str, list[Any]] = {}
    parts: dict[str, dict[str, list[Any]]] = {}
    for t in triples:
        s, p, o = t.subject.value, t.predicate.value, t.object
        if s == iri:
            own.setdefault(p, []).append(o)
        elif not isinstance(t.subject, ox.BlankNode):
            parts.setdefault(s, {}).setdefault(p, []).append(o)
    kind = kind_of(iri)
    first = lambda p: (own.get(p) or [None])[0]  # noqa: E731
    vals = lambda preds: [o.value for p in preds for o in own.get(p, [])]  # noqa: E731
    page: dict[str, Any] = {"iri": iri, "kind": kind, "title": g.label(iri), "path_here": local_path(iri),
                            "claims": [], "chart": None, "extra": []}
    page["deprecated"] = any(o.value == "true" for o in own.get(OWL + "deprecated", []))
    page["replaced_by"] = [o.value for o in own.get(str(IAO_REPLACED_BY), []) + own.get(
        "http://purl.org/dc/terms/isReplacedBy", []) if isinstance(o, ox.NamedNode)]
    page["definition"] = vals(DEFINITION_PREDICATES)
    page["abbreviations"] = list(dict.fromkeys(vals(ABBREVIATION_PREDICATES)))
    page["synonyms"] = [s for s in dict.fromkeys(vals(SYNONYM_PREDICATES)) if s not in page["abbreviations"]]
    page["mappings"] = [(MAPPING_PREDICATES[p], o.value if isinstance(o, ox.NamedNode) else obo_purl(o.value))
                        for p in MAPPING_PREDICATES for o in own.get(p, [])]
    page["types"] = [o.value for o in own.get(RDF_TYPE, [])]
    shown = set(SYNONYM_PREDICATES + ABBREVIATION_PREDICATES + DEFINITION_PREDICATES + list(MAPPING_PREDICATES)
                + [RDFS_LABEL, OWL + "deprecated", str(IAO_REPLACED_BY)]) if kind == "term" else {RDFS_LABEL}
    page["facts"] = facts(g, {p: os_ for p, os_ in own.items() if p not in shown})
    page["parts"] = [(s, facts(g, ps)) for s, ps in sorted(parts.items())]
    if kind == "term":
        sub = "http://www.w3.org/2000/01/rdf-schema#subClassOf"
        page["parents"] = [o.value for o in own.get(sub, []) if isinstance(o, ox.NamedNode)]
        page["children"] = sorted((r["c"] for r in g.select(
            f"SELECT DISTINCT ?c WHERE {{ ?c <{sub}> <{iri}> FILTER(isIRI(?c)) }}")), key=g.label)
        page["claims"] = g.claims(f"""?t <{sub}>* <{iri}> . ?claim ?role ?t .
            FILTER(STRSTARTS(STR(?role), {lit(V)})) BIND(?t AS ?via)""")
        page["chart"] = g.chart(page["claims"])
    elif kind == "study":
        page["claims"] = g.claims(f"{{ ?claim <{V}aboutStudy> <{iri}> }} UNION {{ ?claim <{V}cites> <{iri}> }}")
        page["chart"] = g.chart(page["claims"])
    elif kind == "document":
        page["claims"] = g.claims(f"?claim <http://www.w3.org/ns/prov#wasDerivedFrom> <{iri}>")
        page["studies"] = [r["s"] for r in g.select(
            f"SELECT DISTINCT ?s WHERE {{ ?s <http://purl.org/dc/terms/isReferencedBy> <{iri}> }}")]
        page["studies"].sort(key=g.label)
        page["chart"] = g.chart(page["claims"])
        page["excluded"] = g.select(f"""SELECT (COUNT(?e) AS ?n) WHERE {{ ?e a <{V}CurationExclusion> ;
            <http://www.w3.org/ns/prov#wasDerivedFrom> <{iri}> }}""")[0]["n"]
    elif kind == "claim":
        page["provenance"] = claim_provenance(g, iri, own, parts)
        page["title"] = claim_title(g, own) or page["title"]
        page["headline"] = g.value_text({
            "value": pyval(first(V + "value")), "vq": pyval(first(V + "valueQualifier")),
            "low": pyval(first(V + "valueLow")), "high": pyval(first(V + "valueHigh")),
            "unit": pyval(first(V + "unit")), "cil": pyval(first(V + "ciLower")), "ciu": pyval(first(V + "ciUpper"))})
    page["incoming"] = [] if kind in ("term",) else g.select(f"""SELECT DISTINCT ?s ?p WHERE {{ ?s ?p <{iri}>
        FILTER(!STRSTARTS(STR(?s), {lit(BASE + 'id/claim/')}) || {'true' if kind not in ('study', 'document') else 'false'})
        FILTER(?p != <http://www.w3.org/ns/oa#hasSource>) }} LIMIT 50""")
    return page


def claim_title(g: Graph, own: dict[str, list[Any]]) -> str:
    """'Vogl 2023: overall survival, rate at a time point at 5 year (MWA)' from labels, not ids."""
    one = lambda p: next((o.value for o in own.get(V + p, [])), None)  # noqa: E731
    study, endpoint, stat = one("aboutStudy"), one("endpoint"), one("statisticType")
    what = ", ".join(g.label(x) for x in (endpoint, stat) if x) or g.label(one("factor") or one("criterion") or "")
    if not (study and what):
        return ""
    when = f" at {one('timePoint')} {g.label(one('timePointUnit') or '')}".rstrip() if one("timePoint") else ""
    arm = one("arm") or ", ".join(g.label(o.value) for o in own.get(V + "modality", []))
    return f"{g.label(study)}: {what}{when}" + (f" ({arm})" if arm else "")


def claim_provenance(g: Graph, iri: str, own: dict[str, list[Any]], parts: dict[str, dict[str, list[Any]]]) -> dict[str, Any]:
    """Document, locator, span offsets and source line, gathered in one box."""
    doc = next((o.value for o in own.get("http://www.w3.org/ns/prov#wasDerivedFrom", [])), None)
    sel = parts.get(iri + "/selector", {})
    start = next((o.value for o in sel.get("http://www.w3.org/ns/oa#start", [])), None)
    end = next((o.value for o in sel.get("http://www.w3.org/ns/oa#end", [])), None)
    out = {"document": doc, "locator": [o.value for o in own.get(V + "locator", [])], "start": start, "end": end,
           "source_file": next((o.value for o in own.get(V + "sourceFile", [])), None),
           "source_line": next((o.value for o in own.get(V + "sourceLine", [])), None)}
    if doc:
        rows = g.select(f"""SELECT ?f ?sha ?doi WHERE {{ OPTIONAL {{ <{doc}> <{V}corpusFile> ?f }}
            OPTIONAL {{ <{doc}> <{V}sha256> ?sha }} OPTIONAL {{ <{doc}> <http://purl.org/ontology/bibo/doi> ?doi }} }}""")
        out.update(rows[0] if rows else {})
    return out


def obo_purl(value: str) -> str:
    """'NCIT:C15664' -> its OBO PURL; anything else unchanged."""
    m = re.fullmatch(r"([A-Za-z]+):(\w+)", value.strip())
    return f"http://purl.obolibrary.org/obo/{m.group(1).upper() if m.group(1).lower() == 'ncit' else m.group(1)}_{m.group(2)}" if m else value


def facts(g: Graph, props: dict[str, list[Any]]) -> list[dict[str, Any]]:
    """Predicate/value rows for the generic table, in a reading order (type, label, definition first)."""
    order = {p: i for i, p in enumerate(PREDICATE_ORDER)}
    rows = []
    for p in sorted(props, key=lambda p: (order.get(p, len(order)), g.label(p))):
        values = []
        for o in props[p]:
            if isinstance(o, ox.NamedNode):
                values.append({"text": g.label(o.value), "href": local_path(o.value) or o.value, "iri": o.value})
            elif isinstance(o, ox.BlankNode):
                values.append({"text": "(anonymous: OWL restriction)"})
            else:
                values.append({"text": o.value})
        rows.append({"predicate": p, "name": g.label(p) if p in g.labels else humanise(local_name(p)),
                     "values": values})
    return rows


def serve(cfg: ServeConfig, host: str = "127.0.0.1", port: int = 8000) -> None:
    """Run the server in the foreground until interrupted."""
    import uvicorn
    uvicorn.run(create_app(cfg), host=host, port=port, log_level="warning", access_log=False)
