"""The web application: routes, handlers and the state they share, over one store. Minted IRIs
(`/vocab/`, `/id/`, `/graph/`) are answered by kg.serve.resources, the served files by kg.serve.files.

Why 200 and not 303 here: the persistent IRI ``https://w3id.org/bcmkg/vocab/X`` is answered
by w3id.org with a 303 to this server (see docs/serving.md), which already tells clients that
the IRI names a thing and the response describes it. A second 303 would only add a round
trip, so ``/vocab/X`` answers 200 with the negotiated description, ``Vary: Accept`` and a
``Content-Location`` naming the format-specific document (``/vocab/X.ttl``).
``/resolve?iri=...`` answers 303 for clients that hold a full IRI.

Pages use the store they are given (our own bounded queries); user queries, /sparql and the
query library, go to the worker processes, which open their own store (kg.serve.workers).
"""
from __future__ import annotations

import contextlib
import difflib
import json
import re
import secrets
from collections import OrderedDict
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

import pyoxigraph as ox
from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, JSONResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from ..formats import EXTENSION, GRAPH_TYPES, MEDIA, MEDIA_KEYS, RDF_TYPES, format_key, negotiate, rdf_bytes
from ..rdf import BASE, ONTOLOGY_IRI, compact, graph_iri, local_path
from .files import file_routes
from .guard import (
    EXAMPLE_QUERY,
    EndpointError,
    HeadersAndErrors,
    bad_path,
    csp,
    not_acceptable,
    protocol_params,
    safe_href,
    service_description,
    text_response,
)
from .pages import Graph, humanise, index_data, local_name, results_table, vocabulary_roots
from .resources import Resources, resource_routes
from .workers import EngineSpec, Limits, ServeConfig, WorkerPool, _fmt_from_path, _valid_iri, named_queries, run_sync

if TYPE_CHECKING:
    from ..store import Store

__all__ = ["ServeConfig", "create_app", "serve"]

PACKAGE = Path(__file__).resolve().parent.parent          # kg/: templates/ and static/ live there
READ_ONLY = "this endpoint is read-only: SPARQL Update is not accepted"


class Site:
    """What every handler needs, built once per server; the handlers are its methods."""

    def __init__(self, store: Store, cfg: ServeConfig, opener: Callable[..., Store] | None = None):
        self.cfg = cfg
        self.release = Path(cfg.release) if cfg.release else None
        self.queries = cfg.queries or _project_queries()
        self.manifest: dict[str, Any] = self._json("manifest.json") or {}
        self.context: dict[str, Any] | None = self._json("context.jsonld")
        spec = EngineSpec(release=str(self.release) if self.release and not cfg.endpoint else None,
                          endpoint=cfg.endpoint, isolate_network=not cfg.allow_service and not cfg.endpoint,
                          opener=opener)
        self.graph = Graph(store)
        self.pool = WorkerPool(spec, Limits(cfg.query_timeout, cfg.max_results, tuple(cfg.allow_service),
                                            max_bytes=cfg.max_answer_bytes, base_iri=BASE),
                               max(1, cfg.workers), self.context, self.queries, cfg.express_seconds)
        self.env = Environment(loader=FileSystemLoader(PACKAGE / "templates"), autoescape=select_autoescape(["html"]))
        self.env.globals.update(label=self.graph.label, path=lambda iri: safe_href(local_path(iri) or iri) or "",
                                safe_href=safe_href, curie=compact,
                                version=self.version(), humanise=humanise, local_name=local_name)
        self._ontology: list[ox.Triple] | None = None
        self.cache: OrderedDict[Any, Any] = OrderedDict()
        self.resources = Resources(self)

    def _json(self, name: str) -> dict[str, Any] | None:
        path = self.release / name if self.release else None
        return json.loads(path.read_text(encoding="utf-8")) if path and path.is_file() else None

    async def cached(self, key: Any, make: Callable[[], Awaitable[Any]],
                     keep: Callable[[Any], bool] = lambda value: True) -> Any:
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

    def render(self, name: str, status: int = 200, headers: dict[str, str] | None = None,
               **ctx: Any) -> HTMLResponse:
        nonce = secrets.token_urlsafe(16)        # an inline <script nonce="{{ csp_nonce }}"> runs, no other
        headers = {**(headers or {}), "Content-Security-Policy": csp(nonce)}
        return HTMLResponse(self.env.get_template(name).render(csp_nonce=nonce, **ctx), status_code=status,
                            headers=headers)

    def ontology_triples(self) -> list[ox.Triple]:
        if self._ontology is None:
            onto = self.release / "ontology.ttl" if self.release else None
            if onto and onto.is_file():
                self._ontology = list(ox.parse(path=str(onto), format=ox.RdfFormat.TURTLE))
            else:
                self._ontology = self.graph.construct(
                    f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ GRAPH <{graph_iri('ontology')}> {{ ?s ?p ?o }} }}")
        return self._ontology

    # --- handlers ---------------------------------------------------------------------------

    async def index(self, request: Request) -> Response:
        q = request.query_params.get("q", "")
        hits = await self.cached(("search", q), lambda: run_sync(self.graph.search, q)) if q else []
        roots, docs, counts = await self.cached("index", lambda: run_sync(index_data, self.graph))
        return self.render("index.html", q=q, hits=hits, roots=roots, docs=docs,
                           counts=counts, title="Breast cancer metastasis knowledge graph")

    async def ontology(self, request: Request) -> Response:
        date = request.path_params.get("date")
        current = self.release_date()
        path, ext_fmt = _fmt_from_path(request.url.path)
        if "ext" in request.path_params and ext_fmt is None:
            return text_response(f"404 not found: no ontology document .{request.path_params['ext']}; "
                                 f"offered: {', '.join('.' + e for e in EXTENSION.values())}", 404)
        if date and date != current:
            return PlainTextResponse(f"this server serves release {current or '(undated)'}; release {date} is "
                                     f"not here. Older releases are kept at their own deployment; see "
                                     f"docs/serving.md.", 404)
        key = negotiate(request.headers.get("accept"), RDF_TYPES, request.query_params.getlist("format") or ext_fmt)
        if key is None:
            return not_acceptable(RDF_TYPES)
        headers = {"Vary": "Accept", "Content-Location": f"{path}.{EXTENSION[key]}"}
        triples = await run_sync(self.ontology_triples)
        if key != "html":
            body = await run_sync(rdf_bytes, triples, key, self.context)
            return Response(body, media_type=MEDIA[key], headers=headers)
        roots = await run_sync(vocabulary_roots, self.graph)
        meta = [(t.predicate.value, t.object) for t in triples if t.subject.value == str(ONTOLOGY_IRI)]
        return self.render("ontology.html", headers=headers, meta=meta, roots=roots, date=date,
                           title="Ontology", n=len(triples))

    async def resolve(self, request: Request) -> Response:
        iri = request.query_params.get("iri", "")
        if not iri.startswith(BASE):
            return text_response(f"not an IRI this project mints (they start with {BASE})", 404)
        rest = iri[len(BASE):]
        # only ever a path on this server: never //host (scheme-relative), a backslash or a control
        if rest.startswith(("/", "\\")) or "\\" in rest or bad_path(rest) or not _valid_iri(iri):
            return text_response(f"not an IRI this project mints: {iri!r} (after {BASE} comes a path "
                                 f"such as vocab/X or id/claim/...)", 400)
        return RedirectResponse("/" + rest, status_code=303)

    async def sparql(self, request: Request) -> Response:
        """The SPARQL 1.1 Protocol: GET ?query=, POST form or application/sparql-query; no updates."""
        try:
            params = await protocol_params(request, self.cfg.max_query_bytes)
            if params["update"]:
                raise EndpointError(403, READ_ONLY)
            if len(params["query"]) > 1:
                raise EndpointError(400, f"{len(params['query'])} query parameters; the SPARQL Protocol "
                                         f"allows exactly one")
            text = params["query"][0] if params["query"] else ""
            if len(text.encode("utf-8")) > self.cfg.max_query_bytes:
                raise EndpointError(413, f"the query is longer than this endpoint's limit of "
                                         f"{self.cfg.max_query_bytes:,} bytes")
            for g in params["default-graph-uri"] + params["named-graph-uri"]:
                if not _valid_iri(g) or ":" not in g:
                    raise EndpointError(400, f"not an absolute IRI: {g!r} (default-graph-uri / named-graph-uri)")
        except EndpointError as err:
            return text_response(str(err), err.status)
        accept, fmts = request.headers.get("accept"), params["format"]
        fmt_key = format_key(fmts, MEDIA_KEYS)
        if not text.strip():
            return await self.sparql_without_query(request, accept, fmts, fmt_key)
        dataset = None
        if params["default-graph-uri"] or params["named-graph-uri"]:
            dataset = (params["default-graph-uri"], params["named-graph-uri"])
        status, key, body = await self.pool.run("sparql", text, accept, fmts, dataset)
        wants_html = key == "html" or (status >= 400 and fmt_key in (None, "html")
                                       and negotiate(accept, {"text/html": "html"}, fmts) == "html"
                                       and "text/html" in (accept or "").lower())
        if wants_html:
            return self.render("sparql.html", status, query=text, title="SPARQL endpoint", limits=self.cfg,
                               table=results_table(body) if status == 200 else None,
                               error=None if status == 200 else body.decode())
        if status != 200:
            headers = {"Vary": "Accept"} if status == 406 else {}
            if status == 503:
                headers["Retry-After"] = str(self.pool.retry_after())
            return text_response(body.decode(), status, headers)
        return Response(body, media_type=MEDIA[key], headers={"Vary": "Accept"})

    async def sparql_without_query(self, request: Request, accept: str | None, fmts: list[str],
                                   fmt_key: str | None) -> Response:
        """No query: the form for a browser, the Service Description for a program asking for RDF."""
        offers = {"text/html": "html", **{m: k for m, k in GRAPH_TYPES.items() if k != "html"}}
        key = negotiate(accept, offers, fmts)
        if key == "html":
            return self.render("sparql.html", query=EXAMPLE_QUERY, title="SPARQL endpoint", limits=self.cfg,
                               headers={"Vary": "Accept"})
        if key is None:
            return not_acceptable(offers, " (no query: the form, or this endpoint's Service Description)")
        explicit = fmt_key is not None or not accept or any(
            m.split(";")[0].strip().lower() in offers for m in accept.split(","))
        if not explicit:
            return text_response("missing query parameter: /sparql?query=SELECT... (ask for text/turtle "
                                 "without a query for this endpoint's Service Description)", 400)
        endpoint = str(request.url.replace(query=""))
        graphs = await self.cached("graphs", lambda: run_sync(lambda: [str(r["g"]) for r in self.graph.select(
            "SELECT DISTINCT ?g WHERE { GRAPH ?g { } } ORDER BY ?g")]))
        triples = service_description(endpoint, graphs, self.manifest.get("triples"), bool(self.cfg.allow_service))
        body = await run_sync(rdf_bytes, triples, key, None)
        return Response(body, media_type=MEDIA[key], headers={"Vary": "Accept"})

    async def queries_index(self, request: Request) -> Response:
        items = await run_sync(named_queries, self.queries)
        return self.render("queries.html", queries=items, title="Query library")

    async def query_page(self, request: Request) -> Response:
        """A named query as a form; `run=1` shows the table, `format=csv|json` downloads."""
        name = request.path_params["name"]
        items = {q.name: q for q in await run_sync(named_queries, self.queries)}
        nq = items.get(name)
        if nq is None:
            close = difflib.get_close_matches(name, list(items), n=3)
            return self.render("notfound.html", 404, iri=f"query {name}", title="Not found",
                               suggestions=[{"path": f"/queries/{c}", "label": c, "iri": c} for c in close])
        unknown = sorted(set(request.query_params) - set(nq.params) - {"run", "format"})
        if unknown:
            allowed = ", ".join([*nq.params, "run", "format"])
            return text_response(f"unknown parameter{'s' if len(unknown) > 1 else ''} {', '.join(unknown)} "
                                 f"for query {name}; allowed: {allowed}", 400)
        given = {p: request.query_params.get(p, "") for p in nq.params}
        values = {p: given[p] or ("" if nq.params[p].default is None else str(nq.params[p].default))
                  for p in nq.params}
        fmt = request.query_params.get("format")
        if fmt not in (None, "html", "csv", "json"):
            return PlainTextResponse(f"unknown format {fmt!r}; allowed: html, csv, json", 400)
        table, error = None, None
        if "run" in request.query_params or fmt:
            args = {k: v for k, v in values.items() if v != ""}
            status, key, body = await self.cached(
                ("named", name, tuple(sorted(args.items())), fmt or "json"),
                lambda: self.pool.run("named", name, args, fmt or "json"), keep=lambda v: v[0] == 200)
            if status != 200:
                error = body.decode()
            elif fmt in ("csv", "json"):
                return Response(body, media_type=MEDIA[key],
                                headers={"Content-Disposition": f'attachment; filename="{name}.{fmt}"'})
            else:
                table = results_table(body)
        if error and fmt and fmt != "html":
            return PlainTextResponse(error, 400)
        qs = urlencode({k: v for k, v in values.items() if v != ""})
        return self.render("query.html", 400 if error else 200, q=nq, values=values, table=table,
                           ran="run" in request.query_params, error=error, qs=qs,
                           title=getattr(nq, "title", name) or name)

    async def downloads(self, request: Request) -> Response:
        files = sorted(p.name for p in self.release.iterdir() if p.is_file()) if self.release else []
        return self.render("downloads.html", files=files, manifest=self.manifest, title="Downloads")

    async def release_file(self, request: Request) -> Response:
        name = request.path_params["name"]
        p = (self.release / name) if self.release else None
        if not p or "/" in name or name.startswith(".") or not p.is_file():
            return PlainTextResponse(f"no release file {name}", 404)
        media = {".ttl": "text/turtle", ".trig": "application/trig", ".jsonld": "application/ld+json",
                 ".json": "application/json"}.get(p.suffix, "application/octet-stream")
        return FileResponse(p, media_type=media)

    async def context_file(self, request: Request) -> Response:
        if not self.context:
            return PlainTextResponse("this release has no context.jsonld", 404)
        return JSONResponse(self.context, media_type="application/ld+json")

    async def health(self, request: Request) -> Response:
        return JSONResponse({"ok": True, "release": self.release_date(), "version": self.version(),
                             "workers": self.pool.size, "worker_network_isolated": self.pool.isolated,
                             "query_timeout": self.cfg.query_timeout, "max_results": self.cfg.max_results})

    def routes(self) -> list[Any]:
        return [
            *file_routes(self),     # kg/serve/files.py: mappings, shapes, prefixes, ontology.owl
            Route("/", self.index), Route("/search", self.index),
            Route("/sparql", self.sparql, methods=["GET", "POST"]),
            Route("/queries", self.queries_index), Route("/queries/{name}", self.query_page),
            Route("/ontology", self.ontology), Route("/ontology.{ext}", self.ontology),
            Route("/releases/{date}/ontology", self.ontology), Route("/releases/{date}/ontology.{ext}", self.ontology),
            Route("/resolve", self.resolve), Route("/downloads", self.downloads),
            Route("/downloads/{name}", self.release_file),
            Route("/context.jsonld", self.context_file), Route("/health", self.health),
            *resource_routes(self),     # kg/serve/resources.py: /vocab/, /id/, /graph/ (any path below)
            Mount("/static", StaticFiles(directory=PACKAGE / "static"), name="static"),
        ]


def _project_queries() -> Path:
    from ..paths import queries_dir
    return queries_dir()


def create_app(store: Store, config: ServeConfig, opener: Callable[..., Store] | None = None) -> Starlette:
    """The ASGI app over `store` (pages); its query workers open their own store from
    `config.release` / `config.endpoint` with `opener` (default kg.store.open_store)."""
    site = Site(store, config, opener)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await site.pool.start()
        try:
            yield
        finally:
            site.pool.stop()

    middleware = [Middleware(HeadersAndErrors)]
    if config.cors:
        middleware.append(Middleware(CORSMiddleware, allow_origins=config.cors, allow_methods=["GET", "POST"],
                                     allow_headers=["Accept", "Content-Type"], expose_headers=["Retry-After"]))
    middleware.append(Middleware(HeadersAndErrors, catch=True))
    app = Starlette(routes=site.routes(), middleware=middleware, lifespan=lifespan,
                    exception_handlers={404: site.resources.not_found_page})
    app.state.site = site
    return app


def serve(config: ServeConfig, host: str = "127.0.0.1", port: int = 8000, store: Store | None = None) -> None:
    """Run the server in the foreground until interrupted; opens the store unless given one."""
    import uvicorn
    if store is None:
        from ..store import open_store
        store = open_store(config.release, config.endpoint)
    uvicorn.run(create_app(store, config), host=host, port=port, log_level="warning", access_log=False)
