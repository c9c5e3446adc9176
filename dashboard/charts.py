"""Altair charts of the dashboard; callers pass tables already masked."""

from __future__ import annotations

import altair as alt
import pandas as pd

SEVERITY_COLORS = alt.Scale(domain=["critical", "high", "medium", "low"], range=["#7f0000", "#d7301f", "#fc8d59", "#fdcc8a"])


def timeline(frame: pd.DataFrame, episode_ids: set[str], hours: list[int]) -> alt.LayerChart:
    """Each search at its date and hour of day, the episode's in red, over the account's usual hours."""
    data = frame.assign(
        hour=frame["ts"].dt.hour + frame["ts"].dt.minute / 60,
        kind=["this alert" if s in episode_ids else "other searches" for s in frame["search_id"]],
        when=frame["ts"].dt.strftime("%Y-%m-%d %H:%M UTC"),
    )[["ts", "hour", "kind", "when", "search_type", "plate", "reason"]]
    points = alt.Chart(data).mark_circle(size=45, opacity=0.8).encode(
        x=alt.X("ts:T", title="date (UTC)"),
        y=alt.Y("hour:Q", title="hour of day (UTC)", scale=alt.Scale(domain=[0, 24])),
        color=alt.Color("kind:N", scale=alt.Scale(domain=["this alert", "other searches"], range=["#d7301f", "#7a8a99"]),
                        title=None),
        tooltip=["when", "search_type", "plate", "reason"],
    )
    bands = pd.DataFrame({"from": hours, "to": [h + 1 for h in hours]})
    band = alt.Chart(bands).mark_rect(opacity=0.15, color="#2b8cbe").encode(y="from:Q", y2="to:Q")
    return alt.layer(band, points).properties(height=320)


def hour_profile(profile: pd.DataFrame) -> alt.Chart:
    long = profile.melt(id_vars="hour", var_name="period", value_name="share")
    return alt.Chart(long).mark_bar().encode(
        x=alt.X("hour:O", title="hour of day (UTC)"),
        xOffset="period:N",
        y=alt.Y("share:Q", axis=alt.Axis(format="%"), title="share of searches"),
        color=alt.Color("period:N", scale=alt.Scale(domain=["baseline", "episode"], range=["#7a8a99", "#d7301f"]), title=None),
        tooltip=["hour", "period", alt.Tooltip("share:Q", format=".0%")],
    ).properties(height=220)


def daily_volume(frame: pd.DataFrame) -> alt.Chart:
    per_day = frame.groupby(frame["ts"].dt.floor("D")).size().rename("searches").rename_axis("day").reset_index()
    return alt.Chart(per_day).mark_bar(color="#2b8cbe").encode(
        x=alt.X("day:T", title="day (UTC)"), y=alt.Y("searches:Q"), tooltip=["day:T", "searches"],
    ).properties(height=200)


def peers(counts: pd.DataFrame, own: int) -> alt.LayerChart:
    """How the account's volume sits among its agency's accounts (peers are counts only, never names)."""
    hist = alt.Chart(counts).mark_bar(color="#7a8a99").encode(
        x=alt.X("searches:Q", bin=alt.Bin(maxbins=30), title="searches per account"),
        y=alt.Y("count():Q", title="accounts"),
    )
    rule = alt.Chart(pd.DataFrame({"searches": [own]})).mark_rule(color="#d7301f", size=3).encode(x="searches:Q")
    return alt.layer(hist, rule).properties(height=220)


def alerts_over_time(by_day: pd.DataFrame) -> alt.Chart:
    return alt.Chart(by_day).mark_bar().encode(
        x=alt.X("yearmonthdate(day):T", title="day the episode began"),
        y=alt.Y("sum(alerts):Q", title="alerts"),
        color=alt.Color("severity:N", scale=SEVERITY_COLORS),
        tooltip=["yearmonthdate(day):T", "severity", "sum(alerts):Q"],
    ).properties(height=260)


def bars(frame: pd.DataFrame, label: str, value: str, limit: int = 20) -> alt.Chart:
    top = frame.nlargest(limit, value)
    return alt.Chart(top).mark_bar(color="#2b8cbe").encode(
        x=alt.X(f"{value}:Q"), y=alt.Y(f"{label}:N", sort="-x", title=None, axis=alt.Axis(labelLimit=320)),
        tooltip=[label, value],
    ).properties(height=alt.Step(22))


def origins_over_time(origins: pd.DataFrame) -> alt.Chart:
    return alt.Chart(origins).mark_area().encode(
        x=alt.X("yearmonthdate(day):T", title="day"),
        y=alt.Y("sum(searches):Q", stack="normalize", axis=alt.Axis(format="%"), title="share of searches"),
        color=alt.Color("origin:N", scale=alt.Scale(domain=["in-state", "out-of-state", "federal", "unknown"],
                                                    range=["#7a8a99", "#fc8d59", "#7f0000", "#d9d9d9"])),
        tooltip=["yearmonthdate(day):T", "origin", "sum(searches):Q"],
    ).properties(height=240)
