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
    # the paper's DFS runs from treatment of the breast cancer to the first liver metastasis (Methods): a
    # disease-free interval, not survival free of disease after the liver procedure
    one(store, "sen2024", "sen2024", "DiseaseFreeIntervalEndpoint", value="36", unit="Month", statisticType="Median")
    ranged = [c for c in find(store, "sen2024", "sen2024", "DiseaseFreeIntervalEndpoint", statisticType="Median")
              if c.get("minAsPrinted") == ["18"]]
    assert ranged and all(c["maxAsPrinted"] == ["72"] for c in ranged)
    # Table I: the median of 36 months is over the 11 patients whose metastasis recurred (one was de novo)
    t1 = one(store, "sen2024", "sen2024", "DiseaseFreeIntervalEndpoint", value="36", locator="Table I")
    assert t1["sampleSize"] == ["11"]
    assert not find(store, "sen2024", "sen2024", "DiseaseFreeSurvival")
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
    # Discussion, brain metastasis: recurrence beside the resection site in one of the 5 patients
    brain = one(store, "chan2017", "chan2017", "LocalProgression", value="1", unit="Patients",
                metastaticSite="BrainMetastasis")
    assert brain["sampleSize"] == ["5"] and brain["modality"] == [f"{B}vocab/Craniotomy"]


def test_004_background_figure_is_the_cited_studys(store):
    # Background: median survival 2 to 4 years, the sentence closed by citation 3 (Leung 2010)
    c = one(store, "chan2017", "leung2010", "OverallSurvival", low="2", high="4", unit="Year", statisticType="Median")
    assert c["iri"].endswith("/chan2017/bg-mbc-os")
    assert not find(store, "chan2017", "chan2017", "OverallSurvival", metastaticSite="MetastaticBreastCancer",
                    unit="Year")


# --- numeric cut-offs of prognostic factors (issue 11) ------------------------------------------

def _cutoff_rows(disk_store, **params) -> dict[str, dict]:
    from kg.query import run, to_rows
    rows = to_rows(run("prognostic_factors", {"endpoint": "Endpoint", **params}, disk_store))
    return {r["claim"].rsplit("/claim/", 1)[1]: r for r in rows}


def test_prognostic_factor_cutoffs_are_number_unit_and_comparison(disk_store):
    from decimal import Decimal as D
    dfi = _cutoff_rows(disk_store, factor="DiseaseFreeInterval")
    # 001, Section 'Surgery for Pulmonary Metastases': Fan 2015's meta-analysis, "a short
    # disease-free interval (< 3 years)"; Yhim 2010, "short disease-free interval (<24 months)"
    fan = dfi["ueno2022/fan-pf-dfi"]
    assert (D(str(fan["cutoff"])), fan["cutoffUnitLabel"], fan["cutoffComparison"]) == (D(3), "year", "<")
    assert fan["studyLabel"] == "Fan 2015 (meta-analysis)" and fan["cutoffText"] == "< 3 year"
    yhim = dfi["ueno2022/yhim-pf-dfi"]
    assert (D(str(yhim["cutoff"])), yhim["cutoffUnitLabel"], yhim["cutoffComparison"]) == (D(24), "month", "<")
    # 000 Table 1, Masuda: "Disease-free interval >12 months"; 000 lung section, Handy 2019:
    # "greater than 12–24 months", a threshold printed as a range
    masuda = dfi["greco2026/t1-masuda-pred-dfi"]
    assert (D(str(masuda["cutoff"])), masuda["cutoffUnitLabel"], masuda["cutoffComparison"]) == (D(12), "month", ">")
    handy = dfi["greco2026/lung-dfi-handy"]
    assert handy.get("cutoff") is None and (D(str(handy["cutoffLow"])), D(str(handy["cutoffHigh"]))) == (D(12), D(24))
    assert (handy["cutoffUnitLabel"], handy["cutoffComparison"], handy["cutoffText"]) == ("month", ">", "> 12-24 month")
    # 002 Discussion: Hoffmann, "over one year" (a number in words); Sen 2024's own finding, liver
    # metastasis "in 3 years" worse, "after three years" better
    hoffmann = dfi["sen2024/disc-hoffmann-dfi"]
    assert (D(str(hoffmann["cutoff"])), hoffmann["cutoffUnitLabel"], hoffmann["cutoffComparison"]) == (D(1), "year", ">")
    assert dfi["sen2024/res-dfi3y-pfs"]["cutoffComparison"] == "<=" and dfi["sen2024/res-dfi3y-pfs"]["pValue"] is not None
    assert dfi["sen2024/concl-dfi3y-pfs"]["cutoffComparison"] == ">"
    # 002 Discussion, Rashid 2021: "solitary metastasis less than 4-5 cm in diameter"
    size = _cutoff_rows(disk_store, factor="TumourSize")["sen2024/disc-size-cutoff"]
    assert (D(str(size["cutoffLow"])), D(str(size["cutoffHigh"])), size["cutoffUnitLabel"], size["cutoffComparison"]) \
        == (D(4), D(5), "centimetre", "<")
    # a factor without a stated threshold has none
    assert dfi["greco2026/liver-factor-dfi"]["cutoffText"] == "" and dfi["greco2026/liver-factor-dfi"].get("cutoff") is None
    # the factor parameter includes no other factor
    assert {r["factorLabel"] for r in dfi.values()} == {"length of disease-free interval"}


def test_every_cutoff_is_printed_in_its_span_and_every_cut_off_value_has_one():
    """The build checks value, range ends, CI and p against the span (kg/spans.py); the cut-off
    numbers are checked here the same way, and a claim whose statistic is a cut-off value carries it."""
    from pathlib import Path

    from kg.ontology.terms import load_terms
    from kg.records import as_number
    from kg.sources import load_source
    from kg.spans import holds
    root = Path(__file__).resolve().parent.parent
    corpus = root.parent / "shared" / "corpus"
    terms = load_terms(root / "ontology")
    with_cutoff = 0
    for path in sorted((root / "sources").glob("*.yaml")):
        source = load_source(path, terms)
        text = (corpus / source.document.corpus_file).read_text(encoding="utf-8") if corpus.is_dir() else None
        for c in source.claims:
            numbers = [(k, c.values[k]) for k in ("cutoff", "cutoff_low", "cutoff_high") if c.values.get(k) is not None]
            if c.values.get("statistic") == "CutOffValue":
                assert numbers, f"{source.document.id}:{c.id} is a cut-off value without a cutoff"
            if not numbers:
                continue
            with_cutoff += 1
            assert c.values.get("cutoff_unit") and c.values.get("cutoff_comparison"), c.id
            if text is not None:
                excerpt = text[c.span[0]:c.span[1]]
                for key, number in numbers:
                    value = as_number(number)
                    assert value is not None and holds(excerpt, value), (source.document.id, c.id, key, excerpt)
    assert with_cutoff == 14
