"""Bounded load test of `kg serve` on loopback: N concurrent clients for T seconds.

A benchmark, not a timed test: it prints throughput, p50/p99 latency per kind of request
and the error count, and exits non-zero only if a request failed.

    python benchmarks/load_test.py                        # starts kg serve on build/release
    python benchmarks/load_test.py --url http://127.0.0.1:8000 --clients 20 --seconds 30

The mix: index and search pages, term, claim and study pages, Turtle by content negotiation,
the flagship named query as a table and as JSON, and a small SPARQL SELECT.
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
           ("sparql", "/sparql?" + httpx.QueryParams({"query": COUNT}).__str__(), {"Accept": "application/json"})]
    mix += [("term", f"/vocab/{t}", html) for t in TERMS]
    mix += [("turtle", f"/vocab/{t}", {"Accept": "text/turtle"}) for t in TERMS[:3]]
    mix += [("claim", c, html) for c in random.sample(claims, min(6, len(claims)))]
    mix += [("study", s, html) for s in random.sample(studies, min(4, len(studies)))]
    return mix


async def client_loop(client: httpx.AsyncClient, mix: list, stop: float, lat: dict, errors: list) -> None:
    while time.perf_counter() < stop:
        kind, path, headers = random.choice(mix)
        t0 = time.perf_counter()
        try:
            r = await client.get(path, headers=headers)
            ok = r.status_code == 200
        except httpx.HTTPError as err:
            ok, r = False, err
        lat[kind].append(time.perf_counter() - t0)
        if not ok:
            errors.append((kind, path, getattr(r, "status_code", repr(r))))


async def run(url: str, clients: int, seconds: float) -> int:
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(base_url=url, timeout=60, limits=limits) as client:
        mix = await requests_mix(client)
        for _, path, headers in mix:          # warm up: every page once
            (await client.get(path, headers=headers)).raise_for_status()
        lat: dict[str, list[float]] = defaultdict(list)
        errors: list = []
        start = time.perf_counter()
        await asyncio.gather(*(client_loop(client, mix, start + seconds, lat, errors) for _ in range(clients)))
        wall = time.perf_counter() - start
    every = sorted(x for v in lat.values() for x in v)
    pct = lambda xs, p: xs[min(len(xs) - 1, int(p * len(xs)))] * 1000  # noqa: E731
    print(f"{clients} clients, {wall:.1f} s, {len(every)} requests: {len(every) / wall:.1f} req/s, "
          f"p50 {pct(every, .5):.1f} ms, p99 {pct(every, .99):.1f} ms, errors {len(errors)}")
    print(f"{'kind':<16}{'n':>7}{'p50 ms':>10}{'p99 ms':>10}{'mean ms':>10}")
    for kind in sorted(lat):
        xs = sorted(lat[kind])
        print(f"{kind:<16}{len(xs):>7}{pct(xs, .5):>10.1f}{pct(xs, .99):>10.1f}{statistics.mean(xs) * 1000:>10.1f}")
    for e in errors[:10]:
        print("error:", *e)
    return 1 if errors else 0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--url", help="a running server; default: start kg serve on --release")
    ap.add_argument("--release", type=Path, default=ROOT / "build" / "release")
    ap.add_argument("--clients", type=int, default=20)
    ap.add_argument("--seconds", type=float, default=30)
    ap.add_argument("--workers", type=int, default=2, help="query workers of the started server")
    a = ap.parse_args()
    if a.url:
        return asyncio.run(run(a.url, a.clients, a.seconds))
    from _serving import Server
    srv = Server(a.release, "--workers", str(a.workers))
    try:
        return asyncio.run(run(srv.url, a.clients, a.seconds))
    finally:
        srv.stop()


if __name__ == "__main__":
    sys.exit(main())
