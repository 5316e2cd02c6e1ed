"""Cold `kg build` against a naive rdflib pipeline over the same synthetic corpus, interleaved.

    .venv/bin/python benchmarks/build_vs_naive.py                  # 10^4 claims, 3 runs each
    .venv/bin/python benchmarks/build_vs_naive.py --claims 100000 --reps 1 --only ours

The naive pipeline is what one writes first with rdflib and pySHACL: read every extraction file
with the same loader (kg.sources.load_source, the same checks), put every document's triples in
one rdflib Graph (kg.transform.document_graph), build the ontology and classify it with HermiT
(as the build does), validate the whole graph with pySHACL against shapes/ in one pass, and
write graph.ttl and graph.nt with rdflib. It writes less than the build does (no TriG, JSON-LD,
RDF/XML, on-disk store or merged-release checks), so the ratio is a lower bound.

`ours` is `kg build --no-corpus` into a fresh folder (no cache). Each run is its own process,
timed by GNU time: wall seconds, CPU seconds (user + system, worker processes included) and
peak RSS. The two alternate, so a busy moment of this shared machine hits both alike; medians.
"""
from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))

NAIVE = r'''
import sys
from pathlib import Path
sys.path.insert(0, {root!r})
from pyshacl import validate
from rdflib import Graph
from rdflib.namespace import RDFS
from kg.ontology.build import build_ontology, infer_subclasses
from kg.ontology.terms import load_terms
from kg.sources import load_source
from kg.transform import document_graph
from kg.validate import load_shapes
root, out = Path({root!r}), Path(sys.argv[2])
terms = load_terms(root / "ontology")
labels = {{t.id: t.label for t in terms.terms.values()}}
g = Graph()
for path in sorted(Path(sys.argv[1]).glob("*.yaml")):
    g += document_graph(load_source(path, terms), Path(sys.argv[1]).parent, labels)
onto = build_ontology(root / "ontology", "2026-12-01", "naive")
for sub, sup in infer_subclasses(onto):
    onto.add((sub, RDFS.subClassOf, sup))
conforms, _, _ = validate(g, shacl_graph=load_shapes(root / "shapes"), ont_graph=onto, inference="none",
                          advanced=True, allow_warnings=True)
assert conforms
out.mkdir(parents=True, exist_ok=True)
g.serialize(out / "graph.ttl", format="turtle")
g.serialize(out / "graph.nt", format="nt")
'''


def timed(cmd: list[str]) -> dict[str, float]:
    """Run under GNU time; wall, cpu (user + sys, waited-for children included), peak MB."""
    done = subprocess.run(["/usr/bin/time", "-f", "@@ %e %U %S %M", *cmd], capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"{cmd[:3]} failed:\n{done.stderr[-3000:]}")
    line = [ln for ln in done.stderr.splitlines() if ln.startswith("@@ ")][-1].split()
    return {"wall": float(line[1]), "cpu": float(line[2]) + float(line[3]), "peak_mb": float(line[4]) / 1024}


def run_ours(sources: Path, work: Path) -> dict[str, float]:
    out = Path(tempfile.mkdtemp(prefix="ours-", dir=work))
    try:
        return timed([sys.executable, "-m", "kg.cli", "build", "--no-corpus", "--sources", str(sources),
                      "--out", str(out), "--date", "2026-12-01"])
    finally:
        shutil.rmtree(out, ignore_errors=True)


def run_naive(sources: Path, work: Path) -> dict[str, float]:
    out = Path(tempfile.mkdtemp(prefix="naive-", dir=work))
    try:
        return timed([sys.executable, "-c", NAIVE.format(root=str(ROOT)), str(sources), str(out)])
    finally:
        shutil.rmtree(out, ignore_errors=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--claims", type=int, default=10000)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--only", choices=["ours", "naive"], default=None)
    ap.add_argument("--work", type=Path, default=None, help="folder for the corpus and outputs (default: a temp dir)")
    args = ap.parse_args()
    from run import generate
    work = args.work or Path(tempfile.mkdtemp(prefix="bcmkg-naive-"))
    sources = work / f"sources-{args.claims}"
    if not sources.is_dir():
        generate(args.claims, sources)
    runs: dict[str, list[dict[str, float]]] = {"ours": [], "naive": []}
    order = [args.only] if args.only else ["ours", "naive"]
    for rep in range(args.reps):
        for name in order if rep % 2 == 0 else order[::-1]:
            r = (run_ours if name == "ours" else run_naive)(sources, work)
            runs[name].append(r)
            print(f"{name:5} run {rep + 1}: {r['wall']:7.1f} s wall {r['cpu']:7.1f} cpu-s {r['peak_mb']:7.0f} MB",
                  flush=True)
    med = {k: {m: statistics.median(r[m] for r in v) for m in ("wall", "cpu", "peak_mb")} for k, v in runs.items() if v}
    for name, m in med.items():
        print(f"{name:5} median at {args.claims} claims: {m['wall']:.1f} s wall, {m['cpu']:.1f} cpu-s, "
              f"{m['peak_mb']:.0f} MB peak")
    if len(med) == 2:
        print(f"naive / ours: {med['naive']['wall'] / med['ours']['wall']:.2f}x wall, "
              f"{med['naive']['cpu'] / med['ours']['cpu']:.2f}x cpu")


if __name__ == "__main__":
    main()
