"""Flock's printed times: the byte-matrix fast path must agree with a calendar."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa

from streams.vendor.flocktime import parse_frames, parse_times


def test_fast_path_agrees_with_pandas_over_two_centuries():
    seconds = np.random.default_rng(7).integers(-2_000_000_000, 4_000_000_000, 20_000)
    when = pd.to_datetime(seconds, unit="s")
    text = pa.array(when.strftime("%m/%d/%Y, %I:%M:%S %p UTC").tolist())
    parsed, bad = parse_times(text)
    assert not bad.any() and (parsed == when.to_numpy()).all()


def test_noon_midnight_leap_days_and_impossible_dates():
    cells = [
        "12/01/2024, 12:00:00 AM UTC", "12/01/2024, 12:00:00 PM UTC", "02/29/2024, 01:00:00 AM UTC",
        "02/29/2023, 01:00:00 AM UTC", "04/31/2024, 01:00:00 AM UTC", "13/01/2024, 01:00:00 AM UTC",
        "12/01/2024, 00:30:00 AM UTC", "12/01/2024, 01:60:00 AM UTC", "12/01/2024; 01:00:00 AM UTC", "",
    ]
    parsed, bad = parse_times(pa.array(cells))
    assert [str(p)[:19] for p in parsed[:3]] == ["2024-12-01T00:00:00", "2024-12-01T12:00:00", "2024-02-29T01:00:00"]
    assert bad.tolist() == [False, False, False, True, True, True, True, True, True, False]
    assert np.isnat(parsed[3:]).all()


def test_time_frame_forms():
    start, end, bad = parse_frames(pa.array([
        "01/31/2022, 11:26:24 PM UTC\n02/07/2022, 11:26:24 PM UTC",
        "01/31/2022, 11:26:24 PM UTC\r\n02/07/2022, 11:26:24 PM UTC",
        " 01/31/2022, 11:26:24 PM UTC\n02/07/2022, 11:26:24 PM UTC ",
        "01/31/2022, 11:26:24 PM UTC",
        "01/31/2022, 11:26:24 PM UTC\nsoon",
    ]))
    assert (start[:3] == np.datetime64("2022-01-31T23:26:24")).all()
    assert (end[:3] == np.datetime64("2022-02-07T23:26:24")).all()
    assert bad.tolist() == [False, False, False, True, True]
