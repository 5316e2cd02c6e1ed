"""Named queries: read `queries/*.rq` and their headers, bind parameters, run, turn rows into Python.

A query file opens with `#+ ` lines of YAML (title, kind, description, params, example): the
documentation (`kg query --docs`) and the contract. Parameters are validated against it and
bound as typed terms, never pasted into the text; terms resolve through TermIndex (`MWA`,
`microwave ablation` and `MicrowaveAblation` all bind bcmkg:MicrowaveAblation). A parsed query
is cached per file and mtime. Retracted claims are left out unless include_retracted=true.

    >>> rows = query("flagship", site="liver", subtype="HR+", mode="any")  # doctest: +SKIP
    >>> rows[0]["modalityLabel"], rows[0]["value"]                                # doctest: +SKIP
"""
from __future__ import annotations

import re
import shlex
import stat
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyoxigraph as ox
import yaml

from .claim_rows import LEVEL_PARAM, has_standard_row, one_row_per_figure
from .errors import QueryError
from .formats import Rows, format_result, python_value, to_rows  # noqa: F401  (re-exported: rows for Python)
from .lifecycle import include_retracted_flag, without_retracted
from .match import matched_via
from .paths import project_dir, queries_dir
from .rdf import BCD, BCMKG, XSD, check_iri, prefix_block
from .store import Result, Store, Term, materialise, open_store, terms_once

if TYPE_CHECKING:     # the term index (and rdflib under it) is imported when a term parameter is bound
    from .ontology.terms import TermIndex

PARAM_TYPES = {"term", "decimal", "integer", "string", "enum", "document", "study", "iri"}
KINDS = ["threshold", "comparison", "aggregation", "trial", "selection", "prognosis", "discordance",
         "provenance", "disagreement", "vocabulary"]
#: Names a query parameter may not have: they are kg.query()'s own keyword arguments.
RESERVED_PARAMS = {"store", "release", "include_retracted"}
PLAIN_NUMBER = re.compile(r"-?\d{1,15}(\.\d{1,15})?")     # no exponents: 1e400 is a typo, not a threshold
XSD_DECIMAL, XSD_INTEGER, _VOCAB, _DATA = ox.NamedNode(XSD + "decimal"), ox.NamedNode(XSD + "integer"), str(BCMKG), str(BCD)
_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)   # libyaml when present: 10x faster headers

__all__ = ["Param", "NamedQuery", "load_query", "load_queries", "get_query", "bind", "run", "run_sparql",
           "query", "Rows", "to_rows", "python_value", "hide_params",
           "term_index", "KINDS", "PARAM_TYPES", "RESERVED_PARAMS"]


@dataclass
class Param:
    """One declared parameter of a named query."""

    name: str
    type: str
    description: str = ""
    default: Any = None
    root: str | None = None           # for type term: the term every value must fall under
    allowed: list[str] = field(default_factory=list)   # for type enum
    required: bool = False
    low: Decimal | None = None        # for decimal/integer: the range a value must lie in (header min/max)
    high: Decimal | None = None

    def describe_values(self) -> str:
        if self.type == "enum":
            return " | ".join(self.allowed)
        if self.type == "term":
            under = "any term" if self.root == "*" else f"a term under {self.root}"
            return f"{under}: id, label or abbreviation (`kg find TEXT`)"
        if self.type == "document":
            return "a document id (`kg query documents`)"
        if self.type == "study":
            return "a study id (`kg query study_list`)"
        if self.low is not None or self.high is not None:
            return f"{self.type} from {'-∞' if self.low is None else self.low} to {'∞' if self.high is None else self.high}"
        return self.type


@dataclass(eq=False)       # hashed by identity: one object per file version (_load_query), so bind can be cached
class NamedQuery:
    name: str
    path: Path
    title: str
    kind: str
    description: str
    params: dict[str, Param]
    example: str
    text: str

    def example_params(self) -> dict[str, str]:
        """The `--param k=v` pairs of the header's example invocation."""
        words = shlex.split(self.example)
        out = {}
        if words[:2] == ["kg", "find"] and len(words) > 2:
            return {"text": words[2]}
        for i, w in enumerate(words):
            if w == "--param" and i + 1 < len(words):
                k, _, v = words[i + 1].partition("=")
                out[k] = v
        return out


def parse_header(text: str, path: Path) -> dict[str, Any]:
    """The YAML held in the file's leading `#+ ` lines."""
    lines = []
    for line in text.splitlines():
        if line.startswith("#+"):
            lines.append(line[3:] if line.startswith("#+ ") else line[2:])
        elif line.strip() and not line.startswith("#"):
            break
    if not lines:
        raise QueryError(f"{path}: no '#+ ' header (title, kind, description, params, example)")
    try:
        data = yaml.load("\n".join(lines), Loader=_YAML_LOADER) or {}
    except yaml.YAMLError as err:
        raise QueryError(f"{path}: header is not valid YAML: {err}") from err
    if not isinstance(data, dict):
        raise QueryError(f"{path}: header must be a YAML mapping")
    return data


def load_query(path: Path) -> NamedQuery:
    """One `.rq` file, parsed and checked; cached per path and modification time."""
    path = Path(path)
    try:
        stamp = path.stat().st_mtime_ns
    except OSError as err:
        raise QueryError(f"cannot read {path}: {err.strerror}") from None
    return _load_query(path, stamp)


@lru_cache(maxsize=256)
def _load_query(path: Path, stamp: int) -> NamedQuery:
    text = path.read_text(encoding="utf-8")
    h = parse_header(text, path)
    missing = [k for k in ("title", "kind", "description", "example") if not h.get(k)]
    if missing:
        raise QueryError(f"{path}: header lacks {', '.join(missing)}")
    if h["kind"] not in KINDS:
        raise QueryError(f"{path}: kind {h['kind']!r} not one of {', '.join(KINDS)}")
    params: dict[str, Param] = {}
    for name, spec in (h.get("params") or {}).items():
        spec = spec or {}
        if spec.get("type") not in PARAM_TYPES:
            raise QueryError(f"{path}: parameter {name}: type {spec.get('type')!r} not one of "
                             f"{', '.join(sorted(PARAM_TYPES))}")
        p = Param(name=name, type=spec["type"], description=spec.get("description", ""),
                  default=spec.get("default"), root=spec.get("root"),
                  allowed=[str(a) for a in spec.get("allowed", [])],
                  required=bool(spec.get("required", False)),
                  low=None if spec.get("min") is None else Decimal(str(spec["min"])),
                  high=None if spec.get("max") is None else Decimal(str(spec["max"])))
        if p.type == "term" and not p.root:
            raise QueryError(f"{path}: parameter {name}: a term parameter needs a root")
        if p.type == "enum" and not p.allowed:
            raise QueryError(f"{path}: parameter {name}: an enum parameter needs allowed values")
        if not p.description:
            raise QueryError(f"{path}: parameter {name}: no description")
        if name in RESERVED_PARAMS:
            raise QueryError(f"{path}: parameter {name}: the name is reserved (kg.query's own "
                             f"{', '.join(sorted(RESERVED_PARAMS))} arguments); rename it")
        if not re.search(r"\?" + re.escape(name) + r"\b", _body(text)):
            raise QueryError(f"{path}: parameter {name} is not used as ?{name} in the query")
        if not re.search(r"\?" + re.escape(name) + r"\b", _select_clause(text)):
            raise QueryError(f"{path}: parameter ?{name} must be projected in SELECT (SEP-0007 binding)")
        params[name] = p
    if has_standard_row(text):      # the standard row's own parameter, declared once (kg/claim_rows.py)
        params[LEVEL_PARAM] = Param(LEVEL_PARAM, "integer", "only claims whose OCEBM 2011 level of evidence is this or "
                                    "better (1 strongest, 5 weakest; docs/evidence-levels.md); claims whose study "
                                    "design is not stated are then left out", low=Decimal(1), high=Decimal(5))
    return NamedQuery(name=path.stem, path=path, title=str(h["title"]), kind=h["kind"],
                      description=str(h["description"]).strip(), params=params,
                      example=str(h["example"]).strip(), text=text)


def _select_clause(text: str) -> str:
    body = _body(text)
    m = re.search(r"\bSELECT\b(.*?)\bWHERE\b", body, re.IGNORECASE | re.DOTALL)
    return m.group(1) if m else ""


def _body(text: str) -> str:
    return "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("#"))


def load_queries(folder: Path | None = None) -> dict[str, NamedQuery]:
    """Every `.rq` in the folder (default: the project's queries/), by name (file stem)."""
    return {p.stem: load_query(p) for p in sorted(Path(folder or queries_dir()).glob("*.rq"))}


def get_query(name: str, folder: Path | None = None) -> NamedQuery:
    path = _query_path(str(folder or queries_dir()), name)
    try:
        found = path.stat()
    except OSError:
        found = None
    if found is None or not stat.S_ISREG(found.st_mode):
        import difflib
        names = sorted(p.stem for p in path.parent.glob("*.rq"))
        close = difflib.get_close_matches(name, names, n=3)
        hint = f"; did you mean {' or '.join(close)}?" if close else "; `kg query --list` shows them"
        raise QueryError(f"unknown query {name!r}{hint}")
    return _load_query(path, found.st_mtime_ns)


@lru_cache(maxsize=512)
def _query_path(folder: str, name: str) -> Path:   # building Paths was a sixth of a lookup's time
    return Path(folder) / f"{name}.rq"


def term_index(ontology_dir: Path | None = None) -> TermIndex:
    """Term ids, labels, synonyms and abbreviations from the ontology template (cached per process)."""
    return _term_index(Path(ontology_dir) if ontology_dir else project_dir("ontology"))


@lru_cache(maxsize=4)
def _term_index(ontology_dir: Path) -> TermIndex:
    from .ontology.terms import TermIndex, read_template, terms_from_rows
    return TermIndex(terms_from_rows(read_template(ontology_dir)))


_DOC_ID = re.compile(r"^[a-z0-9][a-z0-9-]*$")


def bind(q: NamedQuery, values: Mapping[str, Any], terms: TermIndex | None = None) -> dict[str, Term]:
    """Validate parameter values against the header and turn them into typed pyoxigraph terms."""
    unknown = sorted(set(values) - set(q.params))
    if unknown:
        allowed = ", ".join(q.params) or "none"
        raise QueryError(f"query {q.name}: unknown parameter(s) {', '.join(unknown)}; allowed: {allowed}")
    out: dict[str, Term] = {}
    for name, p in q.params.items():
        raw = values.get(name, p.default)
        if raw is None or raw == "":
            if p.required:
                raise QueryError(f"query {q.name}: parameter {name} is required ({p.describe_values()})")
            continue
        out[name] = _term(q, p, raw, terms)
    return out


def _term(q: NamedQuery, p: Param, raw: Any, terms: TermIndex | None) -> Term:
    where = f"query {q.name}: parameter {p.name}"
    text = (raw.value if isinstance(raw, (ox.NamedNode, ox.Literal)) else str(raw)).strip()
    if p.type == "term":
        if text.startswith(_VOCAB):
            text = text[len(_VOCAB):]
        elif text.startswith("bcmkg:"):
            text = text[len("bcmkg:"):]
        index = terms or term_index()
        roots: list[str | None] = [None] if p.root in (None, "*") else [*str(p.root).split("|")]
        errors = []
        for root in roots:
            try:
                return ox.NamedNode(_VOCAB + index.resolve(text, root=root))
            except LookupError as err:
                errors.append(str(err))
        message = errors[0]
        if "did you mean" not in message and "ambiguous" not in message:
            message += _word_suggestions(index, text, roots) or _valid_terms(index, roots)
        raise QueryError(f"{where}: {message}")
    if p.type == "enum":
        if text not in p.allowed:
            import difflib
            close = difflib.get_close_matches(text, p.allowed, n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            raise QueryError(f"{where}: {text!r} is not allowed; allowed: {', '.join(p.allowed)}{hint}")
        return ox.Literal(text)
    if p.type in ("decimal", "integer"):
        if not PLAIN_NUMBER.fullmatch(text):
            raise QueryError(f"{where}: {text[:40]!r} is not a number written in digits (e.g. 50 or 2.5)")
        number = Decimal(text)
        if (p.low is not None and number < p.low) or (p.high is not None and number > p.high):
            raise QueryError(f"{where}: {text} is out of range [{p.low if p.low is not None else '-∞'}, "
                             f"{p.high if p.high is not None else '∞'}]")
        if p.type == "integer":
            if number != number.to_integral_value():
                raise QueryError(f"{where}: {text!r} is not an integer")
            return ox.Literal(str(int(number)), datatype=XSD_INTEGER)
        return ox.Literal(text, datatype=XSD_DECIMAL)
    if p.type == "string":
        return ox.Literal(text)       # matched literally: the VALUES block escapes it (N-Triples syntax)
    if p.type in ("document", "study"):
        if text.startswith(_DATA):
            text = text.rsplit("/", 1)[-1]
        if not _DOC_ID.match(text):
            raise QueryError(f"{where}: {text!r} is not a {p.type} id (lowercase letters, digits, '-')")
        return ox.NamedNode(f"{_DATA}{p.type}/{text}")
    if p.type == "iri":
        if text.startswith("bcd:"):
            text = _DATA + text[4:]
        try:
            return ox.NamedNode(check_iri(text))
        except (QueryError, ValueError) as err:
            raise QueryError(f"{where}: not an absolute IRI ({err})") from None
    raise QueryError(f"{where}: unsupported type {p.type}")


def _word_suggestions(index: TermIndex, text: str, roots: list[str | None]) -> str:
    """'livr' -> LiverMetastasis: match the words of labels when whole labels are too far off."""
    import difflib
    scored = []
    for term_id, term in index.terms.items():
        if not any(r is None or index.is_a(term_id, r) for r in roots):
            continue
        names = [term.label, *term.abbreviations, *term.synonyms]
        words = [w for name in names for w in re.split(r"[\s/-]+", name.lower()) if w]
        best = max((difflib.SequenceMatcher(None, text.lower(), w).ratio() for w in words), default=0)
        if best >= 0.75:
            scored.append((-best, term.label, term_id))
    shown = [f"'{label}' = {tid}" for _, label, tid in sorted(scored)[:3]]
    return f"; did you mean {' or '.join(shown)}?" if shown else ""


def _valid_terms(index: TermIndex, roots: list[str | None], shown: int = 20) -> str:
    """The values a term parameter takes (no near match to offer): ids with labels, the first `shown`."""
    ids = sorted({t for r in roots if r for t in index.under(r) if not index.terms[t].deprecated})
    if not ids:
        return ""
    listed = ", ".join(f"{t} ({index.terms[t].label})" for t in ids[:shown])
    more = f", … {len(ids) - shown} more (`kg query term_children --param term={roots[0]}`)" if len(ids) > shown else ""
    return f"; valid: {listed}{more}"


def run(name: str, params: Mapping[str, Any] | None = None, store: Store | None = None, *,
        release: Path | None = None, folder: Path | None = None) -> Result:
    """Run one named query with validated, bound parameters (on `store`, else the release's embedded store)."""
    q = get_query(name, folder)
    values = dict(params or {})
    include_retracted = include_retracted_flag(q.name, values.pop("include_retracted", None))
    try:                       # a server is asked the same often; an unhashable value: bind refuses it
        bindings = dict(_bind_cached(q, frozenset(values.items())))
    except TypeError:
        bindings = bind(q, values)
    store = store or open_store(release)
    result = store.select(q.text, bindings)
    _check_known(q, bindings, result, store)
    if not include_retracted:
        result = without_retracted(result, store)
    result = hide_params(q, result)
    return matched_via(q.params, bindings, result, store, term_index, "matchBasis" in result.variables)


@lru_cache(maxsize=1024)
def _bind_cached(q: NamedQuery, values: frozenset[tuple[str, Any]]) -> dict[str, Term]:
    return bind(q, dict(values))


def hide_params(q: NamedQuery, result: Result) -> Result:  # drop parameter columns (SEP-0007); one row per figure
    keep = [v for v in result.variables if v not in q.params]
    rows = result.rows if keep == result.variables else [{k: r.get(k) for k in keep} for r in result.rows]
    return Result(keep, one_row_per_figure(keep, rows, q.kind == "provenance", q.kind == "disagreement"),
                  result.seconds)


#: every instance of a class (SELECT ?x) or whether ?x is one (ASK)
_KNOWN = ("PREFIX bcmkg: <" + _VOCAB + "> %s WHERE { ?x a/<http://www.w3.org/2000/01/rdf-schema#subClassOf>* "
          "bcmkg:%s }")


def _check_known(q: NamedQuery, bindings: Mapping[str, Term], result: Result, store: Store) -> None:
    """An empty answer for a document or study that does not exist is an error, not 'no rows'."""
    if result.rows:
        return
    for name, p in q.params.items():
        if p.type in ("document", "study") and name in bindings:
            cls = "SourceDocument" if p.type == "document" else "Study"
            if getattr(store, "memo", None) is None and store.ask(_KNOWN % ("ASK", cls), {"x": bindings[name]}):
                continue                # it exists and has no rows: list every id only for the hint
            found = terms_once(store, _KNOWN % ("SELECT ?x", cls))   # a read-only store's ids: once
            if bindings[name] not in found:
                import difflib
                known = sorted({t.value.rsplit("/", 1)[-1] for t in found if isinstance(t, ox.NamedNode)})
                wanted = bindings[name].value.rsplit("/", 1)[-1]
                close = difflib.get_close_matches(wanted, known, n=3)
                hint = f"did you mean {' or '.join(close)}?" if close else f"known: {', '.join(known[:30])}"
                raise QueryError(f"query {q.name}: parameter {name}: unknown {p.type} {wanted!r}; {hint}")


_HAS_PREFIX = re.compile(r"^\s*PREFIX\b", re.IGNORECASE | re.MULTILINE)


def run_sparql(text: str, store: Store | None = None, *,
               release: Path | None = None) -> Result | bool | list[ox.Triple]:
    """An ad-hoc SELECT (-> Result), ASK (-> bool), CONSTRUCT or DESCRIBE (-> triples).

    Our prefixes are added when the text declares none.
    """
    if not _HAS_PREFIX.search(text):
        text = prefix_block() + text
    store = store or open_store(release)
    start = time.perf_counter()
    answer = store.raw(text)
    return materialise(answer, time.perf_counter() - start)


def query(name: str, params: Mapping[str, Any] | None = None, /, *, store: Store | None = None,
          release: Path | None = None, **more_params: Any) -> Rows:
    """Run a named query from Python; rows are dicts of str / Decimal / int / bool values.

    Every keyword other than `store` and `release` is a query parameter (no query may declare
    a parameter of those names), so `query("hazard_ratios", endpoint="OverallSurvival")` binds
    the query's `endpoint`. A remote store: `store=kg.open_store(endpoint=URL)`.

    >>> import kg
    >>> kg.query("flagship", site="LiverMetastasis", subtype="HRPositive")  # doctest: +SKIP
    """
    return to_rows(run(name, {**(params or {}), **more_params}, store, release=release))
