"""The curator's commands: build, check, locate, audit, add a document, drafts, retire terms, diff, ontology, docs."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .common import corpus, corpus_args, project


def add_build(p: argparse.ArgumentParser) -> None:
    p.add_argument("--sources", type=Path, default=None, help="extraction files (default: the project's sources/)")
    p.add_argument("--ontology", type=Path, default=None, help="ontology folder (default: the project's ontology/)")
    p.add_argument("--shapes", type=Path, default=None, help="SHACL shapes (default: the project's shapes/)")
    corpus_args(p)
    p.add_argument("--out", type=Path, default=None, help="output folder (default: the project's build/)")
    p.add_argument("--report", action="store_true", help="also print the completeness report")
    p.add_argument("--date", default=None, help="release date YYYY-MM-DD (default today)")
    p.add_argument("--queries", type=Path, default=None, help="named queries checked for retired terms (default queries/)")
    p.add_argument("--allow-deprecated", action="store_true",
                   help="publish although claims or queries use retired terms (reported as warnings)")
    p.add_argument("--jobs", type=int, default=None,
                   help="worker processes for the per-document stages (default: one per core when the sources exceed 2 MB)")
    p.add_argument("--timings", action="store_true",
                   help="also print the seconds each step and each part of the release took")


def cmd_build(a: argparse.Namespace) -> int:
    from ..build import build
    summary = build(sources=a.sources or project("sources"), ontology=a.ontology or project("ontology"),
                    shapes=a.shapes or project("shapes"), corpus=corpus(a), out=a.out or project("build"), date=a.date,
                    report=a.report, log=print, workers=a.jobs, queries=a.queries or project("queries"),
                    allow_deprecated=a.allow_deprecated)
    if a.timings:
        width = max(map(len, summary.timings), default=0)
        for step, seconds in summary.timings.items():
            print(f"{step:<{width}}  {seconds:7.2f} s")
    return 0 if summary.ok else 1


def add_check(p: argparse.ArgumentParser) -> None:
    p.add_argument("files", type=Path, nargs="+", help="extraction files to check")
    p.add_argument("--ontology", type=Path, default=None, help="ontology folder (default: the project's ontology/)")
    corpus_args(p)


def cmd_check(a: argparse.Namespace) -> int:
    from ..build import check_sources
    check_sources(a.files, ontology=a.ontology or project("ontology"), corpus=corpus(a), log=print)
    return 0


def add_locate(p: argparse.ArgumentParser) -> None:
    p.add_argument("file", type=Path, help="corpus file (name or path)")
    p.add_argument("snippet", help="exact text to find")
    p.add_argument("--all", action="store_true", help="print every occurrence")
    p.add_argument("--corpus", type=Path, default=None, help="corpus folder (default KG_CORPUS or ../shared/corpus)")


def cmd_locate(a: argparse.Namespace) -> int:
    from ..spans import locate
    hits = locate(a.file, a.snippet, corpus=corpus(a))
    if not hits:
        print(f"not found in {a.file}: {a.snippet!r}", file=sys.stderr)
        return 2
    for start, end, line in (hits if a.all else hits[:1]):
        print(f"{start} {end}  (line {line})")
    return 0


def add_audit(p: argparse.ArgumentParser) -> None:
    p.add_argument("--sources", type=Path, default=None, help="extraction files (default: the project's sources/)")
    p.add_argument("--ontology", type=Path, default=None, help="ontology folder (default: the project's ontology/)")
    p.add_argument("--corpus", type=Path, default=None, help="corpus folder (default KG_CORPUS or ../shared/corpus)")
    p.add_argument("--doc", help="only this document id")
    p.add_argument("--quiet", action="store_true", help="counts only")


def cmd_audit(a: argparse.Namespace) -> int:
    from ..audit import audit, format_report
    from ..ontology.terms import load_terms
    from ..paths import corpus_dir
    corpus = corpus_dir(a.corpus, required=True)
    assert corpus is not None
    report = audit(a.sources or project("sources"), corpus, only=a.doc,
                   terms=load_terms(a.ontology or project("ontology")))
    print(format_report(report, details=not a.quiet))
    return 0 if report.total_unexplained == 0 else 1


def add_add_document(p: argparse.ArgumentParser) -> None:
    p.add_argument("file", type=Path, help="the corpus file (a path; its name becomes corpus_file)")
    p.add_argument("--id", default=None, help="document id (default: first author's surname + year)")
    _draft_dirs(p)


def cmd_add_document(a: argparse.Namespace) -> int:
    from ..draft import add_document, list_drafts
    path = add_document(a.file, a.sources or project("sources"), a.ontology or project("ontology"), a.id)
    print(f"wrote {path}: {len(list_drafts(path))} draft claims; next: kg draft --list {path}, curate, kg check")
    return 0


def add_draft(p: argparse.ArgumentParser) -> None:
    what = p.add_mutually_exclusive_group(required=True)
    what.add_argument("--evaluate", action="store_true", help="score drafts of the curated documents against them")
    what.add_argument("--list", type=Path, nargs="+", metavar="FILE", help="list the draft claims of extraction files")
    p.add_argument("--doc", default=None, help="--evaluate: only this document id")
    p.add_argument("--write", type=Path, default=None, help="--evaluate: also write the report (docs/drafting.md)")
    p.add_argument("--corpus", type=Path, default=None, help="corpus folder (default KG_CORPUS or ../shared/corpus)")
    _draft_dirs(p)


def _draft_dirs(p: argparse.ArgumentParser) -> None:
    p.add_argument("--sources", type=Path, default=None, help="extraction files (default: the project's sources/)")
    p.add_argument("--ontology", type=Path, default=None, help="ontology folder (default: the project's ontology/)")


def cmd_draft(a: argparse.Namespace) -> int:
    from ..draft import print_drafts
    from ..draft.evaluate import report
    from ..paths import corpus_dir
    if a.list:
        return print_drafts(a.list)
    return report(a.sources or project("sources"), corpus_dir(a.corpus, required=True),
                  a.ontology or project("ontology"), a.doc, a.write)


def add_ontology(p: argparse.ArgumentParser) -> None:
    p.add_argument("action", choices=["check", "mappings", "build"],
                   help="check: QC report (exit 1 on errors); mappings: regenerate mappings.sssom.tsv; "
                        "build: write the merged ontology as Turtle")
    p.add_argument("--ontology", type=Path, default=None, help="ontology folder (default: the project's ontology/)")
    p.add_argument("--no-reasoner", action="store_true", help="check: skip the HermiT run")
    p.add_argument("--out", type=Path, default=None, help="build: output file (default build/ontology.ttl)")
    p.add_argument("--date", default=None, help="build: release date YYYY-MM-DD (default today)")


def cmd_ontology(a: argparse.Namespace) -> int:
    from ..ontology import build, publish, qc
    a.ontology = a.ontology or project("ontology")
    a.out = a.out or project("build") / "ontology.ttl"
    if a.action == "check":
        findings = qc.check(a.ontology, reasoner=not a.no_reasoner)
        print(qc.format_findings(findings))
        return 1 if any(f.severity == "error" for f in findings) else 0
    if a.action == "mappings":
        print(f"wrote {publish.write_mappings(a.ontology)}")
        return 0
    print(f"wrote {build.write_ontology(a.ontology, a.out, a.date)}")
    return 0


def add_docs(p: argparse.ArgumentParser) -> None:
    p.add_argument("--ontology", type=Path, default=None, help="ontology folder (default: the project's ontology/)")
    p.add_argument("--out", type=Path, default=None, help="output folder (default docs/terms)")


def cmd_docs(a: argparse.Namespace) -> int:
    from ..export import columns_markdown
    from ..ontology.publish import write_docs
    for path in write_docs(a.ontology or project("ontology"), a.out or project("docs") / "terms"):
        print(f"wrote {path}")
    columns = project("docs") / "export-columns.md"
    columns.write_text(columns_markdown(), encoding="utf-8")
    print(f"wrote {columns}")
    from ..claim_rows import render_standard_rows
    for rq in sorted(project("queries").glob("*.rq")):       # only the generated standard-row blocks change
        text = rq.read_text(encoding="utf-8")
        if (rendered := render_standard_rows(text)) != text:
            rq.write_text(rendered, encoding="utf-8")
            print(f"wrote the standard row of {rq}")
    return 0


def add_migrate(p: argparse.ArgumentParser) -> None:
    p.add_argument("--term", required=True, help="the retired term's id")
    p.add_argument("--to", default=None, help="the replacement (default: the term's replaced_by in the template)")
    p.add_argument("--sources", type=Path, default=None, help="extraction files (default: the project's sources/)")
    p.add_argument("--ontology", type=Path, default=None, help="ontology folder (default: the project's ontology/)")
    p.add_argument("--dry-run", action="store_true", help="list the rewrites, change nothing")


def cmd_migrate(a: argparse.Namespace) -> int:
    from ..migrate import migrate_term
    changes = migrate_term(a.sources or project("sources"), a.ontology or project("ontology"), a.term, a.to,
                           dry_run=a.dry_run)
    for file, line, written, new in changes:
        print(f"{file}:{line}: {written} -> {new}")
    print(f"{'would rewrite' if a.dry_run else 'rewrote'} {len(changes)} value(s)")
    return 0


def add_diff(p: argparse.ArgumentParser) -> None:
    p.add_argument("old", help="release folder, or a version kept under build/releases/ (e.g. 2026-11-30)")
    p.add_argument("new", nargs="?", default=None, help="release folder or version (default: build/release)")
    p.add_argument("--out", type=Path, default=None, help="the build folder holding releases/ (default build/)")
    p.add_argument("--format", choices=["md", "json"], default="md")


def cmd_diff(a: argparse.Namespace) -> int:
    import dataclasses
    import json

    from ..diff import diff_markdown, diff_releases, resolve_release
    out = a.out or project("build")
    d = diff_releases(resolve_release(a.old, out), resolve_release(a.new or out / "release", out))
    print(diff_markdown(d) if a.format == "md" else json.dumps(dataclasses.asdict(d), indent=1))
    return 0
