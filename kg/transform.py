"""Typed claims -> RDF: the triples one source document contributes, following docs/model.md.

Claim fields are written by their kind in the claim model (kg/model.py): a new field there
appears here without code of its own. The triples are made as pyoxigraph terms and written
straight to sorted N-Triples (`document_nt`), with no rdflib Graph in between (that graph cost
as much as the rest of the transform); `document_graph` gives the same triples as an rdflib
Graph for callers that want one. Typed literals take rdflib's lexical form (e.g. "01" as an
xsd:decimal is written "1"), so the bytes are the same as when the transform went through rdflib.
"""
from __future__ import annotations

from decimal import Decimal
from fractions import Fraction
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

import pyoxigraph as ox

from . import model
from .model import CLAIM_CLASSES, printed_twin
from .rdf import (
    BCMKG,
    BIBO,
    OA,
    PREFIXES,
    PROV,
    XSD,
    arm_iri,
    case_iri,
    claim_iri,
    document_iri,
    exclusion_iri,
    nt_bytes,
    sorted_nt,
    study_iri,
)
from .records import Case, Claim, Source, Study, as_number

if TYPE_CHECKING:
    from rdflib import Graph

Term = ox.NamedNode | ox.Literal

_NODES: dict[str, ox.NamedNode] = {}


def iri(value: str) -> ox.NamedNode:
    """A NamedNode, made once per IRI (term and property IRIs repeat in every claim)."""
    node = _NODES.get(value)
    if node is None:
        node = _NODES[value] = ox.NamedNode(value)
    return node


def node(value: str) -> ox.NamedNode:
    """A minted IRI (kg.rdf's IRI functions give rdflib URIRefs, which are strings) as a NamedNode."""
    return iri(str(value))


def V(name: str) -> ox.NamedNode:          # noqa: N802  (a bcmkg: term, as V(name) was)
    return iri(BCMKG + name)


RDF_TYPE = iri(PREFIXES["rdf"] + "type")
RDFS_LABEL = iri(PREFIXES["rdfs"] + "label")
OWL_SAMEAS = iri(PREFIXES["owl"] + "sameAs")
SKOS_ALT = iri(PREFIXES["skos"] + "altLabel")
PROV_DERIVED = iri(PROV + "wasDerivedFrom")
DCT = PREFIXES["dcterms"]
XSD_INTEGER, XSD_BOOLEAN = iri(XSD + "integer"), iri(XSD + "boolean")
OWL_RATIONAL = PREFIXES["owl"] + "rational"


def integer(value: int) -> ox.Literal:
    return ox.Literal(str(int(value)), datatype=XSD_INTEGER)


def plain(value: object) -> ox.Literal:
    """What rdflib's Literal(value) gives for a Python str, int or bool."""
    if isinstance(value, bool):
        return ox.Literal("true" if value else "false", datatype=XSD_BOOLEAN)
    if isinstance(value, int):
        return integer(value)
    if isinstance(value, str):
        return ox.Literal(value)
    return _via_rdflib(value, None)


@lru_cache(maxsize=65536)
def typed(lexical: str, datatype: str) -> ox.Literal:
    """A typed literal with the lexical form rdflib gives it (it normalises some, e.g. "01")."""
    return _via_rdflib(lexical, datatype)


def _via_rdflib(value: object, datatype: str | None) -> ox.Literal:
    from rdflib import Literal, URIRef

    from .rdf import to_ox
    term = to_ox(Literal(value, datatype=URIRef(datatype) if datatype else None))
    assert isinstance(term, ox.Literal)
    return term


def figure(value: object) -> ox.Literal:
    """A figure exactly as written: xsd:decimal keeps '74.70'; a fraction in words is owl:rational."""
    num = as_number(value)
    if isinstance(num, Fraction):
        return typed(f"{num.numerator}/{num.denominator}", OWL_RATIONAL)
    return typed(str(value) if isinstance(value, Decimal) else str(num), XSD + "decimal")


class Triples:
    """The triples of one document as pyoxigraph terms (`add(s, p, o)`), in the order made."""

    def __init__(self) -> None:
        self.items: list[ox.Triple] = []

    def add(self, s: ox.NamedNode, p: ox.NamedNode, o: Term) -> None:
        self.items.append(ox.Triple(s, p, o))


def document_triples(source: Source, root: Path | None = None, labels: dict[str, str] | None = None) -> list[ox.Triple]:
    g = Triples()
    _document(g, source, root, labels)
    return g.items


def document_nt(source: Source, root: Path | None = None, labels: dict[str, str] | None = None) -> bytes:
    """The document's triples as N-Triples, one line each, sorted and without repeats (a set)."""
    return sorted_nt(nt_bytes(document_triples(source, root, labels)))


def document_graph(source: Source, root: Path | None = None, labels: dict[str, str] | None = None) -> Graph:
    """All triples one extraction file contributes, in its own rdflib graph.

    `labels` maps term ids to their labels, so generated claim labels read as words.
    """
    from rdflib import Graph
    g = Graph()
    for prefix, ns in PREFIXES.items():
        g.bind(prefix, ns)
    return g.parse(data=document_nt(source, root, labels), format="nt")


MONTHS_PER = {"year": Decimal(12), "month": Decimal(1), "week": Decimal(7) / Decimal("30.4375"),
              "day": Decimal(1) / Decimal("30.4375")}


def _document(g: Triples, source: Source, root: Path | None, labels: dict[str, str] | None) -> None:
    doc = source.document
    d = node(document_iri(doc.id))
    rel = _relative(source.path, root)
    g.add(d, RDF_TYPE, V("SourceDocument"))
    g.add(d, RDF_TYPE, iri(BIBO + "Document"))
    g.add(d, RDFS_LABEL, plain(doc.title))
    g.add(d, iri(DCT + "title"), plain(doc.title))
    for author in doc.authors:
        g.add(d, iri(DCT + "creator"), plain(author))
    g.add(d, iri(DCT + "date"), typed(str(doc.year), XSD + "gYear"))
    g.add(d, iri(DCT + "isPartOf"), plain(doc.venue))
    if doc.doi:
        g.add(d, iri(BIBO + "doi"), plain(doc.doi))
        g.add(d, OWL_SAMEAS, iri(f"https://doi.org/{doc.doi}"))
    for t in doc.designs:
        g.add(d, V("design"), V(t))
    g.add(d, V("corpusFile"), plain(doc.corpus_file))
    g.add(d, V("sha256"), plain(doc.sha256))
    g.add(d, V("sourceFile"), plain(rel))
    if doc.language:
        g.add(d, iri(DCT + "language"), plain(doc.language))
    if doc.note:
        g.add(d, V("curationNote"), plain(doc.note))
    for st in source.studies:
        _study(g, st, d)
    for case in source.cases:
        _case(g, case, doc.id, d, rel)
    names = dict(labels or {})
    names.update({st.id: st.label for st in source.studies})
    for claim in source.claims:
        _claim(g, claim, doc.id, d, rel, names)
    for i, ex in enumerate(source.exclusions, start=1):
        e = node(exclusion_iri(doc.id, i))
        g.add(e, RDF_TYPE, V("CurationExclusion"))
        g.add(e, V("reason"), plain(ex.reason))
        g.add(e, PROV_DERIVED, d)
        _evidence(g, e, d, ex.span)
        g.add(e, V("sourceFile"), plain(rel))
        g.add(e, V("sourceLine"), plain(ex.line))


def _relative(path: str, root: Path | None) -> str:
    p = Path(path).resolve()
    try:
        return str(p.relative_to(root.resolve())) if root else p.name
    except ValueError:
        return p.name


def _evidence(g: Triples, subject: ox.NamedNode, doc: ox.NamedNode, span: tuple[int, int]) -> None:
    ev, sel = iri(f"{subject.value}/evidence"), iri(f"{subject.value}/selector")
    g.add(subject, V("evidence"), ev)
    g.add(ev, RDF_TYPE, iri(OA + "SpecificResource"))
    g.add(ev, iri(OA + "hasSource"), doc)
    g.add(ev, iri(OA + "hasSelector"), sel)
    g.add(sel, RDF_TYPE, iri(OA + "TextPositionSelector"))
    g.add(sel, iri(OA + "start"), plain(int(span[0])))
    g.add(sel, iri(OA + "end"), plain(int(span[1])))


STUDY_TEXT = {"first_author": "firstAuthor", "country": "country", "period": "period", "trial_name": "trialName",
              "n_qualifier": "sampleSizeQualifier", "reference": "referenceNumber", "title": "citedTitle",
              "note": "curationNote"}


def _study(g: Triples, st: Study, doc: ox.NamedNode) -> None:
    s = node(study_iri(st.id))
    g.add(s, RDF_TYPE, V("ClinicalTrial") if st.registry_ids or st.trial_name else V("Study"))
    g.add(s, RDFS_LABEL, plain(st.label))
    for alias in st.aliases:
        g.add(s, SKOS_ALT, plain(alias))
    g.add(s, iri(DCT + "isReferencedBy"), doc)
    for t in st.designs:
        g.add(s, V("design"), V(t))
    for attr, prop in STUDY_TEXT.items():
        value = getattr(st, attr)
        if value not in (None, ""):
            g.add(s, V(prop), plain(str(value)))
    if st.year is not None:
        g.add(s, V("year"), typed(str(st.year), XSD + "gYear"))
    if st.n is not None:
        g.add(s, V("sampleSize"), plain(st.n))
    for rid in st.registry_ids:
        g.add(s, V("registryId"), plain(rid))
    if st.doi:
        pub = iri(f"https://doi.org/{st.doi}")
        g.add(s, V("describedIn"), pub)
        g.add(pub, RDF_TYPE, iri(BIBO + "AcademicArticle"))
        g.add(pub, iri(BIBO + "doi"), plain(st.doi))
    if st.is_document:
        g.add(s, V("isStudyOf"), doc)
    for arm in st.arms:
        a = node(arm_iri(st.id, arm.id))
        g.add(s, V("hasArm"), a)
        g.add(a, RDF_TYPE, V("StudyArm"))
        g.add(a, RDFS_LABEL, plain(arm.label))
        if arm.modality:
            g.add(a, V("modality"), V(arm.modality))
        if arm.n is not None:
            g.add(a, V("sampleSize"), plain(arm.n))


def _case(g: Triples, case: Case, doc_id: str, doc: ox.NamedNode, rel: str) -> None:
    c = node(case_iri(doc_id, case.id))
    g.add(c, RDF_TYPE, V("PatientCase"))
    g.add(c, RDFS_LABEL, plain(f"{case.study} patient {case.patient}"))
    g.add(c, V("aboutStudy"), node(study_iri(case.study)))
    g.add(c, V("patientNumber"), plain(case.patient))
    if case.stage:
        g.add(c, V("stage"), plain(case.stage))
    g.add(c, V("metastaticSite"), V(case.recurrence_site))
    if case.recurrence_site_detail:
        g.add(c, V("siteDetail"), plain(case.recurrence_site_detail))
    g.add(c, V("modality"), V(case.operation))
    g.add(c, V("progressed"), plain(case.progressed))
    if case.progression_site:
        g.add(c, V("progressionSite"), V(case.progression_site))
    g.add(c, PROV_DERIVED, doc)
    g.add(c, V("locator"), plain(case.locator))
    if case.note:
        g.add(c, V("curationNote"), plain(case.note))
    _evidence(g, c, doc, case.span)
    g.add(c, V("sourceFile"), plain(rel))
    g.add(c, V("sourceLine"), plain(case.line))


def _claim(g: Triples, cl: Claim, doc_id: str, doc: ox.NamedNode, rel: str, names: dict[str, str]) -> None:
    c = node(claim_iri(doc_id, cl.id))
    g.add(c, RDF_TYPE, V(CLAIM_CLASSES[cl.kind]))
    g.add(c, RDFS_LABEL, plain(claim_label(cl, names)))
    g.add(c, V("claimId"), plain(cl.id))
    g.add(c, V("aboutStudy"), node(study_iri(cl.study)))
    g.add(c, V("locator"), plain(cl.locator))
    for f in model.FIELDS:
        value = cl.values.get(f.key)
        if value is None and f.default is not None and cl.kind in f.kinds:
            value = f.default
        if value is None or value == "" or f.prop is None or (f.needs and cl.values.get(f.needs) is None):
            continue
        if f.kind == "term":
            g.add(c, V(f.prop), V(str(value)))
        elif f.kind == "enum":
            assert isinstance(f.values, dict)
            g.add(c, V(f.prop), V(f.values[str(value)]))
        elif f.kind == "figure":
            _figure(g, c, f.prop, value, f.printed)
        elif f.kind == "integer":
            g.add(c, V(f.prop), plain(int(str(value))))
        elif f.kind in ("text", "choice"):
            g.add(c, V(f.prop), plain(str(value)))
    for cited in _texts(cl.values.get("cites")):
        g.add(c, V("cites"), node(study_iri(str(cited))))
    ci = cl.values.get("ci")
    if isinstance(ci, tuple):
        _figure(g, c, "ciLower", ci[0])
        _figure(g, c, "ciUpper", ci[1])
        if cl.values.get("ci_level") is None:
            g.add(c, V("ciLevel"), typed("95", XSD + "decimal"))
    if cl.arm_id:
        g.add(c, V("armNode"), node(arm_iri(cl.study, cl.arm_id)))
    if cl.values.get("case"):
        g.add(c, V("patientCase"), node(case_iri(doc_id, str(cl.values["case"]))))
    months = months_value(cl)
    if months is not None:
        g.add(c, V("valueInMonths"), typed(str(months), XSD + "decimal"))
    interp = cl.values.get("interpretation")
    if isinstance(interp, tuple):
        g.add(c, V("interpretedValue"), figure(interp[0]))
        g.add(c, V("interpretationNote"), plain(str(interp[1])))
    if cl.values.get("retracted"):
        g.add(c, V("retractedOn"), typed(str(cl.values["retracted"]), XSD + "date"))
    if cl.values.get("superseded_by"):
        g.add(c, V("supersededBy"), node(claim_iri(doc_id, str(cl.values["superseded_by"]))))
    for ref in _texts(cl.values.get("disagrees_with")):
        other_doc, other_claim = str(ref).split(":", 1)
        g.add(c, V("disagreesWith"), node(claim_iri(other_doc, other_claim)))
    g.add(c, PROV_DERIVED, doc)
    _evidence(g, c, doc, cl.span)
    g.add(c, V("sourceFile"), plain(rel))
    g.add(c, V("sourceLine"), plain(cl.line))


def _texts(value: object) -> list[str]:
    return [str(v) for v in value] if isinstance(value, (list, tuple)) else []


def _figure(g: Triples, claim: ox.NamedNode, prop: str, value: object, printed: bool = True) -> None:
    """The typed figure for comparisons, plus its printed text: many stores (Oxigraph among them)
    keep decimals in canonical form, so "336.80" would come back as 336.8 without it."""
    g.add(claim, V(prop), figure(value))
    if printed:
        g.add(claim, V(printed_twin(prop)), plain(str(value)))


def months_value(cl: Claim) -> Decimal | None:
    """A duration in years, weeks or days, restated in months (exact arithmetic; the original stays)."""
    unit, value = cl.values.get("unit"), as_number(cl.values.get("value"))
    if unit not in ("year", "week", "day") or not isinstance(value, Decimal):
        return None
    months = value * MONTHS_PER[str(unit)]
    return months.normalize() if unit == "year" else months.quantize(Decimal("0.01"))


def claim_label(cl: Claim, names: dict[str, str] | None = None) -> str:
    """A short readable label: 'Vogl 2023: overall survival, rate at a time point at 5 year = 89 percent (MWA)'."""
    names = names or {}
    v = cl.values

    def name(term_id: object) -> str:
        return names.get(str(term_id), str(term_id))

    words = []
    for f in ("endpoint", "factor", "criterion", "characteristic", "technology"):
        if v.get(f):
            words.append(name(v[f]))
            break
    if v.get("statistic"):
        words.append(name(v["statistic"]))
    parts = [f"{name(cl.study)}:", ", ".join(words)]
    if v.get("time_point") is not None:
        parts.append(f"at {v['time_point']} {v.get('time_unit', '')}".rstrip())
    qualifier = f"{v['value_qualifier']} " if v.get("value_qualifier") else ""
    if v.get("value") is not None:
        parts.append(f"= {qualifier}{v['value']}")
    elif v.get("value_low") is not None or v.get("value_high") is not None:
        parts.append(f"= {qualifier}{v.get('value_low', '')}–{v.get('value_high', '')}")
    elif qualifier:
        parts.append(qualifier.strip())
    elif v.get("direction"):
        parts.append(f"({str(v['direction']).replace('_', ' ')})")
    if v.get("unit") and any(v.get(f) is not None for f in ("value", "value_low", "value_high")):
        parts.append(str(v["unit"]))
    if v.get("arm") or v.get("subgroup"):
        parts.append(f"({v.get('arm') or v.get('subgroup')})")
    return " ".join(p for p in parts if p)


__all__ = ["document_graph", "document_nt", "document_triples", "figure", "claim_label", "months_value"]
