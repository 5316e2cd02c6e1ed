"""Where a figure sits: the sentence or table row around it, with the table's header and caption.

A table row is a context like a sentence. Tables are tab-separated lines (the header rows
give column meanings such as "5-year OS (%)"); OCR'd tables that lost their tabs are read as
rows of whitespace-separated cells when a line holds several bare numbers or dashes.
"""
from __future__ import annotations

import bisect
import re
from dataclasses import dataclass, field

__all__ = ["Context", "contexts", "find_context"]

CAPTION = re.compile(r"^\s*\**\s*(Table\s+[IVX\d]+)\b[.:]?\s*(.*?)\**\s*$", re.I)
HEADING = re.compile(r"^\s*(?:#+\s+(.+?)|\*\*([A-Za-z][^*]{2,80})\*\*:?|(\d+(?:\.\d+)*\.?\s+[A-Z][^.]{2,80}))\s*$")
NUMERIC_CELL = re.compile(r"^\s*[~<>≤≥]?\s*\d[\d.,]*(?:%|\s|\(|$)")
BARE = re.compile(r"^(?:[~<>≤≥]?\d+(?:\.\d+)?%?|[—–-]|=)$")
SENTENCE_END = re.compile(r"[.!?](?:\*+)?(?:<sup>[^<]{0,20}</sup>)?(?:\s*\(\d[\d,–-]*\))?\s+(?=[A-Z\[(*<])")
NOT_AN_END = re.compile(r"(?:\bet al|\bvs|\be\.g|\bi\.e|\bFig|\bNo|\bapprox|\bref|\b[A-Z])$")


@dataclass
class Context:
    """A sentence or a table row: its span, its locator words and, for a row, its cells."""

    start: int
    end: int
    kind: str                                   # "sentence" or "row"
    section: str = ""                           # the heading above it
    caption: str = ""                           # "Table 2" + title, for a row
    paragraph: int = 0
    cells: list[tuple[int, int]] = field(default_factory=list)
    header: list[str] = field(default_factory=list)   # column label per cell (rows only)
    group: str = ""                             # a row group label ("Liver metastasis")
    header_text: str = ""                       # an OCR'd table's header lines, as read

    def column(self, pos: int) -> tuple[int, str]:
        """(index, header label) of the cell holding offset `pos`."""
        for i, (s, e) in enumerate(self.cells):
            if s <= pos < e:
                return i, self.header[i] if i < len(self.header) else ""
        return -1, ""

    def row_label(self, text: str) -> str:
        return text[self.cells[0][0]:self.cells[0][1]].strip() if self.cells else ""

    def locator(self, text: str, pos: int) -> str:
        if self.kind == "row":
            _, col = self.column(pos)
            where = f"{self.caption.split(':')[0]}, row '{_short(self.row_label(text))}'"
            return where + (f", column '{_short(col)}'" if col else "")
        return f"Section '{_short(self.section) or 'untitled'}', paragraph {self.paragraph}"


def _short(words: str, n: int = 60) -> str:
    words = re.sub(r"<[^>]+>|\*|'", "", words).strip()
    return words if len(words) <= n else words[:n - 1] + "…"


def _cells(line: str, offset: int, sep: str) -> list[tuple[int, int]]:
    out, pos = [], 0
    pattern = re.compile(r"\t" if sep == "\t" else r"\s+")
    for m in pattern.finditer(line):
        out.append((offset + pos, offset + m.start()))
        pos = m.end()
    out.append((offset + pos, offset + len(line)))
    return [c for c in out if sep == "\t" or c[1] > c[0]]


def _header_labels(rows: list[list[str]]) -> list[str]:
    """Column labels from one or more header rows; a merged upper cell spans the empty cells right of it."""
    width = max((len(r) for r in rows), default=0)
    labels = [""] * width
    for depth, row in enumerate(rows):
        last = ""
        for i in range(width):
            cell = row[i].strip() if i < len(row) else ""
            if cell:
                last = cell
            elif depth < len(rows) - 1 and i > 0:
                cell = last                      # merged cell of an upper header row
            if cell:
                labels[i] = f"{labels[i]} {cell}".strip()
    return labels


def _is_space_row(line: str) -> bool:
    tokens = line.split()
    return len(tokens) >= 4 and sum(bool(BARE.match(t)) for t in tokens) >= 3 and not line.rstrip().endswith(".")


def contexts(text: str) -> list[Context]:
    """Every sentence and table row of a document, in order."""
    out: list[Context] = []
    section, caption, paragraph = "", "", 0
    header_rows: list[list[str]] = []
    in_table, header_done, group, header_text = False, False, "", ""
    offset = 0
    for line in text.splitlines(keepends=True):
        start, body = offset, line.rstrip("\r\n")
        offset += len(line)
        if not body.strip():
            continue
        if m := CAPTION.match(body):
            caption = f"{m.group(1)}: {m.group(2)}".strip()
            in_table, header_rows, header_done, group, header_text = True, [], False, "", ""
            continue
        if "\t" in body:
            cells = _cells(body, start, "\t")
            words = [text[s:e] for s, e in cells]
            filled = [w for w in words if w.strip()]
            numeric = any(NUMERIC_CELL.match(w) for w in words)
            if not in_table:
                in_table, header_rows, header_done, group, caption = True, [], False, "", caption or "Table"
            if not header_done and not numeric and (not header_rows or len(filled) > 1):
                header_rows.append(words)
                continue
            header_done = True
            if len(filled) == 1 and words[0].strip() and not numeric:
                group = words[0].strip()
                continue
            out.append(Context(start, start + len(body), "row", section, caption, paragraph, cells,
                               _header_labels(header_rows), group))
            continue
        if in_table and caption and _is_space_row(body):
            out.append(Context(start, start + len(body), "row", section, caption, paragraph,
                               _cells(body, start, " "), [], group, header_text))
            header_done = True
            continue
        if in_table and caption and not header_done and len(body) < 120 and not body.rstrip().endswith("."):
            header_text += " " + body
            continue
        h = HEADING.match(body)
        caps = (len(body) < 90 and body.upper() == body and not (in_table and caption) and not re.search(r"\d", body)
                and len(re.findall(r"\b[A-Z]{2,}\b", body)) >= 1 and len(re.sub(r"[^A-Z]", "", body)) >= 7)
        if (h or caps) and len(body) < 90 and not re.match(r"\W*(?:Figure|Fig\.)", body):
            section = (next(g for g in h.groups() if g) if h else body).replace("*", "").strip("# ")
            paragraph, in_table, caption = 0, False, ""
            continue
        in_table = in_table and bool(caption) and len(body) < 60
        paragraph += 1
        out.extend(_sentences(text, start, start + len(body), section, paragraph))
    return out


def _sentences(text: str, start: int, end: int, section: str, paragraph: int) -> list[Context]:
    out, s = [], start
    for m in SENTENCE_END.finditer(text, start, end):
        if NOT_AN_END.search(text[max(start, m.start() - 8):m.start()]):
            continue
        out.append(Context(s, m.end() - len(m.group(0)) + len(m.group(0).rstrip()), "sentence", section,
                           paragraph=paragraph))
        s = m.end()
    if s < end:
        out.append(Context(s, end, "sentence", section, paragraph=paragraph))
    return out


def find_context(ctxs: list[Context], starts: list[int], pos: int) -> Context | None:
    """The context holding offset `pos` (`starts` = the contexts' start offsets)."""
    i = bisect.bisect_right(starts, pos) - 1
    if i >= 0 and ctxs[i].start <= pos < ctxs[i].end:
        return ctxs[i]
    return None
