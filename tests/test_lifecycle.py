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

# whole-pipeline checks (several builds, real external tools): left out of `make test-fast`
pytestmark = pytest.mark.slow

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


def test_a_read_only_store_is_asked_for_its_retractions_once(retracted_release, monkeypatch):
    """The release's store cannot change, so which claims are retracted is asked once per store,
    not once per query (it cost as much as a lookup); a store that can change is asked each time."""
    from kg import lifecycle
    asked: list[str] = []
    real_select = EmbeddedStore.select
    monkeypatch.setattr(EmbeddedStore, "select", lambda self, sparql, bindings=None: (
        asked.append(sparql), real_select(self, sparql, bindings))[1])
    iri = "https://w3id.org/bcmkg/id/claim/tiny/hr-hazard"
    read_only = EmbeddedStore.open(retracted_release)
    for _ in range(3):
        assert not any(iri in str(v) for r in run("hazard_ratios", {}, read_only).rows for v in r.values())
    assert asked.count(lifecycle._RETRACTED) == 1
    in_memory = EmbeddedStore.from_release(retracted_release)
    run("hazard_ratios", {}, in_memory)
    run("hazard_ratios", {}, in_memory)
    assert asked.count(lifecycle._RETRACTED) == 3


def test_counts_are_of_the_current_claims(retracted_release):
    """The tiny document's 4 claims, one retracted (hr-hazard, hepatic resection, liver): the build's
    counts and the live aggregations count 3; include_retracted is for rows that name a claim."""
    store = EmbeddedStore.open(retracted_release)
    doc = {r["document"].value.rsplit("/", 1)[1]: r for r in run("claims_per_document", {}, store).rows}["tiny"]
    assert (int(doc["allClaims"].value), int(doc["outcomeClaims"].value)) == (3, 3)
    cells = {(r["modalityLabel"].value, r["siteLabel"].value): int(r["claims"].value)
             for r in run("claims_per_modality_site", {}, store).rows}
    assert cells[("hepatic resection", "breast cancer liver metastasis")] == 1      # hr-mos alone
    studies = {r["id"].value: int(r["claims"].value) for r in run("study_list", {}, store).rows}
    assert studies["example2021"] == 1
    tables = run("table_modalities", {"document": "tiny", "table": "paragraph"}, store).rows
    assert {r["modalityLabel"].value: int(r["claims"].value) for r in tables}["hepatic resection"] == 1


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


def test_diff_between_two_builds(tmp_path):
    """Two builds that differ by one added, one removed and one changed claim; the second build
    writes the changelog against the first, and `kg diff` gives the same."""
    from kg.diff import diff_releases
    out = tmp_path / "build"

    def built(date: str, edit) -> Path:
        folder = tmp_path / "sources"
        folder.mkdir(exist_ok=True)
        text = (TINY / "sources" / "000_tiny.yaml").read_text(encoding="utf-8")
        (folder / "000_tiny.yaml").write_text(edit(text), encoding="utf-8")
        return build(sources=folder, ontology=ROOT / "ontology", shapes=ROOT / "shapes", corpus=TINY / "corpus",
                     out=out, date=date, log=lambda _: None).release.resolve()

    def without_hazard(text: str) -> str:
        return text.split("  - id: hr-hazard\n")[0]

    def second(text: str) -> str:
        head, rest = text.split("  - id: mwa-os5\n")
        rest = "  - id: mwa-mos\n" + rest.split("  - id: mwa-mos\n", 1)[1]   # mwa-os5 is gone
        return head + rest.replace("    locator: paragraph 2", "    locator: paragraph 2, sentence 2", 1)

    first = built("2026-11-30", without_hazard)
    second_release = built("2026-12-01", second)
    d = diff_releases(first, second_release)
    base = "https://w3id.org/bcmkg/id/claim/tiny/"
    assert d.claims_added == [base + "hr-hazard"]
    assert d.claims_removed == [base + "mwa-os5"]
    assert list(d.claims_changed) == [base + "mwa-mos"], d.claims_changed
    assert d.claims_changed[base + "mwa-mos"]["locator"] == ["paragraph 2", "paragraph 2, sentence 2"]
    changes = (out / "release" / "changes.md").read_text(encoding="utf-8")
    assert "## Claims added (1)" in changes and "mwa-os5" in changes and "paragraph 2, sentence 2" in changes


def test_a_retired_term_fails_the_build_until_migrated(tmp_path):
    """Deprecating MicrowaveAblation (replaced by ThermalAblation): the build names every claim and
    named query still using it and fails; --allow-deprecated publishes with warnings; migrate
    rewrites the sources so the build passes."""
    import shutil

    from kg.migrate import migrate_term
    ontology = tmp_path / "ontology"
    shutil.copytree(ROOT / "ontology", ontology)
    path = ontology / "template" / "modalities.tsv"
    rows = path.read_text(encoding="utf-8").splitlines(keepends=True)
    i = next(i for i, r in enumerate(rows) if r.startswith("MicrowaveAblation\t"))
    cells = rows[i].rstrip("\n").split("\t")
    cells += [""] * (12 - len(cells))
    cells[9], cells[10], cells[11] = "true", "ThermalAblation", "a made-up retirement for this test"
    rows[i] = "\t".join(cells) + "\n"
    path.write_text("".join(rows), encoding="utf-8")
    queries = tmp_path / "queries"
    queries.mkdir()
    (queries / "mwa.rq").write_text("SELECT ?c WHERE { ?c <https://w3id.org/bcmkg/vocab/modality> "
                                    "<https://w3id.org/bcmkg/vocab/MicrowaveAblation> }\n", encoding="utf-8")
    sources = _sources(tmp_path, lambda t: t)
    kwargs = dict(sources=sources, ontology=ontology, shapes=ROOT / "shapes", corpus=TINY / "corpus",
                  out=tmp_path / "build", log=lambda _: None, queries=queries)
    with pytest.raises(InputError) as err:
        build(**kwargs)
    text = str(err.value)
    assert text.count("uses the deprecated term MicrowaveAblation, replaced by ThermalAblation") == 3
    assert "000_tiny.yaml:25: claims[0].modality" in text and "(value 'MWA')" in text
    assert "mwa.rq:1: query" in text
    warnings: list[str] = []
    build(**{**kwargs, "allow_deprecated": True, "log": warnings.append})
    assert sum("warning:" in w for w in warnings) == 3
    changes = migrate_term(sources, ontology, "MicrowaveAblation")
    assert [(line, written, new) for _, line, written, new in changes] == [(25, "MWA", "ThermalAblation"),
                                                                             (39, "MWA", "ThermalAblation")]
    assert "    modality: ThermalAblation\n" in (sources / "000_tiny.yaml").read_text(encoding="utf-8")
    with pytest.raises(InputError, match="mwa.rq:1"):          # only the query still uses it
        build(**kwargs)
    (queries / "mwa.rq").unlink()
    assert build(**kwargs).ok
