"""The RDF core: namespaces, prefixes, IRI minting, one CURIE converter, rdflib <-> pyoxigraph.

Every module that writes or reads an IRI takes it from here, so a namespace or a prefix is
defined once. The CURIE converter is the `curies` package's (longest namespace wins), over
our prefixes and the external terminologies a mapping may cite.
"""
from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache

import curies
import pyoxigraph as ox
from rdflib import BNode, Literal, Namespace, URIRef
from rdflib.namespace import DCTERMS, OWL, PROV, RDF, RDFS, SKOS, XSD
from rdflib.term import Node

from .errors import QueryError

BASE = "https://w3id.org/bcmkg/"
BCMKG = Namespace(BASE + "vocab/")
BCD = Namespace(BASE + "id/")
GRAPH = Namespace(BASE + "graph/")
ONTOLOGY_IRI = URIRef(BASE + "ontology")
OA = Namespace("http://www.w3.org/ns/oa#")
BIBO = Namespace("http://purl.org/ontology/bibo/")
OBO = Namespace("http://purl.obolibrary.org/obo/")
OBOINOWL = Namespace("http://www.geneontology.org/formats/oboInOwl#")
IAO_REPLACED_BY = OBO["IAO_0100001"]
IAO_DEFINITION = OBO["IAO_0000115"]
OWL_RATIONAL = URIRef(str(OWL) + "rational")
XSD_STRING = str(XSD.string)

#: The prefixes of the release files and of every query we write.
PREFIXES: dict[str, str] = {
    "bcmkg": str(BCMKG), "bcd": str(BCD), "prov": str(PROV), "oa": str(OA),
    "dcterms": str(DCTERMS), "bibo": str(BIBO), "skos": str(SKOS), "xsd": str(XSD),
    "rdf": str(RDF), "rdfs": str(RDFS), "owl": str(OWL), "obo": str(OBO),
}

#: External terminologies a template xref may cite, with the IRI each CURIE expands to.
XREF_PREFIXES: dict[str, str] = {
    "NCIT": "http://purl.obolibrary.org/obo/NCIT_", "UBERON": "http://purl.obolibrary.org/obo/UBERON_",
    "MONDO": "http://purl.obolibrary.org/obo/MONDO_", "OBI": "http://purl.obolibrary.org/obo/OBI_",
    "STATO": "http://purl.obolibrary.org/obo/STATO_", "MAXO": "http://purl.obolibrary.org/obo/MAXO_",
    "EFO": "http://www.ebi.ac.uk/efo/EFO_", "SCTID": "http://snomed.info/id/", "LOINC": "https://loinc.org/",
}

CONVERTER = curies.Converter.from_prefix_map({**PREFIXES, **XREF_PREFIXES})
_OURS_LONGEST_FIRST = sorted(PREFIXES.items(), key=lambda kv: -len(kv[1]))
_BAD_IRI = re.compile(r'[\x00-\x20<>"{}|^`\\]')


@lru_cache(maxsize=65536)
def compact(iri: str, ours_only: bool = False) -> str:
    """`prefix:local` under the longest matching namespace; the IRI itself when none matches.

    `ours_only` keeps to PREFIXES (the release's and the JSON-LD context's own prefixes).
    """
    if ours_only:         # longest of our own namespaces: obo:NCIT_C123, never NCIT:C123
        for prefix, ns in _OURS_LONGEST_FIRST:
            if iri.startswith(ns) and len(iri) > len(ns):
                return f"{prefix}:{iri[len(ns):]}"
        return iri
    curie = CONVERTER.compress(iri)
    return iri if not curie or curie.endswith(":") else curie


def expand(curie: str) -> str:
    """The IRI of a CURIE in one of our prefixes or the xref prefixes; raises QueryError otherwise."""
    iri = CONVERTER.expand(curie)
    if iri is None:
        raise QueryError(f"unknown prefix in {curie!r}; known: {', '.join(CONVERTER.get_prefixes())}")
    return iri


def check_iri(iri: str) -> str:
    """Reject characters that may not appear in an IRI, so a term can never break out of <...>."""
    if not iri or _BAD_IRI.search(iri):
        raise QueryError(f"not a valid IRI: {iri!r}")
    return iri


def prefix_block() -> str:
    """SPARQL PREFIX declarations for our prefixes."""
    return "".join(f"PREFIX {k}: <{v}>\n" for k, v in PREFIXES.items())


# --- minting ----------------------------------------------------------------------------

def version_iri(date: str) -> URIRef:
    return URIRef(f"{BASE}releases/{date}/ontology")


def document_iri(doc_id: str) -> URIRef:
    return BCD[f"document/{doc_id}"]


def study_iri(study_id: str) -> URIRef:
    return BCD[f"study/{study_id}"]


def arm_iri(study_id: str, arm_id: str) -> URIRef:
    return URIRef(f"{study_iri(study_id)}/arm/{arm_id}")


def claim_iri(doc_id: str, claim_id: str) -> URIRef:
    return BCD[f"claim/{doc_id}/{claim_id}"]


def case_iri(doc_id: str, case_id: str) -> URIRef:
    return BCD[f"case/{doc_id}/{case_id}"]


def exclusion_iri(doc_id: str, number: int) -> URIRef:
    return BCD[f"exclusion/{doc_id}/{number}"]


def graph_iri(name: str) -> URIRef:
    return GRAPH[name]


def local_path(iri: str) -> str | None:
    """The server path of an IRI we minted (`/vocab/X`, `/id/claim/...`), or None."""
    return "/" + iri[len(BASE):] if iri.startswith(BASE) else None


# --- rdflib <-> pyoxigraph ----------------------------------------------------------------

def to_ox(term: Node) -> ox.NamedNode | ox.BlankNode | ox.Literal:
    """rdflib term -> pyoxigraph term, keeping a literal's lexical form exactly ("74.70")."""
    if isinstance(term, URIRef):
        return ox.NamedNode(str(term))
    if isinstance(term, BNode):
        return ox.BlankNode(str(term))
    if isinstance(term, Literal):
        if term.language:
            return ox.Literal(str(term), language=term.language)
        if term.datatype:
            return ox.Literal(str(term), datatype=ox.NamedNode(str(term.datatype)))
        return ox.Literal(str(term))
    raise TypeError(f"not an RDF term: {term!r}")


def to_ox_triple(triple: tuple[Node, Node, Node]) -> ox.Triple:
    """An rdflib triple as a pyoxigraph one (subject an IRI or blank node, predicate an IRI)."""
    s, p, o = (to_ox(x) for x in triple)
    if isinstance(s, ox.Literal) or not isinstance(p, ox.NamedNode):
        raise TypeError(f"not an RDF triple: {triple!r}")
    return ox.Triple(s, p, o)


def serialize(items: Iterable[ox.Triple] | Iterable[ox.Quad], fmt: ox.RdfFormat,
              prefixes: dict[str, str] | None = None) -> bytes:
    """pyoxigraph's writer, to bytes (it returns None only when given an output file)."""
    data = ox.serialize(items, format=fmt, prefixes=prefixes)
    assert data is not None
    return data


def nt_bytes(triples: Iterable[ox.Triple]) -> bytes:
    """N-Triples of pyoxigraph triples."""
    return serialize(triples, ox.RdfFormat.N_TRIPLES)


def from_ox(term: object) -> Node | None:
    """pyoxigraph term -> rdflib term ("x"^^xsd:string and "x" are one term in RDF 1.1)."""
    if term is None:
        return None
    if isinstance(term, ox.NamedNode):
        return URIRef(term.value)
    if isinstance(term, ox.Literal):
        if term.language:
            return Literal(term.value, lang=term.language)
        if term.datatype.value == XSD_STRING:
            return Literal(term.value)
        return Literal(term.value, datatype=URIRef(term.datatype.value))
    if isinstance(term, ox.BlankNode):
        return BNode(term.value)
    return Literal(str(term))


__all__ = [
    "BASE", "BCMKG", "BCD", "GRAPH", "ONTOLOGY_IRI", "OA", "BIBO", "OBO", "OBOINOWL", "PREFIXES",
    "XREF_PREFIXES", "IAO_REPLACED_BY", "IAO_DEFINITION", "OWL_RATIONAL", "CONVERTER", "compact",
    "expand", "check_iri", "prefix_block", "version_iri", "document_iri", "study_iri", "arm_iri",
    "claim_iri", "case_iri", "exclusion_iri", "graph_iri", "local_path", "to_ox", "from_ox", "to_ox_triple",
    "nt_bytes", "serialize", "XSD", "XSD_STRING", "RDF", "RDFS", "OWL",
]
