"""The reason taxonomy: what a stated purpose says, and what it avoids saying.

Released logs show both telling reasons ("ICE", "had an abortion") and laundered ones
("investigation", "inv"). Patterns use word boundaries so that "police" or "notice"
never reads as ICE. Classification runs once per distinct reason text, not per
search: logs repeat the same few hundred values millions of times.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

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
    "personal_purpose",  # new ones last: the bits of the others stay as earlier versions wrote them
    "crime_scene",
)
BIT = {name: 1 << i for i, name in enumerate(CATEGORIES)}
# Categories that name a purpose the law or policy singles out: protected activities, and a
# private purpose, which no agency's ALPR policy allows
PROTECTED = ("immigration", "reproductive_health", "gender_affirming_care", "protest_political", "religion", "personal_purpose")


@dataclass(frozen=True)
class Keyword:
    """A regular expression in RE2's syntax, which Arrow runs over every distinct text at once.

    ``unless``: a longer phrase an occurrence may begin, which then does not count (RE2
    has no look-ahead); the keyword is found where it occurs more often than that phrase.
    """

    pattern: str
    ignore_case: bool = True
    unless: str | None = None

    def found(self, texts: pa.Array) -> np.ndarray:
        if self.unless is None:
            return pc.match_substring_regex(texts, self.pattern, ignore_case=self.ignore_case).to_numpy(zero_copy_only=False)
        found, unless = (pc.count_substring_regex(texts, p, ignore_case=self.ignore_case).to_numpy(zero_copy_only=False)
                         for p in (self.pattern, self.unless))
        return found > unless


# Crimes with a victim or a scene: beside a protected word in the reason they name where it
# happened or to whom ("vandalism at mosque", ``crime_scene``), while smuggling, a warrant or fraud
# are also how immigration enforcement is worded; an offence type picked from a list is not beside
# the words (``classify_column``)
_SCENE_CRIMES = (r"arson|theft|stolen|burglar|robbery|vandal|assault|hate crime|shooting|homicide|hit and run|collision|"
                 r"carjack|kidnap|shoplift|larceny|stabbing|domestic|\bdv\b|stalking|harass|restraining order|protective order")

# immigration agencies' acronyms, case-sensitive: "police" or "notice" never match
_IMMIGRATION_AGENCY = Keyword(r"\b(ICE|HSI|ERO|CBP|USCIS|ICE\s*\+\s*ERO)\b", ignore_case=False)

PATTERNS: dict[str, list[Keyword]] = {
    "immigration": [
        _IMMIGRATION_AGENCY,
        Keyword(r"deport|undocumented|border patrol|\b287\s*\(?g\)?|visa overstay|homeland security|"
                r"\b(illegal|criminal|removable|deportable) aliens?\b|\balien (smuggling|registration|removal)|"
                r"\bremoval (order|operation|proceeding|case)s?\b|\bremovable\b|"
                r"\bice\s+(assist|request|case|hold|detainer|warrant|agent|target|operation|referral|lead)|^\W*ice\W*$"),
        # ... not where it names a trade that serves immigrants ("immigration consultant fraud")
        Keyword(r"immigra", unless=r"immigration\s+(consultant|attorney|lawyer|notario|preparer)s?\b"),
    ],
    "reproductive_health": [
        Keyword(r"abortion|planned parenthood|reproductive|pregnan|miscarriage|\bfamily planning|mifepristone|misoprostol|"
                r"women'?s health"),
    ],
    "gender_affirming_care": [
        Keyword(r"gender[- ]affirming|transgender|\btrans(gender)?\s+(care|clinic|person|female|male)|hormone therapy|"
                r"\bgender\s+(clinic|care|health|identity|transition)"),
    ],
    "protest_political": [
        Keyword(r"protest|no kings|\brally\b|demonstrat|activist|antifa|\bblm\b|political|picket|march(ers| for)"),
    ],
    "religion": [
        Keyword(r"mosque|church|synagogue|\btemple\b|muslim|islam|jewish|worship|congregation"),
    ],
    "test_training": [
        Keyword(r"^\W*(test(ing)?|training|train|demo|practice|exercise)\b"),
        Keyword(r"\b(training|trng|test search|demo search)\b"),
        # a test of the system itself, as portals' dropdowns word it ("Administrative Test", "Camera Test")
        Keyword(r"\b(admin|administrative|camera|system|audit|connection|functional)\s+test\b"),
    ],
    "personal_data": [
        Keyword(r"\bDOB\b|\bSSN\b|\b\d{3}-\d{2}-\d{4}\b|\(?\b\d{3}\)?[-.\s]\d{3}[-.\s]\d{4}\b"),
        Keyword(r"\b\d{1,5}\s+\w+\s+(st|street|ave|avenue|rd|road|blvd|dr|drive|ln|lane|way|ct)\b\.?"),
        Keyword(r"search for (a |the )?(female|male|woman|man)\b"),
    ],
    # the officer's own life: a relation of theirs, a private matter, curiosity
    "personal_purpose": [
        Keyword(r"\b(girlfriend|boyfriend|ex[- ]?(wife|husband|girlfriend|boyfriend|partner|gf|bf)|"
                r"my (wife|husband|ex|daughter|son|girlfriend|boyfriend|partner|neighbou?r|friend|family|kids?|"
                r"mother|father|mom|dad|brother|sister|landlord|tenant))\b"),
        Keyword(r"\bpersonal\b", unless=r"\bpersonal\s+(injury|property|identi|info|data|effects|check|belongings|items)"),
        Keyword(r"\bcurio(us|sity)\b|\bjust (checking|looking|curious)\b|\bfor a friend\b|\bfriend asked\b|\bnosy\b"),
    ],
    "crime": [
        Keyword(_SCENE_CRIMES + r"|fraud|threat|trafficking|smuggl|extortion|scam|\bdui\b|weapon|\bgun\b|narcotic|"
                r"\bdrugs?\b|warrant|\b\d{2,5}(\.\d+)?\s*(pc|vc|hs)\b"),
    ],
    "crime_scene": [Keyword(_SCENE_CRIMES + r"|\bvictim")],
    "hotlist": [
        Keyword(r"hot\s*list|\bbolo\b|\bncic\b|\balert\b|amber|silver alert"),
        Keyword(r"\bhit\b", unless=r"\bhit\b\s*(and|&)\s*run"),  # a hotlist hit, not "Hit and Run" or "hit & run"
    ],
}
VAGUE_WORDS = frozenset(
    """investigation investigations investigative investigate inv invest inv. investigation+ investigative+
    case locate locating follow followup follow-up up info information intel other search searching lookup look
    n/a na none unknown misc general check ongoing per request assist police patrol daytime for best result
    criminal crime activity suspicious vehicle veh person of interest poi agency outside allied
    request requested req suspect suspects sus susp id vehicle of interest f/u fu chk random""".split()
)
_CASE_ONLY = re.compile(r"^#?[a-z]{0,4}-?\d[\da-z-]{3,}$", re.IGNORECASE)
_REDACTED = r"^[\s*#xX█-]*$|^\[?redacted\]?$"
_WORD = re.compile(r"[a-z0-9+.#/-]+")
# Masks of the texts seen lately: a stream sees the same few hundred texts batch after batch.
_SEEN_MAX = 1 << 16
_seen: dict[str, int] = {}


def _is_vague_word(word: str) -> bool:
    """A filler word, or any spelling of 'investigation' ('invesigation', 'investigaton', 'inv.')."""
    w = word.strip(".+-#/")
    return w in VAGUE_WORDS or word in VAGUE_WORDS or (w.startswith("inv") and len(w) <= 16 and w.isalpha()) or not w


def _filler(text: str) -> int:
    """Of a text naming no category: filler words around a case number still point to a case;
    filler alone (in a dropdown "Category - free text", both parts) is vague."""
    words = _WORD.findall(text.lower())
    cases = [w for w in words if _CASE_ONLY.match(w) and any(ch.isdigit() for ch in w)]
    if all(_is_vague_word(w) or w in cases for w in words):
        return BIT["case_number_only"] if cases else BIT["vague"]
    return 0


def classify_texts(texts: list[str]) -> np.ndarray:
    """Bitmask of each text's categories, every keyword run over all the texts at once.

    >>> [int(m) for m in classify_texts(["ICE", "DUI", " *** "])] == [BIT["immigration"], BIT["crime"], BIT["missing"]]
    True
    """
    stripped = pc.utf8_trim_whitespace(pa.array(texts, type=pa.string()))
    mask = np.zeros(len(texts), dtype=np.int64)
    for name, keywords in PATTERNS.items():
        for keyword in keywords:
            mask[keyword.found(stripped)] |= BIT[name]
    missing = pc.match_substring_regex(stripped, _REDACTED, ignore_case=True).to_numpy(zero_copy_only=False)
    mask[missing] = BIT["missing"]
    for i in np.flatnonzero(mask == 0):
        mask[i] = _filler(stripped[i].as_py())
    return mask


def classify(text: str) -> int:
    """Bitmask of the reason's categories.

    >>> def names(t): return [c for c in CATEGORIES if classify(t) & BIT[c]]
    >>> names("ICE+ERO"), names("police assist"), names("2025-004512")
    (['immigration'], ['vague'], ['case_number_only'])
    >>> names("had an abortion, search for female")
    ['reproductive_health', 'personal_data']
    >>> names("Immigration (civil/administrative) -")
    ['immigration']
    >>> names("flock hit"), names("Hit and Run/Car Accident - follow up"), names("hit and run, then a flock hit")
    (['hotlist'], ['crime', 'crime_scene'], ['hotlist', 'crime', 'crime_scene'])
    >>> names("Administrative Test"), names("trng"), names("DNA test results")
    (['test_training'], ['test_training'], [])
    >>> names("immigration consultant fraud"), names("immigration hold - consultant")
    (['crime'], ['immigration'])
    >>> names("checking on my ex"), names("personal injury collision")
    (['personal_purpose'], ['crime', 'crime_scene'])
    >>> names("ice"), names("removal operation"), names("black ice collision"), names("snow removal")
    (['immigration'], ['immigration'], ['crime', 'crime_scene'], [])
    >>> names("women's health clinic"), names("gender clinic visitor"), names("susp veh"), names("f/u"), names("random chk")
    (['reproductive_health'], ['gender_affirming_care'], ['vague'], ['vague'], ['vague'])
    >>> names("per req"), names("Other - per req")
    (['vague'], ['vague'])
    """
    return int(classify_texts([text])[0])


def _masks(texts: list[str]) -> np.ndarray:
    """``classify_texts``, remembering the masks of the texts seen lately."""
    masks = np.fromiter((_seen.get(t, -1) for t in texts), dtype=np.int64, count=len(texts))
    new = np.flatnonzero(masks < 0)
    if len(new):
        masks[new] = classify_texts([texts[i] for i in new])
        if len(_seen) + len(new) > _SEEN_MAX:
            _seen.clear()
        _seen.update(zip((texts[i] for i in new), masks[new].tolist()))
    return masks


def classify_column(reason: pd.Series, offense_type: pd.Series | None = None,
                    case_number: pd.Series | None = None) -> np.ndarray:
    """Bitmask per search of ``reason`` (and ``offense_type``), classifying each distinct text once.

    An offence type adds what it names; being empty or vague says nothing about the reason.
    A crime scene it names is not beside the reason's words, and is not added (see ``crime_scene``).
    A case number in an immigration agency's numbering ("HSI-SF-26-0482") adds ``immigration``:
    an officer running lookups for such a case writes "inv" beside it.

    >>> series = lambda *v: pd.Series(v, dtype="str")
    >>> [names_of(m) for m in classify_column(series("inv", "inv"), None, series("HSI-SF-26-0482", "2025-0042"))]
    [['immigration', 'vague'], ['vague']]
    """
    codes, uniques = pd.factorize(reason, sort=False)
    masks = _masks(uniques.tolist())
    out = masks[codes] if len(codes) else np.zeros(0, dtype=np.int64)
    if offense_type is not None:
        ocodes, ouniques = pd.factorize(offense_type, sort=False)
        otexts = ouniques.tolist()
        omask = np.where([bool(t) for t in otexts], _masks(otexts) & ~(BIT["missing"] | BIT["vague"] | BIT["crime_scene"]), 0)
        if len(ocodes):
            extra = omask[ocodes]
            out = np.where(extra & ~BIT["case_number_only"] != 0, (out & ~(BIT["missing"] | BIT["vague"])) | extra, out)
    if case_number is not None and len(case_number):
        ccodes, cuniques = pd.factorize(case_number, sort=False)
        named = _IMMIGRATION_AGENCY.found(pa.array(cuniques.tolist(), type=pa.large_string()))
        out = out | np.where(named[ccodes], BIT["immigration"], 0)
    return out


# A case number field that names no case: no digit but zeros ("N/A", "none", "inv", "0000"),
# or a placeholder run of digits ("1", "123", "12345", "999")
_NO_CASE = (r"^[^1-9]*$|^\s*#?\s*(1|12|123|1234|12345|123456|1234567|12345678|123456789|1234567890"
            r"|1{2,}|2{2,}|3{2,}|4{2,}|5{2,}|6{2,}|7{2,}|8{2,}|9{2,})\s*$")


def gives_case(case_number: pd.Series) -> np.ndarray:
    """Whether each search's case number field names a case.

    Released logs fill the field with "N/A", "none", "0" or "1234" as often as with a case:
    such a value ties the search to no investigation, and counts as no case number.

    >>> gives_case(pd.Series(["2025-012449", "", "N/A", "0000", "1234", "C-9", "DR# 25-1"], dtype="str")).tolist()
    [True, False, False, False, False, True, True]
    """
    values = pa.array(case_number.array, type=pa.string(), from_pandas=True)  # no copy of an Arrow-backed column
    return ~np.asarray(pc.fill_null(pc.match_substring_regex(values, _NO_CASE), True))


def names_of(mask: int) -> list[str]:
    """Category names set in a bitmask."""
    return [c for c in CATEGORIES if mask & BIT[c]]
