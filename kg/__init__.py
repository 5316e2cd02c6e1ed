"""Knowledge graph of the evidence on surgery and local therapies for breast cancer metastases.

The front door: build a release, open the engine, run a named query, and the error types.

>>> import kg
>>> rows = kg.query("flagship", site="LiverMetastasis")                     # doctest: +SKIP
>>> rows = kg.query("hazard_ratios", endpoint="OverallSurvival")            # a query parameter  # doctest: +SKIP
>>> remote = kg.open_store(endpoint="http://localhost:7878/query")          # doctest: +SKIP
>>> rows = kg.query("flagship", store=remote, mode="any")                   # doctest: +SKIP

`kg.query` is this function, also after `kg.query` the module (kg/query.py) has been
imported: `from kg.query import run` (or `sys.modules["kg.query"]`) reaches the module.
"""
from __future__ import annotations

import sys
import types
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .errors import ConformanceError, InputError, KGError, QueryError

if TYPE_CHECKING:
    __version__: str


def _version() -> str:
    """The installed distribution's version (pyproject.toml is the one place it lives); read on
    first use, since importlib.metadata costs a command that never asks for it ~30-80 ms."""
    from importlib.metadata import PackageNotFoundError, version
    try:
        return version("bcmkg")
    except PackageNotFoundError:  # running from a source tree without install
        return "0.0.0"


def __getattr__(name: str) -> Any:
    if name == "__version__":
        value = _version()
        globals()["__version__"] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def build(*args: Any, **kwargs: Any) -> Any:
    """Build a release from the curated sources (see kg.build.build)."""
    from .build import build as _build
    return _build(*args, **kwargs)


def query(name: str, params: Mapping[str, Any] | None = None, /, *, store: Any = None,
          release: Path | None = None, **more_params: Any) -> Any:
    """Run a named query from queries/ and return its rows as dicts of plain Python values (`Rows`).

    The only keyword arguments of this function are `store` (an engine from `kg.open_store`;
    a remote one is `kg.open_store(endpoint=URL)`) and `release` (the release folder of the
    embedded engine); every other keyword, and the `params` mapping, are query parameters.
    """
    from .query import query as _query
    return _query(name, params, store=store, release=release, **more_params)


def open_store(release: Path | None = None, endpoint: str | None = None) -> Any:
    """The query engine: embedded Oxigraph over a release, or a remote SPARQL endpoint (kg.store)."""
    from .store import open_store as _open
    return _open(release, endpoint)


class _Package(types.ModuleType):
    """Importing the submodule kg.query sets the package attribute `query` to that module; this
    package keeps the front-door function under that name instead (the submodule stays in
    sys.modules, so `from kg.query import ...` works as usual)."""

    def __setattr__(self, name: str, value: Any) -> None:
        if name == "query" and isinstance(value, types.ModuleType):
            return
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package

__all__ = ["build", "query", "open_store", "KGError", "InputError", "ConformanceError", "QueryError", "__version__"]
