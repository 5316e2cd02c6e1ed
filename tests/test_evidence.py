"""Evidence levels on the real build: each claim inherits its study's OCEBM 2011 level, from the
designs all documents state together."""
from __future__ import annotations

from pathlib import Path

import pyoxigraph as ox
import pytest

from kg.evidence import study_level
from kg.records import Study

V = "https://w3id.org/bcmkg/vocab/"


@pytest.fixture(scope="module")
def levels(release: Path) -> dict[str, tuple[str, str]]:
    store = ox.Store()
    store.load(path=str(release / "graph.nq"), format=ox.RdfFormat.N_QUADS)
    q = f"""SELECT ?c ?l ?why WHERE {{ GRAPH <https://w3id.org/bcmkg/graph/evidence> {{
        ?c <{V}evidenceLevel> ?l ; <{V}evidenceLevelRationale> ?why }} }}"""
    return {r["c"].value.rsplit("/claim/", 1)[1]: (r["l"].value.rsplit("/", 1)[1], r["why"].value)
            for r in store.query(q)}


def test_every_claim_has_one_level(levels, release):
    import json
    assert len(levels) == json.loads((release / "manifest.json").read_text())["claims"]


def test_levels_follow_the_design(levels):
    # MF07-01 (Soran 2018): a randomized trial of 278 patients (001 Table 1) -> level 2
    mf = [v for k, v in levels.items() if k.startswith("ueno2022/") and "278 patients" in v[1]]
    assert mf and {lvl for lvl, _ in mf} == {"EvidenceLevel2"}
    # Vogl 2023 is a retrospective cohort in 000; 003's claims about it inherit that design
    assert levels["bclm-review-zh/" + next(k.split("/", 1)[1] for k in levels
                                           if k.startswith("bclm-review-zh/") and "1100 patients" in levels[k][1])][0] \
        == "EvidenceLevel3"
    vogl_in_003 = [v for k, v in levels.items() if k.startswith("bclm-review-zh/") and "stated in greco2026" in v[1]
                   and "1100 patients" in v[1]]
    assert vogl_in_003 and vogl_in_003[0][0] == "EvidenceLevel3"


def test_a_small_trial_is_graded_down():
    level, why = study_level(Study(id="x", label="x", designs=["RandomizedControlledTrial"], n=90))
    assert level == "EvidenceLevel3" and "graded down" in why
    assert study_level(Study(id="y", label="y", designs=["StudyDesign"]))[0] == "EvidenceLevelNotStated"
    assert study_level(Study(id="z", label="z", designs=["MetaAnalysis", "RandomizedControlledTrial"]))[0] \
        == "EvidenceLevel1"


def test_studies_without_a_stated_design_say_so(levels):
    not_stated = [k for k, (lvl, _) in levels.items() if lvl == "EvidenceLevelNotStated"]
    assert len(not_stated) == 116          # the claims of the 47 studies whose designs no document states
