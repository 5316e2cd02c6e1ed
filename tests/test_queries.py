"""Every named query in queries/ against the real build of sources/, with answers read from
the documents by hand (file and place noted beside each expectation).

Oxigraph answers decimals in canonical form (the printed "74.70" comes back as 74.7), so
values are compared as Decimal.
"""
from __future__ import annotations

import json
import re
import subprocess
import sys
from decimal import Decimal as D
from pathlib import Path

import pyoxigraph as ox
import pytest

from kg.errors import QueryError
from kg.query import KINDS, RESERVED_PARAMS, bind, get_query, load_queries, run, to_rows
from kg.store import EmbeddedStore, with_values

ROOT = Path(__file__).resolve().parent.parent
G = "000_922cf6fdf7f0a20b.txt"      # Greco 2026
U = "001_c45e7125dd127f1b.txt"      # Ueno 2022
S = "002_04fd65fe73b32b4a.txt"      # Sen 2024
Z = "003_67d4bd3cf7430fde.txt"      # Chinese BCLM review
C = "004_1f0bc588960cb5a0.txt"      # Chan 2017
V = "https://w3id.org/bcmkg/vocab/"


@pytest.fixture(scope="module")
def engine(disk_store) -> EmbeddedStore:
    return disk_store


def ask(engine, name, **params):
    return to_rows(run(name, params, engine))


def has(rows, **want) -> bool:
    """True when some row matches every key (Decimal-aware, strings compared as str)."""
    def eq(a, b):
        numeric = isinstance(a, (int, D)) and not isinstance(a, bool)
        if (numeric or isinstance(b, (int, float, D))) and not isinstance(b, bool) and a is not None:
            try:
                return D(str(a)) == D(str(b))
            except Exception:
                return False
        return a == b or str(a) == str(b)
    return any(all(eq(r.get(k), v) for k, v in want.items()) for r in rows)


def places(row) -> str:
    """The document id of a row's claim (alsoPrintedAt names the other places as 'document id: locator')."""
    return row["document"].rsplit("/", 1)[-1]


# --- the library itself --------------------------------------------------------------

def test_every_header_parses_and_is_complete():
    queries = load_queries()
    assert len(queries) >= 25
    for q in queries.values():
        assert q.title and q.description and q.kind in KINDS
        assert q.example.startswith("kg "), q.name
        assert q.example.startswith(f"kg query {q.name}") or q.name == "find_term"
        for p in q.params.values():
            assert p.description, (q.name, p.name)
            # max_level unset = every claim, those whose design is not stated too
            assert p.required or p.default is not None or p.type in ("study",) or p.name == "max_level", \
                (q.name, p.name)
        bind(q, q.example_params())          # the example's parameters are valid


def test_every_kind_of_question_is_covered():
    kinds = {q.kind for q in load_queries().values()}
    assert kinds == set(KINDS)


def test_every_query_has_an_expected_answer_here():
    assert set(load_queries()) == set(EXPECTED), "add an expectation for each new query"


@pytest.mark.parametrize("name", sorted(load_queries()))
def test_example_runs(engine, name):
    q = get_query(name)
    rows = to_rows(run(name, q.example_params(), engine))
    assert rows, f"{name}: its documented example gives no rows"


# --- expected answers, one per query -------------------------------------------------

def flagship(engine):
    rows = ask(engine, "flagship", site="LiverMetastasis", subtype="HR+", mode="any")
    # 000 Table 2 and 003 Table 1: Vogl 2023 MWA 89% at 5 years (n=17)
    # pattern 4: one row for the figure, the other places it is printed in alsoPrintedAt
    vogl = [r for r in rows if r["studyLabel"] == "Vogl 2023" and r["comparedValue"] == 89]
    assert len(vogl) == 1, vogl
    assert vogl[0]["modalityLabel"] == "microwave ablation" and vogl[0]["n"] == 17
    assert vogl[0]["matchBasis"] == "unspecified (no subtype stated)"
    assert {places(vogl[0])} | {p.split(":")[0] for p in vogl[0]["alsoPrintedAt"].split(" | ")} == {"greco2026", "bclm-review-zh"}
    assert "Table 2, row 'Microwave ablation'" in vogl[0]["alsoPrintedAt"]
    # 000 Table 1: LIBREAST 60%, key predictors HR+/HER2+ -> found for HR+ through the hierarchy
    assert has(rows, studyLabel="LIBREAST (Cantalejo-Díaz 2024)", comparedValue=60, corpusFile=G,
               matchBasis="HR-positive/HER2-positive breast cancer named as favourable predictor")
    # 001 Table 2 (propensity-matched, 49 v 49) and 002 Discussion: Ruiz 2018 69% v 24%
    assert has(rows, studyLabel="Ruiz 2018", comparedValue=69, n=49, corpusFile=U, subgroup="propensity-matched")
    assert has(rows, studyLabel="Ruiz 2018", comparedValue=69, corpusFile=S)
    # 002 Discussion and 003 Table 1: Vertriest 2015 78%, one figure: one row (003's), 002 in alsoPrintedAt
    assert has(rows, studyLabel="Vertriest 2015", comparedValue=78, corpusFile=Z,
               alsoPrintedAt="sen2024: Section 'Discussion', paragraph 2")
    assert not has(rows, studyLabel="Vertriest 2015", comparedValue=78, corpusFile=S)
    # 001 Table 2: Abbas 2017 56%, Ruiz 2018 57%; 003 Table 2: Chen 2022 51.6%
    assert has(rows, studyLabel="Abbas 2017", comparedValue=56)
    assert has(rows, studyLabel="Ruiz 2018", comparedValue=57)
    assert has(rows, studyLabel="Chen 2022", comparedValue="51.6")
    values = {D(str(r["comparedValue"])) for r in rows}
    assert all(v > 50 for v in values)
    # 000 Table 2: LITT 22%, TACE 4% are below; "up to 60%" (abstract) is not "more than 50%"
    assert not has(rows, comparedValue=22) and not has(rows, comparedValue=4)
    assert not has(rows, locator="Abstract")
    for r in rows:      # every row shows why it matched and where it came from
        assert r["matchBasis"] and r["corpusFile"] and r["locator"] and r["studyLabel"] and r["timePoint"] == 5
    # the nested modes: restricted and majority have no claim; favourable_predictor only LIBREAST
    assert ask(engine, "flagship", mode="restricted") == []
    assert ask(engine, "flagship", mode="majority") == []
    fav = ask(engine, "flagship", mode="favourable_predictor")
    assert {r["studyLabel"] for r in fav} == {"LIBREAST (Cantalejo-Díaz 2024)"}
    # hierarchy: thermal ablation keeps MWA and drops resection
    thermal = ask(engine, "flagship", modality="thermal ablation")
    assert {r["modalityLabel"] for r in thermal} == {"microwave ablation"}
    # 000 Table 2: below 25% at 5 years, thermal ablation (with combinations): LITT 22, LITT+TACE 15, TACE alone not
    low = ask(engine, "flagship", modality="ThermalAblation", direction="below", threshold=25)
    litt = [r for r in low if r["studyLabel"] == "Vogl 2023" and r["modalityLabel"] == "laser interstitial thermal therapy"]
    # one row per document: 000 prints it with n 491 (text and Table 2, one figure), 003 with n 212
    assert {(r["comparedValue"], r["n"], r["corpusFile"]) for r in litt} == {(22, 491, G), (22, 212, Z)}
    assert has(low, comparedValue=15, modalityLabel="LITT plus TACE")
    assert not has(low, comparedValue=4)
    # 60 months is 5 years
    assert len(ask(engine, "flagship", time_point=60, time_unit="Month")) == len(rows)


def median_threshold(engine):
    rows = ask(engine, "median_threshold", site="BCLM", months=48)
    # 000 Table 2: MWA median OS 5.6 years = 67.2 months; 000 intro: Sundén 2020 77 months; 000 Table 1: Masuda 49
    assert has(rows, studyLabel="Vogl 2023", comparedValue="5.6", valueInMonths="67.2", corpusFile=G)
    assert has(rows, studyLabel="Sundén 2020", comparedValue=77, corpusFile=G)
    assert has(rows, studyLabel="Masuda 2024", comparedValue=49)
    assert all(D(str(r["valueInMonths"])) > 48 for r in rows)
    below = ask(engine, "median_threshold", site="LiverMetastasis", months=12, direction="below")
    assert has(below, comparedValue="0.8", unitLabel="year")      # 000 Table 2: TACE alone 0.8 years
    # a median naming no treatment is kept at the root modality, not below it: 000 lung section, 22-36 months
    lung = ask(engine, "median_threshold", site="LungMetastasis", months=12)
    assert has(lung, claim="https://w3id.org/bcmkg/id/claim/greco2026/lung-os-median-historical")
    assert not has(ask(engine, "median_threshold", site="LungMetastasis", months=12, modality="LocalTherapy"),
                   claim="https://w3id.org/bcmkg/id/claim/greco2026/lung-os-median-historical")


def proportion_threshold(engine):
    rows = ask(engine, "proportion_threshold", endpoint="LocalControl", threshold=90)
    # 000 Table 3 / lung section: Franceschini 2024 SBRT local control 94.9% (1 y), 91% (2 y); Meng 2021 97.8%
    assert has(rows, studyLabel="Franceschini 2024", comparedValue="94.9", timePoint=1)
    assert has(rows, studyLabel="Franceschini 2024", comparedValue=91, timePoint=2)
    assert has(rows, studyLabel="Meng 2021", comparedValue="97.8")
    assert not has(rows, comparedValue="87.5")      # 3-year local control is below 90
    # a stated range compares its conservative end: 000 lung section, 5-year OS after pulmonary
    # metastasectomy 35-60%, above 30 (its low end) but not above 40; below 70 by its high end
    lung = dict(endpoint="OverallSurvival", site="LungMetastasis")
    assert has(ask(engine, "proportion_threshold", **lung, threshold=30), valueLow=35, valueHigh=60, thresholdValue=35)
    assert not has(ask(engine, "proportion_threshold", **lung, threshold=40), valueLow=35, valueHigh=60)
    assert has(ask(engine, "proportion_threshold", **lung, threshold=70, direction="below"), valueLow=35,
               valueHigh=60, thresholdValue=60)


def surgery_vs_control(engine):
    rows = ask(engine, "surgery_vs_control", site="LiverMetastasis", endpoint="OverallSurvival")
    # two local arms that name each other (ablation v resection) are one pair, not one from each side
    pairs = [frozenset((r["claimA"], r["claimB"])) for r in rows]
    assert len(pairs) == len(set(pairs))
    # 001 Table 2: Abbas 2017 median 49 v 20 months, p 0.001; Sadot 2016 50 v 45, p 0.5; Ruiz 69% v 24%, p<0.001
    assert has(rows, studyLabelA="Abbas 2017", treatmentValue=49, controlValue=20, difference=29, pValueA="0.001")
    assert has(rows, studyLabelA="Sadot 2016", treatmentValue=50, controlValue=45, difference=5, pValueA="0.5")
    assert has(rows, studyLabelA="Ruiz 2018", treatmentValue=69, controlValue=24, difference=45)
    # 003 Table 2: Chen 2022 3-year OS printed '723' (72.3) v 25.2: the difference uses the marked reading
    chen = [r for r in rows if r["studyLabelA"] == "Chen 2022" and r["timePointA"] == 3]
    assert chen and all(D(str(r["difference"])) < 100 for r in chen)
    assert has(chen, valueAsPrintedA="723", comparedValueA="72.3", isReadingA=True)
    # pattern 4: Sadot 2016 (one label across 001, 002, 003) and text x table: one row per pair of figures
    sadot = [r for r in rows if r["studyLabelA"] == "Sadot 2016" and r["statisticLabelA"] == "median"]
    assert len(sadot) == 1, sadot
    pairs = [(r["figureA"], r["figureB"]) for r in rows]
    assert len(pairs) == len(set(pairs))


def modality_vs_modality(engine):
    rows = ask(engine, "modality_vs_modality", a="MWA", b="HepaticResection", statistic="RateAtTimePoint")
    assert has(rows, side="a", comparedValue=89, studyLabel="Vogl 2023")          # 000 Table 2
    assert has(rows, side="b", comparedValue=60, studyLabel="LIBREAST (Cantalejo-Díaz 2024)")   # 000 Table 1
    assert not has(rows, side="a", studyLabel="LIBREAST (Cantalejo-Díaz 2024)")


def hazard_ratios(engine):
    rows = ask(engine, "hazard_ratios", endpoint="OverallSurvival")
    # 001 Table 1: MF07-01 HR 0.66 [0.49-0.88], p 0.005; India HR 1.04 [0.81-1.34], p 0.79
    assert has(rows, studyLabel="MF07-01 (Soran 2018)", comparedValue="0.66", ciLower="0.49", ciUpper="0.88", pValue="0.005")
    assert has(rows, studyLabel="Indian trial (Badwe 2015)", comparedValue="1.04", ciLower="0.81", ciUpper="1.34", pValue="0.79")
    # 000 Liver section: HER2 amplification HR 0.28 (Sundén 2023)
    assert has(rows, studyLabel="Sundén 2023", comparedValue="0.28")
    # 001: bone-only de novo OS HR 0.41 (0.30-0.57); the CI as printed, though Oxigraph answers 0.3
    assert has(rows, comparedValue="0.41", ciLowerAsPrinted="0.30", ciUpperAsPrinted="0.57", ciLower="0.3")


def claims_per_modality_site(engine):
    rows = ask(engine, "claims_per_modality_site")
    mwa_lung = [r for r in rows if r["modalityLabel"] == "microwave ablation"
                and r["siteLabel"] == "breast cancer lung metastasis"]
    assert mwa_lung and mwa_lung[0]["studies"] == 1          # Meng 2021 only (000 Table 3)
    mwa_liver = [r for r in rows if r["modalityLabel"] == "microwave ablation"
                 and r["siteLabel"] == "breast cancer liver metastasis"]
    assert mwa_liver and mwa_liver[0]["claims"] >= 4 and mwa_liver[0]["documents"] == 2   # docs 000 and 003


def median_ranges(engine):
    rows = ask(engine, "median_ranges", site="LiverMetastasis")
    mwa = [r for r in rows if r["modalityLabel"] == "microwave ablation"]
    assert mwa and mwa[0]["maxMonths"] == D("67.2")          # 000 Table 2: 5.6 years
    tace = [r for r in rows if r["modalityLabel"] == "transarterial chemoembolization"]
    assert tace and tace[0]["minMonths"] <= D("9.6")         # 000 Table 2: 0.8 years
    # 000 Introduction and lung section: median OS of lung metastases 20 to 97 and 22 to 36 months, no
    # treatment named: a row of their own
    lung = {r["modalityLabel"]: r for r in ask(engine, "median_ranges", site="LungMetastasis")}
    assert (lung["not stated"]["minMonths"], lung["not stated"]["maxMonths"], lung["not stated"]["ranges"]) == (20, 97, 2)


def evidence_matrix(engine):
    rows = ask(engine, "evidence_matrix", site="LungMetastasis")
    assert has(rows, modalityLabel="microwave ablation", endpointLabel="overall survival")   # Meng 2021
    assert has(rows, modalityLabel="stereotactic body radiotherapy", endpointLabel="local control")  # Franceschini
    assert all(r["siteLabel"] != "breast cancer liver metastasis" for r in rows)


def claims_per_document(engine):
    rows = ask(engine, "claims_per_document")
    assert [r["corpusFile"] for r in rows] == [G, U, S, Z, C]
    assert all(r["allClaims"] > 50 for r in rows)


def studies_by_design(engine):
    rows = ask(engine, "studies_by_design")
    rct = [r for r in rows if r["designLabel"] == "randomized controlled trial"]
    assert rct and rct[0]["studies"] >= 4      # 001 Table 1: MF07-01, India, ABCSG-28, E2108 (+ others)


def randomized_trials(engine):
    rows = ask(engine, "randomized_trials")
    # 001 Table 1: MF07-01, 278 patients, HR 0.66 [0.49-0.88], p 0.005
    assert has(rows, studyLabel="MF07-01 (Soran 2018)", studyN=278, hr="0.66", ciLower="0.49", ciUpper="0.88",
               ciLevel=95, pValue="0.005")
    assert has(rows, studyLabel="Indian trial (Badwe 2015)", studyN=350, hr="1.04")
    assert has(rows, studyLabel="ABCSG-28 POSYTTIVE (Fitzal 2019)", studyN=90, hr="0.691")
    # trials with no hazard ratio keep their row; JCOG1017 (named by 000 and 001) is one row, one label
    assert has(rows, studyLabel="SABR-COMET (Palma 2020)", claim=None)
    assert [r["studyLabel"] for r in rows if "jcog1017" in r["study"]] == ["JCOG1017 PRIM-BC (Shien 2012)"]


def trial_by_registry_id(engine):
    rows = ask(engine, "trial_by_registry_id", registry_id="nct02364557")   # case-insensitive
    assert rows and {r["study"] for r in rows} == {"https://w3id.org/bcmkg/id/study/nrg-br002"}
    # NRG-BR002 is a randomized phase II trial (000); 003 states no design, which is no design row
    assert {r.get("designLabel") for r in rows} == {"phase II trial", "randomized controlled trial"}
    assert ask(engine, "trial_by_registry_id", registry_id="NCT00000000") == []


def registered_trials(engine):
    rows = ask(engine, "registered_trials")
    assert has(rows, registryIds="NCT02364557")
    assert has(rows, trialName="MF07-01")
    # JCOG1017, named "JCOG1017" by 000 and "JCOG1017 (PRIM-BC)" by 001: one trial, one row, both names
    jcog = [r for r in rows if r["study"] == "https://w3id.org/bcmkg/id/study/jcog1017"]
    assert len(jcog) == 1 and set(jcog[0]["trialName"].split("; ")) == {"JCOG1017", "JCOG1017 (PRIM-BC)"}


def selection_criteria(engine):
    rows = ask(engine, "selection_criteria", site="LungMetastasis")
    # 000 lung section / Table 3: typically <= 3 lesions (Handy 2019); DFI > 12-24 months
    assert has(rows, criterionLabel="number of lesions", comparedValue=3)
    assert all(r["siteLabel"] == "breast cancer lung metastasis" for r in rows)
    liver = ask(engine, "selection_criteria", site="LiverMetastasis")
    assert has(liver, criterionLabel="number of lesions", valueLow=3, valueHigh=5)    # 000: <= 3-5 lesions


def prognostic_factors(engine):
    rows = ask(engine, "prognostic_factors", endpoint="OverallSurvival")
    assert has(rows, factorLabel="HER2 amplification", directionLabel="favourable", comparedValue="0.28")   # 000, Sundén 2023
    unf = ask(engine, "prognostic_factors", direction="unfavourable")
    assert has(unf, studyLabel="Handy 2019")        # 000 Table 3: LN involvement worsens prognosis
    assert all(r["directionLabel"] == "unfavourable" for r in unf)


def receptor_discordance(engine):
    rows = ask(engine, "receptor_discordance", site="LiverMetastasis")
    # 000 Liver section (Sundén 2023): ER 17%, PgR 33%, HER2 10%, subtype conversion 21%, "up to one-third"
    assert has(rows, biomarkerLabel="estrogen receptor", comparedValue=17)
    assert has(rows, biomarkerLabel="progesterone receptor", comparedValue=33)
    assert has(rows, biomarkerLabel="HER2", comparedValue=10)
    assert has(rows, endpointLabel="subtype conversion", comparedValue=21)
    assert has(rows, valueAsWritten="one-third")


def documents(engine):
    rows = ask(engine, "documents")
    assert [r["id"] for r in rows] == ["greco2026", "ueno2022", "sen2024", "bclm-review-zh", "chan2017"]
    assert has(rows, id="ueno2022", doi="10.3389/fonc.2022.910544")
    assert has(rows, id="greco2026", sha256="9298c1206531c747d8b20e5ff6772fbd0b872f04d0c65c5a5c1d68ad5d9a4257")


def document_claims(engine):
    rows = ask(engine, "document_claims", document="chan2017")
    assert has(rows, valueAsPrinted="74.70")           # 004 Results: median OS 74.70 months (as 74.7 in Oxigraph)
    # 004 Discussion: 5-year OS up to 60% after liver resection in the literature: one end of a range, shown alone
    assert has(rows, claim="https://w3id.org/bcmkg/id/claim/chan2017/d-liver-lit", valueText="up to 60")
    starts = [r["spanStart"] for r in rows]
    assert starts == sorted(starts)
    # 002 Abstract and Results: liver metastasis within 3 years and worse PFS, p = 0.040
    assert has(ask(engine, "document_claims", document="sen2024"), pValueAsPrinted="0.040", pValue="0.04")


def table_claims(engine):
    rows = ask(engine, "table_claims", document="greco2026", table="Table 2")
    values = {D(str(r["comparedValue"])) for r in rows if r["comparedValue"] is not None}
    # 000 Table 2: median OS 5.6/2.2/2.1/0.8 years, 5-year OS 89/22/15/4 %
    assert {D("5.6"), D("2.2"), D("2.1"), D("0.8"), D(89), D(22), D(15), D(4)} <= values
    assert all(r["locator"].startswith("Table 2") for r in rows)


def study_claims(engine):
    rows = ask(engine, "study_claims", study="ruiz2018")
    assert {r["corpusFile"] for r in rows} == {U, S, Z}      # Ruiz 2018 is reported by docs 001, 002, 003


def study_list(engine):
    rows = ask(engine, "study_list")
    assert has(rows, id="vogl2023", doi="10.1080/02656736.2023.2200582")    # 000 reference list
    assert has(rows, id="ruiz2018", documents=3)
    # one row per study node: JCOG1017's protocol (001, ref 16) and results (000, ref 33) papers
    assert len(rows) == len({r["study"] for r in rows})
    jcog = next(r for r in rows if r["id"] == "jcog1017")
    assert set(jcog["doi"].split("; ")) == {"10.1093/jcco/hys120", "10.1038/s41416-025-03097-z"}


def number_source(engine):
    rows = ask(engine, "number_source", value=89)
    assert has(rows, claim="https://w3id.org/bcmkg/id/claim/greco2026/t2-mwa-os5", corpusFile=G, field="value")
    for r in rows:
        assert r["spanStart"] < r["spanEnd"] and r["sourceFile"].startswith("sources/")
    # 89 is printed for Vogl 2023 (MWA 5-year OS) and for Chen 2022; the study parameter keeps Vogl's
    assert {r["studyLabel"] for r in rows} == {"Vogl 2023", "Chen 2022"}
    assert {r["studyLabel"] for r in ask(engine, "number_source", value=89, study="vogl2023")} == {"Vogl 2023"}
    # a range's observed ends and a cut-off are numbers the document states too: 002 Table I, DFS 36 (18-72);
    # 002 Discussion, a solitary metastasis under 4-5 cm (Rashid 2021's cut-off)
    assert has(ask(engine, "number_source", value=72), claim="https://w3id.org/bcmkg/id/claim/sen2024/t1-dfs",
               field="maximum")
    assert has(ask(engine, "number_source", value=5, study="rashid2021"),
               claim="https://w3id.org/bcmkg/id/claim/sen2024/disc-size-cutoff", field="cut-off high")


def claim_provenance(engine, corpus):
    rows = ask(engine, "claim_provenance", claim="bcd:claim/greco2026/t2-mwa-os5")
    assert len(rows) == 1
    r = rows[0]
    assert r["corpusFile"] == G and r["documentDoi"] == "10.20944/preprints202601.1478.v1"
    text = (corpus / G).read_text(encoding="utf-8")[r["spanStart"]:r["spanEnd"]]
    assert "89" in text and "Microwave ablation" in text      # the span holds the table row
    assert r["studyDoi"] == "10.1080/02656736.2023.2200582"


def disagreements(engine):
    rows = ask(engine, "disagreements")
    # Mariani 2013 3-year OS: 80% in 002 Discussion v 80.7% in 001 text and Table 2
    assert has(rows, studyLabelA="Mariani 2013", valueA=80, valueB="80.7")
    # Ruiz 2018 median OS: 73 months in 003 Table 1 v 74 in 001 Table 2
    assert has(rows, studyLabelA="Ruiz 2018", valueA=73, valueB=74)
    across = ask(engine, "disagreements", scope="across_documents")
    assert all(r["corpusFileA"] != r["corpusFileB"] for r in across)
    # each pair of figures once, in either order: Ruiz 2018 5-year OS 57% v 30.9% (003 Table 1)
    pairs = [frozenset((r["figureA"] or r["claimA"], r["figureB"] or r["claimB"]))
             for r in ask(engine, "disagreements", scope="any")]
    assert len(pairs) == len(set(pairs))


def marked_disagreements(engine):
    rows = ask(engine, "marked_disagreements")
    assert rows and all(r["claimA"] != r["claimB"] for r in rows)
    # a pair the curators linked both ways is one row: 000 Abstract 60% v Introduction 53% (5-year OS
    # after liver resection)
    both = {"https://w3id.org/bcmkg/id/claim/greco2026/abs-liver-os5",
            "https://w3id.org/bcmkg/id/claim/greco2026/intro-liver-surg-os5"}
    assert sum(1 for r in rows if {r["claimA"], r["claimB"]} == both) == 1
    pairs = [frozenset((r["figureA"] or r["claimA"], r["figureB"] or r["claimB"])) for r in rows]
    assert len(pairs) == len(set(pairs)) == 23


def study_attribute_conflicts(engine):
    rows = ask(engine, "study_attribute_conflicts")
    # JCOG1017: 001 cites Shien 2012 (protocol), 000 cites Shien 2025 (results), one trial node
    year = next(r for r in rows if (r["studyLabel"], r["attribute"]) == ("jcog1017", "year"))
    assert set(year["byDocument"].split(" | ")) == {"2012: ueno2022", "2025: greco2026"}


def term_synonyms(engine):
    rows = ask(engine, "term_synonyms", term="MWA")
    assert has(rows, label="microwave ablation", kind="abbreviation", name="MWA")
    assert rows[0]["definition"]


def term_parents(engine):
    rows = ask(engine, "term_parents", term="LITTPlusTACE")
    assert has(rows, relation="component", ancestor=V + "LaserInterstitialThermalTherapy")
    assert has(rows, relation="component", ancestor=V + "TransarterialChemoembolization")
    robot = ask(engine, "term_parents", term="RoboticLobectomy")
    assert has(robot, relation="parent", ancestor=V + "Lobectomy")
    assert has(robot, relation="parent", ancestor=V + "RoboticSurgery")


def term_children(engine):
    rows = ask(engine, "term_children", term="thermal ablation")
    got = {r["descendant"][len(V):] for r in rows}
    assert {"MicrowaveAblation", "RadiofrequencyAblation", "LaserInterstitialThermalTherapy", "Cryoablation",
            "LITTPlusTACE", "MWAPlusTACE"} <= got
    assert "TransarterialChemoembolization" not in got and "HepaticResection" not in got
    hr = ask(engine, "term_children", term="HRPositive")
    assert V + "HRPositiveHER2Positive" in {r["descendant"] for r in hr}     # inferred by the reasoner


def term_mappings(engine):
    rows = ask(engine, "term_mappings", term="Liver")
    assert has(rows, target="http://purl.obolibrary.org/obo/UBERON_0002107")
    assert has(rows, target="http://purl.obolibrary.org/obo/NCIT_C12392")


def find_term(engine):
    rows = ask(engine, "find_term", text="MWA")
    assert rows[0]["term"] == V + "MicrowaveAblation" and rows[0]["best"] == 0
    assert has(ask(engine, "find_term", text="ablation"), term=V + "Cryoablation")


def patient_cases(engine):
    rows = ask(engine, "patient_cases", study="chan2017")
    assert [r["patient"] for r in rows] == list(range(1, 14))     # 004 Table 2: 13 patients
    assert has(rows, patient=1, operationLabel="curettage with bone grafting", progressed=True)
    # figures as Table 2 prints them: patient 13's overall survival 336.80 months (the typed value is 336.8)
    p13 = next(r for r in rows if r["patient"] == 13)
    assert "overall survival 336.80 month" in p13["figures"] and "303.17" in p13["figures"]


def emerging_technologies(engine):
    rows = ask(engine, "emerging_technologies", technology="MolecularProfiling")
    assert has(rows, studyLabel="Garcia-Murillas 2025")    # 000 Table 4: ctDNA for MRD
    assert not has(rows, technologyLabel="AI histopathology")


def standard_row_patterns(engine):
    """The patterns of the standard claim row, with the documents' figures."""
    # pattern 1: subgroup, CI level, n and p, range ends, the complication a rate counts
    hr = ask(engine, "hazard_ratios", endpoint="OverallSurvival")
    # 001 Table 1: E2108 OS HR 1.11 (90% CI 0.82-1.52)
    assert has(hr, studyLabel="ECOG-ACRIN E2108 (Khan 2022)", comparedValue="1.11", ciLower="0.82", ciUpper="1.52", ciLevel=90)
    # 001 text: BOMET MF14-01, de novo stage IV with bone-only metastasis, HR 0.41 [0.30-0.57]: the bone site
    assert has(hr, comparedValue="0.41", siteLabel="breast cancer bone metastasis", ciLower="0.3", ciUpper="0.57",
               subgroup="de novo stage IV, bone-only metastasis")
    assert has(ask(engine, "hazard_ratios", site="BoneMetastasis"), comparedValue="0.41")
    # pattern 5: every site-specific claim has its site: 000 liver section, OligoCare SBRT grade >= 3 toxicity < 1 %
    sbrt = ask(engine, "proportion_threshold", endpoint="AcuteToxicity", site="OligometastaticDisease",
               threshold=5, direction="below")
    assert has(sbrt, studyLabel="OligoCare (Alongi 2024; Christ 2024)", valueText="less than 1")
    rct = ask(engine, "randomized_trials")
    assert has(rct, studyLabel="ECOG-ACRIN E2108 (Khan 2022)", hr="1.11", ciLevel=90)
    disc = ask(engine, "receptor_discordance")
    # 004 Results: receptor status changed in 3 of 6 patients
    assert has(disc, studyLabel="Chan 2017 (TTSH metastasectomy series)", comparedValue=3, n=6, unitLabel="patients")
    chan = ask(engine, "study_claims", study="chan2017")
    assert has(chan, comparedValue=3, n=6)
    assert all("n" in r and "pValue" in r and "ciLevel" in r for r in chan)
    comp = ask(engine, "proportion_threshold", endpoint="ComplicationRate", threshold=5, site="LungMetastasis")
    # 000 lung section: Meng 2021 MWA pneumothorax 23.9 %
    assert has(comp, studyLabel="Meng 2021", comparedValue="23.9", subgroup="pneumothorax")
    lung = ask(engine, "median_ranges", site="LungMetastasis")
    # 001 Surgery for Pulmonary Metastases: median OS "20 to 96.9 months" across series
    pm = [r for r in lung if r["modalityLabel"] == "pulmonary metastasectomy"]
    assert pm and pm[0]["minMonths"] == 20 and pm[0]["maxMonths"] == D("96.9") and pm[0]["ranges"] >= 1
    # pattern 2: 001 Table 1 India: locoregional PFS not attained (surgery) v 18.2 months
    nr = ask(engine, "surgery_vs_control", site="DeNovoStageIV", endpoint="LocoregionalProgressionFreeSurvival")
    assert has(nr, studyLabelA="Indian trial (Badwe 2015)", treatmentValue="not reached", controlValue="18.2",
               comparison="treatment not reached", valueTextA="not reached")
    # pattern 3: 003 Table 1 Vogl 2023 LITT median OS printed 264, read 26.4: no range reaches 264
    liver = ask(engine, "median_ranges", site="LiverMetastasis")
    litt = [r for r in liver if r["modalityLabel"] == "laser interstitial thermal therapy"]
    assert litt and litt[0]["maxMonths"] == D("26.4") and litt[0]["readings"] == 1
    rfa = [r for r in liver if r["modalityLabel"] == "radiofrequency ablation"]
    assert rfa and rfa[0]["maxMonths"] < 100          # Kümler 2015 printed 335, read 33.5
    med = ask(engine, "median_threshold", site="LiverMetastasis", months=30)
    assert not has(med, valueInMonths=264) and not has(med, valueInMonths=335) and not has(med, valueInMonths=322)
    assert has(med, studyLabel="Schullian 2021", comparedValue="32.2", valueAsPrinted="322", isReading=True,
               flag="curator's reading of printed 322; confidence medium")
    # pattern 5: 002 Discussion cites Yoo 2017 (DFI > 2 years) and Rashid 2021 (< 4-5 cm): theirs, not Sen 2024's
    pf = ask(engine, "prognostic_factors", endpoint="OverallSurvival")
    assert has(pf, studyLabel="Yoo 2017", factorLabel="length of disease-free interval", comparedValue=2, corpusFile=S)
    assert has(pf, studyLabel="Rashid 2021", factorLabel="tumour size", valueLow=4, valueHigh=5, corpusFile=S)
    assert not has(pf, studyLabel="Sen 2024", factorLabel="tumour size")
    assert not has(pf, studyLabel="Sen 2024", factorLabel="length of disease-free interval", comparedValue=2)
    # pattern 4: one label per study across documents, the others as alternative labels
    sadot = ask(engine, "study_claims", study="sadot2016")
    assert {r["studyLabel"] for r in sadot} == {"Sadot 2016"} and {r["corpusFile"] for r in sadot} == {U, S, Z}
    nrg = ask(engine, "study_claims", study="nrg-br002")
    assert {r["studyLabel"] for r in nrg} == {"NRG-BR002 (Chmura 2022)"}


def table_modalities(engine):
    # 000 Table 2: one study (Vogl 2023), four modalities (MWA, LITT, LITT + TACE, TACE alone)
    t2 = ask(engine, "table_modalities", document="greco2026", table="Table 2")
    assert {r["modalityLabel"]: r["studies"] for r in t2} == {
        "microwave ablation": 1, "laser interstitial thermal therapy": 1, "LITT plus TACE": 1,
        "transarterial chemoembolization": 1}
    # 003 Table 1: SIRT in four series (Saxena 2014, Pieper 2016, Fendler 2016, Gordon 2014)
    t1 = ask(engine, "table_modalities", document="bclm-review-zh", table="Table 1")
    assert has(t1, modalityLabel="selective internal radiation therapy", studies=4)
    assert t1[0]["modalityLabel"] == "hepatic resection"


EXPECTED = {f.__name__: f for f in [
    flagship, median_threshold, proportion_threshold, surgery_vs_control, modality_vs_modality, hazard_ratios,
    claims_per_modality_site, median_ranges, evidence_matrix, claims_per_document, studies_by_design,
    randomized_trials, trial_by_registry_id, registered_trials, selection_criteria, prognostic_factors,
    receptor_discordance, documents, document_claims, table_claims, study_claims, study_list, number_source,
    claim_provenance, disagreements, marked_disagreements, study_attribute_conflicts, term_synonyms,
    term_parents, term_children, term_mappings, find_term, patient_cases, emerging_technologies,
    table_modalities]}
PATTERNS = {f.__name__: f for f in [standard_row_patterns]}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_expected_answer(engine, request, name):
    """(standard_row_patterns is run by test_standard_row_patterns.) Only claim_provenance reads the
    corpus, so a clone without it still checks every other answer."""
    check = EXPECTED[name]
    if name == "claim_provenance":
        check(engine, request.getfixturevalue("corpus"))
    else:
        check(engine)


# --- parameters are bound, never pasted ----------------------------------------------

INJECTION = 'liver" } ; DROP ALL ; #'


def test_injection_in_a_term_parameter_is_rejected(engine):
    with pytest.raises(QueryError, match="unknown"):
        run("flagship", {"site": INJECTION}, engine)


def test_injection_in_a_string_parameter_is_matched_literally(engine, release):
    rows = run("table_claims", {"document": "greco2026", "table": INJECTION}, engine).rows
    assert rows == []
    rows = run("find_term", {"text": INJECTION}, engine).rows
    assert rows == []
    # the graph is untouched, and the remote form escapes the quote inside a VALUES block
    assert len(run("documents", {}, engine).rows) == 5
    text = with_values("SELECT ?x WHERE { ?s ?p ?x }", {"x": ox.Literal(INJECTION)})
    assert 'VALUES (?x) { ("liver\\" } ; DROP ALL ; #") }' in text


def test_injection_in_an_iri_parameter_is_rejected(engine):
    with pytest.raises(QueryError, match="not a valid IRI"):
        run("claim_provenance", {"claim": "http://x> } DROP ALL { <http://y"}, engine)
    with pytest.raises(QueryError, match="not a document id"):
        run("document_claims", {"document": INJECTION}, engine)


def test_unknown_term_gets_did_you_mean(engine):
    with pytest.raises(QueryError, match=r"did you mean .*MicrowaveAblation"):
        run("flagship", {"modality": "microwave ablaton"}, engine)


def test_unknown_enum_value_lists_allowed_values(engine):
    with pytest.raises(QueryError, match="allowed: restricted, majority, favourable_predictor, any; did you mean 'majority'"):
        run("flagship", {"mode": "majorty"}, engine)


def test_bad_number_unknown_parameter_and_missing_required(engine):
    with pytest.raises(QueryError, match="not a number"):
        run("flagship", {"threshold": "fifty"}, engine)
    with pytest.raises(QueryError, match="unknown parameter.*sitee"):
        run("flagship", {"sitee": "LiverMetastasis"}, engine)
    with pytest.raises(QueryError, match="required"):
        run("number_source", {}, engine)
    with pytest.raises(QueryError, match="unknown query 'flagshp'; did you mean flagship"):
        run("flagshp", {}, engine)


def test_unknown_document_is_an_error_not_an_empty_answer(engine):
    with pytest.raises(QueryError, match="unknown document 'greco2025'; did you mean greco2026"):
        run("document_claims", {"document": "greco2025"}, engine)


def test_term_outside_its_root_is_rejected(engine):
    with pytest.raises(QueryError, match="unknown"):
        run("flagship", {"site": "MicrowaveAblation"}, engine)


# --- CLI and Python front door ------------------------------------------------------

def kg_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "kg.cli", *args], capture_output=True, text=True, cwd=ROOT)


def test_cli_json_is_sparql_results_json(release):
    out = kg_cli("query", "flagship", "--release", str(release), "--param", "mode=favourable_predictor",
                 "--format", "json")
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert "matchBasis" in data["head"]["vars"]
    b = data["results"]["bindings"][0]
    assert b["comparedValue"]["datatype"].endswith("#decimal") and b["claim"]["type"] == "uri"


def test_cli_bad_parameter_exits_2(release):
    out = kg_cli("query", "flagship", "--release", str(release), "--param", "site=livr metastasis")
    assert out.returncode == 2 and "did you mean" in out.stderr


def test_cli_list_sparql_and_find(release):
    assert "flagship" in kg_cli("query", "--list").stdout
    out = subprocess.run([sys.executable, "-m", "kg.cli", "sparql", "-", "--release", str(release), "--format", "csv"],
                         input="SELECT (COUNT(*) AS ?n) WHERE { ?d a bcmkg:SourceDocument }",
                         capture_output=True, text=True, cwd=ROOT)
    assert out.returncode == 0 and out.stdout.split() == ["n", "5"]
    found = kg_cli("find", "LITT", "--release", str(release), "--format", "csv")
    assert "LaserInterstitialThermalTherapy" in found.stdout


def test_python_api(release):
    import kg
    rows = kg.query("flagship", release=release, site="BCLM", mode="favourable_predictor")
    assert rows[0]["studyLabel"] == "LIBREAST (Cantalejo-Díaz 2024)" and rows[0]["comparedValue"] == D(60)
    assert rows.variables[0] == "matchBasis"


def test_docs_list_every_query():
    doc = (ROOT / "docs" / "queries.md").read_text(encoding="utf-8")
    assert doc.startswith("<!-- generated by `kg query --docs`")
    for name in load_queries():
        assert f"\n## {name}\n" in doc, f"regenerate docs/queries.md: kg query --docs -o docs/queries.md ({name})"


# --- the engine: on disk and in memory, query forms, SERVICE --------------------------

def _cell(term) -> str:
    """A term in N-Triples; a GROUP_CONCAT list in sorted order (SPARQL leaves its order unspecified)."""
    if term is None:
        return ""
    for sep in ("; ", ", ", " | "):
        if sep in term.value and not term.value.startswith(("Section", "Table")):
            return sep.join(sorted(term.value.split(sep))) + "|" + str(getattr(term, "language", ""))
    return str(term)


def canonical(result) -> list[tuple]:
    """Rows as sorted tuples of strings: ORDER BY ties may come back in either order."""
    return sorted(tuple(_cell(r.get(v)) for v in result.variables) for r in result.rows)


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(load_queries()))
def test_on_disk_and_in_memory_stores_agree(name, disk_store, memory_store):
    params = get_query(name).example_params()
    on_disk, in_memory = run(name, params, disk_store), run(name, params, memory_store)
    assert on_disk.variables == in_memory.variables
    assert on_disk.rows, f"{name}: empty example answer proves nothing"
    assert canonical(on_disk) == canonical(in_memory)


def test_open_store_uses_the_on_disk_store_and_falls_back_to_graph_nq(release, tmp_path, capsys):
    import shutil

    from kg.store import open_store
    store = open_store(release)
    assert store.store is open_store(release).store          # cached per process
    old = tmp_path / "old-release"
    old.mkdir()
    shutil.copy(release / "graph.nq", old / "graph.nq")       # an older release: no store/
    fallback = open_store(old)
    assert "no store/" in capsys.readouterr().err
    count = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"
    assert fallback.select(count).rows == store.select(count).rows


def test_query_forms_give_pyoxigraph_types(engine):
    doc = "<https://w3id.org/bcmkg/id/document/greco2026>"
    result = engine.select(f"SELECT ?f WHERE {{ {doc} <https://w3id.org/bcmkg/vocab/corpusFile> ?f }}")
    assert result.variables == ["f"] and result.rows == [{"f": ox.Literal(G)}]
    assert engine.ask(f"ASK {{ {doc} ?p ?o }}") is True
    triples = engine.construct(f"CONSTRUCT {{ {doc} ?p ?o }} WHERE {{ {doc} ?p ?o }}")
    assert triples and all(isinstance(t, ox.Triple) for t in triples)
    assert engine.construct(f"DESCRIBE {doc}")
    assert isinstance(engine.raw("SELECT * WHERE { ?s ?p ?o } LIMIT 1"), ox.QuerySolutions)
    with pytest.raises(QueryError, match="not a SELECT"):
        engine.select(f"ASK {{ {doc} ?p ?o }}")


def test_service_is_refused_by_the_embedded_engine(engine):
    with pytest.raises(QueryError, match="SERVICE is not allowed"):
        engine.select("SELECT * WHERE { SERVICE <http://example.org/sparql> { ?s ?p ?o } }")
    with pytest.raises(QueryError, match="SERVICE is not allowed"):
        engine.ask("ASK { FILTER EXISTS { service <http://example.org/sparql> { ?s ?p ?o } } }")
    # the word in a comment, a string or an IRI is not a SERVICE call
    assert engine.select('SELECT ?x WHERE { BIND("SERVICE" AS ?x) } # SERVICE <http://x> { }').rows


def test_where_in_a_comment_or_string_does_not_move_the_bindings():
    text = 'SELECT ?x # WHERE {\nWHERE { BIND("WHERE {" AS ?y) ?s ?p ?x }'
    bound = with_values(text, {"x": ox.Literal("a")})
    assert bound.index('VALUES (?x) { ("a") }') > bound.index("\nWHERE {")


def test_the_parameters_are_bound_where_a_query_marks_them_too(engine):
    """`# @parameters` in a subquery gets the VALUES block as well, so Oxigraph evaluates the subquery
    for the values asked; the answer is the one the outer VALUES alone gives. The words in a string
    are not a mark."""
    text = ('SELECT ?site ?n WHERE {\n  { SELECT ?site (COUNT(?c) AS ?n) WHERE {\n      # @parameters: the site\n'
            '      ?c <https://w3id.org/bcmkg/vocab/metastaticSite> ?site } GROUP BY ?site }\n'
            '  BIND("# @parameters" AS ?word) }')
    bound = with_values(text, {"site": ox.NamedNode("https://w3id.org/bcmkg/vocab/LiverMetastasis")})
    assert bound.count("VALUES (?site)") == 2 and "# @parameters: the site" not in bound
    assert 'BIND("# @parameters" AS ?word)' in bound
    unmarked = with_values(text.replace("# @parameters", "# no mark"),
                           {"site": ox.NamedNode("https://w3id.org/bcmkg/vocab/LiverMetastasis")})
    assert unmarked.count("VALUES (?site)") == 1
    marked, outer = engine.select(bound).rows, engine.select(unmarked).rows
    assert marked == outer and len(marked) == 1 and int(marked[0]["n"].value) > 0


def test_no_query_declares_a_reserved_parameter():
    """kg.query(name, store=, release=, **params): a parameter named store or release could not be passed."""
    assert RESERVED_PARAMS >= {"store", "release"}      # kg.query's own keywords (include_retracted too, e94d581)
    for q in load_queries().values():
        assert not set(q.params) & RESERVED_PARAMS, q.name


def test_python_api_endpoint_is_a_query_parameter(release):
    """`endpoint` is hazard_ratios' parameter (an outcome), not a remote URL."""
    import kg
    rows = kg.query("hazard_ratios", endpoint="OverallSurvival", release=release)
    out = kg_cli("query", "hazard_ratios", "--release", str(release), "--param", "endpoint=OverallSurvival",
                 "--format", "json")
    assert out.returncode == 0, out.stderr
    cli = json.loads(out.stdout)
    assert rows.variables == cli["head"]["vars"]
    assert len(rows) == len(cli["results"]["bindings"]) > 0
    assert sorted(str(r["comparedValue"]) for r in rows) == \
        sorted(b["comparedValue"]["value"] for b in cli["results"]["bindings"])
    assert has(rows, studyLabel="MF07-01 (Soran 2018)", comparedValue="0.66")
    # the same through params= and on an explicit store
    same = kg.query("hazard_ratios", {"endpoint": "OverallSurvival"}, store=kg.open_store(release))
    assert sorted(map(str, same)) == sorted(map(str, rows))


def test_kg_query_stays_the_function_after_importing_the_module():
    import importlib

    import kg
    importlib.import_module("kg.query")
    assert callable(kg.query) and kg.query.__module__ == "kg"


def test_named_query_is_parsed_once_per_file_version(tmp_path):
    import os
    src = get_query("documents").path
    copy = tmp_path / "documents.rq"
    copy.write_text(src.read_text(encoding="utf-8"), encoding="utf-8")
    first = get_query("documents", tmp_path)
    assert get_query("documents", tmp_path) is first            # cached
    copy.write_text(src.read_text(encoding="utf-8").replace("#+ title:", "#+ title: changed", 1), encoding="utf-8")
    os.utime(copy, ns=(copy.stat().st_atime_ns, copy.stat().st_mtime_ns + 10**9))
    assert get_query("documents", tmp_path) is not first


def test_cli_sparql_ask_construct_and_describe(release):
    def sparql(text: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "kg.cli", "sparql", "-", "--release", str(release)],
                              input=text, capture_output=True, text=True, cwd=ROOT)
    assert sparql("ASK { ?d a bcmkg:SourceDocument }").stdout == "true\n"
    out = sparql("CONSTRUCT { ?d bcmkg:corpusFile ?f } WHERE { ?d bcmkg:corpusFile ?f }")
    assert out.returncode == 0, out.stderr
    assert "@prefix bcd:" in out.stdout and G in out.stdout
    triples = list(ox.parse(out.stdout.encode(), format=ox.RdfFormat.TURTLE))
    assert len(triples) == 5 and ox.NamedNode("https://w3id.org/bcmkg/id/document/greco2026") in {
        t.subject for t in triples}
    out = sparql("DESCRIBE <https://w3id.org/bcmkg/id/document/greco2026>")
    assert out.returncode == 0 and "bcmkg:corpusFile" in out.stdout
    out = sparql("SELECT * WHERE { SERVICE <http://example.org/sparql> { ?s ?p ?o } }")
    assert out.returncode == 2 and "SERVICE is not allowed" in out.stderr


# --- the standard claim row ---------------------------------------------------------------

def test_standard_row_patterns(engine):
    standard_row_patterns(engine)


def _projected(engine, name) -> list[str]:
    q = get_query(name)
    return list(engine.select(q.text, bind(q, q.example_params())).variables)


@pytest.mark.parametrize("name", sorted(load_queries()))
def test_claim_queries_project_the_standard_row(engine, name):
    from kg.claim_rows import standard_row_variables
    projected = set(_projected(engine, name))
    if "claim" in projected:
        assert not set(standard_row_variables()) - projected, name
    if "claimA" in projected:
        for side in "AB":
            assert not set(standard_row_variables(side)) - projected, (name, side)


@pytest.mark.parametrize("name", sorted(load_queries()))
def test_no_answer_repeats_a_claim_or_a_figure(engine, name):
    q = get_query(name)
    rows = to_rows(run(name, q.example_params(), engine))
    for cols in (("claim",), ("claimA", "claimB"), ("figure",), ("figureA", "figureB")):
        if rows and all(c in rows[0] for c in cols):
            if cols[0].startswith("figure") and q.kind == "provenance":
                continue          # provenance lists every place of a figure, one row each
            keys = [tuple(r[c] for c in cols) for r in rows if all(r[c] is not None for c in cols)]
            assert len(keys) == len(set(keys)), (name, cols)


# --- readable at a terminal ---------------------------------------------------------------

def test_cli_list_and_help_show_each_parameter(release):
    listed = kg_cli("query", "--list")
    assert listed.returncode == 0, listed.stderr
    assert "--param mode=...  enum, default any; restricted | majority | favourable_predictor | any" in listed.stdout
    assert "--param threshold=...  decimal, default 50" in listed.stdout
    helped = kg_cli("query", "flagship", "--help")
    assert helped.returncode == 0 and "--param site=...  term, default LiverMetastasis" in helped.stdout
    assert "example: kg query flagship" in helped.stdout
    assert "--columns" in kg_cli("query", "--help").stdout


def test_cli_table_fits_the_terminal_and_says_the_subtype_mode(release):
    import os
    env = {**os.environ, "COLUMNS": "100"}
    out = subprocess.run([sys.executable, "-m", "kg.cli", "query", "flagship", "--release", str(release)],
                         capture_output=True, text=True, cwd=ROOT, env=env)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert all(len(line) <= 100 for line in lines if not line.startswith("subtype mode"))
    assert "…" in out.stdout and "columns)" in out.stdout                 # cut cells are marked
    assert "subtype mode: any (the default" in out.stdout                   # the user chose none
    chosen = kg_cli("query", "flagship", "--release", str(release), "--param", "mode=any", "--columns",
                    "studyLabel,valueText,flag")
    assert chosen.stdout.split()[:3] == ["study", "value", "flag"] and "subtype mode" not in chosen.stdout  # labels
    bad = kg_cli("query", "flagship", "--release", str(release), "--columns", "nosuchcolumn")
    assert bad.returncode == 2 and "columns: matchBasis" in bad.stderr


# --- the standard row is one definition: generated into each file, no GROUP BY, a level parameter -----

@pytest.mark.parametrize("name", sorted(load_queries()))
def test_standard_row_blocks_are_as_the_model_renders_them(name):
    from kg.claim_rows import has_standard_row, render_standard_rows
    text = get_query(name).path.read_text(encoding="utf-8")
    assert render_standard_rows(text) == text, f"{name}: run `kg docs` to regenerate its standard row"
    if has_standard_row(text):
        # a union default graph (an older release, a plain Oxigraph server) matches a triple that two
        # documents hold twice: DISTINCT keeps one row per claim without a GROUP BY over ~40 columns
        assert re.search(r"^SELECT DISTINCT\b", text, re.MULTILINE), name
        assert "max_level" in get_query(name).params


@pytest.mark.parametrize("name", sorted(n for n in load_queries() if "BEGIN standard row" in get_query(n).text))
def test_own_part_binds_the_rows_optional_study_document_locator_by_the_same_property(name):
    # the row looks up ?study, ?document and ?locator in OPTIONALs (every claim has one of each, and
    # required they were joined over the whole graph); a query binding one of them itself must do so
    # by the same property, or a claim of another study would keep the query's value
    from kg.claim_rows import _BLOCK
    text = get_query(name).path.read_text(encoding="utf-8")
    own = re.sub(r"(?m)^\s*#.*$", "", _BLOCK.sub("", text))
    props = {"study": "aboutStudy", "document": "wasDerivedFrom", "locator": "locator"}
    for m in _BLOCK.finditer(text):
        subject, suffix = re.escape(m["subject"]), m["suffix"] or ""
        for var, prop in props.items():
            if re.search(rf"\?{var}{suffix}\b", own) or var + suffix in get_query(name).params:
                assert re.search(rf"{subject}\s[^.{{}}]*?\w+:{prop}\s+\?{var}{suffix}\b", own), (name, var + suffix)


def test_evidence_level_column_and_parameter(engine):
    rows = ask(engine, "hazard_ratios", endpoint="OverallSurvival")
    by_study = {r["studyLabel"]: r["evidenceLevelLabel"] for r in rows}
    assert by_study["MF07-01 (Soran 2018)"] == "OCEBM level 2"             # randomized, 278 patients
    assert by_study["ABCSG-28 POSYTTIVE (Fitzal 2019)"] == "OCEBM level 3"  # randomized, 90: graded down
    strong = ask(engine, "hazard_ratios", endpoint="OverallSurvival", max_level=2)
    assert {r["evidenceLevelLabel"] for r in strong} == {"OCEBM level 2"}
    assert "MF07-01 (Soran 2018)" in {r["studyLabel"] for r in strong}
    assert "ABCSG-28 POSYTTIVE (Fitzal 2019)" not in {r["studyLabel"] for r in strong}
    assert len(strong) < len(rows)
    with pytest.raises(QueryError, match="out of range"):
        ask(engine, "hazard_ratios", max_level=6)


# --- how a row matched a term parameter (kg/match.py) ---------------------------------------------

def test_matched_via_names_the_hierarchy_step(engine):
    rows = ask(engine, "flagship", site="LiverMetastasis", subtype="HRPositive", mode="any", modality="HepaticResection")
    via = {r["claim"].rsplit("/claim/", 1)[1]: r["matchedVia"] for r in rows}
    # Sen 2024's Discussion gives Ruiz 2018's 69 % for liver resection after chemotherapy: a combination
    assert "modality: a combination containing hepatic resection (hepatic resection plus chemotherapy)" \
        in via["sen2024/disc-ruiz-os5-surgery"]
    assert "modality: as asked" in via["greco2026/t1-libreast-os5"]
    narrower = ask(engine, "hazard_ratios", site="VisceralMetastasis")
    assert narrower and all(r["matchedVia"] == f"site: narrower ({r['siteLabel']})" for r in narrower)
    assert "Mariani 2013" in {r["studyLabel"] for r in narrower}
    # at the root nothing is said: every claim matches as asked
    assert "matchedVia" not in ask(engine, "hazard_ratios")[0]


# --- endpoint hierarchy: one filter reaches the related endpoints (issue 11, pattern 5) ------------

def test_one_endpoint_filter_reaches_locoregional_pfs_and_locoregional_progression(engine):
    rows = ask(engine, "hazard_ratios", endpoint="LocoregionalOutcome")
    by_claim = {r["claim"].rsplit("/claim/", 1)[1]: r for r in rows}
    # 001 Table 1: the India trial (Badwe 2015), locoregional PFS HR 0.16; E2108, locoregional
    # progression HR 0.34 [0.21-0.56]
    india = by_claim["ueno2022/t1-ind-lrpfs-hr"]
    assert india["endpointLabel"] == "locoregional progression-free survival" and D(str(india["comparedValue"])) == D("0.16")
    e2108 = by_claim["ueno2022/t1-e-lrp-hr"]
    assert e2108["endpointLabel"] == "locoregional progression" and D(str(e2108["comparedValue"])) == D("0.34")
    assert (D(str(e2108["ciLower"])), D(str(e2108["ciUpper"]))) == (D("0.21"), D("0.56"))
    assert {r["endpointLabel"] for r in rows} == {"locoregional progression-free survival", "locoregional progression"}
    # the locoregional PFS is still a progression-free survival
    assert "ueno2022/t1-ind-lrpfs-hr" in {r["claim"].rsplit("/claim/", 1)[1]
                                          for r in ask(engine, "hazard_ratios", endpoint="ProgressionFreeSurvival")}


def test_local_and_distant_outcomes_group_their_endpoints(store):
    q = f"""SELECT ?parent ?e WHERE {{ VALUES ?parent {{ <{V}LocalOutcome> <{V}DistantOutcome> <{V}LocoregionalOutcome> }}
             ?e <http://www.w3.org/2000/01/rdf-schema#subClassOf>+ ?parent }}"""
    under: dict[str, set[str]] = {}
    for r in store.query(q, use_default_graph_as_union=True):
        under.setdefault(r["parent"].value.rsplit("/", 1)[1], set()).add(r["e"].value.rsplit("/", 1)[1])
    assert under["LocalOutcome"] == {"LocalControl", "LocalProgression"}
    assert under["DistantOutcome"] == {"DistantProgressionFreeSurvival", "DistantRecurrenceFreeSurvival",
                                       "TimeToDistantProgression", "TimeToDistantRecurrence"}
    assert under["LocoregionalOutcome"] == {"LocoregionalProgression", "LocoregionalProgressionFreeSurvival",
                                            "TimeToLocoregionalProgression"}
    # 000: Meng 2021's local control (97.8 %) and local progression (10.9 %) under one filter
    q = f"""SELECT ?v WHERE {{ ?c <{V}aboutStudy> <https://w3id.org/bcmkg/id/study/meng2021> ; <{V}endpoint> ?e ;
             <{V}valueAsPrinted> ?v . ?e <http://www.w3.org/2000/01/rdf-schema#subClassOf>* <{V}LocalOutcome> }}"""
    assert {"97.8", "10.9"} <= {r["v"].value for r in store.query(q, use_default_graph_as_union=True)}


# --- one row per figure: Vertriest's 78 % (issue 11, pattern 4) -----------------------------------

def test_flagship_prints_vertriests_five_year_os_once(engine):
    rows = ask(engine, "flagship", site="LiverMetastasis", subtype="HRPositive", mode="any")
    vertriest = [r for r in rows if r["studyLabel"] == "Vertriest 2015" and r["endpointLabel"] == "overall survival"
                 and r["timePoint"] is not None and D(str(r["comparedValue"])) == D(78)]
    # 003 Table 1, row 'Vertriest 2015' (n 27, 5-year OS 78 %) and 002 Discussion paragraph 2
    # ("a 5-year OS even as high as 78%"): one figure, one row, the other place named
    assert len(vertriest) == 1, [r["claim"] for r in vertriest]
    row = vertriest[0]
    assert row["claim"].endswith("/claim/bclm-review-zh/vertriest2015-os-5y") and D(str(row["n"])) == D(27)
    assert row["alsoPrintedAt"] == "sen2024: Section 'Discussion', paragraph 2"


def test_an_unknown_term_lists_the_valid_values(engine):
    with pytest.raises(QueryError) as err:
        ask(engine, "flagship", site="Foo")
    text = str(err.value)
    assert "valid: " in text and "LiverMetastasis (breast cancer liver metastasis)" in text
    assert "more (`kg query term_children --param term=MetastaticBreastCancer`)" in text
    with pytest.raises(QueryError, match="did you mean 'breast cancer liver metastasis' = LiverMetastasis"):
        ask(engine, "flagship", site="Livr")         # a near match is offered instead of the list


# --- wider conflict detection and evidence for and against benefit (issue 11, patterns 6 and 7) ------------

def _cid(iri) -> str:
    """A claim IRI as 'document/claim id'."""
    return iri.rsplit("/claim/", 1)[1]


def sample_size_conflicts(engine):
    rows = ask(engine, "sample_size_conflicts")
    by_arm = {r["population"]: r for r in rows}
    # Vogl 2023: 003 Table 1 (continued), column 'n', gives the LITT arm 212 and LITT + TACE 215; 000 Table 2
    # gives 491 and 370 (the MWA arm, 17, agrees in both and is not listed)
    assert set(by_arm) == {"arm LITT", "arm LITT+TACE"}
    litt, combo = by_arm["arm LITT"], by_arm["arm LITT+TACE"]
    assert (litt["nStatedA"], litt["nStatedB"]) == (212, 491)
    assert (combo["nStatedA"], combo["nStatedB"]) == (215, 370)
    for r in rows:
        assert r["studyLabelA"] == r["studyLabelB"] == "Vogl 2023"
        assert (r["corpusFileA"], r["corpusFileB"]) == (Z, G)
        # the table's n cell is the claim shown for 003; 000 states the n on its Table 2 rows
        assert r["locatorA"] == "Table 1 (continued), row 'Vogl 2023', column 'n'"
        assert r["locatorB"].startswith("Table 2, row 'LITT")
        assert r["placesA"] == 4 and r["placesB"] == 2
    assert _cid(litt["claimA"]) == "bclm-review-zh/vogl2023-litt-n"


def range_end_conflicts(engine):
    across = ask(engine, "range_end_conflicts", scope="across_documents")
    # 000 Introduction: median OS with lung metastases 20-97 months, citing Ueno 2022; 001 'Surgery for
    # Pulmonary Metastases', paragraph 1: 20 to 96.9 months (another study node: the review's own)
    assert len(across) == 1
    r = across[0]
    assert (_cid(r["claimA"]), _cid(r["claimB"])) == ("greco2026/intro-lung-os-median", "ueno2022/lung-os-median-range")
    assert (r["rangeLowA"], r["rangeHighA"], r["rangeLowB"], r["rangeHighB"]) == (20, 97, 20, D("96.9"))
    assert r["ends"] == "high end differs" and r["link"] == "one cites the other's study" and r["marked"] is False
    assert (r["corpusFileA"], r["corpusFileB"]) == (G, U)
    rows = ask(engine, "range_end_conflicts")
    # 000 gives liver metastases in 15-25 % of cases (Introduction) and 5-25 % (section 3), curator-marked
    inc = [r for r in rows if _cid(r["claimA"]) == "greco2026/intro-liver-incidence"]
    assert len(inc) == 1 and _cid(inc[0]["claimB"]) == "greco2026/liver-incidence"
    assert inc[0]["ends"] == "low end differs" and inc[0]["marked"] is True and inc[0]["link"] == "same study"
    assert (inc[0]["rangeLowA"], inc[0]["rangeLowB"], inc[0]["rangeHighA"]) == (15, 5, 25)
    assert len(rows) == 2
    # a range restated unchanged (liver median OS 27-74 months, 000 and 001) and ranges whose ends both differ
    # (Introduction 20-97 v 'historical' 22-36 months) are not listed
    listed = {_cid(r[c]) for r in rows for c in ("claimA", "claimB")}
    assert not listed & {"greco2026/intro-liver-os-median", "ueno2022/liver-os-median-range",
                         "greco2026/lung-os-median-historical"}


def median_rate_inconsistencies(engine):
    rows = ask(engine, "median_rate_inconsistencies")
    found = {(r["studyLabelA"], D(str(r["medianMonths"])), D(str(r["timePointMonths"])), D(str(r["rate"])), r["rule"])
             for r in rows}
    above, below = "rate above 50 %, median earlier", "rate below 50 %, median later"
    assert found == {
        # 001 Table 2 and text: Abbas 2017 resection, median OS 49 months but 56 % alive at 5 years
        ("Abbas 2017", D(49), D(60), D(56), above),
        # 000 Table 3: Franceschini 2024 (lung subgroup, SBRT), median OS 16.5 months, 3-year OS 51.9 %
        ("Franceschini 2024", D("16.5"), D(36), D("51.9"), above),
        # 002 Results / Table I: median OS 30 months, 3-year OS 82 %; median PFS 27 months, 3-year PFS 69 %
        ("Sen 2024", D(30), D(36), D(82), above),
        ("Sen 2024", D(27), D(36), D(69), above),
        # 003 Table 1, Ruiz 2018 row A median 73 months (001: 74) v row B 5-year OS 30.9 %
        ("Ruiz 2018", D(73), D(60), D("30.9"), below),
        ("Ruiz 2018", D(74), D(60), D("30.9"), below)}
    sen = [r for r in rows if r["studyLabelA"] == "Sen 2024" and r["medianMonths"] == 30]
    assert sen[0]["endpointLabelA"] == sen[0]["endpointLabelB"] == "overall survival" and sen[0]["corpusFileA"] == S
    ruiz = [r for r in rows if r["studyLabelA"] == "Ruiz 2018" and r["medianMonths"] == 74]
    assert ruiz[0]["corpusFileA"] == U and ruiz[0]["corpusFileB"] == Z
    # misreads are compared as read: Vogl 2023 LITT '264' (26.4 months) with 37 % at 3 years, Kumler 2015 '335'
    # (33.5) with 48 % at 3 years hold; Yhim 2010's median not reached with 82.1 % at 4 years holds
    assert not {"Vogl 2023", "Kumler 2015", "Yhim 2010"} & {r["studyLabelA"] for r in rows}


def evidence_for_against(engine):
    def by(rows):
        return {_cid(r["claim"]): r for r in rows}
    pts = by(ask(engine, "evidence_for_against", site="DeNovoStageIV", modality="PrimaryTumourSurgery"))
    # 001 Table 1: MF07-01 OS HR 0.66 (0.49-0.88), p 0.005: for
    mf = pts["ueno2022/t1-mf-os-hr"]
    assert mf["direction"] == "for" and mf["resultKind"] == "effect measure"
    assert (mf["comparedValue"], mf["ciLower"], mf["ciUpper"]) == (D("0.66"), D("0.49"), D("0.88"))
    assert "CI 0.49-0.88 below 1" in mf["basis"]
    # its median OS 46 v 37 months, p 0.005 (text and Table 1: one row)
    med = [r for r in pts.values() if r["studyLabel"] == "MF07-01 (Soran 2018)" and r["resultKind"] == "treatment vs control"
           and r["endpointLabel"] == "overall survival"]
    assert len(med) == 1 and med[0]["direction"] == "for" and (med[0]["comparedValue"], med[0]["controlValue"]) == (46, 37)
    assert med[0]["difference"] == 9
    # locoregional progression 1 % v 11 %: lower is better
    assert pts["ueno2022/t1-mf-lrp-lrt"]["direction"] == "for" and "lower is better" in pts["ueno2022/t1-mf-lrp-lrt"]["basis"]
    # ABCSG-28 HR 0.691 (0.358-1.333): no significant difference; median 34.6 v 54.8, p 0.267
    assert pts["ueno2022/t1-ab-os-hr"]["direction"] == "no significant difference"
    assert pts["ueno2022/ab-txt-os-surgery"]["direction"] == "no significant difference"
    # meta-analyses: Lu 2018 HR 0.65 (0.60-0.71) for, Gera 2020 randomized trials only HR 0.81 (0.57-1.14) not significant
    assert pts["ueno2022/lu-os-hr"]["direction"] == "for"
    assert pts["ueno2022/gera-rct-os-hr"]["direction"] == "no significant difference"
    # E2108 treated locoregional therapy (surgery and/or radiotherapy), broader than primary tumour surgery
    assert "ECOG-ACRIN E2108 (Khan 2022)" not in {r["studyLabel"] for r in pts.values()}
    lrt = by(ask(engine, "evidence_for_against", site="DeNovoStageIV", modality="LocoregionalTherapyOfPrimary"))
    e2108 = lrt["ueno2022/t1-e-os-hr"]
    assert e2108["direction"] == "no significant difference" and "CI 0.82-1.52 includes 1" in e2108["basis"]
    assert lrt["ueno2022/e-txt-tnbc-hr"]["direction"] == "against"          # triple-negative HR 3.33 (1.09-10.12)
    assert lrt["ueno2022/t1-e-lrp-hr"]["direction"] == "for"                # locoregional progression HR 0.34
    assert lrt["ueno2022/t1-mf-os-hr"]["direction"] == "for"                # surgery is a locoregional therapy
    # Indian trial locoregional PFS: not reached v 18.2 months, no p on the pair; its HR 0.16 (0.10-0.26) is for
    assert lrt["ueno2022/t1-ind-lrpfs-lrt"]["direction"] == "not tested"
    assert lrt["ueno2022/t1-ind-lrpfs-lrt"]["controlValue"] == D("18.2")
    assert lrt["ueno2022/t1-ind-lrpfs-hr"]["direction"] == "for"
    # E2108 quality of life at 18 months, worse with early local therapy, p 0.01 (001 Table 1 and text): a
    # result printed as a p alone, with no statistic type; against, the direction the document gives
    qol = lrt["ueno2022/t1-e-qol-18m"]
    assert (qol["resultKind"], qol["direction"], qol["pValue"]) == ("p-value only", "against", D("0.01"))
    # 004 Results: overall survival, metastasectomy v systemic therapy alone, p 0.398
    chan = by(ask(engine, "evidence_for_against", site="DistantRecurrence", modality="Metastasectomy"))
    assert chan["chan2017/r-os5-p"]["direction"] == "no significant difference"
    # 000 lung section: NRG-BR002 (randomized phase II), no survival advantage from adding SBRT or surgery to
    # systemic therapy in newly diagnosed oligometastatic breast cancer
    oligo = by(ask(engine, "evidence_for_against", site="OligometastaticDisease", modality="LocalTherapy"))
    assert oligo["greco2026/nrg-br002-no-benefit"]["direction"] == "no significant difference"
    # liver, hepatic resection (the modality with most results at the site)
    liver = by(ask(engine, "evidence_for_against", site="LiverMetastasis", modality="HepaticResection"))
    assert liver["ueno2022/mariani-txt-os3-surgery"]["direction"] == "for"          # 80.7 v 50.9 %, p < 0.0001
    assert liver["ueno2022/mariani-txt-os3-surgery"]["controlValue"] == D("50.9")
    assert liver["ueno2022/yamamoto-os-or"]["direction"] == "no significant difference"   # OR 0.29 (0.07-1.26)
    assert liver["ueno2022/mariani-pf-surgery"]["direction"] == "for"               # surgery a favourable factor
    assert liver["ueno2022/t2-abbas-os5-surgery"]["direction"] == "not tested"      # 56 v 25 %, no p
    # 002 Discussion: three times the risk of death without surgery (Mariani): the comparator's claim, inverted
    mariani = liver["sen2024/disc-mariani-risk"]
    assert mariani["direction"] == "not tested" and "inverted" in mariani["basis"]
    # 003 Table 2: Chen 2022 3-year OS printed 723, read as 72.3: the difference uses the reading
    chen = liver["bclm-review-zh/chen2022-hr-os-3y"]
    assert chen["difference"] == D("47.1") and chen["isReading"] is True
    # the default (any local therapy at the liver): Sadot's resection or RFA, 50 v 45 months, p 0.5
    default = ask(engine, "evidence_for_against")
    assert has(default, studyLabel="Sadot 2016", direction="no significant difference", comparedValue=50)
    assert {r["direction"] for r in default} <= {"for", "against", "no significant difference", "not tested",
                                                 "significant, direction not stated"}
    assert all(r["basis"] for r in default)


EXPECTED.update({f.__name__: f for f in [sample_size_conflicts, range_end_conflicts, median_rate_inconsistencies,
                                         evidence_for_against]})


MEDIAN_RATE = ROOT / "tests" / "data" / "median_rate"


@pytest.fixture(scope="module")
def median_rate_store(tmp_path_factory):
    """tests/data/median_rate: made-up claims that fire each rule of median_rate_inconsistencies (not reached,
    years, weeks) and one pair that holds."""
    from kg.build import build
    out = tmp_path_factory.mktemp("median_rate")
    summary = build(sources=MEDIAN_RATE / "sources", ontology=ROOT / "ontology", shapes=ROOT / "shapes",
                    corpus=MEDIAN_RATE / "corpus", out=out, log=lambda _: None)
    assert summary.ok
    return EmbeddedStore.open(summary.release)


def test_median_rate_rules_on_the_fixture(median_rate_store):
    rows = ask(median_rate_store, "median_rate_inconsistencies")
    found = {(r["studyLabelA"], r["rule"], None if r["medianMonths"] is None else D(str(r["medianMonths"])).quantize(D("0.1")),
              D(str(r["timePointMonths"])), D(str(r["rate"]))) for r in rows}
    assert found == {
        ("Example 2022", "rate below 50 %, median later", None, D(36), D(40)),        # not reached, 40 % at 3 years
        ("Example 2023", "rate below 50 %, median later", D("72.0"), D(60), D(35)),   # 6 years, 35 % at 5 years
        ("Example 2025", "rate above 50 %, median earlier", D("18.4"), D(24), D(60))}  # 80 weeks, 60 % at 2 years
    # Example 2024 holds: median 2 years (24 months) with 45 % alive at 3 years
    assert "Example 2024" not in {r["studyLabelA"] for r in rows}
    assert {r["valueTextA"] for r in rows if r["studyLabelA"] == "Example 2022"} == {"not reached"}


def test_disagreements_scope_any_keeps_a_pair_within_one_document(engine):
    pair = ("bclm-review-zh/ruiz2018-a-os-5y", "bclm-review-zh/ruiz2018-b-os-5y")   # Table 1's two Ruiz 2018 rows
    def pairs(scope):
        return {(r["claimA"].rsplit("/claim/", 1)[1], r["claimB"].rsplit("/claim/", 1)[1])
                for r in ask(engine, "disagreements", scope=scope)}
    assert pair in pairs("any") and pair not in pairs("across_documents")
    # the pairs of figures across documents are some of those in any place (a pair of figures is one
    # row, shown by its own claims where it can be: 57% v 30.9% by 003's two rows, not by 001's copy)
    def figures(scope):
        return {frozenset((r["figureA"], r["figureB"])) for r in ask(engine, "disagreements", scope=scope)}
    assert figures("across_documents") <= figures("any")
