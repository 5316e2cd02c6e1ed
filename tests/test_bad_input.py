"""Every kind of bad input fails with one clear message (file, line, field, value, what is valid),
a documented exit code, and leaves the previous release untouched."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from kg.cli import main

ROOT = Path(__file__).resolve().parent.parent

VALID = """\
format: bcmkg-extraction/1
document:
  id: greco2026
  corpus_file: 000_922cf6fdf7f0a20b.txt
  sha256: 9298c1206531c747d8b20e5ff6772fbd0b872f04d0c65c5a5c1d68ad5d9a4257
  title: "From Feasibility to Individualization"
  authors: [Greco M]
  year: 2026
  venue: Preprints
  design: [NarrativeReview]
studies:
  - id: vogl2023
    label: Vogl 2023
    design: [RetrospectiveCohortStudy]
claims:
  - id: t2-mwa-os5
    kind: outcome
    study: vogl2023
    locator: "Table 2, row 'Microwave ablation'"
    span: [15754, 15789]
    site: LiverMetastasis
    modality: MicrowaveAblation
    endpoint: OverallSurvival
    statistic: RateAtTimePoint
    value: 89
    unit: percent
    time_point: 5
    time_unit: year
    n: 17
  - id: her2-hr
    kind: prognostic_factor
    study: vogl2023
    locator: "Section 'Liver Metastases', paragraph 'Biological and Molecular Characteristics'"
    span: [11337, 11426]
    site: LiverMetastasis
    factor: HER2Amplification
    direction: favourable
    endpoint: OverallSurvival
    statistic: HazardRatio
    value: 0.28
    unit: ratio
"""


@pytest.fixture(scope="module")
def previous(tmp_path_factory, corpus):
    """A good release built once; every bad build below must leave it byte-for-byte unchanged."""
    out = tmp_path_factory.mktemp("out")
    src = tmp_path_factory.mktemp("good")
    (src / "000_greco2026.yaml").write_text(VALID)
    assert main(["build", "--sources", str(src), "--out", str(out), "--corpus", str(corpus)]) == 0
    manifest = (out / "release" / "manifest.json").read_text()
    return out, manifest


def build_with(text: str, tmp_path: Path, previous, corpus, capsys) -> tuple[int, str]:
    out, manifest = previous
    src = tmp_path / "src"
    src.mkdir()
    (src / "000_greco2026.yaml").write_text(text)
    code = main(["build", "--sources", str(src), "--out", str(out), "--corpus", str(corpus)])
    assert (out / "release" / "manifest.json").read_text() == manifest, "previous release was touched"
    return code, capsys.readouterr().err


CASES = [
    ("malformed yaml", VALID.replace("    kind: outcome\n", "    kind: [outcome\n", 1), 2,
     ["000_greco2026.yaml:18", "malformed YAML", "began on line 17"]),
    ("unknown term", VALID.replace("modality: MicrowaveAblation", "modality: mwa"), 2,
     ["000_greco2026.yaml:22", "modality", "unknown treatment modality 'mwa'",
      "did you mean 'microwave ablation' (MWA)"]),
    ("percentage over 100", VALID.replace("value: 89\n", "value: 150\n"), 2,
     ["000_greco2026.yaml:25", "claims[0].value", "out of range [0, 100]", "150"]),
    ("CI lower above upper", VALID.replace("value: 0.28\n", "value: 0.28\n    ci: [0.9, 0.1]\n"), 2,
     ["000_greco2026.yaml:41", "claims[1].ci", "CI lower is above CI upper"]),
    ("span without its number", VALID.replace("span: [15754, 15789]", "span: [15700, 15750]"), 1,
     ["000_greco2026.yaml:25", "claims[0].value", "does not contain this number", "t2-mwa-os5"]),
    ("sha256 mismatch", VALID.replace("9298c1206531c747", "0000000000000000"), 1,
     ["000_greco2026.yaml:5", "document.sha256", "does not match the corpus file"]),
    ("duplicate claim id", VALID.replace("id: her2-hr", "id: t2-mwa-os5"), 2,
     ["000_greco2026.yaml:30", "duplicate claim id", "first used at line 16"]),
    ("undefined study", VALID.replace("study: vogl2023\n    locator: \"Section", "study: vogl2024\n    locator: \"Section"), 2,
     ["000_greco2026.yaml:32", "cites a study this file does not define", "vogl2024", "known here: vogl2023"]),
]


@pytest.mark.parametrize("name,text,code,expected", CASES, ids=[c[0] for c in CASES])
def test_bad_input_fails_clearly(name, text, code, expected, tmp_path, previous, corpus, capsys):
    got, err = build_with(text, tmp_path, previous, corpus, capsys)
    assert got == code, err
    for fragment in expected:
        assert fragment in err, f"{fragment!r} not in:\n{err}"


def test_valid_file_builds(previous):
    out, manifest = previous
    data = json.loads(manifest)
    assert data["claims"] == 2 and data["spans_checked"] is True


def test_no_corpus_says_spans_unchecked(tmp_path, capsys):
    src = tmp_path / "src"
    src.mkdir()
    (src / "000_greco2026.yaml").write_text(VALID)
    from kg.build import check_sources
    lines: list[str] = []
    check_sources([src / "000_greco2026.yaml"], ontology=ROOT / "ontology", corpus=None, log=lines.append)
    assert lines[-1] == "spans not checked: no corpus folder (give --corpus DIR)"


def test_shacl_violation_names_file_and_line(tmp_path):
    """A violation is reported against the extraction file and line, not a blank node."""
    from rdflib.namespace import RDF
    from kg.ontology.terms import load_terms
    from kg.sources import load_source
    from kg.transform import document_graph
    from kg.validate import load_shapes, validate_graph
    from kg.rdf import BCMKG
    from kg.ontology.build import build_ontology
    path = tmp_path / "000_greco2026.yaml"
    path.write_text(VALID)
    g = document_graph(load_source(path, load_terms(ROOT / "ontology")), tmp_path)
    claim = next(g.subjects(RDF.type, BCMKG.OutcomeClaim))
    g.remove((claim, BCMKG.locator, None))
    problems = validate_graph(g, load_shapes(ROOT / "shapes"), build_ontology(ROOT / "ontology", "2026-01-01", "0"))
    assert len(problems) == 1
    assert (problems[0].file, problems[0].line) == ("000_greco2026.yaml", 16)
    assert problems[0].field == "claim 't2-mwa-os5'.locator"
    assert "human locator" in problems[0].message


def test_worked_example_in_docs_is_valid(tmp_path, corpus):
    """The format documentation's worked example loads and its spans hold their numbers."""
    from kg.build import check_sources
    text = (ROOT / "docs" / "extraction-format.md").read_text()
    example = text.split("## Worked example", 1)[1].split("```yaml\n", 1)[1].split("```", 1)[0]
    path = tmp_path / "000_greco2026.yaml"
    path.write_text(example)
    [source] = check_sources([path], ontology=ROOT / "ontology", corpus=corpus, log=lambda _: None)
    assert [c.id for c in source.claims] == ["t2-mwa-os5"]
