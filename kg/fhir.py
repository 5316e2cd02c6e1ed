"""Outcome claims as FHIR R5 `Evidence` resources: one resource per claim, one Bundle per document.

FHIR is how clinical systems and evidence platforms (e.g. EBMonFHIR) exchange a statistic together
with its population, exposure, comparator and outcome. The mapping is written once, in `MAPPING`,
and explained field by field in docs/fhir.md. Codes come only from the verified exact matches in
ontology/mappings.sssom.tsv. A concept without one is our vocabulary IRI: a CodeableConcept whose
`text` is the label, coded in the system https://w3id.org/bcmkg/vocab/. We never emit an unverified
code. A model field that FHIR has no element for is an extension whose URL is its bcmkg: property IRI.

    >>> claim_resource(Path("build/release"), CLAIM + "ueno2022/t1-mf-os-hr")["statistic"]     # doctest: +SKIP
    >>> write_fhir(Path("build/release"), Path("build/fhir"))                                 # doctest: +SKIP
"""
from __future__ import annotations

import csv
import hashlib
import json
import re
from collections import defaultdict
from functools import lru_cache
from pathlib import Path
from typing import Any

from .errors import KGError
from .export import claim_row, claim_rows, model_columns
from .model import BY_KEY, printed_twin
from .paths import project_dir
from .rdf import BCD, BCMKG, OBO, prefix_block
from .records import as_number
from .store import Store, open_store

__all__ = ["claim_resource", "evidence_resource", "document_bundle", "write_fhir", "load_codes", "MAPPING",
           "VOCAB", "SYSTEMS"]

VOCAB = str(BCMKG)                 # the code system of our own concepts
CLAIM = BCD + "claim/"
UCUM = "http://unitsofmeasure.org"
ROLE = "http://terminology.hl7.org/CodeSystem/variable-role"
#: SSSOM prefix -> FHIR code system (NCIt, SNOMED CT and MONDO as registered in HL7 THO; the other OBO
#: ontologies by the same OBO convention)
SYSTEMS = {"NCIT": "http://ncicb.nci.nih.gov/xml/owl/EVS/Thesaurus.owl", "SCTID": "http://snomed.info/sct",
           **{p: f"{OBO}{p.lower()}.owl" for p in ("MONDO", "UBERON", "OBI", "STATO", "MAXO")}}
UNITS = {"percent": "%", "month": "mo", "year": "a", "week": "wk", "day": "d", "mm": "mm", "cm": "cm", "Gy": "Gy",
         "ratio": "1"}
COMPARATOR = {"less than": "<", "up to": "<=", "at most": "<=", "at least": ">=", "over": ">", "more than": ">"}
CI_TYPE, P_TYPE, SD_TYPE = VOCAB + "ConfidenceInterval", VOCAB + "PValue", VOCAB + "StandardDeviation"

#: claim-model field -> the FHIR element that carries it. Every other field of an outcome claim is an
#: extension (url = the bcmkg: property IRI); docs/fhir.md lists both, and a test checks it.
MAPPING: dict[str, str] = {
    "id": "Evidence.id, Evidence.identifier, Evidence.url (the claim IRI)",
    "kind": "the resource type: only outcome claims become Evidence",
    "study": "Evidence.relatedArtifact (type `cites`, the study's DOI) and Evidence.studyDesign",
    "locator": "Evidence.relatedArtifact[derived-from].label and Evidence.citeAsMarkdown",
    "site": "contained Group (population).characteristic `metastatic site`",
    "modality": "contained EvidenceVariable (exposure).characteristic.definitionCodeableConcept",
    "comparator": "contained EvidenceVariable (referenceExposure).characteristic.definitionCodeableConcept",
    "arm": "exposure EvidenceVariable.characteristic.description",
    "subgroup": "population Group.description",
    "subtype": "contained Group (population).characteristic `receptor subtype`",
    "endpoint": "contained EvidenceVariable (measuredVariable).characteristic.definitionCodeableConcept",
    "statistic": "Evidence.statistic.statisticType",
    "time_point": "measuredVariable characteristic.timeFromEvent.quantity",
    "time_unit": "measuredVariable characteristic.timeFromEvent.quantity.unit/code (UCUM)",
    "value_qualifier": "Evidence.statistic.quantity.comparator (less than, up to, at most, at least, over, more than)",
    "value": "Evidence.statistic.quantity.value",
    "unit": "Evidence.statistic.quantity.unit/system/code (UCUM where one exists)",
    "ci_lower": "Evidence.statistic.attributeEstimate[confidence interval].range.low",
    "ci_upper": "Evidence.statistic.attributeEstimate[confidence interval].range.high",
    "ci_level": "Evidence.statistic.attributeEstimate[confidence interval].level (95 -> 0.95)",
    "p_qualifier": "Evidence.statistic.attributeEstimate[p-value].quantity.comparator",
    "p_value": "Evidence.statistic.attributeEstimate[p-value].quantity.value",
    "n": "Evidence.statistic.sampleSize.numberOfParticipants (when n counts patients) and Group.quantity",
    "sd": "Evidence.statistic.attributeEstimate[standard deviation].quantity",
    "value_low": "Evidence.statistic.attributeEstimate[range].range.low",
    "value_high": "Evidence.statistic.attributeEstimate[range].range.high",
    "subtype_basis": "population Group.characteristic[receptor subtype].extension (url bcmkg:subtypeBasis)",
    "n_unit": "Evidence.statistic.sampleSize.description (numberOfParticipants only when n counts patients)",
    "retracted": "Evidence.status = retired (the date: extension bcmkg:retractedOn)",
    "superseded_by": "Evidence.relatedArtifact (type replaced-with, resource = the new claim's IRI)",
    "retraction_reason": "Evidence.note",
    "evidence_level": "Evidence.certainty.rating (the OCEBM 2011 level the build derives; none when not stated)",
    "evidence_rationale": "Evidence.certainty.note",
}
ALSO_EXTENSION = ("value_qualifier", "retracted")      # mapped, and also kept as written
#: fields never sent: they describe the curation file, not the evidence, or are given elsewhere
OMITTED = {"ci": "its bounds are ci_lower and ci_upper", "span": "the extension `bcmkg:evidence` (file#char=start,end)",
           "case": "no outcome claim names a patient case", "cites": "not in the claims table the export reads",
           "interpretation_note": "not in the claims table (the reading itself is the extension interpretedValue)",
           "disagrees_with": "not in the claims table; see `kg network --disagreements`",
           "note": "curators' working note, not in the claims table",
           "draft": "drafts never reach a release (the build refuses them)", "needs": "a draft's to-do list, as draft",
           "value_at": "a curation aid for the span check, not in the claims table"}


@lru_cache(maxsize=4)
def load_codes(path: Path | None = None) -> dict[str, tuple[tuple[str, str, str], ...]]:
    """Our IRI -> its verified codings (system, code, display): the exactMatch rows of the SSSOM table."""
    path = path or project_dir("ontology") / "mappings.sssom.tsv"
    if not path.is_file():
        raise KGError(f"no mappings at {path} (run `kg ontology mappings`)")
    codes: dict[str, list[tuple[str, str, str]]] = {}
    lines = [line for line in path.read_text(encoding="utf-8").splitlines() if not line.startswith("#")]
    for row in csv.DictReader(lines, delimiter="\t"):
        prefix, _, local = row["object_id"].partition(":")
        verified = row["comment"].startswith("verified")
        if row["predicate_id"] != "skos:exactMatch" or prefix not in SYSTEMS or not verified:
            continue
        code = local if prefix in ("NCIT", "SCTID") else row["object_id"]
        display = re.sub(r"\s*\(.*\)$", "", row["object_label"]).strip()
        codes.setdefault(VOCAB + row["subject_id"].split(":", 1)[1], []).append((SYSTEMS[prefix], code, display))
    return {k: tuple(v) for k, v in codes.items()}


def concept(iri: str, label: str, codes: dict[str, tuple[tuple[str, str, str], ...]]) -> dict[str, Any]:
    """A CodeableConcept: the verified codes, then ours (system = our vocabulary, code = the local name)."""
    coding = [{"system": s, "code": c, "display": d} for s, c, d in codes.get(iri, ())]
    if iri.startswith(VOCAB):
        coding.append({"system": VOCAB, "code": iri[len(VOCAB):], "display": label})
    return {"coding": coding, "text": label} if coding else {"text": label}


def _number(text: str) -> int | float | None:
    """A printed figure as a JSON number (the printed form itself travels in an extension)."""
    number = as_number(text) if text else None
    if number is None:
        return None
    return int(number) if re.fullmatch(r"\d+", text.strip()) else float(number)


def _quantity(text: str, unit: str = "", comparator: str = "") -> dict[str, Any]:
    q: dict[str, Any] = {"value": _number(text)}
    if comparator:
        q["comparator"] = comparator
    if unit:
        q["unit"] = unit
        if unit in UNITS:
            q.update(system=UCUM, code=UNITS[unit])
    return q


def _ext(key: str, r: dict[str, str], codes: dict[str, tuple[tuple[str, str, str], ...]]) -> dict[str, Any] | None:
    """A model field FHIR has no element for, as an extension (url = its bcmkg: property IRI)."""
    f = BY_KEY[key]
    col = f.export_column or key
    text = r.get(col, "")
    if not text:
        return None
    url = VOCAB + str(f.prop)
    if f.kind == "term" and r.get(col + "_iri"):
        return {"url": url, "valueCodeableConcept": concept(r[col + "_iri"], text, codes)}
    if f.kind == "integer" or key == "source_line":
        return {"url": url, "valueInteger": int(text)}
    return {"url": url, "valueString": text}


def _population(r: dict[str, str], codes: Any) -> dict[str, Any]:
    chars = []
    for key, name in (("site", "metastatic site"), ("subtype", "receptor subtype")):
        if r[key + "_iri"]:
            char: dict[str, Any] = {"code": concept(VOCAB + str(BY_KEY[key].prop), name, codes), "exclude": False,
                                    "valueCodeableConcept": concept(r[key + "_iri"], r[key], codes)}
            if key == "subtype" and r["subtype_basis_iri"]:
                char["extension"] = [{"url": VOCAB + "subtypeBasis", "valueCodeableConcept": concept(
                    r["subtype_basis_iri"], r["subtype_basis"].replace("_", " "), codes)}]
            chars.append(char)
    group: dict[str, Any] = {"resourceType": "Group", "id": "population", "type": "person",
                             "membership": "definitional",
                             "name": " / ".join(x for x in (r["site"], r["subtype"], r["subgroup"]) if x) or "patients"}
    if r["subgroup"]:
        group["description"] = r["subgroup"]
    if r["n"] and r["n_unit"] != "lesions":
        group["quantity"] = int(r["n"])
    return {**group, "characteristic": chars} if chars else group


def _variable(vid: str, iri: str, label: str, codes: Any, **extra: Any) -> dict[str, Any]:
    char = {"definitionCodeableConcept": concept(iri, label, codes), **extra}
    return {"resourceType": "EvidenceVariable", "id": vid, "status": "active", "title": label, "characteristic": [char]}


def _role(code: str, ref: str, description: str) -> dict[str, Any]:
    return {"description": description, "variableRole": {"coding": [{"system": ROLE, "code": code}], "text": code},
            "observed": {"reference": f"#{ref}", "display": description}}


def _statistic(r: dict[str, str], codes: Any) -> dict[str, Any]:
    unit = "" if r["unit"] == "ratio" else r["unit"]
    stat: dict[str, Any] = {"description": " ".join(x for x in (r["statistic"], r["value_qualifier"], r["value"], unit)
                                                    if x) or "not stated"}
    if r["statistic_iri"]:
        stat["statisticType"] = concept(r["statistic_iri"], r["statistic"], codes)
    if r["value"]:
        stat["quantity"] = _quantity(r["value"], r["unit"], COMPARATOR.get(r["value_qualifier"], ""))
    if r["n"]:
        size: dict[str, Any] = {"description": f"{r['n']} {r['n_unit'] or 'patients'}"}
        if r["n_unit"] != "lesions":
            size["numberOfParticipants"] = int(r["n"])
        stat["sampleSize"] = size
    estimates = []
    if r["ci_lower"] or r["ci_upper"]:
        level = as_number(r["ci_level"] or "95")
        estimates.append({"type": concept(CI_TYPE, "confidence interval", codes),
                          "description": f"{r['ci_level'] or 95}% CI",
                          "level": float(level) / 100 if level is not None else 0.95,
                          "range": {k: _quantity(r[c]) for k, c in (("low", "ci_lower"), ("high", "ci_upper"))
                                    if r[c]}})
    if r["p_value"]:
        p_cmp = r["p_qualifier"] if r["p_qualifier"] in ("<", "<=", ">", ">=") else ""
        estimates.append({"type": concept(P_TYPE, "p-value", codes),
                          "quantity": _quantity(r["p_value"], comparator=p_cmp),
                          "description": f"p {r['p_qualifier'] or '='} {r['p_value']}"})
    if r["sd"]:
        estimates.append({"type": concept(SD_TYPE, "standard deviation", codes),
                          "quantity": _quantity(r["sd"], r["unit"])})
    if r["value_low"] or r["value_high"]:
        estimates.append({"type": {"text": "range of the reported values"}, "range": {
            k: _quantity(r[c], r["unit"]) for k, c in (("low", "value_low"), ("high", "value_high")) if r[c]}})
    if estimates:
        stat["attributeEstimate"] = estimates
    if r["interpreted_value"]:       # the printed figure stays the value; the reading is said, not applied
        stat["note"] = [{"text": f"printed {r['value']}; read by the curator as {r['interpreted_value']}"}]
    return stat


def evidence_resource(r: dict[str, str], doc: dict[str, str], codes: Any | None = None,
                      designs: dict[str, str] | None = None) -> dict[str, Any]:
    """One outcome claim (a row of kg.export.claim_rows) as an Evidence resource (a JSON-ready dict)."""
    codes = load_codes() if codes is None else codes
    doc_id = r["document_iri"].rsplit("/", 1)[-1]
    contained = [_population(r, codes)]
    defs = [_role("population", "population", contained[0]["name"])]
    if r["modality_iri"]:
        extra = {"description": f"arm: {r['arm']}"} if r["arm"] else {}
        contained.append(_variable("intervention", r["modality_iri"], r["modality"], codes, **extra))
        defs.append(_role("exposure", "intervention", r["modality"]))
    if r["comparator_iri"]:
        contained.append(_variable("comparator", r["comparator_iri"], r["comparator"], codes))
        defs.append(_role("referenceExposure", "comparator", r["comparator"]))
    outcome = r["endpoint"] + (f" at {r['time_point']} {r['time_point_unit']}" if r["time_point"] else "")
    when = {"description": outcome, "quantity": _quantity(r["time_point"], r["time_point_unit"])}
    timing = {"timeFromEvent": [when]} if r["time_point"] else {}
    contained.append(_variable("outcome", r["endpoint_iri"], r["endpoint"], codes, **timing))
    defs.append(_role("measuredVariable", "outcome", outcome))
    citation = (f"{doc.get('title') or doc_id}" + (f" ({doc['year']})" if doc.get("year") else "")
                + (f". doi:{r['doi']}" if r["doi"] else "") + f". {r['locator']}")
    source: dict[str, Any] = {"type": "derived-from", "label": r["locator"], "display": doc.get("title") or doc_id,
                              "citation": citation}
    if r["doi"]:
        source["document"] = {"url": f"https://doi.org/{r['doi']}"}
    related = [source]
    if r.get("superseded_by"):
        related.append({"type": "replaced-with", "resource": r["superseded_by"]})
    if r["study"]:
        related.append({"type": "cites", "display": r["study"], **(
            {"document": {"url": f"https://doi.org/{r['study_doi']}"}} if r["study_doi"] else {})})
    resource: dict[str, Any] = {
        "resourceType": "Evidence", "id": _fhir_id(f"{doc_id}-{r['claim_id']}"), "url": r["claim_iri"],
        "identifier": [{"system": CLAIM, "value": f"{doc_id}/{r['claim_id']}"}],
        "status": "retired" if r.get("retracted_on") or r.get("superseded_by") else "active",
        "title": f"{r['study']}: {outcome}, {r['statistic'] or 'statistic'}"
                 + (f" ({r['modality']})" if r["modality"] else ""),
        "citeAsMarkdown": citation, "contained": contained, "variableDefinition": defs,
        "statistic": [_statistic(r, codes)], "relatedArtifact": related}
    design_iris = [d for d in r["study_design_iri"].split("; ") if d]
    if design_iris:
        labels = r["study_design"].split("; ")
        resource["studyDesign"] = [concept(d, (designs or {}).get(d) or labels[i] if i < len(labels) else d, codes)
                                   for i, d in enumerate(design_iris)]
    level = r.get("evidence_level_iri", "")
    if level and not level.endswith("NotStated"):
        resource["certainty"] = [{"description": "level of evidence of the study (OCEBM 2011), derived by the build",
                                  "type": {"text": "level of evidence (OCEBM 2011)"},
                                  "rating": concept(level, r.get("evidence_level") or level, codes)}]
        if r.get("evidence_rationale"):
            resource["certainty"][0]["note"] = [{"text": r["evidence_rationale"]}]
    if r.get("retraction_reason"):
        resource["note"] = [{"text": r["retraction_reason"]}]
    resource["extension"] = _extensions(r, codes)
    return resource


def _extensions(r: dict[str, str], codes: Any) -> list[dict[str, Any]]:
    """Everything of the claim FHIR has no element for: the model fields outside MAPPING, the printed
    figures (FHIR keeps a decimal's value, not how the document printed it) and the evidence span."""
    keys = [f.key for f, col in model_columns() if not col.endswith("_iri") and f.key not in MAPPING and f.prop]
    out = [e for e in (_ext(k, r, codes) for k in [*keys, *ALSO_EXTENSION]) if e]
    for key in ("value", "value_low", "value_high", "ci_lower", "ci_upper", "p_value", "sd", "time_point"):
        if r[key]:
            out.append({"url": VOCAB + printed_twin(str(BY_KEY[key].prop)), "valueString": r[key]})
    if r["span_start"]:
        out.append({"url": VOCAB + "evidence",
                    "valueString": f"{r['document']}#char={r['span_start']},{r['span_end']}"})
    return out


def _fhir_id(text: str) -> str:
    """A FHIR id ([A-Za-z0-9-.]{1,64}) from a claim's document and id."""
    clean = re.sub(r"[^A-Za-z0-9.-]", "-", text)
    return clean if len(clean) <= 64 else clean[:55] + "-" + hashlib.sha256(clean.encode()).hexdigest()[:8]


_DOCS = (prefix_block()
         + "SELECT ?doc ?title ?year WHERE { ?doc a bcmkg:SourceDocument OPTIONAL { ?doc dcterms:title ?title } "
         "OPTIONAL { ?doc dcterms:date ?year } }")


def _documents(store: Store) -> dict[str, dict[str, str]]:
    return {getattr(row["doc"], "value", ""): {k: getattr(row[k], "value", "") for k in ("title", "year")}
            for row in store.select(_DOCS).rows}


def document_bundle(doc_iri: str, resources: list[dict[str, Any]]) -> dict[str, Any]:
    """A collection Bundle of one document's Evidence resources (fullUrl = the claim IRI)."""
    return {"resourceType": "Bundle", "id": _fhir_id(doc_iri.rsplit("/", 1)[-1]), "type": "collection",
            "identifier": {"system": BCD + "document/", "value": doc_iri.rsplit("/", 1)[-1]},
            "entry": [{"fullUrl": res["url"], "resource": res} for res in resources]}


def resources_by_document(release: Path) -> dict[str, list[dict[str, Any]]]:
    """Every outcome claim of a release as Evidence, grouped by document IRI."""
    docs, codes = _documents(open_store(release)), load_codes()
    out: dict[str, list[dict[str, Any]]] = {}
    for r in claim_rows(release):
        if r["kind"] == "outcome":
            out.setdefault(r["document_iri"], []).append(evidence_resource(r, docs.get(r["document_iri"], {}), codes))
    return out


def write_fhir(release: Path, out: Path) -> tuple[int, int]:
    """`kg export fhir`: out/<document>.bundle.json and out/evidence/<id>.json; (bundles, resources)."""
    (out / "evidence").mkdir(parents=True, exist_ok=True)
    n = 0
    for doc, resources in sorted(resources_by_document(release).items()):
        name = doc.rsplit("/", 1)[-1]
        (out / f"{name}.bundle.json").write_text(_dumps(document_bundle(doc, resources)), encoding="utf-8")
        for res in resources:
            (out / "evidence" / f"{res['id']}.json").write_text(_dumps(res), encoding="utf-8")
            n += 1
    return len(list(out.glob("*.bundle.json"))), n


def _dumps(obj: dict[str, Any]) -> str:
    return json.dumps(obj, indent=1, ensure_ascii=False) + "\n"


def claim_resource(store_or_release: Store | Path | str, claim_iri: str) -> dict[str, Any]:
    """The Evidence resource of one outcome claim, for `kg serve` to answer `application/fhir+json`.

    Takes a release folder, or a store (embedded or remote) whose claim is read with one query.
    Raises KGError when the IRI is not an outcome claim."""
    if isinstance(store_or_release, (str, Path)):
        release = Path(store_or_release)
        nq = release / "graph.nq"
        store: Store = open_store(release)
        row = _rows(release.resolve(), nq.stat().st_mtime_ns if nq.is_file() else 0).get(claim_iri)
    else:
        store = store_or_release
        row = _row_from_store(store, claim_iri)
    if row is None or row["kind"] != "outcome":
        raise KGError(f"{claim_iri} is not an outcome claim: only outcome claims have a FHIR Evidence resource")
    return evidence_resource(row, _documents(store).get(row["document_iri"], {}))


@lru_cache(maxsize=2)
def _rows(release: Path, stamp: int) -> dict[str, dict[str, str]]:
    """The claims table of a release by claim IRI, read once per release file (stamp = its mtime)."""
    return {r["claim_iri"]: r for r in claim_rows(release)}


_ROW = (prefix_block()
        + "SELECT ?s ?p ?o ?l WHERE { { ?c ?p ?o BIND(?c AS ?s) } "          # ?c bound in each group (bottom-up safe)
        "UNION { ?c prov:wasDerivedFrom|bcmkg:aboutStudy|bcmkg:evidence ?s . ?s ?p ?o } "
        "UNION { ?c bcmkg:aboutStudy/bcmkg:describedIn ?s . ?s ?p ?o } "
        "UNION { ?c bcmkg:evidence/oa:hasSelector ?s . ?s ?p ?o } "
        "OPTIONAL { ?o rdfs:label ?l } }")


def _row_from_store(store: Store, claim_iri: str) -> dict[str, str] | None:
    """The claims-table row of one claim, from a store: the claim, its document, study, publication
    and selector, with the labels of the terms they name, made into a row by the export's own code."""
    import pyoxigraph as ox

    from .export import RDFS_LABEL, ReleaseData
    data: ReleaseData = defaultdict(lambda: defaultdict(list))
    for row in store.select(_ROW, {"c": ox.NamedNode(claim_iri)}).rows:
        s, p, o, label = (row[k] for k in ("s", "p", "o", "l"))
        for subject, prop, obj in ((s, p, o), (o, ox.NamedNode(RDFS_LABEL), label)):
            if subject is None or obj is None:
                continue
            objs = data[getattr(subject, "value", str(subject))][getattr(prop, "value", "")]
            if obj not in objs:
                objs.append(obj)
    return claim_row(data, claim_iri)
