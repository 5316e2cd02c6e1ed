"""SHACL validation with pySHACL, one document graph at a time, reported against the source file and line.

Validating each document's graph on its own (plus the ontology, for the class hierarchy)
keeps memory flat, lets unchanged documents be skipped (kg/document_build.py caches them),
and lets several documents run in parallel.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from typing import Any

import pyoxigraph as ox
from pyshacl import validate as pyshacl_validate
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import RDF, SH
from rdflib.term import Node

from .errors import Problem
from .rdf import BCMKG

XSD_NS, OWL_RATIONAL_IRI = "http://www.w3.org/2001/XMLSchema#", "http://www.w3.org/2002/07/owl#rational"
BCD_NS = "https://w3id.org/bcmkg/id/"


def load_shapes(shapes_dir: Path) -> Graph:
    """The shapes files, with each targeted node shape's property shapes lifted to the top level."""
    g = Graph()
    for path in sorted(Path(shapes_dir).glob("*.ttl")):
        g.parse(path, format="turtle")
    return lift_property_shapes(g)


TARGETS = (SH.targetClass, SH.targetNode, SH.targetObjectsOf, SH.targetSubjectsOf, SH.target)


def lift_property_shapes(shapes: Graph) -> Graph:
    """Give the property shapes of a targeted node shape that node shape's targets, and detach them.

    The same constraints on the same focus nodes (SHACL 2.1, 2.3), but pySHACL then checks each
    property shape once over all focus nodes instead of once per focus node: about 2x faster on
    a document of 1,000 claims. Node shapes that other shapes refer to (sh:node, ...) are left whole.
    """
    referenced = {o for p in (SH.node, SH.qualifiedValueShape, SH["not"]) for o in shapes.objects(None, p)}
    for p in (SH["and"], SH["or"], SH.xone):
        for head in shapes.objects(None, p):
            referenced.update(shapes.items(head))
    for node_shape in set(shapes.subjects(SH.property, None)) - referenced:
        targets = [(p, o) for p in TARGETS for o in shapes.objects(node_shape, p)]
        if not targets:
            continue
        for prop in list(shapes.objects(node_shape, SH.property)):
            shapes.remove((node_shape, SH.property, prop))
            shapes.add((prop, RDF.type, SH.PropertyShape))
            for p, o in targets:
                shapes.add((prop, p, o))
    return shapes


def _results(report: Graph, data: Graph, shapes: Graph) -> list[Problem]:
    problems = []
    details = set(report.objects(None, SH.detail))      # nested results of sh:node / sh:or: reported by their parent
    for result in report.subjects(RDF.type, SH.ValidationResult):
        if result in details:
            continue
        focus = report.value(result, SH.focusNode)
        value = report.value(result, SH.value)
        source = report.value(result, SH.sourceShape)
        message = str(report.value(result, SH.resultMessage) or "violates a shape")
        via = list(shapes.objects(source, SH.targetObjectsOf))
        if via:
            # a term or a figure that fails its check: report every subject that uses it
            for prop in via:
                field = str(prop).rsplit("/", 1)[-1]
                for subject in data.subjects(prop, focus):
                    file, line, label = locate_node(data, subject)
                    problems.append(Problem(file, line, f"{label}.{field}", str(focus), message))
            continue
        path = report.value(result, SH.resultPath)
        if not _locatable(data, focus) and isinstance(value, URIRef) and _locatable(data, value):
            # a rule reached through a term (sh:inversePath from bcmkg:Percent, ...): the claim is the value
            file, line, label = locate_node(data, value)
            field = str(path).rsplit("/", 1)[-1] if isinstance(path, URIRef) else _inverse_field(shapes, path)
            problems.append(Problem(file, line, f"{label}.{field}", str(focus), message))
            continue
        if focus is None or str(focus).startswith(str(BCMKG)):
            continue  # a nested detail of a term check, reported above
        file, line, label = locate_node(data, focus)
        field = str(path).rsplit("/", 1)[-1].rsplit("#", 1)[-1] if isinstance(path, URIRef) else "node"
        problems.append(Problem(file, line, f"{label}.{field}", None if value is None else str(value), message))
    return sorted(problems, key=lambda p: (p.file, p.line or 0, p.field, p.message))


def _locatable(data: Graph, node: Node | None) -> bool:
    return isinstance(node, URIRef) and locate_node(data, node)[1] is not None


def _inverse_field(shapes: Graph, path: Node | None) -> str:
    prop = shapes.value(path, SH.inversePath) if path is not None else None
    return str(prop).rsplit("/", 1)[-1] if prop is not None else "node"


def locate_node(data: Graph, node: Node) -> tuple[str, int | None, str]:
    """File, line and a readable name for a focus node (evidence/selector nodes map to their claim)."""
    subject = node
    if isinstance(node, URIRef):
        for suffix in ("/evidence", "/selector"):
            if str(node).endswith(suffix):
                subject = URIRef(str(node)[: -len(suffix)])
    file = data.value(subject, BCMKG.sourceFile)
    line = data.value(subject, BCMKG.sourceLine)
    claim_id = data.value(subject, BCMKG.claimId)
    label = f"claim '{claim_id}'" if claim_id else str(subject).rsplit("/id/", 1)[-1]
    return (str(file) if file else "(graph)", int(line) if isinstance(line, Literal) else None, label)


def validate_graph(data: Graph, shapes: Graph, ontology: Graph, consume: bool = False) -> list[Problem]:
    """Validate one document graph; the ontology rides along so shapes can walk rdfs:subClassOf.

    With `consume`, the ontology is added to `data` itself instead of to a copy (pySHACL's
    way): the caller gives up the graph, and a document of 1,000 claims validates ~15% faster.
    """
    if consume:
        for triple in ontology:
            data.add(triple)
    conforms, report, _ = pyshacl_validate(data, shacl_graph=shapes, ont_graph=None if consume else ontology,
                                           inference="none", advanced=True, allow_warnings=True, inplace=consume)
    return [] if conforms else _results(report, data, shapes)


# --- a complete structural sample of a document's claims -------------------------------------
#
# Most of a document's triples are its claims, and a claim's verdict under the shapes depends on
# its structure (which properties, how many, of which datatype, its class and the terms that pick
# conditional rules), on the nodes it points to (study, document, terms: kept whole or covered)
# and on its values (the ranges are checked by kg/checker.py already; the sample keeps the
# extreme values anyway). So pySHACL sees every non-claim node whole, plus, per structural
# signature, the claims holding each extreme value, and one claim for every (field, term) pair.
# A document whose sample conforms conforms whole; one whose sample does not is validated whole,
# so the problems reported are exactly those of validating the whole graph.

RDF_TYPE_IRI = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
_NUMERIC = {XSD_NS + t for t in ("decimal", "integer")}


@dataclass(frozen=True)
class ShapeUse:
    """What of the shapes decides how claims may be sampled."""

    picks: frozenset[str]          # properties whose IRI value selects rules (rdf:type, inverse paths)
    valued: frozenset[str]         # properties whose exact literal value a rule tests (sh:in, sh:pattern...)
    ranged: frozenset[str]         # properties whose values a range or length rule may bound
    pairs: tuple[tuple[str, str], ...]   # (p, q) of sh:lessThan / sh:lessThanOrEquals
    safe: bool                     # False: a rule could fail on a subset only; validate whole


def shape_use(shapes: Graph) -> ShapeUse:
    inverse = {str(o) for o in shapes.objects(None, SH.inversePath) if isinstance(o, URIRef)}
    valued: set[str] = set()
    for prop in (SH["in"], SH.hasValue, SH.pattern, SH.languageIn):
        for shape in shapes.subjects(prop, None):
            path = shapes.value(shape, SH.path)
            if isinstance(path, URIRef):
                valued.add(str(path))
    ranged = {str(o) for o in shapes.objects(None, SH.targetObjectsOf)}   # node-level rules on the values
    for prop in (SH.minInclusive, SH.maxInclusive, SH.minExclusive, SH.maxExclusive, SH.minLength, SH.maxLength):
        for shape in shapes.subjects(prop, None):
            path = shapes.value(shape, SH.path)
            if isinstance(path, URIRef):
                ranged.add(str(path))
    pairs = []
    for prop in (SH.lessThan, SH.lessThanOrEquals):
        for shape, other in shapes.subject_objects(prop):
            path = shapes.value(shape, SH.path)
            if isinstance(path, URIRef) and isinstance(other, URIRef):
                pairs.append((str(path), str(other)))
    # rules that a subset of the claims could pass while the whole fails: counting the subjects
    # that point at a node (an upper bound over an inverse path), closed shapes, unique values
    unsafe = bool(set(shapes.subjects(SH.closed, None)) or set(shapes.subjects(SH.disjoint, None)))
    for shape in shapes.subjects(SH.path, None):
        path = shapes.value(shape, SH.path)
        walks_back = path is not None and not isinstance(path, URIRef)
        if walks_back and any(shapes.value(shape, p) is not None
                              for p in (SH.maxCount, SH.qualifiedMaxCount, SH.uniqueLang)):
            unsafe = True
    picks = frozenset({RDF_TYPE_IRI} | inverse | (valued & _iri_props(shapes)))
    return ShapeUse(picks, frozenset(valued), frozenset(ranged), tuple(sorted(pairs)), not unsafe)


def _iri_props(shapes: Graph) -> set[str]:
    return {str(shapes.value(s, SH.path)) for s in shapes.subjects(SH.hasValue, None)} | \
           {str(shapes.value(s, SH.path)) for s in shapes.subjects(SH["in"], None)}


def _number(lit: ox.Literal) -> Fraction | None:
    try:
        if lit.datatype.value in _NUMERIC:
            return Fraction(Decimal(lit.value))
        if lit.datatype.value == OWL_RATIONAL_IRI:
            return Fraction(lit.value)
    except (ArithmeticError, ValueError):
        return None
    return None


def _name(term: object) -> str:
    return term.value if isinstance(term, ox.NamedNode) else str(term)


def validate_sampled(triples: list[ox.Triple], units: set[str], whole_nt: bytes, shapes: Graph,
                     ontology: Graph, use: ShapeUse) -> list[Problem]:
    """Validate a document by its claim sample; when that does not conform (or the shapes do not
    allow sampling), validate the whole document graph, whose problems are the ones reported."""
    from .rdf import nt_bytes
    if use.safe:
        sample = Graph().parse(data=nt_bytes(claim_sample(triples, units, use)), format="nt")
        if not validate_graph(sample, shapes, ontology, consume=True):
            return []
    return validate_graph(Graph().parse(data=whole_nt, format="nt"), shapes, ontology, consume=True)


def claim_sample(triples: list[ox.Triple], units: set[str], use: ShapeUse) -> list[ox.Triple]:
    """Every triple not about a claim (`units`: the claim IRIs) or its own nodes (IRI + '/...'),
    plus the triples of the claims that represent all the others (see above)."""
    owned: dict[str, list[ox.Triple]] = {}
    rest = []
    for t in dict.fromkeys(triples):         # a graph is a set: a triple made twice counts once
        s = _name(t.subject)
        unit = s if s in units else (s.rsplit("/", 1)[0] if "/" in s else "")
        while unit and unit not in units and "/" in unit[len(BCD_NS):]:
            unit = unit.rsplit("/", 1)[0]
        if unit in units:
            owned.setdefault(unit, []).append(t)
        else:
            rest.append(t)
    keep: set[str] = set()
    covered: set[tuple[object, ...]] = set()
    best: dict[tuple[object, ...], tuple[object, str]] = {}    # (signature, what) -> (extreme, unit)
    for unit, ts in owned.items():
        sig, pairs, values = _signature(unit, ts, use)
        if not pairs <= covered:
            covered |= pairs
            keep.add(unit)
        for what, value in values:
            key = (sig, *what)
            held = best.get(key)
            if held is None or (value < held[0] if what[0] != "max" else value > held[0]):  # type: ignore[operator]
                best[key] = (value, unit)
    keep |= {unit for _, unit in best.values()}
    return rest + [t for unit in keep for t in owned[unit]]


def _signature(unit: str, ts: list[ox.Triple], use: ShapeUse) -> tuple[
        tuple[object, ...], set[tuple[object, ...]], list[tuple[tuple[object, ...], object]]]:
    """A claim's structure (each key: the node below the claim, the property, the kind of value,
    and the IRI for the properties that pick rules), the (key, value) pairs some claim must show
    pySHACL, and the values whose extremes must be shown."""
    keys: list[tuple[object, ...]] = []
    pairs: set[tuple[object, ...]] = set()
    values: list[tuple[tuple[object, ...], object]] = []
    seen: dict[str, int] = {}               # which of the claim's targets are the same node
    nums: dict[tuple[str, str], list[Fraction]] = {}
    for t in ts:
        where, p, o = _name(t.subject)[len(unit):], t.predicate.value, t.object
        if isinstance(o, ox.Literal):
            keys.append((where, p, "literal", o.datatype.value, o.language))
            num = _number(o)
            if p in use.valued or (num is None and o.datatype.value in _NUMERIC | {OWL_RATIONAL_IRI}):
                pairs.add((where, p, o.value, o.datatype.value, o.language))
            if num is not None:
                nums.setdefault((where, p), []).append(num)
            if p in use.ranged:
                v = num if num is not None else len(o.value)
                values += [(("min", where, p), v), (("max", where, p), v)]
        elif isinstance(o, ox.NamedNode) and o.value.startswith(unit + "/"):
            keys.append((where, p, "own", o.value[len(unit):]))
        else:
            node = o.value if isinstance(o, ox.NamedNode) else str(o)
            same = seen.setdefault(node, len(seen))
            keys.append((where, p, "node", same, node if p in use.picks else None))
            pairs.add((where, p, node))
    for p, q in use.pairs:                    # the claim closest to breaking p < q or p <= q
        for (where, prop), lows in nums.items():
            if prop == p and (where, q) in nums:
                values.append((("min", where, p, q), min(nums[(where, q)]) - max(lows)))
    return tuple(sorted(keys, key=repr)), pairs, values


def files_key(*folders: Path) -> str:
    """A hash of every file under the given folders: what the validation context was built from."""
    h = hashlib.sha256()
    for folder in folders:
        for path in sorted(p for p in Path(folder).rglob("*") if p.is_file()):
            h.update(str(path.relative_to(folder)).encode() + path.read_bytes())
    return h.hexdigest()


# --- checks only the merged release can answer -----------------------------------------------

def merged_checks(folder: Path) -> list[tuple[str, str, str]]:
    """(name, severity, SPARQL) of each shapes/merged/*.rq: each returns ?entity ?property ?value
    and must return no rows."""
    out = []
    for path in sorted(Path(folder).glob("*.rq")):
        text = path.read_text(encoding="utf-8")
        severity = "error"
        for line in text.splitlines():
            if line.startswith("#+ severity:"):
                severity = line.split(":", 1)[1].strip()
        out.append((path.stem, severity, text))
    return out


def check_merged(store: Any, folder: Path) -> list[Problem]:
    """Run the merged-release checks on a pyoxigraph store of the whole release (default graph =
    the union of the documents' graphs); one Problem per offending row, naming the check."""
    problems = []
    for name, severity, text in merged_checks(folder):
        if severity != "error":
            continue
        for row in store.query(text, use_default_graph_as_union=True):
            entity, prop, value = (getattr(row[v], "value", str(row[v])) for v in ("entity", "property", "value"))
            problems.append(Problem(f"shapes/merged/{name}.rq", None, prop.rsplit("/", 1)[-1],
                                    value, f"{entity} breaks the rule '{name}'",
                                    "see the check's description; fix the extraction files that define it"))
    return problems
