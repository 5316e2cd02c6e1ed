"""Contract test: every named query gives the same answer on a real remote SPARQL server as
on the embedded engine. The server is a real `oxigraph serve` on a free loopback port; the
release goes in through `kg load --endpoint` (SPARQL 1.1 Graph Store Protocol)."""
from __future__ import annotations

import json
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from kg.query import get_query, load_queries, run
from kg.store import EmbeddedStore, RemoteStore

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parent.parent


def _oxigraph() -> str:
    exe = Path(sys.executable).parent / "oxigraph"
    found = str(exe) if exe.exists() else shutil.which("oxigraph")
    if not found:
        pytest.skip("the oxigraph server binary is not installed (pip install oxigraph)")
    return found


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _serve(*args: str):
    """`oxigraph ARGS --bind` on a free loopback port, once it answers; yields its base URL."""
    port = _free_port()
    proc = subprocess.Popen([_oxigraph(), *args, "--bind", f"127.0.0.1:{port}"], stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            urllib.request.urlopen(base + "/query?query=ASK%7B%7D", timeout=1).read()
            break
        except Exception:
            if proc.poll() is not None:
                pytest.fail(f"oxigraph {args[0]} exited: {proc.stderr.read().decode()[:500]}")
            time.sleep(0.1)
    yield base
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """A fresh Oxigraph server whose default graph is the union of the named graphs."""
    yield from _serve("serve", "--location", str(tmp_path_factory.mktemp("oxigraph")), "--union-default-graph")


@pytest.fixture(scope="module")
def release_server(release):
    """`oxigraph serve-read-only` straight on the release's on-disk store: no load at all."""
    yield from _serve("serve-read-only", "--location", str(release / "store"))


@pytest.fixture(scope="module")
def loaded(server, release):
    out = subprocess.run([sys.executable, "-m", "kg.cli", "load", "--endpoint", server + "/store",
                          "--release", str(release)], capture_output=True, text=True, cwd=ROOT)
    assert out.returncode == 0, out.stderr
    # five documents, the ontology, the derived graph (evidence levels, same-figure links) and the counts
    assert re.search(r"loaded 8 named graphs", out.stdout), out.stdout
    return RemoteStore(server + "/query")


@pytest.fixture(scope="module")
def embedded(disk_store):
    return disk_store


from test_queries import canonical as _canonical  # noqa: E402  (one definition of "the same answer")


@pytest.mark.parametrize("name", sorted(load_queries()))
def test_same_answer_remote_and_embedded(name, loaded, embedded):
    params = get_query(name).example_params()
    local = run(name, params, embedded)
    remote = run(name, params, loaded)
    assert remote.variables == local.variables
    assert local.rows, f"{name}: empty example answer proves nothing"
    assert _canonical(remote) == _canonical(local)


@pytest.mark.parametrize("name", sorted(load_queries()))
def test_substitution_binding_gives_the_same_answer(name, embedded):
    """pyoxigraph's SEP-0007 substitutions= and the VALUES block agree on every query."""
    params = get_query(name).example_params()
    subs = EmbeddedStore(embedded.store, binding="substitutions")
    assert _canonical(run(name, params, subs)) == _canonical(run(name, params, embedded))


def test_flagship_modes_and_injection_remote(loaded, embedded):
    for mode in ["restricted", "majority", "favourable_predictor", "any"]:
        a = run("flagship", {"mode": mode}, embedded)
        b = run("flagship", {"mode": mode}, loaded)
        assert _canonical(a) == _canonical(b)
    hostile = 'liver" } ; DROP ALL ; #'
    assert run("table_claims", {"table": hostile}, loaded).rows == []
    assert run("find_term", {"text": hostile}, loaded).rows == []
    assert len(run("documents", {}, loaded).rows) == 5      # nothing was dropped


def test_cli_endpoint_option(loaded, server):
    out = subprocess.run([sys.executable, "-m", "kg.cli", "query", "flagship", "--endpoint", server + "/query",
                          "--param", "mode=favourable_predictor", "--format", "csv"],
                         capture_output=True, text=True, cwd=ROOT)
    assert out.returncode == 0, out.stderr
    assert "LIBREAST" in out.stdout


def test_load_is_idempotent_and_update_protocol_works(server, release, loaded):
    count = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"
    before = loaded.select(count).rows[0]["n"]
    out = subprocess.run([sys.executable, "-m", "kg.cli", "load", "--endpoint", server + "/update",
                          "--protocol", "update", "--release", str(release)], capture_output=True, text=True, cwd=ROOT)
    assert out.returncode == 0, out.stderr
    assert loaded.select(count).rows[0]["n"] == before


# Queries a user runs one at a time against a large graph: their OPTIONALs must be looked up
# row by row (ForLoopLeftJoin), never hash-joined over a whole property (LeftJoin(HashBuild...)),
# which costs hundreds of milliseconds at 10^5 claims (docs/cookbook.md, docs/benchmark.md).
ROW_BY_ROW = ["claim_provenance", "number_source", "study_claims", "table_claims", "document_claims",
              "trial_by_registry_id", "registered_trials", "find_term", "term_children", "term_parents",
              "term_synonyms", "term_mappings", "median_threshold", "proportion_threshold",
              "selection_criteria", "prognostic_factors", "hazard_ratios", "evidence_matrix", "median_ranges"]


@pytest.fixture(scope="module")
def plan_store(release, tmp_path_factory) -> Path:
    location = tmp_path_factory.mktemp("oxigraph-plans")
    out = subprocess.run([_oxigraph(), "load", "--location", str(location), "--file", str(release / "graph.nq")],
                         capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    return location


@pytest.mark.parametrize("name", ROW_BY_ROW)
def test_lookups_are_planned_row_by_row(name, plan_store, tmp_path):
    from kg.query import bind
    from kg.store import with_values
    q = get_query(name)
    query_file = tmp_path / f"{name}.rq"
    query_file.write_text(with_values(q.text, bind(q, q.example_params())), encoding="utf-8")
    plan = tmp_path / f"{name}.json"
    out = subprocess.run([_oxigraph(), "query", "--location", str(plan_store), "--query-file", str(query_file),
                          "--union-default-graph", "--explain-file", str(plan), "--results-format", "csv"],
                         capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    # a hash join inside the per-row side of a for-loop (the standard row's groups) sees one claim
    assert not _whole_graph_hash_left_joins(json.loads(plan.read_text())["plan"]), \
        f"{name}: an OPTIONAL is hash-joined over the whole graph"


def _whole_graph_hash_left_joins(node: dict, per_row: bool = False) -> list[str]:
    """Hash-built OPTIONALs of an Oxigraph plan that are not inside the right (per-row) side of a
    ForLoopLeftJoin or Lateral."""
    found = [node["name"]] if node["name"].startswith("LeftJoin(HashBuild") and not per_row else []
    kids = node.get("children", [])
    loop = node["name"].startswith(("ForLoopLeftJoin", "Lateral"))
    for i, kid in enumerate(kids):
        found += _whole_graph_hash_left_joins(kid, per_row or (loop and i == 1))
    return found


def test_every_query_form_gives_the_same_types_remote_and_embedded(loaded, embedded):
    import pyoxigraph as ox
    doc = "<https://w3id.org/bcmkg/id/document/greco2026>"
    select = f"SELECT ?p ?o WHERE {{ {doc} ?p ?o }}"
    assert _canonical(loaded.select(select)) == _canonical(embedded.select(select))
    assert loaded.ask(f"ASK {{ {doc} ?p ?o }}") is embedded.ask(f"ASK {{ {doc} ?p ?o }}") is True
    assert loaded.ask("ASK { <http://example.org/none> ?p ?o }") is False
    construct = f"CONSTRUCT {{ {doc} ?p ?o }} WHERE {{ {doc} ?p ?o }}"
    remote_triples = loaded.construct(construct)
    assert remote_triples and all(isinstance(t, ox.Triple) for t in remote_triples)
    assert set(remote_triples) == set(embedded.construct(construct))
    assert set(loaded.construct(f"DESCRIBE {doc}")) == set(embedded.construct(f"DESCRIBE {doc}"))
    raw = loaded.raw(construct)
    assert isinstance(raw, ox.QueryTriples) and set(raw) == set(remote_triples)
    assert isinstance(loaded.raw(select), ox.QuerySolutions)
    assert isinstance(loaded.raw(f"ASK {{ {doc} ?p ?o }}"), ox.QueryBoolean)
    bound = loaded.select("SELECT ?o WHERE { ?d <https://w3id.org/bcmkg/vocab/corpusFile> ?o }",
                          {"d": ox.NamedNode("https://w3id.org/bcmkg/id/document/greco2026")})
    assert bound.rows == [{"o": ox.Literal("000_922cf6fdf7f0a20b.txt")}]


@pytest.mark.parametrize("name", sorted(__import__("test_queries").EXPECTED) + ["standard_row_patterns"])
def test_expected_answer_remote(name, loaded):
    """Every query's expected answer (tests/test_queries.py), read from the documents, on the real server too."""
    import test_queries
    check = test_queries.PATTERNS.get(name) or test_queries.EXPECTED[name]
    if name == "claim_provenance":
        from conftest import CORPUS
        if not CORPUS.is_dir():
            pytest.skip("the corpus is not beside the project")
        check(loaded, CORPUS)
    else:
        check(loaded)


@pytest.mark.parametrize("name", ["flagship", "hazard_ratios", "claims_per_document", "disagreements"])
def test_oxigraph_serves_the_release_store_as_it_is(name, release_server, release, embedded):
    """Users who outgrow one process can serve build/release/store with the Oxigraph server itself."""
    import json
    remote = RemoteStore(release_server + "/query")
    count = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"
    assert int(remote.select(count).rows[0]["n"].value) == json.loads((release / "manifest.json").read_text())["triples"]
    params = get_query(name).example_params()
    there, here = run(name, params, remote), run(name, params, embedded)
    assert here.rows and _canonical(there) == _canonical(here)


def test_an_answer_with_a_header_per_dataset_graph_is_read():
    """Virtuoso echoes each named-graph-uri as a response header; 150 graphs are 150 headers."""
    import http.server
    import threading

    class Echo(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers["Content-Length"]))
            body = json.dumps({"head": {"vars": ["n"]}, "results": {"bindings": [
                {"n": {"type": "literal", "value": "150"}}]}}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/sparql-results+json")
            for i in range(150):
                self.send_header("X-SPARQL-named-graph", f"https://w3id.org/bcmkg/graph/g{i}")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    httpd = http.server.HTTPServer(("127.0.0.1", 0), Echo)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        store = RemoteStore(f"http://127.0.0.1:{httpd.server_port}/sparql?named-graph-uri=x")
        assert [r["n"].value for r in store.select("SELECT ?n WHERE {}").rows] == ["150"]
    finally:
        httpd.shutdown()



def test_a_big_graph_goes_in_pieces_and_keeps_its_blank_nodes(release, embedded, tmp_path, monkeypatch):
    """The Graph Store path sends a big graph as a PUT and then POSTs of PIECE_LINES triples (as
    for Virtuoso at 10^5 claims); every triple arrives once, and the ontology's restrictions (blank
    nodes) stay whole because their triples travel together in the first request."""
    from kg import load
    monkeypatch.setattr(load, "PIECE_LINES", 2_000)
    sent: list[tuple[str, int]] = []
    send = load._http

    def counted(url, method, body, *args, **kwargs):
        sent.append((method, body.count(b"\n")))
        return send(url, method, body, *args, **kwargs)

    monkeypatch.setattr(load, "_http", counted)
    graph = "https://example.org/the-default-graph"
    patterns = {"triples": "?s ?p ?o",
                "restriction links": "?c <http://www.w3.org/2002/07/owl#onProperty> ?p . ?x ?y ?c FILTER(isBlank(?c))"}
    for base in _serve("serve", "--location", str(tmp_path / "oxigraph")):
        load.load_endpoint(release, base + "/store", protocol="gsp", default_graph=graph, log=lambda *_: None)
        remote = RemoteStore(base + "/query")
        for what, pattern in patterns.items():
            there = remote.select(f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{graph}> {{ {pattern} }} }}").rows[0]["n"]
            here = embedded.select(f"SELECT (COUNT(*) AS ?n) WHERE {{ {pattern} }}").rows[0]["n"]
            assert int(there.value) == int(here.value) > 0, what
        load.load_endpoint(release, base + "/store", protocol="gsp", log=lambda *_: None)   # into ?default
        for what, pattern in patterns.items():
            there = remote.select(f"SELECT (COUNT(*) AS ?n) WHERE {{ {pattern} }}").rows[0]["n"]
            here = embedded.select(f"SELECT (COUNT(*) AS ?n) WHERE {{ {pattern} }}").rows[0]["n"]
            assert int(there.value) == int(here.value), f"{what} in the default graph"
    posts = [n for method, n in sent if method == "POST"]
    assert posts and max(posts) <= 2_000, sent
