"""Thin commands, one per stage. Library code raises KGError; here it becomes an exit code.

Exit codes: 0 ok, 1 data does not conform, 2 bad input or usage.
Each command has an `add_<name>` (arguments) and a `cmd_<name>` (a few lines that call the
library). Keep them short: logic belongs in the stage modules.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .errors import KGError



def _corpus(a: argparse.Namespace) -> Path | None:
    """The corpus to check spans against: --corpus, KG_CORPUS or ../shared/corpus; none with --no-corpus."""
    from .paths import corpus_dir
    if getattr(a, "no_corpus", False):
        return None
    return corpus_dir(a.corpus)


def _project(name: str) -> Path:
    from .paths import project_dir
    return project_dir(name)


# --- build pipeline -------------------------------------------------------------------

def _corpus_args(p: argparse.ArgumentParser) -> None:
    src = p.add_mutually_exclusive_group()
    src.add_argument("--corpus", type=Path, default=None,
                     help="corpus folder for span and sha256 checks (default KG_CORPUS, else ../shared/corpus when present)")
    src.add_argument("--no-corpus", action="store_true", help="skip the span and sha256 checks against the corpus")


def add_build(p: argparse.ArgumentParser) -> None:
    p.add_argument("--sources", type=Path, default=None, help="extraction files (default: the project's sources/)")
    p.add_argument("--ontology", type=Path, default=None, help="ontology folder (default: the project's ontology/)")
    p.add_argument("--shapes", type=Path, default=None, help="SHACL shapes (default: the project's shapes/)")
    _corpus_args(p)
    p.add_argument("--out", type=Path, default=None, help="output folder (default: the project's build/)")
    p.add_argument("--report", action="store_true", help="also print the completeness report")
    p.add_argument("--date", default=None, help="release date YYYY-MM-DD (default today)")
    p.add_argument("--queries", type=Path, default=None, help="named queries checked for retired terms (default queries/)")
    p.add_argument("--allow-deprecated", action="store_true",
                   help="publish although claims or queries use retired terms (reported as warnings)")
    p.add_argument("--jobs", type=int, default=None,
                   help="worker processes for the per-document stages (default: one per core when the sources exceed 2 MB)")


def cmd_build(a: argparse.Namespace) -> int:
    from .build import build
    summary = build(sources=a.sources or _project("sources"), ontology=a.ontology or _project("ontology"),
                    shapes=a.shapes or _project("shapes"), corpus=_corpus(a), out=a.out or _project("build"), date=a.date,
                    report=a.report, log=print, workers=a.jobs, queries=a.queries or _project("queries"),
                    allow_deprecated=a.allow_deprecated)
    return 0 if summary.ok else 1


def add_check(p: argparse.ArgumentParser) -> None:
    p.add_argument("files", type=Path, nargs="+", help="extraction files to check")
    p.add_argument("--ontology", type=Path, default=None, help="ontology folder (default: the project's ontology/)")
    _corpus_args(p)


def cmd_check(a: argparse.Namespace) -> int:
    from .build import check_sources
    check_sources(a.files, ontology=a.ontology or _project("ontology"), corpus=_corpus(a), log=print)
    return 0


def add_locate(p: argparse.ArgumentParser) -> None:
    p.add_argument("file", type=Path, help="corpus file (name or path)")
    p.add_argument("snippet", help="exact text to find")
    p.add_argument("--all", action="store_true", help="print every occurrence")
    p.add_argument("--corpus", type=Path, default=None, help="corpus folder (default KG_CORPUS or ../shared/corpus)")


def cmd_locate(a: argparse.Namespace) -> int:
    from .spans import locate
    hits = locate(a.file, a.snippet, corpus=_corpus(a))
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
    from .audit import audit, format_report
    from .paths import corpus_dir
    from .ontology.terms import load_terms
    corpus = corpus_dir(a.corpus, required=True)
    assert corpus is not None
    report = audit(a.sources or _project("sources"), corpus, only=a.doc,
                   terms=load_terms(a.ontology or _project("ontology")))
    print(format_report(report, details=not a.quiet))
    return 0 if report.total_unexplained == 0 else 1


def add_export(p: argparse.ArgumentParser) -> None:
    p.add_argument("what", choices=["claims", "fhir"], help="claims: the claims table; fhir: FHIR R5 Evidence")
    p.add_argument("--format", choices=["csv", "json"], default="csv")
    p.add_argument("--release", type=Path, default=None, help="release folder (default KG_RELEASE or build/release)")
    p.add_argument("--output", "-o", type=Path, default=None)
    p.add_argument("--out", type=Path, default=None, help="fhir: output folder (default build/fhir)")


def cmd_export(a: argparse.Namespace) -> int:
    from .export import export_claims
    from .paths import release_dir
    if a.what == "fhir":
        from .fhir import write_fhir
        out = a.out or _project("build") / "fhir"
        bundles, resources = write_fhir(release_dir(a.release), out)
        print(f"wrote {out}: {bundles} Bundle(s), {resources} Evidence resource(s)")
        return 0
    text = export_claims(release_dir(a.release), fmt=a.format)
    if a.output:
        a.output.write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
    return 0


def add_serve(p: argparse.ArgumentParser) -> None:
    src = p.add_mutually_exclusive_group()
    src.add_argument("--release", type=Path, default=None, help="release folder (default build/release)")
    src.add_argument("--endpoint", help="serve a remote SPARQL 1.1 endpoint instead of a release")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8000)
    p.add_argument("--query-timeout", type=float, default=10.0, help="seconds per query (default 10)")
    p.add_argument("--max-results", type=int, default=10_000, help="rows or triples per answer (default 10000)")
    p.add_argument("--allow-service", nargs="*", default=[], metavar="HOST", help="hosts SERVICE may call")
    p.add_argument("--cors", nargs="*", default=[], metavar="ORIGIN", help="origins allowed by CORS ('*' for any)")
    p.add_argument("--workers", type=int, default=2, help="query worker processes (default 2)")


def cmd_serve(a: argparse.Namespace) -> int:
    from .paths import release_dir
    from .serve import ServeConfig, serve
    from .store import open_store
    release = None if a.endpoint else release_dir(a.release)
    cfg = ServeConfig(release=release, endpoint=a.endpoint, query_timeout=a.query_timeout, max_results=a.max_results,
                      allow_service=a.allow_service, cors=a.cors, workers=a.workers)
    serve(cfg, host=a.host, port=a.port, store=open_store(release, a.endpoint))
    return 0


def add_add_document(p: argparse.ArgumentParser) -> None:
    p.add_argument("file", type=Path, help="the corpus file (a path; its name becomes corpus_file)")
    p.add_argument("--id", default=None, help="document id (default: first author's surname + year)")
    _draft_dirs(p)


def cmd_add_document(a: argparse.Namespace) -> int:
    from .draft import add_document, list_drafts
    path = add_document(a.file, a.sources or _project("sources"), a.ontology or _project("ontology"), a.id)
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
    from .draft import print_drafts
    from .draft.evaluate import report
    from .paths import corpus_dir
    if a.list:
        return print_drafts(a.list)
    return report(a.sources or _project("sources"), corpus_dir(a.corpus, required=True),
                  a.ontology or _project("ontology"), a.doc, a.write)


def add_network(p: argparse.ArgumentParser) -> None:
    p.add_argument("--release", type=Path, default=None, help="release folder (default KG_RELEASE or build/release)")
    what = p.add_mutually_exclusive_group()
    what.add_argument("--shared", action="store_true", help="studies several documents report, and whether they agree")
    what.add_argument("--comparisons", nargs="?", const="", metavar="SITE",
                      help="head-to-head comparisons (of one site: id or label, e.g. LiverMetastasis)")
    what.add_argument("--matrix", action="store_true", help="evidence per site x modality (studies, n, OS ranges)")
    what.add_argument("--central", type=int, nargs="?", const=10, metavar="N", help="the N most central studies")
    what.add_argument("--disagreements", action="store_true", help="groups of mutually disagreeing claims")
    p.add_argument("--export", choices=["graphml", "gexf", "json"], help="write the network (GraphML, GEXF, node-link)")
    p.add_argument("--output", "-o", type=Path, default=None, help="--export: file (default network.<ext>)")
    p.add_argument("--plot", type=Path, metavar="DIR", help="write the evidence map and a comparison graph (SVG, PNG)")
    p.add_argument("--site", default="LiverMetastasis", help="--plot: site of the comparison graph")


def cmd_network(a: argparse.Namespace) -> int:
    import json

    from . import network as net
    from .paths import release_dir
    g = net.evidence_graph(release_dir(a.release))
    if a.export:
        out = a.output or Path(f"network.{a.export}")
        net.write_graph(g, out, a.export)
        print(f"wrote {out}: {g.number_of_nodes()} nodes, {g.number_of_edges()} edges")
    if a.plot:
        print("wrote " + ", ".join(str(p) for p in net.plot(g, a.plot, a.site)))
    report = (net.shared_studies(g) if a.shared else net.comparisons(g, a.comparisons or None)
              if a.comparisons is not None else net.evidence_matrix(g) if a.matrix
              else net.central_studies(g, a.central) if a.central else net.disagreement_groups(g)
              if a.disagreements else None)
    if report is not None or not (a.export or a.plot):
        print(net.summary(g) if report is None else json.dumps(report, indent=1, ensure_ascii=False))
    return 0


# --- query layer ------------------------------------------------------------------------

def _engine_args(p: argparse.ArgumentParser) -> None:
    """Where a query runs and how its answer is printed: shared by query, sparql and find."""
    p.add_argument("--format", "-f", choices=["table", "csv", "json", "md"], default="table")
    p.add_argument("--endpoint", default=None, help="SPARQL 1.1 query endpoint URL (default: embedded engine)")
    p.add_argument("--release", type=Path, default=None, help="release folder (default build/release)")


def add_query(p: argparse.ArgumentParser) -> None:
    p.add_argument("name", nargs="?", help="named query (see --list)")
    p.add_argument("--list", action="store_true", help="list the named queries with their parameters")
    p.add_argument("--docs", action="store_true", help="write the query documentation (Markdown)")
    p.add_argument("--param", "-p", action="append", default=[], metavar="KEY=VALUE")
    p.add_argument("--output", "-o", type=Path, default=None)
    p.add_argument("--columns", "-c", default=None, metavar="A,B,...",
                   help="table columns, comma-separated, or 'all' (default: the query's own and the main claim ones)")
    p.conflict_handler = p._optionals.conflict_handler = "resolve"   # -h/--help with NAME: the query's parameters
    p.add_argument("-h", "--help", action="store_true", help="this help; with NAME, that query's parameters")
    p.set_defaults(query_parser=p)
    _engine_args(p)


#: the claim columns a terminal table shows by default (the rest: --columns all)
TABLE_COLUMNS = ["valueText", "flag", "unitLabel", "endpointLabel", "timePoint", "timeUnitLabel", "siteLabel",
                 "modalityLabel", "subgroup", "n", "pValue", "studyLabel", "corpusFile", "locator"]
PAIR_COLUMNS = ["studyLabelA", "endpointLabelA", "statisticLabelA", "timePointA", "modalityLabelA", "valueTextA",
                "modalityLabelB", "valueTextB", "pValueA", "flagA", "flagB", "corpusFileA", "locatorA", "corpusFileB",
                "locatorB"]


def _table_columns(variables: list[str]) -> list[str] | None:
    """The query's own columns (before the standard claim row) and the main claim columns."""
    start = "claimA" if "claimA" in variables else "claim" if "valueText" in variables else None
    if start is None:
        return None
    own = variables[:variables.index(start)]
    return own + [v for v in (PAIR_COLUMNS if start == "claimA" else TABLE_COLUMNS) if v in variables and v not in own]


def _describe(q: object, full: bool) -> str:
    lines = [f"{q.name:28s} {q.kind:13s} {q.title}\n"]           # type: ignore[attr-defined]
    for p in q.params.values():                                    # type: ignore[attr-defined]
        default = "required" if p.required else f"default {p.default}"
        lines.append(f"    --param {p.name}=...  {p.type}, {default}; {p.describe_values()}: {p.description}\n")
    if full:
        lines.append(f"\n{q.description}\n\nexample: {q.example}\n")      # type: ignore[attr-defined]
    return "".join(lines)


def cmd_query(a: argparse.Namespace) -> int:
    import shutil

    from .formats import format_result
    from .query import docs_markdown, get_query, load_queries, parse_params, run
    from .store import open_store
    if a.help and not a.name:
        a.query_parser.print_help()
        return 0
    if a.docs:
        text = docs_markdown(release=a.release)
    elif a.list or a.help or not a.name:
        text = "".join(_describe(q, bool(a.name)) for q in ([get_query(a.name)] if a.name else load_queries().values()))
    else:
        q, params = get_query(a.name), parse_params(a.param)
        result = run(a.name, params, open_store(a.release, a.endpoint))
        table = a.format == "table"
        cols = (None if a.columns == "all" else a.columns.split(",") if a.columns else
                _table_columns(result.variables) if table else None)
        text = format_result(result, a.format, shutil.get_terminal_size((160, 24)).columns if table else 0, cols)
        if "mode" in q.params and "mode" not in params:     # say which subtype mode answered
            mode = q.params["mode"]
            note = f"subtype mode: {mode.default} (the default; choose with --param mode={'|'.join(mode.allowed)})\n"
            text, _ = (text + note, None) if a.format in ("table", "md") else (text, sys.stderr.write(note))
    (a.output.write_text(text, encoding="utf-8") if a.output else sys.stdout.write(text))
    return 0


def add_sparql(p: argparse.ArgumentParser) -> None:
    p.add_argument("file", help="file holding a SELECT, ASK, CONSTRUCT or DESCRIBE query, or - for stdin "
                                "(CONSTRUCT/DESCRIBE print Turtle, ASK true/false; --format is for SELECT)")
    _engine_args(p)


def cmd_sparql(a: argparse.Namespace) -> int:
    from .formats import format_boolean, format_result, format_triples
    from .query import run_sparql
    from .store import open_store
    answer = run_sparql(_query_text(a.file), open_store(a.release, a.endpoint))
    if isinstance(answer, bool):
        sys.stdout.write(format_boolean(answer, a.format))
    elif isinstance(answer, list):
        sys.stdout.write(format_triples(answer))
    else:
        sys.stdout.write(format_result(answer, a.format))
    return 0


def _query_text(file: str) -> str:
    """The query of `kg sparql FILE|-`, as UTF-8 text; a missing file or binary input is bad input."""
    from .errors import InputError, Problem
    name = "stdin" if file == "-" else file
    try:
        raw = sys.stdin.buffer.read() if file == "-" else Path(file).read_bytes()
    except OSError as err:
        raise InputError(Problem(name, None, "file", file, f"cannot read: {err.strerror or err}")) from None
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as err:
        line = raw[:err.start].count(b"\n") + 1
        raise InputError(Problem(name, line, "query", raw[err.start:err.start + 1].hex(),
                                 "not UTF-8 text: a SPARQL query is text", "give a .rq file saved as UTF-8")) from None


def add_find(p: argparse.ArgumentParser) -> None:
    p.add_argument("text", help="label, synonym, abbreviation or id (or part of one)")
    _engine_args(p)


def cmd_find(a: argparse.Namespace) -> int:
    from .formats import format_result
    from .query import run
    from .store import open_store
    sys.stdout.write(format_result(run("find_term", {"text": a.text}, open_store(a.release, a.endpoint)), a.format))
    return 0


def add_load(p: argparse.ArgumentParser) -> None:
    p.add_argument("--endpoint", required=True,
                   help="store URL (e.g. http://localhost:7878/store, Virtuoso http://host:8890/sparql-graph-crud) "
                        "or, with --protocol update, an update URL")
    p.add_argument("--protocol", choices=["auto", "dataset", "gsp", "update"], default="auto",
                   help="dataset: one PUT of N-Quads (Oxigraph /store); gsp: Graph Store Protocol per graph; "
                        "update: SPARQL Update; auto (default): dataset, else gsp")
    p.add_argument("--default-graph", metavar="IRI", default=None,
                   help="put the default graph (each triple once) into this named graph, for a store queried "
                        "with default-graph-uri=IRI (Virtuoso)")
    p.add_argument("--release", type=Path, default=None, help="release folder (default KG_RELEASE or build/release)")


def cmd_load(a: argparse.Namespace) -> int:
    from .load import load_endpoint
    from .paths import release_dir
    n = load_endpoint(release_dir(a.release), a.endpoint, protocol=a.protocol, log=print,
                      default_graph=a.default_graph)
    print(f"loaded {n} named graphs into {a.endpoint}")
    return 0


# --- ontology -------------------------------------------------------------------------

def add_ontology(p: argparse.ArgumentParser) -> None:
    p.add_argument("action", choices=["check", "mappings", "build"],
                   help="check: QC report (exit 1 on errors); mappings: regenerate mappings.sssom.tsv; "
                        "build: write the merged ontology as Turtle")
    p.add_argument("--ontology", type=Path, default=None, help="ontology folder (default: the project's ontology/)")
    p.add_argument("--no-reasoner", action="store_true", help="check: skip the HermiT run")
    p.add_argument("--out", type=Path, default=None, help="build: output file (default build/ontology.ttl)")
    p.add_argument("--date", default=None, help="build: release date YYYY-MM-DD (default today)")


def cmd_ontology(a: argparse.Namespace) -> int:
    from .ontology import build, publish, qc
    a.ontology = a.ontology or _project("ontology")
    a.out = a.out or _project("build") / "ontology.ttl"
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
    from .ontology.publish import write_docs
    from .export import columns_markdown
    for path in write_docs(a.ontology or _project("ontology"), a.out or _project("docs") / "terms"):
        print(f"wrote {path}")
    columns = _project("docs") / "export-columns.md"
    columns.write_text(columns_markdown(), encoding="utf-8")
    print(f"wrote {columns}")
    return 0


def add_migrate(p: argparse.ArgumentParser) -> None:
    p.add_argument("--term", required=True, help="the retired term's id")
    p.add_argument("--to", default=None, help="the replacement (default: the term's replaced_by in the template)")
    p.add_argument("--sources", type=Path, default=None, help="extraction files (default: the project's sources/)")
    p.add_argument("--ontology", type=Path, default=None, help="ontology folder (default: the project's ontology/)")
    p.add_argument("--dry-run", action="store_true", help="list the rewrites, change nothing")


def cmd_migrate(a: argparse.Namespace) -> int:
    from .migrate import migrate_term
    changes = migrate_term(a.sources or _project("sources"), a.ontology or _project("ontology"), a.term, a.to,
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

    from .diff import diff_markdown, diff_releases, resolve_release
    out = a.out or _project("build")
    d = diff_releases(resolve_release(a.old, out), resolve_release(a.new or out / "release", out))
    print(diff_markdown(d) if a.format == "md" else json.dumps(dataclasses.asdict(d), indent=1))
    return 0


COMMANDS = {
    "build": (add_build, cmd_build, "build the release from the curated sources"),
    "check": (add_check, cmd_check, "check extraction files (schema, terms, spans)"),
    "locate": (add_locate, cmd_locate, "print the character span of a snippet in a corpus file"),
    "audit": (add_audit, cmd_audit, "completeness report: figures no claim or exclusion covers"),
    "add-document": (add_add_document, cmd_add_document,
                     "register a corpus file: sources/NNN_<id>.yaml with draft claims"),
    "draft": (add_draft, cmd_draft, "list draft claims, or score drafting against the curated documents"),
    "export": (add_export, cmd_export, "export the claims table as CSV or JSON"),
    "network": (add_network, cmd_network, "the evidence network: analyses, GraphML/GEXF/JSON, pictures"),
    "ontology": (add_ontology, cmd_ontology, "ontology QC report, SSSOM mappings, merged Turtle"),
    "docs": (add_docs, cmd_docs, "generate the term pages in docs/terms"),
    "query": (add_query, cmd_query, "run a named query (--list shows them)"),
    "sparql": (add_sparql, cmd_sparql, "run an ad-hoc SPARQL SELECT from a file or stdin"),
    "find": (add_find, cmd_find, "find vocabulary terms by label, synonym or abbreviation"),
    "migrate": (add_migrate, cmd_migrate, "rewrite the extraction files from a retired term to its replacement"),
    "diff": (add_diff, cmd_diff, "what changed between two releases (claims, terms, studies)"),
    "load": (add_load, cmd_load, "load a release into a remote SPARQL store"),
    "serve": (add_serve, cmd_serve, "serve IRIs, HTML pages and a read-only SPARQL endpoint"),
}


def make_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="kg", description="Breast-cancer metastasis knowledge graph")
    sub = parser.add_subparsers(dest="command", required=True)
    for name, (add, run, help_text) in COMMANDS.items():
        p = sub.add_parser(name, help=help_text)
        add(p)
        p.set_defaults(run=run)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = make_parser().parse_args(argv)
    try:
        return int(args.run(args))
    except KGError as err:
        print(f"error: {err}", file=sys.stderr)
        return err.exit_code
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
