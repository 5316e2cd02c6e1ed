"""Typed claims -> RDF: one rdflib Graph per source document, following docs/model.md.

Claim fields are written by their kind in the claim model (kg/model.py): a new field there
appears here without code of its own.
"""
from __future__ import annotations

from decimal import Decimal
from fractions import Fraction
from pathlib import Path

from rdflib import Graph, Literal, URIRef
from rdflib.namespace import DCTERMS, OWL, PROV, RDF, RDFS, SKOS, XSD

from . import model
from .model import CLAIM_CLASSES
from .rdf import (
    BCMKG,
    BIBO,
    OA,
    OWL_RATIONAL,
    PREFIXES,
    arm_iri,
    case_iri,
    claim_iri,
    document_iri,
    exclusion_iri,
    study_iri,
)
from .records import Case, Claim, Source, Study, as_number

MONTHS_PER = {"year": Decimal(12), "month": Decimal(1), "week": Decimal(7) / Decimal("30.4375"),
              "day": Decimal(1) / Decimal("30.4375")}


def figure(value: object) -> Literal:
    """A figure exactly as written: xsd:decimal keeps '74.70'; a fraction in words is owl:rational."""
    num = as_number(value)
    if isinstance(num, Fraction):
        return Literal(f"{num.numerator}/{num.denominator}", datatype=OWL_RATIONAL)
    text = str(value) if isinstance(value, Decimal) else str(num)
    return Literal(text, datatype=XSD.decimal)


def new_graph() -> Graph:
    g = Graph()
    for prefix, ns in PREFIXES.items():
        g.bind(prefix, ns)
    return g


def document_graph(source: Source, root: Path | None = None, labels: dict[str, str] | None = None) -> Graph:
    """All triples one extraction file contributes, in its own graph.

    `labels` maps term ids to their labels, so generated claim labels read as words.
    """
    g = new_graph()
    doc = source.document
    d = document_iri(doc.id)
    rel = _relative(source.path, root)
    g.add((d, RDF.type, BCMKG.SourceDocument))
    g.add((d, RDF.type, BIBO.Document))
    g.add((d, RDFS.label, Literal(doc.title)))
    g.add((d, DCTERMS.title, Literal(doc.title)))
    for author in doc.authors:
        g.add((d, DCTERMS.creator, Literal(author)))
    g.add((d, DCTERMS.date, Literal(str(doc.year), datatype=XSD.gYear)))
    g.add((d, DCTERMS.isPartOf, Literal(doc.venue)))
    if doc.doi:
        g.add((d, BIBO.doi, Literal(doc.doi)))
        g.add((d, OWL.sameAs, URIRef(f"https://doi.org/{doc.doi}")))
    for t in doc.designs:
        g.add((d, BCMKG.design, BCMKG[t]))
    g.add((d, BCMKG.corpusFile, Literal(doc.corpus_file)))
    g.add((d, BCMKG.sha256, Literal(doc.sha256)))
    g.add((d, BCMKG.sourceFile, Literal(rel)))
    if doc.language:
        g.add((d, DCTERMS.language, Literal(doc.language)))
    if doc.note:
        g.add((d, BCMKG.curationNote, Literal(doc.note)))
    for st in source.studies:
        _study(g, st, d)
    for case in source.cases:
        _case(g, case, doc.id, d, rel)
    names = dict(labels or {})
    names.update({st.id: st.label for st in source.studies})
    for claim in source.claims:
        _claim(g, claim, doc.id, d, rel, names)
    for i, ex in enumerate(source.exclusions, start=1):
        e = exclusion_iri(doc.id, i)
        g.add((e, RDF.type, BCMKG.CurationExclusion))
        g.add((e, BCMKG.reason, Literal(ex.reason)))
        g.add((e, PROV.wasDerivedFrom, d))
        _evidence(g, e, d, ex.span)
        g.add((e, BCMKG.sourceFile, Literal(rel)))
        g.add((e, BCMKG.sourceLine, Literal(ex.line)))
    return g


def _relative(path: str, root: Path | None) -> str:
    p = Path(path).resolve()
    try:
        return str(p.relative_to(root.resolve())) if root else p.name
    except ValueError:
        return p.name


def _evidence(g: Graph, subject: URIRef, doc: URIRef, span: tuple[int, int]) -> None:
    ev, sel = URIRef(f"{subject}/evidence"), URIRef(f"{subject}/selector")
    g.add((subject, BCMKG.evidence, ev))
    g.add((ev, RDF.type, OA.SpecificResource))
    g.add((ev, OA.hasSource, doc))
    g.add((ev, OA.hasSelector, sel))
    g.add((sel, RDF.type, OA.TextPositionSelector))
    g.add((sel, OA.start, Literal(int(span[0]))))
    g.add((sel, OA.end, Literal(int(span[1]))))


STUDY_TEXT = {"first_author": "firstAuthor", "country": "country", "period": "period", "trial_name": "trialName",
              "n_qualifier": "sampleSizeQualifier", "reference": "referenceNumber", "title": "citedTitle",
              "note": "curationNote"}


def _study(g: Graph, st: Study, doc: URIRef) -> None:
    s = study_iri(st.id)
    g.add((s, RDF.type, BCMKG.ClinicalTrial if st.registry_ids or st.trial_name else BCMKG.Study))
    g.add((s, RDFS.label, Literal(st.label)))
    for alias in st.aliases:
        g.add((s, SKOS.altLabel, Literal(alias)))
    g.add((s, DCTERMS.isReferencedBy, doc))
    for t in st.designs:
        g.add((s, BCMKG.design, BCMKG[t]))
    for attr, prop in STUDY_TEXT.items():
        value = getattr(st, attr)
        if value not in (None, ""):
            g.add((s, BCMKG[prop], Literal(str(value))))
    if st.year is not None:
        g.add((s, BCMKG.year, Literal(str(st.year), datatype=XSD.gYear)))
    if st.n is not None:
        g.add((s, BCMKG.sampleSize, Literal(st.n)))
    for rid in st.registry_ids:
        g.add((s, BCMKG.registryId, Literal(rid)))
    if st.doi:
        pub = URIRef(f"https://doi.org/{st.doi}")
        g.add((s, BCMKG.describedIn, pub))
        g.add((pub, RDF.type, BIBO.AcademicArticle))
        g.add((pub, BIBO.doi, Literal(st.doi)))
    if st.is_document:
        g.add((s, BCMKG.isStudyOf, doc))
    for arm in st.arms:
        a = arm_iri(st.id, arm.id)
        g.add((s, BCMKG.hasArm, a))
        g.add((a, RDF.type, BCMKG.StudyArm))
        g.add((a, RDFS.label, Literal(arm.label)))
        if arm.modality:
            g.add((a, BCMKG.modality, BCMKG[arm.modality]))
        if arm.n is not None:
            g.add((a, BCMKG.sampleSize, Literal(arm.n)))


def _case(g: Graph, case: Case, doc_id: str, doc: URIRef, rel: str) -> None:
    c = case_iri(doc_id, case.id)
    g.add((c, RDF.type, BCMKG.PatientCase))
    g.add((c, RDFS.label, Literal(f"{case.study} patient {case.patient}")))
    g.add((c, BCMKG.aboutStudy, study_iri(case.study)))
    g.add((c, BCMKG.patientNumber, Literal(case.patient)))
    if case.stage:
        g.add((c, BCMKG.stage, Literal(case.stage)))
    g.add((c, BCMKG.metastaticSite, BCMKG[case.recurrence_site]))
    if case.recurrence_site_detail:
        g.add((c, BCMKG.siteDetail, Literal(case.recurrence_site_detail)))
    g.add((c, BCMKG.modality, BCMKG[case.operation]))
    g.add((c, BCMKG.progressed, Literal(case.progressed)))
    if case.progression_site:
        g.add((c, BCMKG.progressionSite, BCMKG[case.progression_site]))
    g.add((c, PROV.wasDerivedFrom, doc))
    g.add((c, BCMKG.locator, Literal(case.locator)))
    if case.note:
        g.add((c, BCMKG.curationNote, Literal(case.note)))
    _evidence(g, c, doc, case.span)
    g.add((c, BCMKG.sourceFile, Literal(rel)))
    g.add((c, BCMKG.sourceLine, Literal(case.line)))


def _claim(g: Graph, cl: Claim, doc_id: str, doc: URIRef, rel: str, names: dict[str, str]) -> None:
    c = claim_iri(doc_id, cl.id)
    g.add((c, RDF.type, BCMKG[CLAIM_CLASSES[cl.kind]]))
    g.add((c, RDFS.label, Literal(claim_label(cl, names))))
    g.add((c, BCMKG.claimId, Literal(cl.id)))
    g.add((c, BCMKG.aboutStudy, study_iri(cl.study)))
    g.add((c, BCMKG.locator, Literal(cl.locator)))
    for f in model.FIELDS:
        value = cl.values.get(f.key)
        if value is None and f.default is not None and cl.kind in f.kinds:
            value = f.default
        if value is None or value == "" or f.prop is None or (f.needs and cl.values.get(f.needs) is None):
            continue
        if f.kind == "term":
            g.add((c, BCMKG[f.prop], BCMKG[str(value)]))
        elif f.kind == "enum":
            assert isinstance(f.values, dict)
            g.add((c, BCMKG[f.prop], BCMKG[f.values[str(value)]]))
        elif f.kind == "figure":
            _figure(g, c, f.prop, value, f.printed)
        elif f.kind == "integer":
            g.add((c, BCMKG[f.prop], Literal(int(str(value)))))
        elif f.kind in ("text", "choice"):
            g.add((c, BCMKG[f.prop], Literal(str(value))))
    for cited in _texts(cl.values.get("cites")):
        g.add((c, BCMKG.cites, study_iri(str(cited))))
    ci = cl.values.get("ci")
    if isinstance(ci, tuple):
        _figure(g, c, "ciLower", ci[0])
        _figure(g, c, "ciUpper", ci[1])
        if cl.values.get("ci_level") is None:
            g.add((c, BCMKG.ciLevel, Literal("95", datatype=XSD.decimal)))
    if cl.arm_id:
        g.add((c, BCMKG.armNode, arm_iri(cl.study, cl.arm_id)))
    if cl.values.get("case"):
        g.add((c, BCMKG.patientCase, case_iri(doc_id, str(cl.values["case"]))))
    months = months_value(cl)
    if months is not None:
        g.add((c, BCMKG.valueInMonths, Literal(str(months), datatype=XSD.decimal)))
    interp = cl.values.get("interpretation")
    if isinstance(interp, tuple):
        g.add((c, BCMKG.interpretedValue, figure(interp[0])))
        g.add((c, BCMKG.interpretationNote, Literal(str(interp[1]))))
    if cl.values.get("retracted"):
        g.add((c, BCMKG.retractedOn, Literal(str(cl.values["retracted"]), datatype=XSD.date)))
    if cl.values.get("superseded_by"):
        g.add((c, BCMKG.supersededBy, claim_iri(doc_id, str(cl.values["superseded_by"]))))
    for ref in _texts(cl.values.get("disagrees_with")):
        other_doc, other_claim = str(ref).split(":", 1)
        g.add((c, BCMKG.disagreesWith, claim_iri(other_doc, other_claim)))
    g.add((c, PROV.wasDerivedFrom, doc))
    _evidence(g, c, doc, cl.span)
    g.add((c, BCMKG.sourceFile, Literal(rel)))
    g.add((c, BCMKG.sourceLine, Literal(cl.line)))


def _texts(value: object) -> list[str]:
    return [str(v) for v in value] if isinstance(value, (list, tuple)) else []


def _figure(g: Graph, claim: URIRef, prop: str, value: object, printed: bool = True) -> None:
    """The typed figure for comparisons, plus its printed text: many stores (Oxigraph among them)
    keep decimals in canonical form, so "336.80" would come back as 336.8 without it."""
    g.add((claim, BCMKG[prop], figure(value)))
    if printed:
        g.add((claim, BCMKG[prop + "AsPrinted"], Literal(str(value))))


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


__all__ = ["document_graph", "figure", "claim_label", "months_value", "new_graph"]
