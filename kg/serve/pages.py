"""The page read-model: what the HTML pages show, read from the store as plain data.

Kept apart from the web handlers so a page can be built (and tested) from a store alone, and
apart from the templates so they only lay out dicts and lists. Pages run our own bounded
queries on the server's store directly; user queries go to the workers.
"""
from __future__ import annotations

import difflib
import json
import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import pyoxigraph as ox
from rdflib.namespace import DCTERMS, OWL, PROV, RDF, RDFS, SKOS

from .. import model
from ..claim_rows import claim_row, claim_row_patterns, printed
from ..rdf import (
    BASE,
    BCD,
    BCMKG,
    BIBO,
    IAO_DEFINITION,
    IAO_REPLACED_BY,
    OA,
    OBO,
    OBOINOWL,
    compact,
    expand,
    local_path,
)
from .answers import results_table
from .charts import chart
from .headers import claim_header, document_header, evidence_text, study_header

if TYPE_CHECKING:
    from ..store import Store

__all__ = ["Graph", "claim_rows", "resource_page", "claim_title", "claim_provenance", "facts",
           "index_data", "vocabulary_roots", "results_table", "kind_of", "humanise", "local_name"]

V = str(BCMKG)
LABEL, TYPE, TITLE = str(RDFS.label), str(RDF.type), str(DCTERMS.title)
SUBCLASS, DEPRECATED = str(RDFS.subClassOf), str(OWL.deprecated)
DERIVED = str(PROV.wasDerivedFrom)
CLAIM_NS = str(BCD) + "claim/"
SYNONYMS = [str(SKOS.altLabel), str(OBOINOWL.hasExactSynonym), str(OBOINOWL.hasRelatedSynonym),
            str(OBOINOWL.hasNarrowSynonym), str(OBOINOWL.hasBroadSynonym), V + "synonym", str(OBO.IAO_0000118)]
ABBREVIATIONS = [V + "abbreviation", str(SKOS.hiddenLabel), str(SKOS.notation),
                 str(OBO.OMO_0003000), str(OBO.OMO_0003012)]
DEFINITIONS = [str(IAO_DEFINITION), str(SKOS.definition)]
#: Literal predicates that name a thing: what search and 404 suggestions look at.
NAMES = [LABEL, str(SKOS.prefLabel), *SYNONYMS, *ABBREVIATIONS, TITLE, V + "trialName", V + "registryId"]
MAPPINGS = {str(SKOS.exactMatch): "exact", str(SKOS.closeMatch): "close", str(SKOS.broadMatch): "broad",
            str(SKOS.narrowMatch): "narrow", str(SKOS.relatedMatch): "related", str(OBOINOWL.hasDbXref): "xref"}
PREDICATE_ORDER = [TYPE, LABEL, TITLE, *DEFINITIONS]


def lit(value: str) -> str:
    """A SPARQL string literal (JSON string escapes are valid SPARQL escapes)."""
    return json.dumps(value)


def pyval(t: Any) -> str | None:
    return None if t is None else t.value


def local_name(iri: str) -> str:
    return re.split(r"[/#]", iri.rstrip("/"))[-1]


def humanise(name: str) -> str:
    return re.sub(r"(?<=[a-z])(?=[A-Z])", " ", name).lower()


def kind_of(iri: str) -> str:
    """What page a minted IRI gets: term, claim, study, arm, document, case, exclusion, resource."""
    path = iri[len(BASE):] if iri.startswith(BASE) else ""
    if path.startswith("vocab/"):
        return "term"
    if path.startswith("id/claim/"):
        return "claim" if path.count("/") == 3 else "resource"
    if path.startswith("id/study/"):
        return "study" if path.count("/") == 2 else "arm"
    for k in ("document", "case", "exclusion"):
        if path.startswith(f"id/{k}/"):
            return k
    return "resource"


def xref_iri(value: str) -> str:
    """'NCIT:C15664' -> its IRI (kg.rdf's converter); anything it does not know, unchanged."""
    try:
        return expand(value.strip())
    except Exception:
        return value


class Graph:
    """What the pages read: labels, names for search, and small queries over the store."""

    def __init__(self, store: Store):
        self.store = store
        self.labels: dict[str, str] = {}
        self.names: list[tuple[str, str, str]] = []  # (casefolded name, name, iri)
        self.refresh()

    def refresh(self) -> None:
        preds = " ".join(f"<{p}>" for p in NAMES)
        rows = self.select(f"SELECT ?s ?p ?o WHERE {{ VALUES ?p {{ {preds} }} ?s ?p ?o FILTER(isLiteral(?o)) }}")
        labels: dict[str, str] = {}
        names = []
        for r in rows:
            s, p, o = r["s"], r["p"], r["o"]
            if p in (LABEL, TITLE) and s not in labels:
                labels[s] = o
            names.append((o.casefold(), o, s))
        self.labels, self.names = labels, names

    def select(self, text: str) -> list[dict[str, Any]]:
        """Rows of lexical values (IRIs and literals as strings, None when unbound)."""
        result = self.store.select(text)
        return [{v: pyval(row.get(v)) for v in result.variables} for row in result.rows]

    def construct(self, text: str) -> list[ox.Triple]:
        return list(self.store.construct(text))

    def label(self, iri: str) -> str:
        if iri in self.labels:
            return self.labels[iri]
        if iri.startswith("https://doi.org/"):
            return "doi:" + iri[len("https://doi.org/"):]
        if iri.startswith(V):
            return humanise(local_name(iri))
        return compact(iri)

    def triples(self, iri: str) -> list[ox.Triple]:
        """The resource's statements, with its blank nodes and the parts it owns
        (`{iri}/evidence`, `{iri}/selector`, a study's arms), two levels deep."""
        own = lit(iri + "/")
        q = f"""CONSTRUCT {{ <{iri}> ?p ?o . ?o ?p2 ?o2 . ?o2 ?p3 ?o3 }} WHERE {{ <{iri}> ?p ?o
          OPTIONAL {{ ?o ?p2 ?o2 FILTER(isBlank(?o) || STRSTARTS(STR(?o), {own}))
            OPTIONAL {{ ?o2 ?p3 ?o3 FILTER(isBlank(?o2) || STRSTARTS(STR(?o2), {own})) }} }} }}"""
        return list(dict.fromkeys(self.construct(q)))

    def search(self, text: str, limit: int = 50) -> list[dict[str, Any]]:
        """Rank exact names (labels, abbreviations, synonyms) first, then prefixes, then substrings."""
        q = text.strip().casefold()
        if not q:
            return []
        best: dict[str, tuple[int, int, str]] = {}
        kinds = {"term": 0, "study": 1, "document": 2, "claim": 3}
        for key, name, iri in self.names:
            if key == q:
                score = 0
            elif key.startswith(q):
                score = 1
            elif re.search(r"\b" + re.escape(q), key):
                score = 2
            elif q in key:
                score = 3
            else:
                continue
            rank = (score, kinds.get(kind_of(iri), 4), name)
            if iri not in best or rank < best[iri]:
                best[iri] = rank
        hits = sorted(best.items(), key=lambda kv: (kv[1], self.label(kv[0])))[:limit]
        return [{"iri": iri, "path": local_path(iri) or iri, "label": self.label(iri),
                 "matched": name if name != self.label(iri) else "", "kind": kind_of(iri)}
                for iri, (_, _, name) in hits]

    def suggest(self, missing: str, n: int = 5) -> list[dict[str, str]]:
        """Closest labels and ids to an unknown IRI's last segment, for the 404 page."""
        word = humanise(local_name(missing)).casefold()
        pool: dict[str, str] = {}
        for key, _, iri in self.names:
            if kind_of(iri) != "claim":
                pool.setdefault(key, iri)
                pool.setdefault(humanise(local_name(iri)).casefold(), iri)
        close = difflib.get_close_matches(word, list(pool), n=n * 2, cutoff=0.5)
        out = list(dict.fromkeys(pool[c] for c in close))[:n]
        return [{"path": local_path(i) or i, "label": self.label(i), "iri": i} for i in out]

    def claims(self, where: str, limit: int = 500) -> list[dict[str, Any]]:
        return claim_rows(self, where, limit)


# --- the claims read-model ------------------------------------------------------------------
# Rows carry the standard claim row of the claim model (kg/model.py: one variable per claim
# property, named as the property), so a field added to the model reaches the pages: the main
# columns are laid out by the template, every other field present is listed in `details`.

MAIN = {"value", "valueQualifier", "valueLow", "valueHigh", "unit", "timePoint", "timePointUnit", "statisticType",
        "endpoint", "ciLower", "ciUpper", "metastaticSite", "modality", "arm", "sampleSize", "locator",
        "interpretedValue", "claim", "study", "document", "spanStart", "spanEnd"}


def claim_rows(graph: Graph, where: str, limit: int = 500) -> list[dict[str, Any]]:
    """Claims matching a pattern over ?claim, with what a reader needs to judge the figure.

    One row per claim; `sites`, `modalities` and `roles` (role, via) gather the many-valued
    columns; `label`, `value_text`, `time_text` and `details` are ready to print.
    """
    variables = " ".join(f"?{v}" for v in claim_row())
    q = f"""SELECT DISTINCT {variables} ?role ?via WHERE {{ {where}
      FILTER(STRSTARTS(STR(?claim), {lit(CLAIM_NS)}))
      {claim_row_patterns()}
    }} LIMIT {limit * 4}"""
    merged: dict[str, dict[str, Any]] = {}
    for r in graph.select(q):
        c = merged.setdefault(r["claim"], {**r, "sites": [], "modalities": [], "roles": []})
        for key, into in (("metastaticSite", "sites"), ("modality", "modalities")):
            if r[key] and r[key] not in c[into]:
                c[into].append(r[key])
        if r.get("role") and (r["role"], r.get("via")) not in c["roles"]:
            c["roles"].append((r["role"], r.get("via")))
    rows = list(merged.values())[:limit]
    for c in rows:
        c["label"] = graph.label(c["claim"])
        c["value_text"] = value_text(c, graph.label)
        c["time_text"] = f"{printed(c, 'timePoint')} {graph.label(c['timePointUnit'])}" if c["timePoint"] else ""
        c["details"] = details(c, graph.label)
    rows.sort(key=lambda c: (graph.label(c["study"] or ""), c["label"]))
    return rows


def details(c: dict[str, Any], label: Callable[[str], str]) -> list[tuple[str, str]]:
    """(page label, text) for every claim-model field the row holds beyond the main columns."""
    out = []
    for f in model.FIELDS:
        value = c.get(f.prop or "")
        if f.prop in MAIN or value is None or (f.prop == "subtypeBasis" and value.endswith("Unspecified")):
            continue
        out.append((f.label, label(value) if f.kind in ("term", "enum") else str(printed(c, str(f.prop)))))
    return out


def value_text(c: dict[str, Any], label: Callable[[str], str]) -> str:
    """'89 %', '12–24 months', '<5 % (read as 4.5 %) (CI 3–7)' from a claim row."""
    def num(v: Any) -> str:
        return "" if v is None else str(v)
    unit = c.get("unit")
    u = {V + "Percent": "%"}.get(unit or "", f" {label(unit)}" if unit else "")
    if c.get("value") is not None:
        text = f"{c['valueQualifier'] + ' ' if c.get('valueQualifier') else ''}{num(printed(c, 'value'))}{u}"
    elif c.get("valueLow") is not None:
        text = f"{num(printed(c, 'valueLow'))}–{num(printed(c, 'valueHigh'))}{u}"
    elif c.get("valueQualifier"):
        return str(c["valueQualifier"])
    else:
        return ""
    if c.get("interpretedValue") is not None:
        text += f" (read as {num(printed(c, 'interpretedValue'))}{u})"
    if c.get("ciLower") is not None and c.get("ciUpper") is not None:
        text += f" (CI {num(printed(c, 'ciLower'))}–{num(printed(c, 'ciUpper'))})"
    return text


# --- pages ---------------------------------------------------------------------------------

def index_data(graph: Graph) -> tuple[list[dict[str, Any]], list[dict[str, Any]], dict[str, Any]]:
    """Vocabulary roots, documents and counts for the index page."""
    docs = graph.select(f"""SELECT ?d ?t ?date WHERE {{ ?d a <{V}SourceDocument>
        OPTIONAL {{ ?d <{TITLE}> ?t }} OPTIONAL {{ ?d <{DCTERMS.date}> ?date }} }} ORDER BY ?d""")
    kinds = " ".join(f"<{V}{cls}>" for cls in model.CLAIM_CLASSES.values())
    counts = graph.select(f"""SELECT (COUNT(DISTINCT ?c) AS ?claims) (COUNT(DISTINCT ?s) AS ?studies)
        (COUNT(DISTINCT ?case) AS ?cases) WHERE {{
        {{ ?c a ?ct VALUES ?ct {{ {kinds} }} }} UNION {{ ?s a ?st VALUES ?st {{ <{V}Study> <{V}ClinicalTrial> }} }}
        UNION {{ ?case a <{V}PatientCase> }} }}""")
    return vocabulary_roots(graph), docs, (counts[0] if counts else {})


def vocabulary_roots(graph: Graph) -> list[dict[str, Any]]:
    """Top vocabulary classes (no named parent) with their direct children, for browsing."""
    rows = graph.select(f"""SELECT ?root ?child WHERE {{ ?root a <{OWL.Class}>
        FILTER(STRSTARTS(STR(?root), {lit(V)}))
        FILTER NOT EXISTS {{ ?root <{SUBCLASS}> ?p FILTER(isIRI(?p) && STRSTARTS(STR(?p), {lit(V)})) }}
        FILTER NOT EXISTS {{ ?root <{DEPRECATED}> true }}
        OPTIONAL {{ ?child <{SUBCLASS}> ?root FILTER(isIRI(?child))
                   FILTER NOT EXISTS {{ ?child <{DEPRECATED}> true }} }} }}""")
    roots: dict[str, list[str]] = {}
    for r in rows:
        kids = roots.setdefault(r["root"], [])
        if r["child"]:
            kids.append(r["child"])
    return sorted(({"iri": k, "children": sorted(v, key=graph.label)} for k, v in roots.items()),
                  key=lambda r: graph.label(r["iri"]))


def resource_page(g: Graph, iri: str, triples: list[ox.Triple]) -> dict[str, Any]:
    """Everything a resource page shows, as plain data for the template."""
    own: dict[str, list[Any]] = {}
    parts: dict[str, dict[str, list[Any]]] = {}
    for t in triples:
        s, p, o = str(getattr(t.subject, "value", t.subject)), t.predicate.value, t.object
        if s == iri:
            own.setdefault(p, []).append(o)
        elif not isinstance(t.subject, ox.BlankNode):
            parts.setdefault(s, {}).setdefault(p, []).append(o)
    kind = kind_of(iri)

    def vals(preds: list[str]) -> list[str]:
        return [o.value for p in preds for o in own.get(p, [])]

    def first(p: str) -> str | None:
        return pyval((own.get(V + p) or [None])[0])

    page: dict[str, Any] = {"iri": iri, "kind": kind, "title": g.label(iri), "path_here": local_path(iri),
                            "claims": [], "chart": None, "extra": []}
    page["deprecated"] = any(o.value == "true" for o in own.get(DEPRECATED, []))
    page["replaced_by"] = [o.value for o in own.get(str(IAO_REPLACED_BY), []) + own.get(
        str(DCTERMS.isReplacedBy), []) if isinstance(o, ox.NamedNode)]
    page["definition"] = vals(DEFINITIONS)
    page["abbreviations"] = list(dict.fromkeys(vals(ABBREVIATIONS)))
    page["synonyms"] = [s for s in dict.fromkeys(vals(SYNONYMS)) if s not in page["abbreviations"]]
    page["mappings"] = [(MAPPINGS[p], o.value if isinstance(o, ox.NamedNode) else xref_iri(o.value))
                        for p in MAPPINGS for o in own.get(p, [])]
    page["types"] = [o.value for o in own.get(TYPE, [])]
    shown = set(SYNONYMS + ABBREVIATIONS + DEFINITIONS + list(MAPPINGS)
                + [LABEL, DEPRECATED, str(IAO_REPLACED_BY)]) if kind == "term" else {LABEL}
    page["facts"] = facts(g, {p: os_ for p, os_ in own.items() if p not in shown})
    page["parts"] = [(s, facts(g, ps)) for s, ps in sorted(parts.items())]
    if kind == "term":
        page["parents"] = [o.value for o in own.get(SUBCLASS, []) if isinstance(o, ox.NamedNode)]
        page["children"] = sorted((r["c"] for r in g.select(
            f"SELECT DISTINCT ?c WHERE {{ ?c <{SUBCLASS}> <{iri}> FILTER(isIRI(?c)) }}")), key=g.label)
        page["claims"] = g.claims(f"""?t <{SUBCLASS}>* <{iri}> . ?claim ?role ?t .
            FILTER(STRSTARTS(STR(?role), {lit(V)})) BIND(?t AS ?via)""")
    elif kind == "study":
        page["study_header"] = study_header(g, iri)
        page["claims"] = g.claims(f"{{ ?claim <{V}aboutStudy> <{iri}> }} UNION {{ ?claim <{V}cites> <{iri}> }}")
    elif kind == "document":
        page["document_header"] = document_header(g, iri)
        page["claims"] = g.claims(f"?claim <{DERIVED}> <{iri}>")
        page["studies"] = sorted((r["s"] for r in g.select(
            f"SELECT DISTINCT ?s WHERE {{ ?s <{DCTERMS.isReferencedBy}> <{iri}> }}")), key=g.label)
        page["excluded"] = g.select(f"""SELECT (COUNT(?e) AS ?n) WHERE {{ ?e a <{V}CurationExclusion> ;
            <{DERIVED}> <{iri}> }}""")[0]["n"]
    elif kind == "claim":
        page["provenance"] = prov = claim_provenance(g, iri, own, parts)
        page["evidence"] = evidence_text(prov.get("f"), prov.get("start"), prov.get("end"))
        page["claim_header"] = claim_header(g, iri, own)
        page["title"] = claim_title(g, own) or page["title"]
        headline = ("value", "valueQualifier", "valueLow", "valueHigh", "unit", "ciLower", "ciUpper", "interpretedValue")
        page["headline"] = value_text({p: first(p) for p in (*headline, *(model.printed_twin(q) for q in headline))}, g.label)
    if kind in ("term", "study", "document"):
        page["chart"] = chart(page["claims"], g.label)
    page["incoming"] = [] if kind == "term" else g.select(f"""SELECT DISTINCT ?s ?p WHERE {{ ?s ?p <{iri}>
        FILTER(!STRSTARTS(STR(?s), {lit(CLAIM_NS)}) || {'true' if kind not in ('study', 'document') else 'false'})
        FILTER(?p != <{OA.hasSource}>) }} LIMIT 50""")
    return page


def claim_title(g: Graph, own: dict[str, list[Any]]) -> str:
    """'Vogl 2023: overall survival, rate at a time point at 5 year (MWA)' from labels, not ids."""
    def one(p: str) -> str | None:
        return next((o.value for o in own.get(V + p, [])), None)
    study, endpoint, stat = one("aboutStudy"), one("endpoint"), one("statisticType")
    what = ", ".join(g.label(x) for x in (endpoint, stat) if x) or g.label(one("factor") or one("criterion") or "")
    if not (study and what):
        return ""
    when = f" at {one('timePoint')} {g.label(one('timePointUnit') or '')}".rstrip() if one("timePoint") else ""
    arm = one("arm") or ", ".join(g.label(o.value) for o in own.get(V + "modality", []))
    return f"{g.label(study)}: {what}{when}" + (f" ({arm})" if arm else "")


def claim_provenance(g: Graph, iri: str, own: dict[str, list[Any]],
                     parts: dict[str, dict[str, list[Any]]]) -> dict[str, Any]:
    """Document, locator, span offsets and source line, gathered in one box."""
    def one(props: dict[str, list[Any]], p: str) -> str | None:
        return next((o.value for o in props.get(p, [])), None)
    doc = one(own, DERIVED)
    sel = parts.get(iri + "/selector", {})
    out = {"document": doc, "locator": [o.value for o in own.get(V + "locator", [])],
           "start": one(sel, str(OA.start)), "end": one(sel, str(OA.end)),
           "source_file": one(own, V + "sourceFile"), "source_line": one(own, V + "sourceLine")}
    if doc:
        rows = g.select(f"""SELECT ?f ?sha ?doi WHERE {{ OPTIONAL {{ <{doc}> <{V}corpusFile> ?f }}
            OPTIONAL {{ <{doc}> <{V}sha256> ?sha }} OPTIONAL {{ <{doc}> <{BIBO.doi}> ?doi }} }}""")
        out.update(rows[0] if rows else {})
    return out


_PRINTED_TWIN = {V + q: V + model.printed_twin(q) for q in model.PRINTED}


def facts(g: Graph, props: dict[str, list[Any]]) -> list[dict[str, Any]]:
    """Predicate/value rows for the generic table, in a reading order (type, label, definition first)."""
    order = {p: i for i, p in enumerate(PREDICATE_ORDER)}
    rows = []
    for p in sorted(props, key=lambda p: (order.get(p, len(order)), g.label(p))):
        values = []
        twin = props.get(_PRINTED_TWIN.get(p, ""), [])   # a figure as printed, not the store's 0.3 for 0.30
        for o in (twin if len(twin) == len(props[p]) == 1 else props[p]):
            if isinstance(o, ox.NamedNode):
                values.append({"text": g.label(o.value), "href": local_path(o.value) or o.value, "iri": o.value})
            elif isinstance(o, ox.BlankNode):
                values.append({"text": "(anonymous: OWL restriction)"})
            else:
                values.append({"text": o.value})
        rows.append({"predicate": p, "name": g.label(p) if p in g.labels else humanise(local_name(p)),
                     "values": values})
    return rows
