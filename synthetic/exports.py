"""The same searches as vendors hand them out in public-records releases (spec section 4).

Adapters are tested against these renderings, so they keep the quirks of real files:
headers with a leading space, two-line ``Time Frame`` cells, the ``——`` sentinel,
``[Federal]`` organisation names, ``***`` for other agencies' rows since December 2025,
repeated IDs, and Flock's own search-type names.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from functools import reduce
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from tqdm import tqdm

if TYPE_CHECKING:
    from .dataset import SyntheticData

# Rows of other agencies lose Name, plate and case number from this date on.
REDACTION_START = pd.Timestamp("2025-12-01", tz="UTC")
DEVICES_SENTINEL = "——"
NETWORK_AUDIT_COLUMNS = (
    "ID", " Name", " Org Name", "Total Networks Searched", " Total Devices Searched", "Time Frame",
    " License Plate", "Reason", "Case #", "Filters", " Search Time", "Search Type", "Text Prompt", "Moderation",
)
PORTAL_COLUMNS = ("id", "userId", "searchDate", "networkCount", "reason")
# Canonical search_type -> Flock "Search Type" values and how often each is seen.
FLOCK_SEARCH_TYPES: dict[str, dict[str, float]] = {
    "plate": {"lookup": 0.75, "lookup - Mobile": 0.18, "apiLookup": 0.07},
    "partial_plate": {"search": 0.8, "search - Mobile": 0.2},
    "area": {"multiGeo": 0.4, "search": 0.6},
    "attributes": {"visual": 0.6, "search": 0.4},
    "convoy": {"convoy": 1.0},
    "hotlist": {"lookup": 1.0},
    "other": {"freeform": 0.5, "searchSummary": 0.25, "mostSeenOcrValues": 0.25},
}
_VEHICLE_FILTERS = (
    "Vehicle Type: Sedan; Color: White", "Vehicle Type: Pickup; Color: Black", "Make: Toyota; Color: Silver",
    "Make: Honda; Vehicle Type: Sedan", "Vehicle Type: SUV; Color: Gray", "Make: Nissan; Color: Red",
    "Vehicle Type: Van; Color: White", "Make: Ford; Vehicle Type: Pickup",
)
_PROMPTS = (
    "white pickup with ladder rack", "dark sedan with damaged rear bumper", "red hatchback roof rack",
    "silver minivan missing hubcap", "black SUV tinted windows",
)


def _cat(*parts: np.ndarray | str) -> np.ndarray:
    return reduce(np.char.add, [np.asarray(p, dtype=str) for p in parts])


def flock_time(values: pd.Series) -> np.ndarray:
    """``01/31/2022, 11:26:24 PM UTC`` as in Flock exports; empty where the time is missing."""
    idx = pd.DatetimeIndex(values).tz_convert("UTC")
    missing = idx.isna()
    idx = idx.fillna(pd.Timestamp(0, tz="UTC"))
    hour = idx.hour.to_numpy()
    h12 = np.where(hour % 12 == 0, 12, hour % 12)

    def z(a: np.ndarray, width: int = 2) -> np.ndarray:
        return np.char.zfill(a.astype(str), width)

    text = _cat(z(idx.month.to_numpy()), "/", z(idx.day.to_numpy()), "/", idx.year.to_numpy().astype(str), ", ",
                z(h12), ":", z(idx.minute.to_numpy()), ":", z(idx.second.to_numpy()), " ",
                np.where(hour < 12, "AM", "PM"), " UTC")
    return np.where(missing, "", text)


def _choose(rng: np.random.Generator, table: dict[str, float], n: int) -> np.ndarray:
    return np.array(list(table), dtype=object)[rng.choice(len(table), n, p=list(table.values()))]


def network_audit(data: SyntheticData) -> pd.DataFrame:
    """Flock Network Audit export of the owner's network: every search that reached it.

    That is the owner's own searches, other agencies' statewide and nationwide ones,
    and regional ones from the owner's own region.
    """
    rng = np.random.default_rng([data.seed, 4])
    s = data.searches
    specs = {a.name: a for a in data.agency_specs}
    owner = specs[data.export_owner]
    regional = s["agency"].map({k: a.regional for k, a in specs.items()}).to_numpy(dtype=float)
    region = s["agency"].map({k: a.region for k, a in specs.items()}).to_numpy(dtype=object)
    nets = s["networks_searched"].to_numpy()
    own = (s["agency"] == owner.name).to_numpy()
    reached = own | (nets > regional + 5) | ((region == owner.region) & (nets > 1))
    s = s[reached]
    n = len(s)
    names = data.roster.set_index("user_id")
    full_name = (names["first_name"] + " " + names["surname"]).reindex(s["user_id"]).fillna("").to_numpy()
    federal = (s["agency_state"] == "US").to_numpy()
    org = np.where(federal, "[Federal] " + s["agency"].to_numpy(dtype=object), s["agency"].to_numpy(dtype=object))
    redact = ~s["agency"].eq(owner.name).to_numpy() & (s["ts"] >= REDACTION_START).to_numpy()
    devices = s["devices_searched"].to_numpy()
    stype = s["search_type"].to_numpy(dtype=object)
    flock_type = np.empty(n, dtype=object)
    for canonical, table in FLOCK_SEARCH_TYPES.items():
        sel = stype == canonical
        flock_type[sel] = _choose(rng, table, int(sel.sum()))
    radius = s["radius_m"].to_numpy()
    filters = np.select(
        [stype == "area", stype == "attributes", stype == "hotlist", stype == "convoy"],
        [_cat("Radius: ", np.nan_to_num(radius).astype(int).astype(str), " m"),
         _choose(rng, dict.fromkeys(_VEHICLE_FILTERS, 1 / len(_VEHICLE_FILTERS)), n),
         "Hot List", "Convoy Analysis"], "",
    )
    prompt = np.where(flock_type == "freeform", _choose(rng, dict.fromkeys(_PROMPTS, 1 / len(_PROMPTS)), n), "")
    window = np.where(s["window_start"].isna().to_numpy(), "",
                      _cat(flock_time(s["window_start"]), "\n", flock_time(s["window_end"])))
    out = pd.DataFrame({
        "ID": s["search_id"].to_numpy(),
        " Name": np.where(redact, "***", full_name),
        " Org Name": org,
        "Total Networks Searched": nets[reached].astype(np.int64).astype(str),
        " Total Devices Searched": np.where(np.isnan(devices), DEVICES_SENTINEL,
                                            np.nan_to_num(devices).astype(np.int64).astype(str)),
        "Time Frame": window,
        " License Plate": np.where(redact & (s["plate"] != "").to_numpy(), "***", s["plate"].to_numpy(dtype=object)),
        "Reason": s["reason"].to_numpy(),
        "Case #": np.where(redact & (s["case_number"] != "").to_numpy(), "***",
                           s["case_number"].to_numpy(dtype=object)),
        "Filters": filters,
        " Search Time": flock_time(s["ts"]),
        "Search Type": flock_type,
        "Text Prompt": prompt,
        "Moderation": "",
    }, columns=list(NETWORK_AUDIT_COLUMNS))
    # The same search is sometimes listed twice; newest first, as the export sorts.
    dup = np.flatnonzero(rng.random(n) < 0.003)
    order = np.argsort(-np.concatenate([np.arange(n), dup]), kind="stable")
    return pd.concat([out, out.iloc[dup]], ignore_index=True).iloc[order].reset_index(drop=True)


def portal(data: SyntheticData) -> pd.DataFrame:
    """Transparency-portal search audit of the owner's own users over the last 30 days."""
    s = data.searches
    end = s["ts"].max()
    mine = s[(s["agency"] == data.export_owner) & (s["ts"] > end - pd.Timedelta(days=30))]
    ts = mine["ts"].to_numpy(dtype="datetime64[ns]")
    redact = (mine["ts"] >= REDACTION_START).to_numpy()
    return pd.DataFrame({
        "id": mine["search_id"].to_numpy(),
        "userId": np.where(redact, "***", mine["user_id"].to_numpy(dtype=object)),
        "searchDate": np.datetime_as_string(ts, unit="ms", timezone="UTC"),
        "networkCount": mine["networks_searched"].to_numpy().astype(np.int64).astype(str),
        "reason": mine["reason"].to_numpy(),
    }, columns=list(PORTAL_COLUMNS))


def portal_filename(data: SyntheticData) -> str:
    """Portal downloads carry no agency column, so the file name says whose portal it is."""
    slug = {a.name: a.slug for a in data.agency_specs}[data.export_owner]
    return f"flock_portal_{slug}.csv"


def write_csv(frame: pd.DataFrame, path: Path, quote_all: bool = False) -> None:
    """UTF-8 with ``\\n`` line ends; portal downloads quote every field, the other files only where needed."""
    frame.to_csv(path, index=False, quoting=csv.QUOTE_ALL if quote_all else csv.QUOTE_MINIMAL, lineterminator="\n")


def write_xlsx(frame: pd.DataFrame, path: Path, progress: bool = False) -> None:
    """The export as a workbook, byte-identical for identical input (fixed zip and document times)."""
    from openpyxl import Workbook

    wb = Workbook(write_only=True)
    ws = wb.create_sheet("Network Audit")
    ws.append(list(frame.columns))
    cells = frame.astype(object)
    for name in ("Total Networks Searched", " Total Devices Searched"):  # counts are numbers in workbooks
        digits = frame[name].str.fullmatch(r"\d+").to_numpy()
        values = cells[name].to_numpy().copy()
        values[digits] = [int(v) for v in frame[name].to_numpy()[digits]]
        cells[name] = values
    rows = cells.itertuples(index=False, name=None)
    for row in tqdm(rows, total=len(frame), desc="xlsx", unit="row", disable=not progress, leave=False):
        ws.append(row)
    fixed = pd.Timestamp("2026-01-01").to_pydatetime()
    wb.properties.created = fixed
    buffer = io.BytesIO()
    wb.save(buffer)
    stamp = re.compile(rb"(<dcterms:modified[^>]*>)[^<]*(</dcterms:modified>)")
    with zipfile.ZipFile(io.BytesIO(buffer.getvalue())) as src, \
            zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            body = src.read(info.filename)
            if info.filename == "docProps/core.xml":
                body = stamp.sub(rb"\g<1>2026-01-01T00:00:00Z\g<2>", body)
            dst.writestr(zipfile.ZipInfo(info.filename, date_time=(1980, 1, 1, 0, 0, 0)), body,
                         compress_type=zipfile.ZIP_DEFLATED)
