"""The ontology on the real files: it reasons cleanly, QC is clean, the documents' terms
resolve, and a curator can add a term through the template and see it everywhere.

HermiT runs once per distinct graph (kg.ontology.build caches by content), so the real ontology
is classified once for the whole module.
"""
from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import DCTERMS, OWL, RDF, RDFS, SKOS

from kg.ontology.build import ABBREVIATION, COMPONENT_MODALITY, build_ontology, infer_subclasses
from kg.ontology.publish import mapping_rows, write_docs, write_mappings
from kg.ontology.qc import check, load_qc_queries
from kg.ontology.terms import TermIndex, load_terms, read_template, terms_from_rows
from kg.rdf import BCMKG, IAO_DEFINITION, ONTOLOGY_IRI, version_iri

ROOT = Path(__file__).resolve().parent.parent
ONTOLOGY = ROOT / "ontology"


@pytest.fixture(scope="module")
def graph() -> Graph:
    return build_ontology(ONTOLOGY, "2026-01-31", "0.1.0")


@pytest.fixture(scope="module")
def inferred(graph: Graph) -> set[tuple[str, str]]:
    return {(str(a)[len(str(BCMKG)):], str(b)[len(str(BCMKG)):]) for a, b in infer_subclasses(graph)}


@pytest.fixture(scope="module")
def index() -> TermIndex:
    return TermIndex(terms_from_rows(read_template(ONTOLOGY)))


# --- the release graph --------------------------------------------------------------------

def test_header(graph: Graph) -> None:
    assert (ONTOLOGY_IRI, RDF.type, OWL.Ontology) in graph
    assert (ONTOLOGY_IRI, OWL.versionIRI, version_iri("2026-01-31")) in graph
    assert (ONTOLOGY_IRI, OWL.versionInfo, Literal("0.1.0")) in graph
    for p in ("title", "description", "license", "creator"):
        assert graph.value(ONTOLOGY_IRI, DCTERMS[p]) is not None, p


def test_loads_in_owlready_consistent_without_unsatisfiable_classes(inferred) -> None:
    # infer_subclasses raises ConformanceError on inconsistency or unsatisfiable classes
    assert inferred


@pytest.mark.parametrize("child,parent", [
    ("HRPositiveHER2Positive", "HRPositive"), ("HRPositiveHER2Positive", "HER2Positive"),
    ("HRPositiveHER2Negative", "HRPositive"), ("HRPositiveHER2Negative", "HER2Negative"),
    ("HRNegativeHER2Positive", "HRNegative"), ("HRNegativeHER2Positive", "HER2Positive"),
    ("TripleNegative", "HRNegative"), ("TripleNegative", "HER2Negative"),
    ("ERPositive", "HRPositive"), ("PRPositive", "HRPositive"),
    ("ERPositiveHER2Positive", "ERPositive"), ("ERPositiveHER2Positive", "HRPositiveHER2Positive"),
])
def test_inferred_subsumptions(inferred, child: str, parent: str) -> None:
    assert (child, parent) in inferred


def test_subtype_parents_are_not_asserted_by_hand() -> None:
    rows = {r["id"]: r for r in read_template(ONTOLOGY)}
    for sid in ("HRPositiveHER2Positive", "TripleNegative", "ERPositive", "HRPositiveHER2Negative"):
        assert rows[sid]["parents"] == "BreastCancerSubtype"
        assert rows[sid]["equivalent"]


def test_term_annotations(graph: Graph) -> None:
    mwa = BCMKG["MicrowaveAblation"]
    assert graph.value(mwa, RDFS.label) == Literal("microwave ablation", lang="en")
    assert graph.value(mwa, IAO_DEFINITION) is not None
    assert (mwa, ABBREVIATION, Literal("MWA")) in graph
    assert (mwa, SKOS.altLabel, Literal("MWA")) in graph
    assert (BCMKG["RadiofrequencyAblation"], SKOS.exactMatch,
            URIRef("http://purl.obolibrary.org/obo/NCIT_C15666")) in graph
    assert (BCMKG["Percent"], RDF.type, OWL.NamedIndividual) in graph
    assert (BCMKG["Percent"], RDF.type, BCMKG["Unit"]) in graph


def test_every_definition_is_also_a_skos_definition(graph: Graph) -> None:
    defined = set(graph.subject_objects(IAO_DEFINITION))
    assert len(defined) > 100
    assert defined == set(graph.subject_objects(SKOS.definition))   # pyLODE reads skos:definition


def test_abbreviation_context_is_kept(graph: Graph) -> None:
    contexts = {str(graph.value(ax, BCMKG["abbreviationContext"])): graph.value(ax, OWL.annotatedSource)
                for ax in graph.subjects(OWL.annotatedProperty, ABBREVIATION)
                if graph.value(ax, OWL.annotatedTarget) == Literal("HR")}
    assert contexts["document 003"] == BCMKG["HepaticResection"]
    assert BCMKG["HazardRatio"] in contexts.values()


def test_combinations_have_components(graph: Graph, index: TermIndex) -> None:
    litt_tace = BCMKG["LITTPlusTACE"]
    assert set(graph.objects(litt_tace, COMPONENT_MODALITY)) == {
        BCMKG["LaserInterstitialThermalTherapy"], BCMKG["TransarterialChemoembolization"]}
    restricted = {graph.value(r, OWL.someValuesFrom) for r in graph.objects(litt_tace, RDFS.subClassOf)
                  if graph.value(r, OWL.onProperty) == BCMKG["hasComponent"]}
    assert BCMKG["LaserInterstitialThermalTherapy"] in restricted
    # a query for thermal ablation finds every combination that contains one
    with_thermal = {str(s)[len(str(BCMKG)):] for s, c in graph.subject_objects(COMPONENT_MODALITY)
                    if index.is_a(str(c)[len(str(BCMKG)):], "ThermalAblation")}
    assert {"LITTPlusTACE", "RFAPlusTACE", "MWAPlusTACE", "HepaticResectionPlusRFA"} <= with_thermal


def test_every_bcmkg_name_in_model_doc_is_defined(graph: Graph) -> None:
    text = (ROOT / "docs" / "model.md").read_text(encoding="utf-8")
    names = set(re.findall(r"bcmkg:([A-Za-z][A-Za-z0-9]*)", text))
    undefined = sorted(n for n in names if (BCMKG[n], None, None) not in graph
                       or graph.value(BCMKG[n], RDF.type) is None)
    assert not undefined


def test_every_bcmkg_property_and_class_the_release_uses_is_declared(release: Path) -> None:
    import pyoxigraph as ox
    rdf_type, ours = str(RDF.type), str(BCMKG)
    used, declared = {}, set()
    for q in ox.parse(path=str(release / "graph.nq"), format=ox.RdfFormat.N_QUADS):
        if q.graph_name.value.endswith("/graph/ontology") and q.predicate.value == rdf_type:
            declared.add(q.subject.value)
        if q.predicate.value.startswith(ours):
            used.setdefault(q.predicate.value, "property")
        if q.predicate.value == rdf_type and isinstance(q.object, ox.NamedNode) and q.object.value.startswith(ours):
            used.setdefault(q.object.value, "class")
    undeclared = sorted(f"{kind} {iri}" for iri, kind in used.items() if iri not in declared)
    assert not undeclared, "declare them in ontology/core.ttl (label and definition)"


# --- QC -----------------------------------------------------------------------------------

def test_qc_is_clean_on_the_real_ontology() -> None:
    findings = check(ONTOLOGY)
    assert [f for f in findings if f.severity in ("error", "warning")] == []


def test_every_term_has_label_and_definition() -> None:
    for r in read_template(ONTOLOGY):
        assert r["label"] and r["definition"], f"{r['_file']}:{r['_line']}"


def _copy(tmp_path: Path) -> Path:
    dst = tmp_path / "ontology"
    shutil.copytree(ONTOLOGY, dst)
    return dst


def _append(path: Path, *cells: str) -> int:
    cols = ["id", "label", "parents", "definition", "synonyms", "abbreviations", "xrefs",
            "components", "equivalent", "deprecated", "replaced_by", "comment"]
    row = list(cells) + [""] * (len(cols) - len(cells))
    text = path.read_text(encoding="utf-8") if path.exists() else "\t".join(cols) + "\n"
    path.write_text(text + "\t".join(row) + "\n", encoding="utf-8")
    return text.count("\n") + 1


def _errors(onto: Path) -> list:
    return [f for f in check(onto, reasoner=False) if f.severity == "error"]


def test_qc_reports_duplicate_label_with_file_and_row(tmp_path: Path) -> None:
    onto = _copy(tmp_path)
    path = onto / "template" / "additions" / "qc-test.tsv"
    line = _append(path, "MicrowaveAblation2", "microwave ablation", "ThermalAblation", "A duplicate.")
    hits = sorted((f for f in _errors(onto) if f.property == "label" and "duplicate" in f.problem),
                  key=lambda f: f.entity)
    # both terms are reported, each naming where the other is
    assert [(f.entity, Path(f.file).name, f.value) for f in hits] == [
        ("MicrowaveAblation", "modalities.tsv", "microwave ablation"),
        ("MicrowaveAblation2", "qc-test.tsv", "microwave ablation")]
    assert hits[1].line == line and "also MicrowaveAblation at modalities.tsv:" in hits[1].problem


def test_qc_reports_undefined_parent_with_file_and_row(tmp_path: Path) -> None:
    onto = _copy(tmp_path)
    path = onto / "template" / "additions" / "qc-test.tsv"
    line = _append(path, "HepaticArterialInfusion", "hepatic arterial infusion", "IntraArterialTherapi", "Infusion.")
    hits = [f for f in _errors(onto) if f.property == "parents"]
    assert len(hits) == 1
    assert (Path(hits[0].file).name, hits[0].line, hits[0].value) == ("qc-test.tsv", line, "IntraArterialTherapi")
    assert "IntraArterialTherapy" in hits[0].fix


def test_qc_reports_undeclared_duplicate_abbreviation(tmp_path: Path) -> None:
    onto = _copy(tmp_path)
    path = onto / "template" / "additions" / "qc-test.tsv"
    line = _append(path, "HepaticRadiotherapy", "hepatic radiotherapy", "Radiotherapy", "Radiotherapy to the liver.",
                   "", "HR")
    hits = [f for f in _errors(onto) if f.property == "abbreviations"]
    assert [(Path(f.file).name, f.line, f.value) for f in hits] == [("qc-test.tsv", line, "HR")]
    assert "HazardRatio" in hits[0].problem and "HepaticResection" in hits[0].problem


def test_qc_reports_unverified_xref_and_bad_equivalent(tmp_path: Path) -> None:
    onto = _copy(tmp_path)
    path = onto / "template" / "additions" / "qc-test.tsv"
    _append(path, "HER2Low", "HER2-low breast cancer", "BreastCancerSubtype", "Low HER2 expression.", "", "",
            "skos:exactMatch NCIT:C999999", "", "hasReceptorStatus some")
    problems = {(f.property, f.problem.split(" (")[0]) for f in _errors(onto)}
    assert ("xrefs", "unverified code") in problems
    assert any(p == "equivalent" for p, _ in problems)


def test_qc_queries_have_headers() -> None:
    queries = load_qc_queries()
    assert len(queries) >= 10
    for q in queries:
        assert q.severity in ("error", "warning") and q.title and q.description, q.name
        assert "?entity" in q.sparql and "?property" in q.sparql and "?value" in q.sparql, q.name


def test_qc_queries_report_deprecation_and_dangling_references(tmp_path: Path) -> None:
    onto = _copy(tmp_path)
    path = onto / "template" / "additions" / "qc-test.tsv"
    _append(path, "OldAblation", "old ablation", "ThermalAblation", "Superseded.", "", "", "", "", "", "true",
            "MicrowaveAblation")
    _append(path, "OlderAblation", "older ablation", "ThermalAblation", "Superseded.", "", "", "", "", "", "true")
    line = _append(path, "OldPlusTACE", "old ablation plus TACE", "Modality", "A combination.", "", "", "",
                   "OldAblation|TransarterialChemoembolizaton")
    _append(path, "KidAblation", "kid ablation", "OldAblation", "Below a deprecated term.")
    found = {(f.severity, f.entity, f.property, f.value, f.problem, f.fix)
             for f in check(onto, reasoner=False)}
    assert ("warning", "OlderAblation", "replaced_by", "", "deprecated term without a replacement",
            "name the term that replaces it") in found
    assert ("warning", "OldPlusTACE", "components", "OldAblation", "component is deprecated",
            "use its replacement") in found
    assert ("warning", "KidAblation", "parents", "OldAblation", "parent is deprecated",
            "use MicrowaveAblation") in found
    dangling = [f for f in _errors(onto) if f.problem == "undefined component"]
    assert [(f.entity, f.value, f.line) for f in dangling] == [("OldPlusTACE", "TransarterialChemoembolizaton", line)]
    assert "TransarterialChemoembolization" in dangling[0].fix


def test_load_terms_resolves() -> None:
    assert load_terms(ONTOLOGY).resolve("MWA", root="Modality") == "MicrowaveAblation"


def test_qc_reports_unknown_column(tmp_path: Path) -> None:
    onto = _copy(tmp_path)
    (onto / "template" / "additions" / "qc-test.tsv").write_text(
        "id\tlabel\tparents\tdefinition\tsynonym\nX\tx\tModality\tdef\t\n", encoding="utf-8")
    hits = [f for f in _errors(onto) if f.problem == "unknown column"]
    assert [(f.property, f.line) for f in hits] == [("synonym", 1)]


@pytest.mark.parametrize("cells,column,value", [
    (("TwoColumns", "two columns"), "definition", ""),
    (("ExtraCells", "extra cells", "Modality", "A row with a stray cell.", "", "", "", "", "", "", "", "", "stray"),
     "row", "['stray']"),
    (("HepaticArterialInfusion", "hepatic arterial infusion", "IntraArterialTherapi", "Infusion."),
     "parents", "IntraArterialTherapi"),
])
def test_build_refuses_an_ontology_that_qc_rejects(tmp_path: Path, capsys, cells, column: str, value: str) -> None:
    from kg.cli import main
    onto = _copy(tmp_path)
    path = onto / "template" / "additions" / "qc-test.tsv"
    header = "\t".join(["id", "label", "parents", "definition", "synonyms", "abbreviations", "xrefs",
                        "components", "equivalent", "deprecated", "replaced_by", "comment"])
    path.write_text(header + "\n" + "\t".join(cells) + "\n", encoding="utf-8")
    code = main(["build", "--ontology", str(onto), "--out", str(tmp_path / "build"), "--no-corpus",
                 "--date", "2026-12-01"])
    err = capsys.readouterr().err
    assert code == 2, err
    assert f"{path}:2: {column}:" in err and repr(value) in err, err
    assert not (tmp_path / "build" / "release").exists()


@pytest.mark.slow
# --- curator workflow --------------------------------------------------------------------

def test_curator_adds_a_modality(tmp_path: Path) -> None:
    onto = _copy(tmp_path)
    path = onto / "template" / "additions" / "curator-test.tsv"
    _append(path, "IrreversibleElectroporation", "irreversible electroporation", "LocalAblativeTherapy",
            "Non-thermal ablation by short high-voltage pulses that open pores in cell membranes.",
            "nanoknife", "IRE")
    graph = build_ontology(onto, "2026-02-01", "0.1.1")
    ire = BCMKG["IrreversibleElectroporation"]
    assert (ire, RDFS.subClassOf, BCMKG["LocalAblativeTherapy"]) in graph
    assert (ire, ABBREVIATION, Literal("IRE")) in graph
    findings = check(onto)
    assert [f for f in findings if f.severity in ("error", "warning")] == []
    assert TermIndex(terms_from_rows(read_template(onto))).resolve("IRE", root="Modality") == ire.split("/")[-1]
    pages = write_docs(onto, tmp_path / "terms")
    page = (tmp_path / "terms" / "additions-curator-test.md").read_text(encoding="utf-8")
    assert "irreversible electroporation" in page and "IRE" in page and "Generated by `kg docs`" in page
    assert tmp_path / "terms" / "index.md" in pages


# --- mappings and docs --------------------------------------------------------------------

def test_mappings_are_verified_and_regenerated(tmp_path: Path) -> None:
    rows = mapping_rows(ONTOLOGY)
    assert rows and all(m["comment"].startswith("verified in ") for m in rows)
    onto = _copy(tmp_path)
    text = write_mappings(onto).read_text(encoding="utf-8")
    assert text == (ONTOLOGY / "mappings.sssom.tsv").read_text(encoding="utf-8"), \
        "ontology/mappings.sssom.tsv is stale: run `kg ontology mappings`"
    assert "#curie_map:" in text and "#mapping_set_id:" in text and "#license:" in text


def _sssom_metadata(text: str) -> dict:
    import yaml
    block = [line[1:] for line in text.splitlines() if line.startswith("#")]
    assert all(text.splitlines()[i].startswith("#") for i in range(len(block))), "metadata block first"
    return yaml.safe_load("\n".join(block))


def test_mappings_metadata_block_is_yaml_with_the_banner_as_comment() -> None:
    # sssom-py reads every leading '#' line as YAML: a free-text banner line breaks it
    meta = _sssom_metadata((ONTOLOGY / "mappings.sssom.tsv").read_text(encoding="utf-8"))
    assert "Do not edit" in meta["comment"] and "kg ontology mappings" in meta["comment"]
    assert meta["mapping_set_id"].startswith("https://w3id.org/bcmkg/") and meta["license"]
    assert meta["curie_map"]["bcmkg"] == str(BCMKG)

@pytest.mark.slow

def test_mappings_validate_with_sssom_py() -> None:
    sssom = shutil.which("sssom") or str(Path(sys.executable).parent / "sssom")
    if not Path(sssom).exists():
        pytest.skip("sssom-py is not installed (pip install sssom)")
    out = subprocess.run([sssom, "validate", str(ONTOLOGY / "mappings.sssom.tsv")], capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr


def test_docs_are_current(tmp_path: Path) -> None:
    write_docs(ONTOLOGY, tmp_path)
    for page in tmp_path.glob("*.md"):
        committed = ROOT / "docs" / "terms" / page.name
        assert committed.exists() and committed.read_text(encoding="utf-8") == page.read_text(encoding="utf-8"), \
            f"docs/terms/{page.name} is stale: run `kg docs`"
    assert "```mermaid" in (tmp_path / "index.md").read_text(encoding="utf-8")


# --- the documents' vocabulary -------------------------------------------------------------

#: Names as the five documents write them, with the group they must resolve under.
DOCUMENT_NAMES = {
    "AnatomicalSite": ["breast", "liver", "lung", "brain", "bone", "sternum", "pelvis", "mediastinal lymph node",
                       "hilar lymph node", "cervical lymph node", "axillary lymph node", "chest wall",
                       "brachial plexus", "gastrointestinal tract", "LN"],
    "MetastaticBreastCancer": ["BCLM", "LM", "MBC", "OMBC", "liver metastasis", "lung metastasis",
                               "brain metastasis", "bone metastasis", "oligometastatic disease",
                               "de novo stage IV breast cancer", "synchronous metastasis", "metachronous metastasis",
                               "EHD", "EHM", "extrahepatic disease", "chest wall recurrence", "distant recurrence"],
    "Modality": ["hepatic resection", "liver resection", "MWA", "LITT", "TACE", "SIRT", "SBRT", "SABR", "RFA", "SRFA",
                 "CRA", "VATS", "PM", "pulmonary metastasectomy", "metastasectomy", "wedge resection",
                 "segmentectomy", "lobectomy", "major hepatectomy", "anatomical hepatic resection",
                 "non-anatomical hepatic resection", "craniotomy", "awake craniotomy", "curettage with bone grafting",
                 "axillary clearance", "radical neck dissection", "mastectomy", "breast-conserving surgery", "WLE",
                 "axillary dissection", "sentinel lymph node biopsy", "whole brain RT", "WBRT", "radioembolization",
                 "cryoablation", "thermal ablation", "chemotherapy", "CTX", "endocrine therapy", "ET",
                 "hormonal therapy", "trastuzumab", "systemic therapy", "ST", "systemic therapy alone",
                 "LITT + TACE", "RFA+TACE", "MWA+TACE", "HR+RFA", "RFA+CTX", "HR+CTX", "TACE+ET", "CRA+ST",
                 "SBRT+ST", "laparoscopic surgery", "robotic-assisted lobectomy", "open thoracotomy",
                 "stereotactic ablative radiotherapy", "locoregional treatment", "external beam radiation"],
    "Biomarker": ["ER", "PR", "PgR", "HER2", "Ki-67", "ctDNA", "estrogen receptor", "progesterone receptor"],
    "BreastCancerSubtype": ["HR+", "HER2+", "HR+/HER2+", "HR+/HER2-", "TNBC", "triple-negative", "luminal A",
                            "luminal B", "luminal", "non-luminal", "ER+/HER2+", "HER2-negative"],
    "StudyDesign": ["RCT", "randomized controlled trial", "phase II trial", "phase III trial", "prospective registry",
                    "retrospective study", "case-control study", "case-matched study", "propensity score matching",
                    "SEER", "population-based study", "meta-analysis", "systematic review", "narrative review",
                    "mini review", "case series", "multicenter registry", "single-center study", "nomogram study"],
    "Endpoint": ["OS", "DFS", "PFS", "RFS", "distant recurrence-free survival", "local control", "local progression",
                 "technical success", "complication rate", "30-day mortality", "QOL", "quality of life",
                 "receptor discordance", "TTP", "TTDR", "primary efficacy", "locoregional progression",
                 "acute toxicity", "median follow-up", "time to distant progression"],
    "StatisticType": ["median", "HR", "hazard ratio", "odds ratio", "CI", "p-value", "c-index", "proportion", "mean"],
    "PrognosticFactor": ["histological grade", "Ki-67 index", "DFI", "lymphovascular invasion", "R0 resection"],
    "SelectionCriterion": ["number of lesions", "performance status", "comorbidities", "resectability",
                           "tumour biology", "extra-visceral disease"],
    "EmergingTechnology": ["ctDNA assay", "transcriptomic profiling", "AI histopathology",
                           "AI-assisted surgical navigation", "AI resectability consensus algorithm"],
}


@pytest.mark.parametrize("root,name", [(r, n) for r, names in DOCUMENT_NAMES.items() for n in names])
def test_document_names_resolve(index: TermIndex, root: str, name: str) -> None:
    assert index.is_a(index.resolve(name, root=root), root)


def test_hr_resolves_by_context(index: TermIndex) -> None:
    assert index.resolve("HR", root="StatisticType") == "HazardRatio"
    assert index.resolve("HR", root="Modality") == "HepaticResection"
    assert index.resolve("HR", root="Biomarker") == "HormoneReceptor"
    with pytest.raises(LookupError, match="ambiguous"):
        index.resolve("HR")
