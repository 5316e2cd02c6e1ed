"""Query answers as pages: readable column headers, the columns worth showing first, and, for
an answer with one row per claim of a modality (the flagship and its kin), the answer itself:
one line per modality with its best-supported figure, and a dot chart with one panel per modality.

Plain data and inline SVG for the templates; no JavaScript needed to read any of it (the column
chooser in query.html only toggles the columns hidden here).
"""
from __future__ import annotations

import json
from collections import defaultdict
from decimal import Decimal, InvalidOperation
from typing import Any
from xml.sax.saxutils import escape as xml_escape

from markupsafe import Markup

from .. import model
from ..rdf import compact, local_path

__all__ = ["results_table", "column_label", "modality_answer", "COLUMN_LABELS"]

#: Query variables -> column headers; claim-model properties fall back to their page label.
COLUMN_LABELS = {
    "modalityLabel": "Modality", "valueQualifier": "Qualifier", "value": "Value", "timePoint": "Time point",
    "timeUnitLabel": "Time unit", "matchBasis": "Subtype matched by", "studyLabel": "Study", "n": "n (claim)",
    "studyN": "n (study)", "design": "Design", "corpusFile": "Corpus file", "locator": "Locator",
    "spanStart": "Span start", "spanEnd": "Span end", "claim": "Claim", "treatment": "Modality (IRI)",
    "study": "Study (IRI)", "document": "Document", "site": "Site asked", "subtype": "Subtype asked",
    "mode": "Matching mode", "endpoint": "Endpoint", "time_point": "Time point asked", "time_unit": "Time unit asked",
    "threshold": "Threshold asked", "direction": "Direction", "modality": "Modality asked",
    "siteLabel": "Site", "endpointLabel": "Endpoint", "statisticLabel": "Statistic", "unitLabel": "Unit",
    "label": "Label", "documentLabel": "Document", "count": "Count", "claims": "Claims", "studies": "Studies",
}
COLUMN_LABELS.update({
    "valueText": "Value", "valueAsPrinted": "As printed", "comparedValue": "Value compared",
    "thresholdValue": "Value compared", "isReading": "Curators' reading", "flag": "Flag",
    "alsoPrintedAt": "Also printed at", "figure": "Figure (first claim)", "subtypeLabel": "Subtype",
    "subtypeBasisLabel": "Subtype basis", "comparatorLabel": "Comparator", "pValue": "p", "pQualifier": "p qualifier",
    "ciLower": "CI low", "ciUpper": "CI high", "ciLevel": "CI level", "arm": "Arm", "subgroup": "Subgroup"})
ALWAYS_HIDDEN = {"spanStart", "spanEnd", "figure"}
#: Shown only on request (the column chooser) when the answer has a modality column: detail columns.
SECONDARY = {"arm", "subgroup", "comparatorLabel", "pValue", "pQualifier", "confidence", "subtypeBasisLabel",
             "corpusFile", "isReading"}
#: Columns that lead, in this order, when present; a later column equal to one of them is hidden.
LEAD = ["modalityLabel", "valueText", "value", "timePoint", "timeUnitLabel", "studyLabel", "n", "studyN", "design",
        "matchBasis", "subtypeLabel", "flag", "locator", "alsoPrintedAt", "claim"]


def column_label(var: str) -> str:
    if var in COLUMN_LABELS:
        return COLUMN_LABELS[var]
    for f in model.FIELDS:
        if f.prop == var:
            return f.label[:1].upper() + f.label[1:]
    words = var[:-5] if var.endswith("Label") and len(var) > 5 else var
    spaced = "".join(" " + c.lower() if c.isupper() else c for c in words).replace("_", " ").strip()
    return spaced[:1].upper() + spaced[1:]


def results_table(body: bytes) -> dict[str, Any]:
    """SPARQL results JSON as a table: IRIs become links, literals text; `labels` are readable
    headers, `hidden` the columns left out at first (constant over the rows, IRI twins of a label
    column, span offsets); `answer` and `chart` when the rows are claims of modalities."""
    data = json.loads(body)
    if "boolean" in data:
        return {"vars": ["result"], "labels": ["Result"], "hidden": [], "answer": None, "chart": None,
                "rows": [[{"text": str(data["boolean"]).lower()}]]}
    variables = [v for v in LEAD if v in data["head"]["vars"]] + [v for v in data["head"]["vars"] if v not in LEAD]
    bindings = data["results"]["bindings"]
    claims_of_modalities = "modalityLabel" in variables
    rows = []
    for b in bindings:
        row = []
        for v in variables:
            t = b.get(model.printed_twin(v)) or b.get(v)   # a figure as printed: the store says 0.3 for 0.30
            if t is None:
                row.append({"text": ""})
            elif t["type"] == "uri":
                row.append({"text": compact(t["value"]), "href": local_path(t["value"]) or t["value"]})
            else:
                row.append({"text": t["value"]})
        rows.append(row)
    hidden = []
    for i, v in enumerate(variables):
        cells = {r[i]["text"] for r in rows}
        iri_only = rows and all("href" in r[i] or not r[i]["text"] for r in rows) and v != "claim"
        same = [r[i]["text"] for r in rows]
        duplicate = any(same == [r[j]["text"] for r in rows] for j in range(i) if variables[j] not in hidden)
        secondary = claims_of_modalities and v in SECONDARY
        if v in ALWAYS_HIDDEN or (len(rows) > 1 and len(cells) == 1) or iri_only or duplicate or secondary:
            hidden.append(v)
    answer = modality_answer(variables, bindings)
    return {"vars": variables, "labels": [column_label(v) for v in variables], "hidden": hidden, "rows": rows,
            "answer": answer, "chart": answer_chart(answer) if answer else None}


def _num(text: str | None) -> float | None:
    try:
        return float(Decimal(text)) if text else None
    except InvalidOperation:
        return None


def modality_answer(variables: list[str], bindings: list[dict[str, Any]]) -> list[dict[str, Any]] | None:
    """One line per modality: its best-supported figure (the figure reported by the most documents,
    then from the largest study), the number of claims, studies and patients (each study counted
    once, at its largest n), and every figure for the chart. None unless the rows have a modality,
    a value and a study."""
    value_var = next((v for v in ("comparedValue", "value") if v in variables), None)
    if not value_var or not {"modalityLabel", "studyLabel"} <= set(variables):
        return None

    def get(b: dict[str, Any], v: str) -> str | None:
        t = b.get(v)
        if v == "value":        # the number compared, and the printed text beside it
            t = b.get(value_var)
        elif v == "printed":
            t = b.get("valueText") or b.get("valueAsPrinted") or b.get(value_var)
        return t["value"] if t else None

    def places(b: dict[str, Any]) -> int:
        """This claim and the other places that print the same figure (alsoPrintedAt)."""
        return 1 + len([x for x in (get(b, "alsoPrintedAt") or "").split(" | ") if x.strip()])
    groups: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for b in bindings:
        if get(b, "modalityLabel") and _num(get(b, "value")) is not None:
            groups[get(b, "modalityLabel") or ""].append(b)
    if not groups:
        return None
    out: list[dict[str, Any]] = []
    for modality, rows in groups.items():
        figures: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
        claim_n: dict[str, int] = {}
        whole_n: dict[str, int] = {}
        for b in rows:
            study = get(b, "studyLabel") or ""
            figures[(study, get(b, "value") or "")].append(b)
            claim_n[study] = max(claim_n.get(study, 0), int(_num(get(b, "n")) or 0))
            whole_n[study] = max(whole_n.get(study, 0), int(_num(get(b, "studyN")) or 0))
        # patients: per study, the largest n of its claims here (an arm), else the study's own n
        study_n = {s: claim_n.get(s) or whole_n.get(s, 0) for s in whole_n}

        def support(item: tuple[tuple[str, str], list[dict[str, Any]]]) -> tuple[int, float, float]:
            (_, value), rs = item
            return sum(places(b) for b in rs), max(_num(get(b, "n")) or 0 for b in rs), _num(value) or 0
        (study, value), best = max(figures.items(), key=support)
        qualifier = get(best[0], "valueQualifier")
        time = " ".join(x for x in (get(best[0], "timePoint"), get(best[0], "timeUnitLabel")) if x)
        out.append({
            "modality": modality, "value": get(best[0], "printed") or value, "qualifier": qualifier or "",
            "study": study, "time": time, "n": next((get(b, "n") for b in best if get(b, "n")), ""),
            "places": sum(places(b) for b in best), "number": _num(value),
            "claim": local_path(get(best[0], "claim") or "") or "", "claims": sum(places(b) for b in rows),
            "studies": len(study_n),
            "patients": sum(study_n.values()), "treatment": get(best[0], "treatment"),
            "points": sorted(((_num(get(b, "value")) or 0, get(b, "studyLabel") or "",
                               local_path(get(b, "claim") or "") or "") for b in rows), reverse=True)})
    out.sort(key=lambda a: (-float(a["number"] or 0), str(a["modality"])))
    return out


def answer_chart(answer: list[dict[str, Any]]) -> Markup:
    """One panel (row) per modality, a dot per claim on a 0-100 % axis; the best-supported figure
    is the filled dot. Inline SVG; every dot links to its claim."""
    left, width, row_h, top = 300, 520, 30, 24
    height = top + row_h * len(answer) + 26

    def x(v: float) -> float:
        return left + max(0.0, min(v, 100.0)) / 100 * width
    parts = [f'<svg class="answer-chart" role="img" viewBox="0 0 {left + width + 80} {height}" '
             f'width="{left + width + 80}" height="{height}" aria-label="figures per modality">']
    for t in range(0, 101, 20):
        parts.append(f'<line class="grid" x1="{x(t):.1f}" x2="{x(t):.1f}" y1="{top - 6}" y2="{height - 22}"/>'
                     f'<text class="tick" x="{x(t):.1f}" y="{height - 6}">{t} %</text>')
    for i, a in enumerate(answer):
        y = top + row_h * i + row_h / 2
        parts.append(f'<g class="panel" data-modality="{xml_escape(a["modality"])}">'
                     f'<text class="row" x="{left - 10}" y="{y + 4:.1f}">{xml_escape(a["modality"])}</text>'
                     f'<line class="lane" x1="{left}" x2="{left + width}" y1="{y:.1f}" y2="{y:.1f}"/>')
        for value, study, href in a["points"]:
            best = study == a["study"] and a["number"] == value
            title = xml_escape(f"{study}: {value:g} %")
            parts.append(f'<a href="{xml_escape(href)}"><circle class="dot{" best" if best else ""}" '
                         f'cx="{x(value):.1f}" cy="{y:.1f}" r="{6 if best else 4.5}"><title>{title}</title>'
                         f'</circle></a>')
        parts.append(f'<text class="val" x="{left + width + 8}" y="{y + 4:.1f}">{xml_escape(a["value"])} %</text></g>')
    parts.append("</svg>")
    return Markup("".join(parts))
