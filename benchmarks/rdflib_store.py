"""rdflib's memory Dataset behind the engine's select(): the naive peer `benchmarks/run.py` measures."""
from __future__ import annotations

import time
from collections.abc import Mapping
from pathlib import Path

from kg.rdf import to_ox
from kg.store import Result, Term, with_values


class RdflibStore:
    """rdflib's memory Dataset; kept to measure it, not as a default (12-15x slower to load). SELECT only."""

    name = "rdflib"

    def __init__(self, release: Path):
        from rdflib import Dataset
        start = time.perf_counter()
        self.ds = Dataset(default_union=True)
        self.ds.parse(str(Path(release) / "graph.trig"), format="trig")
        self.load_seconds = time.perf_counter() - start

    def select(self, sparql: str, bindings: Mapping[str, Term] | None = None) -> Result:
        start = time.perf_counter()
        # rdflib's initBindings is applied late for aggregates; the VALUES block keeps
        # the same meaning as the other engines.
        answer = self.ds.query(with_values(sparql, bindings))
        names = [str(v) for v in answer.vars or []]
        rows = [{n: None if r[i] is None else to_ox(r[i]) for i, n in enumerate(names)}  # type: ignore[index]
                for r in answer]
        return Result(names, rows, time.perf_counter() - start)
