"""The scores file: one final row per search, held rows written last with the alert they joined."""

import numpy as np
import pandas as pd
import pytest

from detector.output import ScoresWriter


def frame(ids, score, alert_ids):
    return pd.DataFrame({"search_id": ids, "score": score, "flagged": [a != "" for a in alert_ids], "alert_id": alert_ids})


@pytest.mark.parametrize("name", ["scores.csv", "scores.parquet"])
def test_held_rows_are_written_last_with_the_alert_they_joined(tmp_path, name):
    writer = ScoresWriter(tmp_path / name)
    writer.write(frame(["a", "b", "c"], [10.0, 70.0, 65.0], ["", "", ""]), np.array([False, True, True]))
    writer.write(frame(["d", "e"], [90.0, 5.0], ["A1", ""]), np.array([False, False]))
    writer.replace(frame(["b"], [70.0], ["A1"]))
    writer.close()
    path = tmp_path / name
    got = pd.read_parquet(path) if name.endswith(".parquet") else pd.read_csv(path, dtype={"alert_id": str}, keep_default_na=False)
    assert got["search_id"].tolist() == ["a", "d", "e", "b", "c"]
    assert got.set_index("search_id")["alert_id"].to_dict() == {"a": "", "d": "A1", "e": "", "b": "A1", "c": ""}
    assert got.set_index("search_id")["flagged"].astype(bool).to_dict() == {"a": False, "d": True, "e": False, "b": True, "c": False}
    assert writer.rows == 5
