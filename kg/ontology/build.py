"""The OWL graph: core.ttl plus every template row, classified by HermiT.

`build_ontology` is what the release ships (and what QC checks); the reasoner is imported
only when `reason` runs, because owlready2 and Java are slow to start.

>>> g = build_ontology(Path("ontology"), "2026-01-31", "0.1.0")   # doctest: +SKIP
>>> infer_subclasses(g)[:1]                                        # doctest: +SKIP
[(rdflib.term.URIRef('https://w3id.org/bcmkg/vocab/ERPositive'), ...)]
"""
from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import networkx as nx
from rdflib import BNode, Graph, Literal, URIRef
from rdflib.collection import Collection
from rdflib.namespace import DCTERMS, OWL, RDF, RDFS, SKOS, XSD
from rdflib.term import Node

from ..errors import ConformanceError
from ..rdf import BCMKG, IAO_DEFINITION, IAO_REPLACED_BY, OBO, ONTOLOGY_IRI, XREF_PREFIXES, version_iri
from .terms import (
    CURIE_PATTERN,
    XREF_PREDICATES,
    Row,
    expand_curie,
    is_deprecated,
    is_individual,
    parse_equivalent,
    parse_xrefs,
    read_template,
    split_abbreviation,
    split_list,
)

ABBREVIATION = BCMKG["abbreviation"]
ABBREVIATION_CONTEXT = BCMKG["abbreviationContext"]
COMPONENT_MODALITY = BCMKG["componentModality"]
HAS_COMPONENT = BCMKG["hasComponent"]


# --- building the OWL graph ----------------------------------------------------------------

def build_ontology(ontology_dir: Path, release_date: str, version: str) -> Graph:
    """Merge core.ttl (with the static ontology header), the release's version triples and
    every template row into one OWL graph.

    Raises InputError when the template cannot be read at all; row-level mistakes (an
    unknown parent, a bad xref) are left to `kg.ontology.qc.check`, which names file, row
    and column.
    """
    ontology_dir = Path(ontology_dir)
    g = Graph()
    for prefix, ns in (("bcmkg", BCMKG), ("obo", OBO), ("skos", SKOS), ("dcterms", DCTERMS), ("owl", OWL)):
        g.bind(prefix, ns)
    # only what depends on the release is written here; the static header is in core.ttl
    g.add((ONTOLOGY_IRI, OWL.versionIRI, version_iri(release_date)))
    g.add((ONTOLOGY_IRI, OWL.versionInfo, Literal(version)))
    g.add((ONTOLOGY_IRI, DCTERMS.date, Literal(release_date, datatype=XSD.date)))
    core = ontology_dir / "core.ttl"
    if core.exists():
        g.parse(core, format="turtle")
    rows = read_template(ontology_dir)
    parents = {r["id"]: split_list(r.get("parents", "")) for r in rows}
    for r in rows:
        _add_row(g, r, is_individual(r["id"], parents))
    # pyLODE and other SKOS tools read skos:definition, OBO tools IAO:0000115: give both
    for s, definition in list(g.subject_objects(IAO_DEFINITION)):
        g.add((s, SKOS.definition, definition))
    return g


def _add_row(g: Graph, r: Row, individual: bool) -> None:
    """The triples of one template row (see docs/ontology.md for the column meanings)."""
    s = BCMKG[r["id"]]
    parents = [BCMKG[p] for p in split_list(r.get("parents", ""))]
    if individual:
        g.add((s, RDF.type, OWL.NamedIndividual))
        for p in parents:
            g.add((s, RDF.type, p))
    else:
        g.add((s, RDF.type, OWL.Class))
        for p in parents:
            g.add((s, RDFS.subClassOf, p))
    g.add((s, RDFS.isDefinedBy, ONTOLOGY_IRI))
    if r.get("label"):
        g.add((s, RDFS.label, Literal(r["label"], lang="en")))
    if r.get("definition"):
        g.add((s, IAO_DEFINITION, Literal(r["definition"], lang="en")))
    for syn in split_list(r.get("synonyms", "")):
        g.add((s, SKOS.altLabel, Literal(syn, lang="en")))
    for item in split_list(r.get("abbreviations", "")):
        abbr, context = split_abbreviation(item)
        g.add((s, SKOS.altLabel, Literal(abbr)))
        g.add((s, ABBREVIATION, Literal(abbr)))
        if context:   # OWL axiom annotation: this abbreviation holds in this context
            ax = BNode()
            g.add((ax, RDF.type, OWL.Axiom))
            g.add((ax, OWL.annotatedSource, s))
            g.add((ax, OWL.annotatedProperty, ABBREVIATION))
            g.add((ax, OWL.annotatedTarget, Literal(abbr)))
            g.add((ax, ABBREVIATION_CONTEXT, Literal(context)))
    for pred, curie in parse_xrefs(r.get("xrefs", "")):
        if pred in XREF_PREDICATES and CURIE_PATTERN.match(curie) and curie.split(":")[0] in XREF_PREFIXES:
            g.add((s, URIRef(XREF_PREDICATES[pred]), expand_curie(curie)))
    for comp in split_list(r.get("components", "")):
        restriction = BNode()
        g.add((restriction, RDF.type, OWL.Restriction))
        g.add((restriction, OWL.onProperty, HAS_COMPONENT))
        g.add((restriction, OWL.someValuesFrom, BCMKG[comp]))
        g.add((s, RDFS.subClassOf, restriction))
        g.add((s, COMPONENT_MODALITY, BCMKG[comp]))
    if r.get("equivalent"):
        try:
            g.add((s, OWL.equivalentClass, _class_expression(g, parse_equivalent(r["equivalent"]))))
        except ValueError:
            pass   # reported by qc.check()
    if is_deprecated(r):
        g.add((s, OWL.deprecated, Literal(True)))
    if r.get("replaced_by"):
        g.add((s, IAO_REPLACED_BY, BCMKG[r["replaced_by"]]))
    if r.get("comment"):
        g.add((s, RDFS.comment, Literal(r["comment"], lang="en")))


def _class_expression(g: Graph, parts: list[tuple[str, str]]) -> Node:
    """An owl:intersectionOf of named classes and someValuesFrom restrictions."""
    members: list[Node] = []
    for prop, cls in parts:
        if not prop:
            members.append(BCMKG[cls])
            continue
        r = BNode()
        g.add((r, RDF.type, OWL.Restriction))
        g.add((r, OWL.onProperty, BCMKG[prop]))
        g.add((r, OWL.someValuesFrom, BCMKG[cls]))
        members.append(r)
    if len(members) == 1:
        return members[0]
    node, head = BNode(), BNode()
    g.add((node, RDF.type, OWL.Class))
    Collection(g, head, members)
    g.add((node, OWL.intersectionOf, head))
    return node


def class_hierarchy(graph: Graph) -> nx.DiGraph:
    """A networkx view of the asserted named hierarchy: edges child -> parent (classes and
    the rdf:type links of template individuals), restricted to bcmkg terms."""
    dg = nx.DiGraph()
    ns = str(BCMKG)
    for s in graph.subjects(RDF.type, OWL.Class):
        if isinstance(s, URIRef) and str(s).startswith(ns):
            dg.add_node(s)
    for s, o in graph.subject_objects(RDFS.subClassOf):
        if isinstance(s, URIRef) and isinstance(o, URIRef) and str(s).startswith(ns):
            dg.add_edge(s, o)
    for s in graph.subjects(RDF.type, OWL.NamedIndividual):
        for o in graph.objects(s, RDF.type):
            if o != OWL.NamedIndividual and str(o).startswith(ns):
                dg.add_edge(s, o)
    return dg


# --- the reasoner --------------------------------------------------------------------------

@dataclass
class Reasoning:
    """What HermiT found: new direct subclass pairs, unsatisfiable classes, inconsistency."""

    inferred: list[tuple[URIRef, URIRef]]
    unsatisfiable: list[URIRef]
    inconsistent: str
    seconds: float


_REASONING_CACHE: dict[str, Reasoning] = {}


def _graph_key(graph: Graph) -> str:
    """A hash of the graph without its header, so identical terms are classified only once."""
    lines = sorted(f"{s.n3()} {p.n3()} {o.n3()}" for s, p, o in graph
                   if s != ONTOLOGY_IRI and not isinstance(s, BNode) and not isinstance(o, BNode))
    bnodes = sum(1 for s, _, o in graph if isinstance(s, BNode) or isinstance(o, BNode))
    return hashlib.sha256(("\n".join(lines) + f"\n{bnodes}").encode()).hexdigest()


def _die_with_parent() -> None:
    """In the HermiT JVM before it starts: end it when the build process ends (Linux), so a
    killed build leaves no reasoner running."""
    try:
        import ctypes
        import signal
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)    # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def reason(graph: Graph) -> Reasoning:
    """Run HermiT (owlready2) on the graph once; results are cached by the graph's content."""
    key = _graph_key(graph)
    if key in _REASONING_CACHE:
        return _REASONING_CACHE[key]
    import owlready2  # heavy import, only when reasoning is asked for
    import owlready2.reasoning
    owlready2.reasoning._subprocess_kargs.setdefault("preexec_fn", _die_with_parent)
    start = time.perf_counter()
    world = owlready2.World()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "ontology.nt"
        graph.serialize(path, format="nt", encoding="utf-8")
        world.get_ontology(path.as_uri()).load(format="ntriples")
        try:
            with open(os.devnull, "w") as devnull, contextlib.redirect_stdout(devnull):
                owlready2.sync_reasoner_hermit(world, infer_property_values=False, debug=0)
        except owlready2.OwlReadyInconsistentOntologyError as err:
            result = Reasoning([], [], str(err) or "the ontology is inconsistent", time.perf_counter() - start)
            _REASONING_CACHE[key] = result
            return result
        except owlready2.OwlReadyJavaError as err:    # HermiT refused the ontology: say why, no Java trace
            lines = [ln for ln in str(err).splitlines() if ln.strip() and not ln.lstrip().startswith("at ")]
            raise ConformanceError("the reasoner (HermiT) could not read the ontology: "
                                   + " ".join(lines[1:4]).replace("Exception in thread \"main\" ", "")) from None
    unsat = sorted(URIRef(c.iri) for c in world.inconsistent_classes() if hasattr(c, "iri"))
    asserted = {(s, o) for s, o in graph.subject_objects(RDFS.subClassOf) if isinstance(o, URIRef)}
    inferred = set()
    for cls in world.classes():
        for parent in cls.is_a:
            if isinstance(parent, owlready2.ThingClass) and parent is not owlready2.Thing:
                pair = (URIRef(cls.iri), URIRef(parent.iri))
                if pair not in asserted and pair[0] != pair[1]:
                    inferred.add(pair)
    result = Reasoning(sorted(inferred), unsat, "", time.perf_counter() - start)
    _REASONING_CACHE[key] = result
    return result


def infer_subclasses(graph: Graph) -> list[tuple[URIRef, URIRef]]:
    """Classify with HermiT and return the inferred direct (child, parent) pairs not asserted.

    The build adds these as rdfs:subClassOf triples so plain SPARQL (`rdfs:subClassOf*`)
    finds, e.g., HR-positive/HER2-positive claims under both HR-positive and HER2-positive.
    Raises ConformanceError when the ontology is inconsistent or has unsatisfiable classes.
    """
    result = reason(graph)
    if result.inconsistent:
        raise ConformanceError(f"ontology is inconsistent: {result.inconsistent}")
    if result.unsatisfiable:
        raise ConformanceError("unsatisfiable classes: " + ", ".join(str(c) for c in result.unsatisfiable))
    return result.inferred


def write_atomic(path: Path, text: str) -> None:
    """Write to a temporary file next to the target, then rename: readers never see half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
        fh.write(text)
    os.replace(tmp, path)


def write_ontology(ontology_dir: Path, out: Path, release_date: str | None = None) -> Path:
    """Write the merged ontology as Turtle (for curators who want to open it in Protégé).

    The version is the package version from pyproject.toml's installed metadata.
    """
    import datetime
    from importlib.metadata import PackageNotFoundError, version

    try:
        pkg_version = version("bcmkg")
    except PackageNotFoundError:
        pkg_version = "0.0.0"
    date = release_date or datetime.date.today().isoformat()
    graph = build_ontology(ontology_dir, date, pkg_version)
    write_atomic(Path(out), graph.serialize(format="turtle"))
    return Path(out)
