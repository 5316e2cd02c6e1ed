"""Read and check extraction files: YAML in, plain validated dicts out.

Every problem is reported with file, line, field, value and what would be valid, and all
problems of a file are collected before raising, so a curator fixes them in one pass.
Numbers are read as Decimal so that "74.70" keeps its trailing zero.
"""
from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from fractions import Fraction
from pathlib import Path

import yaml

from .errors import InputError, Problem
from .ontology import read_template, terms_from_rows
from .vocab import TermIndex

FORMAT = "bcmkg-extraction/1"
SLUG = re.compile(r"^[a-z0-9][a-z0-9-]*$")
CLAIM_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
SHA256 = re.compile(r"^[0-9a-f]{64}$")
DOI = re.compile(r"^10\.\d{4,9}/\S+$")
REGISTRY_ID = re.compile(r"^(NCT\d{8}|ChiCTR\d+|UMIN\d+|jRCT\w+|ISRCTN\d+|EudraCT[\w-]+)$")

KINDS = ["outcome", "prognostic_factor", "selection_criterion", "characteristic", "emerging_technology"]
UNITS = {"percent": "Percent", "month": "Month", "year": "Year", "day": "Day", "week": "Week",
         "patients": "Patients", "lesions": "Lesions", "studies": "Studies", "ratio": "Ratio", "mm": "Millimetre",
         "cm": "Centimetre", "Gy": "Gray"}
TIME_UNITS = {"year", "month", "week", "day"}
BASES = {"restricted": "SubtypeBasisRestricted", "majority": "SubtypeBasisMajority",
         "favourable_predictor": "SubtypeBasisFavourablePredictor", "unspecified": "SubtypeBasisUnspecified"}
DIRECTIONS = {"favourable": "Favourable", "unfavourable": "Unfavourable",
              "no_association": "NoAssociation", "mixed": "Mixed"}
QUALIFIERS = ["approximately", "up to", "over", "less than", "at most", "at least", "not reached", "more than"]
P_QUALIFIERS = ["=", "<", ">", "<=", ">="]
CONFIDENCE = ["high", "medium", "low"]

COMMON = {"id", "kind", "study", "cites", "locator", "span", "confidence", "note", "interpretation",
          "disagrees_with"}
CONTEXT = {"site", "modality", "comparator", "arm", "subgroup", "subtype", "subtype_basis", "case", "n", "n_unit"}
FIGURE = {"statistic", "value", "value_low", "value_high", "value_qualifier", "value_as_written", "unit",
          "time_point", "time_unit", "ci", "ci_level", "p_value", "p_qualifier", "min", "max", "sd"}
OUTCOME = COMMON | CONTEXT | FIGURE | {"endpoint", "biomarker", "progression_site", "proportion", "direction"}
ALLOWED = {
    "outcome": OUTCOME,
    "prognostic_factor": OUTCOME | {"factor", "factor_level", "direction"},
    "selection_criterion": COMMON | {"site", "criterion", "requirement", "value", "value_low", "value_high",
                                     "value_qualifier", "unit", "subtype", "value_as_written"},
    "characteristic": COMMON | CONTEXT | FIGURE | {"characteristic", "proportion", "biomarker", "endpoint"},
    "emerging_technology": COMMON | {"technology", "application", "impact", "site", "subtype", "biomarker"},
}
REQUIRED = {
    "outcome": ["endpoint"],
    "prognostic_factor": ["factor", "endpoint", "direction"],
    "selection_criterion": ["site", "criterion", "requirement"],
    "characteristic": ["characteristic", "statistic", "unit"],
    "emerging_technology": ["technology", "application"],
}
TERM_FIELDS = {  # field -> root term the value must fall under
    "site": "MetastaticBreastCancer", "modality": "Modality", "comparator": "Modality",
    "subtype": "BreastCancerSubtype", "endpoint": "Endpoint", "statistic": "StatisticType",
    "biomarker": "Biomarker", "factor": "PrognosticFactor", "criterion": "SelectionCriterion",
    "technology": "EmergingTechnology", "progression_site": None,
}
DOCUMENT_FIELDS = {"id", "corpus_file", "sha256", "title", "authors", "year", "venue", "doi", "design",
                   "language", "note"}
STUDY_FIELDS = {"id", "label", "first_author", "year", "design", "n", "n_qualifier", "country", "period",
                "registry_ids", "trial_name", "doi", "reference", "arms", "is_document", "note", "title"}
CASE_FIELDS = {"id", "study", "patient", "stage", "recurrence_site", "recurrence_site_detail", "operation",
               "progression_site", "progressed", "locator", "span", "note"}


def load_terms(ontology_dir: Path) -> TermIndex:
    """The vocabulary curators may use, straight from the ontology template."""
    return TermIndex(terms_from_rows(read_template(Path(ontology_dir))))


class Node(dict):
    """A YAML mapping that remembers the line of itself and of each key."""

    line: int = 0
    lines: dict


class _Loader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # libyaml when available: ~10x faster
    pass


def _mapping(loader: _Loader, node: yaml.MappingNode) -> Node:
    out = Node()
    out.line, out.lines = node.start_mark.line + 1, {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if key in out:
            raise yaml.MarkedYAMLError("while reading a mapping", node.start_mark,
                                       f"duplicate key {key!r}", key_node.start_mark)
        out[key] = loader.construct_object(value_node, deep=True)
        out.lines[key] = key_node.start_mark.line + 1
    return out


def _decimal(loader: _Loader, node: yaml.ScalarNode) -> Decimal:
    return Decimal(loader.construct_scalar(node).replace("_", ""))


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping)
_Loader.add_constructor("tag:yaml.org,2002:float", _decimal)


def parse_yaml(path: Path) -> Node:
    """Parse one file; malformed YAML becomes an InputError with the line and column."""
    try:
        text = Path(path).read_text(encoding="utf-8")
        data = yaml.load(text, Loader=_Loader)  # noqa: S506 - SafeLoader subclass
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark or err.context_mark
        line = mark.line + 1 if mark else None
        began = err.context_mark.line + 1 if err.context_mark and err.context_mark is not mark else None
        shown = text.splitlines()[line - 1].strip() if line and line <= len(text.splitlines()) else ""
        hint = "check indentation, quoting and ':' after keys"
        if began and began != line:
            hint = f"{err.context} began on line {began}; {hint}"
        raise InputError(Problem(str(path), line, "yaml", shown, f"malformed YAML: {err.problem or err.context}",
                                 hint)) from None
    except (OSError, UnicodeDecodeError) as err:
        raise InputError(Problem(str(path), None, "file", str(path), f"cannot read: {err}")) from None
    if not isinstance(data, Node):
        raise InputError(Problem(str(path), 1, "file", type(data).__name__,
                                 "an extraction file must be a mapping", "see docs/extraction-format.md"))
    return data


def as_number(value: object) -> Decimal | Fraction | None:
    """A figure as written: int/Decimal, or a fraction string such as '1/3'."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, Decimal):
        return value
    if isinstance(value, str) and re.fullmatch(r"\d+/\d+", value.strip()):
        return Fraction(value.strip())
    if isinstance(value, str):
        try:
            return Decimal(value.strip())
        except InvalidOperation:
            return None
    return None


class _Checker:
    """Collects problems for one file."""

    def __init__(self, path: Path, terms: TermIndex):
        self.path, self.terms, self.problems = str(path), terms, []

    def bad(self, node: Node, field: str, value: object, message: str, hint: str = "") -> None:
        line = node.lines.get(field.split(".")[-1], node.line) if isinstance(node, Node) else None
        self.problems.append(Problem(self.path, line, field, value, message, hint))

    def unknown_fields(self, node: Node, allowed: set[str], where: str) -> None:
        for key in node:
            if key not in allowed:
                self.bad(node, f"{where}.{key}", node[key], "unknown field",
                         "allowed: " + ", ".join(sorted(allowed)))

    def need(self, node: Node, fields: list[str], where: str) -> None:
        for f in fields:
            if node.get(f) in (None, "", []):
                self.bad(node, f"{where}.{f}", node.get(f), "required field is missing")

    def term(self, node: Node, field: str, where: str, root: str | None) -> str | None:
        value = node.get(field)
        if value is None:
            return None
        try:
            return self.terms.resolve(str(value), root)
        except LookupError as err:
            self.bad(node, f"{where}.{field}", value, str(err))
            return None

    def number(self, node: Node, field: str, where: str, lo=None, hi=None, integer=False):
        value = node.get(field)
        if value is None:
            return None
        num = as_number(value)
        if num is None or (integer and not isinstance(value, int)):
            self.bad(node, f"{where}.{field}", value, "not a number" if not integer else "not a whole number",
                     "write digits as printed, e.g. 74.70" if not integer else "write a whole number, e.g. 17")
            return None
        if (lo is not None and num < lo) or (hi is not None and num > hi):
            self.bad(node, f"{where}.{field}", value, f"out of range [{lo}, {hi if hi is not None else '∞'}]")
        return num

    def choice(self, node: Node, field: str, where: str, allowed) -> None:
        value = node.get(field)
        if value is not None and value not in allowed:
            self.bad(node, f"{where}.{field}", value, "not an allowed value", "allowed: " + ", ".join(allowed))

    def span(self, node: Node, where: str) -> None:
        s = node.get("span")
        if not (isinstance(s, list) and len(s) == 2 and all(isinstance(x, int) and not isinstance(x, bool)
                                                             for x in s)):
            self.bad(node, f"{where}.span", s, "span must be [start, end] in characters", "e.g. span: [1200, 1260]")
        elif not 0 <= s[0] < s[1]:
            self.bad(node, f"{where}.span", s, "span start must be >= 0 and before its end")


def load_source(path: Path, terms: TermIndex) -> dict:
    """Load and check one extraction file. Returns plain dicts; raises InputError listing every problem."""
    data = parse_yaml(path)
    c = _Checker(path, terms)
    c.unknown_fields(data, {"format", "document", "studies", "cases", "claims", "exclusions"}, "file")
    if data.get("format") != FORMAT:
        c.bad(data, "format", data.get("format"), "unknown format", f"expected {FORMAT}")
    doc = data.get("document")
    if not isinstance(doc, Node):
        c.bad(data, "document", doc, "missing document block")
        raise InputError(c.problems)
    _check_document(c, doc)
    studies = {}
    for i, st in enumerate(data.get("studies") or []):
        where = f"studies[{i}]"
        if not isinstance(st, Node):
            c.bad(data, where, st, "each study must be a mapping")
            continue
        _check_study(c, st, where)
        if st.get("id") in studies:
            c.bad(st, f"{where}.id", st.get("id"), "duplicate study id in this file")
        studies[st.get("id")] = st
    cases = {}
    for i, case in enumerate(data.get("cases") or []):
        where = f"cases[{i}]"
        c.unknown_fields(case, CASE_FIELDS, where)
        c.need(case, ["id", "study", "patient", "recurrence_site", "operation", "progressed", "locator", "span"], where)
        c.span(case, where)
        if case.get("study") not in studies:
            c.bad(case, f"{where}.study", case.get("study"), "study not defined in this file",
                  "define it under studies: first")
        case["recurrence_site_term"] = _site(c, case, "recurrence_site", where)
        case["progression_site_term"] = _site(c, case, "progression_site", where)
        case["operation_term"] = c.term(case, "operation", where, "Modality")
        if case.get("id") in cases:
            c.bad(case, f"{where}.id", case.get("id"), "duplicate case id")
        cases[case.get("id")] = case
    claims, seen = [], {}
    for i, claim in enumerate(data.get("claims") or []):
        where = f"claims[{i}]"
        if not isinstance(claim, Node):
            c.bad(data, where, claim, "each claim must be a mapping")
            continue
        cid = claim.get("id")
        if cid in seen:
            c.bad(claim, f"{where}.id", cid, f"duplicate claim id (first used at line {seen[cid]})",
                  "claim ids must be unique within a file")
        else:
            seen[cid] = claim.line
        _check_claim(c, claim, where, studies, cases)
        claims.append(claim)
    exclusions = []
    for i, ex in enumerate(data.get("exclusions") or []):
        where = f"exclusions[{i}]"
        c.unknown_fields(ex, {"span", "reason"}, where)
        c.need(ex, ["span", "reason"], where)
        c.span(ex, where)
        exclusions.append(ex)
    if c.problems:
        raise InputError(c.problems)
    return {"path": str(path), "document": doc, "studies": list(studies.values()), "cases": list(cases.values()),
            "claims": claims, "exclusions": exclusions}


def _site(c: _Checker, node: Node, field: str, where: str) -> str | None:
    value = node.get(field)
    if value is None:
        return None
    for root in ("MetastaticBreastCancer", "AnatomicalSite"):
        try:
            return c.terms.resolve(str(value), root)
        except LookupError:
            pass
    return c.term(node, field, where, "MetastaticBreastCancer")


def _check_document(c: _Checker, doc: Node) -> None:
    c.unknown_fields(doc, DOCUMENT_FIELDS, "document")
    c.need(doc, ["id", "corpus_file", "sha256", "title", "authors", "year", "venue", "design"], "document")
    if doc.get("id") and not SLUG.match(str(doc["id"])):
        c.bad(doc, "document.id", doc["id"], "not a slug", "lowercase letters, digits and '-'")
    if doc.get("sha256") and not SHA256.match(str(doc["sha256"])):
        c.bad(doc, "document.sha256", doc["sha256"], "not a sha256", "64 lowercase hex digits")
    if doc.get("doi") and not DOI.match(str(doc["doi"])):
        c.bad(doc, "document.doi", doc["doi"], "not a bare DOI", "e.g. 10.3389/fonc.2022.910544")
    doc["design_terms"] = [t for t in (_term_value(c, doc, "design", d, "StudyDesign", "document")
                                       for d in _as_list(doc.get("design"))) if t]


def _check_study(c: _Checker, st: Node, where: str) -> None:
    c.unknown_fields(st, STUDY_FIELDS, where)
    c.need(st, ["id", "label", "design"], where)
    if st.get("id") and not SLUG.match(str(st["id"])):
        c.bad(st, f"{where}.id", st["id"], "not a slug", "lowercase letters, digits and '-', e.g. vogl2023")
    c.number(st, "n", where, lo=1, integer=True)
    c.number(st, "year", where, lo=1900, hi=2100, integer=True)
    c.choice(st, "n_qualifier", where, ["approximately", "over", "at least", "up to"])
    if st.get("doi") and not DOI.match(str(st["doi"])):
        c.bad(st, f"{where}.doi", st["doi"], "not a bare DOI", "e.g. 10.1080/02656736.2023.2200582")
    for rid in _as_list(st.get("registry_ids")):
        if not REGISTRY_ID.match(str(rid)):
            c.bad(st, f"{where}.registry_ids", rid, "not a registry id", "e.g. NCT02364557, ChiCTR2100041979")
    st["design_terms"] = [t for t in (_term_value(c, st, "design", d, "StudyDesign", where)
                                      for d in _as_list(st.get("design"))) if t]
    arms = {}
    for j, arm in enumerate(st.get("arms") or []):
        aw = f"{where}.arms[{j}]"
        c.unknown_fields(arm, {"id", "label", "modality", "n", "note"}, aw)
        c.need(arm, ["id", "label"], aw)
        c.number(arm, "n", aw, lo=1, integer=True)
        arm["modality_term"] = c.term(arm, "modality", aw, "Modality")
        arms[arm.get("id")] = arm
    st["arm_ids"] = arms


def _term_value(c: _Checker, node: Node, field: str, value: object, root: str, where: str) -> str | None:
    try:
        return c.terms.resolve(str(value), root)
    except LookupError as err:
        c.bad(node, f"{where}.{field}", value, str(err))
        return None


def _as_list(value: object) -> list:
    if value is None:
        return []
    return list(value) if isinstance(value, list) else [value]


def _check_claim(c: _Checker, cl: Node, where: str, studies: dict, cases: dict) -> None:
    kind = cl.get("kind")
    if kind not in KINDS:
        c.bad(cl, f"{where}.kind", kind, "unknown claim kind", "allowed: " + ", ".join(KINDS))
        return
    c.unknown_fields(cl, ALLOWED[kind], where)
    c.need(cl, ["id", "study", "locator", "span"] + REQUIRED[kind], where)
    if cl.get("id") is not None and not CLAIM_ID.match(str(cl["id"])):
        c.bad(cl, f"{where}.id", cl["id"], "not a valid claim id", "letters, digits, '.', '_' and '-'")
    c.span(cl, where)
    for ref_field in ["study"] + [f"cites[{k}]" for k in range(len(_as_list(cl.get("cites"))))]:
        ref = cl.get("study") if ref_field == "study" else _as_list(cl.get("cites"))[int(ref_field[6:-1])]
        if ref not in studies:
            c.bad(cl, f"{where}.{ref_field.split('[')[0]}", ref, "cites a study this file does not define",
                  "add it under studies: (known here: " + ", ".join(sorted(map(str, studies))) + ")")
    if cl.get("case") is not None and cl["case"] not in cases:
        c.bad(cl, f"{where}.case", cl["case"], "case not defined in this file")
    arm = cl.get("arm")
    study = studies.get(cl.get("study"))
    cl["arm_node"] = arm if study is not None and arm in study.get("arm_ids", {}) else None
    cl["terms"] = {}
    for field, root in TERM_FIELDS.items():
        if field in cl:
            cl["terms"][field] = _site(c, cl, field, where) if field in ("site", "progression_site") \
                else c.term(cl, field, where, root)
    if "statistic" in cl and kind == "selection_criterion":
        c.bad(cl, f"{where}.statistic", cl["statistic"], "not used for selection criteria")
    c.choice(cl, "unit", where, list(UNITS))
    c.choice(cl, "time_unit", where, sorted(TIME_UNITS))
    c.choice(cl, "subtype_basis", where, list(BASES))
    c.choice(cl, "direction", where, list(DIRECTIONS))
    c.choice(cl, "value_qualifier", where, QUALIFIERS)
    c.choice(cl, "p_qualifier", where, P_QUALIFIERS)
    c.choice(cl, "confidence", where, CONFIDENCE)
    c.choice(cl, "n_unit", where, ["patients", "lesions"])
    if cl.get("subtype_basis") not in (None, "unspecified") and not cl.get("subtype"):
        c.bad(cl, f"{where}.subtype_basis", cl["subtype_basis"], "a subtype basis needs a subtype")
    # A printed percentage that cannot be right (e.g. '723') is kept only with a marked interpretation.
    hi_pct = 100 if cl.get("unit") == "percent" and not cl.get("interpretation") else None
    value = c.number(cl, "value", where, lo=0, hi=hi_pct)
    low = c.number(cl, "value_low", where, lo=0, hi=hi_pct)
    high = c.number(cl, "value_high", where, lo=0, hi=hi_pct)
    c.number(cl, "proportion", where, lo=0, hi=100)
    c.number(cl, "time_point", where, lo=0)
    c.number(cl, "p_value", where, lo=0, hi=1)
    c.number(cl, "n", where, lo=1, integer=True)
    c.number(cl, "ci_level", where, lo=0, hi=100)
    c.number(cl, "sd", where, lo=0)
    mn, mx = c.number(cl, "min", where, lo=0), c.number(cl, "max", where, lo=0)
    if mn is not None and mx is not None and mn > mx:
        c.bad(cl, f"{where}.min", cl["min"], f"min is above max ({cl['max']})")
    if low is not None and high is not None and low > high:
        c.bad(cl, f"{where}.value_low", cl["value_low"], f"range low is above range high ({cl['value_high']})")
    if value is not None and (low is not None or high is not None):
        c.bad(cl, f"{where}.value", cl["value"], "give either value or value_low/value_high, not both")
    has_figure = value is not None or low is not None or high is not None
    if kind in ("outcome", "prognostic_factor") and (has_figure or cl.get("value_qualifier") == "not reached"):
        c.need(cl, ["statistic"] + (["unit"] if has_figure else []), where)
    if kind == "outcome" and not has_figure and cl.get("value_qualifier") != "not reached" and not cl.get("direction"):
        c.bad(cl, f"{where}.value", None, "an outcome needs value or value_low/value_high",
              "for a finding without a number give direction: favourable, unfavourable or no_association")
    if kind == "characteristic" and not has_figure:
        c.bad(cl, f"{where}.value", None, "a characteristic needs value or value_low/value_high")
    if cl.get("statistic") == "RateAtTimePoint" and (cl.get("time_point") is None or not cl.get("time_unit")):
        c.bad(cl, f"{where}.time_point", cl.get("time_point"), "a rate at a time point needs time_point and time_unit")
    if cl.get("time_point") is not None and not cl.get("time_unit"):
        c.bad(cl, f"{where}.time_unit", None, "time_point needs time_unit", "year, month, week or day")
    ci = cl.get("ci")
    if ci is not None:
        if not (isinstance(ci, list) and len(ci) == 2 and all(as_number(x) is not None for x in ci)):
            c.bad(cl, f"{where}.ci", ci, "ci must be [lower, upper]", "e.g. ci: [0.60, 0.71]")
        else:
            lo_, hi_ = (as_number(x) for x in ci)
            if lo_ > hi_:
                c.bad(cl, f"{where}.ci", ci, "CI lower is above CI upper", "write [lower, upper]")
            elif value is not None and not lo_ <= value <= hi_:
                c.bad(cl, f"{where}.ci", ci, f"value {cl['value']} lies outside its CI")
    interp = cl.get("interpretation")
    if interp is not None and not (isinstance(interp, Node) and as_number(interp.get("value")) is not None
                                   and interp.get("note")):
        c.bad(cl, f"{where}.interpretation", interp, "interpretation needs value and note")
    for ref in _as_list(cl.get("disagrees_with")):
        if not re.fullmatch(r"[a-z0-9-]+:[A-Za-z0-9._-]+", str(ref)):
            c.bad(cl, f"{where}.disagrees_with", ref, "not a claim reference", "write '<document id>:<claim id>'")
