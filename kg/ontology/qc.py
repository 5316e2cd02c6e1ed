"""QC of the ontology: row-level template checks in Python, graph-level checks in SPARQL.

A check that needs the template's file layout (headers, stray cells, duplicate ids, the
syntax of a cell) runs on the rows; a check about the merged ontology (labels, definitions,
dangling references, deprecation) is a query in `queries/qc/*.rq` that must return no rows,
as OBO/ODK QC queries do, so the same file runs under ROBOT or any SPARQL endpoint. Each
row a query returns (`?entity ?property ?value`) becomes a Finding with the file and line
of the entity's template row.

>>> [f for f in check(Path("ontology")) if f.severity == "error"]  # doctest: +SKIP
[]
"""
from __future__ import annotations

import builtins
import difflib
from dataclasses import dataclass
from pathlib import Path

import networkx as nx
import pyoxigraph as ox
from rdflib import Graph
from rdflib.namespace import OWL, RDF, RDFS, SKOS

from ..errors import Problem
from ..rdf import BCMKG, IAO_DEFINITION, IAO_REPLACED_BY, XREF_PREFIXES, compact
from .build import COMPONENT_MODALITY, build_ontology, class_hierarchy, reason
from .terms import (
    CURIE_PATTERN,
    ID_PATTERN,
    XREF_PREDICATES,
    Row,
    parse_equivalent,
    parse_xrefs,
    read_rows,
    split_abbreviation,
    split_list,
    verified_curies,
)

SEVERITIES = ("error", "warning", "info")

#: The graph-level QC queries (one check per file; each must return no rows).
QC_QUERIES = Path(__file__).resolve().parents[2] / "queries" / "qc"

#: A query's ?property, as the template column a curator edits.
COLUMNS = {str(RDFS.subClassOf): "parents", str(RDF.type): "parents", str(RDFS.label): "label",
           str(IAO_DEFINITION): "definition", str(SKOS.altLabel): "synonyms",
           str(COMPONENT_MODALITY): "components", str(IAO_REPLACED_BY): "replaced_by"}


@dataclass
class Finding:
    """One QC result, in the shape of a QC query row (entity, property, value) + problem/fix.

    Severities: `error` (the release must not ship: missing label or definition, duplicate
    id or label, undeclared duplicate abbreviation, undefined reference, bad or unverified
    xref, bad OWL definition, cycle, inconsistency, unsatisfiable class), `warning` (should
    be fixed: reference to a deprecated term, deprecated term without replacement, a synonym
    shared with another term, orphan term), `info` (for review: terms with several parents).
    """

    severity: str
    entity: str
    property: str
    value: str
    problem: str
    fix: str
    file: str = ""
    line: int | None = None

    @builtins.property   # the field `property` shadows the builtin in the class body
    def where(self) -> str:
        return f"{self.file}:{self.line}" if self.line else self.file


def check(ontology_dir: Path, reasoner: bool = True, queries: Path = QC_QUERIES) -> list[Finding]:
    """QC of the template, core.ttl, the merged graph (SPARQL), the hierarchy and HermiT.

    Returns every finding, errors first; an empty list of errors means the ontology can ship.
    """
    ontology_dir = Path(ontology_dir)
    findings = row_findings(ontology_dir)
    core_ok = not any(f.entity == "core.ttl" and f.property == "syntax" for f in findings)
    if core_ok and not any(f.severity == "error" and f.property in ("header", "id") for f in findings):
        # (an id that cannot be an IRI stops here: the graph checks need valid IRIs)
        rows, _ = read_rows(ontology_dir)
        graph = build_ontology(ontology_dir, "2000-01-01", "qc")
        findings += graph_findings(graph, rows, queries)
        findings += _hierarchy_findings(graph, rows)
        if reasoner:
            findings += _reasoner_findings(graph)
    order = {s: i for i, s in enumerate(SEVERITIES)}
    return sorted(findings, key=lambda f: (order[f.severity], f.file, f.line or 0, f.entity))


def build_problems(ontology_dir: Path) -> list[Problem]:
    """The QC errors a build refuses, as Problems naming template file, line, column and value.

    The reasoner is left out: the build runs HermiT itself and stops on its errors.
    """
    return [Problem(f.file, f.line, f.property, f.value, f.problem, f.fix)
            for f in check(ontology_dir, reasoner=False) if f.severity == "error"]


# --- row-level checks (Python) -----------------------------------------------------------------

def row_findings(ontology_dir: Path) -> list[Finding]:
    """The template checks that need no reasoner and no merged graph: headers, cells, ids,
    OWL definitions, xrefs, abbreviations. Each finding names file, row and column."""
    ontology_dir = Path(ontology_dir)
    rows, problems = read_rows(ontology_dir)
    findings = [Finding("error", Path(p.file).name, p.field, str(p.value), p.message, p.hint, p.file, p.line)
                for p in problems]
    try:
        core = Graph().parse(ontology_dir / "core.ttl", format="turtle")
    except Exception as err:   # noqa: BLE001 - any parse failure is a QC error
        findings.append(Finding("error", "core.ttl", "syntax", "", f"cannot parse: {err}", "fix the Turtle",
                                str(ontology_dir / "core.ttl")))
        core = Graph()
    return findings + _row_findings(rows, core, verified_curies(ontology_dir))


def _local(iri: str) -> str:
    return iri[len(str(BCMKG)):] if iri.startswith(str(BCMKG)) else iri


def _row_findings(rows: list[Row], core: Graph, verified: dict[str, dict[str, str]]) -> list[Finding]:
    out: list[Finding] = []
    by_id: dict[str, Row] = {}
    core_ids = {_local(str(s)) for s in core.subjects(RDF.type) if str(s).startswith(str(BCMKG))}
    object_props = {_local(str(s)) for s in core.subjects(RDF.type, OWL.ObjectProperty)
                    if str(s).startswith(str(BCMKG))}

    def add(sev: str, r: Row, col: str, value: str, problem: str, fix: str) -> None:
        out.append(Finding(sev, r.get("id", ""), col, value, problem, fix, r["_file"], r["_line"]))

    for r in rows:
        if not ID_PATTERN.match(r["id"]):
            add("error", r, "id", r["id"], "id is not UpperCamelCase ASCII",
                "use letters and digits, e.g. MicrowaveAblation")
        if r["id"] in by_id or r["id"] in core_ids:
            first = by_id.get(r["id"])
            where = f"{Path(first['_file']).name}:{first['_line']}" if first else "core.ttl"
            add("error", r, "id", r["id"], f"duplicate id (first defined at {where})",
                "choose a new id or edit the existing row")
        by_id.setdefault(r["id"], r)
    known = set(by_id) | core_ids

    abbrs: dict[str, list[tuple[Row, str, str]]] = {}
    for r in rows:
        if r.get("equivalent"):
            try:
                for prop, cls in parse_equivalent(r["equivalent"]):
                    if prop and prop not in object_props:
                        add("error", r, "equivalent", prop, "unknown object property",
                            f"declare it in core.ttl; known: {', '.join(sorted(object_props))}")
                    if cls not in known:
                        add("error", r, "equivalent", cls, "undefined class", did_you_mean(cls, known))
            except ValueError as err:
                add("error", r, "equivalent", r["equivalent"], str(err),
                    "e.g. 'BreastCancerSubtype & hasReceptorStatus some HRPositiveStatus'")
        for pred, curie in parse_xrefs(r.get("xrefs", "")):
            m = CURIE_PATTERN.match(curie)
            if pred not in XREF_PREDICATES:
                add("error", r, "xrefs", f"{pred} {curie}".strip(), "bad xref: expected '<skos predicate> <PREFIX:id>'",
                    f"predicates: {', '.join(XREF_PREDICATES)}")
            elif not m or m.group(1) not in XREF_PREFIXES:
                add("error", r, "xrefs", curie, "unknown xref prefix", f"prefixes: {', '.join(XREF_PREFIXES)}")
            elif curie not in verified:
                add("error", r, "xrefs", curie, "unverified code (not in ontology/xref-sources.tsv)",
                    "verify the code in a published source and record it in xref-sources.tsv, or drop it")
        for item in split_list(r.get("abbreviations", "")):
            abbr, context = split_abbreviation(item)
            abbrs.setdefault(abbr.casefold(), []).append((r, abbr, context))
    for uses in abbrs.values():
        if len({u[0]["id"] for u in uses}) > 1:
            for r, abbr, context in uses:
                if not context:
                    others = ", ".join(sorted({u[0]["id"] for u in uses} - {r["id"]}))
                    add("error", r, "abbreviations", abbr, f"abbreviation also used by {others} without a context tag",
                        f"write it as '{abbr} [context]' on every term that uses it, e.g. '{abbr} [document 003]'")
    return out


def did_you_mean(name: str, known: set[str]) -> str:
    close = difflib.get_close_matches(name, sorted(known), n=3, cutoff=0.6)
    return f"did you mean {' or '.join(close)}?" if close else "use an id defined in ontology/template or core.ttl"


# --- graph-level checks (SPARQL, queries/qc/*.rq) -----------------------------------------------

@dataclass
class QCQuery:
    """One graph-level check: a SELECT of ?entity ?property ?value that must return no rows."""

    name: str
    title: str
    severity: str
    description: str
    fix: str
    sparql: str


def load_qc_queries(folder: Path = QC_QUERIES) -> list[QCQuery]:
    """Read `#+ key: value` headers (a `#+` line without a key continues the previous value)."""
    out = []
    for path in sorted(Path(folder).glob("*.rq")):
        text = path.read_text(encoding="utf-8")
        meta: dict[str, str] = {}
        key = ""
        for line in text.splitlines():
            if not line.startswith("#+"):
                continue
            body = line[2:].strip()
            head, sep, rest = body.partition(":")
            if sep and head.isidentifier() and not line[2:].startswith("   "):
                key, meta[head] = head, rest.strip()
            elif key:
                meta[key] = f"{meta[key]} {body}".strip()
        if meta.get("severity") not in SEVERITIES or not meta.get("title"):
            raise ValueError(f"{path}: a QC query needs '#+ title:' and '#+ severity: error|warning|info'")
        out.append(QCQuery(path.stem, meta["title"], meta["severity"], meta.get("description", ""),
                           meta.get("fix", ""), text))
    return out


def _text(term: object) -> str:
    if term is None:
        return ""
    if isinstance(term, ox.Literal):
        return term.value
    return _local(term.value) if isinstance(term, ox.NamedNode) else str(term)


def graph_findings(graph: Graph, rows: list[Row], queries: Path = QC_QUERIES) -> list[Finding]:
    """Run every QC query over the merged ontology; one Finding per (entity, property, value)."""
    store = ox.Store()
    store.load(graph.serialize(format="nt", encoding="utf-8"), format=ox.RdfFormat.N_TRIPLES)
    where: dict[str, tuple[str, int | None]] = {}
    for r in rows:
        where.setdefault(r["id"], (r["_file"], r["_line"]))
    known = {_local(str(s)) for s in graph.subjects(RDF.type) if str(s).startswith(str(BCMKG))}

    def located(term_id: str) -> str:
        file, line = where.get(term_id, ("core.ttl", None))
        return f"{term_id} at {Path(file).name}:{line}" if line else f"{term_id} in core.ttl"

    out = []
    for q in load_qc_queries(queries):
        solutions = store.query(q.sparql)
        if not isinstance(solutions, ox.QuerySolutions):
            raise ValueError(f"QC query {q.name} must be a SELECT of ?entity ?property ?value")
        grouped: dict[tuple[str, str, str], set[str]] = {}   # (entity, property, value) -> ?other values
        fixes: dict[tuple[str, str, str], str] = {}           # a ?fix the query computed
        for sol in solutions:
            entity, prop = sol["entity"], sol["property"]
            key = (entity.value if isinstance(entity, ox.NamedNode) else str(entity),
                   prop.value if isinstance(prop, ox.NamedNode) else _text(prop), _text(sol["value"]))
            seen = grouped.setdefault(key, set())
            if sol["other"] is not None:   # None when the query has no ?other
                seen.add(_text(sol["other"]))
            if sol["fix"] is not None:
                fixes[key] = _text(sol["fix"])
        for (entity, prop, value), other_ids in grouped.items():
            term_id = _local(entity)
            others = sorted(other_ids)
            fields = {"others": ", ".join(others), "others_at": ", ".join(located(o) for o in others),
                      "suggest": did_you_mean(value, known), "value": value}
            file, line = where.get(term_id, ("core.ttl", None))
            out.append(Finding(q.severity, term_id if entity.startswith(str(BCMKG)) else compact(entity),
                               COLUMNS.get(prop, compact(prop)), value, q.title.format(**fields),
                               fixes.get((entity, prop, value)) or q.fix.format(**fields), file, line))
    return out


# --- the hierarchy and the reasoner ---------------------------------------------------------

def _hierarchy_findings(graph: Graph, rows: list[Row]) -> list[Finding]:
    """Cycles are errors, orphans (no parent, no child) warnings, several parents info."""
    where = {r["id"]: (r["_file"], r["_line"]) for r in rows}
    dg = class_hierarchy(graph)
    out = []
    for cycle in nx.simple_cycles(dg):
        ids = [_local(str(n)) for n in cycle]
        file, line = where.get(ids[0], ("", None))
        out.append(Finding("error", ids[0], "parents", " -> ".join(ids + [ids[0]]), "cycle in the class hierarchy",
                           "remove one of the parent links", file, line))
    for n in dg.nodes:
        if not str(n).startswith(str(BCMKG)):
            continue
        named_parents = list(dg.successors(n))
        file, line = where.get(_local(str(n)), ("core.ttl", None))
        if not named_parents and not list(dg.predecessors(n)):
            out.append(Finding("warning", _local(str(n)), "parents", "", "orphan: no parent and no children",
                               "give it a parent from the group it belongs to", file, line))
        if len(named_parents) > 1:
            several = "|".join(sorted(_local(str(p)) for p in named_parents))
            out.append(Finding("info", _local(str(n)), "parents", several,
                               "several parents", "review: keep only if the term really is both", file, line))
    return out


def _reasoner_findings(graph: Graph) -> list[Finding]:
    result = reason(graph)
    out = []
    if result.inconsistent:
        out.append(Finding("error", "ontology", "owl", "", f"HermiT: inconsistent ({result.inconsistent})",
                           "look for disjoint classes that a definition combines"))
    for c in result.unsatisfiable:
        out.append(Finding("error", _local(str(c)), "owl", "owl:Nothing", "HermiT: unsatisfiable class",
                           "its definition combines disjoint receptor statuses or classes"))
    return out


def format_findings(findings: list[Finding]) -> str:
    """The QC report: one tab-separated row per finding under a header, then a count line."""
    lines = ["severity\tentity\tproperty\tvalue\tproblem\tfix\twhere"]
    lines += [f"{f.severity}\t{f.entity}\t{f.property}\t{f.value}\t{f.problem}\t{f.fix}\t{f.where}" for f in findings]
    counts = {s: sum(1 for f in findings if f.severity == s) for s in SEVERITIES}
    lines.append("# " + ", ".join(f"{n} {s}(s)" for s, n in counts.items()))
    return "\n".join(lines)
