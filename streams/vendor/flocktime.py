"""Flock's printed times (``01/31/2022, 11:26:24 PM UTC``) to UTC instants, fast.

``pd.to_datetime(format=...)`` costs about 2 µs a value, and an audit row carries three
of these (Search Time and the two ends of Time Frame): at 17 million rows that alone
would eat most of the replay budget. Flock's own exports pad every field, so nearly
every cell has the same 27-byte layout and is decoded here as a byte matrix. The rest
falls back to pandas: unpadded months and days (Lodi's export, the Denver sample),
stray spaces, and ISO text from spreadsheet date cells.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa

from streams.vendor.text import byte_lengths, fixed_width

NAT = np.iinfo(np.int64).min
EXAMPLE = "01/31/2022, 11:26:24 PM UTC"
WIDTH = len(EXAMPLE)
_LAYOUT = np.frombuffer(b"00/00/0000, 00:00:00 AM UTC", dtype=np.uint8)
_DIGITS = np.flatnonzero(_LAYOUT == ord("0"))
_AMPM = EXAMPLE.index("PM")
_LITERALS = np.array([i for i in range(WIDTH) if _LAYOUT[i] != ord("0") and i != _AMPM])
# A Time Frame cell: start, a line break, end.
FRAME_WIDTH = 2 * WIDTH + 1
_DAYS_IN_MONTH = np.array([0, 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31])


def _two(d: np.ndarray, i: int) -> np.ndarray:
    return d[:, i].astype(np.int64) * 10 + d[:, i + 1]


def _days_from_civil(year: np.ndarray, month: np.ndarray, day: np.ndarray) -> np.ndarray:
    """Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm), vectorised."""
    year = year - (month <= 2)
    era = year // 400
    yoe = year - era * 400
    doy = (153 * (month + np.where(month > 2, -3, 9)) + 2) // 5 + day - 1
    return era * 146097 + yoe * 365 + yoe // 4 - yoe // 100 + doy - 719468


def _decode(m: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Nanoseconds since the epoch and a validity mask for an (n, 27) matrix of Flock times."""
    d = m - np.uint8(ord("0"))  # non-digits wrap around to values above 9
    ok = (d[:, _DIGITS] <= 9).all(axis=1)
    ok &= (m[:, _LITERALS] == _LAYOUT[_LITERALS]).all(axis=1)
    pm = m[:, _AMPM] == ord("P")
    ok &= pm | (m[:, _AMPM] == ord("A"))
    month, day, hour, minute, second = _two(d, 0), _two(d, 3), _two(d, 12), _two(d, 15), _two(d, 18)
    year = _two(d, 6) * 100 + _two(d, 8)
    ok &= (month >= 1) & (month <= 12) & (hour >= 1) & (hour <= 12) & (minute < 60) & (second < 60)
    month = np.where(ok, month, 1)
    leap = (year % 4 == 0) & ((year % 100 != 0) | (year % 400 == 0))
    ok &= (day >= 1) & (day <= _DAYS_IN_MONTH[month] - ((month == 2) & ~leap))
    seconds = ((hour % 12 + np.where(pm, 12, 0)) * 60 + minute) * 60 + second
    ns = (_days_from_civil(year, month, day) * 86_400 + seconds) * 1_000_000_000
    return np.where(ok, ns, NAT), ok


def _rows(values: pa.Array, index: np.ndarray) -> pa.Array:
    return values if len(index) == len(values) else values.take(pa.array(index))


def _parse_loose(text: pd.Series) -> np.ndarray:
    """The odd cells out: unpadded Flock times, or ISO text (zone-less = UTC)."""
    text = text.str.strip().str.replace(r"\s+UTC$", "", regex=True, case=False)
    parsed = pd.to_datetime(text, format="%m/%d/%Y, %I:%M:%S %p", errors="coerce", utc=True)
    rest = parsed.isna().to_numpy()
    if rest.any():
        parsed[rest] = pd.to_datetime(text[rest], format="ISO8601", errors="coerce", utc=True)
    return parsed.astype("datetime64[ns, UTC]").to_numpy(dtype="datetime64[ns]").view(np.int64)


def parse_times(values: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """``datetime64[ns]`` (UTC; NaT where empty or bad) and a mask of non-empty cells that are not times.

    >>> ts, bad = parse_times(pa.array([EXAMPLE, "1/5/2024, 3:04:05 AM UTC", "2025-06-18 00:02:04", "",
    ...                                 "31/02/2024, 01:00:00 AM UTC"]))
    >>> [str(t)[:19] for t in ts]
    ['2022-01-31T23:26:24', '2024-01-05T03:04:05', '2025-06-18T00:02:04', 'NaT', 'NaT']
    >>> bad.tolist()
    [False, False, False, False, True]
    """
    out = np.full(len(values), NAT, dtype=np.int64)
    lengths = byte_lengths(values)
    fast = np.flatnonzero(lengths == WIDTH)
    if len(fast):
        out[fast] = _decode(fixed_width(_rows(values, fast), WIDTH))[0]
    loose = np.flatnonzero((out == NAT) & (lengths > 0))
    if len(loose):
        out[loose] = _parse_loose(pd.Series(_rows(values, loose).to_pylist(), dtype=str))
    return out.view("datetime64[ns]"), (out == NAT) & (lengths > 0)


def parse_frames(values: pa.Array) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Start and end of each Time Frame cell, and a mask of non-empty cells that are not two times.

    Flock writes the two times on two lines of one cell; Lodi's export writes
    ``<start> to <end>`` on one line. Both are read.

    >>> start, end, bad = parse_frames(pa.array([EXAMPLE + "\\n02/01/2022, 01:00:00 AM UTC",
    ...                                          "1/1/2024, 1:00:00 AM UTC to 1/2/2024, 1:00:00 AM UTC", "", "soon"]))
    >>> [str(t)[:19] for t in start]
    ['2022-01-31T23:26:24', '2024-01-01T01:00:00', 'NaT', 'NaT']
    >>> [str(t)[:19] for t in end]
    ['2022-02-01T01:00:00', '2024-01-02T01:00:00', 'NaT', 'NaT']
    >>> bad.tolist()
    [False, False, False, True]
    """
    n = len(values)
    start = np.full(n, NAT, dtype=np.int64)
    end = np.full(n, NAT, dtype=np.int64)
    lengths = byte_lengths(values)
    fast = np.flatnonzero(lengths == FRAME_WIDTH)
    if len(fast):
        m = fixed_width(_rows(values, fast), FRAME_WIDTH)
        s, s_ok = _decode(m[:, :WIDTH])
        e, e_ok = _decode(m[:, WIDTH + 1:])
        ok = s_ok & e_ok & (m[:, WIDTH] == ord("\n"))
        start[fast[ok]], end[fast[ok]] = s[ok], e[ok]
    loose = np.flatnonzero((start == NAT) & (lengths > 0))
    if len(loose):
        text = pd.Series(_rows(values, loose).to_pylist(), dtype=str)
        parts = text.str.split(r"\s*\n\s*|\s+to\s+", n=1, regex=True, expand=True)
        parts = parts.reindex(columns=[0, 1], fill_value="").astype(object).fillna("")
        s = parse_times(pa.array(parts[0], pa.string()))[0].view(np.int64)
        e = parse_times(pa.array(parts[1], pa.string()))[0].view(np.int64)
        ok = (s != NAT) & (e != NAT)
        start[loose[ok]], end[loose[ok]] = s[ok], e[ok]
    bad = (start == NAT) & (lengths > 0)
    return start.view("datetime64[ns]"), end.view("datetime64[ns]"), bad
