"""Knowledge graph of the evidence on surgery and local therapies for breast cancer metastases.

The front door: build a release, validate, query it, and the error type.

>>> import kg
>>> rows = kg.query("flagship", site="LiverMetastasis")   # doctest: +SKIP
"""
from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("bcmkg")  # the one place the version lives is pyproject.toml
except PackageNotFoundError:  # running from a source tree without install
    __version__ = "0.0.0"

from .errors import ConformanceError, InputError, KGError, QueryError  # noqa: E402


def build(*args, **kwargs):
    """Build a release from the curated sources (see kg.build.build)."""
    from .build import build as _build
    return _build(*args, **kwargs)


def query(name: str, **params):
    """Run a named query from queries/ on the embedded engine and return rows as dicts."""
    from .query import query as _query
    return _query(name, **params)


def open_store(release=None, endpoint=None):
    """The query engine: embedded Oxigraph over a release, or a remote SPARQL endpoint (kg.store)."""
    from .store import open_store as _open
    return _open(release, endpoint)


__all__ = ["build", "query", "open_store", "KGError", "InputError", "ConformanceError", "QueryError", "__version__"]
