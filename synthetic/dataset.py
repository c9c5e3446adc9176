"""A generated dataset in memory, and its layout on disk (spec sections 1 to 4)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from tqdm import tqdm

from detector.schema import FIELDS, INTEGER_FIELDS

from . import exports
from .world import AgencySpec

FORMATS = ("csv", "jsonl", "parquet")


@dataclass
class SyntheticData:
    """Searches in canonical batch form, the reference tables, ground truth, and what renders exports.

    ``roster`` holds hidden traits (role, shift, days off) used to draw the data; it is
    not written, because a detector must not see it.
    """

    searches: pd.DataFrame
    sites: pd.DataFrame
    vehicles: pd.DataFrame
    relations: pd.DataFrame
    agencies: pd.DataFrame
    users: pd.DataFrame
    labels: pd.DataFrame
    roster: pd.DataFrame
    agency_specs: tuple[AgencySpec, ...]
    export_owner: str
    seed: int
    start: pd.Timestamp
    days: int
    switch_date: pd.Timestamp

    def scenario_counts(self) -> pd.DataFrame:
        """Searches and incidents per misuse scenario."""
        g = self.labels.groupby("scenario", sort=True)
        return pd.DataFrame({"searches": g.size(), "incidents": g["incident_id"].nunique()})

    def write(self, out_dir: str | Path, format: str = "csv", xlsx: bool = False, progress: bool = False) -> list[Path]:
        """Write searches, reference files, labels and vendor exports into ``out_dir``; return the paths."""
        if format not in FORMATS:
            raise ValueError(f"format must be one of {', '.join(FORMATS)}, not {format!r}")
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        written: list[Path] = []
        bar = tqdm(total=10 + xlsx, desc="write", unit="file", disable=not progress, leave=False)

        def path(name: str) -> Path:
            if written:
                bar.update()
            written.append(out / name)
            return out / name

        if format == "csv":
            exports.write_csv(searches_as_text(self.searches), path("searches.csv"))
        elif format == "jsonl":
            searches_as_json(self.searches).to_json(path("searches.jsonl"), orient="records", lines=True,
                                                   force_ascii=False)
        else:
            self.searches.to_parquet(path("searches.parquet"), index=False)
        for name in ("sites", "vehicles", "relations", "agencies", "users", "labels"):
            exports.write_csv(getattr(self, name), path(f"{name}.csv"))
        audit = exports.network_audit(self)
        exports.write_csv(audit, path("flock_network_audit.csv"))
        exports.write_csv(exports.portal(self), path(exports.portal_filename(self)), quote_all=True)
        if xlsx:
            exports.write_xlsx(audit, path("flock_network_audit.xlsx"), progress)
        bar.update()
        bar.close()
        return written


def _number_text(values: np.ndarray) -> np.ndarray:
    """Whole numbers without a trailing '.0', empty where missing."""
    missing = np.isnan(values)
    v = np.nan_to_num(values)
    whole = v == np.round(v)
    text = np.where(whole, v.astype(np.int64).astype(str), v.astype(str))
    return np.where(missing, "", text)


def searches_as_text(searches: pd.DataFrame) -> pd.DataFrame:
    """Every field as text: ISO-8601 UTC with 'Z' for times, empty strings for missing values."""
    out = {}
    for f in FIELDS:
        col = searches[f.name]
        if f.kind == "ts":
            unit = "ms" if f.name == "ts" else "s"
            text = np.datetime_as_string(col.to_numpy(dtype="datetime64[ns]"), unit=unit, timezone="UTC")
            out[f.name] = np.where(col.isna().to_numpy(), "", text)
        elif f.kind == "num":
            out[f.name] = _number_text(col.to_numpy(dtype=float))
        else:
            out[f.name] = col.to_numpy()
    return pd.DataFrame(out)


def searches_as_json(searches: pd.DataFrame) -> pd.DataFrame:
    """Like the text form, but counts as JSON integers and missing numbers as null."""
    out = searches_as_text(searches)
    for name in ("lat", "lon", "radius_m"):
        out[name] = searches[name]
    for name in INTEGER_FIELDS:
        out[name] = searches[name].round().astype("Int64")
    return out
