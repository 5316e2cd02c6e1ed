"""The build validates each document by a sample of its claims (kg/validate.py claim_sample) and
the whole document only when the sample does not conform. These tests break one ordinary claim
(not an extreme, not the first of its kind) of a 250-claim synthetic document in each way the
shapes forbid, and check that the sampled validation reports exactly what pySHACL reports over
the whole document graph."""
from __future__ import annotations

import sys
from pathlib import Path

import pyoxigraph as ox
import pytest
from rdflib import Graph

from kg.ontology.build import build_ontology
from kg.ontology.terms import load_terms
from kg.rdf import claim_iri, nt_bytes, sorted_nt
from kg.shacl_sample import claim_sample, shape_use
from kg.sources import load_source
from kg.transform import document_triples
from kg.validate import load_shapes, validate_graph, validate_sampled

pytestmark = pytest.mark.slow       # each case validates a 250-claim document whole with pySHACL

ROOT = Path(__file__).resolve().parent.parent
V = "https://w3id.org/bcmkg/vocab/"
OA = "http://www.w3.org/ns/oa#"


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from run import generate
    folder = tmp_path_factory.mktemp("syn") / "sources"
    generate(250, folder, seed=11)
    path = sorted(folder.glob("*.yaml"))[0]
    terms = load_terms(ROOT / "ontology")
    source = load_source(path, terms)
    triples = document_triples(source, folder.parent, {t.id: t.label for t in terms.terms.values()})
    units = {str(claim_iri(source.document.id, c.id)) for c in source.claims}
    shapes = load_shapes(ROOT / "shapes")
    ontology = build_ontology(ROOT / "ontology", "2026-01-01", "test")
    return triples, units, shapes, ontology


def _claim(triples: list[ox.Triple], statistic: str, nth: int = 7) -> str:
    """The nth claim of a statistic: an ordinary one, neither the first of its kind nor an extreme."""
    found = [t.subject.value for t in triples if t.predicate.value == V + "statisticType"
             and t.object.value == V + statistic]
    return found[nth]


def _value(triples: list[ox.Triple], subject: str, prop: str) -> ox.Literal:
    return next(t.object for t in triples if t.subject.value == subject and t.predicate.value == prop)


def _set(triples, subject, prop, obj):
    return [t for t in triples if not (t.subject.value == subject and t.predicate.value == prop)] + \
           ([ox.Triple(ox.NamedNode(subject), ox.NamedNode(prop), obj)] if obj is not None else [])


def _dec(text: str) -> ox.Literal:
    return ox.Literal(text, datatype=ox.NamedNode("http://www.w3.org/2001/XMLSchema#decimal"))


BREAKS = {
    "no locator": lambda ts: _set(ts, _claim(ts, "Median"), V + "locator", None),
    "short locator": lambda ts: _set(ts, _claim(ts, "Median"), V + "locator", ox.Literal("T2")),
    "p above 1": lambda ts: _set(ts, _claim(ts, "HazardRatio"), V + "pValue", _dec("1.2")),
    "CI reversed": lambda ts: _set(_set(ts, c := _claim(ts, "HazardRatio"), V + "ciLower", _value(ts, c, V + "ciUpper")),
                                   c, V + "ciUpper", _value(ts, c, V + "ciLower")),
    "value outside CI": lambda ts: _set(ts, c := _claim(ts, "HazardRatio"), V + "value",
                                        _dec(str(float(_value(ts, c, V + "ciUpper").value) + 0.01))),
    "modality not a modality": lambda ts: _set(ts, _claim(ts, "Median"), V + "modality",
                                               ox.NamedNode(V + "OverallSurvival")),
    "study not defined": lambda ts: _set(ts, _claim(ts, "Median"), V + "aboutStudy",
                                         ox.NamedNode("https://w3id.org/bcmkg/id/study/nowhere")),
    "rate without time point": lambda ts: _set(ts, _claim(ts, "RateAtTimePoint"), V + "timePoint", None),
    "span start after end": lambda ts: _set(ts, _claim(ts, "Median") + "/selector", OA + "start",
                                            ox.Literal("999999", datatype=ox.NamedNode(
                                                "http://www.w3.org/2001/XMLSchema#integer"))),
    "two values": lambda ts: ts + [ox.Triple(ox.NamedNode(_claim(ts, "Median")), ox.NamedNode(V + "value"),
                                             _dec("12345"))],
    "percent over 100": lambda ts: _set(ts, _claim(ts, "RateAtTimePoint"), V + "value", _dec("100.5")),
    "n is zero": lambda ts: _set(ts, _claim(ts, "Median"), V + "sampleSize",
                                 ox.Literal("0", datatype=ox.NamedNode("http://www.w3.org/2001/XMLSchema#integer"))),
    "evidence from another document": lambda ts: _set(ts, _claim(ts, "Median") + "/evidence", OA + "hasSource",
                                                      ox.NamedNode("https://w3id.org/bcmkg/id/document/other")),
}


def test_the_sample_is_a_fraction_of_the_document(setup):
    triples, units, shapes, _ = setup
    sample = claim_sample(triples, units, shape_use(shapes))
    kept = {t.subject.value for t in sample} & units
    assert 0 < len(kept) < len(units) / 2


@pytest.mark.parametrize("name", sorted(BREAKS))
def test_a_broken_claim_is_reported_as_the_whole_graph_reports_it(setup, name):
    triples, units, shapes, ontology = setup
    broken = BREAKS[name](list(triples))
    nt = sorted_nt(nt_bytes(broken))
    whole = validate_graph(Graph().parse(data=nt, format="nt"), shapes, ontology)
    assert whole, f"{name}: the shapes should reject it"
    # the sample alone must already see it (else the document would pass unchecked)
    sample = Graph().parse(data=nt_bytes(claim_sample(broken, units, shape_use(shapes))), format="nt")
    assert validate_graph(sample, shapes, ontology), f"{name}: the sample missed it"
    assert validate_sampled(broken, units, nt, shapes, ontology, shape_use(shapes)) == whole


def test_a_valid_document_passes_on_its_sample(setup):
    triples, units, shapes, ontology = setup
    assert validate_sampled(triples, units, sorted_nt(nt_bytes(triples)), shapes, ontology, shape_use(shapes)) == []


def test_documents_validated_together_report_each_documents_own_problems(tmp_path):
    """Three documents with no node in common are validated by one merged sample; two break a
    rule pySHACL alone checks (a locator shorter than 3 characters): the build reports exactly
    the problems each document's whole graph gives, in file order, and caches only the third."""
    from kg.build import build
    from kg.errors import ConformanceError
    from kg.transform import document_graph
    text = (ROOT / "tests" / "data" / "tiny" / "sources" / "000_tiny.yaml").read_text(encoding="utf-8")
    sources = tmp_path / "sources"
    sources.mkdir()
    for i, (doc, studies, locator) in enumerate([("tiny", "example", "p2"), ("tinyb", "exb", "paragraph 2"),
                                                 ("tinyc", "exc", "p3")]):
        body = text.replace("id: tiny", f"id: {doc}", 1).replace("example20", f"{studies}20")
        body = body.replace("locator: paragraph 2", f"locator: {locator}", 1)
        (sources / f"00{i}_{doc}.yaml").write_text(body, encoding="utf-8")
    terms = load_terms(ROOT / "ontology")
    shapes = load_shapes(ROOT / "shapes")
    ontology = build_ontology(ROOT / "ontology", "2026-01-01", "test")
    expected = [p for path in sorted(sources.glob("*.yaml"))
                for p in validate_graph(document_graph(load_source(path, terms), tmp_path), shapes, ontology)]
    assert {p.file for p in expected} == {"sources/000_tiny.yaml", "sources/002_tinyc.yaml"}
    with pytest.raises(ConformanceError) as err:
        build(sources, ROOT / "ontology", ROOT / "shapes", None, tmp_path / "out", log=lambda _: None, workers=2)
    assert list(err.value.problems) == expected
    assert sorted(p.name for p in (tmp_path / "out" / ".cache" / "documents").glob("*.nt")) == ["001_tinyb.nt"]
