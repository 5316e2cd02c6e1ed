"""Benchmark: build, load and query a synthetic corpus at 10^3, 10^4 and 10^5 claims.

A script, not a timed test. For each size it

1. writes a synthetic corpus of extraction files (`sources/*.yaml`) with the real vocabulary
   (term ids from ontology/template/*.tsv), split into documents of ~1,500 claims;
2. builds it with `kg.build.build` (ingest + per-document SHACL; corpus=None, since the
   synthetic spans point into no real text): a cold build in a fresh out dir, once per
   `--workers` value, and a warm rebuild that the SHACL cache lets skip validation;
3. loads the release into each engine -- rdflib in memory (`kg.store.RdflibStore`),
   Oxigraph embedded (`kg.store.EmbeddedStore`, the default engine) and an Oxigraph server
   over HTTP (`kg.store.load_endpoint` + `kg.store.RemoteStore`) -- and runs every named
   query in queries/ with its header's example parameters through `kg.query.run`, the code
   path users hit.

Every measurement runs in a fresh child process, so peak memory (RSS sampled every 20 ms
with psutil, children and the Oxigraph server included) belongs to that step alone.

    .venv/bin/python benchmarks/benchmark.py                      # 10^3, 10^4, 10^5
    .venv/bin/python benchmarks/benchmark.py --sizes 1000 10000   # a quick run
    .venv/bin/python benchmarks/benchmark.py --max-size 1000000   # also 10^6 (long, ~10+ GB)
    .venv/bin/python benchmarks/benchmark.py --docs-only          # rewrite docs from results.csv

Writes benchmarks/results.csv, docs/benchmark.md and docs/benchmark.png.
"""
from __future__ import annotations

import argparse
import csv
import hashlib
import json
import os
import platform
import random
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
HERE = ROOT / "benchmarks"
CSV_PATH = HERE / "results.csv"
DOC_MD = ROOT / "docs" / "benchmark.md"
DOC_PNG = ROOT / "docs" / "benchmark.png"
DEFAULT_SIZES = [1_000, 10_000, 100_000]
CLAIMS_PER_DOC = 1_500
ENGINES = ["rdflib", "oxigraph", "server"]
DEFAULT_ENGINE = "oxigraph"

# Targets from issue 5, for the default engine at 10^5 claims (seconds).
TARGET_SIZE = 100_000
TARGETS = {"lookup": 0.050, "threshold": 0.050, "aggregation": 0.400, "load": 15.0, "build+load": 60.0}
# Query header `kind` -> target class. Lookups fetch by a key or a term; comparisons and
# disagreements join claims with claims, so they are held to the aggregation target.
TARGET_CLASS = {"threshold": "threshold", "aggregation": "aggregation", "comparison": "aggregation",
                "disagreement": "aggregation", "provenance": "lookup", "vocabulary": "lookup", "trial": "lookup",
                "selection": "lookup", "prognosis": "lookup", "discordance": "lookup"}
# Queries drawn in the plot, one per kind of work.
PLOT_QUERIES = ["flagship", "document_claims", "claims_per_modality_site", "disagreements"]


# ======================================================================================
# 1. Synthetic corpus
# ======================================================================================

def read_ids(name: str) -> list[str]:
    """Term ids of one template file (column `id`), the real vocabulary."""
    lines = (ROOT / "ontology" / "template" / name).read_text(encoding="utf-8").splitlines()
    return [line.split("\t")[0] for line in lines[1:] if line.strip()]


SURNAMES = ["vogl", "ruiz", "sadot", "ercolani", "pocard", "adam", "abbott", "bacalbasa", "chun", "golse",
            "he", "kobryn", "lee", "li", "liu", "margonis", "mariani", "milovanov", "polistina", "sakamoto",
            "selzner", "sun", "tasleem", "vertriest", "wang", "xu", "yoo", "zegarac", "zhang", "zhao",
            "friedel", "staren", "simpson", "planchard", "yhim", "meimarakis", "welter", "kycler", "chen",
            "kim", "park", "tanaka", "suzuki", "nakamura", "muller", "schmidt", "rossi", "bianchi", "dupont",
            "martin", "garcia", "lopez", "silva", "santos", "smith", "jones", "brown", "taylor", "wilson",
            "davies", "evans", "thomas", "johnson", "roberts", "walker", "wright", "robinson", "thompson",
            "white", "hughes", "edwards", "green", "hall", "wood", "harris", "clarke", "jackson", "turner"]
COUNTRIES = ["USA", "China", "Japan", "Germany", "Italy", "France", "Korea", "UK", "Spain", "Turkey", "India"]

# Site -> modalities that are used there (all ids from modalities.tsv).
SITE_MODALITIES = {
    "LiverMetastasis": ["HepaticResection", "AnatomicalHepaticResection", "NonAnatomicalHepaticResection",
                        "MajorHepatectomy", "MicrowaveAblation", "RadiofrequencyAblation",
                        "LaserInterstitialThermalTherapy", "Cryoablation", "TransarterialChemoembolization",
                        "SelectiveInternalRadiationTherapy", "StereotacticBodyRadiotherapy", "LITTPlusTACE",
                        "RFAPlusTACE", "MWAPlusTACE", "HepaticResectionPlusRFA", "HepaticResectionPlusChemotherapy",
                        "HepaticResectionPlusSystemicTherapy", "TACEPlusEndocrineTherapy", "SystemicTherapyAlone"],
    "LungMetastasis": ["PulmonaryMetastasectomy", "WedgeResection", "Segmentectomy", "Lobectomy",
                       "RoboticLobectomy", "VideoAssistedThoracoscopicSurgery", "StereotacticBodyRadiotherapy",
                       "RadiofrequencyAblation", "MicrowaveAblation", "Cryoablation", "SystemicTherapyAlone"],
    "BrainMetastasis": ["Craniotomy", "AwakeCraniotomy", "WholeBrainRadiotherapy", "StereotacticBodyRadiotherapy",
                        "SystemicTherapyAlone"],
    "BoneMetastasis": ["BoneMetastasisResection", "CurettageWithBoneGrafting", "PelvicResectionWithReconstruction",
                       "ExternalBeamRadiotherapy", "StereotacticBodyRadiotherapy", "SystemicTherapyAlone"],
    "SternalMetastasis": ["BoneMetastasisResection", "CurettageWithBoneGrafting"],
    "LymphNodeMetastasis": ["LymphNodeMetastasectomy", "AxillaryClearance", "RadicalNeckDissection"],
    "ChestWallRecurrence": ["SurgicalResection", "ExternalBeamRadiotherapy"],
    "DeNovoStageIV": ["PrimaryTumourSurgery", "LocoregionalTherapyOfPrimary", "Mastectomy",
                      "BreastConservingSurgery", "SystemicTherapyAlone"],
    "OligometastaticDisease": ["StereotacticBodyRadiotherapy", "Metastasectomy", "LocalAblativeTherapy",
                               "SBRTPlusSystemicTherapy"],
}
SITE_WEIGHTS = {"LiverMetastasis": 30, "LungMetastasis": 20, "BrainMetastasis": 12, "BoneMetastasis": 10,
                "SternalMetastasis": 2, "LymphNodeMetastasis": 4, "ChestWallRecurrence": 3, "DeNovoStageIV": 12,
                "OligometastaticDisease": 7}
CONTROLS = ["SystemicTherapyAlone", "NoSurgery", "NoTreatment"]
SUBTYPE_BASES = ["restricted", "majority", "favourable_predictor", "unspecified"]
DESIGNS_PRIMARY = (["RetrospectiveCohortStudy"] * 10 + ["ProspectiveCohortStudy"] * 2 + ["CaseSeries"] * 2
                   + ["PropensityMatchedStudy", "CaseControlStudy", "RegistryStudy", "PopulationBasedStudy",
                      "MetaAnalysis", "SystematicReview", "RandomizedControlledTrial", "PhaseIITrial"])
CHARACTERISTICS = [("age at diagnosis", "Median", "year", 40, 65), ("ER positive", "Count", "patients", 5, 300),
                   ("ER positive", "Proportion", "percent", 40, 90), ("HER2 positive", "Proportion", "percent", 10, 40),
                   ("triple-negative", "Proportion", "percent", 5, 25), ("patients treated", "Count", "patients", 10, 900),
                   ("lesions treated", "Count", "lesions", 10, 400), ("largest lesion size", "Median", "cm", 1, 6),
                   ("disease-free interval", "Median", "month", 12, 72), ("solitary metastasis", "Proportion", "percent", 20, 80),
                   ("anatomical resection", "Proportion", "percent", 10, 70), ("R0 resection", "Proportion", "percent", 60, 98),
                   ("dose delivered", "Median", "Gy", 30, 60)]
REQUIREMENTS = {"NumberOfLesions": ("at most a few lesions", "lesions"), "DiseaseFreeIntervalCriterion": ("long interval", "month"),
                "ExtraVisceralDisease": ("absent or controlled", None), "SystemicResponse": ("stable or responding", "month"),
                "TumourBiology": ("favourable receptor status", None), "PerformanceStatus": ("good (ECOG 0-1)", None),
                "Resectability": ("complete resection feasible", None), "Comorbidities": ("fit for surgery", None),
                "PrimaryTumourControl": ("primary controlled", None), "CardiopulmonaryReserve": ("adequate", None)}


def q(text: str) -> str:
    """A YAML double-quoted string."""
    return json.dumps(text, ensure_ascii=False)


def num(x: float, places: int = 1) -> str:
    return f"{round(x, places):.{places}f}" if places else str(int(round(x)))


class CorpusWriter:
    """Writes one corpus of `n_claims` claims; the same seed gives the same files."""

    def __init__(self, n_claims: int, seed: int = 5):
        self.n = n_claims
        self.rng = random.Random(seed)
        self.subtypes = read_ids("subtypes.tsv")[1:]
        self.factors = read_ids("factors.tsv")[1:]
        self.criteria = read_ids("criteria.tsv")[1:]
        self.technologies = read_ids("technologies.tsv")[1:]
        self.endpoints = set(read_ids("endpoints.tsv"))
        modalities = set(read_ids("modalities.tsv"))
        for site, mods in SITE_MODALITIES.items():   # fail loudly if the vocabulary moved
            missing = [m for m in mods if m not in modalities]
            assert not missing, f"modalities no longer in the template: {missing}"
        # A pool of study ids shared by all documents (about one study per 8 claims), so
        # the same study is cited by several documents, as in the real corpus.
        pool_size = max(60, n_claims // 8)
        self.pool = []
        for i in range(pool_size):
            name = SURNAMES[i % len(SURNAMES)]
            year = 1995 + (i // len(SURNAMES)) % 31
            suffix = "" if i < len(SURNAMES) * 31 else chr(ord("b") + i // (len(SURNAMES) * 31) - 1)
            self.pool.append(f"{name}{year}{suffix}")

    # --- studies ------------------------------------------------------------------

    def study(self, sid: str) -> dict:
        """A study's attributes follow from its id, so every document that cites it agrees."""
        r = random.Random(sid)
        design = r.choice(DESIGNS_PRIMARY)
        st = {"id": sid, "label": f"{sid[:-4].capitalize()} {sid[-4:]}" if sid[-1].isdigit() else sid,
              "year": int("".join(ch for ch in sid if ch.isdigit())[:4] or 2020), "design": [design],
              "n": r.randint(12, 1200), "country": r.choice(COUNTRIES)}
        st["first_author"] = f"{sid.rstrip('0123456789bcdefghij').capitalize()} {r.choice('ABCDEHJKMST')}"
        if r.random() < 0.3:
            st["design"].append(r.choice(["MulticentreStudy", "SingleCentreStudy"]))
        if design in ("RandomizedControlledTrial", "PhaseIITrial"):
            st["registry_ids"] = [f"NCT{r.randint(10**6, 10**8 - 1):08d}"]
            site = r.choice(list(SITE_MODALITIES))
            st["arms"] = [{"id": "a", "label": "local therapy", "modality": r.choice(SITE_MODALITIES[site][:-1] or ["LocalTherapy"]),
                           "n": st["n"] // 2},
                          {"id": "b", "label": "systemic therapy alone", "modality": "SystemicTherapyAlone",
                           "n": st["n"] - st["n"] // 2}]
            st["site"] = site
        if r.random() < 0.5:
            st["doi"] = f"10.{r.randint(1000, 9999)}/{sid}.{r.randint(100, 999)}"
        return st

    @staticmethod
    def study_yaml(st: dict, reference: int) -> list[str]:
        out = [f"  - id: {st['id']}", f"    label: {q(st['label'])}", f"    first_author: {q(st['first_author'])}",
               f"    year: {st['year']}", f"    design: [{', '.join(st['design'])}]"]
        for key in ("n", "country", "doi"):
            if key in st:
                out.append(f"    {key}: {q(st[key]) if isinstance(st[key], str) else st[key]}")
        if "registry_ids" in st:
            out.append(f"    registry_ids: [{', '.join(st['registry_ids'])}]")
        if st.get("is_document"):
            out.append("    is_document: true")
        else:
            out.append(f"    reference: {q(str(reference))}")
        for arm in st.get("arms", []):
            if arm is st["arms"][0]:
                out.append("    arms:")
            out += [f"      - id: {arm['id']}", f"        label: {q(arm['label'])}",
                    f"        modality: {arm['modality']}", f"        n: {arm['n']}"]
        return out

    # --- claims -------------------------------------------------------------------

    def claim(self, cid: str, st: dict, span: int) -> list[str]:
        """One claim of a realistic kind (mix close to the curated sources)."""
        r = self.rng
        roll = r.random()
        kind = ("outcome" if roll < 0.52 else "characteristic" if roll < 0.85 else "prognostic_factor" if roll < 0.93
                else "selection_criterion" if roll < 0.99 else "emerging_technology")
        site = st.get("site") or r.choices(list(SITE_WEIGHTS), weights=list(SITE_WEIGHTS.values()))[0]
        table = r.randint(1, 4)
        f = {"kind": kind, "study": st["id"],
             "locator": q(f"Table {table}, row '{st['label']}', column 'c{r.randint(1, 9)}'") if r.random() < 0.6
             else q(f"Section '{r.randint(1, 8)}. {site}', paragraph {r.randint(1, 12)}"),
             "span": f"[{span}, {span + r.randint(40, 400)}]"}
        if kind == "emerging_technology":
            f.update(technology=r.choice(self.technologies), application=q("guide selection for local therapy"),
                     impact=q("may spare futile surgery"))
            if r.random() < 0.5:
                f["site"] = site
            return self._emit(cid, f)
        if kind == "selection_criterion":
            crit = r.choice(self.criteria)
            req, unit = REQUIREMENTS[crit]
            f.update(site=site, criterion=crit, requirement=q(req))
            if unit == "lesions":
                f.update(value_low=r.randint(1, 3), value_high=r.randint(4, 5), value_qualifier=q("at most"), unit="lesions")
            elif unit == "month" and r.random() < 0.7:
                f.update(value=r.choice([6, 12, 24, 36]), value_qualifier=q("at least"), unit="month")
            if crit == "TumourBiology":
                f["subtype"] = r.choice(self.subtypes)
            return self._emit(cid, f)
        # outcome, prognostic_factor and characteristic share the population context
        f["site"] = site
        arm = None
        if st.get("arms") and r.random() < 0.8:
            arm = r.choice(st["arms"])
            f.update(modality=arm["modality"], arm=arm["id"])
            other = st["arms"][1] if arm is st["arms"][0] else st["arms"][0]
            f["comparator"] = other["modality"]
        elif r.random() < 0.85:
            f["modality"] = r.choice(SITE_MODALITIES[site])
            if r.random() < 0.15:
                f["comparator"] = r.choice(CONTROLS)
        if r.random() < 0.3:
            f["subtype"] = r.choice(self.subtypes)
            f["subtype_basis"] = r.choice(SUBTYPE_BASES)
        n = arm["n"] if arm else r.randint(8, st["n"])
        if kind == "characteristic":
            label, stat, unit, lo, hi = r.choice(CHARACTERISTICS)
            value = r.randint(min(lo, n), min(hi, n)) if stat == "Count" else r.uniform(lo, hi)
            f.update(characteristic=q(label), statistic=stat, value=num(value, 0 if stat == "Count" else 1), unit=unit, n=n)
            if stat == "Median" and r.random() < 0.4:
                f.update(min=num(value * r.uniform(0.2, 0.8)), max=num(value * r.uniform(1.2, 2.5)))
            return self._emit(cid, f)
        f.update(self.figure(kind, r, n))
        if kind == "prognostic_factor":
            f.update(factor=r.choice(self.factors), factor_level=q(r.choice(["present vs absent", "III vs I/II",
                     "high vs low", "within 24 months vs later", "HR+ vs HR-"])))
            f["direction"] = ("unfavourable" if float(f.get("value", 1)) > 1 else "favourable") if "value" in f \
                else r.choice(["no_association", "mixed"])
        if r.random() < 0.03:
            f["confidence"] = r.choice(["medium", "low"])
        return self._emit(cid, f)

    def figure(self, kind: str, r: random.Random, n: int) -> dict:
        """Endpoint, statistic and a plausible number with its unit, CI and p-value."""
        if kind == "prognostic_factor":
            if r.random() < 0.15:
                return {"endpoint": r.choice(["OverallSurvival", "DiseaseFreeSurvival"])}
            hr = r.uniform(0.3, 3.5)
            lo, hi = hr * r.uniform(0.55, 0.9), hr * r.uniform(1.1, 1.8)
            return {"endpoint": r.choice(["OverallSurvival", "DiseaseFreeSurvival", "ProgressionFreeSurvival"]),
                    "statistic": "HazardRatio", "value": num(hr, 2), "unit": "ratio",
                    "ci": f"[{num(lo, 2)}, {num(hi, 2)}]", "p_value": num(r.uniform(0.001, 0.3), 3)}
        pick = r.random()
        if pick < 0.30:   # survival rate at a time point
            t = r.choice([1, 2, 3, 5, 5, 5, 10])
            top = {1: 98, 2: 92, 3: 85, 5: 75, 10: 55}[t]
            return {"endpoint": r.choice(["OverallSurvival"] * 3 + ["DiseaseFreeSurvival", "ProgressionFreeSurvival",
                                                                     "RecurrenceFreeSurvival"]),
                    "statistic": "RateAtTimePoint", "value": num(r.uniform(top / 4, top), 1), "unit": "percent",
                    "time_point": t, "time_unit": "year", "n": n}
        if pick < 0.55:   # median time to event
            ep = r.choice(["OverallSurvival"] * 3 + ["DiseaseFreeSurvival", "ProgressionFreeSurvival", "FollowUpDuration",
                                                     "TimeToProgression"])
            value = r.uniform(6, 90) if ep in ("OverallSurvival", "FollowUpDuration") else r.uniform(4, 40)
            out = {"endpoint": ep, "statistic": "Median", "value": num(value), "unit": "month", "n": n}
            if r.random() < 0.3:
                out.update(min=num(value * r.uniform(0.1, 0.6)), max=num(value * r.uniform(1.3, 3)))
            if r.random() < 0.1:
                out.update(unit="year", value=num(value / 12))
            return out
        if pick < 0.82:   # a proportion
            ep, lo, hi = r.choice([("LocalControl", 60, 99), ("LocalProgression", 2, 35), ("TechnicalSuccess", 85, 100),
                                   ("ComplicationRate", 1, 40), ("ThirtyDayMortality", 0, 5), ("Recurrence", 20, 80),
                                   ("ReceptorDiscordance", 5, 40)])
            out = {"endpoint": ep, "statistic": "Proportion", "value": num(r.uniform(lo, hi)), "unit": "percent", "n": n}
            if ep == "ReceptorDiscordance":
                out["biomarker"] = r.choice(["EstrogenReceptor", "ProgesteroneReceptor", "HER2"])
            return out
        hr = r.uniform(0.3, 1.6)   # a comparison: hazard ratio with CI and p-value
        lo, hi = hr * r.uniform(0.55, 0.9), hr * r.uniform(1.1, 1.8)
        return {"endpoint": r.choice(["OverallSurvival", "ProgressionFreeSurvival"]), "statistic": "HazardRatio",
                "value": num(hr, 2), "unit": "ratio", "ci": f"[{num(lo, 2)}, {num(hi, 2)}]",
                "p_value": num(r.uniform(0.001, 0.5), 3), "p_qualifier": q(r.choice(["=", "=", "<"])), "n": n}

    @staticmethod
    def _emit(cid: str, fields: dict) -> list[str]:
        out = [f"  - id: {cid}"]
        out += [f"    {k}: {v}" for k, v in fields.items()]
        return out

    # --- documents ----------------------------------------------------------------

    def write(self, folder: Path) -> list[Path]:
        """Write the corpus; the first two documents carry the anchors the queries' examples name."""
        folder.mkdir(parents=True, exist_ok=True)
        n_docs = max(2, round(self.n / CLAIMS_PER_DOC))
        sizes = [self.n // n_docs + (1 if i < self.n % n_docs else 0) for i in range(n_docs)]
        ids = ["greco2026", "chan2017"] + [f"synth{i:05d}" for i in range(2, n_docs)]
        paths = []
        for i, (doc_id, size) in enumerate(zip(ids, sizes)):
            path = folder / f"{i:05d}_{doc_id}.yaml"
            path.write_text(self.document(i, doc_id, size, ids[:i]), encoding="utf-8")
            paths.append(path)
        return paths

    def document(self, index: int, doc_id: str, n_claims: int, earlier_docs: list[str]) -> str:
        r = self.rng
        year = 2026 if doc_id == "greco2026" else 2017 if doc_id == "chan2017" else r.randint(2010, 2026)
        design = "CaseSeries" if doc_id == "chan2017" else r.choice(["NarrativeReview", "SystematicReview", "MetaAnalysis"])
        own = {"id": doc_id, "label": f"{doc_id} (synthetic)", "first_author": "Synth A", "year": year,
               "design": [design], "n": 120, "is_document": True}
        cited = [self.study(s) for s in r.sample(self.pool, k=min(len(self.pool), max(10, n_claims // 7)))]
        anchors = []
        if doc_id == "greco2026":   # example parameters: ruiz2018, vogl2023, NCT02364557, claim t2-mwa-os5
            for sid in ("ruiz2018", "vogl2023"):
                if sid not in {s["id"] for s in cited}:
                    cited.append(self.study(sid))
            cited.append({"id": "nrg-br002", "label": "NRG-BR002", "first_author": "Khan SA", "year": 2022,
                          "design": ["RandomizedControlledTrial", "PhaseIIITrial"], "n": 402,
                          "registry_ids": ["NCT02364557"]})
            anchors.append(self._emit("t2-mwa-os5", {
                "kind": "outcome", "study": "vogl2023",
                "locator": q("Table 2, row 'Microwave ablation', column '5-year OS (%)'"), "span": "[15754, 15789]",
                "site": "LiverMetastasis", "modality": "MicrowaveAblation", "arm": "MWA", "endpoint": "OverallSurvival",
                "statistic": "RateAtTimePoint", "value": 89, "unit": "percent", "time_point": 5, "time_unit": "year",
                "n": 17, "subtype": "HRPositive", "subtype_basis": "majority"}))
        lines = ["format: bcmkg-extraction/1", "# Synthetic document written by benchmarks/benchmark.py: not a real source.",
                 "document:", f"  id: {doc_id}", f"  corpus_file: {index:03d}_{hashlib.md5(doc_id.encode()).hexdigest()[:16]}.txt",
                 f"  sha256: {hashlib.sha256(doc_id.encode()).hexdigest()}",
                 f"  title: {q(f'Synthetic review {index} of local therapy for breast cancer metastases')}",
                 "  authors: [Synth A, Bench B]", f"  year: {year}", "  venue: Synthetic Benchmarks",
                 f"  design: [{design}]", "studies:"]
        lines += self.study_yaml(own, 0)
        for k, st in enumerate(cited, 1):
            lines += self.study_yaml(st, k)
        claims: list[str] = []
        count = len(anchors)
        for a in anchors:
            claims += a
        if doc_id == "chan2017":    # a case series: patients and their individual values
            lines.append("cases:")
            for p in range(1, 11):
                site = r.choice(["SternalMetastasis", "BrainMetastasis", "LungMetastasis", "LiverMetastasis"])
                op = r.choice(SITE_MODALITIES[site][:2])
                lines += [f"  - id: p{p:02d}", f"    study: {doc_id}", f"    patient: {p}", f"    stage: {r.choice(['I', 'IIA', 'IIB', 'IIIA'])}",
                          f"    recurrence_site: {site}", f"    operation: {op}", f"    progressed: {str(p % 2 == 0).lower()}",
                          f"    locator: {q(f'Table 2, row {chr(39)}Patient {p}{chr(39)}')}", f"    span: [{13000 + 150 * p}, {13140 + 150 * p}]"]
                for ep in ("TimeToDistantRecurrence", "OverallSurvival"):
                    claims += self._emit(f"t2-p{p:02d}-{ep[:4].lower()}", {
                        "kind": "outcome", "study": doc_id, "case": f"p{p:02d}",
                        "locator": q(f"Table 2, row 'Patient {p}'"), "span": f"[{13000 + 150 * p}, {13140 + 150 * p}]",
                        "site": site, "modality": op, "endpoint": ep, "statistic": "IndividualValue",
                        "value": num(r.uniform(3, 120), 2), "unit": "month"})
                    count += 1
        studies = [own] + cited
        weights = [5] + [1] * len(cited)
        made: list[str] = []
        span = 2000
        while count < n_claims:
            st = r.choices(studies, weights=weights)[0]
            cid = f"c{count:05d}"
            block = self.claim(cid, st, span)
            # A few figures disagree with an earlier one (same document or an earlier document).
            if made and r.random() < 0.005:
                ref = f"{doc_id}:{r.choice(made)}" if not earlier_docs or r.random() < 0.7 \
                    else f"{r.choice(earlier_docs)}:c{r.randint(100, 900):05d}"
                block.append(f"    disagrees_with: [{q(ref)}]")
            claims += block
            made.append(cid)
            count += 1
            span += r.randint(50, 600)
        lines.append("claims:")
        lines += claims
        lines += ["exclusions:", f"  - span: [{span + 100}, {span + 9000}]", "    reason: reference list"]
        return "\n".join(lines) + "\n"


# ======================================================================================
# 2. Measuring: every step in a child process, peak RSS sampled in a thread
# ======================================================================================

class PeakRSS:
    """Peak resident memory of this process, its children and any extra pids, sampled every 20 ms."""

    def __init__(self, extra_pids: list[int] | None = None):
        self.extra = extra_pids or []
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _rss(self) -> int:
        total = 0
        procs = [psutil.Process()] + [psutil.Process(p) for p in self.extra if psutil.pid_exists(p)]
        for proc in procs:
            try:
                total += proc.memory_info().rss
                total += sum(c.memory_info().rss for c in proc.children(recursive=True))
            except psutil.Error:
                pass
        return total

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, self._rss())
            self._stop.wait(0.02)

    def __enter__(self) -> "PeakRSS":
        self.peak = self._rss()
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, self._rss())

    @property
    def mb(self) -> float:
        return self.peak / 2**20


def task_build(sources: str, out: str, workers: int, profile: str | None) -> dict:
    """One build (cold when `out` is fresh, warm when its SHACL cache is there), with a phase breakdown.

    The phases are timed by wrapping the functions build() imports at call time (kg/ is not
    edited); the serializer time per format by wrapping rdflib's Graph.serialize.
    """
    import rdflib
    import importlib
    kgbuild, kgonto, kgrelease, kgtransform, kgvalidate = (
        importlib.import_module(f"kg.{m}") for m in ("build", "ontology", "release", "transform", "validate"))

    phases: dict[str, float] = {}

    def timed(module, name, label):
        original = getattr(module, name)

        def wrapper(*args, **kwargs):
            start = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                phases[label] = phases.get(label, 0.0) + time.perf_counter() - start
        setattr(module, name, wrapper)

    timed(kgbuild, "load_all", "sources: load + check")
    timed(kgonto, "build_ontology", "ontology: template merge")
    timed(kgonto, "infer_subclasses", "ontology: reasoner")
    timed(kgtransform, "document_graph", "transform: rows -> RDF")
    timed(kgvalidate, "validate_documents", "SHACL (incl. N-Triples cache keys)")
    timed(kgrelease, "write_release", "release: write files")
    serialize = rdflib.Graph.serialize

    def timed_serialize(self, *args, **kwargs):
        start = time.perf_counter()
        try:
            return serialize(self, *args, **kwargs)
        finally:
            key = f"  serialize {kwargs.get('format', args[1] if len(args) > 1 else 'turtle')}"
            phases[key] = phases.get(key, 0.0) + time.perf_counter() - start
    rdflib.Graph.serialize = timed_serialize

    root = ROOT
    kwargs = dict(sources=Path(sources), ontology=root / "ontology", shapes=root / "shapes", corpus=None,
                  out=Path(out), date="2026-01-01", log=lambda *_: None, workers=workers)
    with PeakRSS() as mem:
        start = time.perf_counter()
        if profile:
            import cProfile
            prof = cProfile.Profile()
            summary = prof.runcall(kgbuild.build, **kwargs)
            prof.dump_stats(profile)
        else:
            summary = kgbuild.build(**kwargs)
        seconds = time.perf_counter() - start
    return {"seconds": seconds, "peak_mb": mem.mb, "triples": summary.triples, "claims": summary.claims,
            "documents": summary.documents, "phases": phases}


def task_release(sources: str, out: str) -> dict:
    """A release without kg build's SHACL and rdflib serializers, for sizes the build cannot finish in time.

    The same loader, ontology and transform as kg build; the per-document graphs go out through
    rdflib's N-Triples writer (linear) and pyoxigraph writes graph.nq and graph.trig.
    """
    import pyoxigraph as ox
    from kg import __version__
    from kg.build import load_all
    from kg.ontology import build_ontology, infer_subclasses
    from kg.sources import load_terms
    from kg.transform import document_graph
    from kg.vocab import graph_iri
    from rdflib.namespace import RDFS

    phases: dict[str, float] = {}
    with PeakRSS() as mem:
        start = t0 = time.perf_counter()
        loaded = load_all(Path(sources), load_terms(ROOT / "ontology"), None)
        phases["sources: load + check"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        onto = build_ontology(ROOT / "ontology", "2026-01-01", __version__)
        for sub, sup in infer_subclasses(onto):
            onto.add((sub, RDFS.subClassOf, sup))
        phases["ontology: merge + reasoner"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        graphs = {"ontology": onto}
        graphs.update({str(s["document"]["id"]): document_graph(s, Path(sources).resolve().parent) for s in loaded})
        phases["transform: rows -> RDF"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        release = Path(out) / "release"
        release.mkdir(parents=True, exist_ok=True)
        with (release / "graph.nq").open("w", encoding="utf-8") as fh:
            for name, g in graphs.items():
                suffix = f" <{graph_iri(name)}> .\n"
                for line in g.serialize(format="nt").splitlines():
                    if line.strip():
                        fh.write(line.rstrip()[:-1].rstrip() + suffix)
        store = ox.Store()
        store.bulk_load(path=str(release / "graph.nq"), format=ox.RdfFormat.N_QUADS)
        store.dump(output=str(release / "graph.trig"), format=ox.RdfFormat.TRIG)
        phases["write graph.nq (rdflib nt) + graph.trig (pyoxigraph)"] = time.perf_counter() - t0
        seconds = time.perf_counter() - start
    return {"seconds": seconds, "peak_mb": mem.mb, "triples": len(store), "phases": phases}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(location: Path) -> tuple[subprocess.Popen, str]:
    exe = Path(sys.executable).parent / "oxigraph"
    port = free_port()
    proc = subprocess.Popen([str(exe if exe.exists() else shutil.which("oxigraph")), "serve", "--location",
                             str(location), "--bind", f"127.0.0.1:{port}", "--union-default-graph"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}"
    import urllib.request
    for _ in range(300):
        try:
            urllib.request.urlopen(base + "/query?query=ASK%7B%7D", timeout=1).read()
            return proc, base
        except Exception:
            if proc.poll() is not None:
                raise RuntimeError(f"oxigraph serve exited: {proc.stderr.read().decode()[:500]}")
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError("oxigraph serve did not answer within 30 s")


def task_engine(engine: str, release: str, queries: list[str], reps: int, budget: float) -> None:
    """Load the release into one engine, then time each named query; one JSON line per result on stdout."""
    from kg import store as kgstore
    from kg.query import get_query, run

    def emit(record: dict) -> None:
        print(json.dumps(record), flush=True)

    server = None
    tmp = Path(tempfile.mkdtemp(prefix="bench-oxigraph-"))
    try:
        if engine == "server":
            server, base = start_server(tmp)
        with PeakRSS([server.pid] if server else None) as mem:
            start = time.perf_counter()
            if engine == "rdflib":
                store = kgstore.RdflibStore(Path(release))
            elif engine == "oxigraph":
                store = kgstore.EmbeddedStore.from_release(Path(release))
            else:
                kgstore.load_endpoint(Path(release), base + "/store", log=lambda *_: None)
                store = kgstore.RemoteStore(base + "/query", timeout=600)
            seconds = time.perf_counter() - start
        extra = {}
        if engine == "oxigraph":   # the raw N-Quads bulk load, for comparison with the TriG path
            import pyoxigraph as ox
            start = time.perf_counter()
            ox.Store().bulk_load(path=str(Path(release) / "graph.nq"), format=ox.RdfFormat.N_QUADS)
            extra["nq_load_seconds"] = time.perf_counter() - start
        emit({"load": seconds, "peak_mb": mem.mb, **extra})
        for name in queries:
            nq = get_query(name)
            params = nq.example_params()
            times, rows = [], 0
            spent = 0.0
            for i in range(reps + 1):      # the first run warms caches and is dropped unless it is slow
                t0 = time.perf_counter()
                result = run(name, params, engine=store)
                dt = time.perf_counter() - t0
                rows = len(result.rows)
                spent += dt
                if i > 0 or dt > 1.0:
                    times.append(dt)
                if spent > budget and times:
                    break
            emit({"query": name, "kind": nq.kind, "times": times, "rows": rows})
    finally:
        if server:
            server.terminate()
            try:
                server.wait(timeout=20)
            except subprocess.TimeoutExpired:
                server.kill()
        shutil.rmtree(tmp, ignore_errors=True)


def child(args: list[str], timeout: float) -> dict:
    """Run one `_task` in a fresh interpreter and return its JSON answer."""
    proc = subprocess.run([sys.executable, __file__, "_task", *args], capture_output=True, text=True, timeout=timeout)
    if proc.returncode != 0:
        raise RuntimeError(f"task {args[:2]} failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def run_engine(engine: str, release: Path, queries: list[str], reps: int, budget: float,
               query_timeout: float) -> tuple[dict | None, dict[str, dict]]:
    """Run an engine task; a query that takes longer than `query_timeout` is killed, recorded, and
    the task restarts (reloading) from the next query."""
    load, results, todo = None, {}, list(queries)
    restarts = 0
    while todo and restarts < 3:
        proc = subprocess.Popen([sys.executable, __file__, "_task", "engine", engine, str(release), str(reps),
                                 str(budget), *todo], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        lines: list[str] = []
        reader = threading.Thread(target=lambda: lines.extend(proc.stdout), daemon=True)
        reader.start()
        seen, deadline = 0, time.monotonic() + 1800      # the load itself gets 30 minutes
        while proc.poll() is None and time.monotonic() < deadline:
            if len(lines) > seen:
                seen = len(lines)
                deadline = time.monotonic() + query_timeout + budget
            time.sleep(0.05)
        timed_out = proc.poll() is None
        if timed_out:
            # psutil: kill the child and whatever it started (the server), by pid
            for p in psutil.Process(proc.pid).children(recursive=True) + [psutil.Process(proc.pid)]:
                try:
                    p.kill()
                except psutil.Error:
                    pass
            proc.wait()
        reader.join(timeout=5)
        for line in lines:
            rec = json.loads(line)
            if "load" in rec:
                load = load or rec
            else:
                results[rec["query"]] = rec
                todo.remove(rec["query"])
        if timed_out and todo:
            stuck = todo.pop(0) if len(lines) else None
            if stuck:
                results[stuck] = {"query": stuck, "kind": "", "times": [], "rows": 0,
                                  "note": f"timeout > {query_timeout:.0f} s"}
            else:
                break
            restarts += 1
        elif proc.returncode != 0:
            print(proc.stderr.read()[-2000:], file=sys.stderr)
            break
    for name in todo:
        results[name] = {"query": name, "kind": "", "times": [], "rows": 0, "note": "not run (earlier timeouts)"}
    return load, results


# ======================================================================================
# 3. The run, the table, the CSV, the docs
# ======================================================================================

FIELDS = ["size", "engine", "measure", "name", "kind", "reps", "seconds", "median_s", "p95_s", "peak_mb",
          "triples", "rows", "note"]


def p95(values: list[float]) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, max(0, round(0.95 * (len(s) - 1))))]


def label(n: int) -> str:
    return f"10^{len(str(n)) - 1}" if str(n).strip("0") == "1" else f"{n:,}"


def measure_size(n: int, work: Path, args, rows: list[dict]) -> None:
    from kg.query import load_queries
    queries = sorted(load_queries())
    corpus = work / f"corpus-{n}"
    if corpus.exists():
        shutil.rmtree(corpus)
    start = time.perf_counter()
    files = CorpusWriter(n).write(corpus / "sources")
    print(f"[{label(n)}] wrote {len(files)} extraction files in {time.perf_counter() - start:.1f} s", flush=True)

    release = None
    if n > args.build_max:
        out = work / f"out-{n}-fast"
        shutil.rmtree(out, ignore_errors=True)
        r = child(["release", str(corpus / "sources"), str(out)], timeout=7200)
        print(f"[{label(n)}] kg build skipped (> --build-max); fast release without SHACL: {r['seconds']:.1f} s, "
              f"{r['peak_mb']:.0f} MB, {r['triples']:,} triples", flush=True)
        rows.append(dict(size=n, engine="-", measure="release_fast", name="no SHACL, pyoxigraph writer",
                         seconds=r["seconds"], peak_mb=r["peak_mb"], triples=r["triples"]))
        for phase, sec in r["phases"].items():
            rows.append(dict(size=n, engine="-", measure="build_phase", name=f"fast release: {phase}", seconds=sec))
        release = out / "release"
    for w in (args.workers if n <= args.build_max else []):
        out = work / f"out-{n}-w{w}"
        shutil.rmtree(out, ignore_errors=True)
        prof = str(HERE / f"profile-{n}.prof") if (args.profile and w == 1) else None
        r = child(["build", str(corpus / "sources"), str(out), str(w), prof or "-"], timeout=7200)
        print(f"[{label(n)}] cold build, workers={w}: {r['seconds']:.1f} s, {r['peak_mb']:.0f} MB, "
              f"{r['triples']:,} triples", flush=True)
        rows.append(dict(size=n, engine="-", measure="build_cold", name=f"workers={w}", seconds=r["seconds"],
                         peak_mb=r["peak_mb"], triples=r["triples"], note=f"{r['documents']} documents"))
        for phase, sec in r["phases"].items():
            rows.append(dict(size=n, engine="-", measure="build_phase", name=f"workers={w}: {phase.strip()}",
                             seconds=sec))
        release = out / "release"
        last_out, last_w = out, w
    if n <= args.build_max:
        r = child(["build", str(corpus / "sources"), str(last_out), str(last_w), "-"], timeout=7200)
        print(f"[{label(n)}] warm rebuild (SHACL cached), workers={last_w}: {r['seconds']:.1f} s, "
              f"{r['peak_mb']:.0f} MB", flush=True)
        rows.append(dict(size=n, engine="-", measure="build_warm", name=f"workers={last_w}", seconds=r["seconds"],
                         peak_mb=r["peak_mb"], triples=r["triples"]))

    for engine in args.engines:
        slow = engine == "rdflib" and n >= 100_000
        reps = 2 if slow else args.reps
        budget = args.rdflib_budget if engine == "rdflib" else 10.0
        load, results = run_engine(engine, release, queries, reps, budget, args.query_timeout)
        if load is None:
            rows.append(dict(size=n, engine=engine, measure="load", note="failed"))
            print(f"[{label(n)}] {engine}: load failed", flush=True)
            continue
        note = f"N-Quads bulk load {load['nq_load_seconds']:.1f} s" if "nq_load_seconds" in load else ""
        rows.append(dict(size=n, engine=engine, measure="load", seconds=load["load"], peak_mb=load["peak_mb"], note=note))
        print(f"[{label(n)}] {engine}: load {load['load']:.1f} s, {load['peak_mb']:.0f} MB", flush=True)
        for name in queries:
            rec = results[name]
            t = rec["times"]
            rows.append(dict(size=n, engine=engine, measure="query", name=name, kind=rec.get("kind", ""),
                             reps=len(t), median_s=statistics.median(t) if t else None, p95_s=p95(t) if t else None,
                             rows=rec["rows"], note=rec.get("note", "")))
        med = [statistics.median(results[q]["times"]) for q in queries if results[q]["times"]]
        print(f"[{label(n)}] {engine}: {len(med)} queries, slowest median {max(med) * 1000:.0f} ms", flush=True)
    if not args.keep:
        shutil.rmtree(corpus, ignore_errors=True)
        for w in args.workers:
            shutil.rmtree(work / f"out-{n}-w{w}", ignore_errors=True)
        shutil.rmtree(work / f"out-{n}-fast", ignore_errors=True)


def write_csv(rows: list[dict]) -> None:
    with CSV_PATH.open("w", newline="") as fh:
        w = csv.DictWriter(fh, FIELDS)
        w.writeheader()
        for r in rows:
            w.writerow({k: ("" if r.get(k) is None else f"{r[k]:.6g}" if isinstance(r.get(k), float) else r.get(k, ""))
                        for k in FIELDS})


def read_csv() -> list[dict]:
    out = []
    with CSV_PATH.open() as fh:
        for r in csv.DictReader(fh):
            for k in ("size", "reps", "triples", "rows"):
                r[k] = int(r[k]) if r[k] else None
            for k in ("seconds", "median_s", "p95_s", "peak_mb"):
                r[k] = float(r[k]) if r[k] else None
            out.append(r)
    return out


def fmt_time(s: float | None) -> str:
    if s is None:
        return "-"
    return f"{s * 1000:.1f} ms" if s < 1 else f"{s:.1f} s"


def table(rows: list[dict], markdown: bool = False) -> str:
    """One table: a line per measurement, a column per size."""
    sizes = sorted({r["size"] for r in rows})
    lines: dict[tuple, dict] = {}
    for r in rows:
        if r["measure"] == "build_phase":
            continue
        if r["measure"] == "query":
            key = (2, r["name"], r["engine"])
            cell = "-" if r["median_s"] is None else f"{fmt_time(r['median_s'])} / {fmt_time(r['p95_s'])}"
            if r["median_s"] is None and r.get("note"):
                cell = r["note"]
            what = f"query {r['name']} [{r['kind']}] median / p95"
        else:
            order = {"build_cold": 0, "build_warm": 0, "release_fast": 0, "load": 1}[r["measure"]]
            key = (order, r["measure"], r["name"] if r["measure"] != "load" else r["engine"])
            cell = "-" if r["seconds"] is None else (f"{fmt_time(r['seconds'])}, {r['peak_mb']:.0f} MB"
                                                      if r.get("peak_mb") else fmt_time(r["seconds"]))
            what = {"build_cold": f"build cold ({r['name']})", "build_warm": f"build warm, SHACL cached ({r['name']})",
                    "release_fast": "release without SHACL (kg build skipped)", "load": "load"}[r["measure"]]
        engine = r["engine"] if r["engine"] != "-" else ""
        lines.setdefault(key, {"what": what, "engine": engine})[r["size"]] = cell
    for n in sizes:
        tr = next((r["triples"] for r in rows if r["size"] == n and r["measure"] == "build_cold" and r["triples"]), None)
        if tr:
            lines.setdefault((-1, "triples", ""), {"what": "triples in the release", "engine": ""})[n] = f"{tr:,}"
    head = ["measurement", "engine"] + [f"{label(n)} claims" for n in sizes]
    body = [[v["what"], v["engine"]] + [v.get(n, "") for n in sizes] for _, v in sorted(lines.items())]
    if markdown:
        out = ["| " + " | ".join(head) + " |", "|" + "|".join("---" for _ in head) + "|"]
        out += ["| " + " | ".join(c.replace("|", "\\|") for c in r) + " |" for r in body]
        return "\n".join(out)
    widths = [max(len(str(x)) for x in col) for col in zip(head, *body)]
    fmt = lambda r: "  ".join(str(c).ljust(w) for c, w in zip(r, widths)).rstrip()  # noqa: E731
    return "\n".join([fmt(head), fmt(["-" * w for w in widths])] + [fmt(r) for r in body])


def targets(rows: list[dict]) -> list[tuple[str, str, str, str]]:
    """(target, limit, measured, verdict) for the default engine at 10^5 claims."""
    n = TARGET_SIZE
    at = [r for r in rows if r["size"] == n]
    if not at:
        return []
    out = []

    def verdict(value: float | None, limit: float) -> str:
        if value is None:
            return "not measured"
        if value <= limit:
            return f"met ({value / limit:.0%} of the limit)"
        return f"**missed** by {fmt_time(value - limit)} ({value / limit:.1f}x the limit)"

    queries = [r for r in at if r["measure"] == "query" and r["engine"] == DEFAULT_ENGINE]
    for cls in ("lookup", "threshold", "aggregation"):
        group = [r for r in queries if TARGET_CLASS.get(r["kind"]) == cls]
        if not group:
            continue
        limit = TARGETS[cls]
        worst = max(group, key=lambda r: r["median_s"] if r["median_s"] is not None else float("inf"))
        misses = [r["name"] for r in group if r["median_s"] is None or r["median_s"] > limit]
        kinds = sorted({r["kind"] for r in group})
        out.append((f"{cls} queries ({', '.join(kinds)}; {len(group)} queries), median",
                    f"< {fmt_time(limit)}", f"worst: {worst['name']} {fmt_time(worst['median_s'])}",
                    verdict(worst["median_s"], limit) + (f"; over: {', '.join(misses)}" if misses else "")))
    load = next((r for r in at if r["measure"] == "load" and r["engine"] == DEFAULT_ENGINE), None)
    if load:
        out.append(("load (embedded Oxigraph, graph.trig)", f"< {fmt_time(TARGETS['load'])}", fmt_time(load["seconds"]),
                    verdict(load["seconds"], TARGETS["load"])))
    builds = [r for r in at if r["measure"] == "build_cold"]
    if builds and load:
        best = min(builds, key=lambda r: r["seconds"])
        total = best["seconds"] + load["seconds"]
        out.append((f"build + validate + load, cold ({best['name']})", f"< {fmt_time(TARGETS['build+load'])}",
                    f"{fmt_time(best['seconds'])} + {fmt_time(load['seconds'])} = {fmt_time(total)}",
                    verdict(total, TARGETS["build+load"])))
    warm = next((r for r in at if r["measure"] == "build_warm"), None)
    if warm and load:
        total = warm["seconds"] + load["seconds"]
        out.append((f"build + validate + load, warm rebuild ({warm['name']})", f"< {fmt_time(TARGETS['build+load'])}",
                    f"{fmt_time(warm['seconds'])} + {fmt_time(load['seconds'])} = {fmt_time(total)}",
                    verdict(total, TARGETS["build+load"])))
    return out


def plot(rows: list[dict]) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, (left, right) = plt.subplots(1, 2, figsize=(13, 5.5))
    series: dict[str, list[tuple[int, float]]] = {}
    for r in rows:
        if r["measure"] in ("build_cold", "build_warm") and r["seconds"]:
            kind = "cold" if r["measure"] == "build_cold" else "warm (SHACL cached)"
            series.setdefault(f"build {kind}, {r['name']}", []).append((r["size"], r["seconds"]))
        elif r["measure"] == "load" and r["seconds"]:
            series.setdefault(f"load: {r['engine']}", []).append((r["size"], r["seconds"]))
    for name, pts in sorted(series.items()):
        pts.sort()
        left.plot([p[0] for p in pts], [p[1] for p in pts], marker="o", label=name,
                  linestyle="--" if name.startswith("load") else "-")
    left.axhline(TARGETS["build+load"], color="grey", linewidth=0.8, linestyle=":")
    left.axhline(TARGETS["load"], color="grey", linewidth=0.8, linestyle=":")
    left.set_title("Build and load")
    styles = {"oxigraph": "-", "server": "--", "rdflib": ":"}
    colours = dict(zip(PLOT_QUERIES, ["C0", "C1", "C2", "C3", "C4"]))
    for engine in ENGINES:
        for name in PLOT_QUERIES:
            pts = sorted((r["size"], r["median_s"]) for r in rows
                         if r["measure"] == "query" and r["engine"] == engine and r["name"] == name and r["median_s"])
            if pts:
                right.plot([p[0] for p in pts], [p[1] for p in pts], marker="o", linestyle=styles[engine],
                           color=colours[name], label=f"{name} [{engine}]")
    right.axhline(TARGETS["lookup"], color="grey", linewidth=0.8, linestyle=":")
    right.axhline(TARGETS["aggregation"], color="grey", linewidth=0.8, linestyle=":")
    right.set_title("Named queries, median (solid: Oxigraph embedded, dashed: server, dotted: rdflib)")
    for ax in (left, right):
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("claims")
        ax.set_ylabel("seconds")
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(DOC_PNG, dpi=110)


def machine() -> str:
    import pyoxigraph
    import rdflib
    import pyshacl
    freq = psutil.cpu_freq()
    return (f"{platform.processor() or platform.machine()}, {psutil.cpu_count(logical=True)} logical cores"
            f"{f' at {freq.max:.0f} MHz' if freq and freq.max else ''}, {psutil.virtual_memory().total / 2**30:.0f} GB RAM, "
            f"{platform.system()} {platform.release()}; Python {platform.python_version()}, rdflib {rdflib.__version__}, "
            f"pyoxigraph {pyoxigraph.__version__}, pySHACL {pyshacl.__version__}")


def write_docs(rows: list[dict], notes: str = "") -> None:
    phases = [r for r in rows if r["measure"] == "build_phase"]
    md = ["<!-- Generated by benchmarks/benchmark.py from benchmarks/results.csv. Do not edit: rerun the script. -->",
          "# Benchmark", "",
          "> **Generated** by `benchmarks/benchmark.py`; rerun it rather than editing this page.", "",
          "A synthetic corpus (extraction files with the real vocabulary, documents of ~1,500 claims) is built "
          "(ingest + per-document SHACL, `corpus=None`), loaded into each engine, and every named query in "
          "`queries/` is run with its header's example parameters through `kg.query.run`. Each step runs in a "
          "fresh process; peak memory is resident memory sampled every 20 ms (children and the Oxigraph server "
          "included). Query cells: median / p95 over the repetitions (rdflib at 10^5: at most 2 timed runs).", "",
          f"**Machine:** {machine()}. Shared and noisy: expect ±20% between runs.", "",
          "![time against size](benchmark.png)", "", "## Results", "", table(rows, markdown=True), ""]
    t = targets(rows)
    md += ["## Targets (issue 5: default engine = Oxigraph embedded, at 10^5 claims)", ""]
    if t:
        md += ["| target | limit | measured | verdict |", "|---|---|---|---|"]
        md += [f"| {a} | {b} | {c} | {d} |" for a, b, c, d in t]
        md += ["", "Query classes: `threshold` kind -> threshold target; provenance, vocabulary, trial, selection, "
               "prognosis and discordance kinds -> lookup target; aggregation, comparison and disagreement kinds "
               "(they join or group all claims) -> aggregation target."]
    else:
        md.append("Not measured in this run (no 10^5 size).")
    if phases:
        md += ["", "## Where the build time goes (cold build, phases timed by wrapping kg functions)", "",
               "| size | phase | seconds |", "|---|---|---|"]
        md += [f"| {label(r['size'])} | {r['name']} | {r['seconds']:.1f} |" for r in phases]
    if notes:
        md += ["", "## Notes", "", notes.strip()]
    DOC_MD.write_text("\n".join(md) + "\n", encoding="utf-8")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", type=int, nargs="+", help="claim counts (default 10^3 10^4 10^5)")
    ap.add_argument("--max-size", type=int, default=100_000, help="largest size to run (10^6 only if given)")
    ap.add_argument("--workers", type=int, nargs="+", default=[1, 2], help="SHACL workers for the cold builds")
    ap.add_argument("--build-max", type=int, default=10_000,
                    help="above this size skip kg build (hours at 10^5, see docs/benchmark.md) and write a fast release (no SHACL) for the engines")
    ap.add_argument("--engines", nargs="+", default=ENGINES, choices=ENGINES)
    ap.add_argument("--reps", type=int, default=10, help="timed runs per query (after one warm-up)")
    ap.add_argument("--rdflib-budget", type=float, default=20.0, help="seconds per query on rdflib before stopping repetitions")
    ap.add_argument("--query-timeout", type=float, default=300.0, help="kill a query that runs longer (seconds)")
    ap.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "bcmkg-benchmark")
    ap.add_argument("--append", action="store_true", help="keep rows of other sizes already in results.csv")
    ap.add_argument("--profile", action="store_true", help="cProfile the workers=1 cold build (benchmarks/profile-N.prof)")
    ap.add_argument("--keep", action="store_true", help="keep the corpus and builds in --work")
    ap.add_argument("--docs-only", action="store_true", help="only rewrite docs/benchmark.* from results.csv")
    ap.add_argument("--notes", type=Path, help="a markdown file appended to docs/benchmark.md as Notes")
    args = ap.parse_args()
    notes = args.notes.read_text() if args.notes else ""
    if args.docs_only:
        rows = read_csv()
        write_docs(rows, notes)
        plot(rows)
        print(table(rows))
        return
    sizes = [n for n in (args.sizes or DEFAULT_SIZES + [1_000_000]) if n <= args.max_size]
    rows = [r for r in read_csv() if r["size"] not in sizes] if args.append and CSV_PATH.exists() else []
    args.work.mkdir(parents=True, exist_ok=True)
    for n in sizes:
        measure_size(n, args.work, args, rows)
        write_csv(rows)             # after every size, so a long run leaves partial results
    rows = read_csv()
    print()
    print(table(rows))
    write_docs(rows, notes)
    plot(rows)
    print(f"\nwrote {CSV_PATH.relative_to(ROOT)}, {DOC_MD.relative_to(ROOT)}, {DOC_PNG.relative_to(ROOT)}")


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "_task":
        what = sys.argv[2]
        if what == "build":
            src, out, workers, prof = sys.argv[3:7]
            print(json.dumps(task_build(src, out, int(workers), None if prof == "-" else prof)))
        elif what == "release":
            print(json.dumps(task_release(*sys.argv[3:5])))
        elif what == "engine":
            engine, release, reps, budget, *names = sys.argv[3:]
            task_engine(engine, release, names, int(reps), float(budget))
    else:
        main()
