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
    if text is None:    # a Latin-1 byte in the middle of the file
        (src / "000_greco2026.yaml").write_bytes(VALID.replace("Vogl 2023", "V\u00f6gl 2023").encode("latin-1"))
    else:
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
    # issue 12: tracebacks and messages in Python's words, before
    ("nan as a value", VALID.replace("value: 89\n", "value: .nan\n"), 2,
     ["000_greco2026.yaml:25", "claims[0].value", "not a number", "'.nan'"]),
    ("inf as a value", VALID.replace("value: 0.28\n", "value: .inf\n"), 2,
     ["000_greco2026.yaml:40", "claims[1].value", "not a number"]),
    ("id with a trailing newline", VALID.replace("  - id: t2-mwa-os5\n", '  - id: "t2-mwa-os5\\n"\n'), 2,
     ["000_greco2026.yaml:16", "claims[0].id", "not a valid id"]),
    ("DOI with a quote", VALID.replace("  venue: Preprints\n", "  venue: Preprints\n  doi: '10.1234/x\"y'\n"), 2,
     ["000_greco2026.yaml:10", "document.doi", "not a bare DOI"]),
    ("n of 10^400", VALID.replace("    n: 17\n", "    n: 1" + "0" * 400 + "\n"), 2,
     ["000_greco2026.yaml:29", "claims[0].n", "out of range"]),
    ("CI shown as written", VALID.replace("value: 0.28\n", "value: 0.28\n    ci: [0.71, 0.60]\n"), 2,
     ["claims[1].ci: CI lower is above CI upper (value [0.71, 0.60])"]),
    ("an empty claim", VALID.replace("  - id: her2-hr\n", "  -\n  - id: her2-hr\n"), 2,
     ["claims[1]: a claim is empty"]),
    ("not UTF-8", None, 2, ["000_greco2026.yaml:", "not UTF-8 text"]),
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

    from kg.ontology.build import build_ontology
    from kg.ontology.terms import load_terms
    from kg.rdf import BCMKG
    from kg.sources import load_source
    from kg.transform import document_graph
    from kg.validate import load_shapes, validate_graph
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


# --- generated input: the loader and the parameter binder never raise anything but our errors ---

def test_the_loader_never_tracebacks_on_generated_yaml(tmp_path):
    """Mutations of a valid file (any key's value replaced by generated YAML scalars, lists or
    mappings) give an InputError or a Source, never another exception."""
    import json as _json

    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    from kg.errors import KGError
    from kg.ontology.terms import load_terms
    from kg.sources import load_source
    terms = load_terms(ROOT / "ontology")
    lines = VALID.splitlines()
    keyed = [i for i, line in enumerate(lines) if ":" in line and not line.rstrip().endswith(":")]
    scalar = st.one_of(st.integers(-10**30, 10**30), st.floats(allow_nan=False, allow_infinity=False),
                       st.text(max_size=20), st.booleans(), st.none(),
                       st.sampled_from([".nan", ".inf", "1/0", "~", "0/1", "-0"]))
    yamlish = st.one_of(scalar, st.lists(scalar, max_size=3), st.dictionaries(st.text(max_size=5), scalar, max_size=2))

    @settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(st.sampled_from(keyed), yamlish, st.booleans())
    def check(index: int, value: object, raw: bool) -> None:
        changed = list(lines)
        key = changed[index].split(":", 1)[0]
        text = value if raw and isinstance(value, str) else _json.dumps(value)
        changed[index] = f"{key}: {text}"
        path = tmp_path / "000_greco2026.yaml"
        path.write_text("\n".join(changed) + "\n", encoding="utf-8")
        try:
            load_source(path, terms)
        except KGError:
            pass
    check()


def test_the_binder_never_tracebacks_on_generated_parameters():
    """Every parameter of every named query, given generated text, is bound or refused with a QueryError."""
    from hypothesis import given, settings
    from hypothesis import strategies as st

    from kg.errors import QueryError
    from kg.query import bind, load_queries
    queries = [(q, name) for q in load_queries().values() for name in q.params]

    @settings(max_examples=300, deadline=None)
    @given(st.sampled_from(queries), st.one_of(st.text(max_size=30), st.sampled_from(
        ["1e400", "-5", "NaN", "Infinity", "0x10", "1_000", " 5 ", "bcmkg:", "<http://x>", '" } DROP ALL #'])))
    def check(query_and_name: tuple, value: str) -> None:
        q, name = query_and_name
        try:
            bind(q, {name: value})
        except QueryError:
            pass
    check()


@pytest.mark.parametrize("name,value,message", [("threshold", "1e400", "not a number written in digits"),
                                                ("threshold", "NaN", "not a number written in digits"),
                                                ("time_point", "-5", "out of range")])
def test_bad_numeric_query_parameters(name, value, message):
    from kg.errors import QueryError
    from kg.query import bind, get_query
    with pytest.raises(QueryError, match=message):
        bind(get_query("flagship"), {name: value})


def test_kg_sparql_missing_file_and_binary_stdin(tmp_path, capsys, monkeypatch):
    import io
    import sys as _sys
    assert main(["sparql", str(tmp_path / "nosuch.rq")]) == 2
    assert "nosuch.rq: file: cannot read" in capsys.readouterr().err
    monkeypatch.setattr(_sys, "stdin", io.TextIOWrapper(io.BytesIO(b"SELECT \xcc\xff WHERE {}")))
    assert main(["sparql", "-"]) == 2
    assert "stdin:1: query: not UTF-8 text" in capsys.readouterr().err


@pytest.mark.parametrize("bad_id", ["Bad Id", "Bad>Id"])
def test_template_id_that_cannot_be_an_iri(bad_id, tmp_path, capsys):
    """A template id with a space or '>' is a QC error with file and line, not a traceback."""
    import shutil
    ontology = tmp_path / "ontology"
    shutil.copytree(ROOT / "ontology", ontology)
    path = ontology / "template" / "modalities.tsv"
    lines = path.read_text(encoding="utf-8").splitlines()
    path.write_text("\n".join(lines + [f"{bad_id}\tbad id\tModality\tA made-up definition." + "\t" * 8]) + "\n",
                    encoding="utf-8")
    code = main(["build", "--ontology", str(ontology), "--no-corpus", "--out", str(tmp_path / "build"),
                 "--sources", str(ROOT / "tests" / "data" / "tiny" / "sources")])
    err = capsys.readouterr().err
    assert code == 2, err
    assert f"modalities.tsv:{len(lines) + 1}: id: id is not UpperCamelCase ASCII (value '{bad_id}')" in err


def test_a_cut_off_must_be_printed_in_its_span(tmp_path, corpus):
    """A prognostic factor's threshold is a number of the document like any other: checked against the span."""
    from kg.ontology.terms import load_terms
    from kg.sources import load_source
    from kg.spans import check_spans
    root = Path(__file__).resolve().parent.parent
    text = (root / "sources" / "002_sen2024.yaml").read_text(encoding="utf-8")
    good = "    cutoff: 3\n    cutoff_unit: year\n    cutoff_comparison: \"<=\""
    assert good in text
    bad = tmp_path / "002_sen2024.yaml"
    bad.write_text(text.replace(good, good.replace("cutoff: 3", "cutoff: 4"), 1), encoding="utf-8")
    terms = load_terms(root / "ontology")
    assert not check_spans(load_source(root / "sources" / "002_sen2024.yaml", terms), corpus)
    problems = [str(p) for p in check_spans(load_source(bad, terms), corpus)]
    assert len(problems) == 1 and ".cutoff" in problems[0] and "does not contain this number" in problems[0], problems
