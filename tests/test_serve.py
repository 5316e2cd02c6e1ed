"""HTTP tests against a real `kg serve` process on loopback, serving a release built by `kg build`."""
from __future__ import annotations

import csv
import io
import json
import re
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import httpx
import pyoxigraph as ox
import pytest
import rdflib
from _serving import Server, built_release
from rdflib import RDFS, URIRef

pytestmark = pytest.mark.integration

V = "https://w3id.org/bcmkg/vocab/"
MWA = URIRef(V + "MicrowaveAblation")
CORS_ORIGIN = "https://app.example.org"


@pytest.fixture(scope="module")
def served_release() -> Path:
    """A `kg build` of the project (plus one deprecated term when the template has none)."""
    return built_release()[0]


@pytest.fixture(scope="module")
def server(served_release: Path):
    srv = Server(served_release, "--query-timeout", "2", "--max-results", "500", "--workers", "2",
                 "--cors", CORS_ORIGIN)
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def client(server: Server):
    with httpx.Client(base_url=server.url, timeout=30, follow_redirects=False) as c:
        yield c


@pytest.fixture(scope="module")
def sample(served_release: Path) -> dict[str, str]:
    """One minted IRI of each kind, read from the release itself."""
    store = ox.Store()
    store.bulk_load(path=str(served_release / "graph.trig"), format=ox.RdfFormat.TRIG)
    out = {}
    for kind, cls in [("claim", "OutcomeClaim"), ("study", "Study"), ("document", "SourceDocument"),
                      ("case", "PatientCase")]:
        rows = list(store.query(f"SELECT ?x WHERE {{ ?x a <{V}{cls}> }} ORDER BY ?x LIMIT 1",
                                use_default_graph_as_union=True))
        if rows:
            out[kind] = rows[0]["x"].value
    manifest = json.loads((served_release / "manifest.json").read_text())
    out["date"] = str(manifest.get("date") or manifest.get("version"))
    return out


def path(iri: str) -> str:
    return "/" + iri.split("https://w3id.org/bcmkg/", 1)[1]


def parse(body: bytes, fmt: str) -> rdflib.Graph:
    g = rdflib.Graph()
    g.parse(data=body, format=fmt)
    return g


# --- dereferencing and content negotiation --------------------------------------------

@pytest.mark.parametrize("accept,media,fmt", [
    ("text/turtle", "text/turtle", "turtle"),
    ("application/ld+json", "application/ld+json", "json-ld"),
    ("application/n-triples", "application/n-triples", "nt"),
    ("application/rdf+xml", "application/rdf+xml", "xml"),
])
def test_term_conneg(client, accept, media, fmt):
    r = client.get("/vocab/MicrowaveAblation", headers={"Accept": accept})
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith(media)
    assert "Accept" in r.headers["vary"]
    g = parse(r.content, fmt)
    assert (MWA, RDFS.label, rdflib.Literal("microwave ablation")) in g or \
        any(str(o) == "microwave ablation" for o in g.objects(MWA, RDFS.label))


def test_jsonld_uses_release_context(client, served_release):
    r = client.get("/vocab/MicrowaveAblation", headers={"Accept": "application/ld+json"})
    doc = r.json()
    published = json.loads((served_release / "context.jsonld").read_text())
    assert doc["@context"] == published.get("@context", published)


def test_html_term_page(client):
    r = client.get("/vocab/MicrowaveAblation", headers={"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    assert "microwave ablation" in r.text and "MWA" in r.text
    assert "Vogl 2023" in r.text          # a claim that uses the term, with its study
    assert "<svg" in r.text               # the survival chart


@pytest.mark.parametrize("fmt,media", [("ttl", "text/turtle"), ("jsonld", "application/ld+json"),
                                       ("nt", "application/n-triples"), ("html", "text/html")])
def test_format_override_and_extension(client, fmt, media):
    r = client.get(f"/vocab/MicrowaveAblation?format={fmt}", headers={"Accept": "text/html"})
    assert r.headers["content-type"].startswith(media)
    r = client.get(f"/vocab/MicrowaveAblation.{fmt}", headers={"Accept": "text/html"})
    assert r.status_code == 200 and r.headers["content-type"].startswith(media)


def test_unacceptable_format_is_406(client):
    r = client.get("/vocab/MicrowaveAblation", headers={"Accept": "image/png"})
    assert r.status_code == 406 and "text/turtle" in r.text


def test_every_kind_of_minted_iri_resolves(client, sample):
    for kind in ("claim", "study", "document", "case"):
        if kind not in sample:
            continue
        iri = sample[kind]
        g = parse(client.get(path(iri), headers={"Accept": "text/turtle"}).content, "turtle")
        assert len(list(g.predicate_objects(URIRef(iri)))) > 0, kind
        page = client.get(path(iri), headers={"Accept": "text/html"})
        assert page.status_code == 200, (kind, iri)


def test_claim_page_shows_provenance(client, sample):
    r = client.get(path(sample["claim"]), headers={"Accept": "text/html"})
    assert "Where this comes from" in r.text and "Locator" in r.text
    assert "characters " in r.text         # span offsets of the TextPositionSelector
    assert "/id/document/" in r.text       # link to the document page


def test_ontology_and_versioned_ontology(client, sample):
    for p in ("/ontology", f"/releases/{sample['date']}/ontology"):
        r = client.get(p, headers={"Accept": "text/turtle"})
        assert r.status_code == 200, p
        g = parse(r.content, "turtle")
        onto = URIRef("https://w3id.org/bcmkg/ontology")
        assert (onto, rdflib.RDF.type, rdflib.OWL.Ontology) in g
        assert str(g.value(onto, rdflib.OWL.versionIRI)).endswith(f"/releases/{sample['date']}/ontology")
    r = client.get("/releases/1999-01-01/ontology", headers={"Accept": "text/turtle"})
    assert r.status_code == 404 and sample["date"] in r.text


def test_unknown_iri_404_with_suggestions(client):
    r = client.get("/vocab/MicrowaveAblaton", headers={"Accept": "text/html"})
    assert r.status_code == 404
    assert "Did you mean" in r.text and "/vocab/MicrowaveAblation" in r.text
    r = client.get("/vocab/MicrowaveAblaton", headers={"Accept": "text/turtle"})
    assert r.status_code == 404 and "MicrowaveAblation" in r.text


def test_200_on_path_303_from_full_iri(client):
    """Paths answer 200 (w3id.org did the 303); /resolve answers 303 for a full IRI."""
    r = client.get("/vocab/MicrowaveAblation", headers={"Accept": "text/turtle"})
    assert r.status_code == 200
    assert r.headers["content-location"] == "/vocab/MicrowaveAblation.ttl"
    r = client.get("/resolve", params={"iri": str(MWA)})
    assert r.status_code == 303 and r.headers["location"] == "/vocab/MicrowaveAblation"
    assert client.get("/resolve", params={"iri": "https://example.org/x"}).status_code == 404


def test_deprecated_term_page_links_replacement(client):
    _, term, replacement = built_release()
    r = client.get(f"/vocab/{term}", headers={"Accept": "text/html"})
    assert r.status_code == 200
    assert "Deprecated" in r.text
    assert f'href="/vocab/{replacement}"' in r.text
    g = parse(client.get(f"/vocab/{term}.ttl").content, "turtle")
    assert (URIRef(V + term), rdflib.OWL.deprecated, rdflib.Literal(True)) in g


def test_search_by_abbreviation(client):
    r = client.get("/search", params={"q": "MWA"})
    first = r.text.split('<ul class="hits">', 1)[1].split("</li>", 1)[0]
    assert "/vocab/MicrowaveAblation" in first


# --- the SPARQL endpoint ---------------------------------------------------------------

COUNT = "SELECT (COUNT(*) AS ?n) WHERE { ?s a <https://w3id.org/bcmkg/vocab/OutcomeClaim> }"


@pytest.mark.parametrize("accept,check", [
    ("application/sparql-results+json", lambda r: int(r.json()["results"]["bindings"][0]["n"]["value"]) > 0),
    ("application/sparql-results+xml", lambda r: "<sparql" in r.text and "<literal" in r.text),
    ("text/csv", lambda r: int(list(csv.reader(io.StringIO(r.text)))[1][0]) > 0),
    ("text/tab-separated-values", lambda r: r.text.startswith("?n\n")),
])
def test_select_results_by_accept(client, accept, check):
    r = client.get("/sparql", params={"query": COUNT}, headers={"Accept": accept})
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith(accept)
    assert check(r)


def test_post_forms_and_ask(client):
    r = client.post("/sparql", data={"query": COUNT}, headers={"Accept": "application/sparql-results+json"})
    assert r.status_code == 200 and r.json()["results"]["bindings"]
    r = client.post("/sparql", content=f"ASK {{ <{MWA}> ?p ?o }}",
                    headers={"Content-Type": "application/sparql-query", "Accept": "application/json"})
    assert r.status_code == 200 and r.json()["boolean"] is True


@pytest.mark.parametrize("accept,fmt", [("text/turtle", "turtle"), ("application/ld+json", "json-ld"),
                                        ("application/n-triples", "nt")])
def test_construct_and_describe(client, accept, fmt):
    for q in (f"CONSTRUCT {{ <{MWA}> ?p ?o }} WHERE {{ <{MWA}> ?p ?o }}", f"DESCRIBE <{MWA}>"):
        r = client.get("/sparql", params={"query": q}, headers={"Accept": accept})
        assert r.status_code == 200, r.text
        assert len(parse(r.content, fmt)) > 0


@pytest.mark.parametrize("send", [
    lambda c: c.post("/sparql", data={"update": "INSERT DATA { <urn:a> <urn:b> <urn:c> }"}),
    lambda c: c.post("/sparql", content="DELETE WHERE { ?s ?p ?o }",
                     headers={"Content-Type": "application/sparql-update"}),
    lambda c: c.get("/sparql", params={"query": "DROP ALL"}),
    lambda c: c.get("/sparql", params={"query": "PREFIX x: <urn:x#>\nINSERT DATA { x:a x:b x:c }"}),
    lambda c: c.post("/sparql", content="CLEAR DEFAULT", headers={"Content-Type": "application/sparql-query"}),
])
def test_updates_refused(client, send):
    r = send(client)
    assert r.status_code == 403 and "read-only" in r.text


def test_update_words_in_strings_and_comments_are_fine(client):
    """The check parses: INSERT in a comment or a literal is not an update (and SERVICE likewise)."""
    q = '# INSERT DATA { } ; SERVICE <http://evil.example/>\nSELECT ("DROP ALL; SERVICE" AS ?x) WHERE {}'
    r = client.get("/sparql", params={"query": q}, headers={"Accept": "application/json"})
    assert r.status_code == 200, r.text


def test_malformed_query_400_with_parser_message(client):
    r = client.get("/sparql", params={"query": "SELECT * WHERE { ?s ?p }"})
    assert r.status_code == 400
    assert "malformed query" in r.text and "line:1" in r.text


def test_timeout_answers_and_server_recovers(client):
    slow = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l }"
    r = client.get("/sparql", params={"query": slow}, headers={"Accept": "application/json"})
    assert r.status_code == 503 and "time limit of 2 s" in r.text
    # the worker was killed and replaced: the endpoint still answers, twice in parallel
    for _ in range(2):
        r = client.get("/sparql", params={"query": COUNT}, headers={"Accept": "application/json"})
        assert r.status_code == 200, r.text


def test_result_size_limit(client):
    r = client.get("/sparql", params={"query": "SELECT * WHERE { ?s ?p ?o }"}, headers={"Accept": "text/csv"})
    assert r.status_code == 422 and "more than 500 rows" in r.text
    r = client.get("/sparql", params={"query": "CONSTRUCT WHERE { ?s ?p ?o }"}, headers={"Accept": "text/turtle"})
    assert r.status_code == 422 and "more than 500 triples" in r.text
    r = client.get("/sparql", params={"query": "SELECT * WHERE { ?s ?p ?o } LIMIT 500"},
                   headers={"Accept": "application/json"})
    assert r.status_code == 200 and len(r.json()["results"]["bindings"]) == 500


class _Recorder(BaseHTTPRequestHandler):
    hits: list[str] = []

    def do_GET(self):  # noqa: N802
        _Recorder.hits.append(self.path)
        self.send_response(500)
        self.end_headers()

    do_POST = do_GET

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def recorder():
    httpd = HTTPServer(("127.0.0.1", 0), _Recorder)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/sparql"
    httpd.shutdown()


@pytest.mark.parametrize("template", [
    "SELECT * WHERE {{ SERVICE <{url}> {{ ?s ?p ?o }} }}",
    "SELECT * WHERE {{ SERVICE SILENT <{url}> {{ ?s ?p ?o }} }}",
    "SELECT * WHERE {{ ?s ?p ?o FILTER EXISTS {{ SERVICE <{url}> {{ ?s ?p ?o }} }} }} LIMIT 1",
    "SELECT * WHERE {{ {{ SELECT ?s WHERE {{ SERVICE <{url}> {{ ?s ?p ?o }} }} }} }}",
    "SELECT * WHERE {{ BIND(<{url}> AS ?e) SERVICE ?e {{ ?s ?p ?o }} }}",
    "ASK {{ SERVICE <https://dbpedia.org/sparql> {{ ?s ?p ?o }} }}",
])
def test_service_refused(client, recorder, template):
    _Recorder.hits.clear()
    r = client.get("/sparql", params={"query": template.format(url=recorder)})
    assert r.status_code == 403 and "SERVICE" in r.text
    assert _Recorder.hits == []


def test_worker_engine_cannot_reach_the_network(recorder, server, client):
    """Belt and braces: a query worker has no network, so even the engine cannot follow SERVICE."""
    assert client.get("/health").json()["worker_network_isolated"] is True
    code = ("import pyoxigraph as ox, kg.serve.workers as w; assert w.drop_network();\n"
            f"try:\n list(ox.Store().query('SELECT * WHERE {{ SERVICE <{recorder}> {{ ?s ?p ?o }} }}'))\n"
            "except OSError as e:\n print('refused', e)")
    _Recorder.hits.clear()
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert "refused" in out.stdout, out.stderr
    assert _Recorder.hits == []


def test_cors(client):
    r = client.get("/sparql", params={"query": COUNT}, headers={"Origin": CORS_ORIGIN, "Accept": "text/csv"})
    assert r.headers.get("access-control-allow-origin") == CORS_ORIGIN
    r = client.get("/sparql", params={"query": COUNT},
                   headers={"Origin": "https://other.example", "Accept": "text/csv"})
    assert "access-control-allow-origin" not in r.headers
    r = client.options("/sparql", headers={"Origin": CORS_ORIGIN, "Access-Control-Request-Method": "POST"})
    assert r.status_code == 200


# --- the query library -----------------------------------------------------------------

def test_named_query_form_table_and_downloads(client):
    r = client.get("/queries")
    assert "flagship" in r.text
    r = client.get("/queries/flagship")
    assert r.status_code == 200 and 'name="site"' in r.text
    r = client.get("/queries/flagship", params={"run": "1"})
    assert r.status_code == 200 and "Vogl 2023" in r.text and ">89<" in r.text
    r = client.get("/queries/flagship", params={"format": "csv"})
    assert r.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(r.text)))
    assert any(row["studyLabel"] == "Vogl 2023" and row.get("valueText", row.get("value")) == "89" for row in rows)
    r = client.get("/queries/flagship", params={"format": "json"})
    assert r.json()["results"]["bindings"]


def test_named_query_bad_parameter(client):
    r = client.get("/queries/flagship", params={"run": "1", "site": "livr"})
    assert r.status_code == 400 and "site" in r.text
    r = client.get("/queries/flagship", params={"format": "csv", "threshold": "fifty"})
    assert r.status_code == 400 and "not a number" in r.text


# --- in process: the guard, the capped writer, create_app over a given store ------------------

def test_guard_in_process():
    from kg.serve.guard import EndpointError, check_query
    assert check_query("ASK { ?s ?p ?o }") == "ASK"
    assert check_query("SELECT * WHERE { SERVICE <http://ok.example/s> { ?s ?p ?o } }", ("ok.example",)) == "SELECT"
    for text, status in [("INSERT DATA { <urn:a> <urn:b> <urn:c> }", 403), ("SELECT ?x WHERE {", 400),
                         ("SELECT * WHERE { SERVICE <http://no.example/s> { ?s ?p ?o } }", 403)]:
        with pytest.raises(EndpointError) as err:
            check_query(text, ("ok.example",))
        assert err.value.status == status


def _small_store(n: int):
    from kg.store import EmbeddedStore
    st = ox.Store()
    for i in range(n):
        st.add(ox.Quad(ox.NamedNode(f"urn:s{i}"), ox.NamedNode("urn:p"), ox.Literal(f"line\nbreak {i}", language="en"),
                       ox.NamedNode("urn:g")))
    return EmbeddedStore(st)


@pytest.mark.parametrize("key", ["json", "xml", "csv", "tsv"])
def test_answer_query_caps_rows_and_writes_each_format(key):
    from kg.serve.workers import Limits, answer_query
    store = _small_store(30)
    status, got, body = answer_query(store, "SELECT ?s ?o WHERE { ?s ?p ?o }", None, key, Limits(5, 30))
    assert status == 200 and got == key
    if key == "csv":   # CSV results are lossy (pyoxigraph will not parse them back): count records
        rows = list(csv.reader(io.StringIO(body.decode())))[1:]
        assert len(rows) == 30 and rows[0][1].startswith("line\nbreak")
    else:
        fmt = {"json": ox.QueryResultsFormat.JSON, "xml": ox.QueryResultsFormat.XML,
               "tsv": ox.QueryResultsFormat.TSV}[key]
        parsed = list(ox.parse_query_results(body, format=fmt))
        assert len(parsed) == 30 and parsed[0]["o"].language == "en"
    status, _, body = answer_query(store, "SELECT ?s ?o WHERE { ?s ?p ?o }", None, key, Limits(5, 29))
    assert status == 422 and b"more than 29 rows" in body


def test_construct_defaults_to_turtle_and_html_is_a_table():
    from kg.serve.workers import Limits, answer_query
    store = _small_store(3)
    status, key, body = answer_query(store, "CONSTRUCT WHERE { ?s ?p ?o }", "*/*", None, Limits(5, 10))
    assert status == 200 and key == "ttl" and len(parse(body, "turtle")) == 3
    status, key, body = answer_query(store, "CONSTRUCT WHERE { ?s ?p ?o }", "text/html", None, Limits(5, 10))
    assert key == "html" and json.loads(body)["head"]["vars"] == ["subject", "predicate", "object"]


def test_create_app_serves_pages_from_the_store_it_is_given(served_release):
    """Pages need no workers: the app reads the store it was handed (here, the release in memory)."""
    from starlette.testclient import TestClient

    from kg.serve import ServeConfig, create_app
    from kg.store import EmbeddedStore
    app = create_app(EmbeddedStore.from_release(served_release), ServeConfig(release=served_release))
    client = TestClient(app)            # no lifespan: the worker pool is not started
    r = client.get("/vocab/MicrowaveAblation", headers={"Accept": "text/html"})
    assert r.status_code == 200 and "Vogl 2023" in r.text
    assert client.get("/vocab/MicrowaveAblation.nt").content.count(b"\n") > 3


def test_home_counts_equal_the_manifest(client, served_release):
    """The home page counts claims (not patient cases) and studies as the manifest does."""
    manifest = json.loads((served_release / "manifest.json").read_text())
    r = client.get("/", headers={"Accept": "text/html"})
    assert r.status_code == 200
    assert f"{manifest['claims']} claims from {len(manifest['documents'])} documents about {manifest['studies']} studies" \
        in r.text


def test_study_chart_draws_medians_in_years_as_months(client):
    """Vogl 2023's median OS for MWA is printed as 5.6 years (000 Table 2): it is drawn in the
    median panel at 67.2 months, with its printed unit; hazard ratios are not drawn as rates."""
    r = client.get("/id/study/vogl2023", headers={"Accept": "text/html"})
    assert r.status_code == 200
    svg = r.text.split("Median survival (months; years converted)", 1)[1].split("</svg>", 1)[0]
    assert "5.6 year" in svg
    rates = r.text.split("Survival rate at a time point (%)", 1)[1].split("</svg>", 1)[0]
    assert "hazard" not in rates.casefold()


# --- FHIR R5 Evidence by content negotiation on the claim IRI -------------------------------

HR_CLAIM = "/id/claim/ueno2022/t1-mf-os-hr"         # ueno2022 (001) Table 1, MF07-01: OS HR 0.66 [0.49-0.88], p 0.005
FHIR = "application/fhir+json"


def test_claim_iri_serves_fhir_evidence(client, served_release):
    """Accept: application/fhir+json on an outcome claim's IRI gives its FHIR R5 Evidence, which
    validates with fhir.resources and carries the hazard ratio with its CI and p as the document prints them."""
    pytest.importorskip("fhir.resources")
    from fhir.resources.evidence import Evidence

    from kg import fhir
    r = client.get(HR_CLAIM, headers={"Accept": FHIR})
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == FHIR and "Accept" in r.headers["vary"]
    assert r.headers["content-location"] == HR_CLAIM + ".fhir.json"
    ev = Evidence.model_validate(r.json())
    stat = ev.statistic[0]
    assert float(stat.quantity.value) == 0.66 and stat.sampleSize.numberOfParticipants == 278
    ci = next(e for e in stat.attributeEstimate if e.type.text == "confidence interval")
    assert (float(ci.level), float(ci.range.low.value), float(ci.range.high.value)) == (0.95, 0.49, 0.88)
    p = next(e for e in stat.attributeEstimate if e.type.text == "p-value")
    assert float(p.quantity.value) == 0.005
    assert ev.url == "https://w3id.org/bcmkg" + HR_CLAIM
    assert r.json() == fhir.claim_resource(served_release, ev.url)     # the server's store reads as the release
    for other in (client.get(HR_CLAIM + "?format=fhir", headers={"Accept": "text/html"}),
                  client.get(HR_CLAIM + ".fhir.json"),
                  client.get(HR_CLAIM, headers={"Accept": f"text/turtle;q=0.5, {FHIR}"})):
        assert other.status_code == 200 and other.headers["content-type"] == FHIR and other.content == r.content


def test_fhir_is_not_the_default_and_is_406_where_there_is_none(client):
    """A wildcard never gets FHIR; a claim that is no outcome (ueno2022: the disease-free interval as a
    prognostic factor) and a term have no Evidence resource: 406 saying why, as for any unavailable format."""
    for accept in ("*/*", "application/*"):
        r = client.get(HR_CLAIM, headers={"Accept": accept})
        assert r.status_code == 200 and not r.headers["content-type"].startswith(FHIR), accept
    for p in ("/id/claim/ueno2022/fan-pf-dfi", "/vocab/LiverMetastasis"):
        for r in (client.get(p, headers={"Accept": FHIR}), client.get(p + "?format=fhir"),
                  client.get(p + ".fhir.json")):
            assert r.status_code == 406, (p, r.status_code)
            assert "no FHIR Evidence resource" in r.text and "text/turtle" in r.text
            assert ("not an outcome claim" if "claim" in p else "not a claim") in r.text
    r = client.get("/id/claim/ueno2022/fan-pf-dfi", headers={"Accept": f"{FHIR}, text/turtle;q=0.5"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/turtle")   # the next best offer
    assert client.get("/id/claim/ueno2022/no-such-claim", headers={"Accept": FHIR}).status_code == 404


def test_claim_page_links_its_fhir_alternate(client):
    """The page of an outcome claim lists FHIR beside Turtle and JSON-LD (<link rel=alternate>, the
    format links, the Link header), and the link answers with the Evidence resource."""
    r = client.get(HR_CLAIM, headers={"Accept": "text/html"})
    links = re.findall(r'<link rel="alternate" type="([^"]+)" href="([^"]+)">', r.text)
    assert (FHIR, HR_CLAIM + ".fhir.json") in links and ("text/turtle", HR_CLAIM + ".ttl") in links
    assert 'id="fhir-link"' in r.text
    assert f'<{HR_CLAIM}.fhir.json>; rel="alternate"; type="{FHIR}"' in r.headers["link"]
    href = dict(links)[FHIR]
    got = client.get(href)
    assert got.status_code == 200 and got.headers["content-type"] == FHIR and got.json()["resourceType"] == "Evidence"
    other = client.get("/id/claim/ueno2022/fan-pf-dfi", headers={"Accept": "text/html"})
    assert other.status_code == 200 and FHIR not in other.text and FHIR not in other.headers["link"]


# --- the evidence network on site and modality pages ---------------------------------------

def test_site_and_modality_pages_draw_the_evidence_network(client):
    """The liver page has its row of the evidence map and its comparison graph, each with a title, an
    accessible name, a legend and the numbers as a table; the MWA page has its column (liver, lung)."""
    r = client.get("/vocab/LiverMetastasis", headers={"Accept": "text/html"})
    assert r.status_code == 200
    section = r.text.split('<section id="evidence-network">', 1)[1].split("<h2>Survival figures", 1)[0]
    for fid in ("map-LiverMetastasis", "comparisons-LiverMetastasis"):
        svg = section.split(f'id="{fid}"', 1)[1].split("</svg>", 1)[0]
        assert f'aria-labelledby="{fid}-title {fid}-desc"' in svg and f'<title id="{fid}-title">' in svg
        assert "best level of evidence" in svg and "Size: patients" in svg
        assert "style=" not in svg and "<script" not in svg           # the CSP allows neither
        assert f'id="{fid}-table"' in section
    # greco2026 Table 2 / bclm-review-zh Table 1: Vogl 2023 and one more MWA series, 5-year OS 89 %
    assert 'data-modality="MicrowaveAblation" data-site="LiverMetastasis"' in section
    assert "microwave ablation at breast cancer liver metastasis: 2 studies" in section
    assert 'data-a="HepaticResection" data-b="SystemicTherapyAlone"' in section
    assert "Chen 2022, Ruiz 2018, Sundén 2020" in section
    mwa = client.get("/vocab/MicrowaveAblation", headers={"Accept": "text/html"}).text
    cells = re.findall(r'<g class="cell" data-site="(\w+)" data-modality="MicrowaveAblation">', mwa)
    assert sorted(cells) == ["LiverMetastasis", "LungMetastasis"]
    assert 'class="comparison-graph"' not in mwa
    other = client.get("/vocab/OverallSurvival", headers={"Accept": "text/html"}).text     # neither site nor modality
    assert 'id="evidence-network"' not in other


def test_pages_print_figures_as_the_document_does(client):
    """Oxigraph answers a typed decimal canonically (0.30 -> 0.3); the pages show the printed twin.
    Chan 2017 (004) Results: median OS 74.70 months; Ueno 2022 (001): bone-only OS HR 0.41 (0.30-0.57)."""
    page = client.get("/id/claim/chan2017/abs-os", headers={"Accept": "text/html"}).text
    assert '<p class="headline">74.70 month' in page
    assert "74.7<" not in page      # nor in the table of its statements (the Discussion's 74.7 is another claim)
    page = client.get("/id/claim/ueno2022/bomet-os-hr", headers={"Accept": "text/html"}).text
    assert "(CI 0.30–0.57)" in page and "CI 0.3–" not in page
    study = client.get("/id/study/chan2017", headers={"Accept": "text/html"}).text
    assert "74.70" in study and "336.80" in study      # the table's value and the details' maximum


def test_query_table_prints_figures_as_the_document_does(client):
    """The HTML answer shows a column's printed twin (ciLower 0.30, not the store's 0.3); the CSV
    keeps both: the typed number and the printed text."""
    r = client.get("/queries/hazard_ratios", params={"run": "1", "endpoint": "OverallSurvival"})
    row = next(line for line in r.text.split("<tr") if "0.41<" in line and "0.57<" in line)
    assert "0.30<" in row and ">0.3<" not in row
    r = client.get("/queries/hazard_ratios", params={"format": "csv", "endpoint": "OverallSurvival"})
    rows = [x for x in csv.DictReader(io.StringIO(r.text)) if x["ciLowerAsPrinted"] == "0.30"]
    assert rows and {x["ciLower"] for x in rows} == {"0.3"}
