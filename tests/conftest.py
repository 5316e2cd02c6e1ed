"""Shared fixtures: one real build of the curated sources per test session."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT.parent / "shared" / "corpus"


@pytest.fixture(scope="session")
def release(tmp_path_factory) -> Path:
    """Build sources/ into a fresh folder (spans checked when the corpus is beside the project)."""
    from kg.build import build
    out = tmp_path_factory.mktemp("build")
    summary = build(sources=ROOT / "sources", ontology=ROOT / "ontology", shapes=ROOT / "shapes",
                    corpus=CORPUS if CORPUS.is_dir() else None, out=out, log=lambda _: None)
    assert summary.ok
    return summary.release


@pytest.fixture(scope="session")
def store(release):
    """The release loaded into an embedded Oxigraph store (union of the named graphs)."""
    import pyoxigraph
    st = pyoxigraph.Store()
    with open(release / "graph.nq", "rb") as fh:
        st.load(fh, format=pyoxigraph.RdfFormat.N_QUADS)
    return st


@pytest.fixture(scope="session")
def disk_store(release):
    """The embedded engine as `kg query` opens it: the release's on-disk store, read-only."""
    from kg.store import STORE_DIR, EmbeddedStore
    assert (release / STORE_DIR).is_dir(), "the build writes the on-disk store"
    return EmbeddedStore.open(release)


@pytest.fixture(scope="session")
def memory_store(store):
    """The embedded engine over the in-memory store (graph.nq loaded), as an older release opens."""
    from kg.store import EmbeddedStore
    return EmbeddedStore(store)


@pytest.fixture(scope="session")
def corpus() -> Path:
    if not CORPUS.is_dir():
        pytest.skip("the corpus (../shared/corpus) is not beside the project")
    return CORPUS


def pytest_configure(config):
    os.environ.setdefault("KG_TEST", "1")
