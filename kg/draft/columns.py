"""Column meanings of a table row the OCR left without tabs (document 003's tables).

Such a row reads "Author, ... 2014 45 RFA — 44 — —": the value columns follow the row's
modality. Their meanings come from the header lines under the caption, where the OCR kept
tokens like "A0S" (median OS) and "34E0SHR" (3-year OS; S is read as 5, a common OCR
confusion). Medians are taken to come first, then rates by time point.
"""
from __future__ import annotations

import re

from .contexts import Context
from .lexicon import Mention

__all__ = ["ocr_column"]


def ocr_column(text: str, ctx: Context, mentions: list[Mention], pos: int) -> str:
    """The column label of a figure in an OCR'd row: value columns follow the row's modality, in the
    order the header names them (tokens like 'OS' = median OS, '3...OS' = 3-year OS; S read as 5)."""
    labels = []
    for tok in re.findall(r"\S*[O0]S\S*", ctx.header_text):
        lead = tok[0]
        if lead.isdigit() or (lead == "S" and len(tok) > 3 and tok[1].isalnum() and tok[1] != "O"):
            labels.append((1, int(lead) if lead.isdigit() else 5, f"{lead if lead.isdigit() else 5}-year OS (%)"))
        else:
            labels.append((0, 0, "median OS (months)"))
    labels.sort()
    mods = [m for m in mentions if ctx.start <= m.start < ctx.end and m.field == "modality"]
    if not labels or not mods:
        return ""
    after = [(a, b) for a, b in ctx.cells if a >= mods[0].end]
    value = re.compile(r"^(?:[~<>≤≥]?\d+(?:\.\d+)?%?|[—–=-])$")
    while after and not value.match(text[slice(*after[0])]):
        after.pop(0)                                      # the rest of the modality ("vs. ST")
    column, i = -1, 0
    while i < len(after):
        a, b = after[i]
        if not value.match(text[a:b]):
            break
        if i + 2 < len(after) and re.match(r"v[s5]\.?$", text[slice(*after[i + 1])].lower()):
            end, i = after[i + 2][1], i + 3              # "50 vs. 45" is one cell
        else:
            end, i = b, i + 1
        column += 1
        if a <= pos < end:
            return labels[column][2] if column < len(labels) else ""
    return ""
