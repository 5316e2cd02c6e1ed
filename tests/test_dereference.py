"""Every IRI in our namespace (https://w3id.org/bcmkg/) that the release uses dereferences on a
real `kg serve`: graph nodes, graphs, the ontology and its version, the SSSOM mapping set id,
the SHACL shapes' namespace, and the files tools open (ontology.owl, prefixes.json)."""
from __future__ import annotations

import os
import re
from concurrent.futures import ThreadPoolExecutor

import httpx
import pyoxigraph as ox
import pytest
from _serving import ROOT, Server, built_release

BASE = "https://w3id.org/bcmkg/"
IRI = re.compile(r"https://w3id\.org/bcmkg/[^\s<>\"'\\]*")

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def served():
    release = built_release()[0]
    srv = Server(release, "--workers", "1")
    yield srv, release
    srv.stop()


def release_iris(release) -> set[str]:
    """Our IRIs in graph.nq, in the mapping table (set id, bcmkg: CURIEs) and in the shapes."""
    found = set(IRI.findall((release / "graph.nq").read_text(encoding="utf-8")))
    sssom = (ROOT / "ontology" / "mappings.sssom.tsv").read_text(encoding="utf-8")
    found |= set(IRI.findall(sssom))
    found |= {BASE + "vocab/" + m for m in re.findall(r"\bbcmkg:([A-Za-z0-9]+)", sssom)}
    for path in sorted((ROOT / "shapes").glob("*.ttl")):
        for t in ox.parse(path=str(path), format=ox.RdfFormat.TURTLE):
            found |= {x.value for x in (t.subject, t.predicate, t.object)
                      if isinstance(x, ox.NamedNode) and x.value.startswith(BASE)}
    return {i.rstrip(".,;)") for i in found}


def walked(iris: set[str]) -> list[str]:
    """Every IRI but claims and the evidence/selector parts of claims, cases and exclusions, of which
    every 10th (in sorted order; they are made by one rule, and 2,500 requests take minutes);
    KG_FULL_WALK=1 asks for every one."""
    every = sorted(iris)
    if os.environ.get("KG_FULL_WALK"):
        return every
    many = [i for i in every if i.startswith(BASE + "id/claim/") or i.endswith(("/evidence", "/selector"))]
    chosen = set(many[::10])
    return [i for i in every if i not in many or i in chosen]


def test_every_iri_we_use_dereferences(served):
    srv, release = served
    iris = walked(release_iris(release))
    kinds = {i[len(BASE):].split("/", 1)[0] for i in iris}
    assert {"vocab", "id", "graph", "shapes", "mappings.sssom.tsv", "ontology", "releases"} <= kinds, kinds
    assert BASE + "vocab/referenceNumber" in iris

    def status(iri: str) -> tuple[str, int]:
        with httpx.Client(timeout=60, follow_redirects=True) as client:
            r = client.get(srv.url + "/" + iri[len(BASE):], headers={"Accept": "text/turtle, */*;q=0.1"})
            return iri, r.status_code

    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(status, iris))
    broken = [(i, s) for i, s in answers if s != 200]
    assert not broken, f"{len(broken)} of {len(iris)} IRIs do not dereference: {broken[:10]}"


@pytest.mark.parametrize("path, media, marker", [
    ("/mappings.sssom.tsv", "text/tab-separated-values", "mapping_set_id"),
    ("/ontology.owl", "application/rdf+xml", "<owl:Ontology rdf:about"),
    ("/ontology.rdf", "application/rdf+xml", "<owl:Ontology rdf:about"),
    ("/prefixes.json", "application/json", '"bcmkg": "https://w3id.org/bcmkg/vocab/"'),
    ("/shapes/ClaimShape", "text/turtle", "sh:NodeShape"),
    ("/shapes/", "text/turtle", "ClaimShape"),
])
def test_served_files(served, path, media, marker):
    srv, _ = served
    r = httpx.get(srv.url + path, headers={"Accept": "text/turtle"}, timeout=30)
    assert r.status_code == 200 and r.headers["content-type"].startswith(media), (r.status_code, r.headers)
    assert marker in r.text


def test_shape_page_and_unknown_shape(served):
    srv, _ = served
    page = httpx.get(srv.url + "/shapes/ClaimShape", headers={"Accept": "text/html"}, timeout=30)
    assert page.status_code == 200 and "ClaimShape" in page.text and "<pre" in page.text
    assert httpx.get(srv.url + "/shapes/NoSuchShape", timeout=30).status_code == 404


def test_pronto_opens_the_served_ontology(served, tmp_path):
    pronto = pytest.importorskip("pronto")
    srv, _ = served
    path = tmp_path / "served.owl"
    path.write_bytes(httpx.get(srv.url + "/ontology.rdf", timeout=30).content)
    assert pronto.Ontology(str(path))[BASE + "vocab/MicrowaveAblation"].name == "microwave ablation"
