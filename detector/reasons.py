"""The reason taxonomy: what a stated purpose says, and what it avoids saying.

Released logs show both telling reasons ("ICE", "had an abortion") and laundered ones
("investigation", "inv"). Patterns use word boundaries so that "police" or "notice"
never reads as ICE. Classification runs once per distinct reason text, not per
search: logs repeat the same few hundred values millions of times.
"""

from __future__ import annotations

import re
from functools import lru_cache

import numpy as np
import pandas as pd

# Bit per category; a reason can carry several.
CATEGORIES: tuple[str, ...] = (
    "immigration",
    "reproductive_health",
    "gender_affirming_care",
    "protest_political",
    "religion",
    "vague",
    "test_training",
    "case_number_only",
    "personal_data",
    "missing",
    "hotlist",
    "crime",
)
BIT = {name: 1 << i for i, name in enumerate(CATEGORIES)}
# Categories that name a purpose the law or policy singles out.
PROTECTED = ("immigration", "reproductive_health", "gender_affirming_care", "protest_political", "religion")

_I = re.IGNORECASE
PATTERNS: dict[str, list[re.Pattern[str]]] = {
    "immigration": [
        re.compile(r"\b(ICE|HSI|ERO|CBP|USCIS|ICE\s*\+\s*ERO)\b"),  # acronyms: case-sensitive
        re.compile(r"immigra|deport|undocumented|illegal alien|border patrol|\b287\s*\(?g\)?|visa overstay|removal order|\bice\s+(assist|request|case|hold|detainer|warrant)|homeland security", _I),
    ],
    "reproductive_health": [
        re.compile(r"abortion|planned parenthood|reproductive|pregnan|miscarriage|\bfamily planning", _I),
    ],
    "gender_affirming_care": [
        re.compile(r"gender[- ]affirming|transgender|\btrans(gender)?\s+(care|clinic|person|female|male)|hormone therapy", _I),
    ],
    "protest_political": [
        re.compile(r"protest|no kings|\brally\b|demonstrat|activist|antifa|\bblm\b|political|picket|march(ers| for)", _I),
    ],
    "religion": [
        re.compile(r"mosque|church|synagogue|\btemple\b|muslim|islam|jewish|worship|congregation", _I),
    ],
    "test_training": [
        re.compile(r"^\W*(test(ing)?|training|train|demo|practice|exercise)\b", _I),
        re.compile(r"\b(training|test search|demo search)\b", _I),
    ],
    "personal_data": [
        re.compile(r"\bDOB\b|\bSSN\b|\b\d{3}-\d{2}-\d{4}\b|\(?\b\d{3}\)?[-.\s]\d{3}[-.\s]\d{4}\b", _I),
        re.compile(r"\b\d{1,5}\s+\w+\s+(st|street|ave|avenue|rd|road|blvd|dr|drive|ln|lane|way|ct)\b\.?", _I),
        re.compile(r"\b(girlfriend|boyfriend|ex[- ]wife|ex[- ]husband|my (wife|husband|ex|daughter|son))\b", _I),
        re.compile(r"search for (a |the )?(female|male|woman|man)\b", _I),
    ],
    "crime": [
        re.compile(r"fraud|arson|theft|stolen|burglar|robbery|vandal|assault|threat|hate crime|shooting|homicide|"
                   r"trafficking|smuggl|extortion|scam|hit and run|collision|\bdui\b|carjack|kidnap|shoplift|larceny|"
                   r"stabbing|weapon|\bgun\b|narcotic|\bdrugs?\b|warrant|\b\d{2,5}(\.\d+)?\s*(pc|vc|hs)\b", _I),
    ],
    "hotlist": [
        # "hit" as in a hotlist hit, not "Hit and Run" or "hit & run"
        re.compile(r"hot\s*list|\bbolo\b|\bncic\b|\balert\b|\bhit\b(?!\s*(and|&)\s*run)|amber|silver alert", _I),
    ],
}
VAGUE_WORDS = frozenset(
    """investigation investigations investigative investigate inv invest inv. investigation+ investigative+
    case locate locating follow followup follow-up up info information intel other search searching lookup look
    n/a na none unknown misc general check ongoing per request assist police patrol daytime for best result
    criminal crime activity suspicious vehicle veh person of interest poi agency outside allied
    request requested suspect suspects sus id vehicle of interest""".split()
)
_CASE_ONLY = re.compile(r"^#?[a-z]{0,4}-?\d[\da-z-]{3,}$", _I)
_REDACTED = re.compile(r"^[\s*#xX█-]*$|^\[?redacted\]?$", _I)
_WORD = re.compile(r"[a-z0-9+.#/-]+")


def _is_vague_word(word: str) -> bool:
    """A filler word, or any spelling of 'investigation' ('invesigation', 'investigaton', 'inv.')."""
    w = word.strip(".+-#/")
    return w in VAGUE_WORDS or word in VAGUE_WORDS or (w.startswith("inv") and len(w) <= 16 and w.isalpha()) or not w


def classify(text: str) -> int:
    """Bitmask of the reason's categories.

    >>> def names(t): return [c for c in CATEGORIES if classify(t) & BIT[c]]
    >>> names("ICE+ERO"), names("police assist"), names("2025-004512")
    (['immigration'], ['vague'], ['case_number_only'])
    >>> names("had an abortion, search for female")
    ['reproductive_health', 'personal_data']
    >>> names("Immigration (civil/administrative) -")
    ['immigration']
    >>> names("flock hit"), names("Hit and Run/Car Accident - follow up")
    (['hotlist'], ['crime'])
    """
    t = text.strip()
    if not t or _REDACTED.match(t):
        return BIT["missing"]
    mask = 0
    for name, patterns in PATTERNS.items():
        if any(p.search(t) for p in patterns):
            mask |= BIT[name]
    # Filler words around a case number still point to a case; filler alone (in a dropdown
    # "Category - free text", both parts) is vague.
    words = _WORD.findall(t.lower())
    cases = [w for w in words if _CASE_ONLY.match(w) and any(ch.isdigit() for ch in w)]
    if not mask and all(_is_vague_word(w) or w in cases for w in words):
        mask |= BIT["case_number_only"] if cases else BIT["vague"]
    return mask


@lru_cache(maxsize=1 << 16)
def _reason_mask(text: str) -> int:
    return classify(text)


@lru_cache(maxsize=1 << 12)
def _offense_mask(text: str) -> int:
    """An offence type adds what it names; being empty or vague says nothing about the reason."""
    return classify(text) & ~(BIT["missing"] | BIT["vague"]) if text else 0


def classify_column(reason: pd.Series, offense_type: pd.Series | None = None) -> np.ndarray:
    """Bitmask per search of ``reason`` (and ``offense_type``), classifying each distinct text once.

    Masks are remembered across batches (bounded), since a stream sees the same texts
    in batch after batch.
    """
    codes, uniques = pd.factorize(reason, sort=False)
    texts = uniques.tolist()
    masks = np.fromiter(map(_reason_mask, texts), dtype=np.int64, count=len(texts))
    out = masks[codes] if len(codes) else np.zeros(0, dtype=np.int64)
    if offense_type is not None:
        ocodes, ouniques = pd.factorize(offense_type, sort=False)
        otexts = ouniques.tolist()
        omask = np.fromiter(map(_offense_mask, otexts), dtype=np.int64, count=len(otexts))
        if len(ocodes):
            extra = omask[ocodes]
            out = np.where(extra & ~BIT["case_number_only"] != 0, (out & ~(BIT["missing"] | BIT["vague"])) | extra, out)
    return out


def names_of(mask: int) -> list[str]:
    """Category names set in a bitmask."""
    return [c for c in CATEGORIES if mask & BIT[c]]
