"""Shapes tested by example: each tests/shapes/*.ttl file says on its first line the violation it
must produce (`# expect: <message>`, every violation found carries it), or nothing for a valid example."""
from __future__ import annotations

from pathlib import Path

import pytest
from rdflib import Graph

from kg.ontology.build import build_ontology
from kg.validate import load_shapes, validate_graph

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = sorted((Path(__file__).parent / "shapes").glob("*.ttl"))


@pytest.fixture(scope="module")
def shapes_and_ontology():
    return load_shapes(ROOT / "shapes"), build_ontology(ROOT / "ontology", "2026-01-01", "test")


@pytest.mark.parametrize("example", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_shape_example(example, shapes_and_ontology):
    expected = example.read_text().splitlines()[0].removeprefix("# expect:").strip()
    problems = validate_graph(Graph().parse(example), *shapes_and_ontology)
    messages = [p.message for p in problems]
    if not expected:
        assert messages == []
    else:
        # one rule broken; sh:equals reports each side of the difference, so all messages are that rule's
        assert problems and all(expected in m for m in messages), messages


def test_every_shape_file_has_examples():
    names = {p.stem.split("-")[0] for p in EXAMPLES}
    assert names >= {Path(s).stem for s in (ROOT / "shapes").glob("*.ttl")}


# --- the same verdicts under a second, SHACL-core validator (pyrudof) -------------------------

def _rudof_violations(data_ttl: list[str]) -> list:
    pyrudof = pytest.importorskip("pyrudof")
    rudof = pyrudof.Rudof(pyrudof.RudofConfig())
    for i, text in enumerate(data_ttl):
        rudof.read_data(text, merge=i > 0)
    rudof.read_shacl("".join(p.read_text(encoding="utf-8") for p in sorted((ROOT / "shapes").glob("*.ttl"))))
    return list(rudof.validate_shacl())


@pytest.fixture(scope="module")
def ontology_ttl(shapes_and_ontology):
    return shapes_and_ontology[1].serialize(format="turtle")


@pytest.mark.parametrize("example", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_pyrudof_gives_the_same_verdict(example, ontology_ttl):
    """Conformance does not depend on the validator: every example that pySHACL rejects, a
    SHACL-core validator rejects too (with messages of its own), and every valid one passes."""
    expected = example.read_text().splitlines()[0].removeprefix("# expect:").strip()
    found = _rudof_violations([example.read_text(encoding="utf-8"), ontology_ttl])
    assert bool(found) == bool(expected), [str(v.message) for v in found]


def test_the_release_conforms_under_pyrudof(release):
    """The merged release (every document and the ontology in one graph) conforms to its own shapes."""
    found = _rudof_violations([(release / "graph.ttl").read_text(encoding="utf-8")])
    assert found == [], [str(v)[:300] for v in found[:5]]
