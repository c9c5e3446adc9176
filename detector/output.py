"""Writing what the detector gives back (spec section 5): scores and alerts files."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

SCORES_SCHEMA = pa.schema([("search_id", pa.string()), ("score", pa.float64()), ("flagged", pa.bool_()), ("alert_id", pa.string())])


class ScoresWriter:
    """Appends score batches to ``scores.csv`` or ``scores.parquet`` (chosen by extension)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        if self.path.suffix == ".parquet":
            self._writer = pq.ParquetWriter(self.path, SCORES_SCHEMA)
        else:
            self._writer = pacsv.CSVWriter(self.path, SCORES_SCHEMA, write_options=pacsv.WriteOptions(quoting_style="needed"))
        self.rows = 0

    def write(self, frame: pd.DataFrame) -> None:
        table = pa.Table.from_pandas(frame[list(SCORES_SCHEMA.names)], schema=SCORES_SCHEMA, preserve_index=False)
        self._writer.write_table(table)
        self.rows += len(frame)

    def close(self) -> None:
        self._writer.close()


def write_alerts(path: str | Path, records: list[dict]) -> None:
    """One JSON object per line, ordered by first search time then id, for stable diffs."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as fh:
        for r in sorted(records, key=lambda r: (r["first_ts"], r["alert_id"])):
            fh.write(json.dumps(r, ensure_ascii=False) + "\n")
