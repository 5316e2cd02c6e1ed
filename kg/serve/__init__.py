"""HTTP: every minted IRI by path with content negotiation, HTML pages, and a read-only /sparql.

The only package that imports the web stack (Starlette, uvicorn, Jinja2), so the library and
the CLI install without the ``[serve]`` extra. It has no engine of its own: it serves the
``kg.store`` store it is given, and its query workers open their own (``workers.py``).

    app.py      routes and handlers, ServeConfig, create_app, serve
    resources.py  minted IRIs by path: content negotiation (RDF, HTML, FHIR for outcome claims), 404s
    guard.py    what /sparql accepts (parsed: no updates, SERVICE only to allowed hosts)
    workers.py  time-limited query worker processes
    pages.py    the page read-model (labels, search, resource pages, the claims table)
    charts.py   the survival dot chart (SVG)
    network_svg.py  the evidence map and comparison graph on site and modality pages (SVG)

>>> from kg.store import open_store                                   # doctest: +SKIP
>>> cfg = ServeConfig(release=Path("build/release"))                  # doctest: +SKIP
>>> serve(cfg, host="127.0.0.1", port=8000, store=open_store(cfg.release))  # doctest: +SKIP
"""
from .app import ServeConfig, create_app, serve

__all__ = ["ServeConfig", "create_app", "serve"]
