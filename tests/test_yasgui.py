"""YASGUI (@zazuko/yasgui from npm), unmodified, in Debian's Chromium against our /sparql with CORS.

The test setup installs YASGUI with `npm install` into a temporary folder and serves it from a
tiny static page on another loopback port (another origin, so CORS is exercised). It runs a
SELECT and a CONSTRUCT and checks that the answers show in YASR; screenshots go to test-output/.
Skipped, saying why, when npm or Chromium is missing or the install fails.
"""
from __future__ import annotations

import functools
import http.server
import shutil
import subprocess
import threading
from pathlib import Path

import pytest
from _serving import ROOT, Server, built_release, free_port

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
OUT = ROOT / "test-output"

pytestmark = [pytest.mark.browser, pytest.mark.integration,
              pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Chromium at /usr/bin/chromium")]

PAGE = """<!doctype html><html><head><meta charset="utf-8">
<link rel="stylesheet" href="node_modules/@zazuko/yasgui/build/yasgui.min.css">
<script src="node_modules/@zazuko/yasgui/build/yasgui.min.js"></script></head>
<body><div id="yasgui"></div><script>
window.yasgui = new Yasgui(document.getElementById("yasgui"), {
  requestConfig: { endpoint: "ENDPOINT", method: "POST" }, copyEndpointOnNewTab: false, persistenceId: null
});
</script></body></html>"""


@pytest.fixture(scope="module")
def yasgui_dir(tmp_path_factory) -> Path:
    npm = shutil.which("npm")
    if not npm:
        pytest.skip("npm is not installed: cannot install @zazuko/yasgui")
    folder = tmp_path_factory.mktemp("yasgui")
    try:
        out = subprocess.run([npm, "install", "--no-audit", "--no-fund", "--ignore-scripts", "@zazuko/yasgui"],
                             cwd=folder, capture_output=True, text=True, timeout=600)
    except subprocess.TimeoutExpired:
        pytest.skip("npm install @zazuko/yasgui took longer than 10 minutes")
    if out.returncode != 0 or not (folder / "node_modules/@zazuko/yasgui/build/yasgui.min.js").is_file():
        pytest.skip(f"npm install @zazuko/yasgui failed: {out.stderr[-500:]}")
    return folder


@pytest.fixture(scope="module")
def static_origin(yasgui_dir):
    port = free_port()
    handler = functools.partial(_Quiet, directory=str(yasgui_dir))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", port), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{port}"
    httpd.shutdown()
    httpd.server_close()


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def server(static_origin):
    srv = Server(built_release()[0], "--workers", "2", "--cors", static_origin)
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def page(server, static_origin, yasgui_dir):
    sync_api = pytest.importorskip("playwright.sync_api")
    (yasgui_dir / "index.html").write_text(PAGE.replace("ENDPOINT", server.url + "/sparql"), encoding="utf-8")
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        pg = browser.new_page(viewport={"width": 1280, "height": 1000})
        errors: list[str] = []
        pg.on("pageerror", lambda e: errors.append(str(e)))
        pg.goto(static_origin + "/index.html")
        pg.wait_for_function("window.yasgui && window.yasgui.getTab()", timeout=30_000)
        pg.errors = errors
        yield pg
        browser.close()


def run_query(page, query: str) -> None:
    page.evaluate("""q => { const tab = window.yasgui.getTab(); tab.setQuery(q); tab.query(); }""", query)


def test_yasgui_select(page):
    OUT.mkdir(exist_ok=True)
    run_query(page, "PREFIX bcmkg: <https://w3id.org/bcmkg/vocab/>\nPREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>\n"
                    "SELECT ?term ?label WHERE { VALUES ?term { bcmkg:MicrowaveAblation } ?term rdfs:label ?label }")
    page.wait_for_selector(".yasr table.dataTable tbody tr td", timeout=30_000)
    text = page.inner_text(".yasr")
    assert "microwave ablation" in text, text[:500]
    page.screenshot(path=str(OUT / "yasgui-select.png"), full_page=True)


def test_yasgui_construct(page):
    run_query(page, "CONSTRUCT { <https://w3id.org/bcmkg/vocab/MicrowaveAblation> ?p ?o } "
                    "WHERE { <https://w3id.org/bcmkg/vocab/MicrowaveAblation> ?p ?o }")
    page.wait_for_function("""() => { const y = document.querySelector('.yasr');
        return y && /microwave ablation/.test(y.innerText) && /subClassOf|rdfs:label|label/.test(y.innerText); }""",
                           timeout=30_000)
    assert "microwave ablation" in page.inner_text(".yasr")
    page.screenshot(path=str(OUT / "yasgui-construct.png"), full_page=True)
