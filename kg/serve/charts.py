"""The survival dot chart on term, study and document pages, as inline SVG.

Server-side SVG, not a plotting library or JavaScript: a page stays one self-contained
document that reads the same with scripts off (the browser test runs without them), and each
dot is a link to its claim.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any
from xml.sax.saxutils import escape as xml_escape

from markupsafe import Markup

from ..claim_rows import printed
from ..rdf import BCMKG, local_path

__all__ = ["chart", "PANELS"]

#: Which statistic goes to which panel; medians in years, weeks or days are drawn in months.
PANELS = {str(BCMKG.RateAtTimePoint): "rate", str(BCMKG.Median): "median"}
MONTHS_PER = {str(BCMKG.Month): 1.0, str(BCMKG.Year): 12.0, str(BCMKG.Week): 7 / 30.4375, str(BCMKG.Day): 1 / 30.4375}
ABBREVIATED = {"overall survival": "OS", "disease-free survival": "DFS", "progression-free survival": "PFS"}
MAX_ROWS = 80


def chart(claims: list[dict[str, Any]], label: Callable[[str], str]) -> Markup | None:
    """A dot chart of survival figures: rates at a time point in %, medians in months, one row per claim.

    `claims` are rows of the claims read-model (pages.claim_rows); `label` names an IRI. Only
    survival endpoints and those two statistics are drawn (a hazard ratio or a risk reduction in
    percent is not a survival rate).
    """
    panels: dict[str, list[dict[str, Any]]] = {"rate": [], "median": []}
    for c in claims:
        kind = PANELS.get(c.get("statisticType") or "")
        unit = c.get("unit") or ""
        if not kind or c.get("value") is None or "survival" not in label(c.get("endpoint") or "").casefold():
            continue
        if (kind == "rate" and unit != str(BCMKG.Percent)) or (kind == "median" and unit not in MONTHS_PER):
            continue
        scale = MONTHS_PER.get(unit, 1.0) if kind == "median" else 1.0
        try:
            c["plotted"] = scale * float(c["interpretedValue"] if c.get("interpretedValue") is not None else c["value"])
            c["ciPlotted"] = (scale * float(c["ciLower"]), scale * float(c["ciUpper"])) \
                if c.get("ciLower") is not None and c.get("ciUpper") is not None else None
        except ValueError:
            continue
        panels[kind].append(c)
    if not any(panels.values()):
        return None
    return Markup("".join(_panel(k, rows, label) for k, rows in panels.items() if rows))


def _nice_ticks(top: float) -> list[float]:
    """Axis ticks at round numbers (0, 12, 24, ... months; 0, 25, ... 100 %)."""
    for step in (1, 2, 3, 6, 12, 24, 36, 60, 120, 240):
        if top / step <= 6:
            return [step * i for i in range(int(top // step) + 1)]
    return [0, top]


def _panel(kind: str, rows: list[dict[str, Any]], label: Callable[[str], str]) -> str:
    total = len(rows)
    rows = sorted(rows, key=lambda c: (label(c["endpoint"]), float(c["timePoint"] or 0), -c["plotted"]))[:MAX_ROWS]
    if kind == "rate":
        top, ticks = 100.0, [0.0, 25.0, 50.0, 75.0, 100.0]
    else:
        highest = max((c["ciPlotted"][1] if c.get("ciPlotted") else c["plotted"]) for c in rows)
        ticks = _nice_ticks(max(highest * 1.05, 12))
        top = float(ticks[-1]) if ticks[-1] >= highest else highest * 1.05
    left, width, rh = 430, 360, 22
    height = 40 + rh * len(rows)
    title = "Survival rate at a time point (%)" if kind == "rate" else "Median survival (months; years converted)"
    if total > len(rows):
        title += f" — first {len(rows)} of {total} shown"

    def x(v: Any) -> float:
        return left + width * min(max(float(v), 0), top) / top

    parts = [f'<figure class="chart"><figcaption>{xml_escape(title)}</figcaption>'
             f'<svg role="img" aria-label="{xml_escape(title)}" viewBox="0 0 {left + width + 90} {height}" '
             f'width="100%" xmlns="http://www.w3.org/2000/svg">']
    for t in ticks:
        parts.append(f'<line x1="{x(t):.1f}" y1="14" x2="{x(t):.1f}" y2="{height - 18}" class="grid"/>'
                     f'<text x="{x(t):.1f}" y="{height - 4}" class="tick">{t:g}</text>')
    for i, c in enumerate(rows):
        y = 26 + rh * i
        study = label(c["study"]) if c.get("study") else "?"
        what = label(c["endpoint"])
        for long, short in ABBREVIATED.items():
            what = what.replace(long, short)
        arm = c.get("arm") or ", ".join(label(m) for m in c["modalities"][:1])
        site = ", ".join(label(s).replace("breast cancer ", "") for s in c.get("sites", [])[:1])
        when = f" {c['time_text']}" if c["time_text"] else ""
        n = f" n={c['sampleSize']}" if c.get("sampleSize") else ""
        doc = c["document"].rstrip("/").rsplit("/", 1)[-1] if c.get("document") else ""
        words = f"{study} · {site} · {arm} · {what}{when}{n}"
        text = xml_escape(words if len(words) <= 60 else words[:59] + "…") + \
            f' <tspan class="src">[{xml_escape(doc)}]</tspan>'
        link = local_path(c["claim"]) or c["claim"]
        parts.append(f'<a href="{xml_escape(link)}"><title>{xml_escape(c["label"])}</title>'
                     f'<text x="{left - 8}" y="{y + 4}" class="row">{text}</text>')
        if c.get("ciPlotted"):
            low, high = c["ciPlotted"]
            parts.append(f'<line x1="{x(low):.1f}" y1="{y}" x2="{x(high):.1f}" y2="{y}" class="ci"/>')
        interp = c.get("interpretedValue") is not None
        shown = f"{printed(c, 'interpretedValue')}*" if interp else str(printed(c, "value"))
        if kind == "median" and c.get("unit") != str(BCMKG.Month):
            shown += f" {label(c['unit'])}"
        parts.append(f'<circle cx="{x(c["plotted"]):.1f}" cy="{y}" r="5" class="dot{" interp" if interp else ""}"/>'
                     f'<text x="{left + width + 8}" y="{y + 4}" class="val">{xml_escape(shown)}</text></a>')
    parts.append("</svg></figure>")
    return "".join(parts)
