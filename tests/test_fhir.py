"""FHIR R5 Evidence from the real release, validated with the `fhir.resources` R5 models.

Figures are the documents' own: ueno2022 (001) Table 1 (MF07-01) and Table 2 (Ruiz 2018) and its
paragraph on the Tsukioki meta-analysis; greco2026 (000) Table 2 (microwave ablation); chan2017
(004) Results, paragraph 5.
"""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

pytest.importorskip("fhir.resources")
from fhir.resources.bundle import Bundle  # noqa: E402
from fhir.resources.evidence import Evidence  # noqa: E402

from kg import fhir  # noqa: E402
from kg.errors import KGError  # noqa: E402
from kg.export import claim_rows  # noqa: E402
from kg.model import FIELDS  # noqa: E402
from kg.store import open_store  # noqa: E402

CLAIM = "https://w3id.org/bcmkg/id/claim/"
NCIT = fhir.SYSTEMS["NCIT"]
DOCS = Path(__file__).resolve().parent.parent / "docs" / "fhir.md"


@pytest.fixture(scope="module")
def resource(release):
    def get(claim: str) -> Evidence:
        data = fhir.claim_resource(release, CLAIM + claim)
        return Evidence.model_validate(data)
    return get


def _codes(concept) -> set[tuple[str, str]]:
    return {(c.system, c.code) for c in concept.coding or []}


def _estimate(stat, text: str):
    return next(e for e in stat.attributeEstimate if e.type.text == text)


def _contained(ev: Evidence, rid: str):
    return next(c for c in ev.contained if c.id == rid)


def test_rate_at_a_time_point(resource):
    # greco2026 Table 2: microwave ablation, 5-year OS 89 %, n = 17 (Vogl 2023)
    ev = resource("greco2026/t2-mwa-os5")
    stat = ev.statistic[0]
    assert (NCIT, "C25463") not in _codes(stat.statisticType)          # rate: no verified code, ours only
    assert (fhir.VOCAB, "RateAtTimePoint") in _codes(stat.statisticType)
    assert (float(stat.quantity.value), stat.quantity.unit, stat.quantity.code) == (89, "percent", "%")
    assert stat.sampleSize.numberOfParticipants == 17
    outcome = _contained(ev, "outcome").characteristic[0]
    assert (NCIT, "C125201") in _codes(outcome.definitionCodeableConcept)            # overall survival
    when = outcome.timeFromEvent[0].quantity
    assert (float(when.value), when.code) == (5, "a")
    assert (NCIT, "C36302") in _codes(_contained(ev, "population").characteristic[0].valueCodeableConcept)
    assert ev.relatedArtifact[0].label == "Table 2, row 'Microwave ablation', column '5-year OS (%)'"


def test_median(resource):
    # ueno2022 Table 2: Ruiz 2018, median OS 74 months after resection (n = 139), p < 0.001
    ev = resource("ueno2022/t2-ruiz-os-surgery")
    stat = ev.statistic[0]
    assert (NCIT, "C28007") in _codes(stat.statisticType)
    assert (float(stat.quantity.value), stat.quantity.code) == (74, "mo")
    assert stat.sampleSize.numberOfParticipants == 139
    p = _estimate(stat, "p-value")
    assert (float(p.quantity.value), p.quantity.comparator) == (0.001, "<")
    roles = [d.variableRole.coding[0].code for d in ev.variableDefinition]
    assert roles == ["population", "exposure", "referenceExposure", "measuredVariable"]
    assert _contained(ev, "comparator").title == "systemic therapy alone"


def test_hazard_ratio_with_ci(resource):
    # ueno2022 Table 1: MF07-01 (Soran 2018), OS HR 0.66 [0.49-0.88], p 0.005, 278 patients
    ev = resource("ueno2022/t1-mf-os-hr")
    stat = ev.statistic[0]
    assert {(NCIT, "C93150"), (fhir.SYSTEMS["STATO"], "STATO:0000677")} <= _codes(stat.statisticType)
    assert float(stat.quantity.value) == 0.66 and stat.quantity.code == "1"
    ci = _estimate(stat, "confidence interval")
    assert (NCIT, "C53324") in _codes(ci.type)
    assert (float(ci.level), float(ci.range.low.value), float(ci.range.high.value)) == (0.95, 0.49, 0.88)
    assert (NCIT, "C44185") in _codes(_estimate(stat, "p-value").type)
    assert stat.sampleSize.numberOfParticipants == 278
    assert (fhir.SYSTEMS["OBI"], "OBI:0004001") in _codes(ev.studyDesign[0])        # randomized clinical trial


def test_odds_ratio(resource):
    # ueno2022, de novo MBC paragraph: Tsukioki meta-analysis of 12 retrospective studies, OR 0.65 (0.59-0.72)
    stat = resource("ueno2022/tsukioki-os-or").statistic[0]
    assert (NCIT, "C16932") in _codes(stat.statisticType)
    ci = _estimate(stat, "confidence interval")
    assert (float(stat.quantity.value), float(ci.range.low.value), float(ci.range.high.value)) == (0.65, 0.59, 0.72)


def test_count_and_proportion(resource):
    # chan2017 Results paragraph 5: death in 7 of the 13 women
    count = resource("chan2017/r-deaths").statistic[0]
    assert (NCIT, "C25463") in _codes(count.statisticType)
    assert (float(count.quantity.value), count.quantity.unit, count.sampleSize.numberOfParticipants) == (
        7, "patients", 13)
    # ueno2022 Table 1: MF07-01 locoregional progression 1 % with surgery vs 11 % without, p 0.001
    prop = resource("ueno2022/t1-mf-lrp-lrt").statistic[0]
    assert (NCIT, "C44256") in _codes(prop.statisticType)
    assert (float(prop.quantity.value), prop.quantity.code) == (1, "%")
    assert float(_estimate(prop, "p-value").quantity.value) == 0.001


def test_hazard_ratio_round_trips(release):
    data = fhir.claim_resource(release, CLAIM + "ueno2022/t1-mf-os-hr")
    back = json.loads(Evidence.model_validate(data).model_dump_json())
    stat = back["statistic"][0]
    assert stat["quantity"]["value"] == 0.66
    ci = next(e for e in stat["attributeEstimate"] if e["type"]["text"] == "confidence interval")
    assert (ci["level"], ci["range"]["low"]["value"], ci["range"]["high"]["value"]) == (0.95, 0.49, 0.88)
    p = next(e for e in stat["attributeEstimate"] if e["type"]["text"] == "p-value")
    assert p["quantity"]["value"] == 0.005 and "comparator" not in p["quantity"]
    printed = {e["url"].rsplit("/", 1)[-1]: e.get("valueString") for e in back["extension"]}
    assert (printed["valueAsPrinted"], printed["ciLowerAsPrinted"], printed["ciUpperAsPrinted"],
            printed["pValueAsPrinted"]) == ("0.66", "0.49", "0.88", "0.005")
    assert back["url"] == CLAIM + "ueno2022/t1-mf-os-hr"
    assert back["relatedArtifact"][0]["document"]["url"] == "https://doi.org/10.3389/fonc.2022.910544"

@pytest.mark.slow

def test_every_exported_resource_validates(release, tmp_path):
    bundles, resources = fhir.write_fhir(release, tmp_path)
    outcome = [r for r in claim_rows(release) if r["kind"] == "outcome"]
    assert (bundles, resources) == (5, len(outcome))
    for path in sorted((tmp_path / "evidence").glob("*.json")):
        Evidence.model_validate_json(path.read_text(encoding="utf-8"))
    total = 0
    for path in sorted(tmp_path.glob("*.bundle.json")):
        bundle = Bundle.model_validate_json(path.read_text(encoding="utf-8"))
        total += len(bundle.entry)
        assert all(e.fullUrl.startswith(CLAIM) for e in bundle.entry)
    assert total == len(outcome)


def test_codes_come_only_from_verified_mappings(release, tmp_path):
    fhir.write_fhir(release, tmp_path)
    verified = {(s, c) for codings in fhir.load_codes().values() for s, c, _ in codings}
    allowed_systems = {fhir.VOCAB, fhir.UCUM, fhir.ROLE}
    text = "\n".join(p.read_text(encoding="utf-8") for p in (tmp_path / "evidence").glob("*.json"))
    seen = set()
    for obj in re.finditer(r'"system": "([^"]+)",\s*"code": "([^"]+)"', text):
        system, code = obj.groups()
        seen.add(system)
        assert system in allowed_systems or (system, code) in verified, (system, code)
    assert NCIT in seen and fhir.VOCAB in seen
    # a broadMatch is never sent: MONDO:1040026 is only a broad match of brain metastasis
    assert "MONDO:1040026" not in text


def test_from_a_store_is_the_same_as_from_the_release(release):
    """What kg serve gets from its store equals the export, printed figures included (the store says
    0.6 for the printed 0.60 of Lu 2018's CI; the printed twin keeps it)."""
    store = open_store(release)
    outcome = [r["claim_iri"] for r in claim_rows(release) if r["kind"] == "outcome"]
    differ = [c for c in outcome if fhir.claim_resource(store, c) != fhir.claim_resource(release, c)]
    assert not differ
    lu = fhir.claim_resource(store, CLAIM + "ueno2022/lu-os-hr")
    assert {"url": fhir.VOCAB + "ciLowerAsPrinted", "valueString": "0.60"} in lu["extension"]


def test_a_term_without_a_label_reads_the_same_from_a_store_as_from_the_release(release):
    """One row builder (kg.export.claim_row) for both: a term whose label is gone shows its local
    name in the export and in the Evidence kg serve builds from its store alike."""
    import pyoxigraph as ox

    from kg.export import RDFS_LABEL, read_release
    from kg.store import EmbeddedStore
    liver = fhir.VOCAB + "LiverMetastasis"
    mem = ox.Store()
    mem.bulk_load(path=str(release / "graph.nq"), format=ox.RdfFormat.N_QUADS)
    for quad in list(mem.quads_for_pattern(ox.NamedNode(liver), ox.NamedNode(RDFS_LABEL), None)):
        mem.remove(quad)
    data = read_release(release)
    del data[liver][RDFS_LABEL]
    claim = CLAIM + "sen2024/abs-dfs-median"          # 002, Abstract: median DFS 36 months, liver
    exported = next(r for r in claim_rows(release, data) if r["claim_iri"] == claim)
    from_store = fhir._row_from_store(EmbeddedStore(mem), claim)
    assert exported["site"] == from_store["site"] == "LiverMetastasis"
    assert from_store == exported and exported["value"] == "36"


def test_a_retracted_claim_is_retired_and_points_to_its_successor(release):
    row = dict(next(r for r in claim_rows(release) if r["claim_iri"] == CLAIM + "ueno2022/t1-mf-os-hr"))
    row.update(retracted_on="2026-01-31", superseded_by=CLAIM + "ueno2022/t1-mf-os-hr-2",
               retraction_reason="re-read from the table")
    ev = Evidence.model_validate(fhir.evidence_resource(row, {"title": "Ueno 2022"}))
    assert ev.status == "retired" and ev.note[0].text == "re-read from the table"
    assert any(a.type == "replaced-with" and a.resource == CLAIM + "ueno2022/t1-mf-os-hr-2" for a in ev.relatedArtifact)
    assert any(e.url.endswith("/retractedOn") and e.valueString == "2026-01-31" for e in ev.extension)


def test_a_curators_reading_is_said_not_applied(release):
    # bclm-review-zh Table 1: Vogl 2023 LITT median OS printed 264 (the OCR lost the point), read as 26.4
    ev = Evidence.model_validate(fhir.claim_resource(release, CLAIM + "bclm-review-zh/vogl2023-litt-os-median"))
    stat = ev.statistic[0]
    assert float(stat.quantity.value) == 264 and stat.note[0].text == "printed 264; read by the curator as 26.4"
    assert any(e.url.endswith("/interpretedValue") and e.valueString == "26.4" for e in ev.extension)


def test_an_evidence_level_becomes_certainty(release):
    row = dict(next(r for r in claim_rows(release) if r["claim_iri"] == CLAIM + "ueno2022/t1-mf-os-hr"))
    if not row.get("evidence_level_iri"):      # a release without levels: a randomised trial of 278 is level 2
        row.update(evidence_level_iri=fhir.VOCAB + "EvidenceLevel2", evidence_level="OCEBM level 2",
                   evidence_rationale="randomized controlled trial of 278 patients")
    ev = Evidence.model_validate(fhir.evidence_resource(row, {}))
    rating = ev.certainty[0].rating
    assert (fhir.VOCAB, "EvidenceLevel2") in _codes(rating) and ev.certainty[0].note[0].text
    row.update(evidence_level_iri=fhir.VOCAB + "EvidenceLevelNotStated", evidence_level="evidence level not stated")
    assert "certainty" not in fhir.evidence_resource(row, {})


def test_only_outcome_claims(release):
    characteristic = next(r for r in claim_rows(release) if r["kind"] == "characteristic")
    with pytest.raises(KGError, match="not an outcome claim"):
        fhir.claim_resource(release, characteristic["claim_iri"])


def test_docs_map_every_field_of_the_claim_model():
    text = DOCS.read_text(encoding="utf-8")
    rows = set(re.findall(r"^\| `([a-z_]+)` \|", text, flags=re.MULTILINE))
    assert {f.key for f in FIELDS} <= rows, {f.key for f in FIELDS} - rows
    assert set(fhir.MAPPING) <= rows


def test_cli_export_fhir(release, tmp_path, capsys):
    from kg.cli import main
    assert main(["export", "fhir", "--release", str(release), "--out", str(tmp_path)]) == 0
    assert "5 Bundle(s)" in capsys.readouterr().out
    bundle = json.loads((tmp_path / "ueno2022.bundle.json").read_text(encoding="utf-8"))
    assert bundle["resourceType"] == "Bundle" and bundle["type"] == "collection"
