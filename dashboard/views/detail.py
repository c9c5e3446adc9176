"""Alert detail: the evidence for one alert, its review, and the case-file export."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pandas as pd
import streamlit as st

from dashboard import casefile, charts, maps, queries, review, session
from dashboard.baseline import BASELINE_DAYS
from detector.rules import SIGNALS
from detector.store import DISPOSITIONS

viewer = session.viewer()
engine = session.engine()
cfg = session.settings()


@st.cache_resource(show_spinner=False)
def sites(reference_dir: str | None) -> pd.DataFrame:
    return maps.load_sites(Path(reference_dir) if reference_dir else None)


alert_id = st.query_params.get("alert") or st.session_state.get("alert_id")
if not alert_id:
    st.title("Alert detail")
    typed = st.text_input("Alert id", placeholder="open an alert from the queue, or type its id")
    if not typed:
        st.stop()
    alert_id = typed.strip()
st.session_state["alert_id"] = alert_id
if st.query_params.get("alert") != alert_id:
    st.query_params["alert"] = alert_id

all_sites = sites(str(cfg.reference_dir) if cfg.reference_dir else None)
# logged before anything of the alert is read or shown
session.log_view(viewer, "view_alert", alert_id, alert_id=alert_id)
try:
    with engine.connect() as conn:
        case = casefile.gather(conn, alert_id, all_sites)
except casefile.CaseNotFound:
    st.error(f"No alert {alert_id} in the store.")
    st.stop()
r = case.record

st.title(f"Alert {alert_id}")
scope = f"alert:{alert_id}"
mask = session.reveal_panel(viewer, scope, alert_id, f"alert {alert_id}")

m = st.columns(5)
m[0].metric("Severity", r["severity"].upper())
m[1].metric("Score", f"{r['score']:.0f}")
m[2].metric("Status", r["status"])
m[3].metric("Assigned to", r["assignee"] or "nobody")
m[4].metric("Searches", len(r["search_ids"]))
st.info(case.summary(mask), icon=":material/summarize:")
others = [mask.user(u) for u in case.users[1:]]
with_others = f" · with {', '.join(others[:10])}" + (f" and {len(others) - 10} more" if len(others) > 10 else "") if others else ""
st.caption(f"Account {mask.user(r['user_id'])} · {r['agency']}{with_others}"
           + f" · pattern {r['pattern']} · {session.fmt_ts(case.first_ts)} to {session.fmt_ts(case.last_ts)}")

left, right = st.columns([3, 2])
with left:
    st.subheader("Signals")
    st.dataframe(case.signals()[["title", "weight", "detail", "name"]], hide_index=True, width="stretch",
                 column_config={"weight": st.column_config.ProgressColumn("weight", min_value=0.0, max_value=1.0, format="%.2f")})
with right:
    st.subheader("Review")
    if viewer.can("assign"):
        with st.form("assign"):
            people = ["", *session.book().assignable()]
            current = people.index(r["assignee"]) if r["assignee"] in people else 0
            who = st.selectbox("Assign to", people, index=current, format_func=lambda u: u or "nobody")
            if st.form_submit_button("Assign"):
                review.assign(engine, viewer, alert_id, who)
                st.rerun()
    if viewer.can("dispose"):
        with st.form("disposition", clear_on_submit=True):
            choice = st.radio("Disposition", DISPOSITIONS, format_func=lambda d: d.replace("_", " "), horizontal=True)
            note = st.text_area("Note", placeholder="what the decision rests on: case numbers, interviews, documents")
            if st.form_submit_button("Record disposition", type="primary"):
                try:
                    review.dispose(engine, viewer, alert_id, choice, note)
                except review.ReviewError as exc:
                    st.error(str(exc))
                else:
                    st.toast(f"Recorded: {choice.replace('_', ' ')}")
                    st.rerun()
    if not viewer.can("dispose"):
        st.caption(f"Your role ({viewer.role}) is read-only: it cannot assign or decide alerts.")
    if len(case.dispositions):
        st.dataframe(case.dispositions.drop(columns="alert_id"), hide_index=True, width="stretch",
                     column_config=session.time_columns("created_at"))
    else:
        st.caption("No disposition yet.")
    if viewer.can("suppress"):
        with st.expander("Suppress this pattern", icon=":material/notifications_off:"):
            st.caption("For a pattern that is known and justified: silence signals on this account's searches "
                       "until a date. Replays on this store apply it from their start, running streams within half a "
                       "minute; the rule stays on the record, and can be revoked.")
            with st.form("suppress", clear_on_submit=True):
                chosen = st.multiselect("Signals", list(SIGNALS), default=[s["name"] for s in r["signals"]][:1])
                c1, c2 = st.columns(2)
                site = c1.text_input("Only near site (id)", placeholder="any site")
                case_no = c2.text_input("Only under case number", placeholder="any case")
                only_target = r["target"].startswith("plate#") and st.checkbox(f"Only this alert's plate ({r['target']})")
                today = date.today()
                until = st.date_input("Until", value=today + timedelta(days=90), min_value=today,
                                      max_value=today + timedelta(days=365))
                why = st.text_area("Reason", placeholder="why the pattern is justified, and who approved it")
                if st.form_submit_button("Suppress"):
                    try:
                        rule = review.suppress(engine, viewer, alert_id, chosen, until, why,
                                               {"site_id": site, "case_number": case_no}, only_target)
                    except review.ReviewError as exc:
                        st.error(str(exc))
                    else:
                        st.toast(f"Suppression rule {rule.rule_id} recorded")
            with engine.connect() as conn:
                rules = queries.suppression_rules(conn, r["user_id"], r["agency"]).drop(columns=["user_id", "agency"])
            rules["plate"] = rules["plate"].map(mask.plate)
            if len(rules):
                st.dataframe(rules, hide_index=True, width="stretch",
                             column_config=session.time_columns("created_at", "revoked_at", "applied_at"))
                # a rules file's rule ends when the file drops it, not here
                active = rules.loc[rules["revoked_at"].isna() & rules["source"].isna(), "rule_id"].tolist()
                if active:
                    c1, c2 = st.columns([3, 1])
                    which = c1.selectbox("Rule", active, key="revoke_rule", label_visibility="collapsed")
                    if c2.button("Revoke"):
                        review.revoke(engine, viewer, which)
                        st.rerun()
            else:
                st.caption("No suppression rule for this account.")

b1, b2, _ = st.columns([1, 1, 3])
if b1.button("Open the user's page", icon=":material/badge:"):
    st.session_state["subject"] = (r["user_id"], r["agency"])
    st.switch_page("views/user.py")
if viewer.can("export"):
    if b2.button("Export case file", icon=":material/description:"):
        st.session_state[f"casefile:{alert_id}"] = casefile.export(engine, viewer, alert_id, all_sites, mask)
    html = st.session_state.get(f"casefile:{alert_id}")
    if html:
        st.download_button("Download case file (HTML)", html, file_name=f"case-{alert_id}.html", mime="text/html",
                           on_click="ignore", icon=":material/download:")

timeline, plates, where, rows = st.tabs(["Timeline", "Plate histories", "Map", "Audit rows"])
with timeline:
    base = case.baseline()
    context = mask.frame(case.context, case.plates)
    st.altair_chart(charts.timeline(context, set(r["search_ids"]), base.hours), width="stretch")
    st.caption(f"The account's searches from {BASELINE_DAYS} days before the episode to a week after; "
               "shaded: its usual hours before the episode.")
    c1, c2 = st.columns([2, 3])
    c1.dataframe(pd.DataFrame(base.lines(), columns=["habit", "value"]), hide_index=True)
    c2.altair_chart(charts.hour_profile(case.hour_profile()), width="stretch")
with plates:
    if len(case.histories):
        st.caption("Every account that searched the alert's plates; 'with_case' counts searches that gave a case number.")
        st.dataframe(case.masked_histories(mask), hide_index=True, width="stretch",
                     column_config=session.time_columns("first_ts", "last_ts"))
    else:
        st.caption("No plates searched in this alert, or no search history stored.")
with where:
    if len(case.areas):
        st.pydeck_chart(maps.deck(case.areas, case.sites), height=480)
        if len(case.sites):
            st.dataframe(case.sites[["category", "name", "distance_m"]], hide_index=True)
        elif not len(all_sites):
            st.caption("No sensitive-site list configured (start the dashboard with --reference DIR holding sites.csv).")
        else:
            st.caption(f"No known sensitive site within {maps.SITE_REACH_M / 1000:g} km of the searched areas.")
    else:
        st.caption("No area searches in this alert.")
with rows:
    if len(case.rows):
        st.dataframe(case.masked_rows(mask), hide_index=True, width="stretch",
                     column_config=session.time_columns("ts", "window_start", "window_end"))
    else:
        st.caption("The store holds no audit rows for these searches.")
