"""SHACL validation with pySHACL, one document graph at a time, reported against the source file and line.

Validating each document's graph on its own (plus the ontology, for the class hierarchy)
keeps memory flat, lets unchanged documents be skipped through a cache, and lets several
documents run in parallel.
"""
from __future__ import annotations

import hashlib
import json
from concurrent.futures import ProcessPoolExecutor
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


def _results(report: Graph, data: Graph) -> list[Problem]:
    problems = []
    for result in report.subjects(RDF.type, SH.ValidationResult):
        focus = report.value(result, SH.focusNode)
        if str(focus).startswith(str(BCMKG)):
            continue  # nested detail of a term check; the claim-level result carries file and line
        path = report.value(result, SH.resultPath)
        value = report.value(result, SH.value)
        message = str(report.value(result, SH.resultMessage) or "violates a shape")
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
    return [] if conforms else _results(report, data)


def _validate_serialised(args: tuple[str, str, str]) -> list[Problem]:
    data_nt, shapes_nt, ont_nt = args
    parse = lambda text: Graph().parse(data=text, format="nt")  # noqa: E731
    return validate_graph(parse(data_nt), parse(shapes_nt), parse(ont_nt))


def validate_documents(graphs: dict[str, Graph], shapes: Graph, ontology: Graph,
                       cache_dir: Path | None = None, workers: int = 1, context_key: str = "") -> list[Problem]:
    """Validate every document graph, skipping those whose graph, shapes and ontology are unchanged.

    `context_key` identifies the shapes and ontology sources (a hash of their files): the merged
    ontology itself has fresh blank nodes on every build, so it cannot serve as a cache key.
    """
    cache_file = Path(cache_dir) / "shacl-ok.json" if cache_dir and context_key else None
    ok: dict[str, str] = json.loads(cache_file.read_text()) if cache_file and cache_file.exists() else {}
    todo: dict[str, tuple[str, str]] = {}
    for name, g in graphs.items():
        data_nt = g.serialize(format="nt")
        key = hashlib.sha256("\n".join(sorted(data_nt.splitlines())).encode() + context_key.encode()).hexdigest()
        if ok.get(name) != key:
            todo[name] = (key, data_nt)
    problems: list[Problem] = []
    if workers > 1 and len(todo) > 1:
        shapes_nt, ont_nt = shapes.serialize(format="nt"), ontology.serialize(format="nt")
        with ProcessPoolExecutor(max_workers=min(workers, len(todo))) as pool:
            outcomes = pool.map(_validate_serialised, [(nt, shapes_nt, ont_nt) for _, nt in todo.values()])
            results = dict(zip(todo, outcomes))
    else:
        results = {name: validate_graph(graphs[name], shapes, ontology) for name in todo}
    for name, found in results.items():
        problems.extend(found)
        if not found:
            ok[name] = todo[name][0]
    if cache_file:
        cache_file.parent.mkdir(parents=True, exist_ok=True)
        cache_file.write_text(json.dumps(ok, indent=1))
    return problems


def files_key(*folders: Path) -> str:
    """A hash of every file under the given folders: what the validation context was built from."""
    h = hashlib.sha256()
    for folder in folders:
        for path in sorted(p for p in Path(folder).rglob("*") if p.is_file()):
            h.update(str(path.relative_to(folder)).encode() + path.read_bytes())
    return h.hexdigest()
