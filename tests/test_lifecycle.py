"""The curator's lifecycle on the tiny dataset: a retracted claim stays in the release but named
queries leave it out unless asked; the export marks it."""
from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from kg.build import build
from kg.errors import InputError
from kg.export import export_claims
from kg.query import run
from kg.store import EmbeddedStore

ROOT = Path(__file__).resolve().parent.parent
TINY = ROOT / "tests" / "data" / "tiny"
RETRACT = "    locator: paragraph 3\n    span: [", "    retracted: 2026-11-30\n    retraction_reason: a made-up retraction\n"


def _sources(tmp_path: Path, edit) -> Path:
    folder = tmp_path / "sources"
    folder.mkdir()
    text = (TINY / "sources" / "000_tiny.yaml").read_text(encoding="utf-8")
    (folder / "000_tiny.yaml").write_text(edit(text), encoding="utf-8")
    return folder


def _retract_hazard_ratio(text: str) -> str:
    head, hazard = text.split("  - id: hr-hazard\n")
    return head + "  - id: hr-hazard\n" + hazard.replace("    locator:", RETRACT[1] + "    locator:", 1)


@pytest.fixture(scope="module")
def retracted_release(tmp_path_factory) -> Path:
    tmp = tmp_path_factory.mktemp("lifecycle")
    sources = _sources(tmp, _retract_hazard_ratio)
    return build(sources=sources, ontology=ROOT / "ontology", shapes=ROOT / "shapes", corpus=TINY / "corpus",
                 out=tmp / "build", log=lambda _: None).release


def test_a_retracted_claim_is_left_out_unless_asked(retracted_release):
    store = EmbeddedStore.open(retracted_release)
    default = run("hazard_ratios", {}, store)
    asked = run("hazard_ratios", {"include_retracted": "true"}, store)
    iri = "https://w3id.org/bcmkg/id/claim/tiny/hr-hazard"
    assert not any(iri in str(v) for r in default.rows for v in r.values())
    assert any(iri in str(v) for r in asked.rows for v in r.values())
    assert store.ask(f"ASK {{ <{iri}> <https://w3id.org/bcmkg/vocab/retractedOn> ?d }}")


def test_the_export_marks_it(retracted_release):
    rows = {r["claim_id"]: r for r in csv.DictReader(io.StringIO(export_claims(retracted_release, "csv")))}
    assert rows["hr-hazard"]["retracted_on"] == "2026-11-30"
    assert rows["hr-hazard"]["retraction_reason"] == "a made-up retraction"
    assert rows["mwa-os5"]["retracted_on"] == ""


def test_a_retraction_needs_a_reason_and_a_real_replacement(tmp_path):
    def bad(text: str) -> str:
        head, hazard = text.split("  - id: hr-hazard\n")
        return head + "  - id: hr-hazard\n" + hazard.replace("    locator:", "    superseded_by: nosuch\n    locator:", 1)
    sources = _sources(tmp_path, bad)
    with pytest.raises(InputError) as err:
        build(sources=sources, ontology=ROOT / "ontology", shapes=ROOT / "shapes", corpus=TINY / "corpus",
              out=tmp_path / "build", log=lambda _: None)
    text = str(err.value)
    assert "retraction_reason: a retracted or superseded claim needs a reason" in text
    assert "claim 'hr-hazard'.superseded_by: names no other claim of this file (value 'nosuch')" in text
