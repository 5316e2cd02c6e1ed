"""The curated graph against the documents: specific figures, with their exact printed value,
unit, time point, study and locator, chosen across tables and running text of each document."""
from __future__ import annotations

B = "https://w3id.org/bcmkg/"
PREFIXES = f"""PREFIX bcmkg: <{B}vocab/> PREFIX bcd: <{B}id/> PREFIX prov: <http://www.w3.org/ns/prov#>
PREFIX oa: <http://www.w3.org/ns/oa#> PREFIX xsd: <http://www.w3.org/2001/XMLSchema#>"""


def find(store, doc: str, study: str, endpoint: str | None = None, **where) -> list[dict]:
    """Claims of one document about one study, with every property as a lexical string."""
    filters = [f"?c prov:wasDerivedFrom <{B}id/document/{doc}> ; bcmkg:aboutStudy <{B}id/study/{study}> ."]
    if endpoint:
        filters.append(f"?c bcmkg:endpoint|bcmkg:factor bcmkg:{endpoint} .")
    for prop, term in where.items():
        filters.append(f"?c bcmkg:{prop} bcmkg:{term} .")
    q = PREFIXES + " SELECT ?c ?p ?o WHERE { " + " ".join(filters) + " ?c ?p ?o }"
    claims: dict[str, dict] = {}
    for row in store.query(q, use_default_graph_as_union=True):
        c = claims.setdefault(row["c"].value, {"iri": row["c"].value})
        c.setdefault(row["p"].value.rsplit("/", 1)[-1], []).append(row["o"].value)
    return list(claims.values())


def one(store, doc, study, endpoint=None, *, value=None, low=None, high=None, unit=None, time_point=None,
        time_unit=None, locator=None, **where) -> dict:
    """Exactly the claim(s) with this printed value; assert unit, time point and locator."""
    hits = []
    for c in find(store, doc, study, endpoint, **where):
        if value is not None and c.get("valueAsPrinted") != [value]:
            continue
        if low is not None and (c.get("valueLowAsPrinted") != [low] or c.get("valueHighAsPrinted") != [high]):
            continue
        if time_point is not None and c.get("timePoint") != [time_point]:
            continue
        hits.append(c)
    assert hits, f"no claim in {doc} about {study} {endpoint} = {value or (low, high)} {where}"
    for c in hits:
        if unit:
            assert c["unit"] == [f"{B}vocab/{unit}"], c
        if time_unit:
            assert c["timePointUnit"] == [f"{B}vocab/{time_unit}"], c
        assert c["locator"] and c["evidence"], c
    if locator:
        assert any(locator in c["locator"][0] for c in hits), [c["locator"] for c in hits]
    return hits[0]


# --- document 000: Greco 2026 narrative review ------------------------------------------------

def test_000_vogl_table2(store):
    one(store, "greco2026", "vogl2023", "OverallSurvival", value="89", unit="Percent", time_point="5",
        time_unit="Year", locator="Table 2", modality="MicrowaveAblation")
    one(store, "greco2026", "vogl2023", "OverallSurvival", value="5.6", unit="Year", locator="Table 2",
        modality="MicrowaveAblation", statisticType="Median")
    one(store, "greco2026", "vogl2023", "OverallSurvival", value="0.8", unit="Year", locator="Table 2",
        modality="TransarterialChemoembolization", statisticType="Median")
    one(store, "greco2026", "vogl2023", "OverallSurvival", value="15", unit="Percent", time_point="5",
        modality="LITTPlusTACE", locator="Table 2")
    one(store, "greco2026", "vogl2023", "OverallSurvival", value="22", unit="Percent", time_point="5",
        modality="LaserInterstitialThermalTherapy")


def test_000_liver_resection_table1_and_text(store):
    one(store, "greco2026", "libreast", "OverallSurvival", value="60", unit="Percent", time_point="5",
        locator="Table 1")
    one(store, "greco2026", "libreast", "DiseaseFreeSurvival", value="29", unit="Percent", time_point="5")
    one(store, "greco2026", "masuda2024", "OverallSurvival", value="49", unit="Month", statisticType="Median")
    one(store, "greco2026", "sunden2020", "OverallSurvival", value="77", unit="Month", statisticType="Median")
    table1 = [c for c in find(store, "greco2026", "libreast", "OverallSurvival", statisticType="RateAtTimePoint")
              if "Table 1" in c["locator"][0]]
    assert table1 and all(c["subtype"] == [f"{B}vocab/HRPositiveHER2Positive"] and
                          c["subtypeBasis"] == [f"{B}vocab/SubtypeBasisFavourablePredictor"] for c in table1)


def test_000_lung(store):
    one(store, "greco2026", "meng2021", "OverallSurvival", value="96.9", unit="Percent", time_point="1",
        time_unit="Year", modality="MicrowaveAblation")
    one(store, "greco2026", "meng2021", "OverallSurvival", value="17.8", unit="Percent", time_point="5",
        locator="Table 3")
    one(store, "greco2026", "meng2021", "TechnicalSuccess", value="100", unit="Percent")
    one(store, "greco2026", "franceschini2024", "LocalControl", value="91", unit="Percent", time_point="2",
        modality="StereotacticBodyRadiotherapy")
    one(store, "greco2026", "handy2019", "ThirtyDayMortality", value="1.1", unit="Percent")
    one(store, "greco2026", "handy2019", "OverallSurvival", value="38", unit="Percent", time_point="3")


def test_000_biology_and_discordance(store):
    one(store, "greco2026", "sunden2023", "ReceptorDiscordance", value="33", unit="Percent",
        biomarker="ProgesteroneReceptor")
    one(store, "greco2026", "sunden2023", "SubtypeConversion", value="21", unit="Percent")
    one(store, "greco2026", "wang2024", value="0.72", statisticType="ConcordanceIndex")


# --- document 001: Ueno 2022 mini review ------------------------------------------------------

def test_001_randomised_trials(store):
    c = one(store, "ueno2022", "mf07-01", "OverallSurvival", value="46", unit="Month", statisticType="Median")
    one(store, "ueno2022", "badwe2015", "OverallSurvival", value="19.2", unit="Month", statisticType="Median")
    one(store, "ueno2022", "abcsg-28", "OverallSurvival", value="34.6", unit="Month", statisticType="Median")
    hr = one(store, "ueno2022", "e2108", "OverallSurvival", value="1.11", statisticType="HazardRatio",
             locator="Table 1")
    assert (hr["ciLowerAsPrinted"], hr["ciUpperAsPrinted"], hr["ciLevel"]) == (["0.82"], ["1.52"], ["90"])
    assert "0.005" in c.get("pValue", []) or any(
        "0.005" in x.get("pValue", []) for x in find(store, "ueno2022", "mf07-01", "OverallSurvival"))


def test_001_meta_analyses_and_sabr(store):
    c = one(store, "ueno2022", "lu2018", "OverallSurvival", value="0.65", statisticType="HazardRatio")
    assert (c["ciLowerAsPrinted"], c["ciUpperAsPrinted"]) == (["0.60"], ["0.71"])
    one(store, "ueno2022", "sabr-comet", "OverallSurvival", value="42.3", unit="Percent", time_point="5")
    one(store, "ueno2022", "fan2015", "OverallSurvival", value="46", unit="Percent", time_point="5")


def test_001_metastasis_resection_table2(store):
    one(store, "ueno2022", "ruiz2018", "OverallSurvival", value="82", unit="Month", locator="Table 2")
    one(store, "ueno2022", "ruiz2018", "OverallSurvival", value="69", unit="Percent", time_point="5")
    one(store, "ueno2022", "mariani2013", "OverallSurvival", value="80.7", unit="Percent", time_point="3")
    one(store, "ueno2022", "yhim2010", "OverallSurvival", value="82.1", unit="Percent", time_point="4")
    one(store, "ueno2022", "staren1992", "OverallSurvival", value="36", unit="Percent", time_point="5")
    one(store, "ueno2022", "sadot2016", "OverallSurvival", value="50", unit="Month", locator="Table 2")


# --- document 002: Sen 2024 case series -------------------------------------------------------

def test_002_survival_rates(store):
    for endpoint, tp, value in [("ProgressionFreeSurvival", "2", "82"), ("ProgressionFreeSurvival", "3", "69"),
                                ("OverallSurvival", "2", "92"), ("OverallSurvival", "3", "82")]:
        one(store, "sen2024", "sen2024", endpoint, value=value, unit="Percent", time_point=tp, time_unit="Year")


def test_002_medians_with_ranges(store):
    one(store, "sen2024", "sen2024", "DiseaseFreeSurvival", value="36", unit="Month", statisticType="Median")
    ranged = [c for c in find(store, "sen2024", "sen2024", "DiseaseFreeSurvival", statisticType="Median")
              if c.get("minAsPrinted") == ["18"]]
    assert ranged and all(c["maxAsPrinted"] == ["72"] for c in ranged)
    one(store, "sen2024", "sen2024", "ProgressionFreeSurvival", value="27", unit="Month", statisticType="Median")
    one(store, "sen2024", "sen2024", "OverallSurvival", value="30", unit="Month", statisticType="Median")


def test_002_table2_hazard_ratios(store):
    ki = one(store, "sen2024", "sen2024", "Ki67Index", value="1.04", locator="Table II")
    assert (ki["ciLowerAsPrinted"], ki["ciUpperAsPrinted"], ki["pValueAsPrinted"]) == (["1.002"], ["1.07"], ["0.038"])
    one(store, "sen2024", "sen2024", "HistologicalGrade", value="7.47", locator="Table II")


def test_002_cited_studies(store):
    one(store, "sen2024", "vertriest2015", "OverallSurvival", value="78", unit="Percent", time_point="5")
    one(store, "sen2024", "sunden2020", "OverallSurvival", value="77", unit="Month")


# --- document 003: Chinese review (OCR) -------------------------------------------------------

def test_003_international_table(store):
    one(store, "bclm-review-zh", "vertriest2015", "OverallSurvival", value="78", unit="Percent", time_point="5",
        modality="HepaticResection")
    one(store, "bclm-review-zh", "sabol2014", "OverallSurvival", value="67", unit="Percent", time_point="3")
    one(store, "bclm-review-zh", "gordon2014", "OverallSurvival", value="6.6", unit="Month",
        modality="SelectiveInternalRadiationTherapy")
    one(store, "bclm-review-zh", "veltri2014", "OverallSurvival", value="44", unit="Percent", time_point="3",
        modality="RadiofrequencyAblation")
    one(store, "bclm-review-zh", "ruiz2018", "OverallSurvival", value="30.9", unit="Percent", time_point="5")


def test_003_printed_values_kept_with_interpretation(store):
    c = one(store, "bclm-review-zh", "schullian2021", "OverallSurvival", value="322", unit="Month")
    assert c["interpretedValue"] == ["32.2"] and c["confidence"] != ["high"]


# --- document 004: Chan 2017 metastasectomy series --------------------------------------------

def test_004_patient_cases(store):
    q = PREFIXES + """ SELECT ?n ?site ?op ?os WHERE {
      ?case a bcmkg:PatientCase ; bcmkg:patientNumber ?n ; bcmkg:metastaticSite ?site ; bcmkg:modality ?op .
      ?c bcmkg:patientCase ?case ; bcmkg:endpoint bcmkg:OverallSurvival ; bcmkg:valueAsPrinted ?os } ORDER BY ?n"""
    rows = {int(r["n"].value): (r["site"].value.rsplit("/", 1)[-1], r["op"].value.rsplit("/", 1)[-1], r["os"].value)
            for r in store.query(q, use_default_graph_as_union=True)}
    assert len(rows) == 13
    assert rows[1][2] == "52.97" and rows[13] == (rows[13][0], "RoboticLobectomy", "336.80")
    assert rows[10][2] == "173.93" and rows[3][1] == "Craniotomy"
    assert sum(1 for site, op, os in rows.values() if op in ("Craniotomy", "AwakeCraniotomy")) == 5


def test_004_series_figures(store):
    c = one(store, "chan2017", "chan2017", "OverallSurvival", value="74.70", unit="Month", statisticType="Median")
    assert (c.get("minAsPrinted"), c.get("maxAsPrinted")) == (["32.07"], ["336.80"])
    one(store, "chan2017", "chan2017", "FollowUpDuration", value="108.10", unit="Month")
    one(store, "chan2017", "chan2017", "SurvivalAfterMetastasectomy", value="30.57", unit="Month")
