"""The ontology: template merge (tabular rows -> OWL), QC, the reasoner check, mappings, docs.

Curators add terms as rows of `ontology/template/*.tsv` (and `template/additions/*.tsv`);
the hand-written `ontology/core.ttl` holds the data-model classes and properties. This
module turns both into one OWL graph, checks it (`check`), classifies it with HermiT
(`infer_subclasses`) and derives the SSSOM mapping table and the term pages from it.

>>> g = build_ontology(Path("ontology"), "2026-01-31", "0.1.0")   # doctest: +SKIP
>>> [f for f in check(Path("ontology")) if f.severity == "error"]  # doctest: +SKIP
[]
"""
from __future__ import annotations

import contextlib
import csv
import difflib
import hashlib
import os
import re
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import networkx as nx
from rdflib import BNode, Graph, Literal, URIRef
from rdflib.collection import Collection
from rdflib.namespace import DCTERMS, OWL, RDF, RDFS, SKOS, XSD

from .errors import ConformanceError, InputError, Problem
from .rdf import BASE, BCMKG, IAO_DEFINITION, IAO_REPLACED_BY, ONTOLOGY_IRI, XREF_PREFIXES, version_iri
from .vocab import Term

TEMPLATE_COLUMNS = ["id", "label", "parents", "definition", "synonyms", "abbreviations",
                    "xrefs", "components", "equivalent", "deprecated", "replaced_by", "comment"]

#: Template roots whose descendants are OWL named individuals rather than classes: a unit
#: has no subkinds, and the data side uses it as a plain value (`bcmkg:unit bcmkg:Percent`).
INDIVIDUAL_ROOTS = {"Unit"}

XREF_PREDICATES = {"skos:exactMatch": SKOS.exactMatch, "skos:closeMatch": SKOS.closeMatch,
                   "skos:broadMatch": SKOS.broadMatch, "skos:narrowMatch": SKOS.narrowMatch,
                   "skos:relatedMatch": SKOS.relatedMatch}
ABBREVIATION = BCMKG["abbreviation"]
ABBREVIATION_CONTEXT = BCMKG["abbreviationContext"]
COMPONENT_MODALITY = BCMKG["componentModality"]
HAS_COMPONENT = BCMKG["hasComponent"]
ID_PATTERN = re.compile(r"^[A-Z][A-Za-z0-9]*$")
CURIE_PATTERN = re.compile(r"^([A-Za-z]+):([A-Za-z0-9_.-]+)$")
LICENSE = URIRef("https://creativecommons.org/licenses/by/4.0/")
SEVERITIES = ("error", "warning", "info")


# --- reading the template ----------------------------------------------------------------

def template_files(ontology_dir: Path) -> list[Path]:
    """Every template TSV: the curated groups, then curators' additions."""
    tdir = Path(ontology_dir) / "template"
    return sorted(tdir.glob("*.tsv")) + sorted((tdir / "additions").glob("*.tsv"))


def _read_rows(ontology_dir: Path) -> tuple[list[dict], list[Problem]]:
    """Rows of every template file plus header problems (kept apart so QC can report both)."""
    rows: list[dict] = []
    problems: list[Problem] = []
    for path in template_files(ontology_dir):
        with open(path, encoding="utf-8", newline="") as fh:
            reader = csv.DictReader(fh, delimiter="\t", quoting=csv.QUOTE_NONE)
            header = reader.fieldnames or []
            missing = [c for c in ("id", "label", "parents") if c not in header]
            if missing:
                problems.append(Problem(str(path), 1, "header", header,
                                        f"missing column(s) {', '.join(missing)}",
                                        f"expected columns: {', '.join(TEMPLATE_COLUMNS)}"))
                continue
            for col in header:
                if col not in TEMPLATE_COLUMNS:
                    problems.append(Problem(str(path), 1, col, col, "unknown column",
                                            f"expected columns: {', '.join(TEMPLATE_COLUMNS)}"))
            for lineno, row in enumerate(reader, start=2):
                if not any((v or "").strip() for v in row.values() if isinstance(v, str)):
                    continue
                if None in row:
                    problems.append(Problem(str(path), lineno, "row", row[None],
                                            "more cells than header columns", "check for stray tabs"))
                clean = {k: (v or "").strip() for k, v in row.items() if k is not None}
                clean["_file"], clean["_line"] = str(path), lineno
                rows.append(clean)
    return rows, problems


def read_template(ontology_dir: Path) -> list[dict]:
    """Read every template row as a dict, remembering file and line for error messages."""
    rows, problems = _read_rows(ontology_dir)
    fatal = [p for p in problems if p.field == "header"]
    if fatal:
        raise InputError(fatal)
    return rows


def split_list(cell: str) -> list[str]:
    return [p.strip() for p in (cell or "").split("|") if p.strip()]


def split_abbreviation(item: str) -> tuple[str, str]:
    """`'HR [document 003]'` -> `('HR', 'document 003')`; the tag says where the meaning holds.

    >>> split_abbreviation("HR [document 003]")
    ('HR', 'document 003')
    >>> split_abbreviation("MWA")
    ('MWA', '')
    """
    m = re.match(r"^(.*?)\s*\[(.*)\]\s*$", item)
    return (m.group(1).strip(), m.group(2).strip()) if m else (item.strip(), "")


def terms_from_rows(rows: list[dict]) -> list[Term]:
    return [Term(id=r["id"], label=r["label"], parents=split_list(r.get("parents", "")),
                 abbreviations=[split_abbreviation(a)[0] for a in split_list(r.get("abbreviations", ""))],
                 synonyms=split_list(r.get("synonyms", "")),
                 deprecated=r.get("deprecated", "").lower() in ("true", "yes", "1"),
                 replaced_by=r.get("replaced_by", ""))
            for r in rows]


def parse_xrefs(cell: str) -> list[tuple[str, str]]:
    """`'skos:exactMatch NCIT:C15666|skos:closeMatch MAXO:0001395'` -> [(predicate, curie), ...]."""
    out = []
    for item in split_list(cell):
        parts = item.split()
        out.append((parts[0], parts[1]) if len(parts) == 2 else ("", item))
    return out


def expand_curie(curie: str) -> URIRef:
    prefix, local = curie.split(":", 1)
    return URIRef(XREF_PREFIXES[prefix] + local)


def parse_equivalent(cell: str) -> list[tuple[str, str]]:
    """Parse the `equivalent` cell: parts joined by `&`, each `Class` or `property some Class`.

    Returns [(property or '', class id), ...]; raises ValueError on anything else.

    >>> parse_equivalent("BreastCancerSubtype & hasReceptorStatus some HER2PositiveStatus")
    [('', 'BreastCancerSubtype'), ('hasReceptorStatus', 'HER2PositiveStatus')]
    """
    parts = []
    for part in (p.strip() for p in cell.split("&")):
        words = part.split()
        if len(words) == 1 and ID_PATTERN.match(words[0]):
            parts.append(("", words[0]))
        elif len(words) == 3 and words[1] == "some" and ID_PATTERN.match(words[2]):
            parts.append((words[0], words[2]))
        else:
            raise ValueError(f"cannot read {part!r}: write 'Class' or 'property some Class', joined by '&'")
    return parts


def is_individual(term_id: str, parents: dict[str, list[str]]) -> bool:
    """True when the term sits below one of INDIVIDUAL_ROOTS (the root itself stays a class)."""
    seen, stack = set(), list(parents.get(term_id, []))
    while stack:
        p = stack.pop()
        if p in INDIVIDUAL_ROOTS:
            return True
        if p not in seen:
            seen.add(p)
            stack.extend(parents.get(p, []))
    return False


# --- building the OWL graph ----------------------------------------------------------------

def build_ontology(ontology_dir: Path, release_date: str, version: str) -> Graph:
    """Merge the header, core.ttl and every template row into one OWL graph.

    Raises InputError when the template cannot be read at all; row-level mistakes (an
    unknown parent, a bad xref) are left to `check`, which names file, row and column.
    """
    ontology_dir = Path(ontology_dir)
    g = Graph()
    for prefix, ns in (("bcmkg", BCMKG), ("obo", "http://purl.obolibrary.org/obo/"), ("skos", SKOS),
                       ("dcterms", DCTERMS), ("owl", OWL)):
        g.bind(prefix, ns)
    o = ONTOLOGY_IRI
    g.add((o, RDF.type, OWL.Ontology))
    g.add((o, OWL.versionIRI, version_iri(release_date)))
    g.add((o, OWL.versionInfo, Literal(version)))
    g.add((o, DCTERMS.title, Literal("Breast cancer metastasis knowledge graph ontology (bcmkg)", lang="en")))
    g.add((o, DCTERMS.description, Literal(
        "Vocabulary of metastatic sites, treatment modalities, biomarkers and subtypes, study designs, "
        "endpoints and statistic types, and the data model of outcome claims extracted from reviews of "
        "surgery and local therapies for breast cancer metastases.", lang="en")))
    g.add((o, DCTERMS.license, LICENSE))
    g.add((o, DCTERMS.creator, Literal("bcmkg project")))
    g.add((o, DCTERMS.date, Literal(release_date, datatype=XSD.date)))
    core = ontology_dir / "core.ttl"
    if core.exists():
        g.parse(core, format="turtle")
    rows = read_template(ontology_dir)
    parents = {r["id"]: split_list(r.get("parents", "")) for r in rows}
    for r in rows:
        _add_row(g, r, is_individual(r["id"], parents))
    return g


def _add_row(g: Graph, r: dict, individual: bool) -> None:
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
            g.add((s, XREF_PREDICATES[pred], expand_curie(curie)))
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
            pass   # reported by check()
    if r.get("deprecated", "").lower() in ("true", "yes", "1"):
        g.add((s, OWL.deprecated, Literal(True)))
    if r.get("replaced_by"):
        g.add((s, IAO_REPLACED_BY, BCMKG[r["replaced_by"]]))
    if r.get("comment"):
        g.add((s, RDFS.comment, Literal(r["comment"], lang="en")))


def _class_expression(g: Graph, parts: list[tuple[str, str]]) -> URIRef | BNode:
    """An owl:intersectionOf of named classes and someValuesFrom restrictions."""
    members: list[URIRef | BNode] = []
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


def reason(graph: Graph) -> Reasoning:
    """Run HermiT (owlready2) on the graph once; results are cached by the graph's content."""
    key = _graph_key(graph)
    if key in _REASONING_CACHE:
        return _REASONING_CACHE[key]
    import owlready2   # heavy import, only when reasoning is asked for
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


# --- QC ------------------------------------------------------------------------------------

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

    @property
    def where(self) -> str:
        return f"{self.file}:{self.line}" if self.line else self.file


def check(ontology_dir: Path, reasoner: bool = True) -> list[Finding]:
    """QC of the template, core.ttl, the class hierarchy and (optionally) HermiT.

    Returns every finding, errors first; an empty list of errors means the ontology can ship.
    """
    ontology_dir = Path(ontology_dir)
    rows, problems = _read_rows(ontology_dir)
    findings = [Finding("error", Path(p.file).name, p.field, str(p.value), p.message, p.hint, p.file, p.line)
                for p in problems]
    try:
        core = Graph().parse(ontology_dir / "core.ttl", format="turtle")
    except Exception as err:   # noqa: BLE001 - any parse failure is a QC error
        findings.append(Finding("error", "core.ttl", "syntax", "", f"cannot parse: {err}", "fix the Turtle",
                                str(ontology_dir / "core.ttl")))
        core = Graph()
    findings += _row_findings(rows, core, _verified_curies(ontology_dir))
    if not any(f.severity == "error" and f.property == "header" for f in findings):
        graph = build_ontology(ontology_dir, "2000-01-01", "qc")
        findings += _hierarchy_findings(graph, rows)
        if reasoner:
            findings += _reasoner_findings(graph)
    order = {s: i for i, s in enumerate(SEVERITIES)}
    return sorted(findings, key=lambda f: (order[f.severity], f.file, f.line or 0, f.entity))


def _verified_curies(ontology_dir: Path) -> dict[str, dict]:
    """The verification record: every xref code with the published source it was checked in."""
    path = ontology_dir / "xref-sources.tsv"
    if not path.exists():
        return {}
    with open(path, encoding="utf-8", newline="") as fh:
        return {r["curie"]: r for r in csv.DictReader(
            (line for line in fh if not line.startswith("#")), delimiter="\t", quoting=csv.QUOTE_NONE)}


def _row_findings(rows: list[dict], core: Graph, verified: dict[str, dict]) -> list[Finding]:
    """Per-row and cross-row template checks; each finding names file, row and column."""
    out: list[Finding] = []
    by_id: dict[str, dict] = {}
    core_ids = {str(s)[len(str(BCMKG)):] for s in core.subjects(RDF.type) if str(s).startswith(str(BCMKG))}
    object_props = {str(s)[len(str(BCMKG)):] for s in core.subjects(RDF.type, OWL.ObjectProperty)
                    if str(s).startswith(str(BCMKG))}

    def add(sev: str, r: dict, col: str, value: str, problem: str, fix: str) -> None:
        out.append(Finding(sev, r.get("id", ""), col, value, problem, fix, r["_file"], r["_line"]))

    for r in rows:
        if not ID_PATTERN.match(r["id"]):
            add("error", r, "id", r["id"], "id is not UpperCamelCase ASCII", "use letters and digits, e.g. MicrowaveAblation")
        if r["id"] in by_id or r["id"] in core_ids:
            first = by_id.get(r["id"])
            where = f"{Path(first['_file']).name}:{first['_line']}" if first else "core.ttl"
            add("error", r, "id", r["id"], f"duplicate id (first defined at {where})", "choose a new id or edit the existing row")
        by_id.setdefault(r["id"], r)
    known = set(by_id) | core_ids
    deprecated = {i for i, r in by_id.items() if r.get("deprecated", "").lower() in ("true", "yes", "1")}
    parents = {r["id"]: split_list(r.get("parents", "")) for r in rows}

    labels: dict[str, dict] = {}
    abbrs: dict[str, list[tuple[dict, str, str]]] = {}
    for r in rows:
        if not r.get("label"):
            add("error", r, "label", "", "missing label", "write a lowercase human-readable label")
        elif r["label"].casefold() in labels and labels[r["label"].casefold()] is not r:
            other = labels[r["label"].casefold()]
            add("error", r, "label", r["label"], f"duplicate label (also {other['id']} at "
                f"{Path(other['_file']).name}:{other['_line']})", "make the label unique, e.g. add what kind of thing it is")
        else:
            labels[r["label"].casefold()] = r
        if not r.get("definition"):
            add("error", r, "definition", "", "missing definition", "write a one-sentence definition in your own words")
        for p in parents[r["id"]]:
            if p not in known:
                add("error", r, "parents", p, "undefined parent", _did_you_mean(p, known))
            elif p in deprecated:
                add("warning", r, "parents", p, "parent is deprecated", f"use {by_id[p].get('replaced_by') or 'a current term'}")
        for c in split_list(r.get("components", "")):
            if c not in known:
                add("error", r, "components", c, "undefined component", _did_you_mean(c, known))
            elif c in deprecated:
                add("warning", r, "components", c, "component is deprecated", "use its replacement")
            elif not _descends(c, "Modality", parents):
                add("error", r, "components", c, "component is not a Modality", "name a modality id")
        if r.get("equivalent"):
            try:
                for prop, cls in parse_equivalent(r["equivalent"]):
                    if prop and prop not in object_props:
                        add("error", r, "equivalent", prop, "unknown object property",
                            f"declare it in core.ttl; known: {', '.join(sorted(object_props))}")
                    if cls not in known:
                        add("error", r, "equivalent", cls, "undefined class", _did_you_mean(cls, known))
            except ValueError as err:
                add("error", r, "equivalent", r["equivalent"], str(err), "e.g. 'BreastCancerSubtype & hasReceptorStatus some HRPositiveStatus'")
        if r["id"] in deprecated and not r.get("replaced_by"):
            add("warning", r, "replaced_by", "", "deprecated term without a replacement", "name the term that replaces it")
        if r.get("replaced_by"):
            if r["replaced_by"] not in known:
                add("error", r, "replaced_by", r["replaced_by"], "undefined replacement", _did_you_mean(r["replaced_by"], known))
            elif r["replaced_by"] in deprecated:
                add("warning", r, "replaced_by", r["replaced_by"], "replacement is itself deprecated", "point at a current term")
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
    names: dict[str, set[str]] = {}
    for r in rows:
        for name in [r.get("label", ""), *split_list(r.get("synonyms", ""))]:
            if name:
                names.setdefault(name.casefold(), set()).add(r["id"])
    for r in rows:
        for syn in split_list(r.get("synonyms", "")):
            if len(names[syn.casefold()]) > 1:
                others = ", ".join(sorted(names[syn.casefold()] - {r["id"]}))
                add("warning", r, "synonyms", syn, f"synonym is also a label or synonym of {others}",
                    "drop it or make it specific: a curator writing it would get an ambiguous-term error")
    for uses in abbrs.values():
        if len({u[0]["id"] for u in uses}) > 1:
            for r, abbr, context in uses:
                if not context:
                    others = ", ".join(sorted({u[0]["id"] for u in uses} - {r["id"]}))
                    add("error", r, "abbreviations", abbr, f"abbreviation also used by {others} without a context tag",
                        f"write it as '{abbr} [context]' on every term that uses it, e.g. '{abbr} [document 003]'")
    return out


def _descends(term: str, root: str, parents: dict[str, list[str]]) -> bool:
    seen, stack = set(), [term]
    while stack:
        t = stack.pop()
        if t == root:
            return True
        if t not in seen:
            seen.add(t)
            stack.extend(parents.get(t, []))
    return False


def _did_you_mean(name: str, known: set[str]) -> str:
    close = difflib.get_close_matches(name, sorted(known), n=3, cutoff=0.6)
    return f"did you mean {' or '.join(close)}?" if close else "use an id defined in ontology/template or core.ttl"


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


def _hierarchy_findings(graph: Graph, rows: list[dict]) -> list[Finding]:
    """Cycles are errors, orphans (no parent, no child) warnings, several parents info."""
    where = {r["id"]: (r["_file"], r["_line"]) for r in rows}
    dg = class_hierarchy(graph)
    out = []

    def local(n: URIRef) -> str:
        return str(n)[len(str(BCMKG)):] if str(n).startswith(str(BCMKG)) else str(n)

    for cycle in nx.simple_cycles(dg):
        ids = [local(n) for n in cycle]
        file, line = where.get(ids[0], ("", None))
        out.append(Finding("error", ids[0], "parents", " -> ".join(ids + [ids[0]]), "cycle in the class hierarchy",
                           "remove one of the parent links", file, line))
    for n in dg.nodes:
        if not str(n).startswith(str(BCMKG)):
            continue
        named_parents = list(dg.successors(n))
        file, line = where.get(local(n), ("core.ttl", None))
        if not named_parents and not list(dg.predecessors(n)):
            out.append(Finding("warning", local(n), "parents", "", "orphan: no parent and no children",
                               "give it a parent from the group it belongs to", file, line))
        if len(named_parents) > 1:
            out.append(Finding("info", local(n), "parents", "|".join(sorted(local(p) for p in named_parents)),
                               "several parents", "review: keep only if the term really is both", file, line))
    return out


def _reasoner_findings(graph: Graph) -> list[Finding]:
    result = reason(graph)
    out = []
    if result.inconsistent:
        out.append(Finding("error", "ontology", "owl", "", f"HermiT: inconsistent ({result.inconsistent})",
                           "look for disjoint classes that a definition combines"))
    for c in result.unsatisfiable:
        out.append(Finding("error", str(c)[len(str(BCMKG)):], "owl", "owl:Nothing", "HermiT: unsatisfiable class",
                           "its definition combines disjoint receptor statuses or classes"))
    return out


def format_findings(findings: list[Finding]) -> str:
    """The QC report: one tab-separated row per finding under a header, then a count line."""
    lines = ["severity\tentity\tproperty\tvalue\tproblem\tfix\twhere"]
    lines += [f"{f.severity}\t{f.entity}\t{f.property}\t{f.value}\t{f.problem}\t{f.fix}\t{f.where}" for f in findings]
    counts = {s: sum(1 for f in findings if f.severity == s) for s in SEVERITIES}
    lines.append("# " + ", ".join(f"{n} {s}(s)" for s, n in counts.items()))
    return "\n".join(lines)


# --- mappings (SSSOM) -----------------------------------------------------------------------

def _write_atomic(path: Path, text: str) -> None:
    """Write to a temporary file next to the target, then rename: readers never see half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
        fh.write(text)
    os.replace(tmp, path)


def mapping_rows(ontology_dir: Path) -> list[dict]:
    """One SSSOM row per template xref, with the source the code was verified against."""
    verified = _verified_curies(ontology_dir)
    out = []
    for r in read_template(ontology_dir):
        for pred, curie in parse_xrefs(r.get("xrefs", "")):
            v = verified.get(curie, {})
            out.append({"subject_id": f"bcmkg:{r['id']}", "subject_label": r["label"], "predicate_id": pred,
                        "object_id": curie, "object_label": v.get("label_seen", ""),
                        "mapping_justification": "semapv:ManualMappingCuration",
                        "comment": f"verified in {v['source']}" if v else "UNVERIFIED"})
    return sorted(out, key=lambda m: (m["subject_id"], m["predicate_id"], m["object_id"]))


def write_mappings(ontology_dir: Path) -> Path:
    """Regenerate ontology/mappings.sssom.tsv (SSSOM TSV with a YAML metadata block)."""
    ontology_dir = Path(ontology_dir)
    rows = mapping_rows(ontology_dir)
    cols = ["subject_id", "subject_label", "predicate_id", "object_id", "object_label",
            "mapping_justification", "comment"]
    curie_map = {"bcmkg": str(BCMKG), "skos": str(SKOS), "semapv": "https://w3id.org/semapv/vocab/",
                 **{p: XREF_PREFIXES[p] for p in sorted({m["object_id"].split(":")[0] for m in rows})}}
    meta = ["# Generated by `kg ontology mappings` from ontology/template/*.tsv and",
            "# ontology/xref-sources.tsv. Do not edit: change the template xrefs instead.",
            "#curie_map:"] + [f"#  {k}: {v}" for k, v in curie_map.items()] + [
            f"#mapping_set_id: {BASE}mappings.sssom.tsv",
            "#mapping_set_description: Mappings of bcmkg vocabulary terms to NCIt, UBERON, MONDO, OBI, STATO, MAxO, EFO and SNOMED CT; every code was checked against the published source named in the comment column.",
            f"#license: {LICENSE}",
            f"#mapping_provider: {BASE}ontology"]
    body = ["\t".join(cols)] + ["\t".join(m[c] for c in cols) for m in rows]
    path = ontology_dir / "mappings.sssom.tsv"
    _write_atomic(path, "\n".join(meta + body) + "\n")
    return path


# --- documentation ----------------------------------------------------------------------------

def _link(curie: str) -> str:
    return f"[{curie}]({expand_curie(curie)})" if curie.split(":")[0] in XREF_PREFIXES else curie


def write_docs(ontology_dir: Path, out_dir: Path) -> list[Path]:
    """Generate docs/terms/<group>.md (one page per template file) and docs/terms/index.md."""
    ontology_dir, out_dir = Path(ontology_dir), Path(out_dir)
    rows = read_template(ontology_dir)
    labels = {r["id"]: r["label"] for r in rows}
    banner = "<!-- Generated by `kg docs` from ontology/template/*.tsv and ontology/core.ttl. Do not edit. -->\n"
    groups: dict[str, list[dict]] = {}
    for r in rows:
        groups.setdefault(group_of(r), []).append(r)
    written = []
    for group, members in groups.items():
        source = Path(members[0]["_file"]).relative_to(ontology_dir).as_posix()
        lines = [banner, f"# {group.replace('-', ' ').capitalize()}\n",
                 f"Terms from `ontology/{source}`. IRIs are `{BCMKG}<id>`. Back to the [index](index.md).\n"]
        for r in members:
            lines.append(f"## {r['label']}\n")
            lines.append(f"- **id**: `{r['id']}` — <{BCMKG}{r['id']}>")
            if r.get("deprecated", "").lower() in ("true", "yes", "1"):
                lines.append(f"- **deprecated**; replaced by `{r.get('replaced_by') or '—'}`")
            lines.append(f"- **definition**: {r.get('definition') or '*(missing)*'}")
            if r.get("synonyms"):
                lines.append(f"- **synonyms**: {'; '.join(split_list(r['synonyms']))}")
            if r.get("abbreviations"):
                shown = []
                for item in split_list(r["abbreviations"]):
                    abbr, ctx = split_abbreviation(item)
                    shown.append(f"{abbr} ({ctx})" if ctx else abbr)
                lines.append(f"- **abbreviations**: {'; '.join(shown)}")
            if r.get("parents"):
                lines.append("- **parents**: " + ", ".join(
                    f"[{labels.get(p, p)}]({_page_of(p, rows)}#{_anchor(labels.get(p, p))})" for p in split_list(r["parents"])))
            if r.get("components"):
                lines.append("- **components**: " + ", ".join(labels.get(c, c) for c in split_list(r["components"])))
            if r.get("equivalent"):
                lines.append(f"- **OWL definition**: `{r['equivalent']}`")
            if r.get("xrefs"):
                lines.append("- **mappings**: " + ", ".join(f"{p} {_link(c)}" for p, c in parse_xrefs(r["xrefs"])))
            if r.get("comment"):
                lines.append(f"- **note**: {r['comment']}")
            lines.append("")
        path = out_dir / f"{group}.md"
        _write_atomic(path, "\n".join(lines))
        written.append(path)
    index = [banner, "# bcmkg vocabulary\n",
             "Every term of the ontology, one page per template group. The policy for IRIs, "
             "deprecation and adding terms is in [../ontology.md](../ontology.md).\n",
             "| group | terms |", "|---|---|"]
    index += [f"| [{g}]({g}.md) | {len(m)} |" for g, m in sorted(groups.items())]
    index += ["", "## The core model\n", "```mermaid", CORE_DIAGRAM.strip(), "```", ""]
    path = out_dir / "index.md"
    _write_atomic(path, "\n".join(index))
    return written + [path]


def group_of(row: dict) -> str:
    """The docs group of a row: its template file's name, `additions-<name>` for additions."""
    path = Path(row["_file"])
    return f"additions-{path.stem}" if path.parent.name == "additions" else path.stem


def _page_of(term_id: str, rows: list[dict]) -> str:
    for r in rows:
        if r["id"] == term_id:
            return f"{group_of(r)}.md"
    return "index.md"


def _anchor(label: str) -> str:
    return re.sub(r"[^a-z0-9 -]", "", label.lower()).replace(" ", "-")


CORE_DIAGRAM = """
classDiagram
    direction LR
    class SourceDocument {
        corpusFile
        sha256
        doi
    }
    class Study {
        firstAuthor
        year
        sampleSize
        registryId
    }
    class ClinicalTrial
    class StudyArm {
        sampleSize
    }
    class PatientCase {
        patientNumber
        stage
        progressed
    }
    class Claim {
        claimId
        locator
        confidence
    }
    class OutcomeClaim {
        value
        ciLower
        ciUpper
        pValue
        timePoint
    }
    class PrognosticFactorClaim {
        factorLevel
    }
    class SelectionCriterionClaim {
        requirement
    }
    class CharacteristicClaim {
        characteristic
        proportion
    }
    class EmergingTechnologyClaim {
        application
        impact
    }
    class CurationExclusion {
        reason
    }
    class Evidence["oa:SpecificResource"]
    Study <|-- ClinicalTrial
    Claim <|-- OutcomeClaim
    Claim <|-- PrognosticFactorClaim
    Claim <|-- SelectionCriterionClaim
    Claim <|-- CharacteristicClaim
    Claim <|-- EmergingTechnologyClaim
    Study --> SourceDocument : isStudyOf / dcterms:isReferencedBy
    Study --> StudyArm : hasArm
    Claim --> Study : aboutStudy
    Claim --> StudyArm : armNode
    Claim --> PatientCase : patientCase
    Claim --> SourceDocument : prov:wasDerivedFrom
    Claim --> Evidence : evidence
    CurationExclusion --> SourceDocument : prov:wasDerivedFrom
    Claim --> Modality : modality / comparator
    Claim --> BreastCancerMetastasis : metastaticSite
    Claim --> BreastCancerSubtype : subtype + subtypeBasis
    OutcomeClaim --> Endpoint : endpoint
    OutcomeClaim --> StatisticType : statisticType
    OutcomeClaim --> Unit : unit
    PrognosticFactorClaim --> PrognosticFactor : factor + direction
    SelectionCriterionClaim --> SelectionCriterion : criterion
    EmergingTechnologyClaim --> EmergingTechnology : technology
    StudyArm --> Modality : modality
"""


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
    _write_atomic(Path(out), graph.serialize(format="turtle"))
    return Path(out)
