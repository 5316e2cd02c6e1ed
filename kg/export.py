"""The claims table: one row per claim, labels beside IRIs, for analysts and notebooks.

Read straight from the release's `graph.nq` (else `graph.trig`) with Oxigraph's parser,
which keeps every literal exactly as written ("74.70" stays "74.70", "89" stays "89"; an
Oxigraph *store* answers 74.7, and rdflib's TriG writer prints "89"^^xsd:decimal as 89.0).
Columns come from the claim model (kg/model.py) and are listed in docs/export-columns.md.

    >>> text = export_claims(Path("build/release"), "csv")   # doctest: +SKIP
"""
from __future__ import annotations

import csv
import io
import json
from collections import defaultdict
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from typing import Any

from .errors import KGError, QueryError
from .model import BY_KEY, CLAIM_CLASSES, PRINTED, Field, export_columns, printed_twin
from .rdf import BCMKG, OA, PROV, RDF, RDFS, fewer_collections

RDF_TYPE, RDFS_LABEL = str(RDF.type), str(RDFS.label)
PROV_DERIVED = PROV + "wasDerivedFrom"
BIBO_DOI = "http://purl.org/ontology/bibo/doi"
V = str(BCMKG)
KIND_OF_CLASS = {cls: kind for kind, cls in CLAIM_CLASSES.items()}

#: Columns the export computes itself (provenance, study), then the claim model's own.
HEAD = {"claim_iri": "the claim's IRI (`https://w3id.org/bcmkg/id/claim/{document}/{claim id}`)",
        "claim_id": BY_KEY["id"].description, "kind": BY_KEY["kind"].description,
        "document": "corpus file name the claim was read from (e.g. `000_922cf6fdf7f0a20b.txt`)",
        "document_iri": "IRI of the source document", "doi": "DOI of the source document, where it has one",
        "locator": BY_KEY["locator"].description,
        "span_start": "start of the evidence span (character offset into the corpus file, Python `str` index)",
        "span_end": "end of the evidence span (exclusive)",
        "study": "label of the study the figure belongs to (e.g. `Vogl 2023`)", "study_iri": "IRI of the study",
        "study_doi": "DOI of the study's primary publication, from the document's reference list",
        "study_design": "labels of the study's designs, `; `-separated",
        "study_design_iri": "IRIs of the study's designs, same order"}


#: Columns the export derives from `value`, placed right after it.
DERIVED_COLUMNS = {
    "value_as_printed": "the value exactly as printed (`74.70`, `1/3`, a misprint such as `223`); `value` is "
                        "the same figure as a number (a fraction as its decimal, `0.3333…`)",
    "value_for_analysis": "the number to analyse: the curators' reading (`interpreted_value`) where they gave one "
                          "(a misprinted `223` read as `22.3`), else `value`; empty for a range or a qualitative "
                          "value (e.g. not reached)"}
NUMERIC_PROPS = {"ciLower", "ciUpper", "valueInMonths", "interpretedValue"}


def model_columns() -> list[tuple[Field, str]]:
    """The claim model's columns (read from kg.model.FIELDS on each call)."""
    return [(f, col) for f, col in export_columns() if col not in HEAD]


def columns() -> list[str]:
    """Every column of the claims table, in order."""
    out = list(HEAD)
    for _, col in model_columns():
        out.append(col)
        if col == "value":
            out += list(DERIVED_COLUMNS)
    return out


def numeric_columns() -> list[str]:
    """Columns holding a number (not an integer): CSV cells pandas reads as float64, JSON numbers."""
    cols = [col for f, col in model_columns() if f.kind == "figure" or f.prop in NUMERIC_PROPS]
    return [*cols, "value_for_analysis"]


def integer_columns() -> list[str]:
    return ["span_start", "span_end"] + [col for f, col in model_columns() if f.kind == "integer"] + ["source_line"]


def number(text: str) -> float | None:
    """'74.70' -> 74.7, '1/3' -> 0.333..., '' -> None (owl:rational figures are written as fractions)."""
    if not text:
        return None
    if "/" in text:
        return float(Fraction(text))
    return float(Decimal(text))


def _decimal_text(text: str) -> str:
    """A CSV cell pandas reads as a number: decimals as printed, a fraction as its decimal."""
    return repr(float(Fraction(text))) if "/" in text else text


__all__ = ["export_claims", "export_parquet", "claim_rows", "claim_row", "columns_markdown", "columns", "model_columns",
           "numeric_columns", "number"]


ReleaseData = dict[str, dict[str, list[Any]]]


def read_release(release: Path) -> ReleaseData:
    """subject -> predicate -> [objects] over every graph (the release's union)."""
    import pyoxigraph as ox
    nq, trig = Path(release) / "graph.nq", Path(release) / "graph.trig"
    if nq.is_file():       # lossless: rdflib's TriG writer turns "89"^^xsd:decimal into 89.0
        path, fmt = nq, ox.RdfFormat.N_QUADS
    elif trig.is_file():
        path, fmt = trig, ox.RdfFormat.TRIG
    else:
        raise KGError(f"no release at {release}: graph.nq / graph.trig missing (run `kg build` first)")
    data: ReleaseData = defaultdict(lambda: defaultdict(list))
    # lenient (IRIs not checked again): the build wrote these files with pyoxigraph; a quarter faster
    with fewer_collections():
        for quad in ox.parse(path=str(path), format=fmt, lenient=True):
            s, p, o = quad.subject, quad.predicate.value, quad.object
            key = s.value if isinstance(s, (ox.NamedNode, ox.BlankNode)) else str(s)
            objs = data[key][p]
            if o not in objs:
                objs.append(o)
    return data


def _text(term: object) -> str:
    return getattr(term, "value", str(term))


def _first(data: ReleaseData, s: str, p: str) -> str:
    objs = data.get(s, {}).get(p)
    return _text(objs[0]) if objs else ""


def _label(data: ReleaseData, iri: str) -> str:
    return _first(data, iri, RDFS_LABEL) or iri.rsplit("/", 1)[-1]


def claim_rows(release: Path, data: ReleaseData | None = None) -> list[dict[str, str]]:
    """One dict per claim, keys = columns(), values as written (empty string when absent);
    `data`: the release as `read_release` gives it, when the caller has read it already."""
    data = read_release(release) if data is None else data
    plan = _row_plan()
    rows = [row for s, props in data.items() if (row := _claim_row(s, props, data, plan)) is not None]
    rows.sort(key=lambda r: (r["document"], int(r["span_start"] or 0), r["claim_id"]))
    return rows


def claim_row(data: ReleaseData, claim: str) -> dict[str, str] | None:
    """One claim's row (None when `claim` is not a claim), from `data` holding at least the claim,
    its document, study, publication, selector and the labels of its terms: the FHIR resource of
    one claim reads just those from a store, and its row is the export's row."""
    return _claim_row(claim, data.get(claim, {}), data, _row_plan())


#: the table's columns, and per model column: (column, property, its printed twin or "", how the
#: value is shown, enum words)
RowPlan = tuple[list[str], list[tuple[str, str, str, str, dict[str, str]]]]


def _row_plan() -> RowPlan:
    """Each column's property and how its value is shown, worked out once per table, not per claim."""
    own = []
    for f, col in model_columns():
        prop = V + str(f.prop) if f.prop else ""
        twin = V + printed_twin(str(f.prop)) if str(f.prop) in PRINTED else ""
        shown = "as is" if col.endswith("_iri") or f.kind not in ("term", "enum") else f.kind
        words = {term: word for word, term in f.values.items()} if isinstance(f.values, dict) else {}
        own.append((col, prop, twin, shown, words))
    return columns(), own


def _claim_row(s: str, props: dict[str, list[Any]], data: ReleaseData, plan: RowPlan) -> dict[str, str] | None:
    kinds = [KIND_OF_CLASS[t.value[len(V):]] for t in props.get(RDF_TYPE, [])
             if t.value.startswith(V) and t.value[len(V):] in KIND_OF_CLASS]
    if not kinds:
        return None
    names, own = plan
    row = dict.fromkeys(names, "")
    row["claim_iri"], row["kind"], row["claim_id"] = s, kinds[0], _first(data, s, V + "claimId")
    row["locator"] = _first(data, s, V + "locator")
    for col, prop, twin, shown, word_of in own:
        # the printed twin first: a store answers 0.6 for a printed "0.60" (graph.nq keeps both equal)
        objs = (twin and props.get(twin)) or props.get(prop)
        value = _text(objs[0]) if objs else ""
        if not value or shown == "as is":
            row[col] = value
        elif shown == "term":
            row[col] = _label(data, value)
        else:
            row[col] = word_of.get(value[len(V):], value)
    doc = _first(data, s, PROV_DERIVED)
    row["document_iri"], row["document"], row["doi"] = doc, _first(data, doc, V + "corpusFile"), _first(data, doc, BIBO_DOI)
    study = _first(data, s, V + "aboutStudy")
    row["study_iri"], row["study"] = study, _label(data, study) if study else ""
    pub = _first(data, study, V + "describedIn")
    row["study_doi"] = _first(data, pub, BIBO_DOI) if pub else ""
    designs = sorted({_text(d) for d in data.get(study, {}).get(V + "design", [])})
    row["study_design_iri"] = "; ".join(designs)
    row["study_design"] = "; ".join(_label(data, d) for d in designs)
    sel = _first(data, _first(data, s, V + "evidence"), str(OA) + "hasSelector")
    row["span_start"], row["span_end"] = _first(data, sel, str(OA) + "start"), _first(data, sel, str(OA) + "end")
    row["value_as_printed"] = row["value"]
    row["value_for_analysis"] = row["interpreted_value"] or row["value"]
    return row


def export_claims(release_dir: Path, fmt: str) -> str:
    """The claims table as CSV (header + one line per claim) or JSON (a list of objects).

    Numeric columns (`numeric_columns()`) are numbers: CSV cells pandas reads as float64 (a
    fraction written as its decimal), JSON numbers; every printed form is kept, in
    `value_as_printed` and, in JSON, in each row's `as_printed` (column -> text). Span offsets,
    n and source line are integers; absent values are empty (CSV) or null (JSON).
    `export_parquet` writes the same table as Parquet.
    """
    rows = claim_rows(release_dir)
    nums = set(numeric_columns())
    if fmt == "csv":
        buf = io.StringIO()
        writer = csv.DictWriter(buf, fieldnames=columns(), lineterminator="\n")
        writer.writeheader()
        writer.writerows({k: _decimal_text(v) if k in nums and v else v for k, v in r.items()} for r in rows)
        return buf.getvalue()
    if fmt == "json":
        ints = set(integer_columns())
        out = []
        for r in rows:
            obj: dict[str, object] = {k: (None if v == "" else int(v) if k in ints else number(v) if k in nums else v)
                                      for k, v in r.items()}
            obj["as_printed"] = {k: r[k] for k in numeric_columns() if r[k] and k != "value_for_analysis"}
            out.append(obj)
        return json.dumps(out, indent=1, ensure_ascii=False) + "\n"
    if fmt == "parquet":
        raise QueryError("Parquet is binary: use export_parquet(release, path) or `kg export claims --format parquet`")
    raise QueryError(f"unknown export format {fmt!r}; allowed: csv, json, parquet")


def export_parquet(release_dir: Path, path: Path) -> Path:
    """The claims table as Parquet (pyarrow): numbers as float64, counts and offsets as int64, text
    as strings; the same columns as the CSV."""
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError:
        raise KGError("Parquet needs pyarrow: pip install pyarrow") from None
    rows = claim_rows(release_dir)
    nums, ints = set(numeric_columns()), set(integer_columns())
    arrays = {}
    for col in columns():
        cells = [r[col] for r in rows]
        if col in nums:
            arrays[col] = pa.array([number(c) for c in cells], pa.float64())
        elif col in ints:
            arrays[col] = pa.array([int(c) if c else None for c in cells], pa.int64())
        else:
            arrays[col] = pa.array([c or None for c in cells], pa.string())
    pq.write_table(pa.table(arrays), str(path))
    return Path(path)


def columns_markdown() -> str:
    """docs/export-columns.md: every column of the claims table with its meaning, from the claim model."""
    lines = ["<!-- generated by `kg docs` from kg/model.py and kg/export.py; do not edit -->",
             "# Columns of the claims table", "", "| column | meaning |", "|---|---|"]
    lines += [f"| `{col}` | {text} |" for col, text in HEAD.items()]
    nums = set(numeric_columns())
    for f, col in model_columns():
        kind = " (IRI)" if col.endswith("_iri") else (" (label)" if f.kind == "term" else "")
        kind += " (number)" if col in nums else ""
        lines.append(f"| `{col}` | {f.description}{kind} |")
        if col == "value":
            lines += [f"| `{c}` | {text}{' (number)' if c in nums else ''} |" for c, text in DERIVED_COLUMNS.items()]
    return "\n".join(lines) + "\n"
