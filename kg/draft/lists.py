"""Figures listed in one sentence, read in order.

'1-, 3- and 5-year OS rates of 96.9%, 53.3%, and 17.8%' gives each rate its time point;
'2- and 3-year PFS and OS rates were 82%, 69%, 92%, and 82%' pairs endpoints with time
points; two modalities named for two figures of one unit ('surgery ... chemotherapy (49 vs.
20 months)') give each figure its arm; 'PFS and OS were 27 and 30 months, respectively'
gives each its endpoint.
"""
from __future__ import annotations

import re
from typing import TYPE_CHECKING

from .lexicon import Lexicon, Mention

if TYPE_CHECKING:
    from .figures import Draft

__all__ = ["TIME_LIST", "distribute"]

TIME_LIST = re.compile(r"((?:\d+-?,?\s*(?:and\s+|or\s+)?)*\d+)-(year|month)s?\b", re.I)


def distribute(drafts: list[Draft], text: str, mentions: list[Mention], lex: Lexicon) -> None:
    """Lists read in order: '1-, 3- and 5-year OS rates of 96.9%, 53.3%, and 17.8%'; '2- and 3-year PFS
    and OS rates were 82%, 69%, 92%, and 82%' (endpoints x time points); 'PFS and OS were 27 and 30 months,
    respectively'."""
    groups: dict[tuple[int, int], list[Draft]] = {}
    for d in drafts:
        groups.setdefault(d.span, []).append(d)
    for span, ds in groups.items():
        ds.sort(key=lambda d: d.start)
        body = text[span[0]:span[1]]
        lists = [m for m in TIME_LIST.finditer(text, span[0], span[1]) if len(re.findall(r"\d+", m.group(1))) > 1]
        for i, m in enumerate(lists):
            stop = lists[i + 1].start() if i + 1 < len(lists) else span[1]
            pct = [d for d in ds if m.end() <= d.start < stop and d.fields.get("unit") == "percent"]
            if not pct:
                continue
            times = re.findall(r"\d+", m.group(1))
            ends = list(dict.fromkeys(x.term for x in mentions
                                      if x.field == "endpoint" and m.end() <= x.start < pct[0].start))
            combos = [(e, t) for e in ends for t in times] if len(ends) > 1 else [(None, t) for t in times]
            if len(combos) != len(pct):
                continue
            for d, (endpoint, t) in zip(pct, combos, strict=True):
                d.fields.update(statistic="RateAtTimePoint", time_point=t, time_unit=m.group(2).lower())
                if endpoint:
                    d.fields["endpoint"] = endpoint
                d.needs = [n for n in d.needs if n != "time_point"]
        for d in ds:        # a list of time points left unassigned: the first one, flagged
            if isinstance(d.fields.get("time_point"), list):
                d.fields["time_point"] = d.fields["time_point"][0]
                d.needs.append("time_point")
        mods = list(dict.fromkeys(x.term for x in mentions
                                  if x.field == "modality" and span[0] <= x.start < span[1]))
        if len(mods) > 1 and ds[0].span != (0, 0) and text[span[0]:span[0] + 1] != "\t":
            by_unit: dict[object, list[Draft]] = {}
            for d in ds:
                by_unit.setdefault(d.fields.get("unit"), []).append(d)
            for same in by_unit.values():
                if len(same) == len(mods) and "\t" not in body:
                    for d, modality in zip(same, mods, strict=True):
                        d.fields["modality"] = lex.specific_modality(modality, d.fields.get("site"), body)
                        d.fields["arm"] = next(x.surface for x in mentions if x.term == modality
                                               and span[0] <= x.start < span[1])
        if "respectively" in body and not lists:
            ends = list(dict.fromkeys(x.term for x in mentions
                                      if x.field == "endpoint" and span[0] <= x.start < ds[0].start))
            if len(ends) > 1 and len(ends) == len(ds):
                for d, endpoint in zip(ds, ends, strict=True):
                    d.fields["endpoint"] = endpoint
