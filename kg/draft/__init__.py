"""Drafting a new document: register the corpus file and write an extraction file of draft claims.

`kg add-document FILE` reads the text's metadata (kg/draft/metadata.py), drafts one claim per
figure the completeness audit flags (kg/draft/figures.py) and writes `sources/NNN_<id>.yaml`.
Every drafted claim carries `draft: true` and a `needs:` list of what a curator must still
decide; the loader refuses drafts unless asked (`load_source(..., allow_drafts=True)`), so
a build never publishes one.
"""
from __future__ import annotations

import json
import re
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from typing import Any

from ..errors import InputError, Problem
from ..model import QUALIFIERS
from ..spans import read_corpus_text, sha256_of
from ..yaml_lines import Node, parse_yaml
from .figures import Draft, draft_figures
from .lexicon import Lexicon
from .metadata import NOT_STATED, read_metadata

__all__ = ["Draft", "draft_document", "draft_text", "reference_list", "print_drafts", "add_document", "render_source",
           "list_drafts", "document_key"]

FIELD_ORDER = ["site", "modality", "arm", "endpoint", "statistic", "time_point", "time_unit", "value_qualifier",
               "value", "value_as_written", "value_low", "value_high", "unit", "min", "max", "ci", "p_value",
               "p_qualifier", "n"]


def document_key(corpus_file: str | Path) -> str:
    """The document number abbreviation tags use (`003` for 003_67d4bd3cf7430fde.txt)."""
    m = re.match(r"(\d{3})_", Path(corpus_file).name)
    return m.group(1) if m else ""


REFERENCES = re.compile(r"^\W*(?:references|bibliography|literature cited)\W*$", re.I | re.M)


def reference_list(text: str) -> tuple[int, int] | None:
    """The span of the reference list (from its heading to the end): its numbers are citations, not figures."""
    hits = [m for m in REFERENCES.finditer(text) if m.start() > len(text) * 0.4]
    return (hits[-1].start(), len(text)) if hits else None


def draft_document(text: str, ontology_dir: Path,
                   doc_key: str = "") -> tuple[list[Draft], list[tuple[int, int, str]]]:
    """Draft claims for a document from its text alone, each made loadable and given its `needs`; and the
    exclusions to propose, (start, end, reason): the reference list and numbers that are plainly not results."""
    refs = reference_list(text)
    found, skipped = draft_figures(text, Lexicon(ontology_dir, doc_key))
    outside = [(s, e, r) for s, e, r in skipped if refs is None or not refs[0] <= s < refs[1]]
    drafts = [d for d in found if refs is None or not refs[0] <= d.start < refs[1]]
    for d in drafts:
        _settle(d)
    exclusions = outside + ([(refs[0], refs[1], "reference list (found by kg add-document: check where it ends)")]
                            if refs else [])
    return drafts, exclusions


def draft_text(text: str, ontology_dir: Path, doc_key: str = "") -> list[Draft]:
    """The draft claims of `draft_document` alone."""
    return draft_document(text, ontology_dir, doc_key)[0]


def _settle(d: Draft) -> None:
    """Make a draft loadable (every required field present, every value in range) and list what is guessed."""
    f, needs = d.fields, ["study"] + d.needs
    value = Decimal(float(Fraction(str(f.get("value", f.get("value_high", "0"))))))
    if f.get("unit") == "percent" and value > 100:
        f.pop("unit")
    if f.get("statistic") == "RateAtTimePoint" and not f.get("time_point"):
        f["statistic"] = "Proportion"
        needs.append("time_point")
    if "endpoint" not in f:
        f["endpoint"], needs = "Endpoint", needs + ["endpoint"]
    if "statistic" not in f:
        f["statistic"], needs = "StatisticType", needs + ["statistic"]
    if "unit" not in f:
        f["unit"] = "ratio" if value < 1 else "patients" if "." not in str(value) else "month"
        needs.append("unit")
    if f["statistic"] in ("Count", "StatisticType") or f["endpoint"] == "Endpoint":
        needs.append("kind")
    for key in ("site", "modality"):
        if key not in f:
            needs.append(key)
    if "p_value" in f and Decimal(str(f["p_value"])) > 1:
        f.pop("p_value"), f.pop("p_qualifier", None)
    ci = f.get("ci")
    if isinstance(ci, list) and ("value" not in f or not Decimal(ci[0]) <= value <= Decimal(ci[1])):
        f.pop("ci")
    if "min" in f and Decimal(str(f["min"])) > Decimal(str(f["max"])):
        f.pop("min"), f.pop("max")
    if "value_low" in f and Decimal(str(f["value_low"])) > Decimal(str(f["value_high"])):
        f["value"] = f.pop("value_low")
        f.pop("value_high")
    if f.get("value_qualifier") not in QUALIFIERS:
        f.pop("value_qualifier", None)
    d.needs = list(dict.fromkeys(needs))


def _scalar(key: str, value: object) -> str:
    if isinstance(value, list):
        return "[" + ", ".join(str(v) for v in value) + "]"
    if key in ("value", "value_low", "value_high", "time_point", "min", "max", "p_value", "n"):
        return str(value)
    if key in ("arm", "locator", "p_qualifier", "value_qualifier", "value_as_written"):
        return json.dumps(str(value), ensure_ascii=False)
    return str(value)


def render_source(meta: dict[str, Any], doc_id: str, corpus_file: str, sha256: str, drafts: list[Draft],
                  exclusions: list[tuple[int, int, str]] | None = None) -> str:
    """The extraction file for a new document: its block, its own study and the drafts, as YAML."""
    def q(v: object) -> str:          # JSON strings are YAML double-quoted scalars
        return json.dumps(v, ensure_ascii=False)

    missing = ", ".join(meta.get("missing", [])) or "nothing"
    lines = ["# Drafted by `kg add-document`: every claim below is a draft (draft: true) listing in `needs`",
             "# what a curator must still decide. Check the document block too, then delete draft/needs.",
             "format: bcmkg-extraction/1", "document:", f"  id: {doc_id}", f"  corpus_file: {q(corpus_file)}",
             f"  sha256: {sha256}", f"  title: {q(meta['title'])}", f"  authors: {q(meta['authors'])}",
             f"  year: {meta.get('year') or 2000}", f"  venue: {q(meta['venue'])}"]
    if meta.get("doi"):
        lines.append(f"  doi: {meta['doi']}")
    lines.append(f"  design: [{', '.join(meta['design'])}]")
    if meta.get("language"):
        lines.append(f"  language: {meta['language']}")
    lines += [f"  note: {q(f'drafted from the text; not found there: {missing}; design and year are guesses')}",
              "studies:", f"  - id: {doc_id}", f"    label: {q(_label(meta, doc_id))}",
              f"    design: [{', '.join(meta['design'])}]", "    is_document: true", "claims:"]
    for i, d in enumerate(drafts, 1):
        lines += [f"  - id: d{i:04d}", "    kind: outcome", "    draft: true", f"    needs: [{', '.join(d.needs)}]",
                  f"    study: {doc_id}", f"    locator: {_scalar('locator', d.locator)}",
                  f"    span: [{d.span[0]}, {d.span[1]}]"]
        lines += [f"    {k}: {_scalar(k, d.fields[k])}" for k in FIELD_ORDER if k in d.fields]
    if exclusions:
        lines.append("exclusions:")
        for start, end, reason in exclusions:
            shown = reason if reason.startswith("reference") else "drafted: " + reason
            lines += [f"  - span: [{start}, {end}]", f"    reason: {q(shown)}"]
    return "\n".join(lines) + "\n"


def _label(meta: dict[str, Any], doc_id: str) -> str:
    authors = meta.get("authors") or []
    if authors and authors[0] != NOT_STATED and meta.get("year"):
        return f"{str(authors[0]).split()[0]} {meta['year']}"
    return doc_id


def _doc_id(meta: dict[str, Any], path: Path) -> str:
    authors = meta.get("authors") or []
    if authors and authors[0] != NOT_STATED and meta.get("year"):
        surname = re.sub(r"[^a-z]", "", str(authors[0]).split()[0].lower())
        if surname:
            return f"{surname}{meta['year']}"
    return re.sub(r"[^a-z0-9-]", "-", path.stem.lower()).strip("-") or "document"


def add_document(file: Path, sources_dir: Path, ontology_dir: Path, doc_id: str | None = None) -> Path:
    """Register a corpus file: write `sources/NNN_<id>.yaml` with its document block and draft claims.

    The number is the next free one; an existing file is never overwritten."""
    file = Path(file)
    if not file.is_file():
        raise InputError(Problem(str(file), None, "file", str(file), "no such corpus file"))
    text = read_corpus_text(file)
    meta = read_metadata(text)
    doc_id = doc_id or _doc_id(meta, file)
    if not re.fullmatch(r"[a-z0-9][a-z0-9-]*", doc_id):
        raise InputError(Problem(str(file), None, "--id", doc_id, "not a valid document id",
                                 "lowercase letters, digits and '-', e.g. sen2024"))
    sources_dir = Path(sources_dir)
    existing = sorted(sources_dir.glob("*.yaml"))
    for p in existing:
        if _corpus_file_of(p) == file.name:
            raise InputError(Problem(str(p), None, "document.corpus_file", file.name,
                                     "this corpus file is already registered", "edit that extraction file"))
        if p.name.split("_", 1)[-1] == f"{doc_id}.yaml":
            raise InputError(Problem(str(p), None, "document.id", doc_id, "this document id is taken",
                                     "give another --id"))
    numbers = [int(p.name[:3]) for p in existing if p.name[:3].isdigit()]
    target = sources_dir / f"{(max(numbers) + 1) if numbers else 0:03d}_{doc_id}.yaml"
    if target.exists():
        raise InputError(Problem(str(target), None, "file", str(target), "refusing to overwrite an existing file"))
    drafts, exclusions = draft_document(text, ontology_dir, document_key(file))
    sources_dir.mkdir(parents=True, exist_ok=True)
    target.write_text(render_source(meta, doc_id, file.name, sha256_of(file), drafts, exclusions), encoding="utf-8")
    return target


def _corpus_file_of(path: Path) -> str | None:
    m = re.search(r"^\s+corpus_file:\s*\"?([^\"\n]+)\"?", path.read_text(encoding="utf-8"), re.M)
    return m.group(1).strip() if m else None


def list_drafts(path: Path) -> list[tuple[str, int, str, list[str]]]:
    """(claim id, line, locator, needs) of every draft claim in an extraction file."""
    data = parse_yaml(Path(path))
    out = []
    for node in data.get("claims") or []:
        if isinstance(node, Node) and node.get("draft"):
            out.append((str(node.get("id")), node.line, str(node.get("locator", "")),
                        [str(n) for n in node.get("needs") or []]))
    return out


def print_drafts(paths: list[Path]) -> int:
    """Print every draft with what it still needs; 1 while any remain (for `kg draft --list`)."""
    total = 0
    for path in paths:
        for cid, line, locator, needs in list_drafts(path):
            print(f"{path}:{line} {cid} [{locator}] needs: {', '.join(needs)}")
            total += 1
    print(f"{total} draft claim(s) still to curate")
    return 1 if total else 0
