"""What a document's first lines say about it: title, authors, year, venue, DOI and design.

Heuristics only; whatever they cannot find is written as "not stated in the corpus text"
and named in the document note, for the curator to settle.
"""
from __future__ import annotations

import re
from collections import Counter
from typing import Any

__all__ = ["read_metadata", "NOT_STATED"]

NOT_STATED = "not stated in the corpus text"
DOI = re.compile(r"10\.\d{4,9}/[^\s\"<>\])]+")
CITATION = re.compile(r"([A-Z][A-Za-z.&' ]{2,60}?)\*?\s+((?:19|20)\d\d)\s*;\s*\**\s*(\d+\s*(?:\(\s*\d+\s*\))?)\**"
                      r"\s*:\s*(\d+[-–]?\d*)")
DATED = re.compile(r"(?:Posted|Published|Accepted|Received)(?: Date| online)?:?\s+(?:\d{1,2}\s+)?"
                   r"(?:[A-Z][a-z]+\s+)?((?:19|20)\d\d)")
START_OF_BODY = re.compile(r"^\W*(?:abstract|background|introduction)\b", re.I)
SKIP_TITLE = re.compile(r"^(?:review|research article|original article|not peer-reviewed version|open access)$", re.I)
DESIGN_WORDS = [("SystematicReview", r"systematic review"), ("MetaAnalysis", r"meta-analysis"),
                ("NarrativeReview", r"\b(?:mini review|narrative review|review)\b"),
                ("RetrospectiveCohortStudy", r"retrospective"),
                ("CaseSeries", r"\bseries\b|\bwe (?:evaluated|reviewed)\b")]


def _clean(line: str) -> str:
    line = re.sub(r"<sup>.*?</sup>|\[([^\]]*)\]\([^)]*\)", lambda m: m.group(1) or "", line)
    return re.sub(r"[*#_]", "", line).strip()


def _author(name: str) -> str | None:
    words = [w for w in re.split(r"\s+", name.strip(" ,*")) if w]
    if not 2 <= len(words) <= 5 or not all(re.match(r"^[A-ZÀ-Ý][\w'’.-]*$", w) for w in words):
        return None
    return f"{words[-1]} {''.join(w[0] for w in words[:-1])}"


def read_metadata(text: str) -> dict[str, Any]:
    """Title, authors, year, venue, DOI, designs and language guessed from the text (`missing`: not found)."""
    lines = [_clean(x) for x in text.splitlines()[:60]]
    head: list[str] = []
    for line in lines:
        if START_OF_BODY.match(line):
            break
        if line:
            head.append(line)
    title, authors = None, []
    for i, line in enumerate(head):
        if SKIP_TITLE.match(line) or len(line) < 15 or len(line.split()) < 4 or line.endswith("."):
            continue
        title = line
        for nxt in head[i + 1:i + 4]:
            names = [_author(n) for n in re.split(r",|\band\b|&", nxt) if n.strip(" ,*")]
            if names and all(names):
                authors += [n for n in names if n]
            elif authors:
                break
        break
    cite = CITATION.search(text[:8000])
    dated = DATED.search(text[:8000])
    years = Counter(re.findall(r"\b((?:19|20)\d\d)\b", text[:3000]))
    year = (int(cite.group(2)) if cite else int(dated.group(1)) if dated else
            int(years.most_common(1)[0][0]) if years else None)
    doi = next((m.group(0).rstrip(".,;") for m in DOI.finditer(text) if m.start() < len(text) * 0.2), None)
    short = re.search(r"\b((?:[A-Z][a-z]+\.[ ]*){1,4})[ ]*(\d+)[ ]*:[ ]*(\d+)", text[:8000])
    venue = (f"{cite.group(1).strip()} {cite.group(2)};{cite.group(3).replace(' ', '')}:{cite.group(4)}" if cite else
             f"{short.group(1).strip()} {short.group(2)}:{short.group(3)}" if short else
             "Preprints" if re.search(r"preprints?", text[:3000], re.I) else None)
    lead = (title or "") + " " + text[:4000]
    designs = [d for d, words in DESIGN_WORDS if re.search(words, lead, re.I)][:2] or ["StudyDesign"]
    if re.search(r"review", title or "", re.I):
        designs = [d for d in designs if d in ("SystematicReview", "MetaAnalysis")] or ["NarrativeReview"]
    han = len(re.findall(r"[\u4e00-\u9fff]", text))
    meta: dict[str, Any] = {"title": title or NOT_STATED, "authors": authors or [NOT_STATED],
                               "year": year, "venue": venue or NOT_STATED, "doi": doi, "design": designs,
                               "language": "zh" if han > len(text) * 0.05 else None}
    meta["missing"] = [k for k in ("title", "authors", "year", "venue") if meta[k] in (None, NOT_STATED, [NOT_STATED])]
    return meta
