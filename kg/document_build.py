"""One extraction file through load -> spans -> transform -> SHACL, cached by content.

Each file is built on its own: an unchanged file (same bytes, same ontology, shapes, corpus
and code) reuses its cached N-Triples and skips every stage, and changed files run in
parallel worker processes. A curator who edits one file of a hundred rebuilds one file.
The workers load, check spans, write the N-Triples and sample the claims for SHACL
(kg/shacl_sample.py); they need no ontology, so the reasoner runs meanwhile (`meanwhile`),
and the build process then validates the new documents' samples (`validate_outcomes`): one
pySHACL run for all documents that share no node. Only documents that conform are cached.
"""
from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from .errors import InputError, Problem
from .evidence import comparison_key, control_pairs, figure_context, figure_key, population_key

if TYPE_CHECKING:
    from rdflib import Graph

    from .shacl_sample import DocSample

T = TypeVar("T")

CODE_DIR = Path(__file__).resolve().parent


@dataclass
class Context:
    """What every document's build depends on besides its own file (plain data, sent to workers)."""

    ontology_dir: str
    shapes_dir: str
    corpus: str | None
    root: str                 # sources' parent: claims record their file relative to it
    key: str                  # hash of the ontology, shapes, corpus and code: part of each cache key


@dataclass
class DocumentBuild:
    """A built document: what the release and the cross-file checks need, and its graph."""

    path: str
    key: str
    doc_id: str
    doc_id_line: int | None
    corpus_file: str
    sha256: str
    studies: list[str]
    claims: int
    cases: int
    claim_ids: list[str]
    refs: list[list[Any]]     # [claim id, line, "<document id>:<claim id>"] for each disagrees_with
    deprecated: list[list[Any]] = field(default_factory=list)   # [line, field, written, term, replaced by]
    designs: dict[str, list[str]] = field(default_factory=dict)     # study id -> design terms this file states
    sizes: dict[str, int] = field(default_factory=dict)             # study id -> n this file states
    claim_studies: list[list[str]] = field(default_factory=list)    # [claim id, study id]
    case_studies: list[list[str]] = field(default_factory=list)     # [patient case id, study id]
    figures: list[list[str]] = field(default_factory=list)          # [claim id, figure key, locator, p, n]
    facets: list[list[str]] = field(default_factory=list)   # [claim, kind, study, modality, site, endpoint, statistic]
    retired: list[str] = field(default_factory=list)        # ids of claims retracted or superseded
    comparisons: list[list[str]] = field(default_factory=list)      # [claim id, what makes two figures comparable]
    populations: list[list[str]] = field(default_factory=list)      # [claim id, statistic, median/rate population]
    control_pairs: list[list[str]] = field(default_factory=list)    # [treated claim id, control claim id]
    document_studies: list[str] = field(default_factory=list)       # studies that are a document's own statements
    exclusions: int = 0
    nt: bytes = field(repr=False, default=b"")
    cached: bool = False


@dataclass
class Outcome:
    built: DocumentBuild | None
    bad_input: list[Problem] = field(default_factory=list)      # exit 2
    nonconforming: list[Problem] = field(default_factory=list)  # spans and SHACL: exit 1
    sample: DocSample | None = None                              # what SHACL is to see (not yet validated)


def context_key(ontology_dir: Path, shapes_dir: Path, corpus: Path | None) -> str:
    """Hash of the ontology, shapes, corpus and this package's code."""
    from .validate import files_key
    folders = [Path(ontology_dir), Path(shapes_dir)] + ([Path(corpus)] if corpus else [])
    code = hashlib.sha256(b"".join(p.read_bytes() for p in sorted(CODE_DIR.rglob("*.py")))).hexdigest()
    return files_key(*folders) + code + ("" if corpus else "-no-corpus")


def document_key(path: Path, ctx: Context) -> str:
    h = hashlib.sha256(ctx.key.encode())
    h.update(os.path.relpath(Path(path).resolve(), ctx.root).encode() + b"\0" + Path(path).read_bytes())
    return h.hexdigest()


_WORKER: dict[str, Any] = {}


def _worker_state(ctx: Context) -> dict[str, Any]:
    """Terms, labels and what of the shapes sampling needs, made once per process and context."""
    if _WORKER.get("key") != ctx.key:
        from .ontology.terms import load_terms
        from .shacl_sample import shape_use
        from .validate import load_shapes
        terms = load_terms(Path(ctx.ontology_dir))
        _WORKER.clear()
        _WORKER.update(key=ctx.key, terms=terms, labels={t.id: t.label for t in terms.terms.values()},
                       use=shape_use(load_shapes(Path(ctx.shapes_dir))))
    return _WORKER


def build_document(path: Path, ctx: Context, key: str) -> Outcome:
    """Load, check spans, transform and sample one file (validated by `validate_outcomes`)."""
    from .rdf import claim_iri, nt_bytes, sorted_nt
    from .shacl_sample import document_sample
    from .sources import load_source
    from .spans import check_spans
    from .transform import document_triples
    state = _worker_state(ctx)
    try:
        source = load_source(Path(path), state["terms"])
    except InputError as err:
        return Outcome(None, bad_input=list(err.problems))
    if ctx.corpus is not None:
        spans = check_spans(source, Path(ctx.corpus))
        if spans:
            return Outcome(None, nonconforming=spans)
    triples = document_triples(source, Path(ctx.root), state["labels"])
    nt = sorted_nt(nt_bytes(triples))
    units = {str(claim_iri(source.document.id, c.id)) for c in source.claims}
    sample = document_sample(triples, units, state["use"]) if state["use"].safe else None
    doc = source.document
    return Outcome(DocumentBuild(
        path=str(path), key=key, doc_id=doc.id, doc_id_line=doc.lines.get("id"),
        corpus_file=doc.corpus_file, sha256=doc.sha256,
        studies=[st.id for st in source.studies], claims=len(source.claims),
        cases=len(source.cases), claim_ids=[c.id for c in source.claims],
        refs=[[c.id, c.lines.get("disagrees_with"), str(ref)]
              for c in source.claims for ref in c.values.get("disagrees_with") or []],  # type: ignore[attr-defined]
        deprecated=[[u.line, u.field, u.written, u.term, u.replaced_by] for u in source.deprecated_uses],
        designs={st.id: st.designs for st in source.studies},
        sizes={st.id: st.n for st in source.studies if st.n is not None},
        claim_studies=[[c.id, c.study] for c in source.claims],
        case_studies=[[c.id, c.study] for c in source.cases],
        figures=[[c.id, key, c.locator, *figure_context(c)] for c in source.claims if (key := figure_key(c))],
        facets=[[c.id, c.kind, c.study, *(str(c.values.get(k) or "") for k in ("modality", "site", "endpoint", "statistic"))]
                for c in source.claims],
        retired=[c.id for c in source.claims if c.values.get("retracted") or c.values.get("superseded_by")],
        comparisons=[[c.id, key] for c in source.claims if (key := comparison_key(c))],
        populations=[[c.id, str(c.values["statistic"]), key] for c in source.claims if (key := population_key(c))],
        control_pairs=control_pairs(source.claims),
        document_studies=[st.id for st in source.studies if st.is_document],
        exclusions=len(source.exclusions),
        nt=nt), sample=sample)


def _build_in_worker(args: tuple[str, Context, str]) -> Outcome:
    return build_document(Path(args[0]), args[1], args[2])


class DocumentCache:
    """out/.cache/documents/<file stem>.json (summary and key) + .nt (the document graph)."""

    def __init__(self, folder: Path | None):
        self.folder = Path(folder) if folder else None

    def get(self, path: Path, key: str) -> DocumentBuild | None:
        if self.folder is None:
            return None
        meta, nt = self.folder / f"{Path(path).stem}.json", self.folder / f"{Path(path).stem}.nt"
        try:
            entry = json.loads(meta.read_text(encoding="utf-8"))
            if entry.get("key") != key:
                return None
            return DocumentBuild(**{**entry, "path": str(path), "nt": nt.read_bytes(), "cached": True})
        except (OSError, ValueError, TypeError):
            return None  # missing or unreadable: rebuild the file

    def put(self, built: DocumentBuild) -> None:
        if self.folder is None:
            return
        self.folder.mkdir(parents=True, exist_ok=True)
        stem = Path(built.path).stem
        # a shallow dict: dataclasses.asdict deep-copies every list (a tenth of a cold build's CPU)
        entry = {f.name: getattr(built, f.name) for f in fields(built) if f.name not in ("nt", "cached", "path")}
        for suffix, data in ((".nt", built.nt), (".json", json.dumps(entry, separators=(",", ":")).encode())):
            tmp = self.folder / f".{stem}{suffix}.tmp"
            tmp.write_bytes(data)
            tmp.replace(self.folder / f"{stem}{suffix}")


def build_documents(files: list[Path], ctx: Context, cache: DocumentCache, workers: int,
                    meanwhile: Callable[[], T] | None = None,
                    validate: Callable[[T | None, list[Outcome]], None] | None = None,
                    cache_new: bool = True) -> list[Outcome]:
    """Every file's outcome, in file order; cached files are not rebuilt.

    `meanwhile` runs in this process while the workers build (before the files, without
    workers); `validate(its result, the new outcomes)` then marks the ones that do not conform,
    and the others are cached (unless not `cache_new`: the caller caches them once validated).
    """
    keys = {str(p): document_key(p, ctx) for p in files}
    outcomes: dict[str, Outcome] = {}
    todo = []
    for p in files:
        hit = cache.get(p, keys[str(p)])
        if hit is not None:
            outcomes[str(p)] = Outcome(hit)
        else:
            todo.append(p)
    result: T | None = None
    if workers > 1 and len(todo) > 1:
        with ProcessPoolExecutor(max_workers=min(workers, len(todo))) as pool:
            futures = [pool.submit(_build_in_worker, (str(p), ctx, keys[str(p)])) for p in todo]
            try:
                result = meanwhile() if meanwhile else None
            except BaseException:
                for f in futures:
                    f.cancel()
                raise
            outcomes.update(zip((str(p) for p in todo), (f.result() for f in futures), strict=True))
    else:
        result = meanwhile() if meanwhile else None
        outcomes.update((str(p), build_document(p, ctx, keys[str(p)])) for p in todo)
    new = [outcomes[str(p)] for p in todo]
    if validate is not None:
        validate(result, new)
    for outcome in new:
        outcome.sample = None
        if outcome.built is not None and cache_new:
            cache.put(outcome.built)
    return [outcomes[str(p)] for p in files]


def start_validation(outcomes: list[Outcome], shapes: Graph, ontology: Graph, fork: bool) -> Callable[[], None]:
    """validate_outcomes, in a forked process when `fork` (the build writes the release files
    meanwhile); returns the function that waits for it and marks the outcomes."""
    if not fork:
        validate_outcomes(outcomes, shapes, ontology)
        return lambda: None
    import multiprocessing
    context = multiprocessing.get_context("fork")
    receive, send = context.Pipe(duplex=False)
    child = context.Process(target=_validate_in_child, args=(send, outcomes, shapes, ontology))
    child.start()
    send.close()

    def wait() -> None:
        try:
            found: list[list[Problem]] = receive.recv()
        except EOFError:
            found = []
        child.join()
        if child.exitcode != 0 or len(found) != len(outcomes):
            from .errors import KGError
            raise KGError(f"SHACL validation failed (exit code {child.exitcode}); the previous release is untouched")
        for outcome, problems in zip(outcomes, found, strict=True):
            if problems:
                outcome.built, outcome.nonconforming = None, problems
    return wait


def _validate_in_child(send: Any, outcomes: list[Outcome], shapes: Graph, ontology: Graph) -> None:
    from .ontology.build import _die_with_parent
    _die_with_parent()        # a killed build leaves no validator running either
    validate_outcomes(outcomes, shapes, ontology)
    send.send([o.nonconforming if o.built is None else [] for o in outcomes])
    send.close()


def validate_outcomes(outcomes: list[Outcome], shapes: Graph, ontology: Graph) -> None:
    """SHACL over the new documents (their samples; kg/validate.py validate_documents): a document
    that does not conform loses its build and carries its problems, as when each was validated
    whole in its worker."""
    from .shacl_sample import shape_use
    from .validate import validate_documents
    todo = [o for o in outcomes if o.built is not None]
    found = validate_documents([o.sample for o in todo], [o.built.nt for o in todo if o.built is not None],
                               shapes, ontology, shape_use(shapes))
    for outcome, problems in zip(todo, found, strict=True):
        if problems:
            outcome.built, outcome.nonconforming = None, problems
