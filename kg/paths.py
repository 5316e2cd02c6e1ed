"""Where the project, the corpus and the release are, for a source checkout and an installed package alike.

The project is the folder holding `pyproject.toml` and `sources/`, found upward from the
working directory (or `KG_PROJECT`); the package's own parent is the fallback for an
editable install run from elsewhere. The corpus and the release come from an option, else
`KG_CORPUS` / `KG_RELEASE`, else the project's defaults (`../shared/corpus` beside the
project when it exists, `build/release`). Nothing here reads a file beyond `is_dir()`.
"""
from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

from .errors import KGError

__all__ = ["project_root", "project_dir", "corpus_dir", "release_dir", "queries_dir"]

_PACKAGE_PARENT = Path(__file__).resolve().parent.parent


def _is_project(folder: Path) -> bool:
    return (folder / "pyproject.toml").is_file() and (folder / "sources").is_dir()


_FOUND: dict[tuple[str, str], Path] = {}     # (KG_PROJECT, start) -> project: each query run asks


def project_root(start: Path | None = None) -> Path | None:
    """The project folder, or None when neither the working directory nor the package is inside one.
    A folder found is remembered for the same start and KG_PROJECT (the search stats a dozen paths,
    a third of a sub-millisecond query's time); a miss is searched again next time."""
    key = (os.environ.get("KG_PROJECT", ""), str(start) if start else os.getcwd())
    if key in _FOUND:
        return _FOUND[key]
    found = _find_project(key[0], Path(key[1]))
    if found is not None:
        _FOUND[key] = found
    return found


def _find_project(env: str, start: Path) -> Path | None:
    if env:
        return Path(env).resolve()
    here = start.resolve()
    for folder in (here, *here.parents):
        if _is_project(folder):
            return folder
    return _PACKAGE_PARENT if _is_project(_PACKAGE_PARENT) else None


def project_dir(name: str) -> Path:
    """A folder of the project (`sources`, `ontology`, `shapes`, `queries`, `build`)."""
    root = project_root()
    if root is None:
        raise KGError(f"no project found for {name}/: run inside the project folder (the one holding "
                      "pyproject.toml and sources/) or set KG_PROJECT")
    return _child(root, name)


@lru_cache(maxsize=64)
def _child(root: Path, name: str) -> Path:   # a Path joined costs a tenth of a lookup query's time
    return root / name


def queries_dir() -> Path:
    return project_dir("queries")


def corpus_dir(option: Path | None = None, required: bool = False) -> Path | None:
    """The corpus folder: the option, else KG_CORPUS, else ../shared/corpus beside the project."""
    if option is not None:
        found: Path | None = Path(option)
    elif os.environ.get("KG_CORPUS"):
        found = Path(os.environ["KG_CORPUS"])
    else:
        root = project_root()
        found = root.parent / "shared" / "corpus" if root else None
        found = found if found is not None and found.is_dir() else None
    if found is not None and not found.is_dir():
        raise KGError(f"corpus folder {found} does not exist (from --corpus or KG_CORPUS)")
    if found is None and required:
        raise KGError("no corpus folder: give --corpus DIR or set KG_CORPUS")
    return found


def release_dir(option: Path | None = None) -> Path:
    """The release folder: the option, else KG_RELEASE, else build/release in the project."""
    if option is not None:
        return Path(option)
    if os.environ.get("KG_RELEASE"):
        return Path(os.environ["KG_RELEASE"])
    return project_dir("build") / "release"
