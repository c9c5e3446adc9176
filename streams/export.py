"""Writing the store's scores and alerts in the form a replay writes them (spec section 5).

A stream keeps its results in the store; exporting them gives the same two files a
replay of the same data gives, which is how the two are compared.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import sqlalchemy as sa

from detector import store
from detector.output import ScoresWriter, write_alerts

CHUNK = 100_000


def export(store_url: str, out: str | Path, scores_name: str = "scores.csv") -> list[Path]:
    """Write ``out/scores.*`` (ordered by search id) and ``out/alerts.jsonl``; returns the paths."""
    out = Path(out)
    engine = store.open_store(store_url)
    writer = ScoresWriter(out / scores_name)
    try:
        s = store.scores.c
        with engine.connect() as conn:
            result = conn.execution_options(stream_results=True, yield_per=CHUNK).execute(
                sa.select(s.search_id, s.score, s.flagged, s.alert_id).order_by(s.search_id))
            for rows in result.partitions(CHUNK):
                frame = pd.DataFrame(rows, columns=["search_id", "score", "flagged", "alert_id"])
                frame["alert_id"] = frame["alert_id"].fillna("").astype(str)
                frame["flagged"] = frame["flagged"].astype(bool)
                writer.write(frame)
    finally:
        writer.close()
    write_alerts(out / "alerts.jsonl", store.load_alerts(engine))
    engine.dispose()
    return [out / scores_name, out / "alerts.jsonl"]
