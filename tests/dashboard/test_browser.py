"""The real server in a real browser: sign in, open an alert from the queue, record a disposition, follow a link.

Screenshots of the queue and the detail page go to test-artifacts/ at the repository root.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
import sqlalchemy as sa
from dashboard_fixtures import PASSWORD, fill

from dashboard import auth
from detector import store

pytestmark = [pytest.mark.browser, pytest.mark.slow]
ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--headless", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def server(tmp_path):
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian chromium is not installed (apt-get install -y chromium)")
    path = tmp_path / "alerts.sqlite"
    fill(f"sqlite:///{path}")
    users = tmp_path / "users.toml"
    auth.add_account(users, "ia.rev", "reviewer", PASSWORD, rounds=4)
    port = free_port()
    log = (tmp_path / "server.log").open("w")
    proc = subprocess.Popen([sys.executable, "-m", "detector.cli", "dashboard", "--store", str(path), "--users", str(users),
                             "--port", str(port)], stdout=log, stderr=subprocess.STDOUT, cwd=tmp_path)
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(120):
            try:
                if urllib.request.urlopen(f"{url}/_stcore/health", timeout=1).status == 200:
                    break
            except OSError:
                time.sleep(0.5)
        else:
            pytest.fail("the dashboard did not start: " + (tmp_path / "server.log").read_text())
        yield url, store.open_store(f"sqlite:///{path}")
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        log.close()


def sign_in(page) -> None:
    page.get_by_role("textbox", name="Username").fill("ia.rev")
    page.get_by_role("textbox", name="Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()


def test_sign_in_open_an_alert_and_decide_it(server):
    from playwright.sync_api import expect, sync_playwright

    url, engine = server
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1600, "height": 1000})
        hosts: set[str] = set()
        page.on("request", lambda request: hosts.add(request.url.split("/")[2]))
        page.goto(url)
        sign_in(page)
        expect(page.get_by_role("heading", name="Alert queue")).to_be_visible(timeout=30_000)
        grid = page.get_by_test_id("stDataFrame")
        expect(grid).to_be_visible(timeout=30_000)
        page.wait_for_timeout(1000)
        page.screenshot(path=str(ARTIFACTS / "dashboard-queue.png"), full_page=True)

        box = grid.bounding_box()
        page.mouse.click(box["x"] + 18, box["y"] + 35 + 35 * 1.5)  # the selection cell of the second row (A1)
        expect(page.get_by_role("heading", name="Alert A1")).to_be_visible(timeout=30_000)
        page.set_viewport_size({"width": 1600, "height": 2600})  # the app scrolls inside its own pane
        page.wait_for_timeout(2000)
        page.screenshot(path=str(ARTIFACTS / "dashboard-detail.png"), full_page=True)

        page.get_by_text("false positive", exact=True).click()
        page.get_by_label("Note").fill("Plate belongs to a stolen-vehicle case, see 25-9999.")
        page.get_by_role("button", name="Record disposition").click()
        expect(page.get_by_test_id("stMetricValue").filter(has_text="false_positive")).to_be_visible(timeout=30_000)

        # a link to an alert, opened in a new session, leads to it once signed in
        linked = browser.new_page(viewport={"width": 1600, "height": 1000})
        linked.on("request", lambda request: hosts.add(request.url.split("/")[2]))
        linked.goto(f"{url}/detail?alert=A2")
        sign_in(linked)
        expect(linked.get_by_role("heading", name="Alert A2")).to_be_visible(timeout=30_000)
        expect(linked.get_by_text("Page not found")).to_have_count(0)
        linked.get_by_role("tab", name="Map").click()
        expect(linked.get_by_test_id("stDeckGlJsonChart")).to_be_visible(timeout=30_000)
        linked.wait_for_timeout(1000)
        browser.close()
    assert hosts == {url.split("/")[2]}, f"the dashboard made the browser contact {hosts}"

    with engine.connect() as conn:
        decided = conn.execute(sa.select(store.dispositions.c.alert_id, store.dispositions.c.disposition,
                                         store.dispositions.c.reviewer)).all()
        status = conn.execute(sa.select(store.alerts.c.status).where(store.alerts.c.alert_id == "A1")).scalar_one()
        actions = conn.execute(sa.select(store.access_log.c.action, store.access_log.c.alert_id)).all()
    engine.dispose()
    assert [tuple(d) for d in decided] == [("A1", "false_positive", "ia.rev")] and status == "false_positive"
    assert {("login", None), ("view_queue", None), ("view_alert", "A1"), ("disposition", "A1")} <= set(map(tuple, actions))
