"""Orchestrates a build: sources -> spans -> RDF -> SHACL -> reasoner -> release files."""
from __future__ import annotations

from pathlib import Path
from typing import Callable

from .errors import ConformanceError, InputError
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
