"""The RDF core: namespaces, prefixes, IRI minting, one CURIE converter, rdflib <-> pyoxigraph.

Every module that writes or reads an IRI takes it from here, so a namespace or a prefix is
defined once. CURIEs are compacted and expanded over our prefixes and the external
terminologies a mapping may cite, longest namespace first (`compact`, `expand`); `CONVERTER`
is the same prefix map as a `curies.Converter`, for callers that want that package's API.

Importing this module costs pyoxigraph only: a command that never touches rdflib (`kg query`,
`kg sparql`, the server's answers) does not pay for it. A namespace is a `str` (its IRI
prefix) whose terms, `BCMKG.Claim` or `BCMKG["x"]`, are rdflib `URIRef`s made on first use;
RDF, RDFS, OWL, ONTOLOGY_IRI, the IAO terms, OWL_RATIONAL and CONVERTER are built the first
time they are asked for (module `__getattr__`).
"""
from __future__ import annotations

import contextlib
import gc
import re
from collections.abc import Iterable, Iterator
from functools import lru_cache
from typing import TYPE_CHECKING, Any

import pyoxigraph as ox

from .errors import QueryError

if TYPE_CHECKING:
    import curies
    from rdflib import BNode, Literal, URIRef
    from rdflib.namespace import OWL, RDF, RDFS
    from rdflib.term import Node

    ONTOLOGY_IRI: URIRef
    IAO_REPLACED_BY: URIRef
    IAO_DEFINITION: URIRef
    OWL_RATIONAL: URIRef
    CONVERTER: curies.Converter


class Namespace(str):
    """An IRI prefix (a `str`); `NS.term`, `NS["term"]` and `NS.term("x")` are rdflib URIRefs,
    as with `rdflib.Namespace` (rdflib is imported on the first such call, not before)."""

    __slots__ = ()

    @property
    def title(self) -> URIRef:  # type: ignore[override]  # DCTERMS-style `title`, as rdflib does
        return self.term("title")

    def term(self, name: str) -> URIRef:
        return _uriref()(str(self) + (name if isinstance(name, str) else ""))

    def __getitem__(self, key: str) -> URIRef:  # type: ignore[override]
        return self.term(key)

    def __getattr__(self, name: str) -> URIRef:
        if name.startswith("__"):
            raise AttributeError(name)
        return self.term(name)

    def __repr__(self) -> str:
        return f"Namespace({super().__repr__()})"

    def __contains__(self, ref: str) -> bool:  # type: ignore[override]
        return ref.startswith(self)


BASE = "https://w3id.org/bcmkg/"
BCMKG = Namespace(BASE + "vocab/")
BCD = Namespace(BASE + "id/")
GRAPH = Namespace(BASE + "graph/")
OA = Namespace("http://www.w3.org/ns/oa#")
PROV = Namespace("http://www.w3.org/ns/prov#")
BIBO = Namespace("http://purl.org/ontology/bibo/")
OBO = Namespace("http://purl.obolibrary.org/obo/")
OBOINOWL = Namespace("http://www.geneontology.org/formats/oboInOwl#")
XSD = Namespace("http://www.w3.org/2001/XMLSchema#")
XSD_STRING = XSD + "string"

#: The prefixes of the release files and of every query we write.
PREFIXES: dict[str, str] = {
    "bcmkg": str(BCMKG), "bcd": str(BCD), "prov": str(PROV), "oa": str(OA),
    "dcterms": "http://purl.org/dc/terms/", "bibo": str(BIBO), "skos": "http://www.w3.org/2004/02/skos/core#",
    "xsd": str(XSD), "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    "rdfs": "http://www.w3.org/2000/01/rdf-schema#", "owl": "http://www.w3.org/2002/07/owl#", "obo": str(OBO),
}

#: External terminologies a template xref may cite, with the IRI each CURIE expands to.
XREF_PREFIXES: dict[str, str] = {
    "NCIT": "http://purl.obolibrary.org/obo/NCIT_", "UBERON": "http://purl.obolibrary.org/obo/UBERON_",
    "MONDO": "http://purl.obolibrary.org/obo/MONDO_", "OBI": "http://purl.obolibrary.org/obo/OBI_",
    "STATO": "http://purl.obolibrary.org/obo/STATO_", "MAXO": "http://purl.obolibrary.org/obo/MAXO_",
    "EFO": "http://www.ebi.ac.uk/efo/EFO_", "SCTID": "http://snomed.info/id/", "LOINC": "https://loinc.org/",
}

_ALL_PREFIXES = {**PREFIXES, **XREF_PREFIXES}
_ALL_LONGEST_FIRST = sorted(_ALL_PREFIXES.items(), key=lambda kv: -len(kv[1]))
_OURS_LONGEST_FIRST = sorted(PREFIXES.items(), key=lambda kv: -len(kv[1]))
_BAD_IRI = re.compile(r'[\x00-\x20<>"{}|^`\\]')


@lru_cache(maxsize=65536)
def compact(iri: str, ours_only: bool = False) -> str:
    """`prefix:local` under the longest matching namespace; the IRI itself when none matches.

    `ours_only` keeps to PREFIXES (the release's and the JSON-LD context's own prefixes):
    obo:NCIT_C123, never NCIT:C123. The same answer as `CONVERTER.compress` (a test says so).
    """
    if ours_only:         # longest of our own namespaces with something after it
        for prefix, ns in _OURS_LONGEST_FIRST:
            if iri.startswith(ns) and len(iri) > len(ns):
                return f"{prefix}:{iri[len(ns):]}"
        return iri
    for prefix, ns in _ALL_LONGEST_FIRST:   # the longest match decides, as in curies' trie
        if iri.startswith(ns):
            return f"{prefix}:{iri[len(ns):]}" if len(iri) > len(ns) else iri
    return iri


def expand(curie: str) -> str:
    """The IRI of a CURIE in one of our prefixes or the xref prefixes; raises QueryError otherwise."""
    prefix, sep, local = curie.partition(":")
    ns = _ALL_PREFIXES.get(prefix) if sep else None
    if ns is None:
        raise QueryError(f"unknown prefix in {curie!r}; known: {', '.join(_ALL_PREFIXES)}")
    return ns + local


def check_iri(iri: str) -> str:
    """Reject characters that may not appear in an IRI, so a term can never break out of <...>."""
    if not iri or _BAD_IRI.search(iri):
        raise QueryError(f"not a valid IRI: {iri!r}")
    return iri


def prefix_block() -> str:
    """SPARQL PREFIX declarations for our prefixes."""
    return "".join(f"PREFIX {k}: <{v}>\n" for k, v in PREFIXES.items())


# --- what is built on first use (rdflib, curies) -------------------------------------------

@lru_cache(maxsize=1)
def _uriref() -> type[URIRef]:
    from rdflib import URIRef
    return URIRef


@lru_cache(maxsize=1)
def _terms() -> tuple[type[URIRef], type[BNode], type[Literal]]:
    from rdflib import BNode, Literal, URIRef
    return URIRef, BNode, Literal


def _converter() -> curies.Converter:
    import curies
    return curies.Converter.from_prefix_map(dict(_ALL_PREFIXES))


def _rdflib_namespace(name: str) -> Any:
    import rdflib.namespace
    return getattr(rdflib.namespace, name)


_LAZY: dict[str, Any] = {
    "ONTOLOGY_IRI": lambda: _uriref()(BASE + "ontology"),
    "IAO_REPLACED_BY": lambda: OBO["IAO_0100001"],
    "IAO_DEFINITION": lambda: OBO["IAO_0000115"],
    "OWL_RATIONAL": lambda: _uriref()(PREFIXES["owl"] + "rational"),
    "CONVERTER": _converter,
    "RDF": lambda: _rdflib_namespace("RDF"),
    "RDFS": lambda: _rdflib_namespace("RDFS"),
    "OWL": lambda: _rdflib_namespace("OWL"),
}


def __getattr__(name: str) -> Any:
    """The names built on first use (the rdflib terms and namespaces, the curies converter)."""
    make = _LAZY.get(name)
    if make is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = make()
    globals()[name] = value          # once: later lookups find it in the module
    return value


# --- minting ----------------------------------------------------------------------------

def version_iri(date: str) -> URIRef:
    return _uriref()(f"{BASE}releases/{date}/ontology")


def document_iri(doc_id: str) -> URIRef:
    return BCD[f"document/{doc_id}"]


def study_iri(study_id: str) -> URIRef:
    return BCD[f"study/{study_id}"]


def arm_iri(study_id: str, arm_id: str) -> URIRef:
    return _uriref()(f"{study_iri(study_id)}/arm/{arm_id}")


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
    uriref, bnode, literal = _terms()
    if isinstance(term, uriref):
        return ox.NamedNode(str(term))
    if isinstance(term, bnode):
        return ox.BlankNode(str(term))
    if isinstance(term, literal):
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


@contextlib.contextmanager
def fewer_collections() -> Iterator[None]:
    """Python's cyclic collector, run less often while a build runs or a whole release is read
    (forked workers inherit it). Both make millions of small objects that live until they end
    (parsed YAML, claims, N-Triples lines, pyoxigraph terms) and few cycles; at the default
    threshold (a young collection every 700 allocations) collecting took a sixth of a
    10^5-claim build's CPU time (190 -> 159 user-s), and half of reading a 10^5 release for
    `kg diff` (18.7 -> 9.0 s)."""
    before = gc.get_threshold()
    gc.set_threshold(100_000, 50, 100)
    try:
        yield
    finally:
        gc.set_threshold(*before)


def serialize(items: Iterable[ox.Triple] | Iterable[ox.Quad], fmt: ox.RdfFormat,
              prefixes: dict[str, str] | None = None) -> bytes:
    """pyoxigraph's writer, to bytes (it returns None only when given an output file)."""
    data = ox.serialize(items, format=fmt, prefixes=prefixes)
    assert data is not None
    return data


def nt_bytes(triples: Iterable[ox.Triple]) -> bytes:
    """N-Triples of pyoxigraph triples."""
    return serialize(triples, ox.RdfFormat.N_TRIPLES)


def sorted_nt(nt: bytes) -> bytes:
    """N-Triples sorted, each line once: every graph of a release is kept so (same input, same
    bytes), and the release writer relies on it."""
    return b"".join(sorted(set(nt.splitlines(keepends=True))))


def from_ox(term: object) -> Node | None:
    """pyoxigraph term -> rdflib term ("x"^^xsd:string and "x" are one term in RDF 1.1)."""
    if term is None:
        return None
    uriref, bnode, literal = _terms()
    if isinstance(term, ox.NamedNode):
        return uriref(term.value)
    if isinstance(term, ox.Literal):
        if term.language:
            return literal(term.value, lang=term.language)
        if term.datatype.value == XSD_STRING:
            return literal(term.value)
        return literal(term.value, datatype=uriref(term.datatype.value))
    if isinstance(term, ox.BlankNode):
        return bnode(term.value)
    return literal(str(term))


__all__ = [
    "BASE", "BCMKG", "BCD", "GRAPH", "ONTOLOGY_IRI", "OA", "PROV", "BIBO", "OBO", "OBOINOWL", "PREFIXES",
    "XREF_PREFIXES", "IAO_REPLACED_BY", "IAO_DEFINITION", "OWL_RATIONAL", "CONVERTER", "compact",
    "expand", "check_iri", "prefix_block", "version_iri", "document_iri", "study_iri", "arm_iri",
    "claim_iri", "case_iri", "exclusion_iri", "graph_iri", "local_path", "to_ox", "from_ox", "to_ox_triple",
    "nt_bytes", "serialize", "fewer_collections", "Namespace", "XSD", "XSD_STRING", "RDF", "RDFS", "OWL",
]
