"""The SPARQL guard: what /sparql accepts, decided by parsing, never by string matching;
and how the server refuses (the Protocol's parameters read under a byte limit, paths no IRI
holds, links only to http(s), security headers and a 500 that keeps the CORS headers).

Why parse: a comment or a string holding "INSERT" or "SERVICE" is harmless, and a regex
would refuse it; an update hidden behind unusual whitespace is harmful, and a regex could
miss it. rdflib's parser decides the form; its algebra says where SERVICE calls go.
"""
from __future__ import annotations

import functools
import re
import sys
import traceback
from collections.abc import Iterable
from typing import Any
from urllib.parse import parse_qsl, urlparse

from starlette.datastructures import MutableHeaders
from starlette.responses import PlainTextResponse

from ..errors import KGError, QueryError
from ..rdf import check_iri

__all__ = ["EndpointError", "check_query", "protocol_params", "read_body", "safe_href", "bad_path",
           "text_response", "not_acceptable", "HeadersAndErrors", "service_description", "SECURITY_HEADERS", "csp",
           "EXAMPLE_QUERY"]

READ_ONLY = ("this endpoint is read-only: SPARQL Update (INSERT, DELETE, LOAD, CLEAR, CREATE, DROP, "
             "COPY, MOVE, ADD) is not accepted")
FORMS = {"SelectQuery": "SELECT", "AskQuery": "ASK", "ConstructQuery": "CONSTRUCT",
         "DescribeQuery": "DESCRIBE"}

# Comments, strings and IRIs, blanked before the lexical SERVICE backstop looks at the text.
_LEX_NOISE = re.compile(r'#[^\n]*|"""(?:.|\n)*?"""|\'\'\'(?:.|\n)*?\'\'\'|"(?:\\.|[^"\\\n])*"'
                        r"|'(?:\\.|[^'\\\n])*'|<[^<>\"{}|^`\\\s]*>")
_SERVICE_WORD = re.compile(r"(?<![\w:])SERVICE(?![\w:])", re.IGNORECASE)

EXAMPLE_QUERY = """PREFIX bcmkg: <https://w3id.org/bcmkg/vocab/>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
SELECT ?claim ?label ?value WHERE {
  ?claim bcmkg:modality/rdfs:subClassOf* bcmkg:ThermalAblation ;
         bcmkg:endpoint bcmkg:OverallSurvival ; rdfs:label ?label ; bcmkg:value ?value .
} LIMIT 50"""


class EndpointError(KGError):
    """A request the endpoint answers with a 4xx/5xx status and a message meant for people."""

    def __init__(self, status: int, message: str):
        self.status = status
        super().__init__(message)


@functools.lru_cache(maxsize=512)
def check_query(text: str, allowed_hosts: tuple[str, ...] = ()) -> str:
    """Parse `text`; return SELECT/ASK/CONSTRUCT/DESCRIBE or raise EndpointError.

    Updates are recognised by parsing them as updates. SERVICE is found in the algebra,
    including inside EXISTS, OPTIONAL and subqueries; a SERVICE whose IRI is a variable is
    refused, as is any host not listed. A lexical backstop refuses the SERVICE keyword if the
    algebra walk did not see it, so a disagreement between rdflib's parser and the engine's
    can never let a call through.

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
        raise EndpointError(403, READ_ONLY) from None
    except Exception as err:
        raise EndpointError(400, f"malformed query: {err}") from None
    try:
        algebra = translateQuery(parsed).algebra
    except Exception as err:
        raise EndpointError(400, f"malformed query: {type(err).__name__}: {err}") from None
    kind = FORMS.get(algebra.name)
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
    if not services and _SERVICE_WORD.search(_LEX_NOISE.sub(" ", text)):
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


# --- how the server refuses ------------------------------------------------------------------

def _valid(iri: str) -> bool:
    try:
        check_iri(iri)
    except QueryError:
        return False
    return True


#: Sent on every response (pages have no script and no inline style).
def csp(nonce: str | None = None) -> str:
    """The Content-Security-Policy: nothing but our stylesheet and images; scripts only inline ones
    carrying this response's nonce (pages rendered by Site.render), none elsewhere."""
    script = f"; script-src 'nonce-{nonce}'" if nonce else ""
    return ("default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; "
            f"frame-ancestors 'none'; base-uri 'none'{script}")


SECURITY_HEADERS = {
    "Content-Security-Policy": csp(),
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
}
#: The SPARQL 1.1 Protocol's request parameters (all repeatable on the wire).
PROTOCOL_KEYS = ("query", "update", "format", "default-graph-uri", "named-graph-uri")
SD = "http://www.w3.org/ns/sparql-service-description#"
FORMATS_NS = "http://www.w3.org/ns/formats/"
RESULT_FORMAT_IRIS = ["SPARQL_Results_JSON", "SPARQL_Results_XML", "SPARQL_Results_CSV", "SPARQL_Results_TSV",
                      "Turtle", "JSON-LD", "N-Triples", "RDF_XML"]
# characters no IRI path of ours holds: controls, the replacement of an undecodable byte, and
# those an IRI may not contain (RFC 3987)
_BAD_PATH = re.compile(r'[\x00-\x20\x7f-\x9f\ud800-\udfff\ufffd\u200e\u200f\u202a-\u202e\u2066-\u2069<>"{}|\\^`]')


def safe_href(href: str | None) -> str | None:
    """A link target only when it is a path on this server or an http(s) IRI (never javascript:,
    data:, or a scheme-relative //host)."""
    if not href:
        return None
    if href.startswith("/") and not href.startswith("//") and "\\" not in href:
        return href
    scheme = href.split(":", 1)[0].lower() if ":" in href else ""
    return href if scheme in ("http", "https") and _valid(href) else None


def text_response(message: str, status: int, headers: dict[str, str] | None = None) -> PlainTextResponse:
    return PlainTextResponse(message if message.endswith("\n") else message + "\n", status, headers=headers)


def not_acceptable(offers: dict[str, str] | list[str], also: str = "") -> PlainTextResponse:
    """406: what is offered, never an echo of the request's Accept header."""
    return text_response(f"406 not acceptable: offered {', '.join(offers)}{also}", 406, {"Vary": "Accept"})


def bad_path(path: str) -> str | None:
    m = _BAD_PATH.search(path)
    if m:
        return f"400 bad request: the path holds {m.group()!r}, which no IRI of this release contains"
    return None


class HeadersAndErrors:
    """ASGI middleware: the security headers on every response; with `catch`, an unexpected
    exception becomes a 500 text answer here, inside the CORS middleware, so errors carry the
    CORS headers that successes carry."""

    def __init__(self, app: Any, catch: bool = False):
        self.app, self.catch = app, catch

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def send_with_headers(message: Any) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                headers = MutableHeaders(scope=message)
                for k, v in SECURITY_HEADERS.items():
                    if k not in headers:
                        headers[k] = v
            await send(message)
        if self.catch and (bad := bad_path(scope.get("path", ""))):     # before any route sees it
            await text_response(bad, 400)(scope, receive, send_with_headers)
            return
        try:
            await self.app(scope, receive, send_with_headers)
        except Exception as err:
            if not self.catch or started:
                raise
            traceback.print_exc(file=sys.stderr)
            await text_response(f"500 internal server error: {type(err).__name__} (logged on the server)",
                                500)(scope, receive, send_with_headers)


async def read_body(request: Any, limit: int) -> bytes:
    """The request body, refused (413) past `max_query_bytes` before or while reading it."""
    too_big = EndpointError(413, f"the request body is larger than this endpoint's limit of {limit:,} "
                                 f"bytes; send a shorter query")
    length = request.headers.get("content-length")
    if length is not None:
        try:
            declared = int(length)
        except ValueError:
            raise EndpointError(400, "Content-Length is not a number") from None
        if declared > limit:
            raise too_big
    chunks, seen = [], 0
    async for chunk in request.stream():
        seen += len(chunk)
        if seen > limit:
            raise too_big
        chunks.append(chunk)
    return b"".join(chunks)

async def protocol_params(request: Any, limit: int) -> dict[str, list[str]]:
    """The Protocol's parameters from the URL and, for a POST, the body (all repeatable)."""
    got = {k: list(request.query_params.getlist(k)) for k in PROTOCOL_KEYS}
    if request.method != "POST":
        return got
    ctype, _, options = request.headers.get("content-type", "").partition(";")
    ctype = ctype.strip().lower()
    charset = ""
    for opt in options.split(";"):
        name, _, value = opt.partition("=")
        if name.strip().lower() == "charset":
            charset = value.strip().strip('"').lower()
    if ctype == "application/sparql-update":
        raise EndpointError(403, READ_ONLY)
    if ctype not in ("application/sparql-query", "application/x-www-form-urlencoded", "multipart/form-data"):
        raise EndpointError(415, "POST a query as application/x-www-form-urlencoded (query=...) "
                                 "or as application/sparql-query")
    if charset and charset not in ("utf-8", "utf8"):
        raise EndpointError(415, f"the body must be UTF-8 (charset={charset} was sent)")
    body = await read_body(request, limit)
    if ctype == "multipart/form-data":
        request._body = body          # Starlette parses the form from the body read here
        form = await request.form()
        for k, v in form.multi_items():
            if k in got and isinstance(v, str):
                got[k].append(v)
        return got
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as err:
        raise EndpointError(400, f"the body is not UTF-8 (byte {err.start})") from None
    if ctype == "application/sparql-query":
        got["query"].append(text)
    else:
        for k, v in parse_qsl(text, keep_blank_values=True):
            if k in got:
                got[k].append(v)
    return got


def service_description(endpoint: str, graphs: list[str], triples: Any = None, federated: bool = False) -> list[Any]:
    """SPARQL 1.1 Service Description of /sparql: language, result formats, the dataset (the default
    graph, with its triple count when known, and each named graph)."""
    import pyoxigraph as ox
    def n(local: str, ns: str = SD) -> ox.NamedNode:
        return ox.NamedNode(ns + local)
    a = ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
    service, dataset, default = ox.BlankNode("service"), ox.BlankNode("dataset"), ox.BlankNode("default")
    out = [ox.Triple(service, a, n("Service")), ox.Triple(service, n("endpoint"), ox.NamedNode(endpoint)),
           ox.Triple(service, n("supportedLanguage"), n("SPARQL11Query")),
           ox.Triple(service, n("feature"), n("UnionDefaultGraph")),
           ox.Triple(service, n("defaultEntailmentRegime"),
                     ox.NamedNode("http://www.w3.org/ns/entailment/Simple")),
           ox.Triple(service, n("defaultDataset"), dataset),
           ox.Triple(dataset, a, n("Dataset")), ox.Triple(dataset, n("defaultGraph"), default),
           ox.Triple(default, a, n("Graph"))]
    out += [ox.Triple(service, n("resultFormat"), n(f, FORMATS_NS)) for f in RESULT_FORMAT_IRIS]
    if federated:
        out.append(ox.Triple(service, n("feature"), n("BasicFederatedQuery")))
    if isinstance(triples, int):
        out.append(ox.Triple(default, ox.NamedNode("http://rdfs.org/ns/void#triples"), ox.Literal(str(
            triples), datatype=ox.NamedNode("http://www.w3.org/2001/XMLSchema#integer"))))
    for i, g in enumerate(graphs):
        named, graph = ox.BlankNode(f"named{i}"), ox.BlankNode(f"graph{i}")
        out += [ox.Triple(dataset, n("namedGraph"), named), ox.Triple(named, a, n("NamedGraph")),
                ox.Triple(named, n("name"), ox.NamedNode(g)), ox.Triple(named, n("graph"), graph),
                ox.Triple(graph, a, n("Graph"))]
    return out
