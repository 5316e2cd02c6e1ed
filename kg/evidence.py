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
from typing import TYPE_CHECKING

from .rdf import BCMKG, claim_iri
from .records import Study

if TYPE_CHECKING:
    from .document_build import DocumentBuild

__all__ = ["LEVELS", "study_level", "evidence_graph"]

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


def evidence_graph(built: list[DocumentBuild]) -> bytes:
    """N-Triples of every claim's evidence level, from its study's designs as all documents state
    them together (a design one review states holds for the claims another review reports)."""
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
    lines = []
    for b in built:
        for claim_id, study in b.claim_studies:
            level, why = levels.get(study, ("EvidenceLevelNotStated", "the documents do not state the study's design"))
            claim = f"<{claim_iri(b.doc_id, claim_id)}>"
            lines.append(f"{claim} <{BCMKG.evidenceLevel}> <{BCMKG[level]}> .\n")
            lines.append(f"{claim} <{BCMKG.evidenceLevelRationale}> {json.dumps(why, ensure_ascii=False)} .\n")
    return "".join(sorted(lines)).encode("utf-8")
