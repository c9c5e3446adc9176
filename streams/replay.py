"""Replay: a historical log through the detector, to files and the alert store.

The file is read, in threads, from the moment a replay starts: the detector's own
imports (SQLAlchemy, numba's compiled kernels) and its reference files take about a
second, and a newest-first export cannot be scored before it is read whole anyway. So
``replay`` imports the detector itself, after starting the reading, and this module
imports only what reading needs. scikit-learn, which a replay needs only to fit its
model, is imported alongside, or by the command, in a forked worker that grows the
forest (``models.forked``).
"""

from __future__ import annotations

import gc
import logging
import threading
from concurrent.futures import ThreadPoolExecutor
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd
from tqdm import tqdm

from detector.validate import Reject, RejectSink
from streams.files import prefetched
from streams.loop import Featured, featuring, progress_bar, run_batches
from streams.sources import open_searches
from streams.vendor.agencies import agency_state

if TYPE_CHECKING:
    from detector.engine import BatchResult, Detector
    from detector.reference import Reference
    from detector.scoring import Fusion
    from detector.suppress import Suppressions
    from models.anomaly import Grower

log = logging.getLogger(__name__)
# History a retrospective audit learns "usual" from: the log's earliest searches, not a second full pass.
RETROSPECTIVE_SEARCHES = 250_000
# Of which the model is fitted on a uniform sample: each of its trees sees only 512 searches,
# and scoring the sample for the model's percentiles is most of the fit's cost.
RETROSPECTIVE_SAMPLE = 100_000
# What an audit without each reference file (spec section 2) goes without, for its summary; and
# the field of the searches without which the file would not matter (a portal export has no plates).
UNLOCKS = {
    "sites": ("no searches near sensitive sites can be found", "location"),
    "vehicles": ("no household, family or same-surname lookups, and every plate counts as unknown locally", "plate"),
    "relations": ("circles stop at the household", "plate"),
    "agencies": ("an agency's kind (federal, private) and, where searches omit it, its state are unknown to the policy", ""),
    "users": ("no lookups of an officer's own surname", "plate"),
}
# Fields of the searches whose absence throughout changes what the alerts can rest on.
FIELD_GAPS = {
    "case_number": "no search carries a case number: an investigation's repeated lookups look like anyone "
                   "else's, so expect many repeated-plate alerts whose case a reviewer must ask for",
    "networks_searched": "no search says how many networks it reached: no nationwide reach, no informal sharing",
    "location": "no search names a place: no searches near sensitive sites",
    "user_id": "no search names its officer (withheld or blank): what only one person's doing shows (a plate or a "
               "family looked up again and again, days near a site, runs of nationwide lookups) is not judged",
    "reason": "no search states a reason or an offense type: each is explained by its case number or not at all, "
              "so expect more alerts whose purpose a reviewer must ask for",
}


def home_state(reference: Reference, agency: str | None = None) -> str | None:
    """The state most of the reference's non-federal agencies are in, else the one the
    portal owner's name carries ("Belmont CA PD", "... (CA)")."""
    states = reference.agencies["state"].str.upper()
    states = states[(states != "US") & (states != "")]
    if len(states):
        return str(states.mode().iloc[0])
    return agency_state(agency) or None if agency else None


@dataclass
class ReplaySummary:
    scored: int = 0
    rejected: int = 0
    duplicates: int = 0
    flagged: int = 0
    alerts: int = 0
    severities: Counter = field(default_factory=Counter)
    policy: str = ""
    model: str = ""
    suppressions: list[str] = field(default_factory=list)
    outputs: list[str] = field(default_factory=list)
    missing_files: list[str] = field(default_factory=list)  # reference files the audit has none of
    present: Counter = field(default_factory=Counter)  # searches that fill each field of ``FIELD_GAPS`` (case numbers: until one does), and a plate

    def lines(self) -> list[str]:
        sev = ", ".join(f"{self.severities[s]} {s}" for s in ("critical", "high", "medium", "low") if self.severities[s])
        share = self.flagged / self.scored if self.scored else 0.0
        return [
            f"searches scored: {self.scored:,}  rejected: {self.rejected:,}  duplicates dropped: {self.duplicates:,}",
            f"policy: {self.policy}",
            f"anomaly model: {self.model}",
            f"flagged searches: {self.flagged:,} ({share:.2%})  alerts: {self.alerts:,}" + (f" ({sev})" if sev else ""),
            *self.suppressions,
            *self.gaps(),
            *[f"wrote {o}" for o in self.outputs],
        ]

    def gaps(self) -> list[str]:
        """What the data lacks, and what it costs the audit: read before the alerts."""
        out = [f"no {name}.csv: {UNLOCKS[name][0]}" for name in self.missing_files
               if not UNLOCKS[name][1] or self.present[UNLOCKS[name][1]]]
        if self.present["plate"]:  # without plates (a portal export) none of this is expected anyway
            out += [f"note: {text}" for name, text in FIELD_GAPS.items() if not self.present[name]]
        return out

    def count_fields(self, batch: pd.DataFrame) -> None:
        from detector.reasons import gives_case  # imported by the detector by now: see the module docstring

        self.present["plate"] += int((batch["plate"] != "").sum())
        if not self.present["case_number"]:  # whether any does is all the summary asks: the test runs until one does
            self.present["case_number"] += int(gives_case(batch["case_number"]).sum())  # "N/A" names no case
        self.present["networks_searched"] += int(batch["networks_searched"].notna().sum())
        self.present["location"] += int((batch["lat"].notna() & batch["lon"].notna()).sum())
        self.present["user_id"] += int((batch["user_id"] != "").sum())
        self.present["reason"] += int(((batch["reason"] != "") | (batch["offense_type"] != "")).sum())


def replay(dataset: str | Path, out: str | Path, store_url: str | None = None, policy: str = "auto",
           fmt: str | None = None, agency: str | None = None, reference_dir: str | Path | None = None,
           scores_name: str = "scores.csv", progress: bool = True, model: str | Path | None = None,
           retrospective: bool = True, report: str | Path | None = None, fusion: Fusion | None = None,
           store_searches: bool = False, fork_fit: bool = False, suppressions: Suppressions | None = None) -> ReplaySummary:
    """Score every search of ``dataset`` and write ``out/scores.*``, ``out/alerts.jsonl``, the store.

    Without ``model``, the anomaly model is first fitted on the replayed data itself
    (a retrospective audit: the history judges itself), unless ``retrospective`` is off:
    on the log's earliest ``RETROSPECTIVE_SEARCHES`` searches (batches come oldest first
    whatever the file's order, see ``open_searches``), whose featured batches are
    kept until the model is fitted and then scored with it: one pass over the log, and
    every search scores exactly as under ``model`` = ``fit_model(dataset, ...,
    sample_rows=RETROSPECTIVE_SAMPLE, limit=RETROSPECTIVE_SEARCHES)``, a second pass.
    With ``report``, also writes the auditor's HTML report there, built from every batch.
    ``store_searches`` keeps every search in the store too, which the dashboard's evidence
    pages (timelines, plate histories, raw rows) read. ``fork_fit`` grows the model's forest
    in a worker forked before the reading starts (``models.forked``): for a process that has
    just started, as the replay command's, whose GIL it spares scikit-learn's import; a
    process already holding much memory would pay for copying its pages as it writes them.
    ``suppressions`` are reviewers' scoped, expiring rules (``detector.suppress``).

    The reading starts first (see the module docstring), but its errors and rejects
    come as before: a bad reference, policy, model or store is reported, and no
    ``rejects.csv`` written, whatever the file holds.
    """
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    dataset = Path(dataset)
    learn = model is None and retrospective
    held = HeldRejects()
    grower = None
    if learn and fork_fit:  # forked before this process starts any thread of its own: see models.forked
        from models.forked import ForkedGrower

        grower = ForkedGrower()
    with (closing(grower) if grower is not None else nullcontext(),
          progress_bar(progress, "learning the model" if learn else "scoring") as bar,
          closing(prefetched(_searches(dataset, held, fmt, agency, bar))) as batches):
        with _imports_frozen():  # the detector's modules, imported while the file is read
            from detector import store as store_mod
            from detector.engine import Detector
            from detector.output import ScoresWriter, write_alerts
            from detector.policy import load_policy
            from detector.reference import load_reference
            from detector.suppress import record_file_rules, stored_rules
            from detector.validate import Deduplicator, RejectFile
            from models.persist import load_model

            if learn and grower is None:
                import sklearn.ensemble  # noqa: F401 - the model's fit needs it: imported now, not after the reading

        reference = load_reference(reference_dir if reference_dir is not None else (dataset if dataset.is_dir() else dataset.parent))
        pol = load_policy(policy, home_state(reference, agency))
        summary = ReplaySummary(policy=f"{pol.name}" + (f" (home state {pol.state})" if pol.state else ""),
                                missing_files=[name for name in UNLOCKS if not len(getattr(reference, name))])
        bundle = None
        if model is not None:
            bundle = load_model(model)
            summary.model = f"{model} (trained {bundle.training_range[0][:10]} to {bundle.training_range[1][:10]})"
        else:
            summary.model = "none"
        detector = Detector(reference, pol, fusion=fusion, model=bundle, suppressions=suppressions)
        alerts: dict[str, dict] = {}
        dedup = Deduplicator()
        writer = ScoresWriter(out / scores_name)
        builder = None
        if report is not None:
            from detector.report import ReportBuilder

            builder = ReportBuilder(reference, pol)
        engine = store_mod.open_store(store_url or store_mod.default_url(out))
        with engine.begin() as conn:  # rules supervisors wrote in the dashboard of this store; the file's, for it to list
            detector.suppressions.take_stored(stored_rules(conn))
            record_file_rules(conn, detector.suppressions)

        def on_result(batch: pd.DataFrame, result: BatchResult) -> None:
            # every search over the flag threshold is written last: one an episode holds may join an alert in a
            # later batch, and holding back all of them keeps the file's order whatever the batches
            writer.write(result.scores, result.scores["score"].to_numpy() >= detector.fusion.threshold)
            writer.replace(result.late)
            summary.count_fields(batch)
            if store_searches:
                with engine.begin() as conn:
                    store_mod.save_searches(conn, batch)
            summary.flagged += int(result.scores["flagged"].sum()) + len(result.late)
            for a in result.alerts:
                alerts[a.alert_id] = a
            if builder is not None:
                builder.add(batch, result)

        with RejectFile(out / "rejects.csv") as rejects, closing(featuring(batches, detector, dedup)) as featured:
            held.attach(rejects)
            try:
                if learn:
                    summary.scored = _learn_then_score(featured, detector, on_result, summary, bar, grower)
                bar.set_description_str("scoring")
                summary.scored += run_batches(featured, detector, on_result, bar)
            finally:
                writer.close()
            summary.rejected = rejects.count
    summary.duplicates = dedup.dropped
    records = [a.to_record() for a in alerts.values()]
    write_alerts(out / "alerts.jsonl", records)
    with engine.begin() as conn:
        store_mod.save_alerts(conn, records)
    engine.dispose()
    summary.alerts = len(records)
    summary.suppressions = detector.suppressions.lines()
    summary.severities = Counter(r["severity"] for r in records)
    summary.outputs = [str(out / scores_name), str(out / "alerts.jsonl"), str(out / "rejects.csv"),
                       store_url or store_mod.default_url(out)]
    if builder is not None:
        from detector.report import RunInfo

        run = RunInfo(source=dataset.name, agency=agency, scored=summary.scored, rejected=summary.rejected,
                      duplicates=summary.duplicates, model=summary.model, suppressions=summary.suppressions,
                      outputs=[scores_name, "alerts.jsonl", "rejects.csv"])
        summary.outputs.append(str(builder.write(report, records, run)))
    return summary


@contextmanager
def _imports_frozen() -> Iterator[None]:
    """No garbage collection while the detector's modules import, and their objects
    frozen out of every later collection (``gc.freeze``).

    They are hundreds of thousands (SciPy's and scikit-learn's most), live as long as the
    process and are no garbage, yet the collector went over them all four times while
    they imported and once more at the interpreter's exit: 0.3 s and 0.6 s of a 1M-row
    replay. Whatever else is alive by then, the caller's objects too, is frozen with them.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        if enabled:
            gc.enable()


def _searches(dataset: Path, rejects: RejectSink, fmt: str | None, agency: str | None,
              progress: tqdm) -> Iterator[pd.DataFrame]:
    """``open_searches``, whose errors (no such file, an unknown header) also come with the first batch."""
    yield from open_searches(dataset, rejects, fmt, agency, progress=progress)


class HeldRejects:
    """The rejects sink of a replay's reading: held in memory until the rejects file is opened.

    The reading starts before the replay has checked its reference, policy, model and
    store; should one of them fail, no rejects file is written, as before.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._held: list[Reject] = []
        self._sink: RejectSink | None = None

    def add(self, rejects: list[Reject]) -> None:
        with self._lock:
            if self._sink is None:
                self._held.extend(rejects)
            else:
                self._sink.add(rejects)

    def attach(self, sink: RejectSink) -> None:
        """Write what is held to ``sink``, and every later reject straight there."""
        with self._lock:
            if self._held:
                sink.add(self._held)
            self._held, self._sink = [], sink


def _learn_then_score(featured: Iterator[Featured], detector: Detector,
                      on_result: Callable[[pd.DataFrame, BatchResult], None], summary: ReplaySummary,
                      progress: tqdm, grower: Grower | None) -> int:
    """Fit ``detector``'s model on the log's earliest searches, then score their batches with it.

    Takes batches from ``featured`` only until ``RETROSPECTIVE_SEARCHES`` are featured, and
    while the model fits (in a thread, its forest grown by ``grower`` if given) those the
    featuring thread has ready by then; the rest of the log is left there for the usual
    run. Features are causal and the model only reads them, so scoring a batch after
    later ones are featured changes nothing. ``progress`` counts the searches
    read, as ``run_batches`` counts the rest. Returns the number of searches scored.
    """
    from models.train import History, TooFewSearches

    history = History(limit=RETROSPECTIVE_SEARCHES, sample_rows=RETROSPECTIVE_SAMPLE)
    waiting: list[Featured] = []
    progress.set_description_str("learning the model")
    for item in featured:
        if item.ctx is not None:
            history.add(item.ctx)
        waiting.append(item)
        progress.update(item.read)
        if history.full:
            break
    progress.set_description_str("fitting the model")
    with ThreadPoolExecutor(1, thread_name_prefix="fit") as pool:
        fitting = pool.submit(history.fit, grower)
        while not fitting.done() and (item := next(featured, None)) is not None:
            waiting.append(item)
            progress.update(item.read)
        try:
            detector.model = fitting.result()
            summary.model = (f"fitted on the replayed data itself, its earliest {history.searches:,} searches "
                             "(retrospective audit; pass --model to score against a trained history)")
        except TooFewSearches as exc:
            summary.model = f"none ({exc})"
    # each let go of once scored
    return run_batches((waiting.pop(0) for _ in range(len(waiting))), detector, on_result)
