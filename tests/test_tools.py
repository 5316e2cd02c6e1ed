"""The release in the tools curators and analysts use: each test runs the real client (from PyPI,
the `test` extra) on the real build.

owlready2, pronto and OAK open ontology.owl; pyLODE renders ontology.ttl with its definitions;
pyld compacts graph.jsonld back to itself; pandas reads the claims table with numeric columns.
(sssom-py validates ontology/mappings.sssom.tsv in tests/test_ontology.py.)
KG_TEST_RELEASE=DIR runs them on an existing release instead of a fresh build.
"""
from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import sys
import warnings
from collections import Counter
from pathlib import Path

import pytest

# whole-pipeline checks (several builds, real external tools): left out of `make test-fast`
pytestmark = pytest.mark.slow

VOCAB = "https://w3id.org/bcmkg/vocab/"
MWA_DEFINITION = "Thermal ablation by microwave energy"


@pytest.fixture(scope="module")
def rel(request) -> Path:
    given = os.environ.get("KG_TEST_RELEASE")
    return Path(given) if given else request.getfixturevalue("release")


def test_release_ships_rdfxml_with_the_ontology_element_on_top(rel):
    head = (rel / "ontology.owl").read_text(encoding="utf-8")[:3000]
    assert '<owl:Ontology rdf:about="https://w3id.org/bcmkg/ontology">' in head
    assert "ontology.owl" in json.loads((rel / "manifest.json").read_text())["files"]


def test_owlready2_loads_ontology_owl(rel):
    owlready2 = pytest.importorskip("owlready2")
    world = owlready2.World()
    onto = world.get_ontology((rel / "ontology.owl").as_uri()).load()
    assert onto.base_iri.startswith("https://w3id.org/bcmkg/ontology")
    mwa = onto.get_namespace(VOCAB).MicrowaveAblation
    assert mwa is not None and "microwave ablation" in [str(x) for x in mwa.label]
    assert "ThermalAblation" in {c.name for c in mwa.is_a if hasattr(c, "name")}


def test_pronto_opens_ontology_owl(rel):
    pronto = pytest.importorskip("pronto")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")          # pronto warns about OWL constructs it does not model
        ont = pronto.Ontology(str(rel / "ontology.owl"))
    term = ont[VOCAB + "MicrowaveAblation"]
    assert term.name == "microwave ablation"
    assert str(term.definition).startswith(MWA_DEFINITION)
    assert "MWA" in {s.description for s in term.synonyms}
    assert VOCAB + "ThermalAblation" in {t.id for t in term.superclasses(distance=1)}


def _runoak(*args: str, cwd: Path) -> str:
    exe = shutil.which("runoak") or str(Path(sys.executable).parent / "runoak")
    if not Path(exe).exists():
        pytest.skip("oaklib is not installed (pip install oaklib)")
    done = subprocess.run([exe, *args], capture_output=True, text=True, cwd=cwd, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def test_oak_reads_curies_without_a_prefix_option(rel, tmp_path):
    """`runoak -i ontology.owl info bcmkg:X`: the prefix comes from the file, no --prefix needed."""
    owl = str(rel / "ontology.owl")
    assert "bcmkg:MicrowaveAblation ! microwave ablation" in _runoak("-i", owl, "info", "bcmkg:MicrowaveAblation",
                                                                    cwd=tmp_path)
    below = _runoak("-i", owl, "descendants", "bcmkg:ThermalAblation", cwd=tmp_path)
    assert "bcmkg:MicrowaveAblation ! microwave ablation" in below and "bcmkg:RFAPlusTACE" in below
    assert "bcmkg:MicrowaveAblation ! microwave ablation" in _runoak("-i", owl, "search", "MWA", cwd=tmp_path)


def test_prefix_map_is_published(rel):
    prefixes = json.loads((rel / "prefixes.json").read_text(encoding="utf-8"))
    assert prefixes["bcmkg"] == VOCAB and prefixes["NCIT"] == "http://purl.obolibrary.org/obo/NCIT_"
    context = json.loads((rel / "context.jsonld").read_text(encoding="utf-8"))["@context"]
    assert context["bcmkg"] == VOCAB
    ttl = (rel / "ontology.ttl").read_text(encoding="utf-8")
    assert "preferredNamespacePrefix" in ttl and '"bcmkg"' in ttl


def test_pylode_page_shows_definitions(rel, tmp_path):
    pylode = pytest.importorskip("pylode")
    ttl = (rel / "ontology.ttl").read_text(encoding="utf-8")
    assert "skos:definition" in ttl and "obo:IAO_0000115" in ttl      # both: OBO tools and pyLODE
    html = pylode.OntPub(ontology=str(rel / "ontology.ttl")).make_html()
    (tmp_path / "ontology.html").write_text(html, encoding="utf-8")
    assert MWA_DEFINITION in html and "microwave ablation" in html


def test_pyld_compacts_the_expanded_graph_back_to_the_file(rel):
    """graph.jsonld is compact JSON-LD: pyld's compaction of its expansion, with its own context and
    single values unwrapped (compactArrays, as our writer does), is the file itself."""
    jsonld = pytest.importorskip("pyld.jsonld")
    doc = json.loads((rel / "graph.jsonld").read_text(encoding="utf-8"))
    again = jsonld.compact(jsonld.expand(doc), {"@context": doc["@context"]}, {"compactArrays": True})
    ours = {n["@id"]: n for n in doc["@graph"]}
    theirs = {n["@id"]: n for n in again["@graph"]}
    assert set(ours) == set(theirs)
    differ = sorted({(key, json.dumps(ours[i].get(key))[:120], json.dumps(theirs[i].get(key))[:120])
                     for i in ours for key in set(ours[i]) | set(theirs[i]) if ours[i].get(key) != theirs[i].get(key)})
    by_key = Counter(key for key, _, _ in differ)
    assert not differ, (f"{len(differ)} node properties differ from pyld's compaction (kg/formats.py "
                        f"jsonld_document), by property {dict(by_key)}; e.g. {differ[:1]} {differ[-1:]}")
    assert again == doc


def test_pandas_reads_numbers_as_numbers(rel):
    pd = pytest.importorskip("pandas")
    from kg.export import export_claims
    df = pd.read_csv(io.StringIO(export_claims(rel, "csv")))
    for col in ("value", "value_for_analysis", "interpreted_value", "ci_lower", "ci_upper", "value_low",
                "value_high", "time_point", "p_value"):
        assert df[col].dtype == "float64", (col, df[col].dtype)
    assert not pd.api.types.is_numeric_dtype(df["value_as_printed"])
    third = df[df.value_as_printed == "1/3"]
    assert not third.empty and round(third.value.iloc[0], 4) == 0.3333
    high = df[(df.value_for_analysis > 50) & (df.unit == "percent")]
    assert not high.empty and (high.value_for_analysis <= 100).all(), high[["claim_id", "value_for_analysis"]]
    misread = df[df.interpreted_value.notna()]
    assert not misread.empty and (misread.value_for_analysis == misread.interpreted_value).all()
    qualitative = df[df.value.isna() & df.value_as_printed.isna() & df.value_qualifier.notna()]
    assert qualitative.value_for_analysis.isna().all()


def test_parquet_keeps_the_types(rel, tmp_path):
    pd = pytest.importorskip("pandas")
    pytest.importorskip("pyarrow")
    from kg.export import export_parquet
    df = pd.read_parquet(export_parquet(rel, tmp_path / "claims.parquet"))
    assert df["value"].dtype == "float64" and df["value_for_analysis"].dtype == "float64"
    assert df["n"].dtype in ("int64", "Int64", "float64")
    assert not pd.api.types.is_numeric_dtype(df["value_as_printed"])
    assert df.loc[df.claim_id == "t2-mwa-os5", "value_as_printed"].tolist() == ["89"]
    assert len(df) == json.loads((rel / "manifest.json").read_text())["claims"]
