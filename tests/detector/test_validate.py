import json

import numpy as np
import pandas as pd
import pytest

from detector.validate import Deduplicator, InputError, RejectCounter, RejectFile, canonicalize
from streams.files import read_searches

HEADER = "search_id,ts,user_id,agency,plate,lat,networks_searched,search_type\n"


def write(tmp_path, text, name="searches.csv", mode="w"):
    p = tmp_path / name
    if mode == "wb":
        p.write_bytes(text)
    else:
        p.write_text(text, encoding="utf-8")
    return p


def read_all(path, sink):
    return pd.concat(list(read_searches(path, sink)), ignore_index=True)


def test_valid_rows_convert_to_canonical_types(tmp_path):
    p = write(tmp_path, HEADER + "a,2025-06-18 00:02:04.789,u1,PD,ab-12 3,37.5,449,PLATE\n")
    batch = read_all(p, RejectCounter())
    assert batch["ts"].iloc[0] == pd.Timestamp("2025-06-18 00:02:04.789", tz="UTC")  # zone-less is UTC
    assert batch["plate"].iloc[0] == "AB123"
    assert batch["networks_searched"].iloc[0] == 449.0
    assert batch["search_type"].iloc[0] == "plate"
    assert str(batch["ts"].dtype) == "datetime64[ns, UTC]"


def test_offsets_are_converted_to_utc(tmp_path):
    p = write(tmp_path, HEADER + "a,2025-06-18T08:00:00-07:00,u1,PD,,,,\n")
    assert read_all(p, RejectCounter())["ts"].iloc[0] == pd.Timestamp("2025-06-18T15:00:00Z")


@pytest.mark.parametrize(
    "row, line_field",
    [
        ("b,not-a-time,u1,PD,X,,,", "ts"),
        ("b,2025-06-18T00:00:00Z,u1,PD,X,north,,", "lat"),
        ("b,2025-06-18T00:00:00Z,u1,PD,X,95,,", "lat"),
        ("b,2025-06-18T00:00:00Z,u1,PD,X,,2.5,", "networks_searched"),
        ("b,2025-06-18T00:00:00Z,u1,,X,,,", "agency"),
        ("b,2025-06-18T00:00:00Z,u1,PD,X,,,teleport", "search_type"),
    ],
)
def test_bad_values_are_rejected_with_file_line_and_field(tmp_path, row, line_field):
    p = write(tmp_path, HEADER + "a,2025-06-18T00:00:00Z,u1,PD,X,,,\n" + row + "\n")
    sink = RejectCounter()
    batch = read_all(p, sink)
    assert batch["search_id"].tolist() == ["a"]
    (r,) = sink.items
    assert (r.source, r.line, r.field) == (str(p), 3, line_field)
    assert line_field in r.reason
    assert json.loads(r.raw)["search_id"] == "b"


def test_missing_required_column_names_file_and_column(tmp_path):
    p = write(tmp_path, "search_id,user_id,agency\na,u,PD\n")
    with pytest.raises(InputError, match=r"searches.csv: line 1: missing required column\(s\) 'ts'"):
        read_all(p, RejectCounter())


def test_empty_file_is_an_error(tmp_path):
    p = write(tmp_path, "")
    with pytest.raises(InputError, match="searches.csv: the file is empty"):
        read_all(p, RejectCounter())


def test_wrong_encoding_names_the_line(tmp_path):
    data = (HEADER + "a,2025-06-18T00:00:00Z,u1,PD,X,,,\n").encode() + "b,2025-06-18T00:00:00Z,Mu\u00f1oz,PD,X,,,\n".encode("latin-1")
    p = write(tmp_path, data, mode="wb")
    with pytest.raises(InputError, match=r"searches.csv: line 3: not UTF-8"):
        read_all(p, RejectCounter())


def test_rejects_file_holds_reason_and_raw_row(tmp_path):
    p = write(tmp_path, HEADER + "a,yesterday,u1,PD,X,,,\n")
    with RejectFile(tmp_path / "rejects.csv") as sink:
        read_all(p, sink)
    rej = pd.read_csv(tmp_path / "rejects.csv", dtype=str)
    assert rej.columns.tolist() == ["source", "line", "field", "reason", "raw"]
    assert rej.loc[0, "line"] == "2" and rej.loc[0, "field"] == "ts"
    assert "yesterday" in rej.loc[0, "reason"] and "yesterday" in rej.loc[0, "raw"]


def test_jsonl_bad_line_is_rejected_and_others_kept(tmp_path):
    good = json.dumps({"search_id": "a", "ts": "2025-06-18T00:00:00Z", "user_id": "u", "agency": "PD", "results": 3})
    bad_type = json.dumps({"search_id": "c", "ts": 12, "user_id": "u", "agency": "PD"})
    p = write(tmp_path, good + "\n{not json\n" + bad_type + "\n", name="searches.jsonl")
    sink = RejectCounter()
    batch = read_all(p, sink)
    assert batch["search_id"].tolist() == ["a"] and batch["results"].tolist() == [3.0]
    assert [(r.line, r.field) for r in sink.items] == [(2, ""), (3, "ts")]


def test_parquet_with_typed_columns(tmp_path):
    frame = pd.DataFrame({"search_id": ["a", "b"], "ts": pd.to_datetime(["2025-01-01T00:00:00Z", "2025-01-02T00:00:00Z"]),
                          "user_id": ["u", "u"], "agency": ["PD", "PD"], "networks_searched": [1, 30]})
    frame.to_parquet(tmp_path / "searches.parquet")
    batch = read_all(tmp_path, RejectCounter())  # a dataset directory works too
    assert batch["networks_searched"].tolist() == [1.0, 30.0]
    assert batch["ts"].iloc[1] == pd.Timestamp("2025-01-02", tz="UTC")


def test_redacted_users_are_empty_and_redacted_plates_withheld():
    raw = pd.DataFrame({"search_id": list("abcde"), "ts": ["2025-01-01"] * 5, "agency": ["PD"] * 5,
                        "user_id": ["***", "[REDACTED]", "u9", "XXXX", "REDACTED, J"],
                        "plate": ["***", "redacted", "gc-02837", "7923.600 GC", "7abc 123"]})
    batch = canonicalize(raw, "x", np.arange(5), RejectCounter())
    assert batch["user_id"].tolist() == ["", "", "u9", "", ""]
    assert batch["plate"].tolist() == ["***", "***", "GC02837", "***", "7ABC123"]


def test_dedup_drops_repeats_within_and_across_batches():
    d = Deduplicator()
    first = pd.DataFrame({"search_id": ["a", "b", "a"]})
    second = pd.DataFrame({"search_id": ["b", "c"]})
    assert d(first)["search_id"].tolist() == ["a", "b"]
    assert d(second)["search_id"].tolist() == ["c"]
    assert d.dropped == 2


def test_dedup_keeps_distinct_ids_as_its_table_grows():
    d = Deduplicator()
    ids = [f"{i:08d}-id" for i in range(200_000)]
    kept = sum(len(d(pd.DataFrame({"search_id": ids[i:i + 50_000]}))) for i in range(0, len(ids), 50_000))
    assert kept == len(ids) and d.dropped == 0
    assert d(pd.DataFrame({"search_id": ids[::1000] + ["new", ""]}))["search_id"].tolist() == ["new", ""]


def test_reading_ahead_keeps_order_rejects_and_errors(tmp_path):
    import threading

    rows = [f"id{i},2025-06-18T00:00:{i % 60:02d}Z,u1,PD,,,," if i % 7 else f"id{i},soon,u1,PD,,,," for i in range(1, 40)]
    p = write(tmp_path, HEADER + "\n".join(rows) + "\n")
    sink = RejectCounter()
    batches = list(read_searches(p, sink, chunk_rows=5))
    assert [b for batch in batches for b in batch["search_id"]] == [f"id{i}" for i in range(1, 40) if i % 7]
    assert [r.line for r in sink.items] == [i + 1 for i in range(1, 40) if not i % 7]

    reader = read_searches(p, RejectCounter(), chunk_rows=5)
    next(reader)
    reader.close()  # a caller that stops early leaves no reading thread behind
    assert not [t for t in threading.enumerate() if t.name == "prefetch"]

    broken = write(tmp_path, HEADER + 'a,2025-06-18T00:00:00Z,u1,PD,,,,\n"b,unclosed\n', name="broken.csv")
    with pytest.raises(InputError, match="malformed CSV"):
        list(read_searches(broken, RejectCounter(), chunk_rows=1))


@pytest.mark.parametrize("dtype", [object, str, pd.StringDtype("python", na_value=np.nan)])
def test_text_is_valued_alike_whatever_strings_hold_it(dtype):
    """Kafka messages arrive as Arrow-backed strings, files as object columns: the batch must not differ."""
    values = {"search_id": ["a", " b ", "c"], "ts": ["2025-01-01T10:00:00Z", " 2025-01-02 ", "2025-01-03T00:00:00+02:00"],
              "user_id": ["u1", "***", None], "agency": ["\u00a0PD\u00a0", "PD", "PD"], "plate": ["ab-1", None, " x 2 "],
              "agency_state": ["ca", "", None], "window_start": ["", "", None], "search_type": [" PLATE", "hotlist", ""]}
    raw = pd.DataFrame({k: pd.Series(v, dtype=dtype) for k, v in values.items()})
    expected = canonicalize(pd.DataFrame({k: pd.Series(v, dtype=object) for k, v in values.items()}), "x", np.arange(3),
                            RejectCounter())
    batch = canonicalize(raw, "x", np.arange(3), RejectCounter())
    pd.testing.assert_frame_equal(batch, expected)
    assert batch["agency"].tolist() == ["PD"] * 3 and batch["plate"].tolist() == ["AB1", "", "X2"]
    assert batch["user_id"].tolist() == ["u1", "", ""] and batch["window_start"].isna().all()
    assert batch["ts"].iloc[2] == pd.Timestamp("2025-01-02T22:00:00Z")
