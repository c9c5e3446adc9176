"""Overview: alerts over time, by agency and signal, and where the network's searches come from."""

from __future__ import annotations

from datetime import date, datetime, timezone

import pandas as pd
import streamlit as st

from dashboard import charts, queries, session
from dashboard.queries import Period
from detector.explain import SIGNAL_TITLES

viewer = session.viewer()
cfg = session.settings()


@st.cache_data(ttl=600, show_spinner="Counting alerts and searches...")
def figures(url: str, start: date | None, end: date | None) -> tuple[datetime, dict[str, pd.DataFrame]]:
    """Aggregates over whole tables (seconds with millions of searches), so cached ten minutes per store and period."""
    period = Period(start, end)
    with session.engine().connect() as conn:
        return datetime.now(timezone.utc), {
            "by_day": queries.alerts_by_day(conn, period),
            "agency": queries.alerts_by(conn, period, "agency"),
            "status": queries.alerts_by(conn, period, "status"),
            "signal": queries.signal_counts(conn, period),
            "origins": queries.search_origins(conn, period),
        }


st.title("Overview")
c1, c2, _ = st.columns([1, 1, 2])
start = c1.date_input("From", value=None, key="o_start")
end = c2.date_input("Until", value=None, key="o_end")
session.log_view(viewer, "view_overview", f"{start}|{end}", detail=f"from {start or 'the start'} until {end or 'now'}")
as_of, data = figures(cfg.store_url, start, end)
st.caption(f"Figures as of {session.fmt_ts(as_of)} (recounted every ten minutes).")

total = int(data["by_day"]["alerts"].sum())
st.metric("Alerts", f"{total:,}")
if total:
    st.altair_chart(charts.alerts_over_time(data["by_day"]), width="stretch")
    left, right = st.columns(2)
    with left:
        st.subheader("By agency")
        st.altair_chart(charts.bars(data["agency"], "agency", "alerts"), width="stretch")
        st.subheader("By review status")
        st.dataframe(data["status"], hide_index=True)
    with right:
        st.subheader("By signal")
        signals = data["signal"].assign(title=data["signal"]["signal"].map(lambda s: SIGNAL_TITLES.get(s, s)))
        st.altair_chart(charts.bars(signals, "title", "alerts"), width="stretch")

st.subheader("Who searches the network")
origins, home = queries.classify_origins(data["origins"], cfg.home_state)
searches = int(origins["searches"].sum())
if not searches:
    st.caption("The store holds no searches for this period.")
else:
    share = origins.groupby("origin")["searches"].sum() / searches
    m = st.columns(4)
    m[0].metric("Searches", f"{searches:,}")
    m[1].metric(f"Out of state (home: {home or 'unknown'})", f"{share.get('out-of-state', 0.0):.1%}")
    m[2].metric("Federal agencies", f"{share.get('federal', 0.0):.1%}")
    m[3].metric("Agency state unknown", f"{share.get('unknown', 0.0):.1%}")
    st.altair_chart(charts.origins_over_time(origins), width="stretch")
    if cfg.home_state is None:
        st.caption("The home state is the state most searching agencies are in; set it with --home-state.")
