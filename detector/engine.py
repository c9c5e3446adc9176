"""The detector: one batch in, scores and touched alerts out, state carried forward.

Replay and streaming both call ``Detector.process`` on batches; only where batches
come from and how state is checkpointed differ. Within a batch, searches are taken
in time order, so features stay causal.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from detector.alerts import Alert, Alerter
from detector.features import TARGET_FEATURES, USER_FEATURES, TargetSide, UserSide
from detector.policy import Policy
from detector.reasons import BIT, PROTECTED, classify_column
from detector.reference import Reference, lookup
from detector.rules import PATTERN_SIGNALS, SIGNAL_INDEX, SITE_WEIGHT, RuleParams, compute_signals
from detector.schema import ts_ns
from detector.scoring import Fusion

UNKNOWN_USER = "<redacted>"


@dataclass
class BatchResult:
    """Per-search scores in input order (``search_id, score, flagged, alert_id``) and the alerts touched."""

    scores: pd.DataFrame
    alerts: list[Alert]
    signals: np.ndarray  # strengths, rows aligned with ``scores``


class Detector:
    """Stateful scorer. ``params`` and ``fusion`` are the tunable parts; ``model`` is optional."""

    def __init__(self, reference: Reference, policy: Policy, params: RuleParams | None = None,
                 fusion: Fusion | None = None, model=None) -> None:
        self.reference = reference
        self.policy = policy
        self.params = params or RuleParams()
        self.fusion = fusion or Fusion()
        self.model = model
        self.user_side = UserSide()
        self.target_side = TargetSide()
        self.alerter = Alerter()

    def context(self, batch: pd.DataFrame) -> pd.DataFrame:
        """Per-search columns derived without state: keys, reason taxonomy, reference, policy."""
        ref, pol = self.reference, self.policy
        c = pd.DataFrame({"search_id": batch["search_id"], "user_id": batch["user_id"], "agency": batch["agency"],
                          "plate": batch["plate"]})
        c["t"] = ts_ns(batch["ts"])
        c["user_key"] = batch["agency"] + "\x1f" + batch["user_id"].where(batch["user_id"] != "", UNKNOWN_USER)
        bits = classify_column(batch["reason"], batch["offense_type"])
        c["reason_bits"] = bits
        c["has_case"] = (batch["case_number"] != "").to_numpy()
        c["vague"] = (bits & (BIT["vague"] | BIT["missing"])) != 0
        hotlist = ((bits & BIT["hotlist"]) != 0) | (batch["search_type"] == "hotlist").to_numpy()
        # how far the search explains itself: fully when tied to a case or a hotlist hit, half by a
        # specific stated offence (a dropdown category can be picked for anything), not at all by filler
        specific = (bits & (BIT["vague"] | BIT["missing"])) == 0
        c["covered"] = np.where(c["has_case"].to_numpy() | hotlist, 1.0, np.where(specific, 0.5, 0.0))
        protected = np.zeros(len(batch), bool)
        for cat in PROTECTED:
            protected |= (bits & BIT[cat]) != 0
        # a keyword beside a crime and a case number names a victim or a scene, not the purpose
        # ("hate crime - mosque vandalism", "immigration consultant fraud")
        scene = c["has_case"].to_numpy() & ((bits & BIT["crime"]) != 0)
        c["protected_reason"] = protected & ~scene
        c["personal_data"] = (bits & BIT["personal_data"]) != 0
        state = batch["agency_state"].where(batch["agency_state"] != "", lookup(batch["agency"], ref.agency_state))
        kind = lookup(batch["agency"], ref.agency_kind).astype(str)
        kind = kind.where(state != "US", "federal")
        c["agency_state"], c["agency_kind"] = state.astype(str), kind
        ob = batch["on_behalf_of"]
        ob_state = lookup(ob, ref.agency_state).astype(str)
        ob_kind = lookup(ob, ref.agency_kind).astype(str)
        ob_state = ob_state.where(~((ob != "") & (ob_state == "") & ob.str.contains(r"\[Federal\]|ICE|HSI|Homeland|Immigration|FBI|DEA|CBP", regex=True)), "US")
        found = pol.check(c["agency_state"], c["agency_kind"], ob_state, ob_kind.where(ob_state != "US", "federal"), bits)
        found["forbidden_purpose"] &= ~scene
        for name, values in found.items():
            c[name] = values
        c["sharing_rule"] = pol.sharing_rule or ""
        purpose = np.full(len(batch), "", dtype=object)
        for cat, rule in pol.forbidden_purposes.items():
            purpose = np.where(((bits & BIT[cat]) != 0) & (purpose == ""), rule, purpose)
        c["purpose_rule"] = purpose
        net = batch["networks_searched"].to_numpy()
        c["networks"] = np.nan_to_num(net, nan=0.0)
        c["log_net"] = np.log1p(net)
        # a dict lookup per row: isin and map convert all registered plates on every call,
        # which the small batches of a stream cannot afford
        surnames = ref.plate_surname
        registered = np.fromiter((p in surnames for p in batch["plate"].tolist()), bool, len(batch))
        plate_state = batch["plate_state"].to_numpy(dtype=str)
        home = pol.state or ""
        foreign_plate = (plate_state != "") & (plate_state != home) if home else np.zeros(len(batch), bool)
        # far-reaching lookup of a plate unknown locally, weighted by how little explains it
        c["far"] = ((c["networks"].to_numpy() >= self.params.nationwide_networks) & (batch["plate"] != "").to_numpy()
                    & (~registered | foreign_plate)) * (1.0 - c["covered"].to_numpy())
        site, _ = ref.sites_near(batch["lat"].to_numpy(), batch["lon"].to_numpy(), batch["radius_m"].to_numpy())
        c["site_id"] = np.where(site >= 0, ref.sites["site_id"].to_numpy(dtype=str)[np.maximum(site, 0)] if len(ref.sites) else "", "")
        c["site_category"] = np.where(site >= 0, ref.site_category[np.maximum(site, 0)] if len(ref.sites) else "", "")
        c["site_weight"] = lookup(c["site_category"], SITE_WEIGHT, 0.0).to_numpy(dtype=np.float64)
        owner = lookup(batch["plate"], ref.plate_surname).astype(str)
        mine = lookup(batch["user_id"], ref.user_surname).astype(str)
        c["surname_match"] = ((owner != "") & (owner == mine)).to_numpy()
        c["surname_households"] = lookup(owner, ref.surname_households, 10**9).to_numpy(dtype=np.float64)
        c["rare_surname"] = c["surname_match"].to_numpy() & (c["surname_households"].to_numpy() <= self.params.surname_rare)
        c["circle"] = lookup(batch["plate"], ref.plate_circle).astype(str)
        # the person behind a plate: their circle of linked plates where known, else the plate
        c["person"] = c["circle"].where(c["circle"] != "", batch["plate"])
        return c

    def user_stage(self, batch: pd.DataFrame) -> pd.DataFrame:
        """Stage 1, keyed by searching agency: context plus the user-side features, in time order."""
        order = np.argsort(ts_ns(batch["ts"]), kind="stable")
        ctx = self.context(batch.iloc[order].reset_index(drop=True))
        ctx["input_pos"] = order
        uf = self.user_side.run(
            ctx["t"].to_numpy(), ctx["user_key"], ctx["agency"], ctx["person"], ctx["site_id"], ctx["covered"].to_numpy(),
            ctx["has_case"].to_numpy(), ctx["log_net"].to_numpy(), ctx["far"].to_numpy(),
        )
        for j, name in enumerate(USER_FEATURES):
            ctx[name] = uf[:, j]
        return ctx

    def target_stage(self, ctx: pd.DataFrame) -> pd.DataFrame:
        """Stage 2, keyed by plate circle: the target-side features; ``ctx`` must be in time order."""
        tf = self.target_side.run(ctx["t"].to_numpy(), ctx["plate"], ctx["user_key"], ctx["agency"], ctx["circle"],
                                  ctx["covered"].to_numpy())
        for j, name in enumerate(TARGET_FEATURES):
            ctx[name] = tf[:, j]
        return ctx

    def score(self, ctx: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Stateless fusion of a fully featured ``ctx``: (signal strengths, score, attributions)."""
        base = np.maximum(ctx["daily_mean"].to_numpy(), ctx["peer_daily"].to_numpy())
        ctx["usual_day"] = np.where(base < 0, np.nan, base)
        ctx["offshift"] = (ctx["user_prior"].to_numpy() >= self.params.offshift_history) & (ctx["hour_share"].to_numpy() < self.params.offshift_share)
        ctx["nocase"] = ~ctx["has_case"].to_numpy()
        ctx["nationwide"] = ctx["networks"].to_numpy() >= self.params.nationwide_networks
        feats = {name: ctx[name].to_numpy() for name in ctx.columns if ctx[name].dtype.kind in "biuf"}
        S = compute_signals(feats, self.params)
        if self.model is not None:
            pattern = S[:, [SIGNAL_INDEX[s] for s in PATTERN_SIGNALS]].max(axis=1)
            S[:, SIGNAL_INDEX["model_anomaly"]] = self.model.score_searches(ctx, pattern)
        score, attr = self.fusion.score(S)
        return S, score, attr

    def process(self, batch: pd.DataFrame) -> BatchResult:
        """Score one batch of canonical searches and update the open alerts (all stages in one process)."""
        ctx = self.target_stage(self.user_stage(batch))
        S, score, attr = self.score(ctx)
        alert_ids, touched = self.alerter.add(ctx, score, attr, self.fusion.threshold)
        t = ctx["t"].to_numpy()
        if len(t):
            self.alerter.close_idle(int(t.max()))
        order = ctx["input_pos"].to_numpy()
        inverse = np.empty_like(order)
        inverse[order] = np.arange(len(order))
        scores = pd.DataFrame({
            "search_id": ctx["search_id"].to_numpy()[inverse],
            "score": np.round(score, 2)[inverse],
            "flagged": (alert_ids != "")[inverse],
            "alert_id": alert_ids[inverse].astype(str),
        })
        return BatchResult(scores=scores, alerts=touched, signals=S[inverse])
