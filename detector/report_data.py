"""Running aggregates of a replay, for the audit report.

A network audit export runs to 17 million rows, so the report keeps no rows: every
batch is folded into counts keyed by day, state, agency, officer, dropdown label and
alert, which grow with the length of the period and the number of people, not with
the number of searches (but for the few flagged searches an episode holds until it opens
an alert). Keys are codes while a batch is folded (a Python call per row
would cost more than the detector) and strings only in the small tables kept.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa

from detector.engine import BatchResult
from detector.policy import Policy
from detector.reasons import BIT, CATEGORIES, PROTECTED, classify_column, gives_case
from detector.reference import Reference
from detector.rules import SIGNAL_INDEX, RuleParams
from detector.schema import NS_DAY, ts_ns
from streams.vendor.dropdown import CATEGORIES as DROPDOWN_LABELS
from streams.vendor.dropdown import categories as dropdown_categories

# Policy findings the detector turns into signals; a search counts when its signal fired.
FINDINGS = ("outside_sharing", "declared_sharing", "forbidden_purpose")
# Reason groups: the taxonomy, plus 'specific' for a reason no category matched ("stolen bike 3rd st").
REASON_GROUPS = (*CATEGORIES, "specific")
# Networks a search must reach to count as nationwide: the detector's own threshold.
NATIONWIDE = RuleParams().nationwide_networks
NETWORK_EDGES = np.array([1, 2, 11, 51, 100, 501, 1001])
NETWORK_BINS = ("0", "1 (own)", "2-10", "11-50", "51-99", "100-500", "501-1,000", "over 1,000", "not given")
DEVICE_EDGES = np.array([1, 11, 101, 1001, 10001])
DEVICE_BINS = ("0", "1-10", "11-100", "101-1,000", "1,001-10,000", "over 10,000", "not given")
_KNOWN_LABELS = frozenset(DROPDOWN_LABELS)


def _bins(values: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Counts per bin: below the first edge, between edges, above the last, and missing."""
    missing = np.isnan(values)
    slot = np.searchsorted(edges, np.where(missing, 0, values), side="right")
    slot[missing] = len(edges) + 1
    return np.bincount(slot, minlength=len(edges) + 2)


def _sums(codes: np.ndarray, size: int, columns: dict[str, np.ndarray]) -> pd.DataFrame:
    """Column sums per code, with one bincount per column (much cheaper than a groupby)."""
    return pd.DataFrame({name: np.bincount(codes, weights=np.asarray(v, dtype=np.float64), minlength=size)
                         for name, v in columns.items()})


def _merge(acc: pd.DataFrame | None, new: pd.DataFrame, maxima: tuple[str, ...] = ()) -> pd.DataFrame:
    """Fold a batch's table into the running one: sums, except ``maxima`` columns."""
    both = new if acc is None else pd.concat([acc, new])
    grouped = both.groupby(level=list(range(both.index.nlevels)), sort=False)
    out = grouped.sum()
    for name in maxima:
        out[name] = grouped[name].max()
    return out


def _pairs(a: pd.Series, b: pd.Series) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Codes of the distinct (a, b) pairs per row, and each pair's a and b."""
    a_codes, a_uniques = pd.factorize(a, sort=False)
    b_codes, b_uniques = pd.factorize(b, sort=False)
    width = max(len(b_uniques), 1)
    codes, keys = pd.factorize(a_codes.astype(np.int64) * width + b_codes, sort=False)
    return (codes, np.asarray(a_uniques, dtype=object)[keys // width],
            np.asarray(b_uniques, dtype=object)[keys % width])


def dropdown_label(reason: np.ndarray, offense: np.ndarray) -> np.ndarray:
    """Flock dropdown label(s) of each distinct (reason, offense type) pair, '' for free text.

    A reason in the ``Category - text`` form counts; so does an offense type made of
    known labels when no reason text was written (portal files with ``offenseType``
    only). An offense type beside free text does not: canonical logs fill it from a
    separate list long before the dropdown existed.
    """
    from_reason = dropdown_categories(pa.array(reason, pa.string())).to_numpy(zero_copy_only=False)
    known = np.array([bool(o) and all(part in _KNOWN_LABELS for part in o.split(", ")) for o in offense], dtype=bool)
    return np.where(from_reason != "", from_reason, np.where((reason == "") & known, offense, ""))


class ReportData:
    """What the report needs from every scored batch, folded as the replay goes."""

    def __init__(self, reference: Reference, policy: Policy) -> None:
        self.reference = reference
        self.policy = policy
        self.rows = 0
        self.redacted_rows = 0
        self.first_ns: int | None = None
        self.last_ns: int | None = None
        self.daily: pd.DataFrame | None = None  # day number -> counts
        self.day_state: pd.DataFrame | None = None  # (day, state) -> searches
        self.labels: pd.DataFrame | None = None  # (day, dropdown label) -> searches
        self.agencies: pd.DataFrame | None = None  # (agency, state, kind) -> searches, flagged
        self.users: pd.DataFrame | None = None  # (agency, user_id) -> counts, score sum and max
        self.search_types: pd.DataFrame | None = None
        self.networks = np.zeros(len(NETWORK_BINS), dtype=np.int64)
        self.devices = np.zeros(len(DEVICE_BINS), dtype=np.int64)
        self.forbidden_by_category = dict.fromkeys(PROTECTED, 0)
        self.alert_bits: dict[str, int] = {}
        # flagged searches an episode holds (``BatchResult.held``): their day, organisation, officer and reason
        # bits, counted as flagged once they join an alert (``BatchResult.late``)
        self.held: dict[str, tuple] = {}

    def add(self, batch: pd.DataFrame, result: BatchResult) -> None:
        """Fold one batch and its result (scores and signals aligned with the batch rows)."""
        n = len(batch)
        if not n:
            return
        t = ts_ns(batch["ts"])
        self.first_ns = int(t.min()) if self.first_ns is None else min(self.first_ns, int(t.min()))
        self.last_ns = int(t.max()) if self.last_ns is None else max(self.last_ns, int(t.max()))
        self.rows += n
        day_codes, days = pd.factorize(t // NS_DAY, sort=False)
        org_codes, org_agency, org_state, org_kind = self._organisations(batch)
        state_of_org, states = pd.factorize(org_state, sort=False)
        state_codes = state_of_org[org_codes]
        bits = classify_column(batch["reason"], batch["offense_type"])
        flagged = result.scores["flagged"].to_numpy(dtype=bool)
        score = result.scores["score"].to_numpy(dtype=np.float64)
        found = {f: result.signals[:, SIGNAL_INDEX[f]] > 0 for f in FINDINGS}
        networks = batch["networks_searched"].to_numpy(dtype=np.float64)
        label_codes, labels = self._labels(batch)
        nocase = ~gives_case(batch["case_number"])
        vague = (bits & (BIT["vague"] | BIT["missing"])) != 0

        columns = {"searches": np.ones(n), "flagged": flagged, "dropdown": label_codes >= 0,
                   "federal": (org_state == "US")[org_codes], "private": (org_kind == "private")[org_codes],
                   "nocase": nocase, "nationwide": networks >= NATIONWIDE, **found}
        columns.update({c: (bits & BIT[c]) != 0 for c in CATEGORIES})
        columns["specific"] = bits == 0
        self.daily = _merge(self.daily, _sums(day_codes, len(days), columns).set_index(pd.Index(days, name="day")))
        self.day_state = _merge(self.day_state, self._keyed(day_codes, days, state_codes, np.asarray(states, dtype=object),
                                                            ("day", "state"), {"searches": np.ones(n)}))
        if labels.size:
            has = label_codes >= 0
            self.labels = _merge(self.labels, self._keyed(day_codes[has], days, label_codes[has], labels, ("day", "label"),
                                                          {"searches": np.ones(int(has.sum()))}))
        per_org = _sums(org_codes, len(org_agency), {"searches": np.ones(n), "flagged": flagged})
        per_org.index = pd.MultiIndex.from_arrays([org_agency, org_state, org_kind], names=("agency", "state", "kind"))
        self.agencies = _merge(self.agencies, per_org)

        user_codes, user_org, user_id = _pairs(pd.Series(org_codes), batch["user_id"])
        per_user = _sums(user_codes, len(user_org), {
            "searches": np.ones(n), "flagged": flagged, "score_sum": score, "nocase": nocase, "vague": vague,
            "nationwide": networks >= NATIONWIDE, "model_sum": result.signals[:, SIGNAL_INDEX["model_anomaly"]]})
        per_user["score_max"] = pd.Series(score).groupby(user_codes).max().to_numpy()
        per_user.index = pd.MultiIndex.from_arrays([org_agency[user_org.astype(np.int64)], user_id], names=("agency", "user_id"))
        self.users = _merge(self.users, per_user, maxima=("score_max",))

        self.search_types = _merge(self.search_types, batch["search_type"].value_counts().to_frame("searches"))
        self.redacted_rows += int((batch["user_id"] == "").sum())
        self.networks += _bins(networks, NETWORK_EDGES)
        self.devices += _bins(batch["devices_searched"].to_numpy(dtype=np.float64), DEVICE_EDGES)
        for cat in PROTECTED:
            self.forbidden_by_category[cat] += int((found["forbidden_purpose"] & ((bits & BIT[cat]) != 0)).sum())
        if flagged.any():
            ids = result.scores["alert_id"].to_numpy(dtype=object)[flagged]
            for alert_id, mask in pd.Series(bits[flagged]).groupby(ids).agg(np.bitwise_or.reduce).items():
                self.alert_bits[alert_id] = self.alert_bits.get(alert_id, 0) | int(mask)
        user_index = per_user.index
        for j in np.flatnonzero(result.held).tolist():
            self.held[result.scores["search_id"].iat[j]] = (
                days[day_codes[j]], per_org.index[org_codes[j]], user_index[user_codes[j]], int(bits[j]))
        self._join_late(result.late)

    def _join_late(self, late: pd.DataFrame) -> None:
        """Count held searches of earlier batches that joined an alert now as flagged, in it."""
        for search_id, alert_id in zip(late["search_id"].tolist(), late["alert_id"].tolist()):
            day, org, user, bits = self.held.pop(search_id)
            self.daily.loc[day, "flagged"] += 1
            self.agencies.loc[org, "flagged"] += 1
            self.users.loc[user, "flagged"] += 1
            self.alert_bits[alert_id] = self.alert_bits.get(alert_id, 0) | bits

    def _organisations(self, batch: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Codes of the distinct (agency, stated state) pairs, and each one's agency, state and kind.

        The state is the row's, else the reference's; federal agencies get ``US`` and kind
        ``federal`` either way, as the engine reads them.
        """
        codes, agency, own_state = _pairs(batch["agency"], batch["agency_state"])
        ref = self.reference
        state = np.array([s or ref.agency_state.get(a, "") for a, s in zip(agency, own_state)], dtype=object)
        kind = np.array([ref.agency_kind.get(a, "") for a in agency], dtype=object)
        federal = (state == "US") | (kind == "federal")
        return codes, agency, np.where(federal, "US", state).astype(object), np.where(federal, "federal", kind).astype(object)

    @staticmethod
    def _labels(batch: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
        """Per row, the code of its dropdown label (-1 for free text), and the labels."""
        pair_codes, reason, offense = _pairs(batch["reason"], batch["offense_type"])
        per_pair = dropdown_label(reason, offense)
        codes, labels = pd.factorize(pd.Series(per_pair, dtype=object).replace("", None), sort=False)
        return codes[pair_codes], np.asarray(labels, dtype=object)

    @staticmethod
    def _keyed(day_codes: np.ndarray, days: np.ndarray, codes: np.ndarray, names: np.ndarray, index: tuple[str, str],
               columns: dict[str, np.ndarray]) -> pd.DataFrame:
        """Column sums per (day, name), for the few names (states, labels) a batch holds."""
        width = max(len(names), 1)
        keys, uniques = pd.factorize(day_codes.astype(np.int64) * width + codes, sort=False)
        table = _sums(keys, len(uniques), columns)
        table.index = pd.MultiIndex.from_arrays([days[uniques // width], names[uniques % width]], names=index)
        return table
