"""User page: one account's habits, its volume against its agency's accounts, its past alerts.

Only accounts that have an alert can be opened here: the dashboard is not a way
to look anyone up.
"""

from __future__ import annotations

from datetime import timedelta

import pandas as pd
import streamlit as st

from dashboard import charts, queries, session
from dashboard.baseline import BASELINE_DAYS, baseline, hour_profile, peer_position
from dashboard.masking import Mask
from detector.explain import pseudonym

viewer = session.viewer()
engine = session.engine()

st.title("User")
with engine.connect() as conn:
    accounts = queries.users_with_alerts(conn)
if not len(accounts):
    st.info("No account has an alert yet.")
    st.stop()
keys = list(zip(accounts["user_id"], accounts["agency"]))
counts = dict(zip(keys, accounts["alerts"]))
subject = st.session_state.get("subject")
if subject not in counts:
    subject = keys[0]
masked = Mask()
subject = st.selectbox("Account (accounts with alerts, most alerts first)", keys, index=keys.index(subject),
                       format_func=lambda k: f"{masked.user(k[0])} ({k[1]}) · {counts[k]} alert(s)")
st.session_state["subject"] = subject
user_id, agency = subject

scope = f"user:{agency}|{user_id}"
label = f"{pseudonym(user_id, 'user')} ({agency})"
session.log_view(viewer, "view_user", scope, detail=label)
mask = session.reveal_panel(viewer, scope, None, f"user {label}")
st.subheader(f"{mask.user(user_id)} · {agency}")

with engine.connect() as conn:
    last = queries.last_search(conn, user_id, agency)
    past = queries.user_alerts(conn, user_id, agency)
    decisions = queries.dispositions_of(conn, past["alert_id"].tolist())
    if last is not None:
        start, end = last - timedelta(days=BASELINE_DAYS), last + timedelta(seconds=1)
        history = queries.user_searches(conn, user_id, agency, start, end)
        peers = queries.peer_counts(conn, agency, start, end)

if last is None:
    st.caption("The store holds no searches of this account.")
else:
    base = baseline(history)
    st.markdown(f"**Baseline:** the {BASELINE_DAYS} days up to its latest search ({session.fmt_ts(last)}).")
    c1, c2 = st.columns([2, 3])
    c1.dataframe(pd.DataFrame(base.lines(), columns=["habit", "value"]), hide_index=True)
    c2.altair_chart(charts.daily_volume(history), width="stretch")
    st.altair_chart(charts.hour_profile(hour_profile(history["ts"], history["ts"].iloc[:0])), width="stretch")

    st.markdown("**Volume against its agency's accounts**")
    own, above, median = peer_position(peers, user_id)
    st.caption(f"{own:,} searches in the period: more than {above:.0%} of the other {len(peers) - 1} account(s) of "
               f"{agency} (their median: {median:,.0f}).")
    st.altair_chart(charts.peers(peers[["searches"]], own), width="stretch")

st.markdown("**Past alerts and dispositions**")
st.dataframe(past.fillna({"assignee": ""}), hide_index=True, width="stretch",
             column_config=session.time_columns("first_ts", "last_ts"))
if len(decisions):
    st.dataframe(decisions, hide_index=True, width="stretch", column_config=session.time_columns("created_at"))
target = st.selectbox("Open an alert", past["alert_id"].tolist(), index=None, placeholder="choose an alert")
if target:
    st.session_state["alert_id"] = target
    st.switch_page("views/detail.py", query_params={"alert": target})
