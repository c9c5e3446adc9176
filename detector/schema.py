"""The canonical search event (spec section 1) and the batch form every source is mapped into.

A batch is a pandas DataFrame holding exactly ``FIELD_NAMES`` with these dtypes:
strings as ``str`` with ``""`` for missing, timestamps as ``datetime64[ns, UTC]``
(``NaT`` for missing), numbers as ``float64`` (``NaN`` for missing). One form means the
file reader, the vendor adapters and the Kafka consumer all hand the detector the
same thing, so replay and streaming run the same code.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class Field:
    name: str
    kind: str  # "str", "ts" or "num"
    required: bool = False


FIELDS: tuple[Field, ...] = (
    Field("search_id", "str", True),
    Field("ts", "ts", True),
    Field("user_id", "str", True),
    Field("agency", "str", True),
    Field("agency_state", "str"),
    Field("search_type", "str"),
    Field("plate", "str"),
    Field("plate_state", "str"),
    Field("lat", "num"),
    Field("lon", "num"),
    Field("radius_m", "num"),
    Field("window_start", "ts"),
    Field("window_end", "ts"),
    Field("reason", "str"),
    Field("offense_type", "str"),
    Field("case_number", "str"),
    Field("on_behalf_of", "str"),
    Field("networks_searched", "num"),
    Field("devices_searched", "num"),
    Field("results", "num"),
)
FIELD_NAMES: tuple[str, ...] = tuple(f.name for f in FIELDS)
REQUIRED: tuple[str, ...] = tuple(f.name for f in FIELDS if f.required)
BY_NAME: dict[str, Field] = {f.name: f for f in FIELDS}
INTEGER_FIELDS = ("networks_searched", "devices_searched", "results")

SEARCH_TYPES = ("plate", "partial_plate", "area", "convoy", "attributes", "hotlist", "other")

# Reference files of spec section 2: name -> required columns.
REFERENCE_FILES: dict[str, tuple[str, ...]] = {
    "sites": ("site_id", "category", "name", "lat", "lon", "radius_m"),
    "vehicles": ("plate", "household_id", "owner_surname"),
    "relations": ("plate_a", "plate_b", "kind"),
    "agencies": ("agency", "state", "kind"),
    "users": ("user_id", "agency", "surname"),
}
SITE_CATEGORIES = (
    "reproductive_health",
    "gender_affirming_care",
    "place_of_worship",
    "immigration_services",
    "shelter",
    "medical",
    "school",
    "protest",
    "other",
)
LABEL_COLUMNS = ("search_id", "scenario", "incident_id")
SCORE_COLUMNS = ("search_id", "score", "flagged", "alert_id")
SEVERITIES = ("low", "medium", "high", "critical")


def normalize_plates(values: pd.Series) -> pd.Series:
    """Upper case without spaces or dashes, so that 'abc-123' and 'ABC 123' are one plate.

    >>> normalize_plates(pd.Series(["abc-123", " 7 XYZ 9 ", ""])).tolist()
    ['ABC123', '7XYZ9', '']
    """
    return values.astype(str).str.upper().str.replace(r"[ \t\r\n-]+", "", regex=True)


def empty_batch() -> pd.DataFrame:
    """A batch with no rows and the canonical dtypes."""
    cols: dict[str, pd.Series] = {}
    for f in FIELDS:
        if f.kind == "str":
            cols[f.name] = pd.Series([], dtype=str)
        elif f.kind == "ts":
            cols[f.name] = pd.Series([], dtype="datetime64[ns, UTC]")
        else:
            cols[f.name] = pd.Series([], dtype=np.float64)
    return pd.DataFrame(cols)


def plain_columns(batch: pd.DataFrame, ts: Callable[[pd.Timestamp], object]) -> dict[str, list]:
    """The batch's fields as lists of plain Python values, for JSON or a database driver:
    strings as they are, timestamps through ``ts``, whole-number fields as ints, missing as None.

    >>> cols = plain_columns(empty_batch(), ts=lambda v: v.isoformat())
    >>> list(cols) == list(FIELD_NAMES), cols["ts"]
    (True, [])
    """
    columns: dict[str, list] = {}
    for f in FIELDS:
        col = batch[f.name]
        if f.kind == "str":
            columns[f.name] = col.tolist()
        elif f.kind == "ts":
            columns[f.name] = [None if pd.isna(v) else ts(v) for v in col]
        elif f.name in INTEGER_FIELDS:
            columns[f.name] = [None if math.isnan(v) else int(v) for v in col.tolist()]
        else:
            columns[f.name] = [None if math.isnan(v) else v for v in col.tolist()]
    return columns


# Instants are int64 nanoseconds since the epoch in the kernels, the state and the alerts.
NS_HOUR = 3_600_000_000_000
NS_DAY = 24 * NS_HOUR


def ts_ns(column: pd.Series) -> np.ndarray:
    """Nanoseconds since the epoch as int64, the form the numba kernels take."""
    return column.to_numpy(dtype="datetime64[ns]").view(np.int64)
