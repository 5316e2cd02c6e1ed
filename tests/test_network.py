"""The evidence network on the real release: figures asserted are the documents' own.

Documents: ueno2022 (001, Table 1 primary-tumour trials, Table 2 liver case-control studies),
sen2024 (002, discussion), greco2026 (000, Table 2 thermal ablation), bclm-review-zh (003,
Table 1 international studies).
"""
from __future__ import annotations

import json

import networkx as nx
import pytest

from kg import network as net
from kg.cli import main

V = "https://w3id.org/bcmkg/vocab/"


@pytest.fixture(scope="module")
def graph(release):
    return net.evidence_graph(release)


def _study(graph, study_id):
    return graph.nodes[f"https://w3id.org/bcmkg/id/study/{study_id}"]


def test_nodes_and_edges_of_every_kind(graph):
    kinds = {d["kind"] for _, d in graph.nodes(data=True)}
    assert kinds == {"document", "study", "arm", "modality", "site", "endpoint", "claim"}
    relations = {k.split("|")[0] for *_, k in graph.edges(keys=True)}
    assert {"reports", "cites", "evaluates", "compared_with", "disagrees", "has_arm", "measures"} <= relations
    assert sum(1 for _, d in graph.nodes(data=True) if d["kind"] == "document") == 5
    # every edge names the claims behind it (structural edges have none)
    ev = graph.edges["https://w3id.org/bcmkg/id/study/vogl2023", V + "MicrowaveAblation",
                     "evaluates|" + V + "LiverMetastasis"]
    assert ev["count"] == len(ev["claims"]) > 0 and ev["patients"] == 17      # greco2026 Table 2: MWA n = 17
    vogl = _study(graph, "vogl2023")
    assert ev["best_design"] == vogl["best_design"] == "retrospective cohort study"
    assert ev["evidence_level"] == vogl["evidence_level"] in (3, 4)   # OCEBM (the release's) 3, ours from the design 4


def test_best_design_and_level_of_a_trial(graph):
    mf = _study(graph, "mf07-01")      # a randomised trial of 278 patients: level 2 on either scale
    assert mf["best_design"] == "randomized controlled trial" and mf["evidence_level"] == 2
    assert net.best_design([V + "CaseSeries", V + "MetaAnalysis"], {V + "MetaAnalysis": "meta-analysis"}) == (
        "meta-analysis", 1)


def test_studies_reported_by_several_documents_and_whether_they_agree(graph):
    shared = {s["study"]: s for s in net.shared_studies(graph)}
    # Ruiz 2018 and Sadot 2016 are in ueno2022 Table 2, sen2024 and bclm-review-zh Table 1
    assert shared["Ruiz 2018"]["documents"] == ["bclm-review-zh", "sen2024", "ueno2022"]
    assert shared["Sadot 2016"]["documents"] == ["bclm-review-zh", "sen2024", "ueno2022"]
    # Sadot 2016: median OS 50 vs 45 months, 5-year OS 38% vs 39%, alike in ueno2022 and bclm-review-zh
    sadot = {(q["modality"], q["statistic"]): q for q in shared["Sadot 2016"]["quantities"]}
    assert shared["Sadot 2016"]["status"] == "agree"
    assert sadot["hepatic resection or RFA", "median"]["values"] == {"bclm-review-zh": [50.0], "ueno2022": [50.0]}
    assert sadot["systemic therapy alone", "rate at a time point"]["values"]["ueno2022"] == [39.0]
    # Mariani 2013, 3-year OS after resection: ueno2022 Table 2 prints 80.7%, sen2024 80%
    mariani = shared["Mariani 2013"]["quantities"]
    assert [(q["status"], q["values"]) for q in mariani] == [("differ", {"sen2024": [80.0], "ueno2022": [80.7]})]
    # Vogl 2023, MWA median OS: greco2026 Table 2 gives 5.6 years, bclm-review-zh Table 1 67.2 months: the same
    vogl = {(q["modality"], q["statistic"]): q for q in shared["Vogl 2023"]["quantities"]}
    assert vogl["microwave ablation", "median"]["status"] == "agree"
    assert vogl["microwave ablation", "median"]["values"] == {"bclm-review-zh": [67.2], "greco2026": [67.2]}
    # Sundén 2020: 77 vs 28 months in greco2026 and sen2024
    sunden = {q["modality"]: q["values"] for q in shared["Sundén 2020"]["quantities"]}
    assert sunden == {"hepatic resection": {"greco2026": [77.0], "sen2024": [77.0]},
                      "systemic therapy alone": {"greco2026": [28.0], "sen2024": [28.0]}}
    # Ruiz 2018, 5-year OS after resection: 57% in both, 69% (matched) in ueno2022, 30.9% in bclm-review-zh
    ruiz5 = next(q for q in shared["Ruiz 2018"]["quantities"]
                 if q["modality"] == "hepatic resection" and q["time_point"] == "5 year")
    assert ruiz5["status"] == "partly"
    assert ruiz5["values"] == {"bclm-review-zh": [30.9, 57.0], "ueno2022": [57.0, 69.0]}


def test_head_to_head_comparisons_with_results(graph):
    pairs = {(c["site"], c["a"], c["b"]): c for c in net.comparisons(graph)}
    mf = pairs["de novo stage IV breast cancer", "primary tumour surgery", "systemic therapy alone"]
    assert "MF07-01 (Soran 2018)" in mf["studies"]
    _best_of_its_studies(graph, mf)
    # ueno2022 Table 1: MF07-01 OS HR 0.66 [0.49-0.88], p 0.005; median OS 46 vs 37 months
    results = mf["results"]["MF07-01 (Soran 2018)"]
    assert ("primary tumour surgery vs systemic therapy alone: overall survival hazard ratio 0.66 "
            "(95% CI 0.49-0.88), p = 0.005 [favours primary tumour surgery]") in results
    assert "primary tumour surgery vs systemic therapy alone: overall survival median 46 month, p = 0.005" in results
    assert "systemic therapy alone vs primary tumour surgery: overall survival median 37 month, p = 0.005" in results
    # ABCSG-28: HR 0.691 (0.358-1.333): no significant difference
    assert any(r.endswith("[no significant difference]")
               for r in mf["results"]["ABCSG-28 POSYTTIVE (Fitzal 2019)"])


def _best_of_its_studies(graph, comparison):
    """A comparison's level and design are those of its strongest study."""
    by_label = {d["label"]: d for _, d in graph.nodes(data=True) if d["kind"] == "study"}
    levels = [(by_label[s]["evidence_level"] or 9, by_label[s]["best_design"]) for s in comparison["studies"]]
    assert (comparison["evidence_level"] or 9, comparison["best_design"]) == min(levels)


def test_comparison_graph_of_the_liver(graph):
    liver = net.comparison_graph(graph, "LiverMetastasis")
    resection, systemic = V + "HepaticResection", V + "SystemicTherapyAlone"
    assert liver.has_edge(resection, systemic)
    # ueno2022 Table 2 (Ruiz 2018), sen2024 and greco2026 (Sundén 2020), bclm-review-zh Table 2 (Chen 2022)
    assert liver.edges[resection, systemic]["studies"] == ["Chen 2022", "Ruiz 2018", "Sundén 2020"]
    assert liver.edges[resection, V + "Chemotherapy"]["studies"] == ["Abbas 2017"]
    assert liver.edges[V + "RFAPlusTACE", V + "TransarterialChemoembolization"]["studies"] == ["Wang 2017"]
    ruiz = next(c for c in net.comparisons(graph, "breast cancer liver metastasis")
                if c["b_iri"] == systemic and c["a_iri"] == resection)["results"]["Ruiz 2018"]
    # ueno2022 Table 2: 74 vs 13 months, and after propensity matching 82 vs 31 months
    for text in ("hepatic resection vs systemic therapy alone: overall survival median 74 month, p < 0.001",
                 "systemic therapy alone vs hepatic resection: overall survival median 13 month, p < 0.001",
                 "hepatic resection vs systemic therapy alone: overall survival median 82 month, p < 0.001"):
        assert text in ruiz
    assert all(d["site"] == V + "LiverMetastasis" for *_, k, d in graph.edges(keys=True, data=True)
               if k.startswith("compared_with|") and k.endswith("LiverMetastasis"))


def test_evidence_per_site_and_modality(graph):
    cells = {(c["site_iri"][len(V):], c["modality_iri"][len(V):]): c for c in net.evidence_matrix(graph)}
    mwa = cells["LiverMetastasis", "MicrowaveAblation"]
    # greco2026 Table 2 and bclm-review-zh Table 1: Vogl 2023, MWA 5-year OS 89%, median 5.6 y = 67.2 months
    assert mwa["os5_range"] == [89.0, 89.0] and mwa["median_os_range"][1] == 67.2
    ruiz_sadot = cells["LiverMetastasis", "SystemicTherapyAlone"]
    # ueno2022 Table 2: 5-year OS without surgery from 10% (Ruiz) to 39% (Sadot); median 13 to 45 months
    assert ruiz_sadot["os5_range"] == [10.0, 39.0] and ruiz_sadot["median_os_range"][1] == 45.0
    resection = cells["LiverMetastasis", "HepaticResection"]
    assert resection["studies"] >= 20 and resection["evidence_level"] in (1, 3)   # a meta-analysis: ours 1, OCEBM 3
    assert resection["os5_range"][1] == 78.0        # Vertriest 2015: 78% (sen2024, bclm-review-zh Table 1)
    lung = cells["LungMetastasis", "PulmonaryMetastasectomy"]
    assert lung["os5_range"][0] == 36.0             # Staren 1992: 36% vs 11% (ueno2022, lung section)
    assert all(c["patients"] >= 0 and c["claims"] >= 1 for c in cells.values())


def test_most_central_studies(graph):
    top = net.central_studies(graph, 3)
    # Ruiz 2018: three documents, cited in two, two head-to-head comparisons (with and without chemotherapy)
    assert top[0]["study"] == "Ruiz 2018"
    assert (top[0]["documents"], top[0]["cited_by"], top[0]["comparisons"]) == (3, 2, 2)
    assert top[1]["study"] == "Sadot 2016" and top[1]["documents"] == 3


def test_groups_of_disagreeing_claims(graph):
    groups = net.disagreement_groups(graph)
    largest = groups[0]
    # Ruiz 2018, 5-year OS after resection: 57 (ueno2022, bclm-review-zh), 69 (sen2024), 30.9 (bclm-review-zh)
    assert largest["studies"] == ["Ruiz 2018"] and largest["size"] == 4
    assert sorted(largest["values"].values()) == ["30.9", "57", "57", "69"]
    mariani = next(g for g in groups if g["studies"] == ["Mariani 2013"])
    assert sorted(mariani["values"].values()) == ["80", "80.7", "80.7"]
    members = [c for g in groups for c in g["claims"]]
    assert len(members) == len(set(members))          # the groups are disjoint
    assert sum(g["size"] for g in groups) == sum(1 for _, d in graph.nodes(data=True) if d["kind"] == "claim")


@pytest.mark.parametrize("fmt", net.FORMATS)
def test_export_reads_back_with_the_same_counts(graph, tmp_path, fmt):
    path = tmp_path / f"network.{fmt}"
    net.write_graph(graph, path, fmt)
    if fmt == "graphml":
        back = nx.read_graphml(path, force_multigraph=True)
        edge = next(d for *_, d in back.edges(data=True) if d["relation"].startswith("compared_with"))
        assert isinstance(edge["claims"], str) and "; " in edge["claims"]     # lists joined as strings
    elif fmt == "gexf":
        back = nx.read_gexf(path)
    else:
        back = nx.node_link_graph(json.loads(path.read_text()), edges="edges")
    assert back.number_of_nodes() == graph.number_of_nodes()
    assert back.number_of_edges() == graph.number_of_edges()

@pytest.mark.slow

def test_cli_analyses_export_and_pictures(release, tmp_path, capsys):
    assert main(["network", "--release", str(release), "--comparisons", "LiverMetastasis"]) == 0
    liver = json.loads(capsys.readouterr().out)
    assert {c["site"] for c in liver} == {"breast cancer liver metastasis"}
    assert main(["network", "--release", str(release), "--shared"]) == 0
    assert json.loads(capsys.readouterr().out)[0]["study"] == "Ruiz 2018"
    out = tmp_path / "n.graphml"
    assert main(["network", "--release", str(release), "--export", "graphml", "-o", str(out),
                 "--plot", str(tmp_path / "pics")]) == 0
    assert nx.read_graphml(out, force_multigraph=True).number_of_nodes() > 300
    for name in ("evidence-map.svg", "evidence-map.png", "comparison-liver.svg", "comparison-liver.png"):
        assert (tmp_path / "pics" / name).stat().st_size > 1000
    assert (tmp_path / "pics" / "evidence-map.svg").read_text().lstrip().startswith("<?xml")


def test_the_pages_draw_what_the_network_holds(graph):
    """kg/serve/network_svg.py draws from the analyses: the liver page's comparison graph has one line
    per pair `comparisons` gives, its map one bubble per site x modality cell; MWA's page is a column."""
    pytest.importorskip("markupsafe")
    import re

    from kg.serve.network_svg import term_figures
    liver = term_figures(graph, V + "LiverMetastasis")
    assert liver["kind"] == "site" and len(liver["comparisons"]) == 1
    svg = str(liver["comparisons"][0]["svg"])
    drawn = set(re.findall(r'<g class="edge" data-a="(\w+)" data-b="(\w+)">', svg))
    given = {(c["a_iri"][len(V):], c["b_iri"][len(V):]) for c in net.comparisons(graph, "LiverMetastasis")}
    assert drawn == given and ("HepaticResection", "SystemicTherapyAlone") in drawn
    cells = [c for c in net.evidence_matrix(graph) if c["site_iri"] == V + "LiverMetastasis"]
    assert str(liver["map"]["svg"]).count('<g class="cell"') == len(cells) == len(liver["map"]["table"])
    mwa = term_figures(graph, V + "MicrowaveAblation")
    assert mwa["kind"] == "modality" and mwa["comparisons"] == []
    assert sorted(c["site_iri"][len(V):] for c in mwa["map"]["table"]) == ["LiverMetastasis", "LungMetastasis"]
    assert term_figures(graph, V + "OverallSurvival") is None
