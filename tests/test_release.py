"""Releases: kept whole per version, swapped with no moment without one, one build at a time,
and every document's own errors reported before any cross-document one."""
from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from kg.build import build
from kg.errors import ConformanceError, KGError
from kg.release import build_lock

# whole-pipeline checks (several builds, real external tools): left out of `make test-fast`
pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent
TINY = ROOT / "tests" / "data" / "tiny"


def _tiny(out: Path, date: str, sources: Path = TINY / "sources"):
    return build(sources=sources, ontology=ROOT / "ontology", shapes=ROOT / "shapes", corpus=TINY / "corpus",
                 out=out, date=date, log=lambda _: None)


def test_each_release_is_kept_whole_and_points_to_its_prior(tmp_path):
    out = tmp_path / "build"
    _tiny(out, "2026-11-30")
    os.makedirs(out / "releases" / ".release-killed")          # what a killed build leaves behind
    _tiny(out, "2026-12-01")
    assert (out / "release").is_symlink()
    current = (out / "release").resolve()
    assert current.parent == (out / "releases").resolve() and current.name.startswith("2026-12-01.")
    older = (out / "releases" / "2026-11-30").resolve()
    assert {p.name for p in older.iterdir()} >= {"graph.nq", "graph.ttl", "ontology.ttl", "manifest.json", "store"}
    manifest = json.loads((out / "release" / "manifest.json").read_text())
    assert manifest["prior_version"] == "https://w3id.org/bcmkg/releases/2026-11-30/ontology"
    assert "owl:priorVersion <https://w3id.org/bcmkg/releases/2026-11-30/ontology>" in \
        (out / "release" / "ontology.ttl").read_text()
    assert not list((out / "releases").glob(".release*")), "stale temporary folders are removed"


def test_a_rebuild_the_same_day_keeps_the_prior_and_replaces_the_day(tmp_path):
    out = tmp_path / "build"
    _tiny(out, "2026-11-30")
    _tiny(out, "2026-12-01")
    _tiny(out, "2026-12-01")
    assert json.loads((out / "release" / "manifest.json").read_text())["prior_version"].endswith("2026-11-30/ontology")
    assert len(list((out / "releases").glob("2026-12-01.*"))) == 1


def test_two_builds_at_once_are_refused(tmp_path):
    out = tmp_path / "build"
    with build_lock(out):
        with pytest.raises(KGError, match="another kg build .* is writing"):
            _tiny(out, "2026-12-01")


def test_a_span_error_is_not_masked_by_a_link_into_the_failed_document(tmp_path, corpus):
    """Changing a figure in 002 makes 002 fail its span check; 003's disagrees_with links into 002
    must not be reported as 'no such claim' in its place."""
    sources = tmp_path / "sources"
    shutil.copytree(ROOT / "sources", sources)
    path = sources / "002_sen2024.yaml"
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    start = next(i for i, line in enumerate(lines) if line.strip() == "- id: abs-n-recurrent")
    at = next(i for i in range(start, len(lines)) if lines[i].strip() == "value: 11")   # 002: 11 of 12 recurred
    lines[at] = lines[at].replace("11", "13")
    path.write_text("".join(lines), encoding="utf-8")
    with pytest.raises(ConformanceError) as err:
        build(sources=sources, ontology=ROOT / "ontology", shapes=ROOT / "shapes", corpus=corpus,
              out=tmp_path / "build", log=lambda _: None)
    text = str(err.value)
    assert f"002_sen2024.yaml:{at + 1}: claims[" in text and "].value" in text and "(value 13)" in text
    assert "no such claim" not in text
    assert not (tmp_path / "build" / "release").exists()


def test_the_merged_release_is_checked_for_what_no_single_document_shows(tmp_path):
    """Two documents give the same arm IRI two labels: each document conforms alone, the merge does not."""
    sources = tmp_path / "sources"
    sources.mkdir()
    text = (TINY / "sources" / "000_tiny.yaml").read_text(encoding="utf-8")
    arm = "    n: 40\n"
    assert arm in text
    (sources / "000_tiny.yaml").write_text(
        text.replace(arm, arm + "    arms:\n      - {id: a, label: MWA, modality: MWA}\n", 1), encoding="utf-8")
    head = text.split("studies:")[0].replace("id: tiny", "id: tiny-two")
    (sources / "001_tiny_two.yaml").write_text(
        head + "studies:\n  - id: example2020\n    label: Example 2020\n    design: RetrospectiveCohortStudy\n"
        "    arms:\n      - {id: a, label: resection, modality: HepaticResection}\n", encoding="utf-8")
    with pytest.raises(ConformanceError) as err:
        _tiny(tmp_path / "build", "2026-12-01", sources)
    text = str(err.value)
    assert "only the merged release shows" in text
    assert "shapes/merged/arm-one-label.rq" in text and "study/example2020/arm/a" in text
    assert "shapes/merged/arm-one-modality.rq" in text
    assert not (tmp_path / "build" / "release").exists()


@pytest.mark.slow
def test_a_killed_build_leaves_no_reasoner_running(tmp_path):
    """kill -9 during the HermiT run: the JVM goes with the build (PR_SET_PDEATHSIG)."""
    import subprocess
    import sys
    import time
    psutil = pytest.importorskip("psutil")
    build_proc = subprocess.Popen([sys.executable, "-m", "kg.cli", "build", "--no-corpus", "--sources",
                                   str(TINY / "sources"), "--out", str(tmp_path / "build")], cwd=ROOT,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    jvms = []
    deadline = time.monotonic() + 60
    while not jvms and time.monotonic() < deadline and build_proc.poll() is None:
        jvms = [p for p in psutil.Process(build_proc.pid).children(recursive=True) if "java" in p.name()]
        time.sleep(0.05)
    if not jvms:
        build_proc.wait()
        pytest.skip("the build finished before its reasoner could be seen")
    build_proc.kill()
    build_proc.wait()
    time.sleep(0.5)

    def running(p) -> bool:
        try:
            return p.status() != psutil.STATUS_ZOMBIE      # a zombie has ended, its exit not yet collected
        except psutil.NoSuchProcess:
            return False
    alive = [p for p in jvms if running(p)]
    for p in alive:
        p.kill()
    assert not alive, f"HermiT still running after the build was killed: {alive}"


def _sen_with(tmp_path: Path, edit) -> Path:
    sources = tmp_path / "sources"
    shutil.copytree(ROOT / "sources", sources)
    path = sources / "002_sen2024.yaml"
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    start = next(i for i, line in enumerate(lines) if line.strip() == "- id: abs-n-recurrent")
    at = next(i for i in range(start, len(lines)) if lines[i].strip() == "value: 11")
    edit(lines, at)
    path.write_text("".join(lines), encoding="utf-8")
    return sources


def test_a_value_changed_to_another_number_of_its_span_is_caught(tmp_path, corpus):
    """002 Abstract: 'Out of 12 patients, 11 ...'. 11 -> 12 still 'holds' (12 is in the span),
    but 12 is the claim's n, printed once: the value is refused."""
    def to_twelve(lines: list[str], at: int) -> None:
        lines[at] = lines[at].replace("11", "12")
    with pytest.raises(ConformanceError, match=r"claims\[\d+\]\.value: equals the claim's n \(12\), but the span "
                                               r"prints that number once"):
        build(sources=_sen_with(tmp_path, to_twelve), ontology=ROOT / "ontology", shapes=ROOT / "shapes",
              corpus=corpus, out=tmp_path / "build", log=lambda _: None)


def test_value_at_pins_the_value_to_its_place(tmp_path, corpus):
    from kg.errors import InputError
    text = (corpus / "002_04fd65fe73b32b4a.txt").read_text(encoding="utf-8")
    offset = text.index("Out of 12 patients, 11") + len("Out of 12 patients, ")

    def pinned(value: str):
        def edit(lines: list[str], at: int) -> None:
            lines[at] = lines[at].replace("value: 11", f"value: {value}\n    value_at: {offset}")
        return edit
    assert build(sources=_sen_with(tmp_path / "a", pinned("11")), ontology=ROOT / "ontology", shapes=ROOT / "shapes",
                 corpus=corpus, out=tmp_path / "a" / "build", log=lambda _: None).ok
    with pytest.raises((ConformanceError, InputError), match=rf"the number printed at offset {offset} is 11, not this value"):
        build(sources=_sen_with(tmp_path / "b", pinned("13")), ontology=ROOT / "ontology", shapes=ROOT / "shapes",
              corpus=corpus, out=tmp_path / "b" / "build", log=lambda _: None)


def test_build_timings_name_every_step_and_every_part_of_the_release(tmp_path, capsys):
    from kg.cli import main
    code = main(["build", "--sources", str(TINY / "sources"), "--corpus", str(TINY / "corpus"),
                 "--out", str(tmp_path / "build"), "--date", "2026-12-01", "--timings"])
    assert code == 0
    timed = {}
    for line in capsys.readouterr().out.splitlines():
        if line.endswith(" s") and "  " in line:
            step, seconds = line.rsplit("  ", 1)
            timed[step.strip()] = float(seconds.removesuffix(" s"))
    assert {"ontology", "documents", "SHACL", "release"} <= set(timed)
    assert {"release: on-disk store (a thread, meanwhile)", "release: JSON-LD (a forked process, meanwhile)",
            "release: Turtle, TriG, RDF/XML and N-Quads files", "release: checks on the merged release"} <= set(timed)
    assert all(s >= 0 for s in timed.values())
    assert timed["release: on-disk store (a thread, meanwhile)"] > 0
    assert timed["release: JSON-LD (a forked process, meanwhile)"] > 0   # the child's own time came back
