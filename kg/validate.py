"""SHACL validation with pySHACL, one document graph at a time, reported against the source file and line.

Validating each document's graph on its own (plus the ontology, for the class hierarchy)
keeps memory flat, lets unchanged documents be skipped (kg/document_build.py caches them),
and lets several documents run in parallel.
"""
from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import pyoxigraph as ox
from pyshacl import validate as pyshacl_validate
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import RDF, SH
from rdflib.term import Node

from .errors import Problem
from .rdf import BCMKG
from .shacl_sample import DocSample, ShapeUse, document_sample, mergeable_groups, merged_sample


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



def validate_sampled(triples: list[ox.Triple], units: set[str], whole_nt: bytes, shapes: Graph,
                     ontology: Graph, use: ShapeUse) -> list[Problem]:
    """Validate one document by its claim sample (kg/shacl_sample.py); when that does not conform
    (or the shapes do not allow sampling), validate the whole document graph, whose problems
    are the ones reported."""
    return validate_documents([document_sample(triples, units, use) if use.safe else None],
                              [whole_nt], shapes, ontology, use)[0]


def validate_documents(samples: list[DocSample | None], wholes: list[bytes], shapes: Graph, ontology: Graph,
                       use: ShapeUse) -> list[list[Problem]]:
    """Each document's SHACL problems, as validating its whole graph (`wholes`, N-Triples) with
    the ontology gives them. Documents that share no node are validated together, by one pySHACL
    run over their merged samples; a group that does not conform is validated one document at a
    time, by its sample and then, when that does not conform, whole."""
    problems: list[list[Problem]] = [[] for _ in wholes]
    ready = [i for i, s in enumerate(samples) if s is not None and use.safe]
    for i in sorted(set(range(len(wholes))) - set(ready)):
        problems[i] = _validate_nt(wholes[i], shapes, ontology)
    for group in mergeable_groups([s for s in samples if s is not None and use.safe], ontology_subjects(ontology), use):
        members = [ready[k] for k in group]
        parts = [s for s in (samples[i] for i in members) if s is not None]
        if len(members) > 1 and not _validate_nt(merged_sample(parts), shapes, ontology):
            continue
        for i in members:
            sample = samples[i]
            assert sample is not None
            if _validate_nt(merged_sample([sample]), shapes, ontology):
                problems[i] = _validate_nt(wholes[i], shapes, ontology)
    return problems


def _validate_nt(nt: bytes, shapes: Graph, ontology: Graph) -> list[Problem]:
    return validate_graph(Graph().parse(data=nt, format="nt"), shapes, ontology, consume=True)


def ontology_subjects(ontology: Graph) -> set[str]:
    return {str(s) for s in ontology.subjects() if isinstance(s, URIRef)}

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
    """Run the merged-release checks on the release's store, whose default graph holds every
    triple once (kg.release.write_store); one Problem per offending row, naming the check.
    The default graph, not the union of the named graphs: the same answers, 2-9x faster at 10^5."""
    problems = []
    for name, severity, text in merged_checks(folder):
        if severity != "error":
            continue
        for row in store.query(text):
            entity, prop, value = (getattr(row[v], "value", str(row[v])) for v in ("entity", "property", "value"))
            problems.append(Problem(f"shapes/merged/{name}.rq", None, prop.rsplit("/", 1)[-1],
                                    value, f"{entity} breaks the rule '{name}'",
                                    "see the check's description; fix the extraction files that define it"))
    return problems
