"""A real Chromium (Debian's package, driven by Playwright) walks the site like a reader would.

Needs /usr/bin/chromium: `apt-get install -y chromium`. Playwright's own browser download is
not used. The screenshot goes to test-output/ (gitignored).
"""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from _serving import ROOT, Server, built_release

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]
OUT = ROOT / "test-output"

pytestmark = [pytest.mark.browser, pytest.mark.integration,
              pytest.mark.skipif(not CHROMIUM.exists(),
                                 reason="needs Debian's Chromium at /usr/bin/chromium: apt-get install -y chromium")]


@pytest.fixture(scope="module")
def server():
    srv = Server(built_release()[0], "--workers", "2")
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def browser():
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield chromium
        chromium.close()


@pytest.fixture(scope="module")
def page(browser):
    """Scripts off: every page must read without them."""
    return browser.new_page(viewport={"width": 1280, "height": 900}, java_script_enabled=False)


def test_search_term_page_and_flagship_query(server, page):
    """Index -> search "MWA" -> microwave ablation -> flagship query form -> table with Vogl 2023, 89."""
    OUT.mkdir(exist_ok=True)
    page.goto(server.url + "/")
    page.fill("form.search input[name=q]", "MWA")
    page.click("form.search button")
    page.wait_for_url(re.compile(r"/search\?q=MWA"))
    page.click("ul.hits li >> nth=0 >> a")
    page.wait_for_url(re.compile(r"/vocab/MicrowaveAblation$"))
    assert page.inner_text("h1") == "microwave ablation"
    assert "MWA" in page.inner_text("dl.term")
    assert page.locator("figure.chart svg circle").count() >= 1
    page.screenshot(path=str(OUT / "term-microwave-ablation.png"), full_page=True)

    page.click("nav >> text=Query library")
    page.click("a[href='/queries/flagship']")
    assert page.input_value("#p-site") == "LiverMetastasis"
    page.fill("#p-threshold", "50")
    page.click("#query-form button[type=submit]")
    page.wait_for_selector("table.results")
    headers = page.locator("table.results thead th").all_inner_texts()
    rows = [dict(zip(headers, r.locator("td").all_inner_texts(), strict=False))
            for r in page.locator("table.results tbody tr").all()]
    assert any(r.get("Study") == "Vogl 2023" and r.get("Value") == "89" for r in rows), rows
    page.screenshot(path=str(OUT / "flagship-query.png"), full_page=True)
    assert (OUT / "flagship-query.png").stat().st_size > 10_000


def test_flagship_page_leads_with_the_answer(server, page):
    """The defaults (liver, HR+, mode any): one answer line per modality with its best-supported
    figure, claims, studies and patients; a chart with one panel per modality; every visible column
    inside a 1280 px window, with readable headers."""
    OUT.mkdir(exist_ok=True)
    page.goto(server.url + "/queries/flagship?run=1")
    lines = page.locator("#answer li.answer-line").all_inner_texts()
    mwa = [t for t in lines if t.startswith("microwave ablation")]
    assert mwa and "89 %" in mwa[0] and "Vogl 2023" in mwa[0] and "n = 17" in mwa[0], lines
    assert any(t.startswith("hepatic resection:") and "studies" in t and "patients" in t for t in lines), lines
    panels = page.locator("svg.answer-chart g.panel")
    assert panels.count() == len(lines) >= 2
    assert page.locator("svg.answer-chart g.panel[data-modality='microwave ablation'] circle.best").count() >= 1
    headers = [h for h in page.locator("table.results thead th").all() if h.is_visible()]
    texts = [h.inner_text() for h in headers]
    assert {"Modality", "Value", "Study", "n (claim)", "Design"} <= set(texts), texts
    assert not any(t in texts for t in ("modalityLabel", "timeUnitLabel", "studyLabel")), texts
    assert all(h.bounding_box()["x"] + h.bounding_box()["width"] <= 1280 for h in headers), \
        [(t, h.bounding_box()) for t, h in zip(texts, headers, strict=True)]
    assert texts.count("Value") == 1          # the figure once, not in four columns
    page.screenshot(path=str(OUT / "flagship-answer.png"), full_page=True)
    assert (OUT / "flagship-answer.png").stat().st_size > 10_000


def test_column_chooser_shows_a_hidden_column(server, browser):
    """With scripts on, ticking a column in the chooser shows it (without scripts the page reads the same)."""
    pg = browser.new_page(viewport={"width": 1280, "height": 900})
    pg.goto(server.url + "/queries/flagship?run=1")
    column = pg.locator("table.results thead th[data-var='corpusFile']")
    assert not column.is_visible()
    pg.click("#column-chooser summary")
    index = column.get_attribute("class").split()[0][1:]
    pg.check(f"#column-chooser input[data-col='{index}']")
    assert column.is_visible()
    pg.close()


def test_claim_page_shows_the_evidence_sentence(server, page):
    OUT.mkdir(exist_ok=True)
    page.goto(server.url + "/id/claim/greco2026/t2-mwa-os5")
    assert "n = 17" in page.inner_text("#claim-meta")
    if page.locator("#evidence").count():
        assert "89%" in page.inner_text("#evidence mark")
        assert "Microwave ablation" in page.inner_text("#evidence")
    else:
        assert "corpus is not beside this server" in page.inner_text("#evidence-absent")
    assert "The same figure elsewhere" in page.inner_text("#same-figure")
    page.screenshot(path=str(OUT / "claim-evidence.png"), full_page=False)


def test_study_and_document_pages_lead_with_the_facts(server, page):
    page.goto(server.url + "/id/study/vogl2023")
    summary = page.inner_text("#study-summary")
    assert "1100" in summary and "doi:10.1080/02656736.2023.2200582" in summary and "MWA" in summary
    claims_heading = page.locator("h2", has_text="Claims")
    assert page.locator("#study-summary").bounding_box()["y"] < claims_heading.bounding_box()["y"]
    page.screenshot(path=str(OUT / "study-vogl2023.png"), full_page=False)
    page.goto(server.url + "/id/document/greco2026")
    doc = page.inner_text("#document-summary")
    assert "Greco M" in doc and "2026" in doc and "000_922cf6fdf7f0a20b.txt" in doc


#: The modality pairs compared head to head at liver metastases (kg.network.comparisons(g, "LiverMetastasis")
#: on the curated documents, looked up once): ueno2022 Table 2 (Ruiz 2018, Sadot 2016, Abbas 2017), sen2024 and
#: greco2026 (Sundén 2020), bclm-review-zh Table 2 (Chen 2022 and its unnamed rows), greco2026 (Wang 2017) and
#: the resection-vs-no-surgery meta-analyses (Ellis 2021, Mariani 2013, Yamamoto 2021).
LIVER_PAIRS = {
    ("HepaticResection", "NoSurgery"), ("HepaticResection", "SystemicTherapyAlone"),
    ("Chemotherapy", "HepaticResection"), ("HepaticResectionOrRFA", "SystemicTherapyAlone"),
    ("HepaticResectionOrRFAPlusSystemicTherapy", "SystemicTherapyAlone"),
    ("HepaticResectionPlusChemotherapy", "SystemicTherapyAlone"),
    ("HepaticResectionPlusChemotherapy", "RFAPlusChemotherapy"), ("RFAPlusTACE", "TransarterialChemoembolization"),
}


def _visible(locator, least: float = 50) -> None:
    box = locator.bounding_box()
    assert box and box["width"] > least and box["height"] > least, box


def test_site_and_modality_pages_show_the_evidence_network(server, page):
    """The liver page draws its row of the evidence map and its comparison graph, the MWA page its
    column of the map; each picture is seen (non-zero box), has its accessible name and legend, and
    its numbers are also a table."""
    OUT.mkdir(exist_ok=True)
    refused: list[str] = []

    def csp_refusal(message) -> None:
        if "Content Security Policy" in message.text:
            refused.append(message.text)
    page.on("console", csp_refusal)
    page.goto(server.url + "/vocab/LiverMetastasis")
    evidence_map, graph = page.locator("#map-LiverMetastasis svg"), page.locator("#comparisons-LiverMetastasis svg")
    _visible(evidence_map)
    _visible(graph)
    assert evidence_map.get_attribute("role") == "img"
    assert evidence_map.locator("title#map-LiverMetastasis-title").text_content() == \
        "Evidence map: breast cancer liver metastasis × modalities"
    assert graph.locator("title#comparisons-LiverMetastasis-title").text_content() == \
        "Head-to-head comparisons at breast cancer liver metastasis"
    edges = graph.locator("g.edge")
    pairs = {(e.get_attribute("data-a"), e.get_attribute("data-b")) for e in edges.all()}
    assert pairs == LIVER_PAIRS
    _visible(edges.nth(0).locator("line"), least=1)
    resection = graph.locator("g.edge[data-a='HepaticResection'][data-b='SystemicTherapyAlone']")
    assert "Chen 2022, Ruiz 2018, Sundén 2020" in resection.locator("title").text_content()
    mwa = evidence_map.locator("g.cell[data-modality='MicrowaveAblation']")
    assert "2 studies" in mwa.locator("title").text_content() and "5-year OS 89 %" in mwa.locator("title").text_content()
    assert "Size: patients" in evidence_map.text_content() and "level not stated" in graph.text_content()
    page.click("#evidence-network summary")
    assert page.locator("#map-LiverMetastasis-table tbody tr").count() == evidence_map.locator("g.cell").count()
    page.locator("#evidence-network").screenshot(path=str(OUT / "site-liver-evidence-map.png"))
    page.locator("section.comparison-graph").screenshot(path=str(OUT / "site-liver-comparisons.png"))
    assert (OUT / "site-liver-comparisons.png").stat().st_size > 10_000

    page.goto(server.url + "/vocab/MicrowaveAblation")
    column = page.locator("#map-MicrowaveAblation svg")
    _visible(column)
    sites = {c.get_attribute("data-site") for c in column.locator("g.cell").all()}
    assert sites == {"LiverMetastasis", "LungMetastasis"}
    assert page.locator("section.comparison-graph").count() == 0
    page.locator("#evidence-network").screenshot(path=str(OUT / "modality-mwa-evidence-map.png"))
    page.remove_listener("console", csp_refusal)
    assert not refused, refused                # nothing on either page broke the CSP
