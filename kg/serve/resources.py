"""Minted IRIs by path, with content negotiation: a term, claim, study or document (`/vocab/`,
`/id/`), a document's named graph (`/graph/`) and the 404 that suggests what was meant.

Apart from app.py because this is where formats are chosen: the RDF formats and the page for every
IRI, and FHIR R5 `Evidence` (`application/fhir+json`, `?format=fhir`, `.fhir.json`) for outcome
claims only, built by kg.fhir.claim_resource from the server's store.
"""
from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from ..errors import KGError
from ..formats import EXTENSION, MEDIA, RDF_TYPES, negotiate, rdf_bytes
from ..rdf import BASE, BCMKG, document_iri, local_path
from .guard import bad_path, not_acceptable, text_response
from .network_svg import term_figures
from .pages import SUBCLASS, kind_of, local_name, resource_page
from .workers import _fmt_from_path, _valid_iri, run_sync

if TYPE_CHECKING:
    from .app import Site

__all__ = ["Resources", "resource_routes", "FHIR_MEDIA", "FHIR_EXTENSION", "CLAIM_TYPES"]

FHIR_MEDIA = "application/fhir+json"
FHIR_EXTENSION = "fhir.json"
FHIR_NAMES = {"fhir", "fhir+json", "fhir-json", FHIR_MEDIA}
#: what a claim IRI is offered in: the RDF formats and the page first (a `*/*` never gets FHIR), then FHIR
CLAIM_TYPES: dict[str, str] = {**RDF_TYPES, FHIR_MEDIA: "fhir"}
OUTCOME = str(BCMKG) + "OutcomeClaim"
FORMATS_HINT = " (or ?format=ttl|jsonld|nt|rdf|html; ?format=fhir on an outcome claim)"


def split_path(path: str) -> tuple[str, str | None]:
    """`/id/claim/d/c.fhir.json` -> (`/id/claim/d/c`, 'fhir'); otherwise as workers._fmt_from_path."""
    if path.endswith("." + FHIR_EXTENSION):
        return path[: -len(FHIR_EXTENSION) - 1], "fhir"
    return _fmt_from_path(path)


def wants_fhir(fmts: list[str]) -> bool:
    """Whether the last recognisable `format=` value names FHIR (kg.formats knows no FHIR name)."""
    return bool(fmts) and fmts[-1].strip().lower().split(";")[0].strip() in FHIR_NAMES


class Resources:
    """Route handlers for minted IRIs over one Site (its store, page cache, templates)."""

    def __init__(self, site: Site):
        self.site = site

    async def resource(self, request: Request) -> Response:
        site = self.site
        raw_path, ext_fmt = split_path(request.url.path)
        if bad := bad_path(raw_path):
            return text_response(bad, 400)
        iri = BASE + raw_path.lstrip("/")
        fmts = request.query_params.getlist("format") or ([ext_fmt] if ext_fmt else [])
        claim, accept = kind_of(iri) == "claim", request.headers.get("accept")
        asked = wants_fhir(fmts) or (not fmts and FHIR_MEDIA in (accept or "").lower())
        key = ("fhir" if claim else None) if wants_fhir(fmts) else negotiate(
            accept, CLAIM_TYPES if claim else RDF_TYPES, fmts)
        if key is None:
            return self.no_fhir(iri) if asked else not_acceptable(CLAIM_TYPES if claim else RDF_TYPES, FORMATS_HINT)
        if not _valid_iri(iri):
            return await self.not_found(iri, key)
        if key == "fhir":
            if (fhir := await self.fhir(iri)) is not None:
                return fhir
            if not await run_sync(site.graph.triples, iri):
                return await self.not_found(iri, key)
            # not an outcome claim: whatever else the Accept header allows (`*/*;q=0.1`), else a 406
            key = None if fmts else negotiate(accept, RDF_TYPES)
            if key is None:
                return self.no_fhir(iri)

        chosen: str = key

        async def make() -> tuple[bytes, bool] | None:
            triples = await run_sync(site.graph.triples, iri)
            if not triples:
                return None
            outcome = claim and any(t.subject.value == iri and t.object.value == OUTCOME for t in triples)
            if chosen != "html":
                body: bytes = await run_sync(rdf_bytes, triples, chosen, site.context)
                return body, outcome
            page = await run_sync(resource_page, site.graph, iri, triples)
            page["fhir_href"] = f"{raw_path}.{FHIR_EXTENSION}" if outcome else None
            if page["kind"] == "term":
                page["network"] = await self.figures(iri)
            return site.env.get_template("resource.html").render(**page).encode(), outcome
        made = await site.cached(("resource", iri, chosen), make)
        if made is None:
            return await self.not_found(iri, chosen)
        links = [f'<{iri}>; rel="canonical"']
        if made[1]:                                     # an outcome claim: its FHIR Evidence too
            links.append(f'<{raw_path}.{FHIR_EXTENSION}>; rel="alternate"; type="{FHIR_MEDIA}"')
        headers = {"Vary": "Accept", "Content-Location": f"{raw_path}.{EXTENSION[chosen]}", "Link": ", ".join(links)}
        return Response(made[0], media_type=MEDIA[chosen], headers=headers)

    async def fhir(self, iri: str) -> Response | None:
        """The claim's FHIR R5 Evidence resource, or None when the IRI is not an outcome claim."""
        from ..fhir import claim_resource

        def make() -> bytes | None:
            try:
                data = claim_resource(self.site.graph.store, iri)
            except KGError:
                return None
            return (json.dumps(data, indent=1, ensure_ascii=False) + "\n").encode()
        body = await self.site.cached(("resource", iri, "fhir"), lambda: run_sync(make))
        if body is None:
            return None
        path = local_path(iri) or ""
        return Response(body, media_type=FHIR_MEDIA, headers={
            "Vary": "Accept", "Content-Location": f"{path}.{FHIR_EXTENSION}",
            "Link": f'<{iri}>; rel="canonical", <{path}.ttl>; rel="alternate"; type="text/turtle"'})

    def no_fhir(self, iri: str) -> Response:
        """406 for FHIR asked of an IRI that has none: what it is offered in instead."""
        why = ("is not an outcome claim (prognostic-factor, selection-criterion, characteristic and "
               "emerging-technology claims are not Evidence statistics)" if kind_of(iri) == "claim"
               else "is not a claim")
        return text_response(f"406 not acceptable: {iri} {why}, so it has no FHIR Evidence resource; "
                             f"offered {', '.join(RDF_TYPES)}", 406, {"Vary": "Accept"})

    async def figures(self, iri: str) -> dict[str, Any] | None:
        """The evidence map and comparison graphs of a site or modality term (None for other terms,
        or when the server has no release folder to build the network from)."""
        site = self.site
        if site.release is None:
            return None
        from ..network import evidence_graph
        release = site.release

        def build() -> Any:
            try:
                return evidence_graph(release)
            except KGError:                 # a folder without the graph files: no network to draw
                return None
        network = await site.cached("evidence-network", lambda: run_sync(build))
        if network is None:
            return None
        query = f"SELECT DISTINCT ?t WHERE {{ ?t <{SUBCLASS}>+ <{iri}> FILTER(isIRI(?t)) }}"
        narrower = [r["t"] for r in await run_sync(site.graph.select, query)]
        figures: dict[str, Any] | None = await run_sync(term_figures, network, iri, narrower)
        return figures

    async def graph_resource(self, request: Request) -> Response:
        """A document's named graph: its triples as RDF, or a short page pointing at the document."""
        site = self.site
        path, ext_fmt = _fmt_from_path(request.url.path)
        if bad := bad_path(path):
            return text_response(bad, 400)
        iri = BASE + path.lstrip("/")
        key = negotiate(request.headers.get("accept"), RDF_TYPES, request.query_params.getlist("format") or ext_fmt)
        if key is None:
            return not_acceptable(RDF_TYPES)
        if not _valid_iri(iri):
            return text_response(f"404 not found: {iri!r} is not a graph of this release", 404)
        triples = await run_sync(site.graph.construct,
                                 f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ GRAPH <{iri}> {{ ?s ?p ?o }} }}")
        if not triples:
            return PlainTextResponse(f"404 not found: {iri} is not a graph of this release", 404)
        if key != "html":
            body = await run_sync(rdf_bytes, triples, key, site.context)
            return Response(body, media_type=MEDIA[key], headers={"Vary": "Accept"})
        doc = str(document_iri(local_name(iri)))
        return site.render("graph.html", iri=iri, n=len(triples), doc=doc, title=local_name(iri))

    async def not_found(self, iri: str, key: str) -> Response:
        sugg = await run_sync(self.site.graph.suggest, iri)
        if key == "html":
            return self.site.render("notfound.html", 404, iri=iri, suggestions=sugg, title="Not found")
        lines = [f"404 not found: {iri} is not in this release"]
        lines += [f"did you mean {s['iri']} ({s['label']})?" for s in sugg]
        return PlainTextResponse("\n".join(lines) + "\n", 404)

    async def not_found_page(self, request: Request, exc: Exception) -> Response:
        if bad_path(request.url.path) or not _valid_iri(BASE + request.url.path.lstrip("/")):
            return text_response(f"404 not found: {request.url.path!r}", 404)
        return await self.not_found(BASE + request.url.path.lstrip("/"),
                                    negotiate(request.headers.get("accept"), RDF_TYPES) or "html")

    def routes(self) -> list[Route]:
        return [Route("/vocab/{rest:path}", self.resource), Route("/id/{rest:path}", self.resource),
                Route("/graph/{rest:path}", self.graph_resource)]


def resource_routes(site: Site) -> list[Route]:
    """The routes for minted IRIs, to put after the fixed paths (they match any path below)."""
    return site.resources.routes()
