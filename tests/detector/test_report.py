"""The auditor's HTML report: built from replay batches, self-contained, and naming nobody."""

from __future__ import annotations

import csv
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from detector.cli import main
from detector.explain import pseudonym
from detector.policy import load_policy
from detector.report import Periods, scrub, user_label
from detector.report_svg import _ticks, bar_chart, line_chart, percent
from detector.schema import NS_DAY
from streams.replay import replay

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
HEADINGS = ("Summary", "Searches over time", "Out-of-state and federal access", "Stated reasons", "Networks searched",
            "Policy findings", "Top alerts", "Officers ranked by anomaly", "Method and limits")
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--headless", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory):
    from synthetic import generate

    data = generate(days=14, searches=8000)
    directory = tmp_path_factory.mktemp("synthetic")
    data.write(directory)
    return data, directory


@pytest.fixture(scope="module")
def audit_report(synthetic):
    """The network audit export replayed with the default (retrospective) model and a report."""
    data, directory = synthetic
    out = directory / "out"
    summary = replay(directory / "flock_network_audit.csv", out, progress=False, report=out / "report.html")
    return data, directory, summary, (out / "report.html").read_text(encoding="utf-8")


def headings(html: str) -> list[str]:
    return re.findall(r"<h2 id=\"[a-z]+\">([^<]+)</h2>", html)


def identities(path: Path) -> tuple[set[str], set[str]]:
    """Officer names and plates in a network audit export, as written there."""
    names, plates = set(), set()
    with path.open(encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            row = {k.strip(): v for k, v in row.items()}
            if row["Name"] not in ("", "***"):
                names.add(row["Name"])
            if row["License Plate"] not in ("", "***"):
                plates.add(row["License Plate"])
    return names, plates


def test_report_on_a_network_audit_export_has_every_section(audit_report):
    _, _, summary, html = audit_report
    assert headings(html) == list(HEADINGS)
    assert summary.outputs[-1].endswith("report.html")
    assert html.count("<svg") >= 5 and html.count("<polyline") >= 3
    assert "Policy: <b>California</b>" in html and "CA-SB34" in html
    assert "fitted on the replayed data itself" in html


def test_report_names_no_officer_and_no_plate(audit_report):
    _, directory, _, html = audit_report
    names, plates = identities(directory / "flock_network_audit.csv")
    assert len(names) > 50 and len(plates) > 500
    text = html.upper()
    assert [n for n in names if n.upper() in text] == []
    assert [p for p in plates if len(p) >= 5 and p.upper() in text] == []
    assert re.search(r"user#[0-9a-f]{6}", html)


def test_report_alerts_rest_on_policy_rules_and_pseudonyms(audit_report):
    *_, summary, html = audit_report
    alerts = html.split('<h2 id="alerts">')[1].split('<h2 id="officers">')[0]
    cards = alerts.split('<div class="alert ')[1:]
    assert len(cards) == min(15, summary.alerts) > 0
    assert all("Rests on: " in card and re.search(r"user#[0-9a-f]{6}|\(redacted\)", card) for card in cards)
    assert "Rests on: CA-SB34" in alerts  # the synthetic network is searched from Texas and Nevada


def test_report_finds_the_dropdown_switch(audit_report):
    data, *_, html = audit_report
    switch = data.switch_date.strftime("%Y-%m-%d")
    assert f"appears on <b>{switch}</b>" in html
    assert "before the dropdown" in html and "after the dropdown" in html
    assert "Motor Vehicle Theft/Stolen" in html  # dropdown labels are a fixed vocabulary, safe to print


def test_report_on_a_canonical_dataset_directory(synthetic, tmp_path):
    data, directory = synthetic
    summary = replay(directory, tmp_path, progress=False, retrospective=False, report=tmp_path / "r.html", policy="illinois")
    html = (tmp_path / "r.html").read_text(encoding="utf-8")
    assert headings(html) == list(HEADINGS)
    assert "Policy: <b>Illinois</b>" in html and "IL-625ILCS5/2-130" in html
    users = set(data.searches["user_id"]) - {""}
    assert [u for u in users if len(u) >= 4 and u in html] == []
    assert summary.scored == len(data.searches)


def test_report_keeps_aggregates_not_rows(synthetic, tmp_path):
    """Tables grow with days, states, agencies and accounts; the report holds nothing per search."""
    from detector.engine import Detector
    from detector.reference import load_reference
    from detector.report import ReportBuilder
    from detector.validate import RejectCounter
    from streams.sources import open_searches

    data, directory = synthetic
    reference = load_reference(directory)
    policy = load_policy("california")
    detector, builder = Detector(reference, policy), ReportBuilder(reference, policy)
    for batch in open_searches(directory / "searches.csv", RejectCounter(), chunk_rows=1000):
        builder.add(batch, detector.process(batch))
    d = builder.data
    assert d.rows == len(data.searches)
    assert len(d.daily) <= data.days + 1
    assert len(d.users) <= data.searches[["agency", "user_id"]].drop_duplicates().shape[0]
    assert len(d.day_state) <= (data.days + 1) * data.searches["agency_state"].nunique()
    assert len(d.agencies) <= data.searches["agency"].nunique()
    assert int(d.daily["searches"].sum()) == len(data.searches)


@pytest.mark.parametrize("sample, agency, extra, expect", [
    ("flock_portal_eugene_or_2025-06_12.csv", "Eugene Police Department", [], "number of cameras searched"),
    ("san_mateo_ca_own_search_audit_2025-12.csv", "San Mateo Police Department", ["--policy", "california"],
     "appears on <b>2025-12-16</b>"),
    ("flock_portal_grandville_mi_2026-09.csv", "Grandville Police Department", ["--no-model"],
     "no free-text period to compare with"),
])
def test_report_on_a_released_sample(shared, tmp_path, capsys, sample, agency, extra, expect):
    path = shared / "samples" / sample
    report = tmp_path / "report.html"
    assert main(["replay", str(path), "--agency", agency, "--out", str(tmp_path), "--report", str(report),
                 "--no-progress", *extra]) == 0
    assert f"wrote {report}" in capsys.readouterr().out
    html = report.read_text(encoding="utf-8")
    assert headings(html) == list(HEADINGS)
    assert expect in html
    assert "one agency only" in html  # an own-search log says nothing about other agencies
    users = set(pd.read_csv(path, dtype=str, keep_default_na=False)["userId"]) - {"", "***"}
    assert [u for u in users if u in html] == []


def test_report_without_searches_still_renders(tmp_path):
    path = tmp_path / "searches.csv"
    path.write_text("search_id,ts,user_id,agency\na,not-a-time,u1,PD\n", encoding="utf-8")
    summary = replay(path, tmp_path / "out", progress=False, retrospective=False, report=tmp_path / "r.html")
    html = (tmp_path / "r.html").read_text(encoding="utf-8")
    assert summary.rejected == 1
    assert "no searches that could be scored" in html and "Method and limits" in html


def test_charts_are_valid_svg_and_escape_their_labels():
    bars = bar_chart(["<script>alert(1)</script>", "b"], {"before": [1, 2], "after": [3, 0]}, "t & t")
    lines = line_chart(["2025-01-01", "2025-01-02", "2025-01-03"], {"x<y": [0.1, 0.5, 0.2]}, "share", fmt=percent,
                       marker=(1, "switch"))
    for svg in (bars, lines):
        root = ET.fromstring(svg)
        assert root.tag.endswith("svg") and root.get("role") == "img"
    assert "<script>" not in bars and "&lt;script&gt;" in bars
    assert line_chart(["2025-01-01"], {"n": [3]}, "one day").count("<circle") == 1


@pytest.mark.parametrize("peak, ticks", [(95, [0, 25, 50, 75, 100]), (0.3, [0, 0.1, 0.2, 0.3]), (0, [0.0]),
                                         (4, [0, 1, 2, 3, 4])])
def test_axis_ticks_are_round(peak, ticks):
    assert _ticks(peak) == pytest.approx(ticks)


def test_long_logs_are_charted_per_monday_week():
    start = pd.Timestamp("2025-01-01").value // NS_DAY  # a Wednesday
    periods = Periods(np.array([start, start + 200]))
    assert periods.unit == "week"
    assert periods.labels[0] == "2024-12-30"  # its Monday
    assert periods.position(start + 7) == 1
    by_day = pd.DataFrame({"searches": [2.0, 3.0]}, index=[start, start + 200])
    summed = periods.sum(by_day)
    assert len(summed) == len(periods.labels) and summed["searches"].sum() == 5
    assert Periods(np.array([start, start + 30])).unit == "day"


def test_scrub_replaces_the_officer_in_a_summary():
    text = "User Wei Martinez (Harris County Sheriff's Office) looked up plate#337ef7: review."
    out = scrub(text, ["Wei Martinez"])
    assert "Wei Martinez" not in out and out.startswith(f"User {pseudonym('Wei Martinez', 'user')} (")
    assert scrub("User 7 (PD) ran 7 searches", ["7"]) == f"User {user_label('7')} (PD) ran 7 searches"
    assert user_label("") == "(redacted)"


@pytest.mark.browser
@pytest.mark.slow
def test_report_renders_in_a_browser_without_errors_or_fetches(audit_report):
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.skip("Debian chromium is not installed (apt-get install -y chromium)")
    *_, html = audit_report
    page_file = ARTIFACTS / "report.html"
    ARTIFACTS.mkdir(exist_ok=True)
    page_file.write_text(html, encoding="utf-8")
    errors: list[str] = []
    fetched: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1100, "height": 1000})
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.on("request", lambda r: fetched.append(r.url))
        page.goto(page_file.as_uri())
        for heading in HEADINGS:
            assert page.get_by_role("heading", name=heading, exact=True).is_visible()
        charts = page.locator("svg.chart")
        assert charts.count() >= 5 and charts.first.bounding_box()["width"] > 300
        page.screenshot(path=str(ARTIFACTS / "report.png"), full_page=True)
        browser.close()
    page_file.unlink()
    assert errors == []
    assert fetched == [page_file.as_uri()]


def test_report_counts_searches_that_joined_an_alert_after_their_batch_as_flagged():
    from batches import REF, days, make_batch

    from detector.engine import Detector
    from detector.report import ReportBuilder

    policy = load_policy("california")
    detector, builder = Detector(REF, policy), ReportBuilder(REF, policy)
    batch = make_batch([{"ts": t, "plate": "EX1", "reason": "inv"} for t in days(12)])
    late = 0
    alerts = {}
    for i in range(0, 12, 3):
        result = detector.process(batch.iloc[i:i + 3].reset_index(drop=True))
        builder.add(batch.iloc[i:i + 3].reset_index(drop=True), result)
        late += len(result.late)
        alerts |= {a.alert_id: a for a in result.alerts}
    (alert,) = alerts.values()
    d = builder.data
    assert late and not d.held  # a held search came back, and the report let go of it
    for table in (d.daily, d.agencies, d.users):
        assert int(table["flagged"].sum()) == len(alert.search_ids)


@pytest.mark.parametrize("repeat, stands_out", [(False, False), (True, True)])
def test_the_officers_table_says_when_no_search_showed_a_pattern(tmp_path, repeat, stands_out):
    """Scores without a pattern still rank searches (the lowest band): that alone is no account standing out."""
    rows = ["search_id,ts,user_id,agency,plate,reason"]
    for i in range(24):
        plate = "SAME1" if repeat and i % 3 == 0 else f"P{i}"
        rows.append(f"s{i},2025-10-{1 + i // 3:02d}T0{i % 3 + 1}:00:00Z,u{i % 2},Town PD,{plate},investigation")
    path = tmp_path / "searches.csv"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    replay(path, tmp_path / "out", progress=False, retrospective=False, report=tmp_path / "r.html")
    html = (tmp_path / "r.html").read_text(encoding="utf-8")
    scores = pd.read_csv(tmp_path / "out" / "scores.csv")
    assert (scores["score"] > 0).all()  # every search caseless and vague: all ranked in the lowest band
    assert ("No account stands out" not in html) == stands_out
