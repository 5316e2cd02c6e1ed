"""The package's imports point down the pipeline, never back up, and no module grows past ~400 lines.

Every `import` in kg/ (module level or inside a function; `if TYPE_CHECKING:` blocks
excepted, they never run) is read with `ast` and checked against the declared layer order.
"""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

KG = Path(__file__).resolve().parent.parent / "kg"

#: lowest first; a module may import from its own layer's earlier entries or from lower layers
LAYERS = [
    "errors", "rdf", "paths", "model", "claim_rows", "records", "yaml_lines",
    "ontology.terms", "ontology.build", "ontology.qc", "ontology.publish",
    "checker", "sources", "spans", "evidence", "summary", "transform", "shacl_sample", "validate", "jsonld", "formats",
    "release", "export",
    "diff", "document_build", "audit", "draft", "migrate", "build",
    "store", "load", "lifecycle", "match", "query", "query_docs", "network", "fhir",
    "serve.guard", "serve.workers", "serve.charts", "serve.network_svg", "serve.answers", "serve.headers", "serve.pages",
    "serve.files", "serve.resources",
    "serve.app", "serve",
    "cli",
]
RANK = {name: i for i, name in enumerate(LAYERS)}
FRONT_DOOR = {"__init__", "ontology", "__main__"}     # package __init__ files re-export lazily
MAX_LINES = 420


def module_name(path: Path) -> str:
    rel = path.relative_to(KG).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts = parts[:-1] or ["__init__"]
    return ".".join(parts)


def _runtime_nodes(tree: ast.AST):
    """Every node except those under `if TYPE_CHECKING:`."""
    stack = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            stack.extend(node.orelse)
            continue
        yield node
        stack.extend(ast.iter_child_nodes(node))


def kg_imports(path: Path) -> set[str]:
    """The kg modules a file imports, as dotted names below kg."""
    name = module_name(path)
    package = name.split(".")[:-1] if path.name != "__init__.py" else name.split(".")
    found: set[str] = set()
    for node in _runtime_nodes(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[:len(package) - (node.level - 1)] if node.level > 1 else package
                target = [*base, *(node.module.split(".") if node.module else [])]
            elif node.module and (node.module == "kg" or node.module.startswith("kg.")):
                target = node.module.split(".")[1:]
            else:
                continue
            for alias in node.names:
                candidate = ".".join([*target, alias.name])
                found.add(candidate if _known(candidate) else ".".join(target))
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("kg."):
                    found.add(alias.name[3:])
    return {f for f in found if f}


def _known(name: str) -> bool:
    return name in RANK or (KG / (name.replace(".", "/") + ".py")).is_file()


def _rank(name: str) -> int | None:
    while name:
        if name in RANK:
            return RANK[name]
        name = name.rpartition(".")[0]
    return None


MODULES = sorted(p for p in KG.rglob("*.py"))


@pytest.mark.parametrize("path", MODULES, ids=lambda p: module_name(p))
def test_imports_point_down_the_stack(path):
    name = module_name(path)
    if name.split(".")[-1] in FRONT_DOOR or name in FRONT_DOOR:
        return
    own = _rank(name)
    assert own is not None, f"kg/{path.relative_to(KG)} is not in LAYERS: add it where it belongs"
    upward = sorted(t for t in kg_imports(path) if (_rank(t) or 0) > own)
    assert not upward, f"{name} imports {upward}, which sit above it in the pipeline"


@pytest.mark.parametrize("path", MODULES, ids=lambda p: module_name(p))
def test_modules_stay_small(path):
    lines = len(path.read_text(encoding="utf-8").splitlines())
    assert lines <= MAX_LINES, f"kg/{path.relative_to(KG)} has {lines} lines; split it by responsibility"


def test_the_layer_test_can_fail(tmp_path, monkeypatch):
    """A planted upward import is found."""
    bad = KG / "rdf.py"
    imports = kg_imports(bad)
    assert "store" not in imports
    fake = tmp_path / "kg" / "rdf.py"
    fake.parent.mkdir()
    fake.write_text("from .store import open_store\n")
    monkeypatch.setattr(__import__(__name__), "KG", tmp_path / "kg")
    assert "store" in kg_imports(fake)
