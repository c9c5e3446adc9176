"""Access log (supervisors): who viewed, revealed, decided and exported what."""

from __future__ import annotations

import streamlit as st

from dashboard import audit, session

viewer = session.viewer()
if not viewer.can("access_log"):
    st.error("Only supervisors may read the access log.")
    st.stop()
engine = session.engine()
PAGE = 100

st.title("Access log")
c1, c2, c3, c4, c5 = st.columns(5)
users = c1.multiselect("User", audit.usernames(engine, viewer), key="l_users")
actions = c2.multiselect("Action", audit.ACTIONS, key="l_actions")
alert_id = c3.text_input("Alert id", key="l_alert").strip()
start = c4.date_input("From", value=None, key="l_start")
end = c5.date_input("Until", value=None, key="l_end")
flt = audit.LogFilter(tuple(users), tuple(actions), alert_id, start, end)
page = int(st.session_state.get("l_page", 1))
session.log_view(viewer, "view_access_log", f"{flt}|{page}", detail=f"page {page}")

frame, total = audit.read(engine, viewer, flt, PAGE, (page - 1) * PAGE)
pages = max(1, -(-total // PAGE))
st.caption(f"{total:,} entries · page {page} of {pages} · newest first")
st.dataframe(frame.drop(columns="id"), hide_index=True, width="stretch",
             column_config={"ts": st.column_config.DatetimeColumn("time (UTC)", format="YYYY-MM-DD HH:mm:ss")})
st.number_input("Page", min_value=1, max_value=pages, step=1, key="l_page")
