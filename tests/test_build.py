"""The build: per-document cache, reproducible bytes, and release files that agree with each other."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pyoxigraph as ox
import pytest

from kg.build import build

# whole-pipeline checks (several builds, real external tools): left out of `make test-fast`
pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent


def _build(sources: Path, out: Path, corpus: Path, shapes: Path = ROOT / "shapes", workers: int | None = None) -> tuple:
    lines: list[str] = []
    summary = build(sources=sources, ontology=ROOT / "ontology", shapes=shapes, corpus=corpus, out=out,
                    date="2026-01-01", log=lines.append, workers=workers)
    return summary, lines[0]


@pytest.fixture(scope="module")
def sources(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("project") / "sources"
    shutil.copytree(ROOT / "sources", folder)
    return folder


def test_unchanged_documents_come_from_the_cache(sources, tmp_path, corpus):
    out = tmp_path / "build"
    _, first = _build(sources, out, corpus)
    assert "(0 of 5 document(s) unchanged" in first
    _, second = _build(sources, out, corpus)
    assert "(5 of 5 document(s) unchanged" in second
    # editing one file rebuilds that file only, and its new figure reaches the release
    path = sources / "004_chan2017.yaml"
    original = path.read_text(encoding="utf-8")
    try:
        path.write_text(original.replace("title:", "title: Edited", 1), encoding="utf-8")
        _, third = _build(sources, out, corpus)
        assert "(4 of 5 document(s) unchanged" in third
        assert "Edited" in (out / "release" / "graph.ttl").read_text(encoding="utf-8")
    finally:
        path.write_text(original, encoding="utf-8")


def test_changed_shapes_invalidate_the_cache(sources, tmp_path, corpus):
    out, shapes = tmp_path / "build", tmp_path / "shapes"
    shutil.copytree(ROOT / "shapes", shapes)
    _build(sources, out, corpus, shapes)
    with open(shapes / "document.ttl", "a", encoding="utf-8") as f:
        f.write("\n# a curator's comment changes the shapes' hash\n")
    _, line = _build(sources, out, corpus, shapes)
    assert "(0 of 5 document(s) unchanged" in line


def test_same_input_gives_the_same_bytes_in_one_process_or_two(sources, tmp_path, corpus):
    files = [json.loads((_build(sources, tmp_path / name, corpus, workers=workers)[0].release
                         / "manifest.json").read_text())["files"] for name, workers in (("one", 1), ("two", 2))]
    for name in ("graph.ttl", "graph.trig", "graph.nq", "graph.jsonld", "ontology.ttl"):
        assert files[0][name] == files[1][name], name


def _triples(path: Path, fmt) -> set[str]:
    return {str(q.triple if isinstance(q, ox.Quad) else q) for q in ox.parse(path=str(path), format=fmt)}


def test_release_formats_hold_the_same_triples(release):
    ttl = _triples(release / "graph.ttl", ox.RdfFormat.TURTLE)
    assert len(ttl) == json.loads((release / "manifest.json").read_text())["triples"]
    assert _triples(release / "graph.jsonld", ox.RdfFormat.JSON_LD) == ttl
    assert _triples(release / "graph.nq", ox.RdfFormat.N_QUADS) == ttl
    assert _triples(release / "graph.trig", ox.RdfFormat.TRIG) == ttl
    # a figure keeps its printed lexical form in every file (Chan 2017 Table 2, patient 13: 336.80)
    figure = ('<https://w3id.org/bcmkg/id/claim/chan2017/t2-p13-os> <https://w3id.org/bcmkg/vocab/value> '
              '"336.80"^^<http://www.w3.org/2001/XMLSchema#decimal>')
    assert figure in ttl
