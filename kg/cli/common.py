"""What several commands share: where the project, corpus and release are, and the engine options."""
from __future__ import annotations

import argparse
from pathlib import Path


def corpus(a: argparse.Namespace) -> Path | None:
    """The corpus to check spans against: --corpus, KG_CORPUS or ../shared/corpus; none with --no-corpus."""
    from ..paths import corpus_dir
    if getattr(a, "no_corpus", False):
        return None
    return corpus_dir(a.corpus)


def project(name: str) -> Path:
    from ..paths import project_dir
    return project_dir(name)


def corpus_args(p: argparse.ArgumentParser) -> None:
    src = p.add_mutually_exclusive_group()
    src.add_argument("--corpus", type=Path, default=None,
                     help="corpus folder for span and sha256 checks (default KG_CORPUS, else ../shared/corpus when present)")
    src.add_argument("--no-corpus", action="store_true", help="skip the span and sha256 checks against the corpus")


def engine_args(p: argparse.ArgumentParser) -> None:
    """Where a query runs and how its answer is printed: shared by query, sparql and find."""
    p.add_argument("--format", "-f", choices=["table", "csv", "json", "md"], default="table")
    p.add_argument("--endpoint", default=None, help="SPARQL 1.1 query endpoint URL (default: embedded engine)")
    p.add_argument("--release", type=Path, default=None, help="release folder (default build/release)")
