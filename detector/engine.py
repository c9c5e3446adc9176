"""The detector: one batch in, scores and touched alerts out, state carried forward.

Replay and streaming both call ``Detector.process`` on batches; only where batches
come from and how state is checkpointed differ. Within a batch, searches are taken
in time order, so features stay causal.

Every string column is factorized once per batch (``Keys``): reference lookups, the
policy check, derived keys and the feature state's vocabularies then work on the
few distinct values, and the rows follow by ``take``.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
import pandas as pd

from detector.alerts import Alert, Alerter
from detector.features import TARGET_FEATURES, USER_FEATURES, TargetSide, UserSide
from detector.policy import Policy
from detector.reasons import BIT, PROTECTED, classify_column, gives_case
from detector.reference import PlateFacts, Reference, lookup
from detector.redaction import WITHHELD
from detector.rules import PATTERN_SIGNALS, SIGNAL_INDEX, SITE_WEIGHT, RuleParams, compute_signals
from detector.schema import ts_ns
from detector.scoring import Fusion
from detector.state import Keys
from detector.suppress import Suppressions

UNKNOWN_USER = "<redacted>"
UNEXPLAINED = BIT["vague"] | BIT["missing"]
PROTECTED_BITS = sum(BIT[cat] for cat in PROTECTED)


@dataclass
class BatchResult:
    """Per-search scores in input order (``search_id, score, flagged, alert_id``) and the alerts touched."""

    scores: pd.DataFrame
    alerts: list[Alert]
    signals: np.ndarray  # strengths, rows aligned with ``scores``
    # flagged searches an episode holds while it has not opened an alert (``detector.alerts``): may come back in ...
    held: np.ndarray
    # ... the ``late`` of a later batch: scores rows of earlier batches' searches that joined an alert now
    late: pd.DataFrame


@dataclass(frozen=True, eq=False)
class EntityKeys:
    """The columns the feature state is keyed on, factorized once and shared by both stages."""

    user: Keys  # agency and user id (``user_key``)
    agency: Keys
    plate: Keys
    person: Keys  # the plate's household where known, else the plate
    site: Keys  # the sensitive site a search falls near, or ""


def in_time_order(batch: pd.DataFrame) -> tuple[pd.DataFrame, np.ndarray]:
    """The batch in time order (stable) and each row's input position; sorted input is not copied."""
    t = ts_ns(batch["ts"])
    if np.all(t[1:] >= t[:-1]):
        return batch, np.arange(len(batch))
    order = np.argsort(t, kind="stable")
    return batch.take(order).reset_index(drop=True), order


def with_columns(frame: pd.DataFrame, new: dict[str, np.ndarray]) -> pd.DataFrame:
    """``frame`` plus ``new`` columns, sharing the existing ones: inserting one by one copies each."""
    return pd.DataFrame({**{c: frame[c].array for c in frame.columns}, **new}, copy=False)


class Detector:
    """Stateful scorer. ``params`` and ``fusion`` are the tunable parts; ``model`` and ``suppressions`` are optional."""

    def __init__(self, reference: Reference, policy: Policy, params: RuleParams | None = None,
                 fusion: Fusion | None = None, model=None, suppressions: Suppressions | None = None) -> None:
        self.reference = reference
        self.policy = policy
        self.params = params or RuleParams()
        self.fusion = fusion or Fusion()
        self.model = model
        self.suppressions = suppressions or Suppressions()
        # of several sites a search overlaps, the weightiest counts (``Reference.sites_near``)
        self.site_priority = np.array([SITE_WEIGHT.get(cat, 0.0) for cat in reference.site_category])
        self.user_side = UserSide(offshift_share=self.params.offshift_share, offshift_history=self.params.offshift_history)
        self.target_side = TargetSide()
        self.alerter = Alerter(self.fusion.open_threshold)

    def context(self, batch: pd.DataFrame) -> tuple[dict[str, object], EntityKeys]:
        """Per-search columns derived without state (keys, reason taxonomy, reference, policy) and the entity keys.

        ``batch`` must be in time order, so that the keys' values come in order of first search.
        """
        ref = self.reference
        agency, user_id = (Keys.of(batch[name]) for name in ("agency", "user_id"))
        accounts = agency.pairs(user_id)
        user = accounts.derive([f"{a}\x1f{u or UNKNOWN_USER}" for a, u in accounts.values])
        plates = batch["plate"]
        looked_up = (plates != "").to_numpy()  # a withheld plate was looked up too ...
        withheld = (plates == WITHHELD).to_numpy()
        if withheld.any():  # ... but is no plate to the state: never one plate shared by every withheld row
            plates = plates.where(~withheld, "")
        typed = Keys.of(plates)
        plate = ref.resolve_partials(typed, plates)
        facts = ref.plate_facts(plate.values)
        c: dict[str, object] = {name: batch[name].array for name in ("search_id", "user_id", "agency", "case_number")}
        # the plate searched for, a partial plate resolved: what the feature state and episodes key on
        c["plate"] = plates.array if plate is typed else plate.strings()
        c["plate_lookup"] = looked_up
        c["t"] = ts_ns(batch["ts"])
        c["user_key"] = user.strings()
        c["redacted_user"] = (batch["user_id"] == "").to_numpy()
        bits = classify_column(batch["reason"], batch["offense_type"], batch["case_number"])
        c.update(self._reason_columns(batch, bits))
        # a keyword beside a crime and a case number names a victim or a scene, not the purpose
        # ("hate crime - mosque vandalism", "immigration consultant fraud")
        scene = c["has_case"] & ((bits & BIT["crime"]) != 0)
        c["protected_reason"] = ((bits & PROTECTED_BITS) != 0) & ~scene
        # ... and without a case number, a crime with a victim or a scene beside it makes a scene
        # likelier than a purpose: the purpose findings count half (``rules``)
        c["scene_hint"] = ~c["has_case"] & ((bits & BIT["crime_scene"]) != 0)
        c["personal_data"] = (bits & BIT["personal_data"]) != 0
        c.update(self._agency_columns(batch, agency, Keys.of(bits), scene))
        net = batch["networks_searched"].to_numpy()
        c["networks"] = np.nan_to_num(net, nan=0.0)
        c["log_net"] = np.log1p(net)
        c["far"] = self._far(batch, plate.take(facts.registered, bool), c["networks"], c["covered"])
        site, site_columns = self._site_columns(batch)
        c.update(site_columns)
        c["located"] = (batch["lat"].notna() & batch["lon"].notna()).to_numpy()
        c.update(self._surname_columns(plate, user_id, facts))
        c["linked"] = plate.take(facts.linked, np.int64)
        # the person behind a plate: their household where known, else the plate
        person = np.array(plate.values, dtype=object)
        known = np.flatnonzero(facts.linked >= 0)
        person[known] = ref.links.person[facts.linked[known]]
        # the person column itself is written by user_features, which may file a search under a sweep's anchor
        return c, EntityKeys(user=user, agency=agency, plate=plate, person=plate.derive(person), site=site)

    @staticmethod
    def _reason_columns(batch: pd.DataFrame, bits: np.ndarray) -> dict[str, np.ndarray]:
        """The reason taxonomy, and how far the search explains itself."""
        has_case = gives_case(batch["case_number"])
        unexplained = (bits & UNEXPLAINED) != 0
        # the system's record of a hotlist hit, which an officer cannot word as they like
        hotlist_search = (batch["search_type"] == "hotlist").to_numpy()
        hotlist = ((bits & BIT["hotlist"]) != 0) | hotlist_search
        # fully when tied to a case or a hotlist hit, half by a specific stated offence (a dropdown
        # category can be picked for anything), not at all by filler
        covered = np.where(has_case | hotlist, 1.0, np.where(~unexplained, 0.5, 0.0))
        return {"reason_bits": bits, "has_case": has_case, "vague": unexplained, "covered": covered,
                "hotlist_search": hotlist_search, "test_reason": (bits & BIT["test_training"]) != 0}

    def _agency_columns(self, batch: pd.DataFrame, agency: Keys, bits: Keys, scene: np.ndarray) -> dict[str, object]:
        """Who searched and for whom, against the policy: worked out per distinct combination of
        stated agency state, agency, on-behalf-of and reason bits, of which a log has few."""
        ref, pol = self.reference, self.policy
        combos = Keys.of(batch["agency_state"]).pairs(agency).pairs(Keys.of(batch["on_behalf_of"])).pairs(bits)
        states, kinds, ob_states, ob_kinds, masks = [], [], [], [], []
        for ((stated, name), ob), mask in combos.values:
            known_state, kind = ref.agency_of(name)
            state = stated or known_state
            ob_state, ob_kind = ref.agency_of(ob, read_state=True)
            states.append(state)
            kinds.append("federal" if state == "US" else kind)
            ob_states.append(ob_state)
            ob_kinds.append("federal" if ob_state == "US" else ob_kind)
            masks.append(mask)
        found = pol.check(pd.Series(states, dtype=str), pd.Series(kinds, dtype=str), pd.Series(ob_states, dtype=str),
                          pd.Series(ob_kinds, dtype=str), np.array(masks, dtype=np.int64))
        c: dict[str, object] = {"agency_state": combos.strings(states), "agency_kind": combos.strings(kinds)}
        c.update({name: combos.take(values, bool) for name, values in found.items()})
        c["forbidden_purpose"] &= ~scene
        c["sharing_rule"] = pd.array([pol.sharing_rule or ""], dtype="str").take(np.zeros(len(batch), dtype=np.intp))
        c["purpose_rule"] = bits.strings([self._purpose_rule(mask) for mask in bits.values])
        return c

    def _purpose_rule(self, mask: int) -> str:
        """The policy rule forbidding the first forbidden purpose among the reason's categories."""
        for cat, rule in self.policy.forbidden_purposes.items():
            if mask & BIT[cat] and rule:
                return rule
        return ""

    def _far(self, batch: pd.DataFrame, registered: np.ndarray, networks: np.ndarray, covered: np.ndarray) -> np.ndarray:
        """Far-reaching lookup of a plate unknown locally, weighted by how little explains it.

        Whether a withheld plate is known locally is not known: it counts only by its state.
        """
        has_plate = (batch["plate"] != "").to_numpy()
        unknown = ~registered & (batch["plate"] != WITHHELD).to_numpy()
        home = self.policy.state or ""
        plate_state = batch["plate_state"]
        foreign_plate = ((plate_state != "") & (plate_state != home)).to_numpy() if home else np.zeros(len(batch), bool)
        return ((networks >= self.params.nationwide_networks) & has_plate & (unknown | foreign_plate)) * (1.0 - covered)

    def _site_columns(self, batch: pd.DataFrame) -> tuple[Keys, dict[str, object]]:
        """The sensitive site each search falls near (keys of its id) and the site's category and weight."""
        ref = self.reference
        index = ref.sites_near(batch["lat"].to_numpy(), batch["lon"].to_numpy(), batch["radius_m"].to_numpy(),
                               self.site_priority)
        near = Keys.of(index)
        ids = ref.sites["site_id"].to_numpy(dtype=str) if len(ref.sites) else np.array([], dtype=str)
        site = near.derive([str(ids[i]) if i >= 0 else "" for i in near.values])
        category = [str(ref.site_category[i]) if i >= 0 else "" for i in near.values]
        return site, {"site_id": site.strings(), "site_category": near.strings(category),
                      "site_weight": near.take([SITE_WEIGHT.get(cat, 0.0) for cat in category])}

    def _surname_columns(self, plate: Keys, user_id: Keys, facts: PlateFacts) -> dict[str, np.ndarray]:
        """Whether the plate's owner carries the searching user's surname, and how rare it is."""
        ref = self.reference
        own = [ref.surname_codes.get(name, -2) for name in lookup(user_id, ref.user_surname)]
        owner = plate.take(facts.owner, np.int64)
        match = (owner >= 0) & (owner == user_id.take(own, np.int64))
        households = plate.take(facts.households)
        return {"surname_match": match, "surname_households": households,
                "rare_surname": match & (households <= self.params.surname_rare)}

    def user_stage(self, batch: pd.DataFrame) -> pd.DataFrame:
        """Stage 1, keyed by searching agency: context plus the user-side features, in time order."""
        c, keys = self._context_in_time_order(batch)
        return self.user_features(c, keys)

    def _context_in_time_order(self, batch: pd.DataFrame) -> tuple[dict[str, object], EntityKeys]:
        batch, order = in_time_order(batch)
        c, keys = self.context(batch)
        c["input_pos"] = order
        return c, keys

    def user_features(self, c: dict[str, object], keys: EntityKeys) -> pd.DataFrame:
        """The stage-1 frame: context columns ``c`` plus the user-side features.

        A search in a run across one circle of linked plates belongs to the person whose
        plate opened the run, so that the whole sweep is one episode.
        """
        links = self.reference.links
        uf = self.user_side.run(c["t"], keys.user, keys.agency, keys.person, keys.site, c["located"], c["covered"], c["test_reason"],
                                c["plate_lookup"], c["has_case"], c["log_net"], c["far"], c["linked"], links, self.reference.persons)
        anchor = uf[USER_FEATURES.index("sweep_anchor")].astype(np.int64)
        swept = np.flatnonzero(anchor >= 0)
        codes, values = keys.person.codes, keys.person.values
        if len(swept):  # codes past the keys' own values name the anchors' households
            anchors, which = np.unique(anchor[swept], return_inverse=True)
            codes = codes.copy()
            codes[swept] = len(values) + which
            values = values + links.person[anchors].tolist()
        c["person"] = pd.array(values, dtype="str").take(codes)
        return pd.DataFrame({**c, **dict(zip(USER_FEATURES, uf))}, copy=False)

    def target_stage(self, ctx: pd.DataFrame, keys: EntityKeys | None = None) -> pd.DataFrame:
        """Stage 2, keyed by plate: ``ctx`` (in time order) plus the target-side features, as a new frame.

        ``keys`` of the same batch, where the caller has them, spare factorizing its entity columns again.
        """
        if keys is None:
            plate, user, agency = (Keys.of(ctx[name]) for name in ("plate", "user_key", "agency"))
        else:
            plate, user, agency = keys.plate, keys.user, keys.agency
        tf = self.target_side.run(ctx["t"].to_numpy(), plate, user, agency, ctx["covered"].to_numpy(),
                                  ctx["hotlist_search"].to_numpy())
        return with_columns(ctx, dict(zip(TARGET_FEATURES, tf)))

    def score(self, ctx: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Stateless fusion of a fully featured ``ctx``: (signal strengths, score, attributions)."""
        # the usual day a burst's hour is held against (``rules``) and its alert names: the user's own once the
        # account has a history, else the busier of its own and its peers'
        # (its hours too: ``rules`` weighs the off-shift signal only then)
        history = ctx["user_prior"].to_numpy() >= self.params.offshift_history
        own = ctx["daily_mean"].to_numpy()
        base = np.where(history, own, np.maximum(own, ctx["peer_daily"].to_numpy()))
        ctx["usual_day"] = np.where(base < 0, np.nan, base)
        ctx["has_history"] = history
        ctx["offshift"] = history & (ctx["hour_share"].to_numpy() < self.params.offshift_share)
        ctx["nocase"] = ~ctx["has_case"].to_numpy()
        ctx["nationwide"] = ctx["networks"].to_numpy() >= self.params.nationwide_networks
        feats = {name: column.to_numpy() for name, column in ctx.items() if column.dtype.kind in "biuf"}
        S = compute_signals(feats, self.params)
        if self.model is not None:
            pattern = S[:, [SIGNAL_INDEX[s] for s in PATTERN_SIGNALS]].max(axis=1)
            S[:, SIGNAL_INDEX["model_anomaly"]] = self.model.score_searches(ctx, pattern)
        self.suppressions.apply(ctx, S)
        score, attr = self.fusion.score(S)
        return S, score, attr

    def features(self, batch: pd.DataFrame) -> pd.DataFrame:
        """Both feature stages of one batch in one process, sharing its keys: the frame ``score`` takes."""
        c, keys = self._context_in_time_order(batch)
        # the target side reads only the context: it runs beside the user side, both kernels without the GIL
        with ThreadPoolExecutor(1, thread_name_prefix="target") as pool:
            target = pool.submit(self.target_side.run, c["t"], keys.plate, keys.user, keys.agency, c["covered"],
                                 c["hotlist_search"])
            ctx = self.user_features(c, keys)
            return with_columns(ctx, dict(zip(TARGET_FEATURES, target.result())))

    def process(self, batch: pd.DataFrame) -> BatchResult:
        """Score one batch of canonical searches and update the open alerts (all stages in one process)."""
        return self.decide(self.features(batch))

    def decide(self, ctx: pd.DataFrame) -> BatchResult:
        """``process`` after the features: score a featured batch and update the open alerts.

        Apart so that a retrospective replay can learn its model from the first batches'
        features and then score those very batches, without computing them twice.
        """
        S, score, attr = self.score(ctx)
        alert_ids, touched, late = self.alerter.add(ctx, score, attr, self.fusion.threshold)
        t = ctx["t"].to_numpy()
        if len(t):
            self.alerter.close_idle(int(t.max()))
        order = ctx["input_pos"].to_numpy()
        inverse: np.ndarray | slice = slice(None)  # input already in time order, the usual case: nothing to undo
        if np.any(order != np.arange(len(order))):
            inverse = np.empty_like(order)
            inverse[order] = np.arange(len(order))
        flagged = alert_ids != ""
        scores = pd.DataFrame({
            "search_id": ctx["search_id"].array[inverse],
            "score": np.round(score, 2)[inverse],
            "flagged": flagged[inverse],
            "alert_id": _sparse_strings(alert_ids, flagged)[inverse],
        }, copy=False)
        held = (score >= self.fusion.threshold) & ~flagged
        return BatchResult(scores=scores, alerts=touched, signals=S[inverse], held=held[inverse], late=late)


def _sparse_strings(values: np.ndarray, present: np.ndarray) -> pd.api.extensions.ExtensionArray:
    """Pandas strings of an object array that is "" except where ``present``, converting only those."""
    codes = np.zeros(len(values), dtype=np.intp)
    rows = np.flatnonzero(present)
    codes[rows] = np.arange(1, len(rows) + 1)
    return pd.array(["", *values[rows].tolist()], dtype="str").take(codes)
