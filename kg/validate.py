"""SHACL validation with pySHACL, one document graph at a time, reported against the source file and line.

Validating each document's graph on its own (plus the ontology, for the class hierarchy)
keeps memory flat, lets unchanged documents be skipped (kg/document_build.py caches them),
and lets several documents run in parallel.
"""
from __future__ import annotations

import hashlib
from pathlib import Path

from pyshacl import validate as pyshacl_validate
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import RDF, SH

from .errors import Problem
from .vocab import BCMKG


def load_shapes(shapes_dir: Path) -> Graph:
    g = Graph()
    for path in sorted(Path(shapes_dir).glob("*.ttl")):
        g.parse(path, format="turtle")
    return g


def _results(report: Graph, data: Graph, shapes: Graph) -> list[Problem]:
    problems = []
    for result in report.subjects(RDF.type, SH.ValidationResult):
        focus = report.value(result, SH.focusNode)
        value = report.value(result, SH.value)
        message = str(report.value(result, SH.resultMessage) or "violates a shape")
        if str(focus).startswith(str(BCMKG)):
            # a term that fails its root check: report every subject that uses it
            for prop in shapes.objects(report.value(result, SH.sourceShape), SH.targetObjectsOf):
                field = str(prop).rsplit("/", 1)[-1]
                for subject in data.subjects(prop, focus):
                    file, line, label = locate_node(data, subject)
                    problems.append(Problem(file, line, f"{label}.{field}", str(focus), message))
            continue  # otherwise a nested detail of a term check
        path = report.value(result, SH.resultPath)
        file, line, label = locate_node(data, focus)
        field = str(path).rsplit("/", 1)[-1].rsplit("#", 1)[-1] if isinstance(path, URIRef) else "node"
        problems.append(Problem(file, line, f"{label}.{field}", None if value is None else str(value), message))
    return sorted(problems, key=lambda p: (p.file, p.line or 0, p.field))


def locate_node(data: Graph, node) -> tuple[str, int | None, str]:
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


def validate_graph(data: Graph, shapes: Graph, ontology: Graph) -> list[Problem]:
    """Validate one document graph; the ontology rides along so shapes can walk rdfs:subClassOf."""
    conforms, report, _ = pyshacl_validate(data, shacl_graph=shapes, ont_graph=ontology, inference="none",
                                           advanced=True, allow_warnings=True)
    return [] if conforms else _results(report, data, shapes)


def files_key(*folders: Path) -> str:
    """A hash of every file under the given folders: what the validation context was built from."""
    h = hashlib.sha256()
    for folder in folders:
        for path in sorted(p for p in Path(folder).rglob("*") if p.is_file()):
            h.update(str(path.relative_to(folder)).encode() + path.read_bytes())
    return h.hexdigest()
