"""The user's commands: named and ad-hoc queries, find, export, network, load a remote store, serve."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .common import engine_args, project

#: the claim columns a terminal table shows by default (the rest: --columns all)
TABLE_COLUMNS = ["valueText", "flag", "unitLabel", "endpointLabel", "timePoint", "timeUnitLabel", "siteLabel",
                 "modalityLabel", "subgroup", "n", "pValueAsPrinted", "studyLabel", "corpusFile", "locator"]
PAIR_COLUMNS = ["studyLabelA", "endpointLabelA", "statisticLabelA", "timePointA", "modalityLabelA", "valueTextA",
                "modalityLabelB", "valueTextB", "pValueAsPrintedA", "flagA", "flagB", "corpusFileA", "locatorA", "corpusFileB",
                "locatorB"]


def add_export(p: argparse.ArgumentParser) -> None:
    p.add_argument("what", choices=["claims", "fhir"], help="claims: the claims table; fhir: FHIR R5 Evidence")
    p.add_argument("--format", choices=["csv", "json", "parquet"], default="csv", help="parquet needs pyarrow and -o")
    p.add_argument("--release", type=Path, default=None, help="release folder (default KG_RELEASE or build/release)")
    p.add_argument("--output", "-o", type=Path, default=None)
    p.add_argument("--out", type=Path, default=None, help="fhir: output folder (default build/fhir)")


def cmd_export(a: argparse.Namespace) -> int:
    from ..export import export_claims
    from ..paths import release_dir
    if a.what == "fhir":
        from ..fhir import write_fhir
        out = a.out or project("build") / "fhir"
        bundles, resources = write_fhir(release_dir(a.release), out)
        print(f"wrote {out}: {bundles} Bundle(s), {resources} Evidence resource(s)")
        return 0
    if a.format == "parquet":
        from ..errors import KGError
        from ..export import export_parquet
        if not a.output:
            raise KGError("--format parquet writes a file: give --output FILE.parquet")
        print(f"wrote {export_parquet(release_dir(a.release), a.output)}")
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
    from ..paths import release_dir
    from ..serve import ServeConfig, serve
    from ..store import open_store
    release = None if a.endpoint else release_dir(a.release)
    cfg = ServeConfig(release=release, endpoint=a.endpoint, query_timeout=a.query_timeout, max_results=a.max_results,
                      allow_service=a.allow_service, cors=a.cors, workers=a.workers)
    serve(cfg, host=a.host, port=a.port, store=open_store(release, a.endpoint))
    return 0


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

    from .. import network as net
    from ..paths import release_dir
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
    engine_args(p)


def _table_columns(variables: list[str]) -> list[str] | None:
    """The query's own columns (before the standard claim row) and the main claim columns."""
    start = "claimA" if "claimA" in variables else "claim" if "valueText" in variables else None
    if start is None:
        return None
    # a claim bound as a parameter (claim_provenance) is hidden: the standard row starts at valueText
    own = variables[:variables.index(start if start in variables else "valueText")]
    return own + [v for v in (PAIR_COLUMNS if start == "claimA" else TABLE_COLUMNS) if v in variables and v not in own]


def _describe(q: object, full: bool) -> str:
    lines = [f"{q.name:28s} {q.kind:13s} {q.title}\n"]           # type: ignore[attr-defined]
    for p in q.params.values():                                    # type: ignore[attr-defined]
        default = "required" if p.required else "no default" if p.default is None else f"default {p.default}"
        lines.append(f"    --param {p.name}=...  {p.type}, {default}; {p.describe_values()}: {p.description}\n")
    if full:
        lines.append(f"\n{q.description}\n\nexample: {q.example}\n")      # type: ignore[attr-defined]
    return "".join(lines)


def parse_params(pairs: list[str]) -> dict[str, str]:
    """`key=value` strings from the command line (a value may itself contain '=')."""
    from ..errors import QueryError
    out = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise QueryError(f"--param {pair!r}: expected key=value")
        out[key.strip()] = value
    return out


def cmd_query(a: argparse.Namespace) -> int:
    # imports per branch: --list and --help read the query headers only (no store, no output formats)
    if a.help and not a.name:
        a.query_parser.print_help()
        return 0
    if a.docs:
        from ..query_docs import docs_markdown
        text = docs_markdown(release=a.release)
    elif a.list or a.help or not a.name:
        from ..query import get_query, load_queries
        text = "".join(_describe(q, bool(a.name)) for q in ([get_query(a.name)] if a.name else load_queries().values()))
    else:
        import shutil

        from ..formats import format_result
        from ..query import get_query, run
        from ..store import open_store
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
    engine_args(p)


def cmd_sparql(a: argparse.Namespace) -> int:
    from ..formats import format_boolean, format_result, format_triples
    from ..query import run_sparql
    from ..store import open_store
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
    from ..errors import InputError, Problem
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
    engine_args(p)


def cmd_find(a: argparse.Namespace) -> int:
    from ..formats import format_result
    from ..query import run
    from ..store import open_store
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
    from ..load import load_endpoint
    from ..paths import release_dir
    n = load_endpoint(release_dir(a.release), a.endpoint, protocol=a.protocol, log=print,
                      default_graph=a.default_graph)
    print(f"loaded {n} named graphs into {a.endpoint}")
    return 0
