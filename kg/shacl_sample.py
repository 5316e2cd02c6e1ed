"""A complete structural sample of the claims of documents, for SHACL validation (kg/validate.py).

Most of a document's triples are its claims, and a claim's verdict under the shapes depends on
its structure (which properties, how many, of which datatype, its class and the terms that pick
conditional rules), on the nodes it points to (study, document, terms) and on its values. So
pySHACL is shown every triple that is not about a claim, and of the claims:

- one for every (node below the claim, property, object) pair that any claim has for an IRI
  object or for a literal whose exact value a shape tests (sh:in, sh:pattern, ...), so every
  term, study and document a claim points at is checked;
- per structural signature (the claim's keys: node below it, property, kind of value, datatype,
  which of its objects are the same node, and the IRI of the properties that pick rules:
  rdf:type and the properties shapes walk back along, sh:inversePath), the claims holding the
  smallest and the largest value (or length) of every property a range or length rule may bound,
  and the claim closest to breaking each sh:lessThan / sh:lessThanOrEquals pair.

A claim that breaks a rule therefore has, in the sample, a claim of the same structure that
breaks it too (the extreme one), or is itself there (its term, study or value is new). So: the
sample conforms exactly when the whole does, the rules the shapes use being of those kinds
(`ShapeUse.safe` is False when a rule could fail on the whole but not on a subset: an upper
bound over a path that walks back, closed shapes, SPARQL). The ranges are also checked by
kg/checker.py on the YAML; a sample that does not conform is validated whole, so the problems
reported are always those of validating the whole graph. tests/test_sampling.py breaks an
ordinary claim each way the shapes forbid.

Samples of several documents that share no node (no subject of one is a subject or object of
another, nor of the ontology) are merged and sampled again: one pySHACL run for all of them.
"""
from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction

import pyoxigraph as ox
from rdflib import Graph, URIRef
from rdflib.namespace import SH
from rdflib.term import Node

from .rdf import nt_bytes

__all__ = ["ShapeUse", "shape_use", "DocSample", "document_sample", "merged_sample", "mergeable_groups",
           "claim_sample"]

XSD_NS = "http://www.w3.org/2001/XMLSchema#"
OWL_RATIONAL_IRI = "http://www.w3.org/2002/07/owl#rational"
BCD_NS = "https://w3id.org/bcmkg/id/"
RDF_TYPE_IRI = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
_NUMERIC = {XSD_NS + t for t in ("decimal", "integer")}

Key = tuple[object, ...]


@dataclass(frozen=True)
class ShapeUse:
    """What of the shapes decides how claims may be sampled."""

    picks: frozenset[str]          # properties whose IRI value selects rules (rdf:type, inverse paths)
    valued: frozenset[str]         # properties whose exact literal value a rule tests (sh:in, sh:pattern...)
    ranged: frozenset[str]         # properties whose values a range or length rule may bound
    pairs: tuple[tuple[str, str], ...]   # (p, q) of sh:lessThan / sh:lessThanOrEquals
    safe: bool                     # False: a rule could fail on the whole but not on a subset
    mergeable: bool                # False: a rule counts across documents (a bound over a walk back)


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
    pairs = [(str(shapes.value(shape, SH.path)), str(other)) for prop in (SH.lessThan, SH.lessThanOrEquals)
             for shape, other in shapes.subject_objects(prop)
             if isinstance(shapes.value(shape, SH.path), URIRef) and isinstance(other, URIRef)]
    unsafe = any(set(shapes.subjects(p, None)) for p in (SH.closed, SH.disjoint, SH.sparql, SH.target))
    unmergeable = False
    for shape in shapes.subjects(SH.path, None):
        path = shapes.value(shape, SH.path)
        if path is None or isinstance(path, URIRef):
            continue
        if any(shapes.value(shape, p) is not None for p in (SH.maxCount, SH.qualifiedMaxCount, SH.uniqueLang)):
            unsafe = True
        if any(shapes.value(shape, p) is not None for p in (SH.minCount, SH.qualifiedMinCount)) \
                and _walks_back(shapes, path):
            unmergeable = True
    picks = frozenset({RDF_TYPE_IRI} | inverse | (valued & _iri_props(shapes)))
    return ShapeUse(picks, frozenset(valued), frozenset(ranged), tuple(sorted(pairs)), not unsafe,
                    not unsafe and not unmergeable)


def _walks_back(shapes: Graph, path: Node | None, depth: int = 0) -> bool:
    """Whether a path expression contains sh:inversePath (looked for through lists and nesting)."""
    if depth > 20 or path is None or isinstance(path, URIRef):
        return False
    if shapes.value(path, SH.inversePath) is not None:
        return True
    nested = [o for _, o in shapes.predicate_objects(path)]
    return any(_walks_back(shapes, o, depth + 1) for o in nested)


def _iri_props(shapes: Graph) -> set[str]:
    return {str(shapes.value(s, SH.path)) for p in (SH.hasValue, SH["in"]) for s in shapes.subjects(p, None)}


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


@dataclass
class Candidate:
    """One claim that may represent others: its triples, the pairs it shows, its extreme keys."""

    unit: str
    nt: bytes
    pairs: frozenset[Key]
    values: list[tuple[Key, object]]


@dataclass
class DocSample:
    """A document's sample: its other triples (N-Triples), the claims its own choice kept, and
    the nodes it holds (for merging with other documents)."""

    rest: bytes
    claims: list[Candidate]
    subjects: frozenset[str] = field(default_factory=frozenset)
    objects: frozenset[str] = field(default_factory=frozenset)


def _split(triples: Iterable[ox.Triple], units: set[str]) -> tuple[list[ox.Triple], dict[str, list[ox.Triple]]]:
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
    return rest, owned


def choose(candidates: list[Candidate]) -> list[Candidate]:
    """The candidates that represent all: each new pair, and each extreme per signature key."""
    keep: dict[int, Candidate] = {}
    covered: set[Key] = set()
    best: dict[Key, tuple[object, int]] = {}    # (signature, what) -> (extreme, candidate)
    for i, cand in enumerate(candidates):
        if not cand.pairs <= covered:
            covered |= cand.pairs
            keep[i] = cand
        for key, value in cand.values:
            held = best.get(key)
            if held is None or (value < held[0] if key[1] != "max" else value > held[0]):  # type: ignore[operator]
                best[key] = (value, i)
    keep.update((i, candidates[i]) for _, i in best.values())
    return [keep[i] for i in sorted(keep)]


def document_sample(triples: list[ox.Triple], units: set[str], use: ShapeUse) -> DocSample:
    rest, owned = _split(triples, units)
    chosen = choose([_candidate(unit, ts, use) for unit, ts in owned.items()])
    kept = rest + [t for c in chosen for t in owned[c.unit]]
    subjects = frozenset(_name(t.subject) for t in kept)
    objects = frozenset(t.object.value for t in kept if isinstance(t.object, ox.NamedNode))
    for c in chosen:
        c.nt = nt_bytes(owned[c.unit])
    return DocSample(nt_bytes(rest), chosen, subjects, objects)


def claim_sample(triples: list[ox.Triple], units: set[str], use: ShapeUse) -> list[ox.Triple]:
    """The sampled triples of one document (the same choice as document_sample)."""
    rest, owned = _split(triples, units)
    return rest + [t for c in choose([_candidate(u, ts, use) for u, ts in owned.items()]) for t in owned[c.unit]]


def merged_sample(samples: list[DocSample]) -> bytes:
    """N-Triples of the documents' other triples and the claims chosen again over all of them."""
    chosen = choose([c for s in samples for c in s.claims]) if len(samples) > 1 else samples[0].claims
    return b"".join([s.rest for s in samples] + [c.nt for c in chosen])


def mergeable_groups(samples: list[DocSample], ontology: set[str], use: ShapeUse) -> list[list[int]]:
    """Indices of documents that may be validated together: no subject of one is a subject or an
    object of another (so no rule walks from one document into another), nor a subject of the
    ontology. Greedy, in order; a document that shares nodes starts a group of its own."""
    groups: list[tuple[list[int], set[str], set[str]]] = []
    for i, s in enumerate(samples):
        if not use.mergeable or s.subjects & ontology:
            groups.append(([i], set(), set()))
            continue
        for members, subjects, objects in groups:
            if members and subjects and not (s.subjects & (subjects | objects)) and not (subjects & s.objects):
                members.append(i)
                subjects |= s.subjects
                objects |= s.objects
                break
        else:
            groups.append(([i], set(s.subjects), set(s.objects)))
    return [members for members, _, _ in groups]


def _candidate(unit: str, ts: list[ox.Triple], use: ShapeUse) -> Candidate:
    """A claim's pairs and extremes, keyed by its signature (a digest of its structure: each key
    is the node below the claim, the property, the kind of value, and for the properties that
    pick rules the IRI)."""
    keys: list[Key] = []
    pairs: set[Key] = set()
    values: list[tuple[tuple[str, ...], object]] = []
    seen: dict[str, int] = {}               # which of the claim's objects are the same node
    nums: dict[tuple[str, str], list[Fraction]] = {}
    compared = use.ranged | {p for pair in use.pairs for p in pair}
    for t in ts:
        where, p, o = _name(t.subject)[len(unit):], t.predicate.value, t.object
        if isinstance(o, ox.Literal):
            dt = o.datatype.value
            keys.append((where, p, "literal", dt, o.language))
            num = _number(o) if p in compared or dt in _NUMERIC or dt == OWL_RATIONAL_IRI else None
            if p in use.valued or (num is None and (dt in _NUMERIC or dt == OWL_RATIONAL_IRI)):
                pairs.add((where, p, o.value, dt, o.language))
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
    # in the transform's order: the same structure made in another order only adds a signature
    sig = hashlib.blake2b(repr(keys).encode(), digest_size=16).digest()
    return Candidate(unit, b"", frozenset(pairs), [((sig, *what), v) for what, v in values])
