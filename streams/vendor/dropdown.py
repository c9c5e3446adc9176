"""Flock's offense-type dropdown, recognised inside a Reason cell.

Since December 2025 Flock makes users pick a category and writes the Reason as
``Category - free text`` (or the bare category, or several joined by ``, ``). Only the
exact labels below count: a free-text reason that happens to contain `` - `` is not a
category, and guessing one would put words in the searcher's mouth. A bare label
counts only when nobody would type it by hand (``Wanted Person (Arrest
Warrant/Fugitive)``): Eugene's free-text era has "Welfare Check" 61 times, months
before the dropdown existed. Labels are those seen in the released logs (San Mateo
PD, Grandville PD) and the spec.
"""

from __future__ import annotations

import re

import pyarrow as pa
import pyarrow.compute as pc

CATEGORIES: tuple[str, ...] = (
    "Alcohol Offenses (Non-DUI)",
    "Assault/Battery Offenses",
    "Assault/Battery Offenses (Domestic)",
    "Burglary/Breaking & Entering",
    "City Planning/Traffic Analysis",
    "Criminal Motor Vehicle Offense (incl. Road Rage/Reckless)",
    "Destruction/Damage/Vandalism of Property",
    "Disorderly Conduct/Disturbance",
    "Driving Under the Influence (DUI/DWI/OWI/OVI)",
    "Drugs/Narcotics",
    "Financial Crime (Embezzlement/Fraud)",
    "Hit and Run/Car Accident",
    "Immigration (civil/administrative)",
    "Kidnapping/Abduction",
    "Larceny/Theft Offenses",
    "Missing/Endangered Person/Runaway",
    "Motor Vehicle Theft/Stolen",
    "Obstructing the Police (Fleeing/Eluding)",
    "Protective/Protection Order",
    "Robbery",
    "Sex Offenses",
    "Stalking",
    "Stolen Property Offenses",
    "Traffic Infraction",
    "Wanted Person (Arrest Warrant/Fugitive)",
    "Weapons Offense (Guns/Shots Fired)",
    "Welfare Check",
)
_LABEL = "|".join(re.escape(c) for c in sorted(CATEGORIES, key=len, reverse=True))
# RE2, for Arrow: the label(s), then optionally " -" and the free text.
_DROPDOWN = rf"(?s)^(?P<labels>(?:{_LABEL})(?:, (?:{_LABEL}))*)(?P<dash> -(?: .*)?)?$"


def categories(reasons: pa.Array) -> pa.Array:
    """The dropdown label(s) each reason starts with, or "" for free text.

    >>> categories(pa.array(["Wanted Person (Arrest Warrant/Fugitive) - warrant", "Immigration (civil/administrative) -",
    ...                      "ICE - ERO", "Welfare Check", "Welfare Check - 415"])).to_pylist()
    ['Wanted Person (Arrest Warrant/Fugitive)', 'Immigration (civil/administrative)', '', '', 'Welfare Check']
    >>> categories(pa.array(["Assault/Battery Offenses, Assault/Battery Offenses (Domestic)"])).to_pylist()
    ['Assault/Battery Offenses, Assault/Battery Offenses (Domestic)']
    """
    parts = pc.extract_regex(reasons, _DROPDOWN)
    labels = pc.fill_null(pc.struct_field(parts, "labels"), "")
    dash = pc.fill_null(pc.struct_field(parts, "dash"), "")
    by_hand = pc.and_(pc.equal(dash, ""), pc.invert(pc.match_substring_regex(labels, r", |[/(]")))
    return pc.if_else(by_hand, pa.scalar("", pa.string()), labels)
