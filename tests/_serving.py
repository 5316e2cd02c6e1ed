"""Shared by test_serve.py and test_browser.py: a real release and a real `kg serve` process.

The release is built once per test session by `kg build` into a temporary folder, from a copy
of the ontology that carries one deprecated term when the template has none (so the
deprecated-term page is tested against real build output). KG_TEST_RELEASE=DIR uses an
existing release instead (for quick local runs).
"""
from __future__ import annotations

import atexit
import csv
import functools
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
RETIRED = "RetiredMicrowaveAblationTerm"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def deprecated_rows(ontology: Path) -> list[dict]:
    rows = []
    for path in sorted((ontology / "template").rglob("*.tsv")):
        with open(path, encoding="utf-8", newline="") as fh:
            for row in csv.DictReader(fh, delimiter="\t", quoting=csv.QUOTE_NONE):
                if (row.get("deprecated") or "").strip().lower() in ("true", "yes", "1"):
                    rows.append(row)
    return rows


@functools.lru_cache(maxsize=1)
def built_release() -> tuple[Path, str, str]:
    """(release folder, a deprecated term id, its replacement id), built once per session."""
    given = os.environ.get("KG_TEST_RELEASE")
    if given:
        return Path(given), os.environ.get("KG_TEST_DEPRECATED", "OldAblation"), os.environ.get(
            "KG_TEST_REPLACEMENT", "ThermalAblation")
    work = Path(tempfile.mkdtemp(prefix="kg-serve-test-"))
    atexit.register(shutil.rmtree, work, True)
    ontology = work / "ontology"
    shutil.copytree(ROOT / "ontology", ontology)
    found = [r for r in deprecated_rows(ontology) if (r.get("replaced_by") or "").strip()]
    if found:
        term, replacement = found[0]["id"], found[0]["replaced_by"].split("|")[0].strip()
    else:
        term, replacement = RETIRED, "MicrowaveAblation"
        additions = ontology / "template" / "additions"
        additions.mkdir(exist_ok=True)
        header = (ROOT / "ontology" / "template" / "modalities.tsv").read_text(encoding="utf-8").splitlines()[0]
        cols = header.split("\t")
        values = {"id": term, "label": "retired microwave ablation term (test)", "parents": "ThermalAblation",
                  "definition": "A term retired in favour of microwave ablation; kept only for the serving tests.",
                  "deprecated": "true", "replaced_by": replacement}
        (additions / "zz_serve_test.tsv").write_text(
            header + "\n" + "\t".join(values.get(c, "") for c in cols) + "\n", encoding="utf-8")
    out = work / "build"
    proc = subprocess.run([sys.executable, "-m", "kg.cli", "build", "--ontology", str(ontology),
                           "--out", str(out)], cwd=ROOT, capture_output=True, text=True, timeout=900)
    if proc.returncode != 0 or not (out / "release" / "graph.trig").is_file():
        raise RuntimeError(f"kg build failed ({proc.returncode}):\n{proc.stdout[-4000:]}\n{proc.stderr[-4000:]}")
    return out / "release", term, replacement


def wait_healthy(url: str, check, seconds: float = 90) -> bool:
    """Poll /health until it answers 200 (True) or the time is up (False); `check` may raise."""
    deadline = time.time() + seconds
    while time.time() < deadline:
        check()
        try:
            if httpx.get(url + "/health", timeout=2).status_code == 200:
                return True
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    return False


class Server:
    """`kg serve` in a subprocess on a free loopback port; stopped by its own pid."""

    def __init__(self, release: Path, *args: str):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = tempfile.NamedTemporaryFile(prefix="kg-serve-", suffix=".log", delete=False)
        self.proc = subprocess.Popen([sys.executable, "-m", "kg.cli", "serve", "--release", str(release),
                                      "--host", "127.0.0.1", "--port", str(self.port), *args],
                                     cwd=ROOT, stdout=self.log, stderr=subprocess.STDOUT)
        def exited() -> None:
            if self.proc.poll() is not None:
                raise RuntimeError(f"kg serve exited: {Path(self.log.name).read_text()}")
        if not wait_healthy(self.url, exited):
            self.stop()
            raise RuntimeError(f"kg serve did not start: {Path(self.log.name).read_text()}")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()
        Path(self.log.name).unlink(missing_ok=True)


class AppServer:
    """`create_app` with a given ServeConfig under uvicorn in a thread, on a free loopback port:
    for limits the `kg serve` command line does not set (body and answer bytes, express worker)."""

    def __init__(self, config):
        import threading

        import uvicorn

        from kg.serve import create_app
        from kg.store import open_store
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        app = create_app(open_store(config.release), config)
        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning",
                                                    access_log=False, lifespan="on"))
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()
        if not wait_healthy(self.url, lambda: None):
            self.stop()
            raise RuntimeError("the in-process server did not start")

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(20)
