"""Benchmark: build, load and query synthetic corpora of 10^3 .. 10^5 claims.

Not a test (`make bench`): a script that shows how time and memory grow with size.

    .venv/bin/python benchmarks/run.py                         # 1e3, 1e4, 1e5
    .venv/bin/python benchmarks/run.py --sizes 1000 10000 --reps 7
    .venv/bin/python benchmarks/run.py --report-only           # docs/benchmark.* from the CSV

For each size it writes synthetic extraction files with the real vocabulary (term ids from
ontology/template, every claim valid for the build and SHACL), then measures, each step in a
fresh subprocess so peak memory (ru_maxrss) is that step's alone:

- build: `kg.build.build` (load + check + transform + reasoner + per-document SHACL + write),
- load: `kg load --endpoint` into an `oxigraph serve` (one N-Quads request, `--protocol
  dataset`; the per-graph Graph Store Protocol too up to 10^4) and into Virtuoso (Graph Store
  Protocol per graph, tests/_virtuoso.py installs and starts it), rdflib's memory Dataset,
- every named query's example (synthetic ids for document/study parameters) per engine:
  embedded (the release's on-disk store, as `kg query` opens it), the Oxigraph server, Virtuoso
  (the queries its SPARQL runs; see tests/test_virtuoso.py) and rdflib (RDFLIB_QUERIES, up to
  --rdflib-max claims): median and p95 of `kg.query.run` and of the engine's own query of the
  same bound text (pyoxigraph `Store.query` with every solution read; for a server the
  `RemoteStore.select` of that text; rdflib `Dataset.query`), taken in turns, and their ratio;
- the whole `kg query NAME` command and `kg query --list` (python start-up included).

Results: benchmarks/results.csv, docs/benchmark.md (tables) and docs/benchmark.png (plot).
"""
from __future__ import annotations

import argparse
import csv
import datetime
import json
import os
import random
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))
from kg.build import source_files  # noqa: E402  (after the path insert)

CLAIMS_PER_DOC = 1000
# rdflib runs only these (lookups, thresholds, one aggregation): its self-joins take minutes
# already at 10^3 claims (surgery_vs_control 37 s, disagreements > 100 s per run).
RDFLIB_QUERIES = ["flagship", "median_threshold", "claim_provenance", "term_children", "hazard_ratios",
                  "evidence_matrix", "documents", "study_claims"]


# --- synthetic corpus ----------------------------------------------------------------

def generate(n_claims: int, folder: Path, seed: int = 7) -> int:
    """Write extraction files totalling n_claims claims; return the number of files."""
    from kg.query import term_index
    idx = term_index()
    rnd = random.Random(seed)
    pick = lambda root, skip=(): [t for t in idx.under(root) if t != root and t not in skip and not idx.terms[t].deprecated]
    sites = pick("BreastCancerMetastasis")
    modalities = pick("Modality", skip={"CombinationTherapy", "LocalTherapy", "SurgicalApproach"})
    subtypes = pick("BreastCancerSubtype")
    designs = pick("StudyDesign")
    endpoints = ["OverallSurvival", "DiseaseFreeSurvival", "ProgressionFreeSurvival", "LocalControl"]
    bases = ["restricted", "majority", "favourable_predictor", "unspecified"]
    folder.mkdir(parents=True, exist_ok=True)
    n_docs = max(1, n_claims // CLAIMS_PER_DOC)
    for d in range(n_docs):
        doc = f"syn{d:05d}"
        per = n_claims // n_docs + (1 if d < n_claims % n_docs else 0)
        studies = [f"syn{d:05d}s{k:03d}" for k in range(max(1, per // 20))]
        lines = ["format: bcmkg-extraction/1", "document:", f"  id: {doc}", f"  corpus_file: {doc}.txt",
                 f'  sha256: "{"ab" * 32}"', f'  title: "Synthetic document {d}"', "  authors: [Bench B]",
                 "  year: 2025", '  venue: "Synthetic"', "  design: [NarrativeReview]", "studies:",
                 f"  - id: {doc}", f'    label: "Synthetic {d}"', "    design: [NarrativeReview]", "    is_document: true"]
        for s in studies:
            lines += [f"  - id: {s}", f'    label: "Study {s}"', f"    design: [{rnd.choice(designs)}]",
                      f"    n: {rnd.randint(10, 2000)}", f"    year: {rnd.randint(1990, 2025)}"]
        lines.append("claims:")
        for c in range(per):
            kind = rnd.random()
            stat = "RateAtTimePoint" if kind < 0.5 else ("Median" if kind < 0.8 else "HazardRatio")
            block = [f"  - id: c{c:05d}", "    kind: outcome", f"    study: {rnd.choice(studies)}",
                     f'    locator: "Table {1 + c % 5}, row {c}"', f"    span: [{c * 10}, {c * 10 + 9}]",
                     f"    site: {rnd.choice(sites)}", f"    modality: {rnd.choice(modalities)}",
                     f"    endpoint: {rnd.choice(endpoints)}", f"    statistic: {stat}", f"    n: {rnd.randint(5, 500)}"]
            if rnd.random() < 0.3:
                block += [f"    subtype: {rnd.choice(subtypes)}", f"    subtype_basis: {rnd.choice(bases)}"]
            if stat == "RateAtTimePoint":
                block += [f"    value: {rnd.randint(1, 99)}", "    unit: percent",
                          f"    time_point: {rnd.choice([1, 3, 5])}", "    time_unit: year"]
            elif stat == "Median":
                block += [f"    value: {rnd.randint(6, 120)}", "    unit: month"]
            else:
                hr = round(rnd.uniform(0.3, 1.5), 2)
                block += [f"    value: {hr}", "    unit: ratio", f"    ci: [{round(hr * 0.7, 2)}, {round(hr * 1.3, 2)}]",
                          f"    p_value: {round(rnd.uniform(0.001, 0.9), 3)}"]
            lines += block
        (folder / f"{d:05d}_{doc}.yaml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return n_docs


# --- measured steps (each run in a fresh subprocess) ---------------------------------

STEP = r'''
import json, resource, sys, time
sys.path.insert(0, {root!r})
from pathlib import Path
args = json.loads(sys.argv[1])
t0 = time.perf_counter()
out = {{}}
if args["step"] == "build":
    from kg.build import build
    s = build(sources=Path(args["sources"]), ontology=Path({root!r}) / "ontology", shapes=Path({root!r}) / "shapes",
              corpus=None, out=Path(args["out"]), log=lambda *_: None)
    out["triples"] = s.triples
    out["timings"] = s.timings
elif args["step"] == "load":
    from kg.load import load_endpoint
    load_endpoint(Path(args["release"]), args["endpoint"], protocol=args["protocol"], log=lambda *_: None,
                  default_graph=args.get("default_graph"))
else:
    from kg.query import load_queries, bind, run
    from kg.store import EmbeddedStore, RemoteStore, with_values
    from benchmarks.rdflib_store import RdflibStore
    if args["step"] == "embedded":
        eng = EmbeddedStore.open(Path(args["release"]))
        def raw(text, b):
            answer = eng.raw(text, b)         # pyoxigraph's Store.query, with the engine's dataset choice
            return sum(1 for sol in answer for _ in [tuple(sol)])    # every cell read, the fastest way
    elif args["step"] == "rdflib":
        eng = RdflibStore(Path(args["release"]))
        def raw(text, b):
            return len(list(eng.ds.query(with_values(text, b))))
    else:
        eng = RemoteStore(args["endpoint"], timeout=300)
        def raw(text, b):
            return len(eng.select(text, b).rows)
    out["load_s"] = time.perf_counter() - t0
    lat = {{}}
    for name, q in load_queries().items():
        if args.get("only") and name not in args["only"]:
            continue
        if name in args.get("skip", {{}}):
            lat[name] = {{"error": args["skip"][name]}}
            continue
        params = dict(q.example_params())
        for k, p in q.params.items():
            if p.type == "document": params[k] = "syn00000"
            if p.type == "study": params[k] = "syn00000s000"
            if k == "claim": params[k] = "bcd:claim/syn00000/c00000"
        b = bind(q, {{k: v for k, v in params.items() if k != "include_retracted"}})
        times, raws = [], []
        try:
            run(name, params, eng); raw(q.text, b)          # warm-up: caches, plans, the server's pages
            for _ in range(args["reps"]):                    # in turns, so a busy moment hits both alike
                t = time.perf_counter(); r = run(name, params, eng); times.append(time.perf_counter() - t)
                t = time.perf_counter(); raw(q.text, b); raws.append(time.perf_counter() - t)
        except Exception as err:
            lat[name] = {{"error": str(err)[:200]}}
            continue
        lat[name] = {{"times": times, "raw": raws, "rows": len(r.rows)}}
    out["latency"] = lat
out["seconds"] = time.perf_counter() - t0
out["peak_mb"] = max(resource.getrusage(who).ru_maxrss for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)) / 1024
print(json.dumps(out))
'''


def step(**args) -> dict:
    code = STEP.format(root=str(ROOT))
    done = subprocess.run([sys.executable, "-c", code, json.dumps(args)], capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"step {args['step']} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def oxigraph_server(data: Path):
    exe = Path(sys.executable).parent / "oxigraph"
    exe = str(exe) if exe.exists() else shutil.which("oxigraph")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen([exe, "serve", "--location", str(data), "--bind", f"127.0.0.1:{port}",
                             "--union-default-graph"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    for _ in range(200):
        try:
            urllib.request.urlopen(base + "/query?query=ASK%7B%7D", timeout=1).read()
            return proc, base
        except Exception:
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError("oxigraph serve did not start")


def pct(values: list[float], q: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, int(round(q * (len(s) - 1))))]


CLI_QUERIES = ["documents", "flagship", "study_claims", "hazard_ratios"]


def cli_times(release: Path, reps: int) -> dict[str, list[float]]:
    """Wall time of whole `kg` commands (interpreter start-up, imports, store open, query, output)."""
    kg = str(Path(sys.executable).parent / "kg")
    cmds = {"--list": [kg, "query", "--list"]}
    cmds.update({q: [kg, "query", q, "--release", str(release), "--format", "csv"] for q in CLI_QUERIES})
    for q in CLI_QUERIES[2:]:
        cmds[q] += ["--param", "study=syn00000s000"] if q == "study_claims" else []
    times: dict[str, list[float]] = {k: [] for k in cmds}
    for _ in range(reps):                                    # in turns
        for k, cmd in cmds.items():
            t = time.perf_counter()
            done = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
            times[k].append(time.perf_counter() - t)
            if done.returncode != 0:
                raise RuntimeError(f"{' '.join(cmd)}: {done.stderr[-500:]}")
    return times


def import_profile(top: int = 14) -> list[tuple[str, float, float]]:
    """`python -X importtime -c "import kg.query"`: (module, cumulative ms, self ms), slowest first."""
    done = subprocess.run([sys.executable, "-X", "importtime", "-c", "import kg.query"], capture_output=True,
                          text=True, cwd=ROOT)
    rows = []
    for line in done.stderr.splitlines():
        if not line.startswith("import time:") or "cumulative" in line:
            continue
        own, cum, name = [x.strip() for x in line[len("import time:"):].split("|")]
        rows.append((name, int(cum) / 1000, int(own) / 1000))
    total = next((c for n, c, _ in rows if n.strip() == "kg.query"), 0.0)
    keep = [r for r in rows if r[0].count(" ") <= 8]       # two levels below kg.query
    keep.sort(key=lambda r: -r[1])
    return [("(total import kg.query)", total, 0.0)] + [(n.strip(), c, o) for n, c, o in keep[1:top + 1]]


def naive_rows(n: int, work: Path, reps: int = 2) -> list[dict]:
    """Cold `kg build` and the naive pipeline on the same corpus, in turns (benchmarks/build_vs_naive.py)."""
    import build_vs_naive as bn
    runs: dict[str, list[dict[str, float]]] = {"ours": [], "naive": []}
    for rep in range(reps):
        for name in ("ours", "naive") if rep % 2 == 0 else ("naive", "ours"):
            runs[name].append((bn.run_ours if name == "ours" else bn.run_naive)(work / "sources", work))
    out = []
    for name, v in runs.items():
        wall, cpu, peak = (statistics.median(r[m] for r in v) for m in ("wall", "cpu", "peak_mb"))
        print(f"{'':>7}  cold build, {name}: {wall:.1f} s wall, {cpu:.1f} cpu-s, {peak:.0f} MB", flush=True)
        out.append(_row(claims=n, engine=f"cold build {name}", query="(build)", load_s=wall, peak_mb=peak,
                        cpu_s=cpu))
    return out


def virtuoso_skip() -> dict[str, str]:
    sys.path.insert(0, str(ROOT / "tests"))
    try:
        import test_virtuoso
        return dict(test_virtuoso.VIRTUOSO_CANNOT)
    except Exception:
        return {}


def _query_rows(rows: list[dict], n: int, triples: int, eng: str, r: dict) -> None:
    for q, v in r["latency"].items():
        if "error" in v:
            rows.append(dict(claims=n, triples=triples, engine=eng, query=q, load_s="", peak_mb="", median_ms="",
                             p95_ms="", raw_median_ms="", ratio="", rows="error: " + v["error"][:80]))
            continue
        med, raw = statistics.median(v["times"]), statistics.median(v["raw"])
        rows.append(dict(claims=n, triples=triples, engine=eng, query=q, load_s="", peak_mb="",
                         median_ms=med * 1000, p95_ms=pct(v["times"], 0.95) * 1000, raw_median_ms=raw * 1000,
                         ratio=med / raw if raw else "", rows=v["rows"]))


TODAY = datetime.datetime.now(datetime.UTC).date().isoformat()


def _row(**kw) -> dict:
    """A results.csv row; `measured` (UTC date) says which run a figure comes from."""
    base = dict(claims="", triples="", engine="", query="", load_s="", cpu_s="", peak_mb="", median_ms="",
                p95_ms="", raw_median_ms="", ratio="", rows="", measured=TODAY)
    base.update(kw)
    return base


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000, 100000])
    ap.add_argument("--reps", type=int, default=7)
    ap.add_argument("--rdflib-max", type=int, default=10000)
    ap.add_argument("--engines", nargs="+", default=["embedded", "oxigraph", "virtuoso", "rdflib"])
    ap.add_argument("--naive-at", type=int, nargs="*", default=[10000],
                    help="sizes at which the cold build is also run against the naive rdflib + pySHACL pipeline "
                         "(benchmarks/build_vs_naive.py), interleaved, 2 runs each")
    ap.add_argument("--work", type=Path, default=None,
                    help="keep the synthetic corpora and builds here (reused when present) instead of a tmp folder")
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results.csv")
    ap.add_argument("--report-only", action="store_true", help="rewrite docs/benchmark.* from the CSV")
    a = ap.parse_args()
    if a.report_only:
        report(read(a.out))
        return
    # rows of other sizes, and of these sizes' engines not run now, are kept (one engine can be re-run)
    rerun = set(a.engines) | {"machine", "kg"}
    rows = [r for r in (read(a.out) if a.out.is_file() else [])
            if r["claims"] not in a.sizes or r["engine"].split()[0] not in rerun]
    for n in a.sizes:
        work = (a.work / str(n)) if a.work else Path(tempfile.mkdtemp(prefix=f"bench{n}-"))
        release = work / "build" / "release"
        try:
            if not (release / "graph.nq").is_file():
                rows = [r for r in rows if not (r["claims"] == n and r["engine"] in ("build", "build part", "rebuild"))]
                generate(n, work / "sources")
                b = step(step="build", sources=str(work / "sources"), out=str(work / "build"))
                print(f"{n:>7} claims: build {b['seconds']:.1f} s, {b['peak_mb']:.0f} MB, {b['triples']} triples",
                      flush=True)
                rows.append(_row(claims=n, triples=b["triples"], engine="build", query="(build)", load_s=b["seconds"],
                                 peak_mb=b["peak_mb"]))
                rows += [_row(claims=n, engine="build part", query=part, load_s=seconds)      # kg build --timings
                         for part, seconds in b["timings"].items()]
                # a curator's edit: one document changes, the others come from the per-document cache
                first = source_files(work / "sources")[0]
                first.write_text(first.read_text().replace("Synthetic document 0", "Synthetic document 0 (edited)"))
                rb = step(step="build", sources=str(work / "sources"), out=str(work / "build"))
                print(f"{'':>7}  rebuild after editing 1 of {len(source_files(work / 'sources'))} documents: "
                      f"{rb['seconds']:.1f} s, {rb['peak_mb']:.0f} MB", flush=True)
                rows.append(_row(claims=n, triples=rb["triples"], engine="rebuild", query="(rebuild)",
                                 load_s=rb["seconds"], peak_mb=rb["peak_mb"]))
            triples = json.loads((release / "manifest.json").read_text()).get("triples", 0) \
                if (release / "manifest.json").is_file() else 0
            if n in a.naive_at:
                rows = [r for r in rows if not (r["claims"] == n and r["engine"].startswith("cold build"))]
                rows += naive_rows(n, work)
            for eng in a.engines:
                if eng == "rdflib" and n > a.rdflib_max:
                    continue
                proc, server, extra = None, None, {}
                try:
                    if eng == "oxigraph":
                        # the old way (GSP per graph) measured up to 10^4; the queries run on the server
                        # loaded in one request (the last one started)
                        for protocol in (["gsp", "dataset"] if n <= 10000 else ["dataset"]):
                            if proc:
                                proc.terminate()
                                proc.wait(timeout=30)
                            proc, base = oxigraph_server(Path(tempfile.mkdtemp(prefix="oxi-", dir=work)))
                            ld = step(step="load", release=str(release), endpoint=base + "/store", protocol=protocol)
                            print(f"{'':>7}  kg load --protocol {protocol} into oxigraph serve: {ld['seconds']:.2f} s",
                                  flush=True)
                            rows.append(_row(claims=n, triples=triples, engine=f"oxigraph load {protocol}",
                                             query="(load)", load_s=ld["seconds"], peak_mb=ld["peak_mb"]))
                        extra = {"endpoint": base + "/query"}
                    elif eng == "virtuoso":
                        sys.path.insert(0, str(ROOT / "tests"))
                        import _virtuoso
                        try:
                            server = _virtuoso.start(Path(tempfile.mkdtemp(prefix="virtuoso-", dir=work)),
                                                     buffers=170000 if n > 10000 else 40000)
                        except _virtuoso.Unavailable as why:
                            print(f"{'':>7}  virtuoso: skipped ({why})")
                            continue
                        ld = step(step="load", release=str(release), endpoint=server.crud, protocol="gsp",
                                  default_graph=_virtuoso.DEFAULT_GRAPH)
                        print(f"{'':>7}  kg load --protocol gsp into virtuoso: {ld['seconds']:.2f} s", flush=True)
                        rows.append(_row(claims=n, triples=triples, engine="virtuoso load gsp", query="(load)",
                                         load_s=ld["seconds"], peak_mb=ld["peak_mb"]))
                        graphs = sorted(p.stem.split("_", 1)[-1] for p in (work / "sources").glob("*.yaml"))
                        named = [f"https://w3id.org/bcmkg/graph/{g}" for g in graphs] + \
                            ["https://w3id.org/bcmkg/graph/ontology"]
                        extra = {"endpoint": server.sparql + "?" + urllib.parse.urlencode(
                            [("default-graph-uri", _virtuoso.DEFAULT_GRAPH)] + [("named-graph-uri", g) for g in named]),
                            "skip": virtuoso_skip()}
                    elif eng == "rdflib":
                        extra = {"only": RDFLIB_QUERIES}
                    r = step(step="rdflib" if eng == "rdflib" else ("embedded" if eng == "embedded" else "remote"),
                             release=str(release), reps=a.reps if eng != "rdflib" else 3, **extra)
                finally:
                    if proc:
                        proc.terminate()
                        proc.wait(timeout=30)
                    if server:
                        server.stop()
                print(f"{'':>7}  {eng:8s} open/load {r['load_s']:.2f} s, peak {r['peak_mb']:.0f} MB", flush=True)
                if eng in ("embedded", "rdflib"):
                    rows.append(_row(claims=n, triples=triples, engine=eng, query="(load)", load_s=r["load_s"],
                                     peak_mb=r["peak_mb"]))
                _query_rows(rows, n, triples, eng, r)
                write(rows, a.out)          # after each engine: a long run stopped later keeps these
            rows.append(_row(claims=n, triples=triples, engine="machine", query="(load average)",
                             load_s=os.getloadavg()[1]))     # the 5-minute load average, after this size's runs
            ct = cli_times(release, reps=5)
            for k, v in ct.items():
                rows.append(_row(claims=n, triples=triples, engine="kg command", query=k,
                                 median_ms=statistics.median(v) * 1000, p95_ms=pct(v, 0.95) * 1000))
            print(f"{'':>7}  kg query (whole command, median s): "
                  + ", ".join(f"{k} {statistics.median(v):.2f}" for k, v in ct.items()), flush=True)
        finally:
            if not a.work:
                shutil.rmtree(work, ignore_errors=True)
        write(rows, a.out)
    report(read(a.out))       # as --report-only does: every row with all its columns


def read(path: Path) -> list[dict]:
    rows = []
    for r in csv.DictReader(open(path, newline="")):
        r = _row(**{"measured": "", **r})       # rows written before the column: date unknown
        for k in ("claims", "triples"):
            r[k] = int(r[k]) if r[k] else 0
        for k in ("load_s", "cpu_s", "peak_mb", "median_ms", "p95_ms", "raw_median_ms", "ratio"):
            r[k] = float(r[k]) if r[k] else ""
        rows.append(r)
    return rows


def write(rows: list[dict], out: Path) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    with open(out, "w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(_row()))
        w.writeheader()
        for r in sorted(rows, key=lambda r: r["claims"]):
            w.writerow({k: (f"{v:.3f}" if isinstance(v, float) else v) for k, v in _row(**r).items()})


ENGINES = ["embedded", "oxigraph", "virtuoso", "rdflib"]
LOADS = [("embedded", "embedded open s"), ("oxigraph load dataset", "oxigraph kg load (1 request) s"),
         ("oxigraph load gsp", "oxigraph kg load (GSP per graph) s"), ("virtuoso load gsp", "virtuoso kg load (GSP) s"),
         ("rdflib", "rdflib load s")]


def _get(rows: list[dict], **kw) -> dict | None:
    return next((r for r in rows if all(r[k] == v for k, v in kw.items())), None)


WHOLE_GRAPH_KINDS = ("aggregation", "disagreement")     # their target is 400 ms; every other kind's, 50 ms


def targets(rows: list[dict], n: int) -> list[str]:
    """The issue's targets at the largest size, each met or missed by how much (from the rows)."""
    from kg.query import load_queries
    kinds = {name: q.kind for name, q in load_queries().items()}
    out = [f"## Targets at {n:,} claims (embedded engine unless said)", ""]

    def line(what: str, target: str, misses: list[str]) -> None:
        count = f" ({len(misses)})" if len(misses) > 1 else ""
        out.append(f"- {what} ({target}): " + (f"missed{count}: " + ", ".join(misses) + "." if misses else "met."))

    q = [r for r in rows if r["claims"] == n and r["engine"] == "embedded" and r["median_ms"] != ""]
    line("query layer against raw `Store.query`", "<= 1.2x",
         [f"`{r['query']}` {r['ratio']:.2f}x ({r['median_ms']:.1f} ms)" for r in q if r["ratio"] and r["ratio"] > 1.2])
    for whole, limit in ((False, 50), (True, 400)):
        line("whole-graph kinds (" + ", ".join(WHOLE_GRAPH_KINDS) + ")" if whole else "every other kind",
             f"<= {limit} ms", [f"`{r['query']}` {r['median_ms']:.0f} ms" for r in q if r["median_ms"] > limit
                                and (kinds.get(r["query"]) in WHOLE_GRAPH_KINDS) == whole])
    cli = [r for r in rows if r["claims"] == n and r["engine"] == "kg command"]
    line("whole `kg query NAME` command", "<= 1.5 s; `--list` <= 0.5 s",
         [f"`{r['query']}` {r['median_ms'] / 1000:.1f} s" for r in cli
          if r["median_ms"] > (500 if r["query"] == "--list" else 1500)])
    b, ld = _get(rows, claims=n, engine="build"), _get(rows, claims=n, engine="oxigraph load dataset")
    if b:
        line("cold build", "<= 60 s", [f"{b['load_s']:.0f} s"] if b["load_s"] > 60 else [])
    if ld:
        line("`kg load` into an Oxigraph server", "<= 30 s", [f"{ld['load_s']:.1f} s"] if ld["load_s"] > 30 else [])
    return out + [""]


def build_parts(rows: list[dict], sizes: list[int]) -> list[str]:
    """Where the cold build's time goes, per size (`kg build --timings`)."""
    parts = list(dict.fromkeys(r["query"] for r in rows if r["engine"] == "build part"))
    measured = [n for n in sizes if _get(rows, claims=n, engine="build part")]
    if not parts:
        return []
    out = ["## Where the cold build's time goes (seconds)", "",
           "`kg build --timings` of the cold build above. The steps run one after the other; within the "
           "release, the on-disk store (a thread), JSON-LD (a forked process) and the other files are written at "
           "the same time, so their seconds overlap, and a `waiting for` line is how long the build stood "
           "still for one of them.", "",
           "| step or part | " + " | ".join(f"{n:,} claims" for n in measured) + " |", "|" + "---|" * (1 + len(measured))]
    for part in parts:
        cells = [_get(rows, claims=n, engine="build part", query=part) for n in measured]
        out.append(f"| {part} | " + " | ".join(f"{r['load_s']:.1f}" if r else "-" for r in cells) + " |")
    return out + [""]


def report(rows: list[dict]) -> None:
    """docs/benchmark.md (tables) and docs/benchmark.png (time against size)."""
    sizes = sorted({r["claims"] for r in rows if r["claims"]})
    lines = ["<!-- generated by `python benchmarks/run.py` (`make bench`); numbers from benchmarks/results.csv -->",
             "# Benchmark", "", "Synthetic corpora with the real vocabulary (1,000 claims per document), "
             "measured by `benchmarks/run.py` on this machine (2 cores, shared with other test runs: medians of "
             "runs taken in turns). Each step runs in its own process; peak = ru_maxrss.",
             "", "Measured on: " + (", ".join(sorted({r["measured"] for r in rows if r["measured"]}))
                                    or "dates not recorded (rows written before the `measured` column)") + ".",
             "", "## Build and load (seconds)", "",
             "| claims | triples | build (cold) | rebuild (1 document edited) | "
             + " | ".join(h for _, h in LOADS) + " |",
             "|" + "---|" * (4 + len(LOADS))]
    for n in sizes:
        b, rb = _get(rows, claims=n, engine="build"), _get(rows, claims=n, engine="rebuild")
        cells = [str(n), str(next((r["triples"] for r in rows if r["claims"] == n and r["triples"]), "")),
                 f"{b['load_s']:.1f}" if b else "-", f"{rb['load_s']:.1f}" if rb else "-"]
        for eng, _ in LOADS:
            r = _get(rows, claims=n, engine=eng, query="(load)")
            cells.append(f"{r['load_s']:.2f}" if r and r["load_s"] != "" else "-")
        lines.append("| " + " | ".join(cells) + " |")
    lines += ["", "`kg load --endpoint URL` (kg/load.py): into `oxigraph serve`, `--protocol dataset` sends the whole "
              "release as one `PUT /store` of N-Quads (`auto`, the default, does so and falls back to the Graph "
              "Store Protocol when a store refuses it); `gsp` is one `PUT ?graph=` per graph, the old way "
              "(108 s at 10^5 before). Virtuoso takes no dataset in one request: `auto` falls back to the GSP "
              "at /sparql-graph-crud, one PUT of N-Triples per graph plus the default graph into a named graph "
              "(`--default-graph`). The embedded engine opens the build's on-disk store read-only. A `-` was not "
              "measured in this run. 5-minute load average on the 2 cores at the end of each size's runs: "
              + ", ".join(f"{r['claims']:,} claims {r['load_s']:.1f}" for r in rows if r["engine"] == "machine")
              + " (above 2, other work shared the machine and the times are inflated).", ""]
    lines += build_parts(rows, sizes)
    naive = [n for n in sizes if _get(rows, claims=n, engine="cold build naive")]
    if naive:
        lines += ["## Cold build against the naive pipeline", "",
                  "`kg build` into an empty folder against rdflib + one whole-graph pySHACL pass over the same "
                  "corpus (benchmarks/build_vs_naive.py says what the naive pipeline does), each run in its own "
                  "process under GNU time, in turns; medians. Target: ours at least 4x faster at 10^4 claims.", "",
                  "| claims | ours wall s | ours cpu-s | ours peak MB | naive wall s | naive cpu-s | naive peak MB "
                  "| naive / ours (wall) | naive / ours (cpu) |", "|" + "---|" * 9]
        for n in naive:
            o, v = _get(rows, claims=n, engine="cold build ours"), _get(rows, claims=n, engine="cold build naive")
            assert o and v
            lines.append(f"| {n} | {o['load_s']:.1f} | {o['cpu_s']:.1f} | {o['peak_mb']:.0f} | "
                         f"{v['load_s']:.1f} | {v['cpu_s']:.1f} | {v['peak_mb']:.0f} | "
                         f"{v['load_s'] / o['load_s']:.2f}x | {v['cpu_s'] / o['cpu_s']:.2f}x |")
        lines.append("")
    for n in sizes:
        engines = [e for e in ENGINES if any(r["claims"] == n and r["engine"] == e and not r["query"].startswith("(")
                                             for r in rows)]
        if not engines:
            continue
        lines += [f"## Query latency at {n:,} claims", "",
                  "ms: median / p95 of `kg.query.run`, and its ratio to the engine's own query of the same bound "
                  "text (the query layer's cost: binding, result conversion, the retracted-claim filter, one row "
                  "per figure; target <= 1.2x). `-`: not run (rdflib: its self-joins take minutes); `n/a`: the "
                  "engine cannot run the query as written (reasons in tests/test_virtuoso.py).", "",
                  "| query | " + " | ".join(f"{e} median / p95 ms | {e} ratio" for e in engines) + " |",
                  "|" + "---|" * (1 + 2 * len(engines))]
        queries = sorted({r["query"] for r in rows if r["claims"] == n and r["engine"] in engines
                          and not r["query"].startswith("(")})
        for q in queries:
            cells = [q]
            for e in engines:
                r = _get(rows, claims=n, engine=e, query=q)
                if r is None:
                    cells += ["-", "-"]
                elif r["median_ms"] == "":
                    cells += ["n/a", "-"]
                else:
                    cells += [f"{r['median_ms']:.1f} / {r['p95_ms']:.1f}",
                              f"{r['ratio']:.2f}" if r["ratio"] != "" else "-"]
            lines.append("| " + " | ".join(cells) + " |")
        lines.append("")
    cmds = sorted({r["query"] for r in rows if r["engine"] == "kg command"})
    if cmds:
        lines += ["## Whole `kg` commands (seconds, median / p95 of 5 runs at 10^3, 3 at 10^4 and 10^5; start-up included)", "",
                  "| claims | " + " | ".join(f"`kg query {c}`" for c in cmds) + " |", "|" + "---|" * (1 + len(cmds))]
        for n in sizes:
            cells = [str(n)]
            for c in cmds:
                r = _get(rows, claims=n, engine="kg command", query=c)
                cells.append(f"{r['median_ms'] / 1000:.2f} / {r['p95_ms'] / 1000:.2f}" if r else "-")
            lines.append("| " + " | ".join(cells) + " |")
        lines.append("")
    lines += targets(rows, max(sizes))
    prof = import_profile()
    lines += ["## Where `import kg.query` spends its time", "",
              "`python -X importtime -c \"import kg.query\"` (cumulative ms, the slowest modules two levels down; "
              "one run, so +-20%):", "", "| module | cumulative ms | self ms |", "|---|---|---|"]
    lines += [f"| `{m}` | {c:.0f} | {o:.0f} |" for m, c, o in prof]
    lines += ["", "`kg.rdf` imports only pyoxigraph: the rdflib namespaces, the `curies` converter (pydantic) and "
              "`kg.__version__` are built on first use, and the term index reads the template without rdflib, "
              "so `kg query --list` and a query with term parameters load neither (tests/test_cli_imports.py)."]
    (ROOT / "docs" / "benchmark.md").write_text("\n".join(lines) + "\n\n![time against size](benchmark.png)\n",
                                                encoding="utf-8")
    print("\n".join(lines))
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib not installed: no plot")
        return
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4.2))
    for eng, label in [("build", "build, cold"), ("rebuild", "rebuild after editing one document")] + LOADS:
        pts = [(n, r["load_s"]) for n in sizes for r in rows if r["claims"] == n and r["engine"] == eng
               and r["load_s"] != "" and (r["query"] == "(load)" or eng in ("build", "rebuild"))]
        if pts:
            ax1.plot(*zip(*pts, strict=True), "o-", label=label)
    ax1.set(xscale="log", yscale="log", xlabel="claims", ylabel="seconds", title="Build and load")
    ax1.legend(fontsize=7)
    for e in ENGINES:
        pts = []
        for n in sizes:
            med = [r["median_ms"] for r in rows if r["claims"] == n and r["engine"] == e
                   and not r["query"].startswith("(") and r["median_ms"] != ""]
            if med:
                pts.append((n, statistics.median(med), max(med)))
        if pts:
            xs, meds, maxs = zip(*pts, strict=True)
            ax2.plot(xs, meds, "o-", label=f"{e}: median over queries")
            ax2.plot(xs, maxs, "x--", label=f"{e}: slowest query")
    ax2.set(xscale="log", yscale="log", xlabel="claims", ylabel="ms (median of reps)",
            title="Query latency (kg.query.run)")
    ax2.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(ROOT / "docs" / "benchmark.png", dpi=110)


if __name__ == "__main__":
    main()
