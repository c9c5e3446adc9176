"""Suppression rules: every pattern supervisors or rules files have silenced, in force or not, for anyone to check."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard import queries, session

viewer = session.viewer()
engine = session.engine()

st.title("Suppression rules")
st.caption("Rules supervisors wrote from alerts, and those of the rules files replays and streams applied (with the "
           "file and when a run last applied it): each silences signals on the searches it names until a date. "
           "A rule can hide misuse as well as noise; revoked rules stay listed.")
session.log_view(viewer, "view_suppressions", "all")
mask = session.reveal_panel(viewer, "suppressions", None, "the suppression rules")
with engine.connect() as conn:
    rules = queries.suppression_rules(conn)
if not len(rules):
    st.info("No suppression rule has been written.")
    st.stop()
in_force = rules["revoked_at"].isna() & (pd.to_datetime(rules["expires"], utc=True) > pd.Timestamp.now(tz="UTC"))
only_active = st.toggle("Only rules in force", value=True)
shown = rules[in_force] if only_active else rules
shown = shown.assign(user_id=shown["user_id"].map(mask.user), plate=shown["plate"].map(mask.plate))
st.caption(f"{int(in_force.sum())} in force of {len(rules)}")
st.dataframe(shown, hide_index=True, width="stretch", column_config=session.time_columns("created_at", "revoked_at", "applied_at"))
