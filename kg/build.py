"""Orchestrates a build: sources -> spans -> RDF -> SHACL -> reasoner -> release files."""
from __future__ import annotations

import datetime
import json
import os
import re
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from rdflib import Graph, URIRef
from rdflib.namespace import OWL, RDFS

from . import __version__
from .document_build import DocumentBuild
from .errors import ConformanceError, InputError, Problem
from .ontology.terms import load_terms
from .rdf import ONTOLOGY_IRI, fewer_collections, version_iri
from .records import Source
from .release import build_lock, previous_release
from .sources import load_source
from .spans import check_spans

Log = Callable[[str], None]


def source_files(sources_dir: Path) -> list[Path]:
    return sorted(Path(sources_dir).glob("*.yaml"))


def check_sources(files: list[Path], ontology: Path, corpus: Path | None, log: Log = print) -> list[Source]:
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
        log(f"{path}: {len(source.studies)} studies, {len(source.claims)} claims, "
            f"{len(source.cases)} cases, {len(source.exclusions)} exclusions")
        for use in source.deprecated_uses:
            log(f"warning: {use.file}:{use.line}: {use.field}: uses the deprecated term {use.term}"
                + (f", replaced by {use.replaced_by} (kg migrate --term {use.term})" if use.replaced_by else ""))
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
    #: seconds per step ("ontology", "documents", "SHACL", "release") and per part of the release
    timings: dict[str, float] = field(default_factory=dict)


class Progress:
    """Step timings on a terminal; silent when piped or in CI, so logs stay clean. Each step's
    seconds (until the next step starts) are kept in `seconds`, by the words before its colon."""

    def __init__(self) -> None:
        self.live = sys.stderr.isatty() and not os.environ.get("CI")
        self.start = time.perf_counter()
        self.seconds: dict[str, float] = {}
        self._current: tuple[str, float] | None = None

    def step(self, text: str) -> None:
        self._close()
        self._current = (text.split(":", 1)[0], time.perf_counter())
        if self.live:
            print(f"\r[{time.perf_counter() - self.start:6.1f}s] {text:<60}", end="", file=sys.stderr, flush=True)

    def done(self) -> None:
        self._close()
        if self.live:
            print("\r" + " " * 72 + "\r", end="", file=sys.stderr, flush=True)

    def _close(self) -> None:
        if self._current is not None:
            name, began = self._current
            self.seconds[name] = self.seconds.get(name, 0.0) + time.perf_counter() - began
            self._current = None


def cross_problems(built: list[DocumentBuild], partial: bool) -> list[Problem]:
    """Rules that span files: unique document ids and resolvable disagreement links.

    When some files failed (`partial`), a link into a document that did not load is not
    reported: its own errors are, and a false "no such claim" would only hide them.
    A study may carry several DOIs (a trial's protocol and its results paper), so DOIs are not
    required to agree across files.
    """
    problems: list[Problem] = []
    doc_ids: dict[str, str] = {}
    claim_ids = {f"{b.doc_id}:{c}" for b in built for c in b.claim_ids}
    loaded = {b.doc_id for b in built}
    for b in built:
        if b.doc_id in doc_ids:
            problems.append(Problem(b.path, b.doc_id_line, "document.id", b.doc_id,
                                    f"document id already used by {doc_ids[b.doc_id]}"))
        doc_ids[b.doc_id] = b.path
        for claim, line, ref in b.refs:
            if ref in claim_ids or (partial and ref.split(":", 1)[0] not in loaded):
                continue
            problems.append(Problem(b.path, line, f"claim '{claim}'.disagrees_with", ref, "no such claim",
                                    "write '<document id>:<claim id>' of an existing claim"))
    return problems


def deprecated_uses(built: list[DocumentBuild], queries: Path | None, retired: set[tuple[str, str]]) -> list[Problem]:
    """Every claim, study or document field and every named query that still uses a retired term."""
    problems = [Problem(b.path, line, field, written, f"uses the deprecated term {term}"
                        + (f", replaced by {new}" if new else ""),
                        f"kg migrate --term {term}" if new else "choose a current term")
                for b in built for line, field, written, term, new in b.deprecated]
    terms = retired | {(term, new) for b in built for _, _, _, term, new in b.deprecated}
    for path in sorted(Path(queries).glob("*.rq")) if queries and Path(queries).is_dir() else []:
        lines = path.read_text(encoding="utf-8").splitlines()
        for term, new in sorted(terms):
            pattern = re.compile(rf"(bcmkg:|/vocab/|default: ){re.escape(term)}\b")
            problems += [Problem(str(path), i, "query", term, f"uses the deprecated term {term}"
                                 + (f", replaced by {new}" if new else ""), "edit the query")
                         for i, line in enumerate(lines, start=1) if pattern.search(line)]
    return problems


def prior_version(out: Path, date: str) -> str | None:
    """The versionIRI of the release this build follows: the current one, or on a rebuild the
    same day, the one that one followed."""
    previous = previous_release(out)
    if previous is None:
        return None
    if previous.get("date") != date:
        return str(previous.get("ontology_version_iri") or version_iri(str(previous.get("date"))))
    prior = previous.get("prior_version")
    return str(prior) if prior else None


def build(sources: Path, ontology: Path, shapes: Path, corpus: Path | None, out: Path,
          date: str | None = None, report: bool = False, log: Log = print,
          workers: int | None = None, queries: Path | None = None, allow_deprecated: bool = False) -> BuildSummary:
    """Build and validate the graph, then write a release (one build per output folder at a time).

    Retired terms still used by a claim (or by a named query in `queries`) fail the build unless
    `allow_deprecated`, when they are reported as warnings.
    """
    with build_lock(Path(out)), fewer_collections():
        return _build(Path(sources), Path(ontology), Path(shapes), corpus, Path(out), date, report, log, workers,
                      queries, allow_deprecated)


def _build(sources: Path, ontology: Path, shapes: Path, corpus: Path | None, out: Path,
           date: str | None, report: bool, log: Log, workers: int | None, queries: Path | None,
           allow_deprecated: bool) -> BuildSummary:
    """Build and validate the graph, then write a release. Raises on bad input; nothing is written then.

    Files whose bytes, ontology, shapes, corpus and code are unchanged since the last build
    in `out` come from the per-document cache (out/.cache/documents) without any stage re-run.
    """
    from .document_build import Context, DocumentCache, Outcome, build_documents, context_key, start_validation
    from .ontology.build import build_ontology, infer_subclasses
    from .release import write_release
    from .validate import check_merged, load_shapes

    progress, started = Progress(), time.perf_counter()
    date = date or datetime.date.today().isoformat()
    files = source_files(Path(sources))
    from .ontology.qc import build_problems  # template QC errors: refuse before any work
    if ontology_errors := build_problems(Path(ontology)):
        raise InputError(ontology_errors)
    if not files:
        raise InputError(Problem(str(sources), None, "sources", str(sources), "no extraction files (*.yaml) found"))
    prior = prior_version(Path(out), date)

    def make_ontology() -> Graph:    # runs while the workers build the documents (they do not need it)
        progress.step("ontology: template merge and reasoner (HermiT), documents meanwhile")
        onto = build_ontology(Path(ontology), date, __version__)
        for sub, sup in infer_subclasses(onto):
            onto.add((sub, RDFS.subClassOf, sup))
        if prior:
            onto.add((ONTOLOGY_IRI, OWL.priorVersion, URIRef(prior)))
        progress.step(f"documents: load, spans, transform, sample ({len(files)} file(s)); then SHACL")
        return onto

    ctx = Context(ontology_dir=str(ontology), shapes_dir=str(shapes), corpus=str(corpus) if corpus else None,
                  root=str(Path(sources).resolve().parent), key=context_key(Path(ontology), Path(shapes), corpus))
    if workers is None:  # processes pay off only when there is a lot to build
        big = sum(p.stat().st_size for p in files) > 2_000_000
        workers = (os.cpu_count() or 1) if big else 1
    made: list[Graph] = []
    shapes_graph = load_shapes(Path(shapes))
    cache = DocumentCache(Path(out) / ".cache" / "documents")
    new_outcomes: list[Outcome] = []
    waiting: list[Callable[[], None]] = []

    def validate(onto: Graph | None, new: list[Outcome]) -> None:
        assert onto is not None
        made.append(onto)
        new_outcomes.extend(new)
        progress.step(f"SHACL: {len(new)} new document(s)")
        # a big build validates in a forked process while the release files are written
        waiting.append(start_validation(new, shapes_graph, onto, fork=workers > 1 and len(new) > 1))

    outcomes = build_documents(files, ctx, cache, workers, meanwhile=make_ontology, validate=validate,
                               cache_new=False)
    onto = made[0] if made else make_ontology()

    def settle() -> None:
        """SHACL's verdicts (a forked process may still be validating); then the cache."""
        while waiting:
            waiting.pop()()
            for outcome in new_outcomes:
                if outcome.built is not None:
                    cache.put(outcome.built)

    def conforming(settled: bool = False) -> list[DocumentBuild]:
        """The built documents, or the build's problems raised (after SHACL has answered)."""
        built = [o.built for o in outcomes if o.built is not None]
        bad_input = [p for o in outcomes for p in o.bad_input]
        nonconforming = [p for o in outcomes for p in o.nonconforming]
        cross = cross_problems(built, partial=len(built) < len(outcomes))
        if bad_input or cross or nonconforming:
            if not settled:
                settle()
                return conforming(True)
            progress.done()    # every file's own problems first, in file order; then the cross-file ones
            if bad_input or cross:
                raise InputError(bad_input + nonconforming + cross)
            raise ConformanceError(f"{len(nonconforming)} problem(s) (spans, sha256 or SHACL); "
                                   "the previous release is untouched", nonconforming)
        return built

    built = conforming()      # until SHACL answers, the new documents count as conforming
    index = load_terms(ontology)
    retired = deprecated_uses(built, queries, {(t.id, t.replaced_by) for t in index.terms.values() if t.deprecated})
    if retired and not allow_deprecated:
        settle()
        conforming(True)       # SHACL's problems come first, as before
        progress.done()
        raise InputError(retired)
    for problem in retired:
        log(f"warning: {problem}")
    summary = BuildSummary(ok=True, documents=len(built), studies=len({s for b in built for s in b.studies}),
                           claims=sum(b.claims for b in built), cases=sum(b.cases for b in built),
                           spans_checked=corpus is not None)
    manifest = {"version": __version__, "date": date, "ontology_version_iri": str(version_iri(date)),
                "prior_version": prior,
                "documents": {b.doc_id: {"corpus_file": b.corpus_file, "sha256": b.sha256, "claims": b.claims}
                              for b in built},
                "studies": summary.studies, "claims": summary.claims, "spans_checked": summary.spans_checked}
    progress.step("release: writing files")
    merged = Path(shapes) / "merged"
    from .evidence import evidence_graph
    from .summary import summary_graph
    graphs = {b.doc_id: b.nt for b in built}
    graphs["evidence"] = evidence_graph(built, {t.id: t.label for t in index.terms.values()})  # derived (kg/evidence.py)
    graphs["summary"] = summary_graph(built)        # counts for the overview queries (kg/summary.py)

    def ready() -> None:       # before the new release is published: SHACL has answered, all conform
        settle()
        conforming(True)

    parts: dict[str, float] = {}
    summary.release = write_release(Path(out), onto, graphs, manifest,
                                    check=lambda store: check_merged(store, merged), ready=ready, timings=parts)
    summary.triples = json.loads((summary.release / "manifest.json").read_text())["triples"]
    if prior:                  # the changelog against the release this one follows
        progress.step("changes: against the prior release")
        from .diff import write_changes
        previous = Path(out) / "releases" / prior.rsplit("/releases/", 1)[-1].split("/", 1)[0]
        write_changes(summary.release.resolve(), previous.resolve() if previous.exists() else None)
    summary.seconds = time.perf_counter() - started
    progress.done()
    summary.timings = {**progress.seconds, **parts}
    cached = sum(b.cached for b in built)
    log(f"built {summary.release}: {summary.documents} documents, {summary.studies} studies, "
        f"{summary.claims} claims, {summary.cases} patient cases, {summary.triples} triples "
        f"in {summary.seconds:.1f} s ({cached} of {len(built)} document(s) unchanged, from the cache)")
    log("spans and sha256 checked against the corpus" if corpus else
        "spans not checked: no corpus folder (give --corpus DIR)")
    if report and corpus is not None:
        from .audit import AuditReport, audit_document, format_report
        from .spans import read_corpus_text
        terms = load_terms(ontology)
        docs = [audit_document(s, read_corpus_text(Path(corpus) / s.document.corpus_file))
                for s in (load_source(p, terms) for p in files)]
        log(format_report(AuditReport(docs), details=True))
    return summary
