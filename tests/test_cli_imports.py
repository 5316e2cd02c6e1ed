"""What a command imports: `kg query --list` reads the query headers without rdflib or pydantic,
and a named query without a term parameter runs without rdflib.

Each command runs in a fresh interpreter (a subprocess), so what another test imported
cannot hide an import; the probe prints which of the heavy packages ended up in sys.modules.
Timings are not asserted here (they belong to benchmarks/run.py and the issue's report).
"""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
HEAVY = ["rdflib", "pydantic", "curies"]

PROBE = r"""
import contextlib, io, json, sys
for name in sys.argv[2:]:
    __import__(name)                       # a planted import, to show the probe sees one
from kg.cli import main
out = io.StringIO()
with contextlib.redirect_stdout(out):
    rc = main(json.loads(sys.argv[1]))
print(json.dumps({"rc": rc, "lines": len(out.getvalue().splitlines()), "chars": len(out.getvalue()),
                  "loaded": [m for m in HEAVY if m in sys.modules]}))
""".replace("HEAVY", repr(HEAVY))


def probe(argv: list[str], *preload: str) -> dict:
    done = subprocess.run([sys.executable, "-c", PROBE, json.dumps(argv), *preload], capture_output=True,
                          text=True, cwd=ROOT, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_query_list_imports_neither_rdflib_nor_pydantic():
    r = probe(["query", "--list"])
    assert r["rc"] == 0 and r["lines"] > 20          # every named query listed
    assert r["loaded"] == [], f"`kg query --list` imported {r['loaded']}"


def test_query_help_of_one_query_stays_light():
    r = probe(["query", "flagship", "--help"])
    assert r["rc"] == 0 and r["lines"] > 1
    assert r["loaded"] == []


def test_the_probe_can_fail():
    """A module that imports rdflib at import time is seen."""
    assert "rdflib" in probe(["query", "--list"], "kg.ontology.build")["loaded"]


@pytest.mark.parametrize("fmt", ["table", "csv", "json", "md"])
def test_query_without_term_parameter_needs_no_rdflib(release, fmt):
    r = probe(["query", "documents", "--release", str(release), "--format", fmt])
    assert r["rc"] == 0 and r["chars"] > 200      # the documents, whatever the format's line breaks
    assert r["loaded"] == [], f"`kg query documents --format {fmt}` imported {r['loaded']}"


def test_lazy_names_of_kg_rdf_are_rdflibs():
    """kg.rdf builds ONTOLOGY_IRI, RDF, OWL, CONVERTER ... on first use; they are the same objects as before."""
    import rdflib
    from rdflib.namespace import OWL, RDF, RDFS, XSD

    import kg.rdf as r
    assert r.RDF is RDF and r.RDFS is RDFS and r.OWL is OWL
    assert r.ONTOLOGY_IRI == rdflib.URIRef("https://w3id.org/bcmkg/ontology")
    assert isinstance(r.ONTOLOGY_IRI, rdflib.URIRef) and isinstance(r.BCMKG.Claim, rdflib.URIRef)
    assert r.BCMKG["x"] == rdflib.Namespace(str(r.BCMKG))["x"] and str(r.BCMKG.title) == r.BCMKG + "title"
    assert r.XSD.decimal == XSD.decimal and str(r.XSD) == str(XSD) and r.XSD_STRING == str(XSD.string)
    assert r.OWL_RATIONAL == OWL["rational"] and r.IAO_REPLACED_BY == r.OBO["IAO_0100001"]
    assert r.BCMKG.Claim in r.BCMKG and r.BCD["a"] not in r.BCMKG
    with pytest.raises(AttributeError):
        r.NO_SUCH_NAME  # noqa: B018


def test_compact_and_expand_agree_with_curies(disk_store):
    """The prefix map's longest-namespace-first compaction equals curies' Converter on every IRI of the release."""
    import pyoxigraph as ox

    import kg.rdf as r
    iris = {str(r.BCMKG), str(r.OBO) + "NCIT_", "http://example.org/x", ""}
    for q in disk_store.store:
        for t in (q.subject, q.predicate, q.object):
            if isinstance(t, ox.NamedNode):
                iris.add(t.value)
            elif isinstance(t, ox.Literal):
                iris.add(t.datatype.value)
    for iri in iris:
        curie = r.CONVERTER.compress(iri)
        assert r.compact(iri) == (iri if not curie or curie.endswith(":") else curie), iri
        if r.compact(iri) != iri:
            assert r.expand(r.compact(iri)) == r.CONVERTER.expand(r.compact(iri)) == iri
    from kg.errors import QueryError
    for bad in ("nope:x", "NCIT", ":x"):
        with pytest.raises(QueryError):
            r.expand(bad)


def test_a_term_parameter_needs_no_rdflib(release):
    r = probe(["query", "term_synonyms", "--release", str(release), "--param", "term=MWA", "--format", "csv"])
    assert r["rc"] == 0 and r["lines"] > 1
    assert r["loaded"] == [], f"`kg query term_synonyms` imported {r['loaded']}"
