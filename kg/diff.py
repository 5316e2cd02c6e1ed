"""What changed between two releases: claims, terms and studies, keyed by IRI.

Claims are compared field by field through the claims table (kg/export.py), so a field added to
the claim model is compared too; terms are read from each release's ontology.ttl. The build
writes the result into every release as changes.md and changes.json, against the release it
follows (`kg diff OLD NEW` compares any two).
"""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

import pyoxigraph as ox

from .errors import KGError
from .export import ReleaseData, claim_rows, read_release
from .rdf import BCMKG, OWL, RDF, RDFS

__all__ = ["ReleaseDiff", "diff_releases", "resolve_release", "diff_markdown", "write_changes"]

V = str(BCMKG)
LABEL, TYPE, DEPRECATED = str(RDFS.label), str(RDF.type), str(OWL.deprecated)
STUDY_TYPES = {V + "Study", V + "ClinicalTrial"}


@dataclass
class ReleaseDiff:
    old: str
    new: str
    claims_added: list[str] = field(default_factory=list)
    claims_removed: list[str] = field(default_factory=list)
    claims_retracted: list[str] = field(default_factory=list)
    claims_changed: dict[str, dict[str, list[str]]] = field(default_factory=dict)   # iri -> column -> [old, new]
    terms_added: list[str] = field(default_factory=list)
    terms_removed: list[str] = field(default_factory=list)
    terms_deprecated: list[str] = field(default_factory=list)
    terms_relabelled: dict[str, list[str]] = field(default_factory=dict)
    studies_added: list[str] = field(default_factory=list)
    studies_removed: list[str] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not any(v for k, v in asdict(self).items() if k not in ("old", "new"))


def resolve_release(name: str | Path, out: Path | None = None) -> Path:
    """A release folder, or a version (`2026-11-30`) kept under <out>/releases/."""
    path = Path(name)
    if (path / "manifest.json").is_file():
        return path
    if out is not None and (Path(out) / "releases" / str(name) / "manifest.json").is_file():
        return Path(out) / "releases" / str(name)
    kept = sorted(p.name for p in (Path(out) / "releases").glob("*") if p.is_symlink()) if out else []
    raise KGError(f"no release at {name}: give a release folder or a version"
                  + (f" (kept: {', '.join(kept)})" if kept else ""))


def _terms(release: Path) -> dict[str, tuple[str, bool]]:
    """Vocabulary term IRI -> (label, deprecated), from the release's ontology."""
    labels: dict[str, str] = {}
    deprecated: set[str] = set()
    for t in ox.parse(path=str(release / "ontology.ttl"), format=ox.RdfFormat.TURTLE):
        s = t.subject
        if not isinstance(s, ox.NamedNode) or not s.value.startswith(V):
            continue
        if t.predicate.value == LABEL and isinstance(t.object, ox.Literal):
            labels.setdefault(s.value, t.object.value)
        elif t.predicate.value == DEPRECATED and getattr(t.object, "value", "") == "true":
            deprecated.add(s.value)
    return {iri: (label, iri in deprecated) for iri, label in labels.items()}


def _studies(data: ReleaseData) -> set[str]:
    return {s for s, props in data.items() if any(getattr(t, "value", "") in STUDY_TYPES for t in props.get(TYPE, ()))}


def _claims_and_studies(release: Path) -> tuple[dict[str, dict[str, str]], set[str]]:
    """The claims table by IRI and the study IRIs, from one read of the release."""
    data = read_release(release)
    return {r["claim_iri"]: r for r in claim_rows(release, data)}, _studies(data)


def diff_releases(old: Path, new: Path) -> ReleaseDiff:
    """Everything that differs between two release folders."""
    result = ReleaseDiff(str(old), str(new))
    before, s_old = _claims_and_studies(old)
    after, s_new = _claims_and_studies(new)
    result.claims_added = sorted(set(after) - set(before))
    result.claims_removed = sorted(set(before) - set(after))
    for iri in sorted(set(before) & set(after)):
        a, b = before[iri], after[iri]
        changed = {col: [a.get(col, ""), b.get(col, "")] for col in sorted(set(a) | set(b))
                   if a.get(col, "") != b.get(col, "") and col not in ("source_line",)}
        if b.get("retracted_on") and not a.get("retracted_on") or b.get("superseded_by") and not a.get("superseded_by"):
            result.claims_retracted.append(iri)
        if changed:
            result.claims_changed[iri] = changed
    t_old, t_new = _terms(old), _terms(new)
    result.terms_added = sorted(set(t_new) - set(t_old))
    result.terms_removed = sorted(set(t_old) - set(t_new))
    result.terms_deprecated = sorted(i for i in set(t_old) & set(t_new) if t_new[i][1] and not t_old[i][1])
    result.terms_relabelled = {i: [t_old[i][0], t_new[i][0]] for i in sorted(set(t_old) & set(t_new))
                               if t_old[i][0] != t_new[i][0]}
    result.studies_added, result.studies_removed = sorted(s_new - s_old), sorted(s_old - s_new)
    return result


def diff_markdown(d: ReleaseDiff) -> str:
    """The changes for people."""
    lines = [f"# Changes from {d.old} to {d.new}", ""]
    if d.empty:
        return "\n".join(lines + ["No change.", ""])
    def section(title: str, items: list[str]) -> None:
        if items:
            lines.extend([f"## {title} ({len(items)})", ""] + [f"- `{i}`" for i in items] + [""])
    section("Claims added", d.claims_added)
    section("Claims removed", d.claims_removed)
    section("Claims retracted or superseded", d.claims_retracted)
    if d.claims_changed:
        lines += [f"## Claims changed ({len(d.claims_changed)})", "", "| claim | field | before | after |",
                  "|---|---|---|---|"]
        for iri, fields in d.claims_changed.items():
            lines += [f"| `{iri}` | {col} | {old} | {new} |" for col, (old, new) in fields.items()]
        lines.append("")
    section("Terms added", d.terms_added)
    section("Terms removed", d.terms_removed)
    section("Terms deprecated", d.terms_deprecated)
    if d.terms_relabelled:
        lines += [f"## Terms relabelled ({len(d.terms_relabelled)})", ""]
        lines += [f"- `{i}`: {a!r} → {b!r}" for i, (a, b) in d.terms_relabelled.items()] + [""]
    section("Studies added", d.studies_added)
    section("Studies removed", d.studies_removed)
    return "\n".join(lines)


def write_changes(release: Path, previous: Path | None) -> ReleaseDiff | None:
    """changes.md and changes.json in `release`, against `previous` (nothing when there is none)."""
    if previous is None or not (previous / "manifest.json").is_file():
        return None
    d = diff_releases(previous, release)
    d.old = json.loads((previous / "manifest.json").read_text(encoding="utf-8")).get("ontology_version_iri", d.old)
    d.new = json.loads((release / "manifest.json").read_text(encoding="utf-8")).get("ontology_version_iri", d.new)
    (release / "changes.md").write_text(diff_markdown(d), encoding="utf-8")
    (release / "changes.json").write_text(json.dumps(asdict(d), indent=1), encoding="utf-8")
    return d
