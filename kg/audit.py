"""Completeness report: figures in the corpus that no claim span and no exclusion covers.

What counts as "looks like an outcome figure" is deliberately generous (percentages,
durations, ratios, p-values, CIs, sample sizes, decimals, numbers in table rows): the
curator either claims each one or excludes it with a reason, so nothing is lost silently.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from .ontology.terms import TermIndex, load_terms
from .records import Source
from .sources import load_source
from .spans import read_corpus_text

NUM = r"\d{1,3}(?:,\d{3})+|\d+(?:\.\d+)?"
PATTERNS = [
    ("percentage", re.compile(rf"(?<![\d.])({NUM})\s*(?:%|percent)")),
    ("duration", re.compile(rf"(?<![\d.])({NUM})(?:\s*[-–]\s*|\s+|-)(?:months?|years?|yrs?|weeks?|days?|mo)\b", re.I)),
    ("p-value", re.compile(rf"\bp\s*[=<>≤≥]\s*({NUM}|\.\d+)", re.I)),
    ("ratio or CI", re.compile(rf"(?:\b(?:HR|OR|CI)\b|(?i:hazard ratio|odds ratio|c-index|concordance index))"
                               rf"[^.;\n]{{0,25}}?(?<![\w.])({NUM})")),
    ("sample size", re.compile(rf"(?<![\d.])({NUM})\s+(?:patients|women|cases|studies|participants|lesions|subjects)\b", re.I)),
    ("sample size", re.compile(rf"\bn\s*=\s*({NUM})", re.I)),
    ("decimal", re.compile(r"(?<![\d.])(\d+\.\d+)(?![\d.])")),
    ("range", re.compile(rf"(?<![\d.])({NUM})\s*[–-]\s*(?:{NUM})")),
]
YEAR = re.compile(r"^(19|20)\d\d$")


@dataclass
class Finding:
    doc: str
    start: int
    end: int
    line: int
    kind: str
    context: str


@dataclass
class DocumentAudit:
    doc: str
    corpus_file: str
    candidates: int = 0
    claimed: int = 0
    excluded: int = 0
    unexplained: list[Finding] = field(default_factory=list)


@dataclass
class AuditReport:
    documents: list[DocumentAudit]

    @property
    def total_unexplained(self) -> int:
        return sum(len(d.unexplained) for d in self.documents)


def candidates(text: str) -> list[tuple[int, int, str]]:
    """Offsets of every number that looks like an outcome figure (years are skipped)."""
    found: dict[int, tuple[int, int, str]] = {}
    for kind, pattern in PATTERNS:
        for m in pattern.finditer(text):
            s, e = m.start(1), m.end(1)
            if YEAR.match(m.group(1)) and kind not in ("percentage", "duration"):
                continue
            found.setdefault(s, (s, e, kind))
    offset = 0
    for line in text.splitlines(keepends=True):  # table rows: every number in a tab-separated line
        if "\t" in line:
            for m in re.finditer(rf"(?<![\d.\w])({NUM})(?![\d\w])", line):
                if not YEAR.match(m.group(1)):
                    found.setdefault(offset + m.start(1), (offset + m.start(1), offset + m.end(1), "table cell"))
        offset += len(line)
    return sorted(found.values())


def audit_document(source: Source, text: str) -> DocumentAudit:
    covered = [c.span for c in source.claims] + [c.span for c in source.cases]
    excluded = [e.span for e in source.exclusions]
    result = DocumentAudit(doc=source.document.id, corpus_file=source.document.corpus_file)
    for s, e, kind in candidates(text):
        result.candidates += 1
        if any(a <= s and e <= b for a, b in covered):
            result.claimed += 1
        elif any(a <= s and e <= b for a, b in excluded):
            result.excluded += 1
        else:
            line = text.count("\n", 0, s) + 1
            ctx = text[max(0, s - 40):e + 40].replace("\n", " ").replace("\t", " ")
            result.unexplained.append(Finding(result.doc, s, e, line, kind, ctx))
    return result


def audit(sources_dir: Path, corpus: Path, only: str | None = None, terms: TermIndex | None = None) -> AuditReport:
    """Audit every extraction file in `sources_dir` against its corpus document."""
    if terms is None:
        from .paths import project_dir
        terms = load_terms(project_dir("ontology"))
    docs = []
    for path in sorted(Path(sources_dir).glob("*.yaml")):
        source = load_source(path, terms)
        if only and source.document.id != only:
            continue
        text = read_corpus_text(Path(corpus) / source.document.corpus_file)
        docs.append(audit_document(source, text))
    return AuditReport(docs)


def format_report(report: AuditReport, details: bool = True) -> str:
    lines = ["completeness: figures that look like outcome figures, per document",
             f"{'document':<18} {'candidates':>10} {'claimed':>8} {'excluded':>9} {'unexplained':>12}"]
    for d in report.documents:
        lines.append(f"{d.doc:<18} {d.candidates:>10} {d.claimed:>8} {d.excluded:>9} {len(d.unexplained):>12}")
    if details:
        for d in report.documents:
            for f in d.unexplained:
                lines.append(f"  {d.corpus_file}:{f.line} [{f.start}-{f.end}] {f.kind}: …{f.context}…")
    return "\n".join(lines)
