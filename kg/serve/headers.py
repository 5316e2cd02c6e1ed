"""What the top of a claim, study or document page answers at a glance.

Claim: the evidence sentence itself, read from the corpus file at the span when the corpus is
beside the server (`kg.paths.corpus_dir()`; never stored in the project or the release), the
study's design and n, and the same figure in other documents. Study: design, n, DOI and arms.
Document: authors, year, DOI and corpus file.
"""
from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from ..rdf import BCMKG, BIBO

if TYPE_CHECKING:
    from .pages import Graph

__all__ = ["evidence_text", "claim_header", "study_header", "document_header"]

V = str(BCMKG)
DC = "http://purl.org/dc/terms/"
CONTEXT_CHARS = 320


def _lit(value: str) -> str:
    return json.dumps(value)


def evidence_text(corpus_file: str | None, start: str | None, end: str | None) -> dict[str, Any]:
    """{'found': True, 'before', 'span', 'after'} around the span, cut at sentence or line breaks; or
    {'found': False, 'why'} when the corpus or the file is not here."""
    from ..paths import corpus_dir
    if not (corpus_file and start and end):
        return {"found": False, "why": "no evidence span is recorded for this claim"}
    folder = corpus_dir()
    path = folder / corpus_file if folder else None
    if not path or not path.is_file():
        return {"found": False, "why": f"the corpus is not beside this server, so the sentence cannot be shown; "
                                       f"it is characters {start}–{end} of {corpus_file}"}
    text = path.read_text(encoding="utf-8")
    a, b = int(start), int(end)
    lo = max(text.rfind(". ", 0, a) + 2, text.rfind("\n", 0, a) + 1, a - CONTEXT_CHARS, 0)
    stops = [i for i in (text.find(". ", b), text.find("\n", b)) if i >= 0]
    hi = min([*(i + 1 for i in stops), b + CONTEXT_CHARS, len(text)])
    return {"found": True, "before": text[lo:a], "span": text[a:b], "after": text[b:hi], "file": corpus_file}


def claim_header(g: Graph, iri: str, own: dict[str, list[Any]]) -> dict[str, Any]:
    """Design and n for the headline; the same figure (study, endpoint, statistic, time point,
    value) in other documents."""
    def one(p: str) -> str | None:
        return next((o.value for o in own.get(V + p, [])), None)
    study = one("aboutStudy")
    out: dict[str, Any] = {"n": one("sampleSize"), "designs": [], "same_figure": []}
    if not study:
        return out
    out["designs"] = sorted(g.label(r["d"]) for r in g.select(
        f"SELECT DISTINCT ?d WHERE {{ <{study}> <{V}design> ?d FILTER(?d != <{V}StudyDesign>) }}"))
    if not out["n"]:
        ns = g.select(f"SELECT (MAX(?n) AS ?m) WHERE {{ <{study}> <{V}sampleSize> ?n }}")
        out["study_n"] = ns[0]["m"] if ns else None
    keys = [(p, one(p)) for p in ("endpoint", "statisticType", "timePoint", "timePointUnit", "value")]
    if one("value") is None:
        return out
    pattern = " ".join(f"?c <{V}{p}> ?{p} . FILTER(STR(?{p}) = {_lit(v)})" for p, v in keys if v is not None)
    out["same_figure"] = g.select(f"""SELECT DISTINCT ?c ?doc ?loc WHERE {{ ?c <{V}aboutStudy> <{study}> . {pattern}
        ?c <http://www.w3.org/ns/prov#wasDerivedFrom> ?doc . OPTIONAL {{ ?c <{V}locator> ?loc }}
        FILTER(?c != <{iri}>) }} ORDER BY ?doc ?c LIMIT 20""")
    return out


def study_header(g: Graph, iri: str) -> dict[str, Any]:
    rows = g.select(f"""SELECT ?d ?n ?doi WHERE {{ OPTIONAL {{ <{iri}> <{V}design> ?d FILTER(?d != <{V}StudyDesign>) }}
        OPTIONAL {{ <{iri}> <{V}sampleSize> ?n }}
        OPTIONAL {{ <{iri}> <{V}describedIn> ?pub . ?pub <{BIBO.doi}> ?doi }} }}""")
    arms = g.select(f"""SELECT ?arm ?label ?m ?n WHERE {{ ?arm a <{V}StudyArm>
        FILTER(STRSTARTS(STR(?arm), {_lit(iri + "/")}))
        OPTIONAL {{ ?arm <http://www.w3.org/2000/01/rdf-schema#label> ?label }}
        OPTIONAL {{ ?arm <{V}modality> ?m }} OPTIONAL {{ ?arm <{V}sampleSize> ?n }} }} ORDER BY ?arm""")
    ns = [int(r["n"]) for r in rows if r["n"]]
    return {"designs": sorted({g.label(r["d"]) for r in rows if r["d"]}), "n": max(ns) if ns else None,
            "dois": sorted({r["doi"] for r in rows if r["doi"]}), "arms": arms}


def document_header(g: Graph, iri: str) -> dict[str, Any]:
    rows = g.select(f"""SELECT ?p ?o WHERE {{ <{iri}> ?p ?o VALUES ?p {{ <{DC}creator> <{DC}date> <{BIBO.doi}>
        <{V}corpusFile> <{DC}isPartOf> }} }}""")
    got: dict[str, list[str]] = {}
    for r in rows:
        got.setdefault(r["p"], []).append(r["o"])
    return {"authors": sorted(got.get(DC + "creator", [])), "year": (got.get(DC + "date") or [""])[0],
            "doi": (got.get(str(BIBO.doi)) or [""])[0], "file": (got.get(V + "corpusFile") or [""])[0],
            "venue": (got.get(DC + "isPartOf") or [""])[0]}
