"""The claims table (`kg export claims`) on the real build: one row per claim, labels beside
IRIs, figures exactly as printed, columns as documented in docs/export.md."""
from __future__ import annotations

import csv
import io
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from kg.errors import QueryError
from kg.export import columns, export_claims

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def rows(release):
    return list(csv.DictReader(io.StringIO(export_claims(release, "csv"))))


def by_iri(rows, iri):
    hit = [r for r in rows if r["claim_iri"] == "https://w3id.org/bcmkg/id/claim/" + iri]
    assert len(hit) == 1, iri
    return hit[0]


def test_one_row_per_claim(rows, release):
    manifest = json.loads((release / "manifest.json").read_text())
    assert len(rows) == manifest["claims"]
    assert len({r["claim_iri"] for r in rows}) == len(rows)
    assert list(rows[0]) == columns()


def test_flagship_row_reads_like_the_document(rows, corpus):
    r = by_iri(rows, "greco2026/t2-mwa-os5")      # 000 Table 2, row 'Microwave ablation'
    assert (r["document"], r["doi"]) == ("000_922cf6fdf7f0a20b.txt", "10.20944/preprints202601.1478.v1")
    assert (r["study"], r["study_doi"]) == ("Vogl 2023", "10.1080/02656736.2023.2200582")
    assert (r["site"], r["site_iri"]) == ("breast cancer liver metastasis", "https://w3id.org/bcmkg/vocab/LiverMetastasis")
    assert (r["modality"], r["endpoint"], r["statistic"]) == ("microwave ablation", "overall survival", "rate at a time point")
    assert (r["value"], r["unit"], r["time_point"], r["time_point_unit"], r["n"]) == ("89", "percent", "5", "year", "17")
    assert r["subtype_basis"] == "unspecified" and r["kind"] == "outcome"
    text = (corpus / r["document"]).read_text(encoding="utf-8")
    assert "89%" in text[int(r["span_start"]):int(r["span_end"])]


def test_trailing_zero_survives(rows):
    assert by_iri(rows, "chan2017/abs-os")["value"] == "74.70"     # 004 Abstract: median OS 74.70 months


def test_hazard_ratio_row_has_ci_and_p(rows):
    hr = [r for r in rows if r["study"] == "MF07-01 (Soran 2018)" and r["statistic"] == "hazard ratio"
          and r["endpoint"] == "overall survival" and r["locator"].startswith("Table 1")]
    assert hr and (hr[0]["value"], hr[0]["ci_lower"], hr[0]["ci_upper"], hr[0]["p_value"]) == ("0.66", "0.49", "0.88", "0.005")


def test_subtype_basis_column(rows):
    r = [r for r in rows if r["study"] == "LIBREAST (Cantalejo-Díaz 2024)" and r["locator"].startswith("Table 1")
         and r["value"] == "60"]
    assert r and r[0]["subtype_basis"] == "favourable_predictor"
    assert r[0]["subtype_iri"] == "https://w3id.org/bcmkg/vocab/HRPositiveHER2Positive"


def test_json_export(release):
    data = json.loads(export_claims(release, "json"))
    row = next(d for d in data if d["claim_iri"].endswith("/greco2026/t2-mwa-os5"))
    assert row["span_start"] == 15754 and row["n"] == 17 and row["comparator"] is None
    assert row["value"] == 89 and row["value_as_printed"] == "89" and row["as_printed"]["value"] == "89"
    r = next(d for d in data if d["claim_id"] == "chan2017" or d["claim_iri"].endswith("/chan2017/abs-os"))
    assert r["value"] == 74.7 and r["as_printed"]["value"] == "74.70"


def test_numbers_and_the_reading_for_analysis(rows):
    """`value` is a number (a fraction as its decimal), the printed text is beside it, and
    `value_for_analysis` takes the curators' reading of a misprint."""
    third = [r for r in rows if r["value_as_printed"] == "1/3"]
    assert third and abs(float(third[0]["value"]) - 1 / 3) < 1e-9
    misprint = [r for r in rows if r["value_as_printed"] == "223"]
    assert misprint and misprint[0]["interpreted_value"] == "22.3" and misprint[0]["value_for_analysis"] == "22.3"
    for r in rows:
        for col in ("value", "value_for_analysis", "ci_lower", "ci_upper", "interpreted_value", "p_value"):
            if r[col]:
                float(r[col])      # every numeric cell parses
        if not r["value"] and not r["interpreted_value"]:
            assert r["value_for_analysis"] == ""


def test_columns_are_documented():
    """docs/export-columns.md is generated from the claim model and is up to date."""
    from kg.export import columns_markdown
    doc = (ROOT / "docs" / "export-columns.md").read_text(encoding="utf-8")
    assert doc == columns_markdown(), "run `kg docs` to regenerate docs/export-columns.md"
    assert re.findall(r"^\| `([a-z_]+)` \|", doc, re.MULTILINE) == columns()


def test_bad_format(release):
    with pytest.raises(QueryError, match="allowed: csv, json, parquet"):
        export_claims(release, "xlsx")


def test_cli(release, tmp_path):
    out = tmp_path / "claims.csv"
    done = subprocess.run([sys.executable, "-m", "kg.cli", "export", "claims", "--release", str(release),
                           "--output", str(out)], capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    assert out.read_text(encoding="utf-8").startswith("claim_iri,claim_id,kind,document,")


def test_cli_parquet(release, tmp_path):
    pd = pytest.importorskip("pandas")
    pytest.importorskip("pyarrow")
    out = tmp_path / "claims.parquet"
    done = subprocess.run([sys.executable, "-m", "kg.cli", "export", "claims", "--format", "parquet", "--release",
                           str(release), "--output", str(out)], capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    frame = pd.read_parquet(out)
    assert len(frame) == 845 and str(frame["value"].dtype) == "float64"
