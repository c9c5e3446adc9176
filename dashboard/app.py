"""Entry point of the internal-affairs dashboard (``streamlit run dashboard/app.py``).

Navigation is built per request from the signed-in viewer's role: someone not
signed in gets only the sign-in page, and only supervisors get the access log.
"""

from __future__ import annotations

import streamlit as st

from dashboard import session

# No page icons: the browser would fetch them from a Google CDN as the favicon of each page.
st.set_page_config(page_title="alpr-watch: internal affairs", layout="wide")
# Built-in CSV download and clipboard copy would let data leave without an access-log entry.
st.set_option("client.disableDataExport", True)

viewer = session.current_viewer()
if viewer is None:
    # The sign-in form answers at every page's address, so a link to an alert leads to it once signed in.
    page = st.navigation([st.Page("views/login.py", title="Sign in", url_path=path, default=not path)
                          for path in ("", "detail", "user", "overview", "suppressions", "access_log")], position="hidden")
else:
    pages = [
        st.Page("views/queue.py", title="Alert queue", default=True),
        st.Page("views/detail.py", title="Alert detail"),
        st.Page("views/user.py", title="User"),
        st.Page("views/overview.py", title="Overview"),
        st.Page("views/suppressions.py", title="Suppression rules"),
    ]
    if viewer.can("access_log"):
        pages.append(st.Page("views/access_log.py", title="Access log"))
    page = st.navigation(pages)
    with st.sidebar:
        st.caption(f"Signed in as **{viewer.username}** ({viewer.role})")
        if st.button("Sign out"):
            session.sign_out(viewer)
page.run()
