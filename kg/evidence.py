"""Levels of evidence: each claim inherits the OCEBM 2011 level of the study it is about.

The Oxford Centre for Evidence-Based Medicine 2011 table, for "does this intervention help?",
ranks designs 1 (systematic review of randomized trials) to 5 (mechanism-based reasoning;
we place expert opinion there: narrative reviews, consensus, guidelines). A study's level is
the best its stated designs give; a randomized trial of fewer than 100 patients is graded
down one level (imprecision), as the table allows. A study whose designs are not stated gets
EvidenceLevelNotStated. The mapping is written out in docs/evidence-levels.md.
"""
from __future__ import annotations

import json
import re
from collections.abc import Mapping
from decimal import Decimal
from typing import TYPE_CHECKING

import pyoxigraph as ox

from .model import UNITS
from .rdf import BCMKG, XSD, claim_iri, nt_bytes, sorted_nt, study_iri
from .records import Claim, Study, as_number

if TYPE_CHECKING:
    from .document_build import DocumentBuild

__all__ = ["LEVELS", "study_level", "evidence_graph", "figure_key", "comparison_key", "population_key"]

#: design term -> (level, what the design is, in the rationale)
LEVELS: dict[str, tuple[int, str]] = {
    "RandomizedControlledTrial": (2, "randomized controlled trial"),
    "PhaseIIITrial": (2, "phase III trial"),
    "PhaseIITrial": (3, "phase II trial (not stated as randomized)"),
    "InterventionalStudy": (3, "non-randomized interventional study"),
    "ProspectiveCohortStudy": (3, "prospective cohort study"),
    "RetrospectiveCohortStudy": (3, "retrospective cohort study"),
    "PropensityMatchedStudy": (3, "propensity-matched cohort study"),
    "RegistryStudy": (3, "registry study"),
    "ProspectiveRegistryStudy": (3, "prospective registry study"),
    "PopulationBasedStudy": (3, "population-based cohort study"),
    "PrognosticModelStudy": (3, "prognostic model study"),
    "ObservationalStudy": (3, "observational study"),
    "CaseControlStudy": (4, "case-control study"),
    "CaseMatchedStudy": (4, "case-matched study"),
    "CaseSeries": (4, "case series"),
    "CaseReport": (4, "case report"),
    "SystematicReview": (3, "systematic review (of studies not stated as randomized)"),
    "MetaAnalysis": (3, "meta-analysis (of studies not stated as randomized)"),
    "NarrativeReview": (5, "narrative review (expert opinion)"),
    "ExpertConsensus": (5, "expert consensus"),
    "ClinicalPracticeGuideline": (5, "clinical practice guideline (expert opinion)"),
}
SYNTHESES = {"SystematicReview", "MetaAnalysis"}
SMALL_TRIAL = 100


def study_level(study: Study) -> tuple[str, str]:
    """(level term id, rationale) for one study as a document describes it."""
    designs = set(study.designs)
    if designs & SYNTHESES and "RandomizedControlledTrial" in designs:
        return "EvidenceLevel1", "systematic review or meta-analysis of randomized trials"
    ranked = sorted((LEVELS[d][0], LEVELS[d][1]) for d in designs if d in LEVELS)
    if not ranked:
        return "EvidenceLevelNotStated", "the documents do not state the study's design"
    level, what = ranked[0]
    if level == 2 and study.n is not None and study.n < SMALL_TRIAL:
        return "EvidenceLevel3", f"{what} of {study.n} patients, graded down for imprecision (fewer than {SMALL_TRIAL})"
    size = f" of {study.n} patients" if study.n is not None else ""
    return f"EvidenceLevel{level}", f"{what}{size}"


def figure_key(claim: Claim) -> str:
    """What makes two claims one figure printed in two places: the same study, the same compared
    value (the curator's reading where there is one; or a median not reached), statistic,
    endpoint, unit, site, modality, subgroup and time point, and the factor, biomarker or
    criterion a figure is about. Empty for a claim without a value. (Claims of one key are one
    figure only when no two of them are in the same table of a document: `one_figure`.)"""
    v = claim.values
    reading = v.get("interpretation")
    compared = as_number(reading[0]) if isinstance(reading, tuple) else as_number(v.get("value"))
    if compared is None and v.get("value_qualifier") != "not reached":
        return ""
    shown = _number(compared) if compared is not None else "not reached"   # Yhim 2010's, in text and Table 2
    return json.dumps([claim.study, shown, v.get("statistic"), v.get("endpoint"),
                       UNITS.get(str(v.get("unit"))), v.get("site"), v.get("modality"), v.get("subgroup"),
                       _number(v.get("time_point")), UNITS.get(str(v.get("time_unit"))),
                       v.get("factor"), v.get("biomarker"), v.get("criterion")])


def figure_context(claim: Claim) -> list[str]:
    """The p (with its qualifier) and the n a claim prints beside its figure ("" where none)."""
    v = claim.values
    p = _number(v.get("p_value"))
    return [f"{v.get('p_qualifier') or '='}{p}" if p is not None else "", str(v.get("n") or "")]


def one_figure(places: list[str]) -> bool:
    """Whether claims of one figure key, at these places (`<document>: <locator>`), are one figure
    printed in several places: not when two are in the same table of a document (or at the same
    locator), for a table prints a figure once. Two rows of Chan 2017's Table 1 with 3 women each
    (HER2-positive, ER-negative) are two figures, and a sentence stating 3 could be either."""
    seen = set()
    for at in places:
        document, _, locator = at.partition(": ")
        table = re.match(r"Table [0-9IVX]+\b", locator)
        place = (document, table.group() if table else locator)
        if place in seen:
            return False
        seen.add(place)
    return True


#: a claim where a figure is printed: (claim, "<document>: <locator>", figure_context)
Place = tuple[ox.NamedNode, str, list[str]]


def same_context(places: list[Place]) -> list[list[Place]]:
    """Places of one figure key split into those that print the same p and n beside it (a place
    that prints none goes with the first that agrees): one row would otherwise show one place's p
    or n and cite another that prints a different one. Abbas 2017's median of 49 months with p <
    0.001 (001 text) and p = 0.001 (001 Table 2) are two figures; Vogl 2023's LITT 5-year OS in
    000's text and Table 2 (n 491) one, and 003's (n 212) another."""
    groups: list[list[Place]] = []
    for place in sorted(places, key=lambda p: -sum(1 for x in p[2] if x)):
        for group in groups:
            if all(not a or not b or a == b for other in group for a, b in zip(place[2], other[2], strict=True)):
                group.append(place)
                break
        else:
            groups.append([place])
    return groups


def _number(x: object) -> str | None:
    n = as_number(x)
    return None if n is None else (format(n.normalize(), "f") if isinstance(n, Decimal) else str(n))


def comparison_key(claim: Claim) -> str:
    """What makes two outcome figures comparable for the `disagreements` query: the same study,
    statistic, endpoint, unit, time point (with its unit), modality, site, subgroup (in any case),
    subtype, factor and biomarker. Empty for a claim without a printed value or for an individual
    patient's value."""
    v = claim.values
    if claim.kind != "outcome" or v.get("value") is None or v.get("statistic") == "IndividualValue":
        return ""
    return json.dumps([claim.study, v.get("statistic"), v.get("endpoint"), UNITS.get(str(v.get("unit"))),
                       _number(v.get("time_point")), UNITS.get(str(v.get("time_unit"))), v.get("modality"),
                       v.get("site"), str(v.get("subgroup") or "").lower(), v.get("subtype"), v.get("factor"),
                       v.get("biomarker")])


def control_sides(claim: Claim) -> tuple[str, str]:
    """The keys that pair an outcome figure with its control arm's for `surgery_vs_control`: as the
    treated side (its comparator; it needs a site and a modality too) and as the control side (its
    modality), each with the study, endpoint, statistic and unit. Empty where the claim cannot be
    that side: not an outcome, a hazard or odds ratio (no arm's own figure), or a field missing."""
    v = claim.values
    common = [claim.study, v.get("endpoint"), v.get("statistic"), UNITS.get(str(v.get("unit")))]
    if claim.kind != "outcome" or v.get("statistic") in ("HazardRatio", "OddsRatio") or not all(common) \
            or not v.get("modality"):
        return "", ""
    treated = json.dumps([v.get("comparator"), *common]) if v.get("comparator") and v.get("site") else ""
    return treated, json.dumps([v.get("modality"), *common])


def control_pairs(claims: list[Claim]) -> list[list[str]]:
    """[treated claim id, control claim id] for one document's claims (a pair is never across documents)."""
    sides = [(c.id, *control_sides(c)) for c in claims]
    controls: dict[str, list[str]] = {}
    for claim_id, _, control in sides:
        if control:
            controls.setdefault(control, []).append(claim_id)
    return [[a, b] for a, treated, _ in sides if treated for b in controls.get(treated, []) if b != a]


#: the statistics `median_rate_inconsistencies` checks against each other
MEDIAN_RATE = ("Median", "RateAtTimePoint")


def population_key(claim: Claim) -> str:
    """What makes a median and a rate at a time point about one population for
    `median_rate_inconsistencies`: the same study and endpoint, and the same modality and subtype
    (or none on both). Empty for a claim of another statistic or without an endpoint."""
    v = claim.values
    if v.get("statistic") not in MEDIAN_RATE or not v.get("endpoint"):
        return ""
    return json.dumps([claim.study, v.get("endpoint"), v.get("modality") or "", v.get("subtype") or ""])


def evidence_graph(built: list[DocumentBuild], labels: Mapping[str, str]) -> bytes:
    """N-Triples of what the build derives from all documents together, so that a query reads
    each with one lookup and needs no GROUP BY (which Virtuoso and the standard row's ~40 columns
    do not survive):

    - each claim's level of evidence, from its study's designs as the documents state them (a design
      one review states holds for the claims another review reports), with the rationale;
    - each level's rank (`bcmkg:levelRank`, 1 strongest), so a query can ask "level 3 or better";
    - each study's stated designs as one line (`bcmkg:statedDesigns`, labels in order; "not stated");
    - the claims that print the same figure (`bcmkg:sameFigureAs`, both ways), the claim that stands
      for the figure (`bcmkg:figure`, the first by IRI) and the other places (`bcmkg:alsoPrintedAt`);
    - the outcome figures that `disagreements` compares (`bcmkg:comparableWith`, both ways: equal
      `comparison_key`, the documents' own statements left out), so that query joins pairs, not
      every claim of the graph with every other;
    - for each median, the rates at a time point of the same population (`bcmkg:rateOfSamePopulation`,
      equal `population_key`), the pairs `median_rate_inconsistencies` checks (2.1 s to pair them in
      SPARQL at 10^5 claims);
    - for each outcome figure of a treatment with a comparator, the same document's figures of that
      comparator as the treatment (`bcmkg:controlClaim`, `control_sides`), the pairs
      `surgery_vs_control` compares.
    """
    designs: dict[str, dict[str, str]] = {}          # study -> design -> first document stating it
    sizes: dict[str, int] = {}
    for b in built:
        for study, terms in b.designs.items():
            for term in terms:
                designs.setdefault(study, {}).setdefault(term, b.doc_id)
        for study, n in b.sizes.items():
            sizes[study] = max(n, sizes.get(study, 0))
    levels = {}
    for study, stated in designs.items():
        level, why = study_level(Study(id=study, label=study, designs=sorted(stated), n=sizes.get(study)))
        sources = sorted({stated[d] for d in stated if d in LEVELS})
        levels[study] = (level, why + (f" (design stated in {', '.join(sources)})" if sources else ""))
    prop = {p: ox.NamedNode(str(BCMKG[p])) for p in ("evidenceLevel", "evidenceLevelRationale", "sameFigureAs",
                                                    "figure", "alsoPrintedAt", "statedDesigns", "levelRank",
                                                    "comparableWith", "rateOfSamePopulation", "controlClaim")}
    triples = [ox.Triple(ox.NamedNode(str(BCMKG[f"EvidenceLevel{rank}"])), prop["levelRank"],
                         ox.Literal(str(rank), datatype=ox.NamedNode(str(XSD.integer)))) for rank in range(1, 6)]
    for b in built:
        for study in b.studies:
            named = sorted({labels.get(d, d) for d in designs.get(study, {}) if d != "StudyDesign"})
            triples.append(ox.Triple(ox.NamedNode(str(study_iri(study))), prop["statedDesigns"],
                                     ox.Literal("; ".join(named) or "not stated")))
        for claim_id, study in b.claim_studies:
            level, why = levels.get(study, ("EvidenceLevelNotStated", "the documents do not state the study's design"))
            claim = ox.NamedNode(str(claim_iri(b.doc_id, claim_id)))
            triples += [ox.Triple(claim, prop["evidenceLevel"], ox.NamedNode(str(BCMKG[level]))),
                        ox.Triple(claim, prop["evidenceLevelRationale"], ox.Literal(why))]
    places: dict[str, list[Place]] = {}
    for b in built:
        for claim_id, key, locator, *context in b.figures:
            places.setdefault(key, []).append((ox.NamedNode(str(claim_iri(b.doc_id, claim_id))),
                                               f"{b.doc_id}: {locator}", context))
    for same in (group for key_group in places.values() for group in same_context(key_group)):
        if len(same) < 2 or not one_figure([at for _, at, _ in same]):
            continue
        first = min(c.value for c, *_ in same)
        for a, *_ in same:
            triples += [ox.Triple(a, prop["sameFigureAs"], c) for c, *_ in same if c != a]
            triples.append(ox.Triple(a, prop["figure"], ox.NamedNode(first)))
            triples.append(ox.Triple(a, prop["alsoPrintedAt"],
                                     ox.Literal(" | ".join(sorted({at for c, at, _ in same if c != a})))))
    own = {study for b in built for study in b.document_studies}
    comparable: dict[str, list[ox.NamedNode]] = {}
    for b in built:
        study_of = dict(b.claim_studies)
        for claim_id, key in b.comparisons:
            if study_of.get(claim_id) not in own:
                comparable.setdefault(key, []).append(ox.NamedNode(str(claim_iri(b.doc_id, claim_id))))
    for group in comparable.values():
        triples += [ox.Triple(a, prop["comparableWith"], c) for a in group for c in group if c != a]
    for b in built:
        triples += [ox.Triple(ox.NamedNode(str(claim_iri(b.doc_id, a))), prop["controlClaim"],
                              ox.NamedNode(str(claim_iri(b.doc_id, c)))) for a, c in b.control_pairs]
    populations: dict[str, dict[str, list[ox.NamedNode]]] = {}
    for b in built:
        for claim_id, statistic, key in b.populations:
            populations.setdefault(key, {}).setdefault(statistic, []).append(
                ox.NamedNode(str(claim_iri(b.doc_id, claim_id))))
    medians, rates = MEDIAN_RATE
    for by_statistic in populations.values():
        triples += [ox.Triple(median, prop["rateOfSamePopulation"], rate)
                    for median in by_statistic.get(medians, []) for rate in by_statistic.get(rates, [])]
    return sorted_nt(nt_bytes(triples))
