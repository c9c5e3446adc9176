"""Per-session state of the Streamlit app: who is signed in, the store, logged views and reveals.

Pages call ``viewer()`` first; it re-checks the users file on every run, so a
removed account or a changed role takes effect at the next click, and it stops
the page when nobody is signed in even if navigation was bypassed.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pandas as pd
import streamlit as st
from sqlalchemy.engine import Engine

from dashboard import audit
from dashboard.auth import AccountBook, Throttle, UsersFileError, Viewer, require
from dashboard.masking import Mask
from dashboard.settings import Settings
from detector import store

MIN_REASON = 10  # characters a reveal reason needs, so "x" does not pass as one
VIEWER = "viewer"


def settings() -> Settings:
    return Settings.from_env()


@st.cache_resource(show_spinner=False)
def _engine(url: str) -> Engine:
    return store.open_store(url)


def engine() -> Engine:
    return _engine(settings().store_url)


@st.cache_resource(show_spinner=False)
def _book(path: str) -> AccountBook:
    return AccountBook(Path(path))


def book() -> AccountBook:
    return _book(str(settings().users_file.resolve()))


@st.cache_resource(show_spinner=False)
def throttle() -> Throttle:
    return Throttle()


def oidc_providers() -> list[str | None]:
    """Single-sign-on providers in Streamlit's ``[auth]`` secrets: None for an unnamed one, else their names.

    Nothing is offered without that section, so password sign-in works with no setup.
    """
    try:
        section = st.secrets["auth"] if "auth" in st.secrets else {}
    except Exception:  # no secrets file at all
        return []
    named = [name for name, value in section.items() if hasattr(value, "keys")]
    return ([None] if "client_id" in section else []) + named


def oidc_configured() -> bool:
    return bool(oidc_providers())


def current_viewer() -> Viewer | None:
    """The signed-in viewer as the users file has them now, or None."""
    try:
        accounts = book()
        signed = st.session_state.get(VIEWER)
        if signed is None and oidc_configured() and st.user.is_logged_in:
            signed = accounts.by_email(str(st.user.get("email") or ""))
            if signed is not None:
                audit.log(engine(), signed, "login", detail="single sign-on")
                st.session_state[VIEWER] = signed
        if signed is None:
            return None
        now = accounts.current(signed)
    except UsersFileError as exc:
        st.error(str(exc))
        st.stop()
    if now is None:
        st.session_state.clear()
    else:
        st.session_state[VIEWER] = now
    return now


def viewer() -> Viewer:
    """The signed-in viewer; the page stops here for anyone else."""
    v = current_viewer()
    if v is None:
        st.warning("Please sign in.")
        st.stop()
    return v


def sign_in(username: str, password: str) -> Viewer | None:
    gate = throttle()
    if gate.locked(username):
        audit.log(engine(), Viewer(username or "(blank)", "none"), "login_failed", detail="locked after repeated failures")
        return None
    found = book().verify(username, password)
    if found is None:
        gate.failed(username)
        audit.log(engine(), Viewer(username or "(blank)", "none"), "login_failed", detail="wrong username or password")
        return None
    gate.succeeded(username)
    audit.log(engine(), found, "login", detail="password")
    st.session_state[VIEWER] = found
    return found


def sign_out(v: Viewer) -> None:
    audit.log(engine(), v, "logout")
    st.session_state.clear()
    if oidc_configured() and st.user.is_logged_in:
        st.logout()
    st.rerun()


def log_view(v: Viewer, action: str, key: str, alert_id: str | None = None, detail: str = "") -> None:
    """Log a view once per change of what is viewed, not on every rerun of the same page."""
    if st.session_state.get("_last_view") != (action, key):
        audit.log(engine(), v, action, alert_id, detail)
        st.session_state["_last_view"] = (action, key)


def mask(scope: str) -> Mask:
    return Mask(revealed=scope in st.session_state.get("_revealed", {}))


def reveal(v: Viewer, scope: str, reason: str, alert_id: str | None, label: str) -> None:
    """Show the real plates and names of ``scope`` for the rest of the session, logged with the reason."""
    require(v, "reveal")
    reason = reason.strip()
    if len(reason) < MIN_REASON:
        raise ValueError(f"state why you need the identities (at least {MIN_REASON} characters)")
    audit.log(engine(), v, "reveal", alert_id, f"{label}: {reason}")
    st.session_state.setdefault("_revealed", {})[scope] = reason


def reveal_panel(v: Viewer, scope: str, alert_id: str | None, label: str) -> Mask:
    """The reveal control of a page and the mask it results in."""
    current = mask(scope)
    if current.revealed:
        st.warning(f"Identities revealed for {label} (reason: {st.session_state['_revealed'][scope]}). "
                   "This was recorded in the access log.", icon=":material/visibility:")
        return current
    with st.expander("Reveal plates and names", icon=":material/visibility_off:"):
        st.caption("Plates and officer names are pseudonyms. Revealing them is recorded with your reason.")
        reason = st.text_input("Reason", key=f"reveal_reason_{scope}", placeholder="e.g. interview with the officer scheduled")
        if st.button("Reveal", key=f"reveal_{scope}"):
            try:
                reveal(v, scope, reason, alert_id, label)
            except ValueError as exc:
                st.error(str(exc))
            else:
                st.rerun()
    return current


def time_columns(*names: str) -> dict[str, st.column_config.DatetimeColumn]:
    """Column settings showing timestamps to the minute, in UTC as stored."""
    return {n: st.column_config.DatetimeColumn(n, format="YYYY-MM-DD HH:mm", timezone="UTC") for n in names}


def fmt_ts(value: datetime | None) -> str:
    return "" if value is None or pd.isna(value) else value.strftime("%Y-%m-%d %H:%M UTC")
