"""Orchestrates a build: sources -> spans -> RDF -> SHACL -> reasoner -> release files."""
from __future__ import annotations

import datetime
import json
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from rdflib.namespace import RDFS

from . import __version__
from .errors import ConformanceError, InputError, Problem
from .vocab import version_iri
from .sources import load_source, load_terms
from .spans import check_spans

Log = Callable[[str], None]


def source_files(sources_dir: Path) -> list[Path]:
    return sorted(Path(sources_dir).glob("*.yaml"))


def check_sources(files: list[Path], ontology: Path, corpus: Path | None, log: Log = print) -> list[dict]:
    """Load and check extraction files (schema, terms, spans); raise on the first file with problems."""
    terms = load_terms(ontology)
    loaded, bad_input, bad_spans = [], [], []
    for path in files:
        try:
            source = load_source(path, terms)
        except InputError as err:
            bad_input.extend(err.problems)
            continue
        if corpus is not None:
            bad_spans.extend(check_spans(source, corpus))
        loaded.append(source)
        log(f"{path}: {len(source['studies'])} studies, {len(source['claims'])} claims, "
            f"{len(source['cases'])} cases, {len(source['exclusions'])} exclusions")
    if bad_input:
        raise InputError(bad_input + bad_spans)
    if bad_spans:
        raise ConformanceError(f"{len(bad_spans)} span/sha256 problem(s) against the corpus", bad_spans)
    if corpus is None:
        log("spans not checked: no corpus folder (give --corpus DIR)")
    return loaded


@dataclass
class BuildSummary:
    ok: bool
    documents: int = 0
    studies: int = 0
    claims: int = 0
    cases: int = 0
    triples: int = 0
    seconds: float = 0.0
    release: Path | None = None
    spans_checked: bool = False


class Progress:
    """Step timings on a terminal; silent when piped or in CI, so logs stay clean."""

    def __init__(self) -> None:
        self.live = sys.stderr.isatty() and not os.environ.get("CI")
        self.start = time.perf_counter()

    def step(self, text: str) -> None:
        if self.live:
            print(f"\r[{time.perf_counter() - self.start:6.1f}s] {text:<60}", end="", file=sys.stderr, flush=True)

    def done(self) -> None:
        if self.live:
            print("\r" + " " * 72 + "\r", end="", file=sys.stderr, flush=True)


def load_all(sources: Path, terms, corpus: Path | None) -> list[dict]:
    """Load every extraction file; collect all files' problems before raising."""
    loaded, problems = [], []
    for path in source_files(sources):
        try:
            loaded.append(load_source(path, terms))
        except InputError as err:
            problems.extend(err.problems)
    if problems:
        raise InputError(problems)
    if not loaded:
        raise InputError(Problem(str(sources), None, "sources", str(sources), "no extraction files (*.yaml) found"))
    _cross_checks(loaded)
    if corpus is not None:
        spans = [p for s in loaded for p in check_spans(s, corpus)]
        if spans:
            raise ConformanceError(f"{len(spans)} span/sha256 problem(s) against the corpus in {corpus}", spans)
    return loaded


def _cross_checks(loaded: list[dict]) -> None:
    """Rules that span files: unique document ids and resolvable disagreement links.

    A study may carry several DOIs (a trial's protocol and its results paper), so DOIs are not
    required to agree across files.
    """
    problems, doc_ids, claim_ids = [], {}, set()
    for s in loaded:
        d = s["document"]
        if d["id"] in doc_ids:
            problems.append(Problem(s["path"], d.lines.get("id"), "document.id", d["id"],
                                    f"document id already used by {doc_ids[d['id']]}"))
        doc_ids[d["id"]] = s["path"]
        claim_ids.update(f"{d['id']}:{c['id']}" for c in s["claims"])
    for s in loaded:
        for c in s["claims"]:
            for ref in c.get("disagrees_with") or []:
                if ref not in claim_ids:
                    problems.append(Problem(s["path"], c.lines.get("disagrees_with"), f"claim '{c['id']}'.disagrees_with",
                                            ref, "no such claim", "write '<document id>:<claim id>' of an existing claim"))
    if problems:
        raise InputError(problems)


def build(sources: Path, ontology: Path, shapes: Path, corpus: Path | None, out: Path,
          date: str | None = None, report: bool = False, log: Log = print,
          workers: int | None = None) -> BuildSummary:
    """Build and validate the graph, then write a release. Raises on bad input; nothing is written then."""
    from .ontology import build_ontology, infer_subclasses
    from .transform import document_graph
    from .validate import files_key, load_shapes, validate_documents
    from .release import write_release

    progress, started = Progress(), time.perf_counter()
    date = date or datetime.date.today().isoformat()
    progress.step("sources: load and check")  # first: bad input should fail fast
    terms = load_terms(ontology)
    loaded = load_all(Path(sources), terms, corpus)
    progress.step("ontology: template merge")
    onto = build_ontology(Path(ontology), date, __version__)
    progress.step("ontology: reasoner (HermiT)")
    for sub, sup in infer_subclasses(onto):
        onto.add((sub, RDFS.subClassOf, sup))
    progress.step("transform: rows -> RDF")
    root = Path(sources).resolve().parent
    labels = {t.id: t.label for t in terms.terms.values()}
    graphs = {str(s["document"]["id"]): document_graph(s, root, labels) for s in loaded}
    progress.step("SHACL: validating each document")
    if workers is None:  # processes pay off only when there is a lot to validate
        workers = min(2, os.cpu_count() or 1) if sum(len(s["claims"]) for s in loaded) > 5000 else 1
    problems = validate_documents(graphs, load_shapes(shapes), onto, cache_dir=Path(out) / ".cache",
                                  workers=workers, context_key=files_key(Path(shapes), Path(ontology)))
    if problems:
        progress.done()
        raise ConformanceError(f"SHACL: {len(problems)} violation(s); the previous release is untouched", problems)
    studies = {st["id"] for s in loaded for st in s["studies"]}
    summary = BuildSummary(ok=True, documents=len(loaded), studies=len(studies),
                           claims=sum(len(s["claims"]) for s in loaded), cases=sum(len(s["cases"]) for s in loaded),
                           spans_checked=corpus is not None)
    manifest = {"version": __version__, "date": date, "ontology_version_iri": str(version_iri(date)),
                "documents": {str(s["document"]["id"]): {"corpus_file": str(s["document"]["corpus_file"]),
                                                          "sha256": str(s["document"]["sha256"]),
                                                          "claims": len(s["claims"])} for s in loaded},
                "studies": summary.studies, "claims": summary.claims, "spans_checked": summary.spans_checked}
    progress.step("release: writing files")
    summary.release = write_release(Path(out), onto, graphs, manifest)
    summary.triples = json.loads((summary.release / "manifest.json").read_text())["triples"]
    summary.seconds = time.perf_counter() - started
    progress.done()
    log(f"built {summary.release}: {summary.documents} documents, {summary.studies} studies, "
        f"{summary.claims} claims, {summary.cases} patient cases, {summary.triples} triples "
        f"in {summary.seconds:.1f} s")
    log("spans and sha256 checked against the corpus" if corpus else
        "spans not checked: no corpus folder (give --corpus DIR)")
    if report and corpus is not None:
        from .audit import audit_document, format_report, AuditReport
        from .spans import read_corpus_text
        docs = [audit_document(s, read_corpus_text(Path(corpus) / str(s["document"]["corpus_file"]))) for s in loaded]
        log(format_report(AuditReport(docs), details=True))
    return summary
