"""Span and sha256 checks against the corpus: does each span still hold its numbers?"""
from __future__ import annotations

import hashlib
import re
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from typing import Any

from .errors import ConformanceError, InputError, Problem
from .records import Claim, Source, as_number

NUMBER = re.compile(r"(?<![\d.])(\d{1,3}(?:,\d{3})+(?![\d])|\d+(?:\.\d+)?|\.\d+)")
UNITS_WORDS = {
    "zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
    "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15,
    "sixteen": 16, "seventeen": 17, "eighteen": 18, "nineteen": 19,
}
TENS_WORDS = {"twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70,
              "eighty": 80, "ninety": 90}
FRACTION_WORDS = {"half": Fraction(1, 2), "one-half": Fraction(1, 2), "one-third": Fraction(1, 3),
                  "two-thirds": Fraction(2, 3), "one-quarter": Fraction(1, 4), "one-fourth": Fraction(1, 4),
                  "three-quarters": Fraction(3, 4), "one-fifth": Fraction(1, 5)}
WORD = re.compile(r"[A-Za-z]+(?:-[A-Za-z]+)*")


def sha256_of(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def read_corpus_text(path: Path) -> str:
    return Path(path).read_text(encoding="utf-8")


def numbers_in(text: str) -> list[tuple[Decimal | Fraction, int, int]]:
    """Every number written in `text`, in digits or in words, with its offsets."""
    found = [(Decimal(m.group(1).replace(",", "")), m.start(1), m.end(1)) for m in NUMBER.finditer(text)]
    return found + _word_numbers(text)


def _word_numbers(text: str) -> list[tuple[Decimal | Fraction, int, int]]:
    out: list[tuple[Decimal | Fraction, int, int]] = []
    words = [(m.group(0).lower(), m.start(), m.end()) for m in WORD.finditer(text)]
    i = 0
    while i < len(words):
        w, s, e = words[i]
        if w in FRACTION_WORDS:
            out.append((FRACTION_WORDS[w], s, e))
            i += 1
            continue
        value, j, end = _compound(words, i)
        if j > i:
            out.append((Decimal(value), s, end))
            i = j
        else:
            i += 1
    return out


def _small(word: str) -> int | None:
    """'twenty', 'eighty-one', 'three' -> int; also 'three-fold' -> 3."""
    word = word.removesuffix("-fold")
    if word in UNITS_WORDS:
        return UNITS_WORDS[word]
    if word in TENS_WORDS:
        return TENS_WORDS[word]
    parts = word.split("-")
    if len(parts) == 2 and parts[0] in TENS_WORDS and parts[1] in UNITS_WORDS and 0 < UNITS_WORDS[parts[1]] < 10:
        return TENS_WORDS[parts[0]] + UNITS_WORDS[parts[1]]
    return None


def _compound(words: list[tuple[str, int, int]], i: int) -> tuple[int, int, int]:
    """Read 'eight thousand two hundred eighty' starting at i; return (value, next index, end offset)."""
    total, current, j, end = 0, None, i, 0
    while j < len(words):
        w = words[j][0]
        small = _small(w)
        if small is not None and (current is None or current % 100 == 0 or (current % 10 == 0 and small < 10)):
            current = (current or 0) + small
        elif w == "hundred" and current is not None:
            current *= 100
        elif w == "thousand" and current is not None:
            total += current * 1000
            current = 0
        elif w == "and" and current is not None and j + 1 < len(words) and _small(words[j + 1][0]) is not None:
            pass
        else:
            break
        end = words[j][2]
        j += 1
    if current is None and total == 0:
        return 0, i, 0
    return total + (current or 0), j, end


def holds(text: str, value: Decimal | Fraction) -> bool:
    """True when `text` writes `value` (74.70 matches 74.7; 'one-third' matches 1/3)."""
    return any(found == value for found, _, _ in numbers_in(text))


def locate(file: Path | str, snippet: str, corpus: Path | None = None) -> list[tuple[int, int, int]]:
    """Where `snippet` occurs in a corpus file: (start, end, line) for each occurrence."""
    path = Path(file)
    if not path.exists() and corpus is not None:
        path = Path(corpus) / Path(file).name
    if not path.exists():
        raise InputError(Problem(str(file), None, "file", str(file), "corpus file not found",
                                 "give a path, or a file name with --corpus DIR"))
    text = read_corpus_text(path)
    hits, start = [], text.find(snippet)
    while start >= 0:
        hits.append((start, start + len(snippet), text.count("\n", 0, start) + 1))
        start = text.find(snippet, start + 1)
    return hits


def claim_numbers(claim: Claim) -> list[tuple[str, object]]:
    """The (field, value) pairs a claim's span must hold."""
    pairs = [(f, claim.values[f]) for f in ("value", "value_low", "value_high", "p_value", "cutoff", "cutoff_low",
                                          "cutoff_high") if claim.values.get(f) is not None]
    ci = claim.values.get("ci")
    if isinstance(ci, tuple):
        pairs += [("ci", v) for v in ci]
    return pairs


def check_spans(source: Source, corpus: Path) -> list[Problem]:
    """Check sha256 and every span of one loaded extraction file; return the problems found."""
    doc, path = source.document, source.path
    corpus_file = Path(corpus) / doc.corpus_file
    if not corpus_file.exists():
        return [Problem(path, doc.lines.get("corpus_file"), "document.corpus_file", doc.corpus_file,
                        f"no such file in the corpus folder {corpus}")]
    problems = []
    actual = sha256_of(corpus_file)
    if actual != doc.sha256:
        problems.append(Problem(path, doc.lines.get("sha256"), "document.sha256", doc.sha256,
                                f"does not match the corpus file (its sha256 is {actual})",
                                "the corpus changed, or the file names the wrong document: re-check the spans"))
        return problems
    text = read_corpus_text(corpus_file)
    groups: list[tuple[str, list[Any]]] = [("claims", source.claims), ("cases", source.cases),
                                      ("exclusions", source.exclusions)]
    for group, items in groups:
        for i, item in enumerate(items):
            start, end = item.span
            line = item.lines.get("span", item.line)
            if end > len(text):
                problems.append(Problem(path, line, f"{group}[{i}].span", list(item.span),
                                        f"span ends after the end of the document ({len(text)} characters)"))
                continue
            if group == "claims":
                problems += _claim_span_problems(path, i, item, text[start:end])
                problems += _position_problems(path, i, item, text)
    return problems


def _claim_span_problems(path: str, i: int, claim: Claim, excerpt: str) -> list[Problem]:
    problems = []
    for field, value in claim_numbers(claim):
        number = as_number(value)
        written = claim.values.get("value_as_written")
        if number is not None and not holds(excerpt, number) and not (
                field == "value" and written and str(written).lower() in excerpt.lower()):
            problems.append(Problem(
                path, claim.lines.get(field, claim.line), f"claims[{i}].{field}", value,
                f"the span {list(claim.span)} (claim '{claim.id}') does not contain this number",
                f"the span reads {excerpt[:120]!r}" + ("…" if len(excerpt) > 120 else "")))
    return problems


def _position_problems(path: str, i: int, claim: Claim, text: str) -> list[Problem]:
    """The value where the curator says it is (`value_at`), and a value that is not its own n.

    A span often holds several numbers, so a value changed to another of them still "holds".
    `value_at: OFFSET` pins the value to the number printed at that character offset. Without
    it, a value equal to the claim's n that is printed only once in the span (and not as
    "all N" or "N (100%)") is taken for a misread: the one number cannot be both.
    """
    value = as_number(claim.values.get("value"))
    where = claim.lines.get("value", claim.line)
    at = claim.values.get("value_at")
    if value is None:
        return []
    if isinstance(at, int):
        found = next((n for n, start, _ in numbers_in(text[at:at + 40]) if start == 0), None)
        if found != value:
            return [Problem(path, claim.lines.get("value_at", where), f"claims[{i}].value", claim.values["value"],
                            f"the number printed at offset {at} is {found if found is not None else 'no number'}, "
                            f"not this value (claim '{claim.id}')", f"the text there reads {text[at:at + 40]!r}")]
        return []
    n = claim.values.get("n")
    a, b = claim.span
    excerpt = text[a:b]
    if n is not None and as_number(n) == value and sum(1 for m, _, _ in numbers_in(excerpt) if m == value) == 1 \
            and not re.search(r"\ball\b|\b100(\.0+)?\s*%|\(100\)", excerpt, re.IGNORECASE):
        return [Problem(path, where, f"claims[{i}].value", claim.values["value"],
                        f"equals the claim's n ({n}), but the span prints that number once (claim '{claim.id}')",
                        "one printed number cannot be both the count and its denominator: check the value, "
                        "or pin it with value_at: OFFSET")]
    return []


def require_spans(sources: list[Source], corpus: Path) -> None:
    problems = [p for s in sources for p in check_spans(s, corpus)]
    if problems:
        raise ConformanceError(f"{len(problems)} span/sha256 problem(s) against the corpus in {corpus}", problems)
