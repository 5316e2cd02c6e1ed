"""How good the drafts are: each corpus document drafted from its text alone, against its curated claims.

A draft matches a claim when one of its values (value, or a range end) equals one of the
claim's and the two spans overlap. Recall is over the curated outcome claims that state a
figure; precision over all drafts (a draft matching a curated claim of any kind counts);
field agreement over the matched outcome claims, "both left empty" counting as agreement.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

from ..model import Claim, as_number
from ..ontology.terms import load_terms
from ..sources import load_source
from ..spans import read_corpus_text
from . import Draft, document_key, draft_text

__all__ = ["DocumentScore", "evaluate", "format_table", "write_report", "SCORED_FIELDS"]

SCORED_FIELDS = ["statistic", "endpoint", "time_point", "site", "modality"]


@dataclass
class DocumentScore:
    doc: str
    outcomes: int = 0            # curated outcome claims that state a figure
    without_figure: int = 0      # curated outcome claims with no figure to match (direction, "not reached")
    recalled: int = 0
    drafts: int = 0
    precise: int = 0
    right: dict[str, int] = field(default_factory=lambda: {f: 0 for f in SCORED_FIELDS})
    all_three: int = 0           # statistic, endpoint and time point all right
    misses: list[tuple[str, str, str]] = field(default_factory=list)   # (kind, claim id, excerpt)


def _nums(values: dict[str, object]) -> set[Fraction]:
    nums = (as_number(values.get(k)) for k in ("value", "value_low", "value_high"))
    return {Fraction(n) for n in nums if n is not None}


def _overlap(a: tuple[int, int], b: tuple[int, int]) -> bool:
    return a[0] < b[1] and b[0] < a[1]


def _agree(d: Draft, c: Claim, key: str) -> bool:
    mine, theirs = d.fields.get(key), c.values.get(key)
    if key == "time_point":
        mine = as_number(mine) if mine is not None and "time_point" not in d.needs else None
        theirs = as_number(theirs)
        return mine == theirs
    if key in ("statistic", "endpoint") and mine in ("StatisticType", "Endpoint"):
        mine = None
    return (mine or None) == (theirs or None)


def miss_kind(c: Claim, text: str) -> str:
    """Why a curated figure was not drafted, by the shape of its evidence."""
    excerpt = text[c.span[0]:c.span[1]]
    if c.values.get("value_as_written"):
        return "written-out number"
    if "value_low" in c.values or "value_high" in c.values:
        return "range"
    if "\t" in excerpt:
        return "table cell"
    if re.search(r"^\S+,.*(?:19|20)\d\d", excerpt):
        return "OCR table row"
    if c.values.get("interpretation"):
        return "reinterpreted value"
    return "prose figure"


def score_document(claims: list[Claim], drafts: list[Draft], text: str, doc: str) -> DocumentScore:
    score = DocumentScore(doc, drafts=len(drafts))
    dnums = [({Fraction(Decimal(v)) for v in d.values()}, d) for d in drafts]
    for d_values, d in dnums:
        if any(d_values & _nums(c.values) and _overlap(d.span, c.span) for c in claims):
            score.precise += 1
    for c in claims:
        if c.kind != "outcome":
            continue
        nums = _nums(c.values)
        if not nums:
            score.without_figure += 1
            continue
        score.outcomes += 1
        hits = [d for d_values, d in dnums if d_values & nums and _overlap(d.span, c.span)]
        if not hits:
            excerpt = text[c.span[0]:c.span[1]].replace("\n", " ").replace("\t", " | ")
            score.misses.append((miss_kind(c, text), c.id, excerpt[:90]))
            continue
        score.recalled += 1
        best = max(hits, key=lambda d: sum(_agree(d, c, k) for k in SCORED_FIELDS))
        for k in SCORED_FIELDS:
            score.right[k] += _agree(best, c, k)
        score.all_three += all(_agree(best, c, k) for k in ("statistic", "endpoint", "time_point"))
    return score


def evaluate(sources_dir: Path, corpus: Path, ontology_dir: Path, only: str | None = None) -> list[DocumentScore]:
    """Draft every curated document's text and score the drafts against its curated claims."""
    terms = load_terms(ontology_dir)
    scores = []
    for path in sorted(Path(sources_dir).glob("*.yaml")):
        source = load_source(path, terms, allow_drafts=True)
        if only and source.document.id != only:
            continue
        text = read_corpus_text(Path(corpus) / source.document.corpus_file)
        drafts = draft_text(text, ontology_dir, document_key(source.document.corpus_file))
        scores.append(score_document(source.claims, drafts, text, source.document.id))
    return scores


def _pct(a: int, b: int) -> str:
    return f"{100 * a / b:.0f} %" if b else "–"


def format_table(scores: list[DocumentScore]) -> str:
    """A Markdown table, one row per document and one for all."""
    total = DocumentScore("**all**")
    for s in scores:
        for k in ("outcomes", "without_figure", "recalled", "drafts", "precise", "all_three"):
            setattr(total, k, getattr(total, k) + getattr(s, k))
        for k in SCORED_FIELDS:
            total.right[k] += s.right[k]
    head = ["document", "outcome claims", "drafted (recall)", "drafts", "precision",
            *SCORED_FIELDS, "stat+endpoint+time"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for s in [*scores, total]:
        cells = [s.doc, str(s.outcomes), f"{s.recalled} ({_pct(s.recalled, s.outcomes)})", str(s.drafts),
                 _pct(s.precise, s.drafts), *(_pct(s.right[k], s.recalled) for k in SCORED_FIELDS),
                 _pct(s.all_three, s.recalled)]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def format_misses(scores: list[DocumentScore]) -> str:
    groups: dict[str, list[str]] = {}
    for s in scores:
        for kind, cid, excerpt in s.misses:
            groups.setdefault(kind, []).append(f"{s.doc}:{cid} — `{excerpt.replace('`', '')}`")
    out = []
    for kind, items in sorted(groups.items(), key=lambda kv: -len(kv[1])):
        out += [f"### {kind} ({len(items)})", "", *(f"- {i}" for i in items), ""]
    return "\n".join(out) if out else "none\n"


def write_report(scores: list[DocumentScore], path: Path, preamble: str) -> None:
    """docs/drafting.md: the method, the table and the misses grouped by kind."""
    text = (preamble.rstrip() + "\n\n## Results\n\n" + format_table(scores) + "\n\n"
            f"Outcome claims without a figure (a direction, \"not reached\") are not counted: "
            f"{sum(s.without_figure for s in scores)}.\n\n## Misses, by kind\n\n" + format_misses(scores))
    Path(path).write_text(text, encoding="utf-8")
