"""Draft claims from a text: each figure the completeness audit flags, with the fields its context supports.

Rules only, over the ontology's labels, synonyms and abbreviations (kg/draft/lexicon.py):
the nearest endpoint, statistic, site and modality mention in the sentence or table row (a
row reads its column's header first), a time point from "5-year" / "at 3 years", the unit
after the number, a CI, p or n next to it. What the rules could not decide goes in `needs`.
"""
from __future__ import annotations

import bisect
import re
from dataclasses import dataclass, field
from typing import Any

from ..audit import NUM, YEAR, candidates
from ..spans import numbers_in
from .columns import ocr_column
from .contexts import Context, contexts, find_context
from .lexicon import Lexicon, Mention
from .lists import TIME_LIST, distribute

__all__ = ["Draft", "draft_figures"]

UNIT_AFTER = [("percent", re.compile(r"\s*(?:\\?%|percent\b)")), ("month", re.compile(r"[\s-]*(?:months?|mo)\b", re.I)),
              ("year", re.compile(r"[\s-]*(?:years?|yrs?)\b", re.I)), ("week", re.compile(r"[\s-]*weeks?\b", re.I)),
              ("day", re.compile(r"[\s-]*days?\b", re.I)),
              ("patients", re.compile(r"\s+(?:patients|women|cases|participants|subjects)\b", re.I)),
              ("lesions", re.compile(r"\s+lesions\b", re.I)), ("mm", re.compile(r"\s*mm\b")),
              ("cm", re.compile(r"\s*cm\b")), ("Gy", re.compile(r"\s*Gy\b"))]
TIME_PLAIN = re.compile(r"(?<![\d.])(\d+)\s+(year|month)s?\s+(?:overall\s+|disease-free\s+|progression-free\s+)?"
                        r"(?:survival|OS|DFS|PFS|rate|local)", re.I)
WORD_TIMES = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "ten": 10}
AT_TIME = re.compile(r"^\s*(?:OS\s+)?(?:at|after)\s+(\d+)\s+(year|month)s?", re.I)
P_VALUE = re.compile(r"\bp\s*(?:value\s*)?([=<>≤≥])\s*(\d*\.\d+|\d+)", re.I)
CI = re.compile(rf"(?:CI[:,]?\s*|\[|\()\s*({NUM})\s*(?:[–-]|to|,)\s*({NUM})\s*[\])]?")
N_EQ = re.compile(r"\bn\s*=\s*(\d+)", re.I)
RANGE_AFTER = re.compile(rf"^\s*(?:[–-]|to)\s*({NUM})")
MINMAX_AFTER = re.compile(rf"^\s*\(\s*({NUM})\s*[–-]\s*({NUM})\s*\)")
VS_NEXT = re.compile(rf"^\s*(?:%|months?)?\s*(?:vs\.?|and)\s*({NUM})")
RATIO_WORD = re.compile(r"(?:\b(HR|OR)\b|(hazard ratio)|(odds ratio)|(c-index|concordance index))[^.;\n]{0,25}$", re.I)
QUALIFIERS = [("approximately", re.compile(r"(?:~|≈|approximately|about|nearly|around)\s*$", re.I)),
              ("up to", re.compile(r"up to\s*$", re.I)), ("over", re.compile(r"(?:over|>)\s*$", re.I)),
              ("less than", re.compile(r"(?:less than|<)\s*$", re.I))]


@dataclass
class Draft:
    """One drafted figure: where it is, what it is, and what a curator must still decide."""

    start: int
    end: int
    span: tuple[int, int]
    printed: str
    kind: str
    locator: str
    fields: dict[str, Any] = field(default_factory=dict)
    needs: list[str] = field(default_factory=list)

    def values(self) -> set[str]:
        return {str(self.fields[k]) for k in ("value", "value_low", "value_high") if k in self.fields}


def _number(printed: str) -> str:
    """The number as a YAML figure: thousands separators dropped, the printed digits kept."""
    n = printed.replace(",", "")
    return n.lstrip("0") or "0" if "." not in n else ("0" + n if n.startswith(".") else n)


def _nearest(mentions: list[Mention], field_name: str, pos: int, lo: int, hi: int) -> Mention | None:
    """The mention of a field closest to `pos` within [lo, hi); one before the figure wins over one after."""
    best, score = None, 1e9
    for m in mentions:
        if m.field != field_name or m.start < lo or m.end > hi:
            continue
        d = pos - m.end if m.end <= pos else 2 * (m.start - pos) + 10
        if d < score:
            best, score = m, d
    return best


class _Drafter:
    def __init__(self, text: str, lexicon: Lexicon):
        self.text, self.lex = text, lexicon
        self.ctxs = contexts(text)
        self.starts = [c.start for c in self.ctxs]
        self.mentions = lexicon.find(text)
        self.doc_site = self._document_site()

    def figures(self) -> list[tuple[int, int, str]]:
        found = {s: (s, e, k) for s, e, k in candidates(self.text)}
        for c in self.ctxs:     # extra figures: the first of "49 vs. 20 months", and cells of space-separated rows
            body = self.text[c.start:c.end]
            for m in re.finditer(rf"(?<![\d.\w])({NUM})(?=\s*(?:%|months?)?\s*(?:vs\.?\s*\d|and\s+(?:{NUM})\s*"
                                 rf"(?:%|months?|years?)\b)|\s*\\%|\s+of\s+whom\b)", body):
                found.setdefault(c.start + m.start(1), (c.start + m.start(1), c.start + m.end(1), "comparison"))
            for m in re.finditer(rf"(?<![\d.\w])({NUM})(?=\s*\(\s*(?:{NUM})\s*[–-]\s*(?:{NUM})\s*\)"
                                 r"\s*(?:months?|years?|%))", body):
                found.setdefault(c.start + m.start(1), (c.start + m.start(1), c.start + m.end(1), "median and range"))
            for _, a, b in numbers_in(body):
                counted = re.match(r"\s+(?:\w+\s+)?(?:patients|women|cases)\b|\s+of\b", body[b:])
                fold = body[b:b + 5] == "-fold" or body[a:b].endswith("-fold")
                if (body[a].isalpha() and counted) or fold:
                    kind = "written-out number" if body[a].isalpha() else "fold"
                    found.setdefault(c.start + a, (c.start + a, c.start + b, kind))
            if c.kind == "row" and not c.header:
                for s, e in c.cells:
                    cell = self.text[s:e]
                    if re.fullmatch(rf"(?:{NUM})%?", cell) and not YEAR.match(cell.rstrip("%")):
                        found.setdefault(s, (s, s + len(cell.rstrip("%")), "table cell"))
        return sorted(found.values())

    def run(self) -> list[Draft]:
        self.skipped: list[tuple[int, int, str]] = []     # (start, end, reason): exclusions to propose
        self.links = [m.span() for m in re.finditer(r"https?://\S+|\b10\.\d{4,9}/[^\s>)\]]+", self.text)]
        figs = self.figures()
        consumed: set[int] = set()
        drafts: list[Draft] = []
        by_start = {s: (s, e, k) for s, e, k in figs}
        for s, e, kind in figs:
            if s in consumed:
                continue
            ctx = find_context(self.ctxs, self.starts, s) or Context(*self._line(s), "sentence")
            d = self.draft(s, e, kind, ctx, by_start, consumed)
            if d is not None:
                drafts.append(d)
        distribute(drafts, self.text, self.mentions, self.lex)
        return drafts

    def _not_a_figure(self, s: int, e: int, before: str, after: str, ctx: Context) -> str | None:
        """Numbers the audit flags that are plainly not results: proposed as exclusions with a reason."""
        sentence = self.text[ctx.start:ctx.end]
        if any(a <= s < b for a, b in self.links):
            return "part of a DOI or web address"
        if re.search(r"\bversion\s*$", before, re.I):
            return "a software version"
        if self.text[s:e] in ("90", "95", "99") and re.match(r"^\s*%\s*(?:CI\b|confidence)", after, re.I):
            return "the confidence level of an interval"
        if re.search(r"(?:lower|less|smaller) than\s*$|\bp\s*[<≤]\s*$", before, re.I) and \
                re.search(r"consider|regarded|defined|accepted", sentence, re.I):
            return "the significance threshold of the methods"
        if re.search(r"(?:19|20)\d\d;\s*\**$|\(\d+\)\**\s*:\s*$", before):
            return "volume or pages of a citation"
        return None

    def _line(self, pos: int) -> tuple[int, int]:
        a = self.text.rfind("\n", 0, pos) + 1
        b = self.text.find("\n", pos)
        return a, (b if b >= 0 else len(self.text))

    def draft(self, s: int, e: int, kind: str, ctx: Context, by_start: dict[int, tuple[int, int, str]],
              consumed: set[int]) -> Draft | None:
        text, printed = self.text, self.text[s:e]
        before, after = text[ctx.start:s], text[e:ctx.end]
        if re.match(r"^-(?:,|\s*(?:and|or)\s+\d|\s*(?:year|month)s?\b)", after, re.I) or \
                re.search(r"%\s*(?:at|after)\s*$", before):
            return None                                       # a time point ("5-year OS", "at 3 years")
        if reason := self._not_a_figure(s, e, before, after, ctx):
            self.skipped.append((s, e, reason))
            return None
        if kind == "p-value" or re.search(r"\bp\s*(?:value\s*)?[=<>≤≥]\s*$", before, re.I):
            return None                                       # a p belongs to the figure before it
        if re.search(r"(?:\bCI[:,]?|95%\s*CI\s*[\[(]?)\s*$", before) or (
                re.search(r"\d\s*[\[(]$", before) and re.match(r"^\s*(?:[–-]|to\b|,)", after)):
            return None                                       # a CI bound, or the low end of a (min-max)
        if re.search(r"(?:<sup>[^<]*|\[\d[\d,\s–-]*)$", before) or re.match(r"^[\d,\s–-]*(?:</sup>|\])", after):
            return None                                       # a reference number
        self_needs: list[str] = []
        f: dict[str, object] = {"value": _number(printed)}
        if kind == "written-out number":
            word = next(v for v, a, _ in numbers_in(printed) if a == 0)
            f = {"value": str(word), "value_as_written": printed}
        seg = self._segment(ctx, s)
        col_label = ctx.column(s)[1] if ctx.kind == "row" else ""
        cell = text[slice(*ctx.cells[ctx.column(s)[0]])] if ctx.kind == "row" and ctx.column(s)[0] >= 0 else ""
        # unit, range, min/max
        unit = next((u for u, p in UNIT_AFTER if p.match(after)), None)
        if m := RANGE_AFTER.match(after):
            nxt = e + m.end(1)
            if not re.match(r"\s*[\])]", text[nxt:nxt + 2]) and not re.search(r"\(\s*$", before):
                f.pop("value")
                f["value_low"], f["value_high"] = _number(printed), _number(m.group(1))
                consumed.update(k for k in by_start if e <= k < nxt)
                unit = next((u for u, p in UNIT_AFTER if p.match(text[nxt:ctx.end])), unit)
        if unit is None and (v := VS_NEXT.match(after)):
            tail = text[e + v.end(1):ctx.end]
            unit = next((u for u, p in UNIT_AFTER if p.match(tail)), None)
        if mm := MINMAX_AFTER.match(after):
            f["min"], f["max"] = _number(mm.group(1)), _number(mm.group(2))
            consumed.update(k for k in by_start if e < k < e + mm.end())
        if ctx.kind == "row" and not ctx.header and (guess := ocr_column(self.text, ctx, self.mentions, s)):
            col_label = guess
        row_words = ctx.row_label(text) if ctx.kind == "row" else ""
        if ctx.kind == "row" and re.search(r"\bn\s*\(%\)", row_words + " " + col_label):
            unit = "percent" if re.search(r"\(\s*$", before) else "patients"    # "3 (25)": a count and its share
        if unit is None and (col_label or row_words):
            col_label = col_label or row_words
            unit = ("percent" if "%" in col_label else "month" if re.search(r"month", col_label, re.I) else
                    "year" if re.search(r"\byears?\)", col_label, re.I) else None)
        qualifier = next((q for q, p in QUALIFIERS if p.search(before[-15:])), None)
        if qualifier:
            f["value_qualifier"] = qualifier
        # statistic
        stat = None
        ratio = RATIO_WORD.search(before[-45:])
        if ratio and "." in printed and unit is None:
            stat = ("HazardRatio" if ratio.group(1) == "HR" and self._hr_is_ratio() or ratio.group(2) else
                    "OddsRatio" if ratio.group(1) == "OR" or ratio.group(3) else
                    "ConcordanceIndex" if ratio.group(4) else None)
            unit = "ratio" if stat else unit
            if c := CI.search(after[:40]):
                f["ci"] = [_number(c.group(1)), _number(c.group(2))]
                consumed.update(k for k in by_start if e < k <= e + c.end())
        time_point = self._time_point(seg, s, e, col_label + " " + cell, unit)
        local = [m for m in self.mentions if seg[0] <= m.start and m.end <= seg[1]]
        header = self.lex.find(col_label) if col_label else []
        stat_m = (_nearest(header, "statistic", len(col_label), 0, len(col_label)) or
                  _nearest(local, "statistic", s, seg[0], seg[1]))
        clause = text[seg[0]:seg[1]]
        if stat is None and kind == "fold" and re.search(r"\brisk\b", clause, re.I):
            stat, unit = "HazardRatio", "ratio"
        if stat is None:
            if kind == "sample size" or unit in ("patients", "lesions") or re.match(r"\s+of\s+whom\b", after):
                stat, unit = "Count", unit or "patients"
            elif unit == "percent" and re.search(r"\b(?:reduc\w*|dropped|decreas\w*)\b", clause, re.I) \
                    and re.search(r"\b(?:risk|mortality|death)\b", clause, re.I):
                stat = "RiskReduction"
            elif unit == "percent":
                stat = "RateAtTimePoint" if time_point else "Proportion"
            elif stat_m is not None and stat_m.term in ("Median", "Mean"):
                stat = stat_m.term
            elif ctx.kind == "row" and re.fullmatch(r"\d{1,2}", ctx.row_label(text)) and \
                    unit in ("month", "year", None):
                stat = "IndividualValue"
            elif unit in ("month", "year", "week", "day") and re.search(r"\bmedian\b", text[seg[0]:s], re.I):
                stat = "Median"
            elif "min" in f:
                stat = "Median"                               # "36 (18-72)": a median and its range
            elif unit in ("month", "year") and ctx.kind == "sentence" and \
                    re.search(r"\b(?:this|the|one|a)\s+(?:patient|woman)\b", clause, re.I):
                stat = "IndividualValue"                      # one patient's course
            elif unit in ("month", "year") and ctx.kind == "sentence" and \
                    re.search(r"surviv|free|interval|\b(?:OS|DFS|PFS|RFS)\b", clause):
                stat = "Median"                               # a time to event summarised: usually a median
                self_needs.append("statistic")
        if stat:
            f["statistic"] = stat
        if stat == "RateAtTimePoint" and time_point:
            f["time_point"], f["time_unit"] = time_point
        if unit:
            f["unit"] = unit
        # endpoint, site, modality
        endpoint = (_nearest(header, "endpoint", len(col_label), 0, len(col_label)) if header else None) or \
            _nearest(local, "endpoint", s, seg[0], seg[1]) or _nearest(self.mentions, "endpoint", s, ctx.start, ctx.end)
        if endpoint is None and ctx.kind == "sentence" and \
                stat in ("HazardRatio", "OddsRatio", "Median", "RateAtTimePoint"):
            endpoint = _nearest(self.mentions, "endpoint", s, self._paragraph_start(ctx), s)
        words = text[seg[0]:seg[1]]
        if endpoint is None and re.search(r"follow[- ]up", words, re.I):
            f["endpoint"] = "FollowUpDuration"
        elif endpoint is None and re.search(r"discordan", words, re.I):
            f["endpoint"] = "ReceptorDiscordance"
        elif endpoint is None and unit == "percent" and re.search(r"\b(?:occur|develop|observed in)", words, re.I):
            f["endpoint"] = "Incidence"
        elif endpoint is not None:
            f["endpoint"] = endpoint.term
        if unit in ("month", "year", "week", "day") and ctx.kind == "sentence":
            if timed := self._event_endpoint(seg, s, e, str(f["endpoint"]) if f.get("endpoint") else None):
                f["endpoint"] = timed
        if ctx.kind == "row":
            row_m = [m for m in self.mentions if ctx.start <= m.start and m.end <= ctx.end]
            mods = [m for m in row_m if m.field == "modality"]
            modality = next((m for m in mods if self.lex.index.is_a(m.term, "LocalTherapy")), mods[0] if mods else None)
            cell_span = ctx.cells[ctx.column(s)[0]] if ctx.column(s)[0] >= 0 else (s, e)
            site = (_nearest(row_m, "site", s, cell_span[0], cell_span[1]) or
                    next((m for m in row_m if m.field == "site"), None))
        else:
            para = self._paragraph_start(ctx)
            modality = (_nearest(local, "modality", s, seg[0], seg[1]) or
                        _nearest(self.mentions, "modality", s, ctx.start, ctx.end) or
                        _nearest(self.mentions, "modality", s, para, s))
            site = _nearest(self.mentions, "site", s, ctx.start, ctx.end) or (
                None if self._site_around(ctx) else _nearest(self.mentions, "site", s, para, s))
        site_term = self.lex.site_term(site.term) if site else self._site_around(ctx)
        near_site = site_term                             # named in the sentence, row, caption or heading
        site_term = site_term or self._section_site(ctx, s) or self.doc_site
        if site_term:
            f["site"] = site_term = self.lex.site_term(site_term)
        modality_term = modality.term if modality else self._around(ctx, "modality")
        if modality_term:
            f["modality"] = self.lex.specific_modality(modality_term, near_site, text[seg[0]:seg[1]])
            if modality:
                f["arm"] = modality.surface
        if f.get("modality") == "SystemicTherapy" and any(
                self.lex.index.is_a(m.term, "LocalTherapy") for m in self.mentions
                if m.field == "modality" and ctx.start <= m.start < ctx.end):
            f["modality"] = "SystemicTherapyAlone"    # the systemic arm of a comparison with a local therapy
        # p, n
        p_text = after if ctx.kind == "sentence" else text[e:ctx.end]
        if (p := P_VALUE.search(p_text)) and ctx.kind == "sentence":
            f["p_qualifier"], f["p_value"] = {"≤": "<=", "≥": ">="}.get(p.group(1), p.group(1)), _number(p.group(2))
        elif ctx.kind == "row":
            p_col = [i for i, h in enumerate(ctx.header) if re.search(r"\bp\b", h, re.I) and i > ctx.column(s)[0]]
            if p_col and p_col[0] < len(ctx.cells):
                cell_p = text[slice(*ctx.cells[p_col[0]])].strip()
                if pm := re.fullmatch(r"([<>]?)\s*(0?\.\d+)", cell_p):
                    f["p_value"] = _number(pm.group(2))
                    f["p_qualifier"] = pm.group(1) or "="
        if n := N_EQ.search(text[seg[0]:seg[1]]):
            if stat != "Count" and int(n.group(1)) > 0:
                f["n"] = int(n.group(1))
        return Draft(s, e, (ctx.start, ctx.end), printed, kind, ctx.locator(text, s), f, self_needs)

    def _event_endpoint(self, seg: tuple[int, int], s: int, e: int, endpoint: str | None) -> str | None:
        """A duration measured from or to an event, named by composing ontology labels: 'survived a median of
        30.6 months after metastasectomy' -> survival after metastasectomy; 'developed distant recurrence a
        median of 22.1 months' -> time to distant recurrence."""
        def term(name: str) -> str | None:
            try:
                return self.lex.index.resolve(name, "Endpoint")
            except LookupError:
                return None
        text = self.text
        tail = re.sub(r"\([^)]*\)", "", text[e:seg[1]])
        if re.search(r"surviv", text[seg[0]:seg[1]], re.I) and (
                after := re.match(r"^[^.;]{0,40}?\bafter\s+(?:the\s+)?([a-z]+(?:\s+[a-z]+)?)", tail, re.I)):
            words = after.group(1).lower().split()
            found = term("survival after " + " ".join(words)) or term("survival after " + words[0])
            if found:
                return found
        if endpoint not in (None, "Progression", "Recurrence", "LocalProgression", "Mortality"):
            return None
        events = [m for m in self.mentions if seg[0] <= m.start < s and m.field in ("site", "endpoint")]
        for m in reversed(events):
            label = self.lex.index.terms[m.term].label
            for name in (m.surface.lower(), label, re.sub(r"^breast cancer |of breast cancer$", "", label).strip()):
                if found := term(f"time to {name}"):
                    return found
        return None

    def _hr_is_ratio(self) -> bool:
        return any(m.term == "HazardRatio" for m in self.lex.find("HR"))

    def _segment(self, ctx: Context, pos: int) -> tuple[int, int]:
        """The clause around `pos`: a sentence cut at ';', a row cut to its cell and the row label."""
        if ctx.kind == "row":
            return ctx.start, ctx.end
        a = max(self.text.rfind(";", ctx.start, pos), self.text.rfind(" while ", ctx.start, pos)) + 1
        b = self.text.find(";", pos, ctx.end)
        return max(a, ctx.start), (b if b >= 0 else ctx.end)

    def _time_point(self, seg: tuple[int, int], s: int, e: int, column: str,
                    unit: str | None) -> tuple[Any, str] | None:
        if unit not in ("percent", None):
            return None
        if m := AT_TIME.match(self.text[e:seg[1]].lstrip("%")):
            return m.group(1), m.group(2).lower()
        if w := list(re.finditer(r"\b(one|two|three|four|five|ten)-(year|month)\b", self.text[seg[0]:s], re.I)):
            return str(WORD_TIMES[w[-1].group(1).lower()]), w[-1].group(2).lower()
        for source in (column, self.text[seg[0]:s]):
            hits = list(TIME_LIST.finditer(source)) or list(TIME_PLAIN.finditer(source))
            if hits:
                m = hits[-1]
                points = re.findall(r"\d+", m.group(1))
                return points[-1] if len(points) == 1 else points, m.group(2).lower()
        return None

    def _document_site(self) -> str | None:
        """The site the document is about: the first named in its title, else the one it names most."""
        title = next((c for c in self.ctxs if c.kind == "sentence"), None)
        sites = [m for m in self.mentions
                 if m.field == "site" and self.lex.index.is_a(m.term, "MetastaticBreastCancer")]
        in_title = [m for m in sites if title is not None and m.start < min(title.end, 400)]
        if in_title:
            return in_title[0].term
        counts: dict[str, int] = {}
        for m in sites:
            counts[m.term] = counts.get(m.term, 0) + 1
        return max(counts, key=lambda t: counts[t]) if counts else None

    def _site_around(self, ctx: Context) -> str | None:
        return self._around(ctx, "site")

    def _around(self, ctx: Context, field_name: str) -> str | None:
        """A site or modality named by the row group, the table caption or the section heading."""
        for words in (ctx.group, ctx.caption, ctx.section):
            hits = [m for m in self.lex.find(self.lex.expand(words)) if m.field == field_name] if words else []
            if hits:
                return hits[0].term
        return None

    def _section_site(self, ctx: Context, pos: int) -> str | None:
        """The last specific site named earlier in the same section."""
        i = bisect.bisect_right(self.starts, ctx.start) - 1
        while i > 0 and self.ctxs[i - 1].section == ctx.section:
            i -= 1
        start = self.ctxs[i].start if i >= 0 else ctx.start
        hits = [m for m in self.mentions if m.field == "site" and start <= m.start < pos
                and self.lex.index.is_a(m.term, "MetastaticBreastCancer")]
        return hits[-1].term if hits else None

    def _paragraph_start(self, ctx: Context) -> int:
        i = bisect.bisect_right(self.starts, ctx.start) - 1
        while i > 0 and self.ctxs[i - 1].kind == "sentence" and self.ctxs[i - 1].paragraph == ctx.paragraph \
                and self.ctxs[i - 1].section == ctx.section:
            i -= 1
        return self.ctxs[i].start if i >= 0 else ctx.start

def draft_figures(text: str, lexicon: Lexicon) -> tuple[list[Draft], list[tuple[int, int, str]]]:
    """Every figure of `text` the audit would flag, as a draft with its guessed fields; and the flagged
    numbers that are plainly not results (a DOI, a CI level), as (start, end, reason) to exclude."""
    drafter = _Drafter(text, lexicon)
    return drafter.run(), drafter.skipped
