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
def page():
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        pg = browser.new_page(viewport={"width": 1280, "height": 900}, java_script_enabled=False)
        yield pg
        browser.close()


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
    assert any(r.get("studyLabel") == "Vogl 2023" and r.get("value") == "89" for r in rows), rows
    page.screenshot(path=str(OUT / "flagship-query.png"), full_page=True)
    assert (OUT / "flagship-query.png").stat().st_size > 10_000
