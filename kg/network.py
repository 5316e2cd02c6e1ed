"""The evidence network: which documents report which studies, what each study evaluated where, which
treatments were compared head to head and which claims contradict each other, as one networkx graph.

The claims table says what was measured; the network says what rests on what, so "which studies do
several reviews lean on, and do they quote them alike?" becomes a graph walk. Nodes, edges, their
attributes and the evidence level (ours, from the study design alone) are described in docs/network.md.

    >>> shared_studies(evidence_graph(Path("build/release")))[0]["study"]     # doctest: +SKIP
"""
from __future__ import annotations

import json
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import networkx as nx

from .errors import KGError
from .export import claim_rows
from .rdf import BCMKG, prefix_block
from .records import as_number
from .store import open_store

__all__ = ["evidence_graph", "shared_studies", "comparisons", "comparison_graph", "evidence_matrix",
           "central_studies", "disagreement_groups", "write_graph", "summary", "plot", "LEVELS", "FORMATS"]

V = str(BCMKG)
OS, RATE, MEDIAN = V + "OverallSurvival", V + "RateAtTimePoint", V + "Median"
MONTHS = {"month": 1.0, "year": 12.0, "week": 12 / 52.1775, "day": 12 / 365.25}
#: design -> evidence level, from the design alone (lower is stronger); a level the release states wins
LEVELS: dict[str, int] = {
    "MetaAnalysis": 1, "SystematicReview": 1, "RandomizedControlledTrial": 2, "PhaseIIITrial": 3, "PhaseIITrial": 3,
    "InterventionalStudy": 3, "ProspectiveCohortStudy": 3, "ProspectiveRegistryStudy": 3, "RetrospectiveCohortStudy": 4,
    "CaseControlStudy": 4, "CaseMatchedStudy": 4, "PropensityMatchedStudy": 4, "RegistryStudy": 4, "CaseReport": 5,
    "PopulationBasedStudy": 4, "PrognosticModelStudy": 4, "ObservationalStudy": 4, "CaseSeries": 5,
    "NarrativeReview": 5, "ExpertConsensus": 5, "ClinicalPracticeGuideline": 5, "EvidenceSynthesis": 5}
FORMATS = ("graphml", "gexf", "json")
QUANTITY = ("modality_iri", "endpoint_iri", "statistic_iri", "time_point", "time_point_unit")   # what a figure measures

_P = prefix_block()
_QUERIES = {
    "docs": "SELECT ?s ?title ?doi WHERE { ?s a bcmkg:SourceDocument OPTIONAL { ?s dcterms:title ?title } "
            "OPTIONAL { ?s bibo:doi ?doi } }",
    "reports": "SELECT ?s ?doc WHERE { ?s dcterms:isReferencedBy ?doc }",
    "studies": "SELECT ?s (SAMPLE(?l) AS ?label) (MAX(?size) AS ?n) (GROUP_CONCAT(DISTINCT STR(?d); separator=' ') "
               "AS ?designs) WHERE { { SELECT ?s (MIN(?x) AS ?l) WHERE { ?s dcterms:isReferencedBy ?doc OPTIONAL { "
               "?s rdfs:label ?x } } GROUP BY ?s } OPTIONAL { ?s bcmkg:sampleSize ?size } "
               "OPTIONAL { ?s bcmkg:design ?d } } GROUP BY ?s",
    "designs": "SELECT ?s ?label WHERE { ?s rdfs:subClassOf* bcmkg:StudyDesign ; rdfs:label ?label }",
    "arms": "SELECT ?study ?s ?label ?modality ?n WHERE { ?study bcmkg:hasArm ?s OPTIONAL { ?s rdfs:label ?label } "
            "OPTIONAL { ?s bcmkg:modality ?modality } OPTIONAL { ?s bcmkg:sampleSize ?n } }",
    "cites": "SELECT ?claim ?s ?doc WHERE { ?claim bcmkg:cites ?s ; prov:wasDerivedFrom ?doc }",
    "disagree": "SELECT ?a ?b WHERE { ?a bcmkg:disagreesWith ?b }",
}


def _select(store: Any, name: str) -> list[dict[str, str]]:
    return [{k: v.value if v else "" for k, v in r.items()} for r in store.select(_P + _QUERIES[name]).rows]


def _float(text: str) -> float | None:
    number = as_number(text) if text else None
    return None if number is None else float(number)


def value_of(row: dict[str, str]) -> float | None:
    """The claim's figure, the curator's marked reading first (a printed 723 read as 72.3)."""
    read = _float(row.get("interpreted_value", ""))
    return read if read is not None else _float(row.get("value", ""))


def months(row: dict[str, str]) -> float | None:
    """A duration in months (medians are printed in months, years or weeks)."""
    value, factor = value_of(row), MONTHS.get(row.get("unit", ""))
    return None if value is None or factor is None else round(value * factor, 1)


def best_design(design_iris: list[str], labels: dict[str, str]) -> tuple[str, int | None]:
    """(label of the strongest design, its level); ('', None) when no design is ranked."""
    ranked = sorted((LEVELS[d[len(V):]], labels.get(d, d)) for d in design_iris if d[len(V):] in LEVELS)
    return (ranked[0][1], ranked[0][0]) if ranked else ("", None)


def _add_edge(g: nx.MultiDiGraph, a: str, b: str, key: str, claim: str | None = None, **attrs: Any) -> None:
    if not g.has_edge(a, b, key):
        g.add_edge(a, b, key=key, relation=key, claims=[], count=0, **attrs)
    data = g.edges[a, b, key]
    if claim and claim not in data["claims"]:
        data["claims"].append(claim)
        data["count"] = len(data["claims"])


def evidence_graph(release: Path) -> nx.MultiDiGraph:
    """The evidence network of a release (see the module docstring for nodes and edges)."""
    store, rows = open_store(release), claim_rows(release)
    g = nx.MultiDiGraph(release=str(release))
    g.add_nodes_from((r["s"], {"kind": "document", "label": r["s"].rsplit("/", 1)[-1], "title": r["title"],
                               "doi": r["doi"]}) for r in _select(store, "docs"))
    names = {r["s"]: r["label"] for r in _select(store, "designs")}
    for r in _select(store, "studies"):
        design, level = best_design(designs := sorted(r["designs"].split()), names)
        g.add_node(r["s"], kind="study", label=r["label"] or r["s"].rsplit("/", 1)[-1], best_design=design,
                   evidence_level=level, patients=int(r["n"]) if r["n"] else None,
                   designs=[names.get(d, d.rsplit("/", 1)[-1]) for d in designs])
    for r in _select(store, "reports"):
        _add_edge(g, r["doc"], r["s"], "reports")
    for r in _select(store, "arms"):
        g.add_node(r["s"], kind="arm", label=r["label"], patients=int(r["n"]) if r["n"] else None)
        _add_edge(g, r["study"], r["s"], "has_arm")
        if r["modality"]:
            g.add_node(r["modality"], kind="modality")
            _add_edge(g, r["s"], r["modality"], "receives")
    for r in rows:
        _add_claim(g, r)
    for r in _select(store, "cites"):
        _add_edge(g, r["doc"], r["s"], "cites", r["claim"])
    for r in _select(store, "disagree"):
        for claim in (r["a"], r["b"]):
            g.add_node(claim, kind="claim", label=claim.split("/claim/", 1)[-1])
        _add_edge(g, r["a"], r["b"], "disagrees", r["a"])
    g.graph["_rows"] = {r["claim_iri"]: r for r in rows}      # the analyses read the claims' figures here
    _summarise(g, rows)
    return g


def _add_claim(g: nx.MultiDiGraph, r: dict[str, str]) -> None:
    """The edges one claim stands behind: reports, evaluates, measures, at_site, compared_with."""
    claim, study, doc, site, mod = r["claim_iri"], r["study_iri"], r["document_iri"], r["site_iri"], r["modality_iri"]
    for col, kind in (("site", "site"), ("modality", "modality"), ("comparator", "modality"), ("endpoint", "endpoint")):
        if r[col + "_iri"]:
            g.add_node(r[col + "_iri"], kind=kind, label=r[col])
    g.graph.setdefault("_labels", {})[r["statistic_iri"]] = r["statistic"]
    if study and doc:
        _add_edge(g, doc, study, "reports", claim)
    if r["kind"] != "outcome" or not study:
        return
    if r["endpoint_iri"]:
        _add_edge(g, study, r["endpoint_iri"], "measures", claim)
    if mod:
        _add_edge(g, study, mod, "evaluates|" + site, claim, site=site)
        if site:
            _add_edge(g, mod, site, "at_site", claim)
    if mod and r["comparator_iri"]:
        a, b = sorted((mod, r["comparator_iri"]))
        _add_edge(g, a, b, "compared_with|" + site, claim, site=site)


def _summarise(g: nx.MultiDiGraph, rows: list[dict[str, str]]) -> None:
    """Patients, best design and level on the evaluates/compared_with edges and on the term nodes."""
    n_by: dict[tuple[str, str], int] = defaultdict(int)     # (study, modality) -> largest n of its claims
    for r in rows:
        stated = r.get("evidence_level_iri", "")              # the release's own (OCEBM) level wins over ours
        if stated.startswith(V + "EvidenceLevel") and stated[-1].isdigit() and r["study_iri"] in g:
            g.nodes[r["study_iri"]]["evidence_level"] = int(stated[-1])
        if r["n"] and r["study_iri"]:
            n_by[r["study_iri"], r["modality_iri"]] = max(n_by[r["study_iri"], r["modality_iri"]], int(r["n"]))
    for a, b, key, data in g.edges(keys=True, data=True):
        if key.startswith("evaluates|"):
            study = g.nodes[a]
            arms = [g.nodes[arm].get("patients") or 0 for _, arm, k in g.out_edges(a, keys=True)
                    if k == "has_arm" and g.has_edge(arm, b, "receives")]
            only = {k for _, _, k in g.out_edges(a, keys=True) if k.startswith("evaluates|")} == {key}
            data["patients"] = n_by.get((a, b)) or max(arms, default=0) or (study.get("patients") if only else None)
            data["best_design"], data["evidence_level"] = study["best_design"], study["evidence_level"]
        elif key.startswith("compared_with|"):
            data["studies"] = sorted({g.graph["_rows"][c]["study_iri"] for c in data["claims"]})
            level, data["best_design"] = min((g.nodes[s]["evidence_level"] or 9, g.nodes[s]["best_design"])
                                             for s in data["studies"])
            data["evidence_level"] = None if level == 9 else level
            data["patients"] = sum(n_by.get((s, a), 0) + n_by.get((s, b), 0) for s in data["studies"]) or None
    for node, data in g.nodes(data=True):
        out = [d for *_, k, d in g.out_edges(node, keys=True, data=True) if k == "reports"]
        if data["kind"] == "document":
            data["studies"], data["claims"] = len(out), sum(len(d["claims"]) for d in out)
        elif data["kind"] in ("modality", "site", "endpoint"):
            data["claims"] = len({c for *_, d in g.in_edges(node, data=True) for c in d["claims"]})
        elif data["kind"] == "study":
            data["documents"] = sum(1 for *_, k in g.in_edges(node, keys=True) if k == "reports")


# --- analyses ---------------------------------------------------------------------------------------

def _label(g: nx.MultiDiGraph, node: str) -> str:
    label = g.nodes[node].get("label") if node in g else g.graph.get("_labels", {}).get(node)
    return str(label or node.rsplit("/", 1)[-1])


def shared_studies(g: nx.MultiDiGraph) -> list[dict[str, Any]]:
    """Studies reported by more than one document, and for each quantity two documents both give for
    the study (modality, endpoint, statistic, time point; durations in months) whether they agree:
    `agree` (the same figures), `partly` (some in common) or `differ` (none in common)."""
    rows = g.graph["_rows"]
    out = []
    for study, data in g.nodes(data=True):
        if data.get("kind") != "study" or data["documents"] < 2:
            continue
        docs = sorted(_label(g, d) for d, _, k in g.in_edges(study, keys=True) if k == "reports")
        values: dict[tuple[str, ...], dict[str, set[float]]] = defaultdict(lambda: defaultdict(set))
        for r in (r for r in rows.values() if r["study_iri"] == study and r["kind"] == "outcome"):
            v = months(r) if r["unit"] in MONTHS else value_of(r)
            if v is not None:
                values[tuple(r[k] for k in QUANTITY)][_label(g, r["document_iri"])].add(v)
        quantities = []
        for q, by_doc in sorted(values.items()):
            if len(by_doc) < 2:
                continue
            sets = list(by_doc.values())
            common = set.intersection(*sets)
            status = "agree" if all(s == sets[0] for s in sets) else "partly" if common else "differ"
            quantities.append({"modality": _label(g, q[0]), "endpoint": _label(g, q[1]), "statistic": _label(g, q[2]),
                               "time_point": " ".join(x for x in q[3:] if x), "status": status,
                               "values": {d: sorted(s) for d, s in sorted(by_doc.items())}})
        status = ("no common quantity" if not quantities else
                  "agree" if all(q["status"] == "agree" for q in quantities) else "differ in part")
        out.append({"study": data["label"], "study_iri": study, "documents": docs, "status": status,
                    "quantities": quantities})
    return sorted(out, key=lambda s: (-len(s["documents"]), s["study"]))


def _result(r: dict[str, str]) -> str:
    """One comparative claim as a short sentence: 'hazard ratio 0.66 (95% CI 0.49-0.88), p = 0.005'."""
    parts = [r["endpoint"], r["statistic"], r["time_point"] and f"at {r['time_point']} {r['time_point_unit']}",
             r["value"] and f"{r['value']} {'' if r['unit'] == 'ratio' else r['unit']}".strip(),
             r["ci_lower"] and f"({r['ci_level'] or '95'}% CI {r['ci_lower']}-{r['ci_upper']})"]
    text = " ".join(p for p in parts if p) + (f", p {r['p_qualifier'] or '='} {r['p_value']}" if r["p_value"] else "")
    return f"{r['modality']} vs {r['comparator']}: {text}"


def favours(r: dict[str, str]) -> str:
    """Which arm a hazard ratio (of death, progression...) favours, from its CI (else its p); HR < 1 favours
    the claim's modality. Other statistics are not judged (an odds ratio's event is not always stated)."""
    if r["statistic_iri"] != V + "HazardRatio" or not r["value"]:
        return ""
    value, low, high, p = (_float(r[k]) for k in ("value", "ci_lower", "ci_upper", "p_value"))
    if low is not None and high is not None:
        significant = high < 1 or low > 1
    elif p is not None:
        significant = p < 0.05 or (p == 0.05 and r["p_qualifier"] == "<")
    else:
        return ""
    if not significant or value is None:
        return "no significant difference"
    return r["modality"] if value < 1 else r["comparator"]


def comparisons(g: nx.MultiDiGraph, site: str | None = None) -> list[dict[str, Any]]:
    """Head-to-head comparisons: one entry per modality pair and site, with the studies and results."""
    rows, out = g.graph["_rows"], []
    for a, b, key, data in g.edges(keys=True, data=True):
        iri = data.get("site", "")
        if not key.startswith("compared_with|") or site and site.lower() not in (iri.lower(), iri[len(V):].lower(),
                                                                                 _label(g, iri).lower()):
            continue
        by_study: dict[str, list[str]] = defaultdict(list)
        for r in (rows[c] for c in data["claims"]):
            verdict = favours(r)
            text = _result(r) + (f" [{verdict}]" if verdict.startswith("no ") else
                                 f" [favours {verdict}]" * bool(verdict))
            if text not in by_study[_label(g, r["study_iri"])]:
                by_study[_label(g, r["study_iri"])].append(text)
        out.append({"site": _label(g, data["site"]) if data["site"] else "", "a": _label(g, a), "b": _label(g, b),
                    "a_iri": a, "b_iri": b, "studies": sorted(by_study), "claims": len(data["claims"]),
                    "patients": data["patients"], "best_design": data["best_design"],
                    "evidence_level": data["evidence_level"], "results": dict(sorted(by_study.items()))})
    return sorted(out, key=lambda c: (c["site"], -len(c["studies"]), c["a"], c["b"]))


def comparison_graph(g: nx.MultiDiGraph, site: str) -> nx.Graph:
    """The modalities compared at a site (given by id, label or IRI), one edge per compared pair."""
    h = nx.Graph(site=site, label=site)
    for c in comparisons(g, site):
        h.graph["label"] = c["site"]
        for iri, label in ((c["a_iri"], c["a"]), (c["b_iri"], c["b"])):
            h.add_node(iri, label=label, claims=g.nodes[iri].get("claims", 0))
        h.add_edge(c["a_iri"], c["b_iri"], studies=c["studies"], claims=c["claims"], patients=c["patients"],
                   best_design=c["best_design"], evidence_level=c["evidence_level"])
    return h


def evidence_matrix(g: nx.MultiDiGraph) -> list[dict[str, Any]]:
    """Evidence per site x modality: studies, outcome claims, total patients, best design, and the range
    of 5-year OS (%) and of median OS (months) over those claims."""
    rows = g.graph["_rows"]
    cells: dict[tuple[str, str], dict[str, Any]] = {}
    for _, b, key, data in g.edges(keys=True, data=True):
        if not key.startswith("evaluates|") or not data["site"]:
            continue
        c = cells.setdefault((data["site"], b), {"studies": 0, "claims": 0, "patients": 0, "levels": [], "os5": [],
                                                 "median_os": []})
        c["studies"], c["claims"], c["patients"] = c["studies"] + 1, c["claims"] + data["count"], \
            c["patients"] + (data["patients"] or 0)
        c["levels"].append((data["evidence_level"] or 9, data["best_design"]))
        for r in (rows[claim] for claim in data["claims"] if rows[claim]["endpoint_iri"] == OS):
            v, rate = value_of(r), (r["statistic_iri"], r["time_point"], r["time_point_unit"], r["unit"])
            if rate == (RATE, "5", "year", "percent") and v is not None and 0 <= v <= 100:   # 723 is no rate
                c["os5"].append(v)
            elif r["statistic_iri"] == MEDIAN and months(r) is not None:
                c["median_os"].append(months(r))
    out = [{"site": _label(g, site), "modality": _label(g, mod), "site_iri": site, "modality_iri": mod,
            "studies": c["studies"], "claims": c["claims"], "patients": c["patients"],
            "best_design": min(c["levels"])[1], "evidence_level": min(c["levels"])[0] % 9 or None,
            "os5_range": [min(c["os5"]), max(c["os5"])] if c["os5"] else None,
            "median_os_range": [min(c["median_os"]), max(c["median_os"])] if c["median_os"] else None}
           for (site, mod), c in cells.items()]
    return sorted(out, key=lambda c: (c["site"], -c["studies"], c["modality"]))


def central_studies(g: nx.MultiDiGraph, top: int = 10) -> list[dict[str, Any]]:
    """Studies the evidence rests on most: documents reporting them, documents citing them, head-to-head
    comparisons they support, claims; plus degree centrality in the document-study-modality graph."""
    simple = nx.Graph((a, b) for a, b, k in g.edges(keys=True) if k.split("|")[0] in ("reports", "cites", "evaluates"))
    degree = nx.degree_centrality(simple) if len(simple) > 1 else {}
    pairs = [s for *_, k, d in g.edges(keys=True, data=True) if k.startswith("compared_with|") for s in d["studies"]]
    out = [{"study": data["label"], "study_iri": s, "documents": data["documents"], "comparisons": pairs.count(s),
            "cited_by": len({d for d, _, k in g.in_edges(s, keys=True) if k == "cites"}),
            "claims": len({c for *_, k, d in g.in_edges(s, keys=True, data=True) if k == "reports"
                           for c in d["claims"]}),
            "centrality": round(degree.get(s, 0.0), 4), "best_design": data["best_design"]}
           for s, data in g.nodes(data=True) if data["kind"] == "study"]
    out.sort(key=lambda x: (-(x["documents"] + x["cited_by"] + x["comparisons"]), -x["claims"], x["study"]))
    return out[:top]


def disagreement_groups(g: nx.MultiDiGraph) -> list[dict[str, Any]]:
    """Connected groups of claims linked by `bcmkg:disagreesWith` (either direction), largest first."""
    rows = g.graph["_rows"]
    h = nx.Graph((a, b) for a, b, k in g.edges(keys=True) if k == "disagrees")
    out = []
    for group in nx.connected_components(h):
        members = sorted(group)
        out.append({"claims": members, "size": len(members),
                    "documents": sorted({_label(g, rows[c]["document_iri"]) for c in members if c in rows}),
                    "studies": sorted({_label(g, rows[c]["study_iri"]) for c in members if c in rows}),
                    "values": {c.split("/claim/", 1)[-1]: rows[c]["value"] for c in members if c in rows}})
    return sorted(out, key=lambda x: (-x["size"], x["claims"]))


# --- export -----------------------------------------------------------------------------------------

def _flat(attrs: dict[str, Any]) -> dict[str, Any]:
    """GraphML and GEXF hold no lists and no None: lists joined with '; ', None dropped."""
    return {k: ("; ".join(map(str, v)) if isinstance(v, (list, tuple, set)) else v)
            for k, v in attrs.items() if v is not None and not k.startswith("_")}


def write_graph(g: nx.MultiDiGraph, path: Path, fmt: str) -> None:
    """Write the network as GraphML, GEXF (lists joined, None dropped) or node-link JSON (lists kept)."""
    if fmt == "json":
        try:
            data = nx.node_link_data(g, edges="edges")
        except TypeError:                                  # networkx < 3.4 names the key `link`
            data = nx.node_link_data(g, link="edges")
        data["graph"] = {k: v for k, v in data["graph"].items() if not k.startswith("_")}
        Path(path).write_text(json.dumps(data, indent=1, ensure_ascii=False, default=str) + "\n", encoding="utf-8")
        return
    if fmt not in FORMATS:
        raise KGError(f"unknown network format {fmt!r}; allowed: {', '.join(FORMATS)}")
    h = nx.MultiDiGraph(**_flat(g.graph))
    h.add_nodes_from((n, _flat(d)) for n, d in g.nodes(data=True))
    h.add_edges_from((a, b, k, _flat(d)) for a, b, k, d in g.edges(keys=True, data=True))
    (nx.write_graphml if fmt == "graphml" else nx.write_gexf)(h, str(path))


def summary(g: nx.MultiDiGraph) -> str:
    """'5 document, 123 study, ...; 629 edges': what `kg network` prints without an analysis."""
    counts = Counter(d["kind"] for _, d in g.nodes(data=True))
    return ", ".join(f"{n} {k}" for k, n in sorted(counts.items())) + f"; {g.number_of_edges()} edges"


# --- pictures ---------------------------------------------------------------------------------------

def _save(fig: Any, out: Path, name: str) -> list[Path]:
    """SVG (no date, fixed ids: the file changes only when the picture does) and PNG."""
    fig.savefig(out / f"{name}.svg", metadata={"Date": None}, bbox_inches="tight")
    fig.savefig(out / f"{name}.png", dpi=120, bbox_inches="tight", metadata={"Software": None})
    return [out / f"{name}.svg", out / f"{name}.png"]


def plot(g: nx.MultiDiGraph, out: Path, site: str = "LiverMetastasis") -> list[Path]:
    """The evidence map (site x modality) and the comparison graph of one site, as SVG and PNG in `out`."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    matplotlib.rcParams["svg.hashsalt"], colours = "bcmkg", plt.get_cmap("viridis", 6)
    out.mkdir(parents=True, exist_ok=True)
    cells = evidence_matrix(g)
    sites, mods = sorted({c["site"] for c in cells}), sorted({c["modality"] for c in cells})
    fig, ax = plt.subplots(figsize=(max(8, len(mods) * 0.32), max(4, len(sites) * 0.42)))
    for level in (1, 2, 3, 4, 5, None):
        part = [c for c in cells if c["evidence_level"] == level]
        if part:
            ax.scatter([mods.index(c["modality"]) for c in part], [sites.index(c["site"]) for c in part],
                       s=[30 + (c["patients"] or 0) ** 0.5 * 8 for c in part], alpha=0.75, edgecolors="black",
                       linewidths=0.4, color=colours(level - 1) if level else "lightgrey",
                       label=f"level {level}" if level else "level not stated")
    ax.set_xticks(range(len(mods)), mods, rotation=75, ha="right", fontsize=7)
    ax.set_yticks(range(len(sites)), sites, fontsize=7)
    ax.set_title("Evidence map: bubble area ~ patients, colour = best level of evidence", fontsize=9)
    for handle in ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1)).legend_handles:
        handle.set_sizes([40])      # type: ignore[union-attr]
    ax.grid(alpha=0.3)
    paths = _save(fig, out, "evidence-map")
    h = comparison_graph(g, site)
    fig, ax = plt.subplots(figsize=(10, 7))
    ax.margins(0.15)
    pos = nx.spring_layout(h, seed=7, k=1.6)     # seeded: the same graph gives the same picture
    nx.draw_networkx_nodes(h, pos, ax=ax, node_color="#9ecae1", edgecolors="black",
                           node_size=[300 + 8 * h.nodes[n]["claims"] for n in h.nodes])
    nx.draw_networkx_labels(h, pos, {n: h.nodes[n]["label"] for n in h.nodes}, ax=ax, font_size=8)
    nx.draw_networkx_edges(h, pos, ax=ax, width=[1 + 1.5 * len(d["studies"]) for *_, d in h.edges(data=True)],
                           edge_color=[colours((d["evidence_level"] or 6) - 1) for *_, d in h.edges(data=True)])
    nx.draw_networkx_edge_labels(h, pos, {(a, b): "\n".join(d["studies"]) for a, b, d in h.edges(data=True)},
                                 ax=ax, font_size=6)
    ax.set_title(f"Head-to-head comparisons, {h.graph['label']}: edge width ~ studies, colour = best level", size=9)
    ax.axis("off")
    paths += _save(fig, out, f"comparison-{site.lower().removesuffix('metastasis') or 'site'}")
    plt.close("all")
    return paths
