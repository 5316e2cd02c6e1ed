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
