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

from ..rdf import BCMKG, local_path

__all__ = ["chart", "CHART_UNITS"]

#: Where a claim's survival figure sits: percent -> the rate panel, months -> the median panel.
CHART_UNITS = {str(BCMKG.Percent): "rate", str(BCMKG.Month): "median"}
ABBREVIATED = {"overall survival": "OS", "disease-free survival": "DFS", "progression-free survival": "PFS"}


def chart(claims: list[dict[str, Any]], label: Callable[[str], str]) -> Markup | None:
    """A dot chart of survival figures (rates in %, medians in months), one row per claim.

    `claims` are rows of the claims read-model (pages.claim_rows); `label` names an IRI.
    """
    panels: dict[str, list[dict[str, Any]]] = {"rate": [], "median": []}
    for c in claims:
        kind = CHART_UNITS.get(c.get("unit") or "")
        if not kind or c.get("value") is None or "survival" not in label(c.get("endpoint") or "").casefold():
            continue
        try:
            c["plotted"] = float(c["interpretedValue"] if c.get("interpretedValue") is not None else c["value"])
        except ValueError:
            continue
        panels[kind].append(c)
    if not any(panels.values()):
        return None
    return Markup("".join(_panel(k, rows, label) for k, rows in panels.items() if rows))


def _panel(kind: str, rows: list[dict[str, Any]], label: Callable[[str], str]) -> str:
    rows = sorted(rows, key=lambda c: (label(c["endpoint"]), float(c["timePoint"] or 0), -c["plotted"]))[:80]
    top = 100.0 if kind == "rate" else max(max(float(c["ciUpper"] or c["plotted"]) for c in rows) * 1.1, 12)
    left, width, rh = 380, 360, 22
    height = 40 + rh * len(rows)
    title = "Survival rate (%)" if kind == "rate" else "Median survival (months)"

    def x(v: Any) -> float:
        return left + width * min(max(float(v), 0), top) / top

    parts = [f'<figure class="chart"><figcaption>{title}</figcaption>'
             f'<svg role="img" aria-label="{title}" viewBox="0 0 {left + width + 70} {height}" '
             f'width="100%" xmlns="http://www.w3.org/2000/svg">']
    ticks = [0, 25, 50, 75, 100] if kind == "rate" else [round(top * i / 4) for i in range(5)]
    for t in ticks:
        parts.append(f'<line x1="{x(t):.1f}" y1="14" x2="{x(t):.1f}" y2="{height - 18}" class="grid"/>'
                     f'<text x="{x(t):.1f}" y="{height - 4}" class="tick">{t}</text>')
    for i, c in enumerate(rows):
        y = 26 + rh * i
        study = label(c["study"]) if c.get("study") else "?"
        what = label(c["endpoint"])
        for long, short in ABBREVIATED.items():
            what = what.replace(long, short)
        arm = c.get("arm") or ", ".join(label(m) for m in c["modalities"][:1])
        when = f" {c['time_text']}" if c["time_text"] else ""
        doc = c["document"].rstrip("/").rsplit("/", 1)[-1] if c.get("document") else ""
        text = xml_escape(f"{study} · {arm} · {what}{when}"[:48]) + f' <tspan class="src">[{xml_escape(doc)}]</tspan>'
        link = local_path(c["claim"]) or c["claim"]
        parts.append(f'<a href="{xml_escape(link)}"><title>{xml_escape(c["label"])}</title>'
                     f'<text x="{left - 8}" y="{y + 4}" class="row">{text}</text>')
        if c.get("ciLower") is not None and c.get("ciUpper") is not None:
            parts.append(f'<line x1="{x(c["ciLower"]):.1f}" y1="{y}" x2="{x(c["ciUpper"]):.1f}" y2="{y}" class="ci"/>')
        interp = c.get("interpretedValue") is not None
        shown = f"{c['interpretedValue']}*" if interp else str(c["value"])
        parts.append(f'<circle cx="{x(c["plotted"]):.1f}" cy="{y}" r="5" class="dot{" interp" if interp else ""}"/>'
                     f'<text x="{left + width + 8}" y="{y + 4}" class="val">{xml_escape(shown)}</text></a>')
    parts.append("</svg></figure>")
    return "".join(parts)
