"""The claim model: what a claim is, written once.

`FIELDS` is the one table of claim fields. For each: the YAML key curators write, how the
value is read (`kind`), the RDF property, the term root or the allowed values, the export
column, the JSON-LD term, the page label and which claim kinds allow it. The reader's
checks (kg/sources.py), the transform (kg/transform.py), the claims export (kg/export.py),
the JSON-LD context (kg/release.py), the pages (kg/serve/pages.py) and the standard claim
row every claim query projects (`claim_row()`) are all derived from it; adding a row here
adds the field everywhere.

Kinds of value:
- `term`: a vocabulary term under `root`, written by id, label or abbreviation; RDF object
  is the term's IRI.
- `enum`: one of a fixed set of words, each naming a term (`unit: percent` -> bcmkg:Percent).
- `figure`: a number exactly as printed (xsd:decimal; `1/3` as owl:rational), plus a printed
  twin `<property>AsPrinted`, because stores may canonicalise decimals ("74.70" -> 74.7).
- `integer`, `text`, `choice` (text from a fixed list).
- `special`: read and written by code of its own (identity, provenance, pairs); listed here
  so that its property, column and label are still defined once.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal

__all__ = ["Field", "FIELDS", "BY_KEY", "BY_PROPERTY", "CLAIM_KINDS", "CLAIM_CLASSES", "REQUIRED", "UNITS", "PRINTED",
           "printed_twin", "TIME_UNITS", "BASES", "DIRECTIONS", "fields_for", "export_columns", "jsonld_terms"]

O, P, S, C, E = "outcome", "prognostic_factor", "selection_criterion", "characteristic", "emerging_technology"  # noqa: E741
ALL = frozenset({O, P, S, C, E})
FIGURE_KINDS = frozenset({O, P, C})

#: claim kind (the YAML `kind:`) -> its OWL class
CLAIM_CLASSES: dict[str, str] = {O: "OutcomeClaim", P: "PrognosticFactorClaim", S: "SelectionCriterionClaim",
                                 C: "CharacteristicClaim", E: "EmergingTechnologyClaim"}
CLAIM_KINDS = list(CLAIM_CLASSES)
#: fields a claim of each kind must have, besides id, study, locator and span
REQUIRED: dict[str, list[str]] = {
    O: ["endpoint"], P: ["factor", "endpoint", "direction"], S: ["site", "criterion", "requirement"],
    C: ["characteristic", "statistic", "unit"], E: ["technology", "application"],
}

UNITS: dict[str, str] = {"percent": "Percent", "month": "Month", "year": "Year", "day": "Day", "week": "Week",
                         "patients": "Patients", "lesions": "Lesions", "studies": "Studies", "ratio": "Ratio",
                         "mm": "Millimetre", "cm": "Centimetre", "Gy": "Gray"}
TIME_UNITS: dict[str, str] = {k: UNITS[k] for k in ("day", "month", "week", "year")}
BASES: dict[str, str] = {"restricted": "SubtypeBasisRestricted", "majority": "SubtypeBasisMajority",
                         "favourable_predictor": "SubtypeBasisFavourablePredictor",
                         "unspecified": "SubtypeBasisUnspecified"}
DIRECTIONS: dict[str, str] = {"favourable": "Favourable", "unfavourable": "Unfavourable",
                              "no_association": "NoAssociation", "mixed": "Mixed"}
N_UNITS: dict[str, str] = {k: UNITS[k] for k in ("patients", "lesions")}
QUALIFIERS = ("approximately", "up to", "over", "less than", "at most", "at least", "not reached", "more than")
P_QUALIFIERS = ("=", "<", ">", "<=", ">=")
CUTOFF_COMPARISONS = ("<", "<=", ">", ">=", "=", "between")
CONFIDENCE = ("high", "medium", "low")


@dataclass(frozen=True)
class Field:
    """One claim field. `prop` is the bcmkg: property's local name (also the JSON-LD term and the
    query variable of the standard claim row); `column` the export column (None: not exported)."""

    key: str
    kind: str
    prop: str | None
    label: str
    description: str
    kinds: frozenset[str] = ALL
    root: str | None = None                      # term: the root every value must fall under
    values: Mapping[str, str] | tuple[str, ...] = ()   # enum: word -> term id; choice: allowed words
    column: str | None = ""                      # "" = same as key
    low: Decimal | None = None                   # figure/integer: allowed range
    high: Decimal | None = None
    printed: bool = True                         # figure: also write <prop>AsPrinted
    default: str | None = None                   # written when the curator gives none
    needs: str | None = None                     # written only when this other field is given

    @property
    def export_column(self) -> str | None:
        return self.key if self.column == "" else self.column


_0, _1 = Decimal(0), Decimal(1)

FIELDS: list[Field] = [
    # identity and provenance
    Field("id", "special", "claimId", "claim id", "the claim id in the extraction file", column="claim_id"),
    Field("kind", "special", None, "kind", "outcome, prognostic_factor, selection_criterion, characteristic "
          "or emerging_technology", column="kind"),
    Field("study", "special", "aboutStudy", "study", "the study the figure belongs to", column=None),
    Field("cites", "special", "cites", "also cites", "other studies the claim draws on", column=None),
    Field("locator", "text", "locator", "locator", "human locator: table/row/column or section/paragraph"),
    Field("span", "special", "evidence", "evidence", "character span of the evidence in the corpus file",
          column=None),
    # population and arm
    Field("site", "term", "metastaticSite", "metastatic site", "metastatic site",
          kinds=ALL, root="MetastaticBreastCancer|AnatomicalSite"),
    Field("modality", "term", "modality", "modality", "treatment the figure is for",
          kinds=FIGURE_KINDS, root="Modality"),
    Field("comparator", "term", "comparator", "comparator", "comparator arm's treatment",
          kinds=FIGURE_KINDS, root="Modality"),
    Field("arm", "text", "arm", "arm", "arm as the document names it", kinds=FIGURE_KINDS),
    Field("subgroup", "text", "subgroup", "subgroup", "subgroup (e.g. propensity-matched)", kinds=FIGURE_KINDS),
    Field("subtype", "term", "subtype", "receptor subtype", "receptor subtype", root="BreastCancerSubtype"),
    Field("subtype_basis", "enum", "subtypeBasis", "subtype basis",
          "how the population relates to the subtype: restricted, majority, favourable_predictor, unspecified",
          kinds=FIGURE_KINDS, values=BASES, default="unspecified"),
    Field("case", "special", "patientCase", "patient case", "the patient case the figure describes",
          kinds=FIGURE_KINDS, column=None),
    # what was measured
    Field("endpoint", "term", "endpoint", "endpoint", "endpoint", kinds=frozenset({O, P, C}), root="Endpoint"),
    Field("statistic", "term", "statisticType", "statistic",
          "statistic type: median, rate at a time point, hazard ratio, ...",
          kinds=FIGURE_KINDS, root="StatisticType"),
    Field("time_point", "figure", "timePoint", "time point", "time point of a rate (e.g. 5)",
          kinds=FIGURE_KINDS, low=_0),
    Field("time_unit", "enum", "timePointUnit", "time point unit", "unit of the time point",
          kinds=FIGURE_KINDS, values=TIME_UNITS, column="time_point_unit"),
    Field("value_qualifier", "choice", "valueQualifier", "qualifier",
          "approximately, up to, over, less than, at most, at least, not reached, more than",
          kinds=frozenset({O, P, C, S}), values=QUALIFIERS),
    Field("value", "figure", "value", "value",
          "the figure exactly as printed (74.70 keeps its zero; a fraction in words is 1/3)",
          kinds=frozenset({O, P, C, S}), low=_0),
    Field("value_low", "figure", "valueLow", "range low", "low end of a stated range",
          kinds=frozenset({O, P, C, S}), low=_0),
    Field("value_high", "figure", "valueHigh", "range high", "high end of a stated range",
          kinds=frozenset({O, P, C, S}), low=_0),
    Field("value_at", "special", None, "value at", "character offset in the corpus file where the value is printed "
          "(optional; pins the value when its span holds several numbers)", kinds=frozenset({O, P, C, S}), column=None),
    Field("value_as_written", "text", "valueAsWritten", "as written", "the figure in words when printed so",
          kinds=frozenset({O, P, C, S})),
    Field("value_in_months", "special", "valueInMonths", "in months",
          "a duration in years/weeks/days restated in months by the build (the printed value stays in value)",
          kinds=FIGURE_KINDS),
    Field("unit", "enum", "unit", "unit", "unit of the value", kinds=frozenset({O, P, C, S}), values=UNITS),
    Field("ci", "special", None, "confidence interval", "[lower, upper] of the confidence interval",
          kinds=FIGURE_KINDS, column=None),
    Field("ci_lower", "special", "ciLower", "CI lower", "confidence interval, lower bound", kinds=FIGURE_KINDS),
    Field("ci_upper", "special", "ciUpper", "CI upper", "confidence interval, upper bound", kinds=FIGURE_KINDS),
    Field("ci_level", "figure", "ciLevel", "CI level", "CI level in percent (95 when not stated)",
          kinds=FIGURE_KINDS, low=_0, high=Decimal(100), printed=False),
    Field("p_qualifier", "choice", "pValueQualifier", "p qualifier", "=, <, >, <=, >=",
          kinds=FIGURE_KINDS, values=P_QUALIFIERS),
    Field("p_value", "figure", "pValue", "p", "p-value as printed", kinds=FIGURE_KINDS, low=_0, high=_1),
    Field("n", "integer", "sampleSize", "n", "sample size the figure is computed on",
          kinds=FIGURE_KINDS, low=_1),
    Field("n_unit", "enum", "sampleSizeUnit", "n counts", "patients or lesions (patients when not stated)",
          kinds=FIGURE_KINDS, values=N_UNITS, needs="n", default="patients"),
    Field("min", "figure", "min", "minimum", "smallest value observed", kinds=FIGURE_KINDS, low=_0),
    Field("max", "figure", "max", "maximum", "largest value observed", kinds=FIGURE_KINDS, low=_0),
    Field("sd", "figure", "sd", "SD", "standard deviation", kinds=FIGURE_KINDS, low=_0),
    Field("proportion", "figure", "proportion", "proportion", "share of the population, in percent",
          kinds=frozenset({O, P, C}), low=_0, high=Decimal(100)),
    # kind-specific
    Field("biomarker", "term", "biomarker", "biomarker", "biomarker, for receptor discordance",
          kinds=frozenset({O, P, C, E}), root="Biomarker"),
    Field("progression_site", "term", "progressionSite", "progression site", "where the disease progressed",
          kinds=frozenset({O, P}), root="MetastaticBreastCancer|AnatomicalSite"),
    Field("factor", "term", "factor", "prognostic factor", "prognostic factor", kinds=frozenset({P}),
          root="PrognosticFactor"),
    Field("factor_level", "text", "factorLevel", "factor level", "level compared (III vs I/II)",
          kinds=frozenset({P})),
    Field("cutoff", "figure", "cutoff", "cut-off",
          "the factor's threshold as printed (3 in 'DFI < 3 years'); in cutoff_unit, compared by cutoff_comparison",
          kinds=frozenset({P}), low=_0),
    Field("cutoff_low", "figure", "cutoffLow", "cut-off low",
          "low end of a threshold printed as a range ('> 12-24 months') or of a band (cutoff_comparison: between)",
          kinds=frozenset({P}), low=_0),
    Field("cutoff_high", "figure", "cutoffHigh", "cut-off high",
          "high end of a threshold printed as a range or of a band", kinds=frozenset({P}), low=_0),
    Field("cutoff_unit", "enum", "cutoffUnit", "cut-off unit", "unit of the cut-off (year, month, cm, lesions, ...)",
          kinds=frozenset({P}), values=UNITS),
    Field("cutoff_comparison", "choice", "cutoffComparison", "cut-off comparison",
          "how the factor level compared relates to the cut-off: <, <=, >, >=, = or between (cutoff_low to cutoff_high)",
          kinds=frozenset({P}), values=CUTOFF_COMPARISONS),
    Field("direction", "enum", "direction", "direction", "direction of a prognostic factor or finding",
          kinds=frozenset({O, P}), values=DIRECTIONS),
    Field("criterion", "term", "criterion", "selection criterion", "selection criterion", kinds=frozenset({S}),
          root="SelectionCriterion"),
    Field("requirement", "text", "requirement", "requirement", "the criterion's requirement in the curator's words",
          kinds=frozenset({S})),
    Field("characteristic", "text", "characteristic", "characteristic", "baseline characteristic (curator's label)",
          kinds=frozenset({C})),
    Field("technology", "term", "technology", "technology", "emerging technology", kinds=frozenset({E}),
          root="EmergingTechnology"),
    Field("application", "text", "application", "application", "what the technology is applied to",
          kinds=frozenset({E})),
    Field("impact", "text", "impact", "impact", "expected impact of the technology", kinds=frozenset({E})),
    # curation
    Field("interpretation", "special", "interpretedValue", "read as",
          "a curator's marked reading of a printed value that cannot be right (723 -> 72.3)",
          column="interpreted_value"),
    Field("interpretation_note", "special", "interpretationNote", "reading note", "why the reading was made",
          column=None),
    Field("confidence", "choice", "confidence", "confidence", "high, medium or low (doubtful OCR readings)",
          values=CONFIDENCE, default="high"),
    Field("disagrees_with", "special", "disagreesWith", "disagrees with",
          "claims in other documents that report the same quantity differently", column=None),
    Field("note", "text", "curationNote", "curation note", "the curator's note", column=None),
    # evidence: derived by the build from the study's designs and size (kg/evidence.py)
    Field("evidence_level", "term", "evidenceLevel", "evidence level",
          "OCEBM 2011 level of the study the claim is about (docs/evidence-levels.md)", root="EvidenceLevel"),
    Field("evidence_rationale", "text", "evidenceLevelRationale", "why this level",
          "the design (and size) the evidence level rests on"),
    # lifecycle: a retracted or superseded claim stays in the release (its IRI resolves) but named
    # queries leave it out unless asked (include_retracted=true)
    Field("retracted", "special", "retractedOn", "retracted on",
          "date the claim was retracted (with retraction_reason); empty while it stands", column="retracted_on"),
    Field("superseded_by", "special", "supersededBy", "superseded by",
          "the claim (id in the same file) that replaces this one", column="superseded_by"),
    Field("retraction_reason", "text", "retractionReason", "why retracted or superseded",
          "the curator's reason for retracting or superseding the claim", column="retraction_reason"),
    Field("draft", "special", None, "draft", "true while the claim is a machine draft (kg add-document); "
          "the build refuses drafts", column=None),
    Field("needs", "special", None, "still to decide", "what a curator must still decide in a draft claim",
          column=None),
    Field("source_file", "special", "sourceFile", "extraction file", "extraction file the claim was curated in"),
    Field("source_line", "special", "sourceLine", "line", "line of the claim in that file"),
]

BY_KEY: dict[str, Field] = {f.key: f for f in FIELDS}
BY_PROPERTY: dict[str, Field] = {f.prop: f for f in FIELDS if f.prop}
#: claim properties the build writes with a printed twin `<prop>AsPrinted` (kg/transform.py `_figure`):
#: what a page or export shows, since a store may answer the typed figure canonically (0.30 -> 0.3)
PRINTED: list[str] = [*(str(f.prop) for f in FIELDS if f.kind == "figure" and f.printed), "ciLower", "ciUpper"]


def printed_twin(prop: str) -> str:
    """The property (and the standard row's column) holding `prop`'s figure as printed."""
    return prop + "AsPrinted"


#: fields the build derives; a curator does not write them
DERIVED = {"value_in_months", "ci_lower", "ci_upper", "interpretation_note", "source_file", "source_line",
           "evidence_level", "evidence_rationale"}


def fields_for(kind: str) -> set[str]:
    """The YAML keys a claim of this kind may use."""
    return {f.key for f in FIELDS if kind in f.kinds and f.key not in DERIVED}


# --- export and JSON-LD -----------------------------------------------------------------

def export_columns() -> list[tuple[Field, str]]:
    """(field, column) in table order; term and enum fields also get an `<column>_iri` column."""
    out: list[tuple[Field, str]] = []
    for f in FIELDS:
        col = f.export_column
        if col is None:
            continue
        out.append((f, col))
        if f.kind in ("term", "enum"):
            out.append((f, col + "_iri"))
    return out


def jsonld_terms() -> dict[str, dict[str, str]]:
    """JSON-LD term definitions for every claim property: figures typed xsd:decimal, terms as @id."""
    terms: dict[str, dict[str, str]] = {}
    for f in FIELDS:
        if not f.prop:
            continue
        if f.kind == "figure" or f.prop in ("ciLower", "ciUpper", "valueInMonths", "interpretedValue"):
            terms[f.prop] = {"@id": f"bcmkg:{f.prop}", "@type": "xsd:decimal"}
        elif f.prop == "retractedOn":
            terms[f.prop] = {"@id": f"bcmkg:{f.prop}", "@type": "xsd:date"}
        elif f.kind in ("term", "enum") or f.prop in ("aboutStudy", "cites", "evidence", "patientCase",
                                                      "disagreesWith", "supersededBy"):
            terms[f.prop] = {"@id": f"bcmkg:{f.prop}", "@type": "@id"}
        elif f.kind == "integer" or f.prop == "sourceLine":
            terms[f.prop] = {"@id": f"bcmkg:{f.prop}", "@type": "xsd:integer"}
        else:
            terms[f.prop] = {"@id": f"bcmkg:{f.prop}"}
    return terms
