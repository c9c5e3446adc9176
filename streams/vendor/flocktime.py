"""Flock's printed times (``01/31/2022, 11:26:24 PM UTC``) to UTC instants, fast.

``pd.to_datetime(format=...)`` costs about 2 µs a value, and an audit row carries three
of these (Search Time and the two ends of Time Frame): at 17 million rows that alone
would eat most of the replay budget. Flock's own exports pad every field, so nearly
every cell has the same 27-byte layout and is decoded here from its bytes by a compiled
loop. The rest falls back to pandas: unpadded months and days (Lodi's export, the
Denver sample), stray spaces, and ISO text from spreadsheet date cells.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
from numba import njit

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


@njit(cache=True, nogil=True)
def _decode_rows(m, ns, ok):  # pragma: no cover - compiled
    """Fill ``ns`` and ``ok`` for each row of an (n, 27) byte matrix of Flock times."""
    for r in range(m.shape[0]):
        row = m[r]
        good = True
        for i in _DIGITS:
            good &= np.uint8(row[i] - 48) <= 9
        for i in _LITERALS:
            good &= row[i] == _LAYOUT[i]
        pm = row[_AMPM] == 80  # "P"
        good &= pm or row[_AMPM] == 65  # "A"
        if not good:
            ns[r], ok[r] = NAT, False
            continue
        month = (row[0] - 48) * 10 + row[1] - 48
        day = (row[3] - 48) * 10 + row[4] - 48
        year = ((row[6] - 48) * 10 + row[7] - 48) * 100 + (row[8] - 48) * 10 + row[9] - 48
        hour = (row[12] - 48) * 10 + row[13] - 48
        minute = (row[15] - 48) * 10 + row[16] - 48
        second = (row[18] - 48) * 10 + row[19] - 48
        leap = year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)
        good = 1 <= month <= 12 and 1 <= hour <= 12 and minute < 60 and second < 60
        if good:
            good = 1 <= day <= _DAYS_IN_MONTH[month] - (1 if month == 2 and not leap else 0)
        if not good:
            ns[r], ok[r] = NAT, False
            continue
        # days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm)
        y = year - (1 if month <= 2 else 0)
        era = y // 400
        yoe = y - era * 400
        doy = (153 * (month + (-3 if month > 2 else 9)) + 2) // 5 + day - 1
        days = era * 146097 + yoe * 365 + yoe // 4 - yoe // 100 + doy - 719468
        seconds = ((hour % 12 + (12 if pm else 0)) * 60 + minute) * 60 + second
        ns[r], ok[r] = (days * 86_400 + seconds) * 1_000_000_000, True


def _decode(m: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Nanoseconds since the epoch and a validity mask for an (n, 27) matrix of Flock times."""
    ns = np.empty(m.shape[0], dtype=np.int64)
    ok = np.empty(m.shape[0], dtype=bool)
    _decode_rows(m, ns, ok)
    return ns, ok


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
