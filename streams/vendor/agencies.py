"""Organisation names as Flock prints them, and the state they name.

Flock spells organisations ``<Place> <ST> PD|SO|FD...`` ("Houston TX PD", "Blaine CO
OK SO", "Mountain View CA PD (Santa Clara County)"), sometimes ``<Name> - GA`` or
``<Name> (CA)``, and federal agencies ``[Federal] <Name>``. The state is read only
from those shapes and only when it is a real state code; otherwise it stays empty
rather than guessed.
"""

from __future__ import annotations

import re
from functools import lru_cache

STATES = frozenset(
    "AL AK AZ AR CA CO CT DE DC FL GA HI ID IL IN IA KS KY LA ME MD MA MI MN MS MO MT NE NV NH NJ NM NY NC ND OH OK "
    "OR PA RI SC SD TN TX UT VT VA WA WV WI WY PR GU VI AS MP".split()
)
_FEDERAL = re.compile(r"^\[federal\]\s*", re.IGNORECASE)
_STATE_IN_NAME = re.compile(r"\b([A-Z]{2})\s+[A-Z]{2,4}(?:\s*\(.*\))?$|\s-\s([A-Z]{2})$|\(([A-Z]{2})\)$")


@lru_cache(maxsize=1 << 16)  # organisations recur in every chunk
def agency_name(org: str) -> str:
    """The organisation without Flock's ``[Federal]`` tag.

    >>> agency_name("[Federal] Federal Bureau of Investigation (FBI)")
    'Federal Bureau of Investigation (FBI)'
    """
    return _FEDERAL.sub("", org.strip())


@lru_cache(maxsize=1 << 16)
def agency_state(org: str) -> str:
    """``US`` for a ``[Federal]`` organisation, else the state its Flock name ends with, if any.

    >>> [agency_state(o) for o in ["[Federal] Federal Bureau of Investigation (FBI)", "Blaine CO OK SO",
    ...     "Mountain View CA PD (Santa Clara County)", "Georgia Attorney General's Office - GA", "California Highway Patrol"]]
    ['US', 'OK', 'CA', 'GA', '']
    """
    org = org.strip()
    if _FEDERAL.match(org):
        return "US"
    match = _STATE_IN_NAME.search(org)
    code = next((g for g in match.groups() if g), "") if match else ""
    return code if code in STATES else ""
