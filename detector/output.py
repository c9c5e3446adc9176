"""Writing what the detector gives back (spec section 5): scores and alerts files."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

SCORES_SCHEMA = pa.schema([("search_id", pa.string()), ("score", pa.float64()), ("flagged", pa.bool_()), ("alert_id", pa.string())])


class ScoresWriter:
    """Appends score batches to ``scores.csv`` or ``scores.parquet`` (chosen by extension).

    A flagged search whose episode has not opened an alert yet may join one later
    (``Alerter.add``): the caller marks such rows (or more) to be held back, and they are
    written last, with the alert they joined by then, so that the file holds one final
    row per search.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        if self.path.suffix == ".parquet":
            self._writer = pq.ParquetWriter(self.path, SCORES_SCHEMA)
        else:
            self._writer = pacsv.CSVWriter(self.path, SCORES_SCHEMA, write_options=pacsv.WriteOptions(quoting_style="needed"))
        self.rows = 0
        self._held: list[pd.DataFrame] = []
        self._late: list[pd.DataFrame] = []

    def write(self, frame: pd.DataFrame, hold: np.ndarray | None = None) -> None:
        """Append ``frame``'s rows, except those marked in ``hold``: kept until ``close``."""
        if hold is not None and hold.any():
            self._held.append(frame[hold])
            frame = frame[~hold]
        self._write(frame)

    def replace(self, late: pd.DataFrame) -> None:
        """Rows for searches held back before, now in an alert (``BatchResult.late``)."""
        if len(late):
            self._late.append(late)

    def _write(self, frame: pd.DataFrame) -> None:
        table = pa.Table.from_pandas(frame[list(SCORES_SCHEMA.names)], schema=SCORES_SCHEMA, preserve_index=False)
        self._writer.write_table(table)
        self.rows += len(frame)

    def close(self) -> None:
        """Write the held rows, each replaced by its latest late row if it has one, and close the file."""
        if self._held:
            held = pd.concat(self._held, ignore_index=True)
            if self._late:
                late = pd.concat(self._late, ignore_index=True).drop_duplicates("search_id", keep="last").set_index("search_id")
                joined = held["search_id"].isin(late.index).to_numpy()
                ids = held.loc[joined, "search_id"]
                held.loc[joined, "flagged"] = late.loc[ids, "flagged"].to_numpy()
                held.loc[joined, "alert_id"] = late.loc[ids, "alert_id"].to_numpy()
            self._write(held)
        self._writer.close()


def write_alerts(path: str | Path, records: list[dict]) -> None:
    """One JSON object per line, ordered by first search time then id, for stable diffs."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as fh:
        for r in sorted(records, key=lambda r: (r["first_ts"], r["alert_id"])):
            fh.write(json.dumps(r, ensure_ascii=False) + "\n")
