"""The claim model is the one definition of a claim's fields: a field added to kg.model.FIELDS
is read from YAML, written as RDF, exported as a column and named in the JSON-LD context,
shown on the pages, with no other code changed. Runs on the tiny fixture dataset (fast tier)."""
from __future__ import annotations

import csv
import io
from decimal import Decimal
from pathlib import Path

import pyoxigraph as ox
import pytest

from kg import model
from kg.export import columns, export_claims
from kg.jsonld import jsonld_context
from kg.ontology.terms import load_terms
from kg.rdf import BCMKG, claim_iri, to_ox
from kg.sources import load_source
from kg.transform import document_graph

ROOT = Path(__file__).resolve().parent.parent
TINY = ROOT / "tests" / "data" / "tiny"
FOLLOW_UP = model.Field("follow_up", "figure", "followUpMonths", "follow-up", "median follow-up in months",
                        kinds=frozenset({"outcome"}), low=Decimal(0))


@pytest.fixture
def with_follow_up(monkeypatch, tmp_path):
    monkeypatch.setattr(model, "FIELDS", [*model.FIELDS, FOLLOW_UP])
    text = (TINY / "sources" / "000_tiny.yaml").read_text(encoding="utf-8")
    text = text.replace("    locator: paragraph 2\n", "    follow_up: 61.50\n    locator: paragraph 2\n", 1)
    path = tmp_path / "000_tiny.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def _release(graph, folder: Path) -> Path:
    """A release folder holding just graph.nq, enough for the export."""
    folder.mkdir()
    quads = (ox.Quad(*(to_ox(x) for x in t)) for t in graph)
    (folder / "graph.nq").write_bytes(ox.serialize(quads, format=ox.RdfFormat.N_QUADS))
    return folder


def test_a_new_field_reaches_rdf_export_and_context(with_follow_up, tmp_path):
    source = load_source(with_follow_up, load_terms(ROOT / "ontology"))
    claim = next(c for c in source.claims if c.id == "mwa-os5")
    assert claim.values["follow_up"] == Decimal("61.50")
    g = document_graph(source, tmp_path)
    subject = claim_iri("tiny", "mwa-os5")
    assert {str(o) for o in g.objects(subject, BCMKG.followUpMonths)} == {"61.50"}
    assert {str(o) for o in g.objects(subject, BCMKG.followUpMonthsAsPrinted)} == {"61.50"}
    rows = list(csv.DictReader(io.StringIO(export_claims(_release(g, tmp_path / "release"), "csv"))))
    assert "follow_up" in columns()
    assert next(r for r in rows if r["claim_id"] == "mwa-os5")["follow_up"] == "61.50"
    assert jsonld_context()["@context"]["followUpMonths"] == {"@id": "bcmkg:followUpMonths", "@type": "xsd:decimal"}
    # ... and the page read-model lists it under its page label
    from kg.serve.pages import Graph, claim_rows
    from kg.store import EmbeddedStore
    store = ox.Store()
    store.load(path=str(tmp_path / "release" / "graph.nq"), format=ox.RdfFormat.N_QUADS)
    rows = claim_rows(Graph(EmbeddedStore(store)), f"BIND(<{subject}> AS ?claim)")
    assert ("follow-up", "61.5") in rows[0]["details"]


def test_without_the_field_the_key_is_refused(tmp_path):
    text = (TINY / "sources" / "000_tiny.yaml").read_text(encoding="utf-8")
    path = tmp_path / "000_tiny.yaml"
    path.write_text(text.replace("    locator: paragraph 2\n", "    follow_up: 61.50\n    locator: paragraph 2\n", 1))
    from kg.errors import InputError
    with pytest.raises(InputError, match=r"000_tiny.yaml:\d+: claims\[0\].follow_up: unknown field"):
        load_source(path, load_terms(ROOT / "ontology"))


def test_every_claim_property_in_the_shapes_is_in_the_model():
    """The SHACL shapes constrain claim properties; each one they name is a field of the model."""
    shapes = "".join(p.read_text(encoding="utf-8") for p in (ROOT / "shapes").glob("claim*.ttl"))
    import re
    used = set(re.findall(r"sh:path bcmkg:(\w+)", shapes))
    known = {f.prop for f in model.FIELDS if f.prop} | {f"{f.prop}AsPrinted" for f in model.FIELDS
                                                           if f.kind == "figure" and f.prop}
    extra = used - known - {"armNode", "label"}
    assert not extra, f"shapes name claim properties the model does not define: {sorted(extra)}"


# --- the cut-off fields of a prognostic factor under the shapes (shapes/claim.ttl) ---------------

_PF = """@prefix bcmkg: <https://w3id.org/bcmkg/vocab/> . @prefix oa: <http://www.w3.org/ns/oa#> .
@prefix prov: <http://www.w3.org/ns/prov#> . @prefix dcterms: <http://purl.org/dc/terms/> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> . @prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
<https://w3id.org/bcmkg/id/document/d> a bcmkg:SourceDocument ; dcterms:title "T" ; dcterms:creator "A" ;
    dcterms:date "2024"^^xsd:gYear ; bcmkg:corpusFile "f.txt" ; bcmkg:design bcmkg:NarrativeReview ;
    bcmkg:sha256 "9298c1206531c747d8b20e5ff6772fbd0b872f04d0c65c5a5c1d68ad5d9a4257" .
<https://w3id.org/bcmkg/id/study/s> a bcmkg:Study ; rdfs:label "S 2020" ; bcmkg:design bcmkg:CaseSeries ;
    dcterms:isReferencedBy <https://w3id.org/bcmkg/id/document/d> .
<https://w3id.org/bcmkg/id/claim/d/c/evidence> a oa:SpecificResource ; oa:hasSource <https://w3id.org/bcmkg/id/document/d> ;
    oa:hasSelector <https://w3id.org/bcmkg/id/claim/d/c/selector> .
<https://w3id.org/bcmkg/id/claim/d/c/selector> a oa:TextPositionSelector ; oa:start 10 ; oa:end 20 .
<https://w3id.org/bcmkg/id/claim/d/c> a bcmkg:PrognosticFactorClaim ; bcmkg:claimId "c" ;
    bcmkg:aboutStudy <https://w3id.org/bcmkg/id/study/s> ; prov:wasDerivedFrom <https://w3id.org/bcmkg/id/document/d> ;
    bcmkg:locator "Section 'x'" ; bcmkg:evidence <https://w3id.org/bcmkg/id/claim/d/c/evidence> ;
    bcmkg:sourceFile "sources/x.yaml" ; bcmkg:sourceLine 3 ; bcmkg:endpoint bcmkg:OverallSurvival ;
    bcmkg:subtypeBasis bcmkg:SubtypeBasisUnspecified ; bcmkg:factor bcmkg:DiseaseFreeInterval ;
    bcmkg:direction bcmkg:Unfavourable ; CUTOFF ."""


@pytest.fixture(scope="module")
def shapes_and_ontology():
    from kg.ontology.build import build_ontology
    from kg.validate import load_shapes
    return load_shapes(ROOT / "shapes"), build_ontology(ROOT / "ontology", "2026-01-01", "test")


@pytest.mark.parametrize("cutoff, expected", [
    ('bcmkg:cutoff "3"^^xsd:decimal ; bcmkg:cutoffUnit bcmkg:Year ; bcmkg:cutoffComparison "<"', None),
    ('bcmkg:cutoffLow "12"^^xsd:decimal ; bcmkg:cutoffHigh "24"^^xsd:decimal ; bcmkg:cutoffUnit bcmkg:Month ; '
     'bcmkg:cutoffComparison ">"', None),
    ('bcmkg:cutoffLow "4"^^xsd:decimal ; bcmkg:cutoffHigh "5"^^xsd:decimal ; bcmkg:cutoffUnit bcmkg:Centimetre ; '
     'bcmkg:cutoffComparison "between"', None),
    ('bcmkg:cutoff "3"^^xsd:decimal ; bcmkg:cutoffComparison "<"', "needs its unit"),
    ('bcmkg:cutoff "3"^^xsd:decimal ; bcmkg:cutoffUnit bcmkg:Year', "needs its comparison"),
    ('bcmkg:cutoff "3"^^xsd:decimal ; bcmkg:cutoffUnit bcmkg:Year ; bcmkg:cutoffComparison "under"', "one of <"),
    ('bcmkg:cutoff "3"^^xsd:decimal ; bcmkg:cutoffUnit bcmkg:OverallSurvival ; bcmkg:cutoffComparison "<"',
     "under Unit"),
    ('bcmkg:cutoffLow "5"^^xsd:decimal ; bcmkg:cutoffHigh "4"^^xsd:decimal ; bcmkg:cutoffUnit bcmkg:Centimetre ; '
     'bcmkg:cutoffComparison "<"', "not above cut-off high"),
    ('bcmkg:cutoff "4"^^xsd:decimal ; bcmkg:cutoffUnit bcmkg:Centimetre ; bcmkg:cutoffComparison "between"',
     "needs both ends"),
    ('bcmkg:cutoffUnit bcmkg:Year ; bcmkg:cutoffComparison "<"', "needs the cut-off"),
])
def test_cutoff_shapes(cutoff, expected, shapes_and_ontology):
    from rdflib import Graph

    from kg.validate import validate_graph
    problems = validate_graph(Graph().parse(data=_PF.replace("CUTOFF", cutoff), format="turtle"), *shapes_and_ontology)
    messages = [p.message for p in problems]
    if expected is None:
        assert messages == []
    else:
        assert messages and any(expected in m for m in messages), messages
