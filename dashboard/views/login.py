"""Sign-in: a password from the users file, or single sign-on where it is configured."""

from __future__ import annotations

import streamlit as st

from dashboard import session

st.title("alpr-watch: internal affairs")
st.caption("Access is restricted and every view is recorded.")

if session.oidc_configured():
    if st.user.is_logged_in:
        st.error(f"{st.user.get('email') or 'This account'} has no dashboard role. Ask a supervisor to add it to the users file.")
        if st.button("Sign out of single sign-on"):
            st.logout()
    else:
        for provider in session.oidc_providers():
            if st.button(f"Sign in with {provider or 'single sign-on'}", type="primary", icon=":material/key:"):
                st.login(provider)
    st.divider()

with st.form("login"):
    username = st.text_input("Username", key="login_username")
    password = st.text_input("Password", type="password", key="login_password")
    submitted = st.form_submit_button("Sign in", type="primary")
if submitted:
    if session.sign_in(username.strip(), password) is None:
        st.error("Wrong username or password, or too many failed attempts: try again later.")
    else:
        st.rerun()
