"""The claims table: one row per claim, labels beside IRIs, for analysts and notebooks.

Read straight from the release's `graph.nq` (else `graph.trig`) with Oxigraph's parser,
which keeps every literal exactly as written ("74.70" stays "74.70", "89" stays "89"; an
Oxigraph *store* answers 74.7, and rdflib's TriG writer prints "89"^^xsd:decimal as 89.0).
Columns are documented in docs/export.md; `COLUMNS` is the order.

    >>> text = export_claims(Path("build/release"), "csv")   # doctest: +SKIP
"""
from __future__ import annotations

import csv
import io
import json
from collections import defaultdict
from pathlib import Path

from .errors import KGError, QueryError
from .rdf import BCMKG, OA

RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
RDFS_LABEL = "http://www.w3.org/2000/01/rdf-schema#label"
PROV_DERIVED = "http://www.w3.org/ns/prov#wasDerivedFrom"
BIBO_DOI = "http://purl.org/ontology/bibo/doi"
V = str(BCMKG)
CLAIM_KINDS = {"OutcomeClaim": "outcome", "PrognosticFactorClaim": "prognostic_factor",
               "SelectionCriterionClaim": "selection_criterion", "CharacteristicClaim": "characteristic",
               "EmergingTechnologyClaim": "emerging_technology"}
BASIS = {"SubtypeBasisRestricted": "restricted", "SubtypeBasisMajority": "majority",
         "SubtypeBasisFavourablePredictor": "favourable_predictor", "SubtypeBasisUnspecified": "unspecified"}

# (column, how to fill it) - term columns come as a label column and an `_iri` column
TERM_COLUMNS = [("site", "metastaticSite"), ("modality", "modality"), ("comparator", "comparator"),
                ("subtype", "subtype"), ("endpoint", "endpoint"), ("statistic", "statisticType"),
                ("time_point_unit", "timePointUnit"), ("unit", "unit"), ("biomarker", "biomarker"),
                ("factor", "factor"), ("direction", "direction"), ("criterion", "criterion"),
                ("technology", "technology")]
COLUMNS = ["claim_iri", "claim_id", "kind", "document", "document_iri", "doi", "locator", "span_start", "span_end",
           "study", "study_iri", "study_doi", "study_design", "study_design_iri",
           "site", "site_iri", "modality", "modality_iri", "comparator", "comparator_iri", "arm", "subgroup",
           "subtype", "subtype_iri", "subtype_basis",
           "endpoint", "endpoint_iri", "statistic", "statistic_iri", "time_point", "time_point_unit",
           "time_point_unit_iri", "value_qualifier", "value", "value_low", "value_high", "value_as_written",
           "value_in_months", "unit", "unit_iri", "ci_lower", "ci_upper", "ci_level", "p_qualifier", "p_value",
           "n", "n_unit", "biomarker", "biomarker_iri", "factor", "factor_iri", "factor_level", "direction",
           "direction_iri", "criterion", "criterion_iri", "requirement", "characteristic", "technology",
           "technology_iri", "interpreted_value", "confidence", "source_file", "source_line"]
LITERALS = {"claim_id": "claimId", "locator": "locator", "arm": "arm", "subgroup": "subgroup",
            "time_point": "timePoint", "value_qualifier": "valueQualifier", "value": "value",
            "value_low": "valueLow", "value_high": "valueHigh", "value_as_written": "valueAsWritten",
            "value_in_months": "valueInMonths", "ci_lower": "ciLower", "ci_upper": "ciUpper",
            "ci_level": "ciLevel", "p_qualifier": "pValueQualifier", "p_value": "pValue", "n": "sampleSize",
            "factor_level": "factorLevel", "requirement": "requirement", "characteristic": "characteristic",
            "interpreted_value": "interpretedValue", "confidence": "confidence", "source_file": "sourceFile",
            "source_line": "sourceLine"}
NUMERIC = {"span_start", "span_end", "time_point", "value", "value_low", "value_high", "value_in_months",
           "ci_lower", "ci_upper", "ci_level", "p_value", "n", "interpreted_value", "source_line"}

__all__ = ["export_claims", "claim_rows", "COLUMNS"]


def _read(release: Path) -> dict[str, dict[str, list]]:
    """subject -> predicate -> [objects] over every graph (the release's union)."""
    import pyoxigraph as ox
    nq, trig = Path(release) / "graph.nq", Path(release) / "graph.trig"
    if nq.is_file():       # lossless: rdflib's TriG writer turns "89"^^xsd:decimal into 89.0
        path, fmt = nq, ox.RdfFormat.N_QUADS
    elif trig.is_file():
        path, fmt = trig, ox.RdfFormat.TRIG
    else:
        raise KGError(f"no release at {release}: graph.nq / graph.trig missing (run `kg build` first)")
    data: dict[str, dict[str, list]] = defaultdict(lambda: defaultdict(list))
    for quad in ox.parse(path=str(path), format=fmt):
        s, p, o = quad.subject, quad.predicate.value, quad.object
        key = s.value if isinstance(s, (ox.NamedNode, ox.BlankNode)) else str(s)
        objs = data[key][p]
        if o not in objs:
            objs.append(o)
    return data


def _text(term) -> str:
    return getattr(term, "value", str(term))


def claim_rows(release: Path) -> list[dict[str, str]]:
    """One dict per claim, keys = COLUMNS, values as written (empty string when absent)."""
    data = _read(release)

    def first(s: str, p: str) -> str:
        objs = data.get(s, {}).get(p)
        return _text(objs[0]) if objs else ""

    def label(iri: str) -> str:
        return first(iri, RDFS_LABEL) or iri.rsplit("/", 1)[-1]

    rows = []
    for s, props in data.items():
        kinds = [CLAIM_KINDS[t.value[len(V):]] for t in props.get(RDF_TYPE, [])
                 if t.value.startswith(V) and t.value[len(V):] in CLAIM_KINDS]
        if not kinds:
            continue
        row = {c: "" for c in COLUMNS}
        row["claim_iri"], row["kind"] = s, kinds[0]
        for col, prop in LITERALS.items():
            row[col] = first(s, V + prop)
        for col, prop in TERM_COLUMNS:
            iri = first(s, V + prop)
            row[col] = label(iri) if iri else ""
            if col + "_iri" in row:
                row[col + "_iri"] = iri
        basis = first(s, V + "subtypeBasis")
        row["subtype_basis"] = BASIS.get(basis[len(V):], basis) if basis else ""
        n_unit = first(s, V + "sampleSizeUnit")
        row["n_unit"] = label(n_unit) if n_unit else ""
        doc = first(s, PROV_DERIVED)
        row["document_iri"], row["document"], row["doi"] = doc, first(doc, V + "corpusFile"), first(doc, BIBO_DOI)
        study = first(s, V + "aboutStudy")
        row["study_iri"], row["study"] = study, label(study) if study else ""
        pub = first(study, V + "describedIn")
        row["study_doi"] = first(pub, BIBO_DOI) if pub else ""
        designs = sorted({_text(d) for d in data.get(study, {}).get(V + "design", [])})
        row["study_design_iri"] = "; ".join(designs)
        row["study_design"] = "; ".join(label(d) for d in designs)
        sel = first(first(s, V + "evidence"), str(OA) + "hasSelector")
        row["span_start"], row["span_end"] = first(sel, str(OA) + "start"), first(sel, str(OA) + "end")
        rows.append(row)
    rows.sort(key=lambda r: (r["document"], int(r["span_start"] or 0), r["claim_id"]))
    return rows


def export_claims(release_dir: Path, fmt: str) -> str:
    """The claims table as CSV (header + one line per claim) or JSON (a list of objects).

    JSON keeps numbers as strings exactly as written, except span offsets, n and source
    line, which are integers; absent values are null.
    """
    rows = claim_rows(release_dir)
    if fmt == "csv":
        buf = io.StringIO()
        writer = csv.DictWriter(buf, fieldnames=COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
        return buf.getvalue()
    if fmt == "json":
        ints = {"span_start", "span_end", "n", "source_line"}
        out = [{k: (None if v == "" else int(v) if k in ints else v) for k, v in r.items()} for r in rows]
        return json.dumps(out, indent=1, ensure_ascii=False) + "\n"
    raise QueryError(f"unknown export format {fmt!r}; allowed: csv, json")
