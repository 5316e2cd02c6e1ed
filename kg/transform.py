"""Extraction rows -> RDF: one rdflib Graph per source document, following docs/model.md."""
from __future__ import annotations

from decimal import Decimal
from fractions import Fraction
from pathlib import Path

from rdflib import Graph, Literal, URIRef
from rdflib.namespace import DCTERMS, OWL, PROV, RDF, RDFS, XSD

from .sources import BASES, DIRECTIONS, UNITS, as_number
from .rdf import BCD, BCMKG, BIBO, OA, PREFIXES, case_iri, claim_iri, document_iri, study_iri

CLAIM_CLASS = {"outcome": "OutcomeClaim", "prognostic_factor": "PrognosticFactorClaim",
               "selection_criterion": "SelectionCriterionClaim", "characteristic": "CharacteristicClaim",
               "emerging_technology": "EmergingTechnologyClaim"}
PROPERTY_OF_TERM = {"site": "metastaticSite", "modality": "modality", "comparator": "comparator",
                    "subtype": "subtype", "endpoint": "endpoint", "statistic": "statisticType",
                    "biomarker": "biomarker", "factor": "factor", "criterion": "criterion",
                    "technology": "technology", "progression_site": "progressionSite"}
DECIMAL_FIELDS = {"value": "value", "value_low": "valueLow", "value_high": "valueHigh", "time_point": "timePoint",
                  "p_value": "pValue", "min": "min", "max": "max", "sd": "sd", "proportion": "proportion",
                  "ci_level": "ciLevel"}
TEXT_FIELDS = {"arm": "arm", "subgroup": "subgroup", "value_qualifier": "valueQualifier",
               "value_as_written": "valueAsWritten", "p_qualifier": "pValueQualifier", "factor_level": "factorLevel",
               "requirement": "requirement", "characteristic": "characteristic", "application": "application",
               "impact": "impact", "locator": "locator", "note": "curationNote"}
MONTHS_PER = {"year": Decimal(12), "month": Decimal(1), "week": Decimal(7) / Decimal("30.4375"),
              "day": Decimal(1) / Decimal("30.4375")}
OWL_RATIONAL = URIRef(str(OWL) + "rational")


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


def document_graph(source: dict, root: Path | None = None, labels: dict[str, str] | None = None) -> Graph:
    """All triples one extraction file contributes, in its own graph.

    `labels` maps term ids to their labels, so generated claim labels read as words.
    """
    g = new_graph()
    doc = source["document"]
    doc_id = str(doc["id"])
    d = document_iri(doc_id)
    rel = _relative(source["path"], root)
    g.add((d, RDF.type, BCMKG.SourceDocument))
    g.add((d, RDF.type, BIBO.Document))
    g.add((d, RDFS.label, Literal(f"{doc['title']}")))
    g.add((d, DCTERMS.title, Literal(str(doc["title"]))))
    for author in doc.get("authors") or []:
        g.add((d, DCTERMS.creator, Literal(str(author))))
    g.add((d, DCTERMS.date, Literal(str(doc["year"]), datatype=XSD.gYear)))
    g.add((d, DCTERMS.isPartOf, Literal(str(doc["venue"]))))
    if doc.get("doi"):
        g.add((d, BIBO.doi, Literal(str(doc["doi"]))))
        g.add((d, OWL.sameAs, URIRef(f"https://doi.org/{doc['doi']}")))
    for t in doc["design_terms"]:
        g.add((d, BCMKG.design, BCMKG[t]))
    g.add((d, BCMKG.corpusFile, Literal(str(doc["corpus_file"]))))
    g.add((d, BCMKG.sha256, Literal(str(doc["sha256"]))))
    g.add((d, BCMKG.sourceFile, Literal(rel)))
    if doc.get("language"):
        g.add((d, DCTERMS.language, Literal(str(doc["language"]))))
    if doc.get("note"):
        g.add((d, BCMKG.curationNote, Literal(str(doc["note"]))))
    for st in source["studies"]:
        _study(g, st, d)
    for case in source["cases"]:
        _case(g, case, doc_id, d, rel)
    names = dict(labels or {})
    names.update({str(st["id"]): str(st["label"]) for st in source["studies"]})
    for claim in source["claims"]:
        _claim(g, claim, doc_id, d, rel, names)
    for i, ex in enumerate(source["exclusions"], start=1):
        e = BCD[f"exclusion/{doc_id}/{i}"]
        g.add((e, RDF.type, BCMKG.CurationExclusion))
        g.add((e, BCMKG.reason, Literal(str(ex["reason"]))))
        g.add((e, PROV.wasDerivedFrom, d))
        _evidence(g, e, d, ex["span"])
        g.add((e, BCMKG.sourceFile, Literal(rel)))
        g.add((e, BCMKG.sourceLine, Literal(ex.line)))
    return g


def _relative(path: str, root: Path | None) -> str:
    p = Path(path).resolve()
    try:
        return str(p.relative_to(root.resolve())) if root else p.name
    except ValueError:
        return p.name


def _evidence(g: Graph, subject: URIRef, doc: URIRef, span: list[int]) -> None:
    ev, sel = URIRef(f"{subject}/evidence"), URIRef(f"{subject}/selector")
    g.add((subject, BCMKG.evidence, ev))
    g.add((ev, RDF.type, OA.SpecificResource))
    g.add((ev, OA.hasSource, doc))
    g.add((ev, OA.hasSelector, sel))
    g.add((sel, RDF.type, OA.TextPositionSelector))
    g.add((sel, OA.start, Literal(int(span[0]))))
    g.add((sel, OA.end, Literal(int(span[1]))))


def _study(g: Graph, st: dict, doc: URIRef) -> None:
    s = study_iri(str(st["id"]))
    is_trial = bool(st.get("registry_ids") or st.get("trial_name"))
    g.add((s, RDF.type, BCMKG.ClinicalTrial if is_trial else BCMKG.Study))
    g.add((s, RDFS.label, Literal(str(st["label"]))))
    g.add((s, DCTERMS.isReferencedBy, doc))
    for t in st["design_terms"]:
        g.add((s, BCMKG.design, BCMKG[t]))
    simple = {"first_author": "firstAuthor", "country": "country", "period": "period",
              "trial_name": "trialName", "n_qualifier": "sampleSizeQualifier", "reference": "referenceNumber",
              "title": "citedTitle"}
    for field, prop in simple.items():
        if st.get(field) not in (None, ""):
            g.add((s, BCMKG[prop], Literal(str(st[field]))))
    if st.get("year") is not None:
        g.add((s, BCMKG.year, Literal(str(st["year"]), datatype=XSD.gYear)))
    if st.get("n") is not None:
        g.add((s, BCMKG.sampleSize, Literal(int(st["n"]))))
    for rid in st.get("registry_ids") or []:
        g.add((s, BCMKG.registryId, Literal(str(rid))))
    if st.get("doi"):
        pub = URIRef(f"https://doi.org/{st['doi']}")
        g.add((s, BCMKG.describedIn, pub))
        g.add((pub, RDF.type, BIBO.AcademicArticle))
        g.add((pub, BIBO.doi, Literal(str(st["doi"]))))
    if st.get("is_document"):
        g.add((s, BCMKG.isStudyOf, doc))
    if st.get("note"):
        g.add((s, BCMKG.curationNote, Literal(str(st["note"]))))
    for arm in st.get("arms") or []:
        a = URIRef(f"{s}/arm/{arm['id']}")
        g.add((s, BCMKG.hasArm, a))
        g.add((a, RDF.type, BCMKG.StudyArm))
        g.add((a, RDFS.label, Literal(str(arm["label"]))))
        if arm.get("modality_term"):
            g.add((a, BCMKG.modality, BCMKG[arm["modality_term"]]))
        if arm.get("n") is not None:
            g.add((a, BCMKG.sampleSize, Literal(int(arm["n"]))))


def _case(g: Graph, case: dict, doc_id: str, doc: URIRef, rel: str) -> None:
    c = case_iri(doc_id, str(case["id"]))
    g.add((c, RDF.type, BCMKG.PatientCase))
    g.add((c, RDFS.label, Literal(f"{case['study']} patient {case['patient']}")))
    g.add((c, BCMKG.aboutStudy, study_iri(str(case["study"]))))
    g.add((c, BCMKG.patientNumber, Literal(int(case["patient"]))))
    if case.get("stage"):
        g.add((c, BCMKG.stage, Literal(str(case["stage"]))))
    g.add((c, BCMKG.metastaticSite, BCMKG[case["recurrence_site_term"]]))
    if case.get("recurrence_site_detail"):
        g.add((c, BCMKG.siteDetail, Literal(str(case["recurrence_site_detail"]))))
    g.add((c, BCMKG.modality, BCMKG[case["operation_term"]]))
    g.add((c, BCMKG.progressed, Literal(bool(case["progressed"]))))
    if case.get("progression_site_term"):
        g.add((c, BCMKG.progressionSite, BCMKG[case["progression_site_term"]]))
    g.add((c, PROV.wasDerivedFrom, doc))
    g.add((c, BCMKG.locator, Literal(str(case["locator"]))))
    if case.get("note"):
        g.add((c, BCMKG.curationNote, Literal(str(case["note"]))))
    _evidence(g, c, doc, case["span"])
    g.add((c, BCMKG.sourceFile, Literal(rel)))
    g.add((c, BCMKG.sourceLine, Literal(case.line)))


def _claim(g: Graph, cl: dict, doc_id: str, doc: URIRef, rel: str, names: dict[str, str]) -> None:
    c = claim_iri(doc_id, str(cl["id"]))
    g.add((c, RDF.type, BCMKG[CLAIM_CLASS[cl["kind"]]]))
    g.add((c, RDFS.label, Literal(claim_label(cl, names))))
    g.add((c, BCMKG.claimId, Literal(str(cl["id"]))))
    g.add((c, BCMKG.aboutStudy, study_iri(str(cl["study"]))))
    for cited in cl.get("cites") or []:
        g.add((c, BCMKG.cites, study_iri(str(cited))))
    for field, term in cl["terms"].items():
        if term:
            g.add((c, BCMKG[PROPERTY_OF_TERM[field]], BCMKG[term]))
    for field, prop in DECIMAL_FIELDS.items():
        if cl.get(field) is not None:
            _figure(g, c, prop, cl[field])
    for field, prop in TEXT_FIELDS.items():
        if cl.get(field) not in (None, ""):
            g.add((c, BCMKG[prop], Literal(str(cl[field]))))
    if cl.get("unit"):
        g.add((c, BCMKG.unit, BCMKG[UNITS[cl["unit"]]]))
    if cl.get("time_unit"):
        g.add((c, BCMKG.timePointUnit, BCMKG[UNITS[cl["time_unit"]]]))
    if isinstance(cl.get("ci"), list):
        _figure(g, c, "ciLower", cl["ci"][0])
        _figure(g, c, "ciUpper", cl["ci"][1])
        if cl.get("ci_level") is None:
            g.add((c, BCMKG.ciLevel, Literal("95", datatype=XSD.decimal)))
    if cl.get("n") is not None:
        g.add((c, BCMKG.sampleSize, Literal(int(cl["n"]))))
        g.add((c, BCMKG.sampleSizeUnit, BCMKG[UNITS[cl.get("n_unit") or "patients"]]))
    if cl["kind"] in ("outcome", "prognostic_factor", "characteristic"):
        basis = cl.get("subtype_basis") or "unspecified"
        g.add((c, BCMKG.subtypeBasis, BCMKG[BASES[basis]]))
    if cl.get("direction"):
        g.add((c, BCMKG.direction, BCMKG[DIRECTIONS[cl["direction"]]]))
    if cl.get("arm_node"):
        g.add((c, BCMKG.armNode, URIRef(f"{study_iri(str(cl['study']))}/arm/{cl['arm_node']}")))
    if cl.get("case"):
        g.add((c, BCMKG.patientCase, case_iri(doc_id, str(cl["case"]))))
    months = months_value(cl)
    if months is not None:
        g.add((c, BCMKG.valueInMonths, Literal(str(months), datatype=XSD.decimal)))
    g.add((c, BCMKG.confidence, Literal(str(cl.get("confidence") or "high"))))
    interp = cl.get("interpretation")
    if interp:
        g.add((c, BCMKG.interpretedValue, figure(interp["value"])))
        g.add((c, BCMKG.interpretationNote, Literal(str(interp["note"]))))
    for ref in cl.get("disagrees_with") or []:
        other_doc, other_claim = str(ref).split(":", 1)
        g.add((c, BCMKG.disagreesWith, claim_iri(other_doc, other_claim)))
    g.add((c, PROV.wasDerivedFrom, doc))
    _evidence(g, c, doc, cl["span"])
    g.add((c, BCMKG.sourceFile, Literal(rel)))
    g.add((c, BCMKG.sourceLine, Literal(cl.line)))


def _figure(g: Graph, claim: URIRef, prop: str, value: object) -> None:
    """The typed figure for comparisons, plus its printed text: many stores (Oxigraph among them)
    keep decimals in canonical form, so "336.80" would come back as 336.8 without it."""
    g.add((claim, BCMKG[prop], figure(value)))
    if prop != "ciLevel":
        g.add((claim, BCMKG[prop + "AsPrinted"], Literal(str(value))))


def months_value(cl: dict) -> Decimal | None:
    """A duration in years, weeks or days, restated in months (exact arithmetic; the original stays)."""
    unit, value = cl.get("unit"), as_number(cl.get("value"))
    if unit not in ("year", "week", "day") or not isinstance(value, Decimal):
        return None
    months = value * MONTHS_PER[unit]
    return months.normalize() if unit == "year" else months.quantize(Decimal("0.01"))


def claim_label(cl: dict, names: dict[str, str] | None = None) -> str:
    """A short readable label: 'Vogl 2023: overall survival, rate at a time point at 5 year = 89 percent (MWA)'."""
    names = names or {}
    name = lambda term_id: names.get(str(term_id), str(term_id))  # noqa: E731
    head = [f"{name(cl['study'])}:"]
    words = []
    for f in ("endpoint", "factor", "criterion", "characteristic", "technology"):
        if cl.get(f):
            words.append(name(cl["terms"].get(f) or cl[f]))
            break
    if cl.get("statistic"):
        words.append(name(cl["terms"].get("statistic") or cl["statistic"]))
    parts = head + [", ".join(words)]
    if cl.get("time_point") is not None:
        parts.append(f"at {cl['time_point']} {cl.get('time_unit', '')}".rstrip())
    qualifier = f"{cl['value_qualifier']} " if cl.get("value_qualifier") else ""
    if cl.get("value") is not None:
        parts.append(f"= {qualifier}{cl['value']}")
    elif cl.get("value_low") is not None or cl.get("value_high") is not None:
        parts.append(f"= {qualifier}{cl.get('value_low', '')}–{cl.get('value_high', '')}")
    elif qualifier:
        parts.append(qualifier.strip())
    elif cl.get("direction"):
        parts.append(f"({cl['direction'].replace('_', ' ')})")
    if cl.get("unit") and any(cl.get(f) is not None for f in ("value", "value_low", "value_high")):
        parts.append(str(cl["unit"]))
    if cl.get("arm") or cl.get("subgroup"):
        parts.append(f"({cl.get('arm') or cl.get('subgroup')})")
    return " ".join(p for p in parts if p)


__all__ = ["document_graph", "figure", "claim_label", "months_value", "new_graph"]
