"""Served files: the IRIs under https://w3id.org/bcmkg/ that name files rather than graph nodes.

`/mappings.sssom.tsv` (the SSSOM mapping set id), `/shapes/` and `/shapes/{Name}` (the SHACL
shapes' namespace https://w3id.org/bcmkg/shapes/), `/prefixes.json`, `/ontology.owl` (and
`/ontology.rdf`, the same RDF/XML: owl:Ontology first, which pronto needs). Release files come
from the served release; mappings and shapes from the project folders (`ontology/`, `shapes/`)
when the release does not carry its own copy.
"""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyoxigraph as ox
from starlette.requests import Request
from starlette.responses import FileResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import Route

from ..formats import MEDIA, RDF_TYPES, negotiate, rdf_bytes
from ..rdf import PREFIXES, serialize

if TYPE_CHECKING:
    from .app import Site

SHAPES_NS = "https://w3id.org/bcmkg/shapes/"
SSSOM = "mappings.sssom.tsv"


def _project(name: str) -> Path | None:
    from ..paths import project_dir
    try:
        return project_dir(name)
    except Exception:
        return None


def shape_files(release: Path | None) -> list[Path]:
    for folder in ([release / "shapes"] if release else []) + [_project("shapes")]:
        if folder and folder.is_dir() and any(folder.glob("*.ttl")):
            return sorted(folder.glob("*.ttl"))
    return []


def shape_triples(files: list[Path]) -> list[ox.Triple]:
    out: list[ox.Triple] = []
    for f in files:
        out.extend(ox.parse(path=str(f), format=ox.RdfFormat.TURTLE))
    return out


def describe(triples: list[ox.Triple], iri: str) -> list[ox.Triple]:
    """The node's triples and, recursively, those of the blank nodes it points at (its CBD)."""
    by_subject: dict[Any, list[ox.Triple]] = {}
    for t in triples:
        by_subject.setdefault(t.subject, []).append(t)
    out: list[ox.Triple] = []
    todo: list[ox.NamedNode | ox.BlankNode] = [ox.NamedNode(iri)]
    seen: set[ox.NamedNode | ox.BlankNode] = set()
    while todo:
        node = todo.pop()
        if node in seen:
            continue
        seen.add(node)
        for t in by_subject.get(node, []):
            out.append(t)
            if isinstance(t.object, ox.BlankNode):
                todo.append(t.object)
    return out


def turtle(triples: list[ox.Triple]) -> bytes:
    return serialize(triples, ox.RdfFormat.TURTLE, {**PREFIXES, "sh": "http://www.w3.org/ns/shacl#", "bcsh": SHAPES_NS})


class Files:
    """Route handlers for the served files of one release."""

    def __init__(self, site: Site):
        self.site = site
        self.release: Path | None = site.release
        self._shapes: list[ox.Triple] | None = None

    def _release_file(self, name: str) -> Path | None:
        p = self.release / name if self.release else None
        return p if p and p.is_file() else None

    def shapes(self) -> list[ox.Triple]:
        if self._shapes is None:
            self._shapes = shape_triples(shape_files(self.release))
        return self._shapes

    async def mappings(self, request: Request) -> Response:
        p = self._release_file(SSSOM) or ((_project("ontology") or Path("/nonexistent")) / SSSOM)
        if not p.is_file():
            return PlainTextResponse(f"no {SSSOM} beside this release", 404)
        return FileResponse(p, media_type="text/tab-separated-values; charset=utf-8")

    async def owl(self, request: Request) -> Response:
        p = self._release_file("ontology.owl")
        if p is None:
            return PlainTextResponse("this release has no ontology.owl (rebuild it with `kg build`)", 404)
        return FileResponse(p, media_type="application/rdf+xml")

    async def prefixes(self, request: Request) -> Response:
        p = self._release_file("prefixes.json")
        if p is None:
            return PlainTextResponse("this release has no prefixes.json (rebuild it with `kg build`)", 404)
        return FileResponse(p, media_type="application/json")

    async def shape(self, request: Request) -> Response:
        """`/shapes/` (every shape) or `/shapes/{Name}` (one shape), as Turtle, JSON-LD, N-Triples,
        RDF/XML or a page."""
        name = request.path_params.get("name", "")
        fmt: str | None = request.query_params.get("format")
        for ext, key in ((".ttl", "ttl"), (".jsonld", "jsonld"), (".nt", "nt"), (".rdf", "rdfxml")):
            if name.endswith(ext):
                name, fmt = name[: -len(ext)], key
        chosen = negotiate(request.headers.get("accept"), RDF_TYPES, fmt)
        if chosen is None:
            return PlainTextResponse(f"offered: {', '.join(RDF_TYPES)}", 406)
        key = chosen
        triples = self.shapes() if not name else describe(self.shapes(), SHAPES_NS + name)
        if not triples:
            return PlainTextResponse(f"404 not found: {SHAPES_NS}{name} is not a shape of this release", 404)
        headers = {"Vary": "Accept"}
        if key == "html":
            names = sorted({t.subject.value[len(SHAPES_NS):] for t in self.shapes()
                            if isinstance(t.subject, ox.NamedNode) and t.subject.value.startswith(SHAPES_NS)})
            return self.site.render("shape.html", headers=headers, iri=SHAPES_NS + name, title=name or "SHACL shapes",
                                    turtle=turtle(triples).decode(), names=names)
        body = turtle(triples) if key == "ttl" else rdf_bytes(triples, key, self.site.context)
        return Response(body, media_type=MEDIA[key], headers=headers)

    async def namespace(self, request: Request) -> Response:
        """The vocabulary namespace itself (vann:preferredNamespaceUri) names the ontology: 303 there."""
        return RedirectResponse("/ontology", status_code=303)

    def routes(self) -> list[Route]:
        return [Route("/vocab/", self.namespace), Route("/vocab", self.namespace), Route("/" + SSSOM, self.mappings),
                Route("/ontology.owl", self.owl), Route("/ontology.rdf", self.owl),
                Route("/prefixes.json", self.prefixes), Route("/shapes", self.shape), Route("/shapes/", self.shape),
                Route("/shapes/{name}", self.shape)]


def file_routes(site: Site) -> list[Route]:
    """The routes to put first in the app's list (before `/ontology.{ext}`)."""
    return Files(site).routes()
