"""When people search: shift hours, days off, vacations, and the local-to-UTC conversion.

Off-hour searching is a misuse signal, so benign times must follow real shift patterns
(night shift at 3 am is normal) and misuse must not simply live at odd hours.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .world import HOME_TZ, World

NS_PER_DAY = 86_400 * 10**9


@dataclass(frozen=True)
class Period:
    """The days generated, counted in home-state local days, and the day reason dropdowns arrived.

    Day ``d`` is the local calendar day ``first_day + d``; the period runs from local
    midnight of the first day to local midnight after the last, so no search of a
    home-state officer falls outside it.
    """

    first_day: pd.Timestamp  # naive local midnight
    days: int
    switch_day: int

    def utc(self, day: int) -> pd.Timestamp:
        """The UTC instant of local midnight starting ``day``."""
        return (self.first_day + pd.Timedelta(days=day)).tz_localize(HOME_TZ).tz_convert("UTC")

    @property
    def start(self) -> pd.Timestamp:
        return self.utc(0)

    @property
    def end(self) -> pd.Timestamp:
        return self.utc(self.days)

    @property
    def switch(self) -> pd.Timestamp:
        return self.utc(self.switch_day)

    def local_dates(self, day: np.ndarray) -> pd.DatetimeIndex:
        return pd.DatetimeIndex((self.first_day.value + day.astype(np.int64) * NS_PER_DAY).view("datetime64[ns]"))

# Local-hour weights per shift (day, swing, night), shaped like released logs.
_SHIFT_HOURS = np.array([
    [.2, .1, .1, .1, .3, 1.5, 5, 9, 11, 11, 10, 9, 8, 9, 9, 8, 5, 2, 1, .6, .4, .3, .3, .2],
    [2.5, 1, .4, .2, .1, .1, .2, .3, .5, .8, 1, 1.5, 2.5, 5, 9, 10, 10, 9, 9, 9, 8, 7, 6, 4],
    [9, 8, 8, 7, 6, 5, 4, 2.5, 1, .4, .3, .2, .2, .2, .2, .3, .4, .6, 1, 2, 4, 8, 10, 10],
])
SHIFT_PMF = _SHIFT_HOURS / _SHIFT_HOURS.sum(axis=1, keepdims=True)
# People are awake in the evening more than before dawn; off-duty searching follows that.
_AWAKE = np.array([.5, .35, .2, .1, .08, .1, .3, .6, .8, .9, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, .95, .85, .7])
_OFF = _AWAKE / (SHIFT_PMF + 0.02)
OFF_SHIFT_PMF = _OFF / _OFF.sum(axis=1, keepdims=True)


def sample_ms_of_day(rng: np.random.Generator, shift: np.ndarray, off_shift: np.ndarray | None = None) -> np.ndarray:
    """Milliseconds after local midnight, drawn from each row's shift (or off-shift) hours."""
    n = len(shift)
    hour = np.empty(n, dtype=np.int64)
    off = np.zeros(n, dtype=bool) if off_shift is None else off_shift
    for s in range(len(SHIFT_PMF)):
        for is_off, table in ((False, SHIFT_PMF), (True, OFF_SHIFT_PMF)):
            sel = np.flatnonzero((shift == s) & (off == is_off))
            if len(sel):
                hour[sel] = rng.choice(24, len(sel), p=table[s])
    return hour * 3_600_000 + rng.integers(0, 3_600_000, n)


def burst_ms(start: np.ndarray, offset: np.ndarray, spread: int) -> np.ndarray:
    """Times ``offset`` after ``start``, with starts moved earlier so a burst of ``spread`` ms ends by midnight."""
    return np.minimum(start, 86_400_000 - 1 - spread) + offset


def sample_work_days(
    rng: np.random.Generator, world: World, period: Period, user: np.ndarray,
    lo: np.ndarray | int, hi: np.ndarray | int, keep_off: float = 0.04,
) -> np.ndarray:
    """Day indices in ``[lo, hi)`` that fall on each user's working days, mostly.

    A draw on a day off or during vacation is kept with probability ``keep_off``
    (overtime, call-outs) and otherwise redrawn, a few rounds at most.
    """
    n = len(user)
    lo = np.broadcast_to(np.asarray(lo), n)
    span = np.maximum(np.broadcast_to(np.asarray(hi), n) - lo, 1)
    day = lo + (rng.random(n) * span).astype(np.int64)
    pending = np.arange(n)
    for _ in range(12):
        d = day[pending]
        u = user[pending]
        off = world.user_days_off[u, (period.first_day.weekday() + d) % 7]
        vac = world.user_vacation[u]
        off |= (d >= vac[:, 0]) & (d <= vac[:, 1])
        redraw = off & (rng.random(len(pending)) >= keep_off)
        pending = pending[redraw]
        if not len(pending):
            break
        day[pending] = lo[pending] + (rng.random(len(pending)) * span[pending]).astype(np.int64)
    return day


def to_utc_ns(world: World, period: Period, day: np.ndarray, ms: np.ndarray, agency: np.ndarray) -> np.ndarray:
    """UTC nanoseconds of local wall-clock times (day index, ms after midnight) in each agency's zone."""
    local = period.first_day.value + day.astype(np.int64) * NS_PER_DAY + ms.astype(np.int64) * 10**6
    out = np.empty(len(local), dtype=np.int64)
    tz = world.agency_attr("tz")[agency]
    for zone in np.unique(tz):
        sel = np.flatnonzero(tz == zone)
        idx = pd.DatetimeIndex(local[sel].view("datetime64[ns]"))
        out[sel] = idx.tz_localize(zone, ambiguous=np.zeros(len(sel), dtype=bool),
                                   nonexistent="shift_forward").as_unit("ns").asi8
    return out
