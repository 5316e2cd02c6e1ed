"""The counts the build writes into graph/summary (kg/summary.py) equal the live aggregation
over the claims: the two GROUP BY queries the overview queries ran before, kept here verbatim."""
from __future__ import annotations

import pytest
from test_queries import canonical

from kg.query import bind, get_query, run, to_rows

LIVE_MODALITY_SITE = """
PREFIX bcmkg: <https://w3id.org/bcmkg/vocab/>
PREFIX bcd: <https://w3id.org/bcmkg/id/>
PREFIX prov: <http://www.w3.org/ns/prov#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
PREFIX oa: <http://www.w3.org/ns/oa#>
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
PREFIX owl: <http://www.w3.org/2002/07/owl#>
PREFIX bibo: <http://purl.org/ontology/bibo/>
PREFIX dcterms: <http://purl.org/dc/terms/>

SELECT ?modalityLabel ?siteLabel (COUNT(DISTINCT ?claim) AS ?claims) (COUNT(DISTINCT ?study) AS ?studies)
       (COUNT(DISTINCT ?document) AS ?documents) ?modality ?claimSite ?kind
WHERE {
  ?claim bcmkg:modality ?modality ; bcmkg:metastaticSite ?claimSite ; bcmkg:aboutStudy ?study ;
         prov:wasDerivedFrom ?document ; a ?cls .
  FILTER(?cls = bcmkg:OutcomeClaim || (?kind = "all" && ?cls IN (bcmkg:PrognosticFactorClaim, bcmkg:CharacteristicClaim,
                                                                 bcmkg:SelectionCriterionClaim)))
  OPTIONAL { ?modality rdfs:label ?ml }
  OPTIONAL { ?claimSite rdfs:label ?sl }
  BIND(COALESCE(?ml, STRAFTER(STR(?modality), "vocab/")) AS ?modalityLabel)
  BIND(COALESCE(?sl, STRAFTER(STR(?claimSite), "vocab/")) AS ?siteLabel)
}
GROUP BY ?modalityLabel ?siteLabel ?modality ?claimSite ?kind
ORDER BY DESC(?claims) ?modalityLabel ?siteLabel
"""

LIVE_DOCUMENT = """
PREFIX bcmkg: <https://w3id.org/bcmkg/vocab/>
PREFIX bcd: <https://w3id.org/bcmkg/id/>
PREFIX prov: <http://www.w3.org/ns/prov#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
PREFIX oa: <http://www.w3.org/ns/oa#>
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
PREFIX owl: <http://www.w3.org/2002/07/owl#>
PREFIX bibo: <http://purl.org/ontology/bibo/>
PREFIX dcterms: <http://purl.org/dc/terms/>

SELECT ?document ?corpusFile ?title ?outcomeClaims ?allClaims ?studies ?exclusions
WHERE {
  ?document a bcmkg:SourceDocument .
  OPTIONAL { ?document bcmkg:corpusFile ?corpusFile }
  OPTIONAL { ?document dcterms:title ?title }
  # one pass over the claims: every count of a document from the same grouped rows
  OPTIONAL { SELECT ?document (COUNT(DISTINCT ?claim) AS ?allClaims) (COUNT(DISTINCT ?study) AS ?studies)
                    (COUNT(DISTINCT ?outcome) AS ?outcomeClaims)
             WHERE { ?claim prov:wasDerivedFrom ?document ; bcmkg:claimId ?cid ; bcmkg:aboutStudy ?study .
                     OPTIONAL { ?claim a ?outcomeClass FILTER(?outcomeClass = bcmkg:OutcomeClaim) }
                     BIND(IF(BOUND(?outcomeClass), ?claim, ?none) AS ?outcome) }
             GROUP BY ?document }
  OPTIONAL { SELECT ?document (COUNT(DISTINCT ?exclusion) AS ?exclusions)
             WHERE { ?exclusion a bcmkg:CurationExclusion ; prov:wasDerivedFrom ?document } GROUP BY ?document }
}
ORDER BY ?corpusFile
"""


@pytest.mark.parametrize("kind", ["outcome", "all"])
def test_modality_site_counts_equal_the_live_aggregation(disk_store, kind):
    q = get_query("claims_per_modality_site")
    b = bind(q, {"kind": kind})
    derived, live = disk_store.select(q.text, b), disk_store.select(LIVE_MODALITY_SITE, b)
    assert len(live.rows) > 40 and canonical(derived) == canonical(live)


def test_document_counts_equal_the_live_aggregation(disk_store):
    q = get_query("claims_per_document")
    assert canonical(disk_store.select(q.text)) == canonical(disk_store.select(LIVE_DOCUMENT))


def test_document_counts_are_the_curated_files(disk_store):
    rows = {r["document"].rsplit("/", 1)[1]: r for r in to_rows(run("claims_per_document", {}, disk_store))}
    # claims and exclusions per extraction file, as `kg check sources/*.yaml` counts them
    assert {d: (r["allClaims"], r["exclusions"]) for d, r in rows.items()} == {
        "greco2026": (161, 7), "ueno2022": (224, 8), "sen2024": (154, 18), "bclm-review-zh": (149, 4),
        "chan2017": (156, 9)}
