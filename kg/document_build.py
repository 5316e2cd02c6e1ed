"""One extraction file through load -> spans -> transform -> SHACL, cached by content.

Each file is built on its own: an unchanged file (same bytes, same ontology, shapes, corpus
and code) reuses its cached N-Triples and skips every stage, and changed files run in
parallel worker processes. A curator who edits one file of a hundred rebuilds one file.
"""
from __future__ import annotations

import hashlib
import json
import os
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from rdflib import Graph

from .errors import InputError, Problem
from .evidence import figure_key

CODE_DIR = Path(__file__).resolve().parent


@dataclass
class Context:
    """What every document's build depends on besides its own file (plain data, sent to workers)."""

    ontology_dir: str
    shapes_dir: str
    corpus: str | None
    root: str                 # sources' parent: claims record their file relative to it
    ontology_nt: str          # the merged ontology with inferred subclasses, for SHACL
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
    figures: list[list[str]] = field(default_factory=list)          # [claim id, what makes two claims one figure, locator]
    nt: bytes = field(repr=False, default=b"")
    cached: bool = False


@dataclass
class Outcome:
    built: DocumentBuild | None
    bad_input: list[Problem] = field(default_factory=list)      # exit 2
    nonconforming: list[Problem] = field(default_factory=list)  # spans and SHACL: exit 1


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
    """Terms, labels, shapes and ontology, made once per process and context."""
    if _WORKER.get("key") != ctx.key:
        from .ontology.terms import load_terms
        from .validate import load_shapes, shape_use
        terms = load_terms(Path(ctx.ontology_dir))
        shapes = load_shapes(Path(ctx.shapes_dir))
        _WORKER.clear()
        _WORKER.update(key=ctx.key, terms=terms, labels={t.id: t.label for t in terms.terms.values()},
                       shapes=shapes, use=shape_use(shapes),
                       ontology=Graph().parse(data=ctx.ontology_nt, format="nt"))
    return _WORKER


def graph_nt(g: Graph) -> bytes:
    """Sorted N-Triples through pyoxigraph, which keeps every literal's lexical form ("74.70")."""
    from .rdf import nt_bytes, to_ox_triple
    nt = nt_bytes(to_ox_triple(t) for t in g)
    return b"".join(sorted(nt.splitlines(keepends=True)))


def build_document(path: Path, ctx: Context, key: str) -> Outcome:
    """Load, check spans, transform and validate one file."""
    from .sources import load_source
    from .spans import check_spans
    from .rdf import claim_iri, nt_bytes
    from .transform import document_triples, sorted_nt
    from .validate import validate_sampled
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
    shacl = validate_sampled(triples, units, nt, state["shapes"], state["ontology"], state["use"])
    if shacl:
        return Outcome(None, nonconforming=shacl)
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
        figures=[[c.id, key, c.locator] for c in source.claims if (key := figure_key(c))],
        nt=nt))


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
        entry = {k: v for k, v in asdict(built).items() if k not in ("nt", "cached", "path")}
        for suffix, data in ((".nt", built.nt), (".json", json.dumps(entry, indent=1).encode())):
            tmp = self.folder / f".{stem}{suffix}.tmp"
            tmp.write_bytes(data)
            tmp.replace(self.folder / f"{stem}{suffix}")


def build_documents(files: list[Path], ctx: Context, cache: DocumentCache, workers: int) -> list[Outcome]:
    """Every file's outcome, in file order; cached files are not rebuilt."""
    keys = {str(p): document_key(p, ctx) for p in files}
    outcomes: dict[str, Outcome] = {}
    todo = []
    for p in files:
        hit = cache.get(p, keys[str(p)])
        if hit is not None:
            outcomes[str(p)] = Outcome(hit)
        else:
            todo.append(p)
    if workers > 1 and len(todo) > 1:
        with ProcessPoolExecutor(max_workers=min(workers, len(todo))) as pool:
            done = pool.map(_build_in_worker, [(str(p), ctx, keys[str(p)]) for p in todo])
            outcomes.update(zip((str(p) for p in todo), done, strict=True))
    else:
        outcomes.update((str(p), build_document(p, ctx, keys[str(p)])) for p in todo)
    for p in todo:
        built = outcomes[str(p)].built
        if built is not None:
            cache.put(built)
    return [outcomes[str(p)] for p in files]
