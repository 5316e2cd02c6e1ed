"""Mentions of ontology terms in a text: labels, synonyms and abbreviations, read in the document's context.

An abbreviation tagged with documents (`HR [document 003]`, `HR [documents 000, 001, 002:
statistic]`) holds only in those documents. In a document no tag names, an abbreviation whose
only meanings are document-tagged is used when it has one meaning, and left to the curator
when it has several (HR: hazard ratio or hepatic resection).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from ..ontology.terms import TermIndex, read_template, split_abbreviation, split_list, terms_from_rows

__all__ = ["Mention", "Lexicon", "FIELD_ROOTS"]

#: claim field -> the term roots its values fall under
FIELD_ROOTS: dict[str, tuple[str, ...]] = {
    "endpoint": ("Endpoint",), "statistic": ("StatisticType",),
    "site": ("MetastaticBreastCancer", "AnatomicalSite"), "modality": ("Modality",),
}
#: terms too generic to be a guess on their own (the roots, and words every sentence holds)
GENERIC = {"Endpoint", "StatisticType", "Modality", "MetastaticBreastCancer", "AnatomicalSite", "Breast",
           "BreastCancerMetastasis", "PrimaryBreastTumour", "ConfidenceInterval", "PValue"}
SITE_WORDS = {"LiverMetastasis": ("liver", "hepat"), "LungMetastasis": ("lung", "pulmonary"),
              "BrainMetastasis": ("brain", "crani")}


@dataclass(frozen=True)
class Mention:
    start: int
    end: int
    field: str
    term: str
    surface: str


def _documents(tag: str) -> set[str]:
    return set(re.findall(r"\b\d{3}\b", tag)) if tag.lower().startswith("document") else set()


def _name_pattern(name: str) -> str:
    words = re.escape(name).replace(r"\ ", r"[\s-]+").replace(r"\-", r"[\s-]?")
    words = re.sub(r"metastasis", "metastas[ie]s", words)
    return rf"(?<![\w-]){words}(?:s|es)?(?![\w])"


class Lexicon:
    """Finds the ontology's terms in text, for the claim fields a draft guesses."""

    def __init__(self, ontology_dir: Path, doc_key: str = ""):
        rows = read_template(Path(ontology_dir))
        self.index = TermIndex(terms_from_rows(rows))
        self.doc_key = doc_key
        self.field_of: dict[str, str] = {}
        for field_name, roots in FIELD_ROOTS.items():
            for root in roots:
                for t in self.index.under(root):
                    self.field_of.setdefault(t, field_name)
        names: list[tuple[str, str, bool]] = []          # (surface, term, is abbreviation)
        tagged: dict[str, list[tuple[str, set[str]]]] = {}
        for r in rows:
            if r["id"] not in self.field_of or r["id"] in GENERIC:
                continue
            for name in [r["label"], *split_list(r.get("synonyms", ""))]:
                if len(name) > 2:
                    names.append((name, r["id"], False))
            for item in split_list(r.get("abbreviations", "")):
                abbr, tag = split_abbreviation(item)
                tagged.setdefault(abbr, []).append((r["id"], _documents(tag)))
        for abbr, meanings in tagged.items():
            here = [t for t, docs in meanings if not docs or doc_key in docs]
            if not here and len(meanings) == 1:
                here = [meanings[0][0]]                  # a document-tagged abbreviation with one meaning
            names += [(abbr, t, True) for t in here]
        self.expansions = {abbr: self.index.terms[ms[0][0]].label for abbr, ms in tagged.items()
                           if len(ms) == 1 and not ms[0][1]}
        for r in rows:          # the generic terms' abbreviations too (MBC), for reading headings
            for item in split_list(r.get("abbreviations", "")):
                abbr, tag = split_abbreviation(item)
                if not tag and r["id"] in GENERIC:
                    self.expansions.setdefault(abbr, r["label"])
        self._patterns = []
        for surface, term, is_abbr in names:
            body = re.escape(surface)
            pattern = (rf"(?<![A-Za-z0-9]){body}(?![A-Za-z0-9+])" if is_abbr else _name_pattern(surface))
            self._patterns.append((re.compile(pattern, 0 if is_abbr else re.I), term))

    def find(self, text: str, offset: int = 0) -> list[Mention]:
        """Every mention in `text`, longest first where two overlap (`HR/RFA` beats `HR`)."""
        hits = [Mention(m.start() + offset, m.end() + offset, self.field_of[term], term, m.group(0))
                for pattern, term in self._patterns for m in pattern.finditer(text)]
        hits.sort(key=lambda h: (h.start, -(h.end - h.start)))
        out: list[Mention] = []
        for h in hits:
            if out and h.start < out[-1].end and (h.end - h.start) < (out[-1].end - out[-1].start):
                continue
            if out and h.start == out[-1].start and h.end == out[-1].end and h.term != out[-1].term:
                # two terms share a surface within one field: keep the more specific (deeper) one
                if self.index.is_a(h.term, out[-1].term):
                    out[-1] = h
                continue
            out.append(h)
        return out

    def expand(self, text: str) -> str:
        """Abbreviations written out ('DE NOVO MBC' -> 'DE NOVO metastatic breast cancer'), for headings."""
        return re.sub(r"(?<![A-Za-z0-9])([A-Z][A-Za-z0-9]+)(?![A-Za-z0-9+])",
                      lambda m: self.expansions.get(m.group(1), m.group(1)), text)

    def site_term(self, term: str) -> str:
        """An anatomical site read as the metastasis term for it (`liver` -> LiverMetastasis)."""
        if self.index.is_a(term, "MetastaticBreastCancer"):
            return term
        label = self.index.terms[term].label.casefold()
        for pattern in (re.escape(label), re.escape(label[:5]) + r"\w*"):
            found = [t for t in self.index.under("MetastaticBreastCancer")
                     if any(re.search(rf"^(?:breast cancer )?{pattern}\s+metastas", n.casefold())
                            for n in [self.index.terms[t].label, *self.index.terms[t].synonyms])]
            if found:
                return min(found, key=lambda t: len(self.index.terms[t].label))
        return term

    def specific_modality(self, modality: str, site: str | None, words: str = "") -> str:
        """A generic modality read for its context: a child whose distinctive words the sentence has
        ('surgical resection of the primary tumor' -> primary tumour surgery), else the child for the site
        (resection of a liver metastasis -> hepatic resection)."""
        def names(t: str) -> str:
            return " ".join([self.index.terms[t].label, *self.index.terms[t].synonyms]).casefold()
        def stems(text: str) -> set[str]:
            return {w[:5] for w in re.findall(r"[a-z]{4,}", text.casefold().replace("tumor", "tumour"))}
        own = names(modality)
        children = sorted((t for t in self.index.under(modality) if t != modality),
                          key=lambda t: len(self.index.ancestors(t)))
        if words and children:
            said, common = stems(words), stems(own)
            for t in children:            # shallowest first: every distinctive word of one of its names is said
                if " or " in names(t) or "plus" in names(t):
                    continue
                for name in [self.index.terms[t].label, *self.index.terms[t].synonyms]:
                    distinct = stems(name) - common
                    if distinct and distinct <= said:
                        return t
        site_words = SITE_WORDS.get(site or "")
        if not site_words or not self.index.terms[modality].parents or any(w in own for w in site_words):
            return modality
        for t in children:
            if any(w in names(t) for w in site_words) and "plus" not in names(t) and " or " not in names(t):
                return t
        return modality
