"""Cost of a stream partition's dedup per poll, against the one sorted array it replaced.

A partition holds months of search ids (``streams.seen.SeenIds``); each poll asks about a
few hundred new ones and remembers them. The baseline, run in the same process on the same
ids, is what stage 1 did before: one sorted array, each poll's ids inserted with
``np.insert`` (a copy of everything held).

    python bench/dedup.py [--held 5000000] [--poll 500] [--polls 400]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd

from streams.seen import SeenIds


def _one_array(held: np.ndarray, held_t: np.ndarray, polls: list[tuple[np.ndarray, np.ndarray]]) -> float:
    seen, seen_t = held, held_t
    start = time.perf_counter()
    for hashed, t in polls:
        fresh = ~pd.Series(hashed).duplicated().to_numpy()
        at = np.minimum(np.searchsorted(seen, hashed), len(seen) - 1)
        fresh &= seen[at] != hashed
        new, new_t = hashed[fresh], t[fresh]
        order = np.argsort(new)
        at = np.searchsorted(seen, new[order])
        seen, seen_t = np.insert(seen, at, new[order]), np.insert(seen_t, at, new_t[order])
    return time.perf_counter() - start


def _seen_ids(held: np.ndarray, held_t: np.ndarray, polls: list[tuple[np.ndarray, np.ndarray]]) -> float:
    seen = SeenIds(held, held_t)
    start = time.perf_counter()
    for hashed, t in polls:
        seen.first_sightings(hashed, t, forget_before=0)
    return time.perf_counter() - start


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--held", type=int, default=5_000_000, help="ids the partition holds already")
    ap.add_argument("--poll", type=int, default=500, help="ids a poll brings")
    ap.add_argument("--polls", type=int, default=400)
    args = ap.parse_args()
    rng = np.random.default_rng(1)
    held = np.unique(rng.integers(0, 2**63, args.held, dtype=np.uint64))
    held_t = np.zeros(len(held), dtype=np.int64)
    # a tenth of each poll's ids delivered again
    polls = []
    for k in range(args.polls):
        new = rng.integers(0, 2**63, args.poll, dtype=np.uint64)
        new[: args.poll // 10] = rng.choice(held, args.poll // 10)
        polls.append((new, np.full(args.poll, k + 1, dtype=np.int64)))
    base = _one_array(held, held_t, polls)
    now = _seen_ids(held, held_t, polls)
    per = 1000 / args.polls
    print(f"{len(held):,} ids held, {args.polls} polls of {args.poll}:")
    print(f"  one sorted array (before)   {base * per:8.3f} ms a poll")
    print(f"  SeenIds                     {now * per:8.3f} ms a poll   ({base / now:.0f}x faster)")


if __name__ == "__main__":
    main()
