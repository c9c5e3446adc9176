"""Alert queue: what waits for review, filtered and sorted, refreshed while a stream writes."""

from __future__ import annotations

from datetime import datetime, timezone

import streamlit as st

from dashboard import queries, session
from dashboard.masking import Mask
from dashboard.queries import QueueFilter
from detector.explain import SIGNAL_TITLES

viewer = session.viewer()
engine = session.engine()
cfg = session.settings()
SORT_LABELS = {"score": "Score (highest first)", "severity": "Severity", "newest": "Latest activity", "oldest": "Oldest first"}
ANYONE, ME = "anyone", "me"


@st.cache_data(ttl=60, show_spinner=False)
def agency_options(url: str) -> list[str]:
    """Per store, for a minute: a new agency shows up in the filter that much later."""
    with session.engine().connect() as conn:
        return queries.agencies(conn)


st.title("Alert queue")
with st.container(border=True):
    c1, c2, c3, c4 = st.columns(4)
    severities = c1.multiselect("Severity", queries.SEVERITIES, key="q_severity")
    statuses = c2.multiselect("Status", queries.STATUSES, default=list(queries.ACTIONABLE), key="q_status")
    agencies = c3.multiselect("Agency", agency_options(cfg.store_url), key="q_agency")
    signals = c4.multiselect("Signal", list(SIGNAL_TITLES), format_func=SIGNAL_TITLES.get, key="q_signal")
    c5, c6, c7, c8, c9 = st.columns(5)
    start = c5.date_input("Active from", value=None, key="q_start")
    end = c6.date_input("Active until", value=None, key="q_end")
    owner = c7.selectbox("Assigned to", [ANYONE, ME, "unassigned", *session.book().assignable()], key="q_assignee")
    sort = c8.selectbox("Sort", list(SORT_LABELS), format_func=SORT_LABELS.get, key="q_sort")
    size = c9.selectbox("Per page", [25, 50, 100], index=1, key="q_size")

assignee = {ANYONE: None, ME: viewer.username, "unassigned": queries.UNASSIGNED}.get(owner, owner)
flt = QueueFilter(tuple(severities), tuple(statuses), tuple(agencies), tuple(signals), start, end, assignee)
if st.session_state.get("_queue_filter") != (flt, sort, size):
    st.session_state["_queue_filter"] = (flt, sort, size)
    st.session_state["q_page"] = 1


def describe(flt: QueueFilter, sort: str, page: int) -> str:
    """What the viewer is looking at, for the access log."""
    parts = [f"{k}={','.join(map(str, v)) if isinstance(v, tuple) else v}" for k, v in vars(flt).items() if v not in ((), None)]
    return "; ".join([*parts, f"sort={sort}", f"page={page}"])


@st.fragment(run_every=cfg.refresh_seconds)
def queue_table() -> None:
    page = int(st.session_state.get("q_page", 1))
    with engine.connect() as conn:
        frame, total = queries.queue_page(conn, flt, sort, page - 1, size)
    pages = max(1, -(-total // size))
    if page > pages:  # the queue shrank under a stale page number
        st.session_state["q_page"] = page = pages
        with engine.connect() as conn:
            frame, total = queries.queue_page(conn, flt, sort, page - 1, size)
    session.log_view(viewer, "view_queue", describe(flt, sort, page), detail=describe(flt, sort, page))

    mask = Mask()  # the queue never shows real names: reveals belong to one alert
    shown = frame.assign(
        assignee=frame["assignee"].fillna(""),
        user=frame["user_id"].map(mask.user),
        summary=[mask.summary(s, u) for s, u in zip(frame["summary"], frame["user_id"])],
    )
    st.caption(f"{total:,} alert(s) match · page {page} of {pages} · refreshed "
               f"{datetime.now(timezone.utc).strftime('%H:%M:%S')} UTC, every {cfg.refresh_seconds:g} s · "
               "select a row to open the alert")
    event = st.dataframe(
        shown[["severity", "score", "status", "assignee", "user", "agency", "pattern", "signals", "first_ts", "last_ts",
               "n_searches", "summary", "alert_id"]],
        key="queue_table", on_select="rerun", selection_mode="single-row", hide_index=True, width="stretch",
        column_config={
            "score": st.column_config.ProgressColumn("score", min_value=0, max_value=100, format="%.0f"),
            "first_ts": st.column_config.DatetimeColumn("first search", format="YYYY-MM-DD HH:mm"),
            "last_ts": st.column_config.DatetimeColumn("last search", format="YYYY-MM-DD HH:mm"),
            "n_searches": st.column_config.NumberColumn("searches"),
            "summary": st.column_config.TextColumn("summary", width="large"),
        },
    )
    if event.selection.rows:
        alert_id = str(shown.iloc[event.selection.rows[0]]["alert_id"])
        st.session_state["alert_id"] = alert_id
        st.switch_page("views/detail.py", query_params={"alert": alert_id})
    st.number_input("Page", min_value=1, max_value=pages, step=1, key="q_page")


queue_table()
