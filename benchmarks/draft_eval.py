"""Drafting benchmark: how close `kg add-document` gets to the curators on the five corpus documents.

Not a test: a script that drafts each curated document from its text alone (exactly what
`kg add-document` writes for a new document), scores the drafts against the curated claims
in sources/ and writes docs/drafting.md (method, table per document and in all, misses by kind).

    .venv/bin/python benchmarks/draft_eval.py                  # all five, writes docs/drafting.md
    .venv/bin/python benchmarks/draft_eval.py --doc sen2024 --no-write

The same report: `kg draft --evaluate --write docs/drafting.md`.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from kg.draft.evaluate import DISCUSSION, PREAMBLE, evaluate, format_misses, format_table, write_report  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--doc", default=None, help="only this document id")
    parser.add_argument("--corpus", type=Path, default=ROOT.parent / "shared" / "corpus")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "drafting.md")
    parser.add_argument("--no-write", action="store_true", help="print only")
    a = parser.parse_args(argv)
    started = time.perf_counter()
    scores = evaluate(ROOT / "sources", a.corpus, ROOT / "ontology", only=a.doc)
    print(format_table(scores))
    print()
    print(format_misses(scores))
    print(f"drafted and scored {len(scores)} document(s) in {time.perf_counter() - started:.1f} s")
    if not a.no_write:
        write_report(scores, a.out, PREAMBLE, DISCUSSION)
        print(f"wrote {a.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
