"""The `train` subcommand."""

from __future__ import annotations

import argparse
from pathlib import Path

from detector.cli import CliError, example_parser


def register(sub: argparse._SubParsersAction) -> None:
    p = example_parser(
        sub, "train",
        "Fit the learned anomaly model on a history of searches and save it (joblib, with its feature list, "
        "library versions and training range) for 'replay --model' and 'stream --model'.",
        "alpr-watch train data/ --out model.joblib",
    )
    p.add_argument("dataset", help="dataset directory, searches file or vendor export")
    p.add_argument("--out", required=True, help="model file to write")
    p.add_argument("--policy", default="auto", help="policy pack (as for replay)")
    p.add_argument("--format", dest="fmt", choices=["canonical", "flock_portal", "flock_audit"], help="force the input format")
    p.add_argument("--agency", help="the agency a transparency-portal export belongs to")
    p.add_argument("--reference", help="directory with reference files (default: the dataset's directory)")
    p.add_argument("--seed", type=int, default=0, help="random seed of the sample and the forest")
    p.set_defaults(handler=_train)

    f = example_parser(
        sub, "feedback",
        "Learn signal weights from reviewers' dispositions in an alert store (confirmed misuse, justified, false positive); "
        "'replay --weights' and 'stream --weights' then score with them.",
        "alpr-watch feedback --store sqlite:///results/alerts.sqlite --out weights.json",
    )
    f.add_argument("--store", required=True, help="alert store URL holding alerts and dispositions")
    f.add_argument("--out", required=True, help="weights file (JSON) to write")
    f.set_defaults(handler=_feedback)


def _train(args: argparse.Namespace) -> int:
    from detector.policy import load_policy
    from detector.reference import load_reference
    from detector.validate import InputError
    from models.persist import save_model
    from models.train import fit_model
    from streams.replay import home_state

    dataset = Path(args.dataset)
    try:
        reference = load_reference(args.reference or (dataset if dataset.is_dir() else dataset.parent))
        policy = load_policy(args.policy, home_state(reference, args.agency))
        bundle = fit_model(dataset, reference, policy, args.fmt, args.agency, seed=args.seed)
    except (InputError, ValueError) as exc:
        raise CliError(str(exc)) from exc
    save_model(bundle, args.out)
    print(f"trained on {bundle.searches:,} searches from {bundle.training_range[0]} to {bundle.training_range[1]}; wrote {args.out}")
    return 0


def _feedback(args: argparse.Namespace) -> int:
    import sqlalchemy as sa

    from detector import store
    from detector.scoring import DEFAULT_WEIGHTS
    from models.feedback import learn

    engine = store.open_store(args.store)
    records = store.load_alerts(engine)
    with engine.connect() as conn:
        rows = conn.execute(sa.select(store.dispositions.c.alert_id, store.dispositions.c.disposition)
                            .order_by(store.dispositions.c.id)).all()
    engine.dispose()
    latest = {alert_id: disposition for alert_id, disposition in rows}  # the newest decision per alert wins
    feedback = learn(records, latest)
    feedback.save(args.out)
    changed = {s: round(w, 3) for s, w in feedback.weights.items() if abs(w - DEFAULT_WEIGHTS[s]) > 1e-9}
    print(f"{feedback.labelled} judged of {feedback.alerts} alerts; lowered weights: {changed or 'none'}; wrote {args.out}")
    return 0
