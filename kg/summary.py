"""Counts the build works out once, so the overview queries read them instead of grouping the graph.

`claims_per_modality_site` and `claims_per_document` count every claim of the graph; at 10^5
claims that takes seconds on every engine. The build knows each claim's kind, study, modality and
site already, so it writes the counts into a named graph of their own (`graph/summary`):

- one `bcmkg:ModalitySiteSummary` node per modality × site that claims state both of, with the
  claims, studies and documents among outcome claims (`bcmkg:outcomeClaims`, ...) and among all
  claims that carry a modality and a site (`bcmkg:allClaims`, ...);
- below it (`bcmkg:perEndpoint`), one `bcmkg:ModalitySiteEndpointSummary` node per endpoint of its
  outcome claims that state a study: their claims, studies and statistic types, `not stated` for a
  result printed without one (`bcmkg:countedEndpoint`, `bcmkg:outcomeClaims`, `bcmkg:outcomeStudies`,
  `bcmkg:statisticsReported`), the cells of `evidence_matrix`;
- per document, `bcmkg:claimCount`, `bcmkg:outcomeClaimCount`, `bcmkg:studyCount` and
  `bcmkg:exclusionCount` (`claims_per_document`, `documents`);
- per study, across all documents, `bcmkg:studyClaimCount` (the nodes about it: claims and
  patient cases) and `bcmkg:studyDocumentCount` (the documents they come from), for
  `study_list` and `studies_by_design`.

Every count is of the current claims: a retracted or superseded claim stays in the release but
is not counted (as named queries leave it out of their rows).

tests/test_summary.py checks each count equals the live aggregation over the claims.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

import pyoxigraph as ox

from .model import CLAIM_CLASSES
from .rdf import BCD, BCMKG, PREFIXES, XSD, nt_bytes, sorted_nt, study_iri

if TYPE_CHECKING:
    from .document_build import DocumentBuild

__all__ = ["summary_graph", "COUNTED_KINDS"]

#: the kinds `claims_per_modality_site` counts with kind=all (outcome claims alone with kind=outcome)
COUNTED_KINDS = ("outcome", "prognostic_factor", "characteristic", "selection_criterion")
NO_STATISTIC = "not stated"     # a cell's statistic types when a claim states none (a result printed as a p alone)
RDF_TYPE = PREFIXES["rdf"] + "type"


def _count(n: int) -> ox.Literal:
    return ox.Literal(str(n), datatype=ox.NamedNode(str(XSD.integer)))


def _study_counts(built: list[DocumentBuild]) -> list[ox.Triple]:
    """Per study, the nodes about it (claims and patient cases, as the queries counted them) and
    the documents they come from, across all documents."""
    nodes: dict[str, set[tuple[str, str, str]]] = {s: set() for b in built for s in b.studies}
    documents: dict[str, set[str]] = {study: set() for study in nodes}
    for b in built:
        retired = set(b.retired)
        for kind, about in (("claim", b.claim_studies), ("case", b.case_studies)):
            for node, study in about:
                if kind == "claim" and node in retired:
                    continue
                nodes.setdefault(study, set()).add((b.doc_id, kind, node))
                documents.setdefault(study, set()).add(b.doc_id)
    claims, docs = ox.NamedNode(str(BCMKG["studyClaimCount"])), ox.NamedNode(str(BCMKG["studyDocumentCount"]))
    return [t for study in nodes for iri in [ox.NamedNode(str(study_iri(study)))]
            for t in (ox.Triple(iri, claims, _count(len(nodes[study]))), ox.Triple(iri, docs, _count(len(documents[study]))))]


def _endpoint_cells(endpoints: dict[tuple[str, str, str], dict[str, set[str]]]) -> list[ox.Triple]:
    """Each modality × site summary's outcome claims per endpoint: the evidence matrix's cells."""
    v = {p: ox.NamedNode(str(BCMKG[p])) for p in (
        "perEndpoint", "countedEndpoint", "outcomeClaims", "outcomeStudies", "statisticsReported")}
    a, cls = ox.NamedNode(RDF_TYPE), ox.NamedNode(str(BCMKG["ModalitySiteEndpointSummary"]))
    triples = []
    for (modality, site, endpoint), cell in endpoints.items():
        node = ox.NamedNode(str(BCD[f"summary/{modality}--{site}--{endpoint}"]))
        triples += [ox.Triple(ox.NamedNode(str(BCD[f"summary/{modality}--{site}"])), v["perEndpoint"], node),
                    ox.Triple(node, a, cls), ox.Triple(node, v["countedEndpoint"], ox.NamedNode(str(BCMKG[endpoint]))),
                    ox.Triple(node, v["outcomeClaims"], _count(len(cell["c"]))),
                    ox.Triple(node, v["outcomeStudies"], _count(len(cell["s"]))),
                    ox.Triple(node, v["statisticsReported"], ox.Literal(", ".join(sorted(cell["t"]))))]
    return triples


def summary_graph(built: list[DocumentBuild]) -> bytes:
    """N-Triples of the counts (sorted, so the release stays byte-reproducible)."""
    v = {p: ox.NamedNode(str(BCMKG[p])) for p in (
        "modality", "metastaticSite", "outcomeClaims", "outcomeStudies", "outcomeDocuments", "allClaims",
        "allStudies", "allDocuments", "claimCount", "outcomeClaimCount", "studyCount", "exclusionCount")}
    a, cls = ox.NamedNode(RDF_TYPE), ox.NamedNode(str(BCMKG["ModalitySiteSummary"]))
    cells: dict[tuple[str, str], dict[str, set[str]]] = {}
    endpoints: dict[tuple[str, str, str], dict[str, set[str]]] = {}
    triples: list[ox.Triple] = []
    for b in built:
        doc = ox.NamedNode(str(BCD[f"document/{b.doc_id}"]))
        retired = set(b.retired)
        facets = [f for f in b.facets if f[0] not in retired]     # the current claims
        kinds = [kind for _, kind, *_ in facets]
        triples += [ox.Triple(doc, v["claimCount"], _count(len(facets))),
                    ox.Triple(doc, v["outcomeClaimCount"], _count(kinds.count("outcome"))),
                    ox.Triple(doc, v["studyCount"], _count(len({study for _, _, study, *_ in facets}))),
                    ox.Triple(doc, v["exclusionCount"], _count(b.exclusions))]
        for claim, kind, study, modality, site, endpoint, statistic in facets:
            if kind not in COUNTED_KINDS or not modality or not site:
                continue
            cell = cells.setdefault((modality, site), {k: set() for k in ("oc", "os", "od", "ac", "as", "ad")})
            if kind == "outcome" and endpoint and study:
                by_endpoint = endpoints.setdefault((modality, site, endpoint), {k: set() for k in ("c", "s", "t")})
                by_endpoint["c"].add(f"{b.doc_id}/{claim}")
                by_endpoint["s"].add(study)
                by_endpoint["t"].add(statistic or NO_STATISTIC)   # a result printed as a p alone
            for prefix, counted in (("a", True), ("o", kind == "outcome")):
                if counted:
                    cell[prefix + "c"].add(f"{b.doc_id}/{claim}")
                    cell[prefix + "s"].add(study)
                    cell[prefix + "d"].add(b.doc_id)
    for (modality, site), cell in cells.items():
        node = ox.NamedNode(str(BCD[f"summary/{modality}--{site}"]))
        triples += [ox.Triple(node, a, cls), ox.Triple(node, v["modality"], ox.NamedNode(str(BCMKG[modality]))),
                    ox.Triple(node, v["metastaticSite"], ox.NamedNode(str(BCMKG[site])))]
        for key, prop in (("oc", "outcomeClaims"), ("os", "outcomeStudies"), ("od", "outcomeDocuments"),
                          ("ac", "allClaims"), ("as", "allStudies"), ("ad", "allDocuments")):
            if cell[key]:
                triples.append(ox.Triple(node, v[prop], _count(len(cell[key]))))
    triples += _endpoint_cells(endpoints)
    triples += _study_counts(built)
    assert set(CLAIM_CLASSES) >= set(COUNTED_KINDS)
    return sorted_nt(nt_bytes(triples))
