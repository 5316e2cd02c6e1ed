"""Bounded load test of `kg serve` on loopback: N concurrent clients for T seconds.

A benchmark, not a timed test: it prints throughput, p50/p99 latency per kind of request
and the error count, and exits non-zero only if a request failed.

    python benchmarks/load_test.py                        # starts kg serve on build/release
    python benchmarks/load_test.py --url http://127.0.0.1:8000 --clients 20 --seconds 30

The mix: index and search pages, term, claim and study pages, Turtle by content negotiation,
the flagship named query as a table and as JSON, and /sparql (a SELECT by GET, a POSTed
application/sparql-query, a CONSTRUCT as Turtle). When it starts the server itself it also
reports the server's memory (resident set of the server and its query workers, by psutil)
before and after the run.
"""
from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import time
from collections import defaultdict
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

SAMPLE = """PREFIX bcmkg: <https://w3id.org/bcmkg/vocab/>
SELECT ?c ?s WHERE { ?c a bcmkg:OutcomeClaim ; bcmkg:aboutStudy ?s } LIMIT 200"""
CONSTRUCT = "CONSTRUCT { ?t ?p ?o } WHERE { VALUES ?t { <https://w3id.org/bcmkg/vocab/MicrowaveAblation> } ?t ?p ?o }"
COUNT = "SELECT (COUNT(*) AS ?n) WHERE { ?c a <https://w3id.org/bcmkg/vocab/OutcomeClaim> }"
TERMS = ["MicrowaveAblation", "LiverMetastasis", "HepaticResection", "RadiofrequencyAblation",
         "OverallSurvival", "StereotacticBodyRadiotherapy", "LungMetastasis", "ThermalAblation"]


def local(iri: str) -> str:
    return "/" + iri.split("https://w3id.org/bcmkg/", 1)[1]


async def requests_mix(client: httpx.AsyncClient) -> list[tuple[str, str, dict]]:
    r = await client.get("/sparql", params={"query": SAMPLE}, headers={"Accept": "application/json"})
    r.raise_for_status()
    rows = r.json()["results"]["bindings"]
    claims = [local(b["c"]["value"]) for b in rows]
    studies = sorted({local(b["s"]["value"]) for b in rows})
    html = {"Accept": "text/html"}
    mix = [("index", "/", html), ("search", "/search?q=MWA", html), ("search", "/search?q=liver", html),
           ("flagship-table", "/queries/flagship?run=1", html),
           ("flagship-json", "/queries/flagship?format=json", {}),
           ("sparql", "/sparql?" + httpx.QueryParams({"query": COUNT}).__str__(), {"Accept": "application/json"}),
           ("sparql-post", "/sparql", {"Accept": "application/sparql-results+json",
                                       "Content-Type": "application/sparql-query", "_body": SAMPLE}),
           ("sparql-construct", "/sparql?" + str(httpx.QueryParams({"query": CONSTRUCT})), {"Accept": "text/turtle"})]
    mix += [("term", f"/vocab/{t}", html) for t in TERMS]
    mix += [("turtle", f"/vocab/{t}", {"Accept": "text/turtle"}) for t in TERMS[:3]]
    mix += [("claim", c, html) for c in random.sample(claims, min(6, len(claims)))]
    mix += [("study", s, html) for s in random.sample(studies, min(4, len(studies)))]
    return mix


async def fetch(client: httpx.AsyncClient, path: str, headers: dict) -> httpx.Response:
    if "_body" in headers:
        h = {k: v for k, v in headers.items() if k != "_body"}
        return await client.post(path, content=headers["_body"], headers=h)
    return await client.get(path, headers=headers)


async def client_loop(client: httpx.AsyncClient, mix: list, stop: float, lat: dict, errors: list) -> None:
    while time.perf_counter() < stop:
        kind, path, headers = random.choice(mix)
        t0 = time.perf_counter()
        try:
            r = await fetch(client, path, headers)
            ok = r.status_code == 200
        except httpx.HTTPError as err:
            ok, r = False, err
        lat[kind].append(time.perf_counter() - t0)
        if not ok:
            errors.append((kind, path, getattr(r, "status_code", repr(r))))


async def run(url: str, clients: int, seconds: float) -> dict:
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(base_url=url, timeout=60, limits=limits) as client:
        mix = await requests_mix(client)
        for _, path, headers in mix:          # warm up: every page once
            (await fetch(client, path, headers)).raise_for_status()
        lat: dict[str, list[float]] = defaultdict(list)
        errors: list = []
        start = time.perf_counter()
        await asyncio.gather(*(client_loop(client, mix, start + seconds, lat, errors) for _ in range(clients)))
        wall = time.perf_counter() - start
    every = sorted(x for v in lat.values() for x in v)
    pct = lambda xs, p: xs[min(len(xs) - 1, int(p * len(xs)))] * 1000  # noqa: E731
    print(f"{clients} clients, {wall:.1f} s, {len(every)} requests: {len(every) / wall:.1f} req/s, "
          f"p50 {pct(every, .5):.1f} ms, p99 {pct(every, .99):.1f} ms, errors {len(errors)}")
    print(f"{'kind':<18}{'n':>7}{'p50 ms':>10}{'p99 ms':>10}{'mean ms':>10}")
    kinds = {}
    for kind in sorted(lat):
        xs = sorted(lat[kind])
        kinds[kind] = {"n": len(xs), "p50": pct(xs, .5), "p99": pct(xs, .99)}
        print(f"{kind:<18}{len(xs):>7}{pct(xs, .5):>10.1f}{pct(xs, .99):>10.1f}{statistics.mean(xs) * 1000:>10.1f}")
    for e in errors[:10]:
        print("error:", *e)
    return {"requests": len(every), "errors": len(errors), "kinds": kinds, "rps": len(every) / wall}


def rss(pid: int) -> int:
    """Resident memory of the server process and its children (the query workers), in bytes."""
    import psutil
    proc = psutil.Process(pid)
    total = proc.memory_info().rss
    for child in proc.children(recursive=True):
        try:
            total += child.memory_info().rss
        except psutil.NoSuchProcess:
            pass
    return total


def measure(release: Path, clients: int = 20, seconds: float = 30, workers: int = 2) -> dict:
    """Start kg serve on `release`, run the load, report latency, errors and memory before/after."""
    from _serving import Server
    srv = Server(release, "--workers", str(workers))
    try:
        time.sleep(1.0)
        before = rss(srv.proc.pid)
        report = asyncio.run(run(srv.url, clients, seconds))
        report["rss_before"], report["rss_after"] = before, rss(srv.proc.pid)
    finally:
        srv.stop()
    print(f"server memory (with its workers): {report['rss_before'] / 2**20:.0f} MB at start, "
          f"{report['rss_after'] / 2**20:.0f} MB after ({report['rss_after'] / report['rss_before']:.2f}x)")
    return report


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--url", help="a running server; default: start kg serve on --release")
    ap.add_argument("--release", type=Path, default=ROOT / "build" / "release")
    ap.add_argument("--clients", type=int, default=20)
    ap.add_argument("--seconds", type=float, default=30)
    ap.add_argument("--workers", type=int, default=2, help="query workers of the started server")
    a = ap.parse_args()
    if a.url:
        return 1 if asyncio.run(run(a.url, a.clients, a.seconds))["errors"] else 0
    report = measure(a.release, a.clients, a.seconds, a.workers)
    return 1 if report["errors"] or report["rss_after"] > 2 * report["rss_before"] else 0


if __name__ == "__main__":
    sys.exit(main())
