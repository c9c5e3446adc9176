"""One alert with everything a disciplinary review needs, on screen and as a self-contained HTML file.

The detail page and the exported case file are built from the same ``Case``, so
the file shows what the reviewer saw. The file carries its own chain of custody:
the access-log entries of the alert, this export included.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

import jinja2
import pandas as pd
from markupsafe import Markup
from sqlalchemy.engine import Connection, Engine

from dashboard import audit, maps, queries
from dashboard.auth import Viewer, require
from dashboard.baseline import BASELINE_DAYS, Baseline, baseline, hour_profile
from dashboard.masking import Mask
from detector.redaction import WITHHELD

AFTER_DAYS = 7  # the timeline runs this far past the episode, to show whether it stopped
MAX_PLATES = 25  # plate histories shown per alert
SEARCH_FIELDS = ["ts", "search_id", "user_id", "agency", "agency_state", "search_type", "plate", "plate_state", "reason",
                 "offense_type", "case_number", "on_behalf_of", "networks_searched", "devices_searched", "results", "lat",
                 "lon", "radius_m", "window_start", "window_end"]


def named_plates(rows: pd.DataFrame) -> list[str]:
    """The plates searches name: not an empty one, nor one the log withheld (``***``)."""
    return [p for p in rows["plate"].dropna().unique().tolist() if p and p != WITHHELD]


class CaseNotFound(LookupError):
    pass


@dataclass
class Case:
    record: dict
    rows: pd.DataFrame  # the alert's searches
    context: pd.DataFrame  # the account's searches from the baseline start to after the episode
    histories: pd.DataFrame  # who else searched the alert's plates
    dispositions: pd.DataFrame
    areas: pd.DataFrame
    sites: pd.DataFrame  # sensitive sites near the searched areas

    @property
    def first_ts(self) -> pd.Timestamp:
        return pd.Timestamp(self.record["first_ts"]).tz_convert("UTC")

    @property
    def last_ts(self) -> pd.Timestamp:
        return pd.Timestamp(self.record["last_ts"]).tz_convert("UTC")

    @property
    def plates(self) -> list[str]:
        return named_plates(self.rows)

    @property
    def users(self) -> list[str]:
        return list(dict.fromkeys([self.record["user_id"], *self.record.get("users", [])]))

    def before(self) -> pd.DataFrame:
        return self.context[self.context["ts"] < self.first_ts]

    def baseline(self) -> Baseline:
        return baseline(self.before())

    def hour_profile(self) -> pd.DataFrame:
        return hour_profile(self.before()["ts"], self.rows["ts"])

    def signals(self) -> pd.DataFrame:
        return pd.DataFrame(self.record["signals"], columns=["name", "title", "weight", "detail"])

    def masked_rows(self, mask: Mask) -> pd.DataFrame:
        return mask.frame(self.rows[SEARCH_FIELDS], self.plates)

    def masked_histories(self, mask: Mask) -> pd.DataFrame:
        h = self.histories
        own = (h["user_id"] == self.record["user_id"]) & (h["agency"] == self.record["agency"])
        return mask.frame(h).assign(who=["this user" if o else "other user" for o in own])

    def summary(self, mask: Mask) -> str:
        return mask.summary(self.record["summary"], self.record["user_id"], self.plates)


def gather(conn: Connection, alert_id: str, all_sites: pd.DataFrame) -> Case:
    record = queries.alert(conn, alert_id)
    if record is None:
        raise CaseNotFound(alert_id)
    rows = queries.searches_by_id(conn, record["search_ids"])
    first, last = (pd.Timestamp(record[k]).floor("us") for k in ("first_ts", "last_ts"))
    context = queries.user_searches(conn, record["user_id"], record["agency"],
                                    (first - timedelta(days=BASELINE_DAYS)).to_pydatetime(),
                                    (last + timedelta(days=AFTER_DAYS)).to_pydatetime())
    plates = named_plates(rows)[:MAX_PLATES]
    searched = maps.areas(rows)
    return Case(
        record=record, rows=rows, context=context, histories=queries.plate_histories(conn, plates),
        dispositions=queries.dispositions_of(conn, [alert_id]), areas=searched,
        sites=maps.nearby_sites(all_sites, searched),
    )


def export(engine: Engine, viewer: Viewer, alert_id: str, all_sites: pd.DataFrame, mask: Mask) -> str:
    """Log the export, then build the file; the log entry is part of the file's own trail."""
    require(viewer, "export")
    with engine.begin() as conn:
        audit.record(conn, viewer, "export", alert_id, "case file, identities revealed" if mask.revealed else "case file, masked")
        case = gather(conn, alert_id, all_sites)
        trail = audit.trail(conn, alert_id)
    return render(case, mask, viewer, trail)


def _table(frame: pd.DataFrame) -> Markup:
    """An HTML table; cell text is escaped, since reasons are free text from the source logs."""
    shown = frame.copy()
    for c in shown.columns:
        if pd.api.types.is_datetime64_any_dtype(shown[c]):
            shown[c] = shown[c].dt.strftime("%Y-%m-%d %H:%M:%S")
    shown = shown.astype(object).where(shown.notna(), "")
    return Markup('<div class="wide">' + shown.to_html(index=False, escape=True, border=0, classes="grid") + "</div>")


def _hour_svg(profile: pd.DataFrame) -> Markup:
    """Share of searches per hour, before (grey) and during (red) the episode, as inline SVG."""
    width, height, pad = 720, 160, 20
    top = max(float(profile[["baseline", "episode"]].to_numpy().max()), 0.01)
    step = (width - 2 * pad) / 24
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height + 30}" role="img" '
             f'aria-label="searches per hour of day">']
    for _, r in profile.iterrows():
        x = pad + r["hour"] * step
        for offset, key, color in ((0.1, "baseline", "#7a8a99"), (0.5, "episode", "#d7301f")):
            h = r[key] / top * height
            parts.append(f'<rect x="{x + offset * step:.1f}" y="{height - h:.1f}" width="{0.4 * step:.1f}" height="{h:.1f}" '
                         f'fill="{color}"/>')
        parts.append(f'<text x="{x + step / 2:.1f}" y="{height + 14}" font-size="10" text-anchor="middle">{int(r["hour"]):02d}</text>')
    parts.append(f'<text x="{pad}" y="{height + 28}" font-size="11">hour of day (UTC); grey: {BASELINE_DAYS} days before, '
                 'red: this alert</text></svg>')
    return Markup("".join(parts))


TEMPLATE = jinja2.Environment(autoescape=True).from_string("""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>Case file {{ r.alert_id }}</title>
<style>
body { font: 14px/1.45 system-ui, sans-serif; margin: 2em auto; max-width: 1100px; color: #222; }
h1 { font-size: 1.6em; } h2 { border-bottom: 1px solid #ccc; padding-bottom: .2em; margin-top: 1.8em; }
table.grid, table.facts { border-collapse: collapse; font-size: 12px; }
table.grid th, table.grid td, table.facts th, table.facts td { border: 1px solid #ccc; padding: 3px 6px; text-align: left; vertical-align: top; }
table.facts th { background: #f3f3f3; width: 14em; }
.banner { padding: .6em 1em; border: 1px solid #c60; background: #fff4e5; }
.sev { font-weight: bold; text-transform: uppercase; }
.wide { overflow-x: auto; }
</style></head><body>
<h1>Case file: alert {{ r.alert_id }}</h1>
<p class="banner">Generated {{ generated }} by {{ viewer.username }} ({{ viewer.role }}) from the alpr-watch alert store.
{% if mask.revealed %}Plates and officer names are <b>revealed</b> in this file: handle it as personal data.
{% else %}Plates and officer names are <b>pseudonyms</b> (<code>plate#…</code>, <code>user#…</code>, the detector's own);
the store links them to the real values.{% endif %} This export is recorded in the access log.</p>

<h2>Alert</h2>
<table class="facts">
<tr><th>Severity</th><td class="sev">{{ r.severity }}</td></tr>
<tr><th>Risk score</th><td>{{ r.score }}</td></tr>
<tr><th>Pattern</th><td>{{ r.pattern }}</td></tr>
<tr><th>Account</th><td>{{ user }} ({{ r.agency }})</td></tr>
{% if others %}<tr><th>Other accounts in the episode</th><td>{{ others | join(", ") }}</td></tr>{% endif %}
<tr><th>Period</th><td>{{ first }} to {{ last }}</td></tr>
<tr><th>Searches</th><td>{{ r.search_ids | length }}</td></tr>
<tr><th>Status</th><td>{{ r.status }}</td></tr>
<tr><th>Assigned to</th><td>{{ r.assignee or "nobody" }}</td></tr>
</table>
<p><b>Summary.</b> {{ summary }}</p>

<h2>Why it was flagged</h2>
{{ signals }}

<h2>Review decisions</h2>
{% if has_dispositions %}{{ dispositions }}{% else %}<p>No disposition recorded yet.</p>{% endif %}

<h2>The account's habits</h2>
<p>The {{ days }} days before the episode:</p>
<table class="facts">{% for k, v in baseline %}<tr><th>{{ k }}</th><td>{{ v }}</td></tr>{% endfor %}</table>
{{ hours }}

<h2>The searches of this alert (raw audit rows)</h2>
{% if has_rows %}{{ rows }}{% else %}<p>The store holds no audit rows for these searches.</p>{% endif %}

<h2>Histories of the searched plates</h2>
{% if has_histories %}<p>Every account that searched these plates, with how often and how many times with a case number.</p>
{{ histories }}{% else %}<p>No plates searched, or no history stored.</p>{% endif %}

<h2>Sensitive sites near the searched areas</h2>
{% if has_sites %}{{ sites }}{% else %}<p>No area searches near a known sensitive site (or no site list configured).</p>{% endif %}

<h2>Chain of custody</h2>
<p>Every access to this alert recorded by the dashboard, this export included.</p>
{{ trail }}
</body></html>
""")


def render(case: Case, mask: Mask, viewer: Viewer, trail: pd.DataFrame) -> str:
    r = case.record
    sites = case.sites[["category", "name", "distance_m"]] if len(case.sites) else case.sites
    return TEMPLATE.render(
        r=r, viewer=viewer, mask=mask, generated=datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        first=case.first_ts.strftime("%Y-%m-%d %H:%M UTC"), last=case.last_ts.strftime("%Y-%m-%d %H:%M UTC"),
        user=mask.user(r["user_id"]), others=[mask.user(u) for u in case.users[1:]], summary=case.summary(mask),
        signals=_table(case.signals()[["title", "name", "weight", "detail"]]),
        has_dispositions=len(case.dispositions) > 0, dispositions=_table(case.dispositions.drop(columns="alert_id")),
        days=BASELINE_DAYS, baseline=case.baseline().lines(), hours=_hour_svg(case.hour_profile()),
        has_rows=len(case.rows) > 0, rows=_table(case.masked_rows(mask)),
        has_histories=len(case.histories) > 0, histories=_table(case.masked_histories(mask)),
        has_sites=len(sites) > 0, sites=_table(sites), trail=_table(trail),
    )
