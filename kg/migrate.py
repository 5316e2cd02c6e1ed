"""Move the extraction files off a retired term: every value that resolves to it is rewritten
to its replacement, in place, on the line the reader found it (comments and layout kept)."""
from __future__ import annotations

import re
from pathlib import Path

from .errors import InputError, KGError, Problem
from .ontology.terms import load_terms
from .sources import load_source

__all__ = ["migrate_term"]


def migrate_term(sources: Path, ontology: Path, old: str, new: str | None = None,
                 dry_run: bool = False) -> list[tuple[str, int, str, str]]:
    """Rewrite every use of term `old` to `new` (default: its `replaced_by`); return
    (file, line, written, replacement) for each rewritten value."""
    terms = load_terms(ontology)
    term = terms.terms.get(old)
    if term is None:
        raise KGError(f"unknown term {old!r}{terms.suggest(old)}")
    target = new or term.replaced_by
    if not target:
        raise KGError(f"{old} names no replacement (replaced_by in the template): give --to TERM")
    if target not in terms.terms:
        raise KGError(f"unknown replacement term {target!r}{terms.suggest(target)}")
    changes: list[tuple[str, int, str, str]] = []
    for path in sorted(Path(sources).glob("*.yaml")):
        source = load_source(path, terms)
        uses = [u for u in source.deprecated_uses if u.term == old and u.line]
        if not uses:
            continue
        lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
        for use in uses:
            assert use.line is not None
            line = lines[use.line - 1]
            key = use.field.rsplit(".", 1)[-1]
            pattern = re.compile(rf"(\b{re.escape(key)}:\s*(?:\[[^\]]*)?[\"']?){re.escape(use.written)}(?=[\"']?\s*(?:[,\]#]|$))")
            replaced, count = pattern.subn(lambda m: m.group(1) + target, line, count=1)
            if not count:
                raise InputError(Problem(str(path), use.line, use.field, use.written,
                                         "could not rewrite this value in place", f"replace it by {target} by hand"))
            lines[use.line - 1] = replaced
            changes.append((str(path), use.line, use.written, target))
        if not dry_run:
            tmp = path.with_name(f".{path.name}.migrate")
            tmp.write_text("".join(lines), encoding="utf-8")
            tmp.replace(path)
    return changes
