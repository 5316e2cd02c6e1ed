"""The evidence map and the head-to-head comparison graph on site and modality pages, as inline SVG.

kg.network draws the same two pictures with matplotlib for docs/ (`kg network --plot`); a page
draws them itself, from kg.network's evidence_matrix and comparison_graph, so no plotting library
runs while a request waits and the page stays one document that reads with scripts off. The SVG
uses presentation attributes only (the server's CSP allows no inline style), the bubbles follow the
plot's scale (area 30 + 8 sqrt(patients), as in kg.network.plot) and colours (viridis, one per level of
evidence) so page and docs agree, and every figure comes with a table of its numbers.
"""
from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any
from xml.sax.saxutils import escape

import networkx as nx
from markupsafe import Markup

from ..network import comparison_graph, comparisons, evidence_matrix
from ..rdf import BCMKG, local_path

__all__ = ["term_figures", "evidence_map", "comparison_figure", "LEVEL_COLOURS", "radius"]

V = str(BCMKG)
#: best level of evidence -> fill (matplotlib's viridis in six steps, as kg.network.plot; grey: not stated)
LEVEL_COLOURS: dict[int | None, str] = {1: "#440154", 2: "#414487", 3: "#2a788e", 4: "#22a884", 5: "#7ad151",
                                        None: "#c8c8c8"}
TEXT, MUTED, FONT = "#1f2933", "#62707d", "system-ui, sans-serif"
ROW_H, LEFT, COL_W = 32, 300, 120


def _q(text: Any) -> str:
    """Text for an attribute value or element content."""
    return escape(str(text), {'"': "&quot;"})


def radius(patients: int | None) -> float:
    """Bubble radius in px: the area grows with the patients (as kg.network.plot's marker area)."""
    return 0.8 * math.sqrt((30 + 8 * math.sqrt(patients or 0)) / math.pi)


def level_text(level: int | None) -> str:
    return f"level {level}" if level else "level not stated"


def short(label: str, size: int = 44) -> str:
    label = label.replace("breast cancer ", "")
    return label if len(label) <= size else label[: size - 1] + "…"


def _local(iri: str) -> str:
    return iri[len(V):] if iri.startswith(V) else iri.rsplit("/", 1)[-1]


def _svg(fid: str, width: float, height: float, title: str, desc: str, body: list[str]) -> Markup:
    return Markup(f'<svg role="img" aria-labelledby="{fid}-title {fid}-desc" viewBox="0 0 {width:.0f} {height:.0f}" '
                  f'width="100%" font-family="{FONT}" xmlns="http://www.w3.org/2000/svg">'
                  f'<title id="{fid}-title">{_q(title)}</title><desc id="{fid}-desc">{_q(desc)}</desc>'
                  + "".join(body) + "</svg>")


def _legend(y: float, sizes: Iterable[int], extra: list[str] | None = None) -> tuple[list[str], float]:
    """Colour = best level of evidence, size = patients (and, for the graph, width = studies)."""
    out = [f'<g class="legend" font-size="11" fill="{TEXT}"><text x="10" y="{y + 12}" font-weight="600">'
           f'Colour: best level of evidence</text>']
    x = 10.0
    for level, colour in LEVEL_COLOURS.items():
        out.append(f'<circle cx="{x + 6}" cy="{y + 26}" r="6" fill="{colour}" stroke="#333" stroke-width="0.5"/>'
                   f'<text x="{x + 16}" y="{y + 30}">{_q(level_text(level))}</text>')
        x += 120 if level is None else 64
    out.append(f'<text x="10" y="{y + 58}" font-weight="600">Size: patients</text>')
    x = 10.0
    for n in sizes:
        r = radius(n)
        out.append(f'<circle cx="{x + r}" cy="{y + 76}" r="{r:.1f}" fill="none" stroke="{MUTED}"/>'
                   f'<text x="{x + 2 * r + 4}" y="{y + 80}">{n:,}</text>')
        x += 2 * r + 60
    out += extra or []
    out.append("</g>")
    return out, y + 96 + (30 if extra else 0)


def evidence_map(cells: list[dict[str, Any]], by: str, fid: str, title: str) -> dict[str, Any]:
    """Part of the evidence map: one row per `by` term ('site' or 'modality'), one column per term of
    the other kind, a bubble per cell (area = patients, colour = best level), the cells as a table."""
    across = "modality" if by == "site" else "site"
    cols = list(dict.fromkeys(c[f"{across}_iri"] for c in cells))
    names = {c[f"{k}_iri"]: c[k] for c in cells for k in ("site", "modality")}
    totals: dict[str, tuple[int, int]] = {}
    for c in cells:
        s, n = totals.get(c[f"{by}_iri"], (0, 0))
        totals[c[f"{by}_iri"]] = (s + c["studies"], n + c["patients"])
    rows = sorted(totals, key=lambda r: (-totals[r][0], -totals[r][1], names[r]))
    at = {(c[f"{by}_iri"], c[f"{across}_iri"]): c for c in cells}
    one = len(cols) == 1
    head = 40.0 if one else 120.0
    width = LEFT + COL_W * len(cols) + (230 if one else 150)      # room for the slanted headers
    body = []
    for j, col in enumerate(cols):
        x = LEFT + COL_W * j + COL_W / 2
        text = _q(short(names[col], 30))
        body.append(f'<text x="{x:.0f}" y="{head - 12:.0f}" font-size="12" font-weight="600" fill="{TEXT}" '
                    + ('text-anchor="middle">' if one else f'transform="rotate(-30 {x:.0f} {head - 12:.0f})">')
                    + f'{text}</text>')
    for i, row in enumerate(rows):
        y = head + ROW_H * i + ROW_H / 2
        body.append(f'<a href="{_q(local_path(row) or row)}"><text x="{LEFT - 12}" y="{y + 4:.0f}" font-size="12" '
                    f'text-anchor="end" fill="{TEXT}">{_q(short(names[row]))}</text></a>'
                    f'<line x1="{LEFT}" y1="{y:.0f}" x2="{LEFT + COL_W * len(cols)}" y2="{y:.0f}" stroke="#e3e8ed"/>')
        for j, col in enumerate(cols):
            if (row, col) not in at:
                continue
            c = at[row, col]
            x = LEFT + COL_W * j + COL_W / 2
            tip = cell_text(c)
            body.append(f'<g class="cell" data-{by}="{_q(_local(row))}" data-{across}="{_q(_local(col))}">'
                        f'<title>{_q(tip)}</title><circle cx="{x:.0f}" cy="{y:.0f}" r="{radius(c["patients"]):.1f}" '
                        f'fill="{LEVEL_COLOURS[c["evidence_level"]]}" fill-opacity="0.85" stroke="#222" '
                        f'stroke-width="0.6"/>')
            if one:
                body.append(f'<text x="{x + COL_W / 2:.0f}" y="{y + 4:.0f}" font-size="11" fill="{MUTED}">'
                            f'{c["patients"]:,} patients · {c["studies"]} stud{"y" if c["studies"] == 1 else "ies"}'
                            f'</text>')
            body.append("</g>")
    legend, height = _legend(head + ROW_H * len(rows) + 16, (10, 100, 1000, 10000))
    desc = (f"One row per {by}, one column per {across}, a bubble where there are outcome claims: "
            + "; ".join(cell_text(at[r, c]) for r in rows for c in cols if (r, c) in at))
    table = [{"row": r, "col": c, **at[r, c]} for r in rows for c in cols if (r, c) in at]
    return {"id": fid, "title": title, "svg": _svg(fid, width, height, title, desc, body + legend),
            "table": table, "row_kind": by, "col_kind": across}


def cell_text(c: dict[str, Any]) -> str:
    """One cell in words: the tooltip, the figure's description and what a screen reader says."""
    parts = [f"{c['modality']} at {c['site']}: {c['studies']} stud{'y' if c['studies'] == 1 else 'ies'}",
             f"{c['claims']} claims", f"{c['patients']:,} patients",
             f"best design {c['best_design'] or 'not stated'} ({level_text(c['evidence_level'])})"]
    if c.get("os5_range"):
        parts.append("5-year OS " + "–".join(f"{v:g}" for v in dict.fromkeys(c["os5_range"])) + " %")
    if c.get("median_os_range"):
        parts.append("median OS " + "–".join(f"{v:g}" for v in dict.fromkeys(c["median_os_range"])) + " months")
    return ", ".join(parts)


def _order(h: nx.Graph) -> list[str]:
    """Nodes around the circle so that compared modalities sit near each other: each connected group
    in turn (largest first), walked depth-first from its most compared modality."""
    order: list[str] = []
    for group in sorted(nx.connected_components(h), key=lambda g: (-len(g), min(h.nodes[n]["label"] for n in g))):
        start = max(sorted(group, key=lambda n: h.nodes[n]["label"]), key=h.degree)
        order += list(nx.dfs_preorder_nodes(h, start, sort_neighbors=lambda ns: sorted(
            ns, key=lambda n: (-h.degree(n), h.nodes[n]["label"]))))
    return order


def _wrap(label: str, size: int = 24) -> list[str]:
    lines, line = [], ""
    for word in label.split():
        if line and len(line) + 1 + len(word) > size:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}".strip()
    return [*lines, line][:3]


def comparison_figure(g: nx.MultiDiGraph, site: str, cells: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The modalities compared head to head at `site` (an IRI) on a circle: an edge per compared pair
    (width = studies, colour = best level), a node per modality (area = its patients at the site, colour
    = its best level there); the pairs with their studies and results as a table. None: no comparison."""
    h = comparison_graph(g, site)
    if h.number_of_edges() == 0:
        return None
    label = h.graph["label"]
    at = {c["modality_iri"]: c for c in cells if c["site_iri"] == site}
    order = _order(h)
    rx, ry, cx = 200.0, 170.0 if len(order) > 4 else 90.0, 420.0
    cy = ry + 50
    pos = {n: (cx + rx * math.sin(2 * math.pi * i / len(order)), cy - ry * math.cos(2 * math.pi * i / len(order)))
           for i, n in enumerate(order)}
    fid = f"comparisons-{_local(site)}"
    title = f"Head-to-head comparisons at {label}"
    body = []
    pairs = {(c["a_iri"], c["b_iri"]): c for c in comparisons(g, site)}
    for a, b in sorted(h.edges, key=lambda e: tuple(sorted(e))):
        a, b = sorted((a, b))
        d, c = h.edges[a, b], pairs.get((a, b)) or pairs[b, a]
        (x1, y1), (x2, y2) = pos[a], pos[b]
        tip = edge_text(c)
        n = len(d["studies"])
        body.append(f'<g class="edge" data-a="{_q(_local(a))}" data-b="{_q(_local(b))}"><title>{_q(tip)}</title>'
                    f'<line x1="{x1:.1f}" y1="{y1:.1f}" x2="{x2:.1f}" y2="{y2:.1f}" stroke-width="{1 + 1.5 * n:.1f}" '
                    f'stroke="{LEVEL_COLOURS[d["evidence_level"]]}" stroke-opacity="0.8"/>'
                    f'<circle cx="{(x1 + x2) / 2:.1f}" cy="{(y1 + y2) / 2:.1f}" r="8" fill="#fff" stroke="{MUTED}" '
                    f'stroke-width="0.5"/><text x="{(x1 + x2) / 2:.1f}" y="{(y1 + y2) / 2 + 4:.1f}" font-size="10" '
                    f'text-anchor="middle" fill="{TEXT}">{n}</text></g>')
    for node in order:
        x, y = pos[node]
        cell = at.get(node)
        patients = cell["patients"] if cell else 0
        name = h.nodes[node]["label"]
        tip = cell_text(cell) if cell else f"{name}: no outcome claims of its own at {label} (a comparator only)"
        right = x >= cx
        r = max(radius(patients), 5)
        tx = x + (1 if right else -1) * (r + 6)
        lines = _wrap(name)
        ty = y + 4 - 7 * (len(lines) - 1)
        text = "".join(f'<tspan x="{tx:.1f}" dy="{0 if k == 0 else 14}">{_q(line)}</tspan>'
                       for k, line in enumerate(lines))
        body.append(f'<g class="node" data-modality="{_q(_local(node))}"><title>{_q(tip)}</title>'
                    f'<a href="{_q(local_path(node) or node)}"><circle cx="{x:.1f}" cy="{y:.1f}" '
                    f'r="{r:.1f}" fill="{LEVEL_COLOURS[cell["evidence_level"] if cell else None]}" '
                    f'stroke="#222" stroke-width="0.6"/><text x="{tx:.1f}" y="{ty:.1f}" font-size="12" fill="{TEXT}" '
                    f'text-anchor="{"start" if right else "end"}">{text}</text></a></g>')
    y0 = cy + ry + 50
    width_legend = [f'<text x="10" y="{y0 + 112}" font-weight="600">Line width: studies; the number on a line '
                    f'counts them</text>']
    for k, n in enumerate((1, 2, 3)):
        width_legend.append(f'<line x1="{400 + 70 * k}" y1="{y0 + 108}" x2="{430 + 70 * k}" y2="{y0 + 108}" '
                            f'stroke="{MUTED}" stroke-width="{1 + 1.5 * n}"/><text x="{436 + 70 * k}" '
                            f'y="{y0 + 112}">{n}</text>')
    legend, height = _legend(y0, (10, 100, 1000), width_legend)
    desc = f"{h.number_of_nodes()} modalities, {h.number_of_edges()} compared pairs: " + "; ".join(
        edge_text(c) for c in pairs.values())
    return {"id": fid, "title": title, "site_label": label, "svg": _svg(fid, 2 * cx, height, title, desc, body + legend),
            "table": list(pairs.values())}


def edge_text(c: dict[str, Any]) -> str:
    """One compared pair in words."""
    n = len(c["studies"])
    patients = f"{c['patients']:,} patients" if c["patients"] else "patients not stated"
    return (f"{c['a']} vs {c['b']}: {n} stud{'y' if n == 1 else 'ies'} ({', '.join(c['studies'])}), {patients}, "
            f"best design {c['best_design'] or 'not stated'} ({level_text(c['evidence_level'])})")


def term_figures(g: nx.MultiDiGraph, iri: str, narrower: Iterable[str] = ()) -> dict[str, Any] | None:
    """What a site or modality page shows of the evidence network: its part of the evidence map (the
    term and the terms under it) and, for a site, the comparison graph of each site that has one."""
    terms = {iri, *narrower}
    cells = evidence_matrix(g)
    for by in ("site", "modality"):
        mine = [c for c in cells if c[f"{by}_iri"] in terms]
        if not mine:
            continue
        names = list(dict.fromkeys(c[by] for c in mine))
        title = (f"Evidence map: {', '.join(names[:3])}{' and narrower' if len(names) > 3 else ''} "
                 f"× {'modalities' if by == 'site' else 'sites'}")
        figure = evidence_map(mine, "modality" if by == "site" else "site", f"map-{_local(iri)}", title)
        sites = list(dict.fromkeys(c["site_iri"] for c in mine)) if by == "site" else []
        graphs = [f for s in sites if (f := comparison_figure(g, s, cells)) is not None]
        return {"kind": by, "map": figure, "comparisons": graphs, "narrower": len({c[f"{by}_iri"] for c in mine}) > 1}
    return None
