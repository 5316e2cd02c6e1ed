"""The standard claim rows, derived from the claim model (kg/model.py FIELDS).

Two projections of one claim: `claim_row()` (one variable per claim property, IRIs kept, what
the pages lay out) and `standard_row_variables()` (what every claim-returning named query
projects: labels, the value used for comparison and whether it is a reading, ...). A field
added to the model reaches both.
"""
from __future__ import annotations

import re
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

import pyoxigraph as ox

from . import model
from .model import BY_KEY, Field
from .rdf import BCMKG, OA, PREFIXES, PROV, XSD

_RDFS = PREFIXES["rdfs"]

__all__ = ["claim_row", "claim_row_patterns", "standard_row_variables", "standard_row_sparql", "one_row_per_figure",
           "render_standard_rows", "has_standard_row", "printed",
           "column_header", "STANDARD_ROW_KEYS", "STANDARD_ROW_OWN", "LEVEL_PARAM"]


# --- the standard claim row ---------------------------------------------------------------

def claim_row() -> list[str]:
    """Variables of the claim row the pages read (named as the claim properties), read from FIELDS;
    with the printed twins (`valueAsPrinted`, ...), which the pages show."""
    return ["claim", *(str(f.prop) for f in model.FIELDS if f.prop and f.kind != "special"),
            "ciLower", "ciUpper", "interpretedValue", *(model.printed_twin(p) for p in model.PRINTED),
            "study", "document", "spanStart", "spanEnd"]


def printed(c: Mapping[str, Any], prop: str) -> Any:
    """A figure as the document prints it (its `<prop>AsPrinted` twin: the store may answer 0.3
    for a printed 0.30), else as the row holds it."""
    return c.get(model.printed_twin(prop)) or c.get(prop)


def claim_row_patterns(subject: str = "?claim") -> str:
    """SPARQL OPTIONALs binding the standard claim row for `subject` (one pattern each, so
    Oxigraph looks each up per claim)."""
    v = str(BCMKG)
    lines = [f"OPTIONAL {{ {subject} <{v}{p}> ?{p} }}" for p in claim_row()
             if p not in ("claim", "study", "document", "spanStart", "spanEnd")]
    lines += [f"OPTIONAL {{ {subject} <{v}aboutStudy> ?study }}",
              f"OPTIONAL {{ {subject} <{PROV}wasDerivedFrom> ?document }}",
              f"OPTIONAL {{ {subject} <{v}evidence> ?_ev . ?_ev <{OA}hasSelector> ?_sel . "
              f"?_sel <{OA}start> ?spanStart ; <{OA}end> ?spanEnd }}"]
    return "\n  ".join(lines)




# --- the standard claim row of the named queries -------------------------------------------
# Every named query that returns claims projects these variables (a test checks each query's SELECT);
# each comes from one FIELDS row (term/enum fields as `<prop>Label`) or is one of the row's own columns.
# The value rule (comparedValue = the curator's reading, else the value; qualitative values kept in
# valueText; readings and medium/low confidence flagged) and one row per figure: docs/cookbook.md.
# The SPARQL below is written into each queries/*.rq between BEGIN/END markers by `kg docs`
# (render_standard_rows), so a query file runs as it stands in any SPARQL client.
#: YAML keys of FIELDS rows in the standard row, in column order (term/enum -> <prop>Label)
STANDARD_ROW_KEYS = ["value_qualifier", "value_low", "value_high", "unit", "statistic", "endpoint", "time_point",
                     "time_unit", "site", "modality", "arm", "subgroup", "subtype", "subtype_basis", "comparator",
                     "n", "ci_lower", "ci_upper", "ci_level", "p_value", "p_qualifier", "confidence"]
#: the printed twins of the row's figure columns (Oxigraph answers ciLower "0.30" as 0.3)
_PRINTED_TWINS = [model.printed_twin(str(BY_KEY[k].prop)) for k in STANDARD_ROW_KEYS if BY_KEY[k].prop in model.PRINTED]
#: columns of the standard row that no single FIELDS row holds (docs/cookbook.md says what each holds)
STANDARD_ROW_OWN = ["valueText", "valueAsPrinted", "comparedValue", "isReading", "flag", *_PRINTED_TWINS, "study",
                    "studyLabel", "design", "evidenceLevelLabel", "document", "corpusFile", "locator", "spanStart",
                    "spanEnd", "figure", "alsoPrintedAt"]
#: the parameter every query with the standard row takes (kg.query adds it to the header's)
LEVEL_PARAM = "max_level"

_ROW_NAMES = {"statisticType": "statistic", "sampleSize": "n", "pValueQualifier": "pQualifier",
              "metastaticSite": "site", "timePointUnit": "timeUnit"}


def _row_var(f: Field) -> str:
    name = _ROW_NAMES.get(str(f.prop), str(f.prop))
    return name + "Label" if f.kind in ("term", "enum") else name


def standard_row_variables(suffix: str = "") -> list[str]:
    """The variables every claim-returning named query projects (with `suffix` for the second
    claim of a pair: claimA, valueTextA, ...)."""
    names = ["claim", *STANDARD_ROW_OWN[:5], *(_row_var(BY_KEY[k]) for k in STANDARD_ROW_KEYS), *STANDARD_ROW_OWN[5:]]
    return [n + suffix for n in names]


def standard_row_sparql(subject: str = "?claim", suffix: str = "") -> dict[str, str]:
    """SPARQL text of the standard row for `subject`: `select` (its variables) and `where` (patterns
    to append to the query's WHERE). Each lookup is a single or nested OPTIONAL, so Oxigraph looks
    them up claim by claim (in one group: `_grouped`), and each binds at most one value: what several
    claims or designs make (the figure, its other places, the stated designs) the build derives (kg/evidence.py), so no
    GROUP BY is needed. Private helper variables start with `_` and end with the suffix."""
    s, x = subject, suffix
    v = str(BCMKG)
    lbl = f"<{_RDFS}label>"

    def p(name: str) -> str:
        return f"<{v}{name}>"

    # Every claim has exactly one study, document and locator (shapes/claim.ttl), so OPTIONAL loses
    # nothing; required, Oxigraph joined them as a group of their own, over every claim in the graph.
    # A query that binds one of these variables itself binds it by the same property (a test checks).
    # The study's and document's own columns are nested: an OPTIONAL on a maybe-bound variable would
    # be hash-joined with no key. They stay out of the group (`_grouped`): a group that binds a
    # variable the query has bound already is hash-joined over the whole graph.
    own = [f"OPTIONAL {{ {s} {p('aboutStudy')} ?study{x} OPTIONAL {{ ?study{x} {lbl} ?studyLabel{x} }} "
           f"OPTIONAL {{ ?study{x} {p('statedDesigns')} ?design{x} }} }}",
           f"OPTIONAL {{ {s} <{PROV}wasDerivedFrom> ?document{x} "
           f"OPTIONAL {{ ?document{x} {p('corpusFile')} ?corpusFile{x} }} }}"]
    w: list[str] = [f"OPTIONAL {{ {s} {p('locator')} ?locator{x} }}"]
    w.append(f"OPTIONAL {{ {s} {p('evidence')} ?_ev{x} "
             f"OPTIONAL {{ ?_ev{x} <{OA}hasSelector> ?_sel{x} "
             f"OPTIONAL {{ ?_sel{x} <{OA}start> ?spanStart{x} }} "
             f"OPTIONAL {{ ?_sel{x} <{OA}end> ?spanEnd{x} }} }} }}")
    w += [f"OPTIONAL {{ {s} {p(prop)} ?{var}{x} }}" for prop, var in (
        ("value", "_value"), ("valueAsPrinted", "valueAsPrinted"), ("valueAsWritten", "_written"),
        ("interpretedValue", "_reading"), *((twin, twin) for twin in _PRINTED_TWINS))]
    for k in STANDARD_ROW_KEYS:
        f = BY_KEY[k]
        var = _row_var(f) + x
        if f.kind in ("term", "enum"):
            w.append(f"OPTIONAL {{ {s} {p(str(f.prop))} ?_{f.prop}{x} OPTIONAL {{ ?_{f.prop}{x} {lbl} ?{var} }} }}")
        elif k == "p_qualifier":
            # "=" where a p-value is stated without a qualifier (below); unbound where none is stated
            w.append(f"OPTIONAL {{ {s} {p(str(f.prop))} ?_pq{x} }}")
        else:
            w.append(f"OPTIONAL {{ {s} {p(str(f.prop))} ?{var} }}")
    w.append(f"OPTIONAL {{ {s} {p('evidenceLevel')} ?_level{x} OPTIONAL {{ ?_level{x} {lbl} ?evidenceLevelLabel{x} }} "
             f"OPTIONAL {{ ?_level{x} {p('levelRank')} ?_rank{x} }} }}")
    w.append(f"OPTIONAL {{ {s} {p('figure')} ?_figure{x} }}")
    w.append(f"OPTIONAL {{ {s} {p('alsoPrintedAt')} ?_also{x} }}")
    derived = [f"FILTER(!BOUND(?{LEVEL_PARAM}) || COALESCE(?_rank{x} <= ?{LEVEL_PARAM}, false))"]
    derived.append(f"BIND(STR(COALESCE(?_figure{x}, {s})) AS ?figure{x})")
    derived.append(f"BIND(COALESCE(?_also{x}, \"\") AS ?alsoPrintedAt{x})")
    # not a BIND inside the p-value's OPTIONAL: Virtuoso 7.2 then drops every later OPTIONAL's value
    derived.append(f"BIND(COALESCE(?_pq{x}, IF({_given('?pValue' + x)}, \"=\", ?_none{x})) AS ?pQualifier{x})")
    derived.append(f"BIND(COALESCE(?_reading{x}, ?_value{x}) AS ?comparedValue{x})")
    derived.append(f"BIND(IF({_given('?_reading' + x)}, true, false) AS ?isReading{x})")  # Virtuoso: a boolean is 0/1
    derived.append(f"BIND(COALESCE(?valueAsPrinted{x}, ?_written{x}, \"\") AS ?_v{x})")
    low, high = f"?valueLowAsPrinted{x}", f"?valueHighAsPrinted{x}"
    # a range with one end stated ("up to 60"): that end alone
    derived.append(f"BIND(IF({_given(low)} && {_given(high)}, CONCAT({low}, \"-\", {high}), "
                   f"COALESCE({low}, {high}, \"\")) AS ?_range{x})")
    derived.append(f"BIND(CONCAT(COALESCE(?valueQualifier{x}, \"\"), IF({_given('?valueQualifier' + x)} && (?_v{x} != \"\" || "
             f"?_range{x} != \"\"), \" \", \"\"), ?_v{x}, IF(?_v{x} != \"\" && ?_range{x} != \"\", "
             f"CONCAT(\" (range \", ?_range{x}, \")\"), ?_range{x}), "
             f"IF({_given('?_reading' + x)}, CONCAT(\" [read as \", STR(?_reading{x}), \"]\"), \"\")) AS ?valueText{x})")
    derived.append(f"BIND(CONCAT(IF({_given('?_reading' + x)}, CONCAT(\"curator's reading of printed \", ?_v{x}), \"\"), "
             f"IF({_given('?_reading' + x)} && COALESCE(?confidence{x}, \"high\") != \"high\", \"; \", \"\"), "
             f"IF(COALESCE(?confidence{x}, \"high\") != \"high\", CONCAT(\"confidence \", ?confidence{x}), \"\")) "
             f"AS ?flag{x})")
    names = [n for n in standard_row_variables(x) if n != f"claim{x}"] + ([LEVEL_PARAM] if x in ("", "A") else [])
    return {"select": " ".join([s, *(f"?{n}" for n in names)]), "where": "\n".join([_grouped(w, s, x), *own, *derived])}


def _grouped(lookups: list[str], subject: str, suffix: str) -> str:
    """The row's lookups nested in one OPTIONAL under the claim's one locator. Oxigraph plans a
    chain of n OPTIONALs beside the query's own patterns in about n^3 steps: the ~40 lookups of one
    row took 50-190 ms to plan and the ~90 of a pair of rows about a second, before reading any
    data; in groups of 8, 10 and 40 ms; nested under one pattern whose only other variable is the
    claim, 5 and 30 ms on an empty store, and at 10^5 claims surgery_vs_control 76 -> 35 ms,
    hazard_ratios 3.8 -> 3.4 s, flagship 367 -> 337 ms. Every claim has exactly one locator
    (shapes/claim.ttl), so the group matches once and the answers do not change."""
    return f"OPTIONAL {{ {subject} <{BCMKG}locator> ?_row{suffix}\n  " + "\n  ".join(lookups) + " }"


def _given(variable: str) -> str:
    """A test that `variable` holds a value, for the row's derived columns: Virtuoso 7.2 answers
    BOUND() true for a variable a nested group left unbound (its COALESCE skips it, as it should)."""
    return f'(STR(COALESCE({variable}, "")) != "")'


#: headers of the standard row's own columns at a terminal (the FIELDS columns take the field's label)
_OWN_HEADERS = {"claim": "claim", "valueText": "value", "valueAsPrinted": "as printed", "comparedValue": "compared",
                "isReading": "reading?", "flag": "flag", "study": "study IRI", "studyLabel": "study",
                "design": "design", "evidenceLevelLabel": "evidence level", "document": "document",
                "corpusFile": "corpus file", "locator": "locator", "spanStart": "span start", "spanEnd": "span end",
                "figure": "figure", "alsoPrintedAt": "also printed at", "matchedVia": "matched via"}


def column_header(variable: str) -> str:
    """What a table column is called for people: the claim model's label for a standard-row column
    ("metastatic site" for siteLabel), else the variable's words ("threshold value" for thresholdValue);
    the second claim of a pair keeps its letter ("value (B)")."""
    base, side = (variable[:-1], variable[-1]) if re.fullmatch(r"[a-z]\w*[a-z][AB]", variable) else (variable, "")
    by_var = {_row_var(BY_KEY[k]): BY_KEY[k].label for k in STANDARD_ROW_KEYS}
    by_var.update({model.printed_twin(v): f"{label} as printed" for v, label in list(by_var.items())})
    name = _OWN_HEADERS.get(base) or by_var.get(base)
    if name is None:
        base, side = variable, ""
        name = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", " ", variable.removesuffix("Label")).lower()
    return f"{name} ({side})" if side else name


#: `# BEGIN standard row select|where ?subject [suffix]` ... `# END standard row`, in a queries/*.rq file
_BLOCK = re.compile(r"^(?P<indent>[ \t]*)# BEGIN standard row (?P<part>select|where) (?P<subject>\?\w+)"
                    r"(?: (?P<suffix>[A-Z]))?[^\n]*\n.*?^[ \t]*# END standard row[^\n]*$", re.MULTILINE | re.DOTALL)
_MARK = "(generated by `kg docs` from kg/claim_rows.py; do not edit)"


def render_standard_rows(text: str) -> str:
    """A query's text with each standard-row block rewritten from the claim model."""
    def block(m: re.Match[str]) -> str:
        ind, part, subject, suffix = m["indent"], m["part"], m["subject"], m["suffix"] or ""
        body = standard_row_sparql(subject, suffix)[part]
        head = f"{ind}# BEGIN standard row {part} {subject}{' ' + suffix if suffix else ''} {_MARK}"
        return "\n".join([head, *(ind + line for line in body.splitlines()), f"{ind}# END standard row"])
    return _BLOCK.sub(block, text)


def has_standard_row(text: str) -> bool:
    return bool(_BLOCK.search(text))


_FIGURE, _READING = re.compile(r"figure[A-Z]?"), re.compile(r"isReading[A-Z]?")


def one_row_per_figure(variables: list[str], rows: list[dict[str, Any]],
                       every_place: bool = False, either_order: bool = False) -> list[dict[str, Any]]:
    """One row per figure (equal `figure*` columns): the one stating the most, ties to the first;
    `every_place` keeps all; `either_order`: a pair of figures is one pair in either order (a
    disagreement between X and Y is the one between Y and X), shown by the row naming the
    figures' own claims where there is one."""
    keys, flags = _figure_columns(tuple(variables))
    if flags:    # Virtuoso answers a boolean expression as the integer 0 or 1
        rows = [{**r, **{f: _boolean(r[f]) for f in flags if r.get(f) is not None}} for r in rows]
    if every_place or not keys:
        return rows
    best: dict[tuple[object, ...], int] = {}
    out: list[dict[str, Any]] = []
    for row in rows:
        key = tuple(row.get(k) for k in keys)
        if either_order and None not in key:
            key = tuple(sorted(key, key=str))
        if None in key or key not in best:
            best[key] = len(out)
            out.append(row)
        elif _rank(row, keys, either_order) > _rank(out[best[key]], keys, either_order):
            out[best[key]] = row
    return out


def _rank(row: Mapping[str, Any], keys: tuple[str, ...], own_first: bool) -> tuple[int, int]:
    """(how many figures the row names by their own claim, when asked; how much it states)"""
    def text(term: Any) -> str:
        return str(getattr(term, "value", term))      # the figure is the claim IRI as a string
    own = sum(1 for k in keys if text(row.get(k)) == text(row.get("claim" + k[len("figure"):]))) if own_first else 0
    return own, _filled(row)


@lru_cache(maxsize=256)
def _figure_columns(variables: tuple[str, ...]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The figure key and boolean flag columns of an answer (asked on every run: a query's columns repeat)."""
    return (tuple(v for v in variables if _FIGURE.fullmatch(v)),
            tuple(v for v in variables if _READING.fullmatch(v)))


_TRUE, _FALSE = (ox.Literal(v, datatype=ox.NamedNode(XSD + "boolean"))
                  for v in ("true", "false"))


def _boolean(term: Any) -> Any:
    value = getattr(term, "value", None)
    return term if value not in ("0", "1") else (_TRUE if value == "1" else _FALSE)


def _filled(row: Mapping[str, Any]) -> int:
    return sum(1 for v in row.values() if v is not None and str(getattr(v, "value", v)) != "")
