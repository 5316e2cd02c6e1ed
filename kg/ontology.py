"""The ontology: template merge (tabular rows -> OWL), QC and the reasoner check."""
from __future__ import annotations

import csv
from pathlib import Path

from .errors import InputError, Problem
from .vocab import Term

TEMPLATE_COLUMNS = ["id", "label", "parents", "definition", "synonyms", "abbreviations",
                    "xrefs", "components", "equivalent", "deprecated", "replaced_by", "comment"]


def template_files(ontology_dir: Path) -> list[Path]:
    """Every template TSV: the curated groups, then curators' additions."""
    tdir = Path(ontology_dir) / "template"
    return sorted(tdir.glob("*.tsv")) + sorted((tdir / "additions").glob("*.tsv"))


def read_template(ontology_dir: Path) -> list[dict]:
    """Read every template row as a dict, remembering file and line for error messages."""
    rows: list[dict] = []
    problems: list[Problem] = []
    for path in template_files(ontology_dir):
        with open(path, encoding="utf-8", newline="") as fh:
            reader = csv.DictReader(fh, delimiter="\t", quoting=csv.QUOTE_NONE)
            missing = [c for c in ("id", "label", "parents") if c not in (reader.fieldnames or [])]
            if missing:
                problems.append(Problem(str(path), 1, "header", reader.fieldnames,
                                        f"missing column(s) {', '.join(missing)}",
                                        f"expected columns: {', '.join(TEMPLATE_COLUMNS)}"))
                continue
            for lineno, row in enumerate(reader, start=2):
                if not any((v or "").strip() for v in row.values() if isinstance(v, str)):
                    continue
                clean = {k: (v or "").strip() for k, v in row.items() if k is not None}
                clean["_file"], clean["_line"] = str(path), lineno
                rows.append(clean)
    if problems:
        raise InputError(problems)
    return rows


def split_list(cell: str) -> list[str]:
    return [p.strip() for p in (cell or "").split("|") if p.strip()]


def terms_from_rows(rows: list[dict]) -> list[Term]:
    return [Term(id=r["id"], label=r["label"], parents=split_list(r.get("parents", "")),
                 abbreviations=[a.split("[")[0].strip() for a in split_list(r.get("abbreviations", ""))],
                 synonyms=split_list(r.get("synonyms", "")),
                 deprecated=r.get("deprecated", "").lower() in ("true", "yes", "1"),
                 replaced_by=r.get("replaced_by", ""))
            for r in rows]
