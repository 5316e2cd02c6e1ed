"""Read and check extraction files: YAML in, typed kg.model objects out.

Every problem is reported with file, line, field, value and what would be valid, and all
problems of a file are collected before raising, so a curator fixes them in one pass.
Numbers are read as Decimal so that "74.70" keeps its trailing zero. Which fields a claim
may have, their roots, allowed words and ranges come from the claim model (kg/model.py).
"""
from __future__ import annotations

import datetime
import re
from decimal import Decimal
from pathlib import Path

from . import model
from .checker import Checker, as_list, scalar, whole
from .errors import InputError, Problem, shown
from .model import BY_KEY, CLAIM_KINDS, REQUIRED
from .ontology.terms import TermIndex
from .records import Arm, Case, Claim, Document, Exclusion, Source, Study, as_number
from .yaml_lines import Node, parse_yaml

__all__ = ["load_source", "FORMAT"]

FORMAT = "bcmkg-extraction/1"
SLUG = re.compile(r"[a-z0-9][a-z0-9-]*")
CLAIM_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
SHA256 = re.compile(r"[0-9a-f]{64}")
DOI = re.compile(r"10\.\d{4,9}/[^\s\"<>{}|\\^`]+")
REGISTRY_ID = re.compile(r"(NCT\d{8}|ChiCTR\d+|UMIN\d+|jRCT\w+|ISRCTN\d+|EudraCT[\w-]+)")
LARGEST_N = 10**9      # no study has more patients; anything larger is a typo
RESERVED_GRAPHS = {"ontology", "evidence", "summary"}   # named graphs of the release that are not documents

DOCUMENT_FIELDS = {"id", "corpus_file", "sha256", "title", "authors", "year", "venue", "doi", "design",
                   "language", "note"}
STUDY_FIELDS = {"id", "label", "first_author", "year", "design", "n", "n_qualifier", "country", "period",
                "registry_ids", "trial_name", "doi", "reference", "arms", "is_document", "note", "title",
                "aliases"}
CASE_FIELDS = {"id", "study", "patient", "stage", "recurrence_site", "recurrence_site_detail", "operation",
               "progression_site", "progressed", "locator", "span", "note"}


def load_source(path: Path, terms: TermIndex, allow_drafts: bool = False) -> Source:
    """Load and check one extraction file; raise InputError listing every problem (draft claims too, unless allowed)."""
    data = parse_yaml(path)
    c = Checker(path, terms)
    c.unknown_fields(data, {"format", "document", "studies", "cases", "claims", "exclusions"}, "file")
    if data.get("format") != FORMAT:
        c.bad(data, "format", data.get("format"), "unknown format", f"expected {FORMAT}")
    doc_node = data.get("document")
    if not isinstance(doc_node, Node):
        c.bad(data, "document", doc_node, "missing document block", "see docs/extraction-format.md")
        raise InputError(c.problems)
    document = _document(c, doc_node)
    studies: dict[str, Study] = {}
    for i, node in enumerate(as_list(data.get("studies"))):
        where = f"studies[{i}]"
        if not c.mapping(data, node, where, "a study"):
            continue
        study = _study(c, node, where)
        if study.id in studies:
            c.bad(node, f"{where}.id", study.id, "duplicate study id in this file")
        studies[study.id] = study
    cases: dict[str, Case] = {}
    for i, node in enumerate(as_list(data.get("cases"))):
        where = f"cases[{i}]"
        if not c.mapping(data, node, where, "a case"):
            continue
        case = _case(c, node, where, studies)
        if case.id in cases:
            c.bad(node, f"{where}.id", case.id, "duplicate case id")
        cases[case.id] = case
    claims: list[Claim] = []
    seen: dict[str, int] = {}
    for i, node in enumerate(as_list(data.get("claims"))):
        where = f"claims[{i}]"
        if not c.mapping(data, node, where, "a claim"):
            continue
        cid = scalar(node.get("id"))
        if cid in seen:
            c.bad(node, f"{where}.id", cid, f"duplicate claim id (first used at line {seen[str(cid)]})",
                  "claim ids must be unique within a file")
        elif cid is not None:
            seen[str(cid)] = node.line
        if node.get("draft") and not allow_drafts:
            c.bad(node, f"{where}.draft", True, "a draft claim; still to decide: " + ", ".join(map(str, as_list(
                node.get("needs")))), "decide those fields, then delete the draft and needs lines")
        claim = _claim(c, node, where, studies, cases)
        if claim is not None:
            claims.append(claim)
    ids = {claim.id for claim in claims}
    for claim in claims:
        target = claim.values.get("superseded_by")
        if target is not None and (target not in ids or target == claim.id):
            c.problems.append(Problem(c.path, claim.lines.get("superseded_by", claim.line),
                                      f"claim '{claim.id}'.superseded_by", target, "names no other claim of this file",
                                      "superseded_by: the id of the claim that replaces it"))
    exclusions = []
    for i, node in enumerate(as_list(data.get("exclusions"))):
        where = f"exclusions[{i}]"
        if not c.mapping(data, node, where, "an exclusion"):
            continue
        c.unknown_fields(node, {"span", "reason"}, where)
        c.need(node, ["span", "reason"], where)
        exclusions.append(Exclusion(c.span(node, where), str(node.get("reason")), node.line, dict(node.lines)))
    if c.problems:
        raise InputError(c.problems)
    return Source(str(path), document, list(studies.values()), list(cases.values()), claims, exclusions,
                  c.deprecated)


def _document(c: Checker, doc: Node) -> Document:
    c.unknown_fields(doc, DOCUMENT_FIELDS, "document")
    c.need(doc, ["id", "corpus_file", "sha256", "title", "authors", "year", "venue", "design"], "document")
    doc_id = c.slug(doc, "document", SLUG, "lowercase letters, digits and '-'")
    if doc_id in RESERVED_GRAPHS:
        c.bad(doc, "document.id", doc_id, "reserved: the release has a graph of that name",
              f"choose another id (reserved: {', '.join(sorted(RESERVED_GRAPHS))})")
    if doc.get("sha256") and not SHA256.fullmatch(str(doc["sha256"])):
        c.bad(doc, "document.sha256", doc["sha256"], "not a sha256", "64 lowercase hex digits")
    if doc.get("doi") and not DOI.fullmatch(str(doc["doi"])):
        c.bad(doc, "document.doi", doc["doi"], "not a bare DOI", "e.g. 10.3389/fonc.2022.910544")
    c.number(doc, "year", "document", lo=1900, hi=2100, integer=True)
    return Document(id=doc_id, corpus_file=str(doc.get("corpus_file")), sha256=str(doc.get("sha256")),
                    title=str(doc.get("title")), authors=[str(a) for a in as_list(doc.get("authors"))],
                    year=whole(doc.get("year")) or 0, venue=str(doc.get("venue")),
                    designs=c.terms_of(doc, "design", "StudyDesign", "document"), doi=c.text(doc, "doi", "document"),
                    language=c.text(doc, "language", "document"), note=c.text(doc, "note", "document"),
                    line=doc.line, lines=dict(doc.lines))


def _study(c: Checker, st: Node, where: str) -> Study:
    c.unknown_fields(st, STUDY_FIELDS, where)
    c.need(st, ["id", "label", "design"], where)
    study_id = c.slug(st, where, SLUG, "lowercase letters, digits and '-', e.g. vogl2023")
    c.number(st, "n", where, lo=1, hi=LARGEST_N, integer=True)
    c.number(st, "year", where, lo=1900, hi=2100, integer=True)
    n_qualifier = c.choice(st, "n_qualifier", where, ["approximately", "over", "at least", "up to"])
    if st.get("doi") and not DOI.fullmatch(str(st["doi"])):
        c.bad(st, f"{where}.doi", st["doi"], "not a bare DOI", "e.g. 10.1080/02656736.2023.2200582")
    registry_ids = [str(r) for r in as_list(st.get("registry_ids"))]
    for rid in registry_ids:
        if not REGISTRY_ID.fullmatch(rid):
            c.bad(st, f"{where}.registry_ids", rid, "not a registry id", "e.g. NCT02364557, ChiCTR2100041979")
    arms = []
    for j, arm in enumerate(as_list(st.get("arms"))):
        aw = f"{where}.arms[{j}]"
        if not c.mapping(st, arm, aw, "an arm"):
            continue
        c.unknown_fields(arm, {"id", "label", "modality", "n", "note"}, aw)
        c.need(arm, ["id", "label"], aw)
        c.number(arm, "n", aw, lo=1, hi=LARGEST_N, integer=True)
        arms.append(Arm(str(arm.get("id")), str(arm.get("label")), c.term(arm, "modality", aw, "Modality"),
                        arm.get("n") if isinstance(arm.get("n"), int) else None, c.text(arm, "note", aw)))
    def whole(key: str) -> int | None:
        value = st.get(key)
        return value if isinstance(value, int) and not isinstance(value, bool) else None
    return Study(id=study_id, label=str(st.get("label")), designs=c.terms_of(st, "design", "StudyDesign", where),
                 first_author=c.text(st, "first_author", where), year=whole("year"), n=whole("n"),
                 n_qualifier=n_qualifier, country=c.text(st, "country", where), period=c.text(st, "period", where),
                 registry_ids=registry_ids, trial_name=c.text(st, "trial_name", where),
                 doi=c.text(st, "doi", where), reference=c.text(st, "reference", where),
                 title=c.text(st, "title", where), arms=arms, is_document=bool(st.get("is_document")),
                 note=c.text(st, "note", where), line=st.line,
                 aliases=[str(a) for a in as_list(st.get("aliases"))])


def _case(c: Checker, case: Node, where: str, studies: dict[str, Study]) -> Case:
    c.unknown_fields(case, CASE_FIELDS, where)
    c.need(case, ["id", "study", "patient", "recurrence_site", "operation", "progressed", "locator", "span"], where)
    span = c.span(case, where)
    if scalar(case.get("study")) not in studies:
        c.bad(case, f"{where}.study", case.get("study"), "study not defined in this file",
              "define it under studies: first")
    c.number(case, "patient", where, lo=1, integer=True)
    site_root = BY_KEY["site"].root
    return Case(id=str(case.get("id")), study=str(case.get("study")),
                patient=whole(case.get("patient")) or 0,
                recurrence_site=c.term(case, "recurrence_site", where, site_root) or "",
                operation=c.term(case, "operation", where, "Modality") or "",
                progressed=bool(case.get("progressed")), locator=str(case.get("locator")), span=span,
                stage=c.text(case, "stage", where),
                recurrence_site_detail=c.text(case, "recurrence_site_detail", where),
                progression_site=c.term(case, "progression_site", where, site_root),
                note=c.text(case, "note", where), line=case.line, lines=dict(case.lines))


def _claim(c: Checker, cl: Node, where: str, studies: dict[str, Study], cases: dict[str, Case]) -> Claim | None:
    kind = cl.get("kind")
    if kind not in CLAIM_KINDS:
        c.bad(cl, f"{where}.kind", kind, "unknown claim kind", "allowed: " + ", ".join(CLAIM_KINDS))
        return None
    c.unknown_fields(cl, model.fields_for(kind), where)
    c.need(cl, ["id", "study", "locator", "span"] + REQUIRED[kind], where)
    claim_id = c.slug(cl, where, CLAIM_ID, "letters, digits, '.', '_' and '-'")
    span = c.span(cl, where)
    known = ", ".join(sorted(map(str, studies)))
    if scalar(cl.get("study")) not in studies:
        c.bad(cl, f"{where}.study", cl.get("study"), "cites a study this file does not define",
              f"add it under studies: (known here: {known})")
    for cited in as_list(cl.get("cites")):
        if scalar(cited) not in studies:
            c.bad(cl, f"{where}.cites", cited, "cites a study this file does not define",
                  f"add it under studies: (known here: {known})")
    if cl.get("case") is not None and scalar(cl["case"]) not in cases:
        c.bad(cl, f"{where}.case", cl["case"], "case not defined in this file")
    values: dict[str, object] = {}
    for f in model.FIELDS:
        if f.key not in cl or f.kind == "special":
            continue
        if f.kind == "term":
            values[f.key] = c.term(cl, f.key, where, f.root)
        elif f.kind in ("enum", "choice"):
            values[f.key] = c.choice(cl, f.key, where, list(f.values))
        elif f.kind == "text":
            values[f.key] = c.text(cl, f.key, where)
        elif f.kind == "integer":
            c.number(cl, f.key, where, lo=f.low, hi=f.high if f.high is not None else LARGEST_N, integer=True)
            values[f.key] = cl[f.key]
        elif f.kind == "figure":
            hi = f.high
            if f.key in ("value", "value_low", "value_high") and cl.get("unit") == "percent" \
                    and not cl.get("interpretation"):
                hi = Decimal(100)     # a printed percentage that cannot be right is kept only with a reading
            if c.number(cl, f.key, where, lo=f.low, hi=hi) is not None:
                values[f.key] = cl[f.key]
    for key in ("cites", "disagrees_with"):
        if cl.get(key):
            values[key] = [str(v) for v in as_list(cl[key])]
    if cl.get("case") is not None:
        values["case"] = str(cl["case"])
    _claim_rules(c, cl, where, kind, values)
    study = studies.get(str(cl.get("study")))
    arm = cl.get("arm")
    arm_id = str(arm) if study is not None and arm is not None and any(a.id == str(arm) for a in study.arms) else None
    return Claim(id=claim_id, kind=kind, study=str(cl.get("study")), locator=str(cl.get("locator")), span=span,
                 values={k: v for k, v in values.items() if v is not None}, arm_id=arm_id,
                 line=cl.line, lines=dict(cl.lines))


def _claim_rules(c: Checker, cl: Node, where: str, kind: str, values: dict[str, object]) -> None:
    """Rules between fields: a range or a value, a CI around its value, a rate with its time point."""
    value, low, high = (as_number(values.get(k)) for k in ("value", "value_low", "value_high"))
    mn, mx = as_number(values.get("min")), as_number(values.get("max"))
    if mn is not None and mx is not None and mn > mx:
        c.bad(cl, f"{where}.min", cl["min"], f"min is above max ({shown(cl['max'])})")
    if low is not None and high is not None and low > high:
        c.bad(cl, f"{where}.value_low", cl["value_low"],
              f"range low is above range high ({shown(cl['value_high'])})")
    if value is not None and (low is not None or high is not None):
        c.bad(cl, f"{where}.value", cl["value"], "give either value or value_low/value_high, not both")
    if cl.get("subtype_basis") not in (None, "unspecified") and not cl.get("subtype"):
        c.bad(cl, f"{where}.subtype_basis", cl["subtype_basis"], "a subtype basis needs a subtype")
    has_figure = value is not None or low is not None or high is not None
    not_reached = cl.get("value_qualifier") == "not reached"
    if kind in ("outcome", "prognostic_factor") and (has_figure or not_reached):
        c.need(cl, ["statistic"] + (["unit"] if has_figure else []), where)
    if kind == "outcome" and not has_figure and not not_reached and not cl.get("direction"):
        c.bad(cl, f"{where}.value", None, "an outcome needs value or value_low/value_high",
              "for a finding without a number give direction: favourable, unfavourable or no_association")
    if kind == "characteristic" and not has_figure:
        c.bad(cl, f"{where}.value", None, "a characteristic needs value or value_low/value_high")
    if kind == "selection_criterion" and "statistic" in cl:
        c.bad(cl, f"{where}.statistic", cl["statistic"], "not used for selection criteria")
    if cl.get("statistic") == "RateAtTimePoint" and (cl.get("time_point") is None or not cl.get("time_unit")):
        c.bad(cl, f"{where}.time_point", cl.get("time_point"), "a rate at a time point needs time_point and time_unit")
    if cl.get("time_point") is not None and not cl.get("time_unit"):
        c.bad(cl, f"{where}.time_unit", None, "time_point needs time_unit", "year, month, week or day")
    ci = cl.get("ci")
    if ci is not None:
        bounds = [as_number(x) for x in ci] if isinstance(ci, list) and len(ci) == 2 else []
        if len(bounds) != 2 or None in bounds:
            c.bad(cl, f"{where}.ci", ci, "ci must be [lower, upper]", "e.g. ci: [0.60, 0.71]")
        else:
            lo_, hi_ = bounds
            assert lo_ is not None and hi_ is not None
            if lo_ > hi_:
                c.bad(cl, f"{where}.ci", ci, "CI lower is above CI upper", "write [lower, upper]")
            elif value is not None and not lo_ <= value <= hi_:
                c.bad(cl, f"{where}.ci", ci, f"value {shown(cl['value'])} lies outside its CI")
            else:
                values["ci"] = (ci[0], ci[1])
    interp = cl.get("interpretation")
    if interp is not None:
        if isinstance(interp, Node) and as_number(interp.get("value")) is not None and interp.get("note"):
            values["interpretation"] = (interp["value"], str(interp["note"]))
        else:
            c.bad(cl, f"{where}.interpretation", interp, "interpretation needs value and note",
                  "e.g. interpretation: {value: 72.3, note: 'decimal point lost in the print'}")
    at = cl.get("value_at")
    if at is not None:
        if isinstance(at, int) and not isinstance(at, bool) and at >= 0:
            values["value_at"] = at
        else:
            c.bad(cl, f"{where}.value_at", at, "not a character offset", "kg locate FILE 'snippet' prints offsets")
    retracted = cl.get("retracted")
    if retracted is not None:
        if not isinstance(retracted, datetime.date):
            c.bad(cl, f"{where}.retracted", retracted, "not a date", "write the date of the retraction: 2026-11-30")
        else:
            values["retracted"] = retracted.isoformat()
    if cl.get("superseded_by") is not None:
        values["superseded_by"] = str(cl["superseded_by"])
    if (retracted is not None or cl.get("superseded_by") is not None) and not cl.get("retraction_reason"):
        c.bad(cl, f"{where}.retraction_reason", None, "a retracted or superseded claim needs a reason",
              "retraction_reason: why the claim no longer stands")
    for ref in as_list(cl.get("disagrees_with")):
        if not re.fullmatch(r"[a-z0-9-]+:[A-Za-z0-9._-]+", str(ref)):
            c.bad(cl, f"{where}.disagrees_with", ref, "not a claim reference", "write '<document id>:<claim id>'")
