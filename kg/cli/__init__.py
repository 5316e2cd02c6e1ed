"""Thin commands, one per stage. Library code raises KGError; here it becomes an exit code.

Exit codes: 0 ok, 1 data does not conform, 2 bad input or usage. Each command has an
`add_<name>` (its arguments) and a `cmd_<name>` (a few lines that call the library), in
curate.py (the curator's commands) or use.py (the informatician's and app's); logic belongs
in the stage modules.
"""
from __future__ import annotations

import argparse
import sys
from collections.abc import Callable

from ..errors import KGError
from . import curate, use

COMMANDS: dict[str, tuple[Callable[[argparse.ArgumentParser], None], Callable[[argparse.Namespace], int], str]] = {
    "build": (curate.add_build, curate.cmd_build, "build the release from the curated sources"),
    "check": (curate.add_check, curate.cmd_check, "check extraction files (schema, terms, spans)"),
    "locate": (curate.add_locate, curate.cmd_locate, "print the character span of a snippet in a corpus file"),
    "audit": (curate.add_audit, curate.cmd_audit, "completeness report: figures no claim or exclusion covers"),
    "add-document": (curate.add_add_document, curate.cmd_add_document,
                     "register a corpus file: sources/NNN_<id>.yaml with draft claims"),
    "draft": (curate.add_draft, curate.cmd_draft, "list draft claims, or score drafting against the curated documents"),
    "export": (use.add_export, use.cmd_export, "export the claims table (CSV, JSON) or FHIR Evidence resources"),
    "network": (use.add_network, use.cmd_network, "the evidence network: analyses, GraphML/GEXF/JSON, pictures"),
    "ontology": (curate.add_ontology, curate.cmd_ontology, "ontology QC report, SSSOM mappings, merged Turtle"),
    "docs": (curate.add_docs, curate.cmd_docs, "generate the term pages (docs/terms) and docs/export-columns.md"),
    "query": (use.add_query, use.cmd_query, "run a named query (--list shows them)"),
    "sparql": (use.add_sparql, use.cmd_sparql, "run ad-hoc SPARQL (SELECT, ASK, CONSTRUCT, DESCRIBE) from a file or stdin"),
    "find": (use.add_find, use.cmd_find, "find vocabulary terms by label, synonym or abbreviation"),
    "migrate": (curate.add_migrate, curate.cmd_migrate, "rewrite the extraction files from a retired term to its replacement"),
    "diff": (curate.add_diff, curate.cmd_diff, "what changed between two releases (claims, terms, studies)"),
    "load": (use.add_load, use.cmd_load, "load a release into a remote SPARQL store"),
    "serve": (use.add_serve, use.cmd_serve, "serve IRIs, HTML pages and a read-only SPARQL endpoint"),
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
