"""The counts the build writes into graph/summary (kg/summary.py) equal the live aggregation
over the claims: the GROUP BY queries the overview, document and study queries ran before, kept
here verbatim."""
from __future__ import annotations

import pytest
from test_queries import canonical

from kg.query import bind, get_query, run, to_rows

PREFIXES = """
PREFIX bcmkg: <https://w3id.org/bcmkg/vocab/>
PREFIX bcd: <https://w3id.org/bcmkg/id/>
PREFIX prov: <http://www.w3.org/ns/prov#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
PREFIX oa: <http://www.w3.org/ns/oa#>
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
PREFIX owl: <http://www.w3.org/2002/07/owl#>
PREFIX bibo: <http://purl.org/ontology/bibo/>
PREFIX dcterms: <http://purl.org/dc/terms/>
"""

LIVE_MODALITY_SITE = PREFIXES + """
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

LIVE_DOCUMENT = PREFIXES + """
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
        "chan2017": (157, 9)}


LIVE_STUDY = PREFIXES + """
SELECT ?study (COUNT(DISTINCT ?claim) AS ?claims) (COUNT(DISTINCT ?document) AS ?documents)
WHERE { ?claim bcmkg:aboutStudy ?study ; prov:wasDerivedFrom ?document }
GROUP BY ?study
"""

#: queries/<name>.rq before they read graph/summary, verbatim below the prefixes
LIVE_QUERIES = {
    "documents": PREFIXES + """
SELECT ?id ?corpusFile ?doi ?year ?title ?sha256 (COALESCE(MAX(?claimCount), 0) AS ?claims) ?document
WHERE {
  ?document a bcmkg:SourceDocument .
  BIND(STRAFTER(STR(?document), "id/document/") AS ?id)
  OPTIONAL { ?document bcmkg:corpusFile ?corpusFile }
  OPTIONAL { ?document bibo:doi ?doi }
  OPTIONAL { ?document dcterms:date ?year }
  OPTIONAL { ?document dcterms:title ?title }
  OPTIONAL { ?document bcmkg:sha256 ?sha256 }
  OPTIONAL { SELECT ?document (COUNT(DISTINCT ?claim) AS ?claimCount)
             WHERE { ?claim prov:wasDerivedFrom ?document ; bcmkg:claimId ?cid } GROUP BY ?document }
}
GROUP BY ?id ?corpusFile ?doi ?year ?title ?sha256 ?document
ORDER BY ?corpusFile
""",
    "study_list": PREFIXES + """
SELECT ?id ?studyLabel ?doi (COUNT(DISTINCT ?document) AS ?documents) (COUNT(DISTINCT ?claim) AS ?claims) ?study
WHERE {
  ?study a ?cls .
  VALUES ?cls { bcmkg:Study bcmkg:ClinicalTrial }
  BIND(STRAFTER(STR(?study), "id/study/") AS ?id)
  OPTIONAL { ?study rdfs:label ?studyLabel }
  OPTIONAL { SELECT ?study (GROUP_CONCAT(DISTINCT ?d; separator="; ") AS ?doi)
             WHERE { ?study bcmkg:describedIn/bibo:doi ?d } GROUP BY ?study }
  OPTIONAL { ?claim bcmkg:aboutStudy ?study ; prov:wasDerivedFrom ?document }
}
GROUP BY ?id ?studyLabel ?doi ?study
ORDER BY ?id
""",
    "studies_by_design": PREFIXES + """
SELECT ?designLabel (COUNT(DISTINCT ?study) AS ?studies) (COUNT(DISTINCT ?claim) AS ?claims) ?design
WHERE {
  ?study bcmkg:design ?design .
  FILTER(?design != bcmkg:StudyDesign)
  OPTIONAL { ?claim bcmkg:aboutStudy ?study }
  OPTIONAL { ?design rdfs:label ?dl }
  BIND(COALESCE(?dl, STRAFTER(STR(?design), "vocab/")) AS ?designLabel)
}
GROUP BY ?designLabel ?design
ORDER BY DESC(?studies) ?designLabel
""",
}


LIVE_EVIDENCE_MATRIX = PREFIXES + """
SELECT ?modalityLabel ?siteLabel ?endpointLabel (COUNT(DISTINCT ?claim) AS ?claims) (COUNT(DISTINCT ?study) AS ?studies)
       (GROUP_CONCAT(DISTINCT ?statName; separator=", ") AS ?statistics) ?site
WHERE {
  ?claim a bcmkg:OutcomeClaim ; bcmkg:modality ?treatment ; bcmkg:metastaticSite ?claimSite ;
         bcmkg:endpoint ?ep ; bcmkg:aboutStudy ?study .
  ?claimSite rdfs:subClassOf* ?site .
  OPTIONAL { ?claim bcmkg:statisticType ?stat }
  BIND(COALESCE(STRAFTER(STR(?stat), "vocab/"), "not stated") AS ?statName)
  OPTIONAL { ?treatment rdfs:label ?ml }
  OPTIONAL { ?claimSite rdfs:label ?sl }
  OPTIONAL { ?ep rdfs:label ?el }
  BIND(COALESCE(?ml, STRAFTER(STR(?treatment), "vocab/")) AS ?modalityLabel)
  BIND(COALESCE(?sl, STRAFTER(STR(?claimSite), "vocab/")) AS ?siteLabel)
  BIND(COALESCE(?el, STRAFTER(STR(?ep), "vocab/")) AS ?endpointLabel)
}
GROUP BY ?modalityLabel ?siteLabel ?endpointLabel ?site
ORDER BY ?siteLabel ?modalityLabel ?endpointLabel
"""


@pytest.mark.parametrize("site, cells", [("MetastaticBreastCancer", 105), ("LungMetastasis", 21),
                                         ("LiverMetastasis", 27), ("BrainMetastasis", 7)])
def test_evidence_matrix_cells_equal_the_live_aggregation(disk_store, site, cells):
    q = get_query("evidence_matrix")
    b = bind(q, {"site": site})
    derived, live = disk_store.select(q.text, b), disk_store.select(LIVE_EVIDENCE_MATRIX, b)
    assert derived.variables == live.variables and len(live.rows) == cells
    assert canonical(derived) == canonical(live)


def test_evidence_matrix_counts_a_cell_as_the_documents_give_it(disk_store):
    rows = to_rows(run("evidence_matrix", {"site": "LungMetastasis"}, disk_store))
    mwa = [r for r in rows if (r["modalityLabel"], r["endpointLabel"]) == ("microwave ablation", "overall survival")]
    # Meng 2021 (000): the median and the 1-, 3- and 5-year OS, in two paragraphs and Table 3 (no 3-year there)
    assert [(r["claims"], r["studies"], r["statistics"]) for r in mwa] == [(11, 1, "Median, RateAtTimePoint")]
    # 001 Table 1 and text: E2108's quality of life at 6, 18 and 30 months, printed as p-values with no
    # statistic, is a cell too (where two randomized trials report it, the map shows it)
    qol = [r for r in to_rows(run("evidence_matrix", {"site": "DeNovoStageIV"}, disk_store))
           if r["endpointLabel"] == "quality of life"]
    assert {(r["modalityLabel"], r["claims"], r["studies"], r["statistics"]) for r in qol} == {
        ("locoregional therapy of the primary tumour", 4, 1, "not stated"),
        ("primary tumour surgery", 2, 1, "not stated")}


def test_study_counts_equal_the_live_aggregation(disk_store):
    counts = PREFIXES + """SELECT ?study ?claims ?documents
        WHERE { GRAPH <https://w3id.org/bcmkg/graph/summary> {
                  ?study bcmkg:studyClaimCount ?claims ; bcmkg:studyDocumentCount ?documents } %s }"""
    live = disk_store.select(LIVE_STUDY)
    assert len(live.rows) == 105        # of the 124 studies, those with a claim or a patient case
    assert canonical(disk_store.select(counts % "FILTER(?claims > 0)")) == canonical(live)
    # every study node has its counts, 0 and 0 when no claim is about it
    studies = disk_store.select(PREFIXES + "SELECT DISTINCT ?study WHERE { VALUES ?cls { bcmkg:Study bcmkg:ClinicalTrial } "
                                           "?study a ?cls }")
    assert {r["study"] for r in studies.rows} == {r["study"] for r in disk_store.select(counts % "").rows}


@pytest.mark.parametrize("name", sorted(LIVE_QUERIES))
def test_queries_reading_the_summary_answer_as_the_live_aggregation(disk_store, name):
    new, live = run(name, {}, disk_store), disk_store.select(LIVE_QUERIES[name])
    assert new.variables == live.variables and len(live.rows) >= 5
    assert canonical(new) == canonical(live)


def test_study_counts_are_the_curated_files(disk_store):
    rows = {r["id"]: r for r in to_rows(run("study_list", {}, disk_store))}
    # chan2017: 156 of the file's 157 claims (one is Leung 2010's) and 13 patient cases (004 Table 2);
    # Ruiz 2018 is reported by 001, 002 and 003
    assert (rows["chan2017"]["claims"], rows["chan2017"]["documents"]) == (169, 1)
    assert (rows["ruiz2018"]["claims"], rows["ruiz2018"]["documents"]) == (33, 3)
    docs = {r["id"]: r["claims"] for r in to_rows(run("documents", {}, disk_store))}
    assert docs == {"greco2026": 161, "ueno2022": 224, "sen2024": 154, "bclm-review-zh": 149, "chan2017": 157}
