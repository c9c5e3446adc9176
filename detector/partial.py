"""Partial plates: the one registered plate a wildcard lookup can only stand for.

Officers type part of a plate ("6*BN*27", "4GUT2*") when that is all they saw, and
someone tracking a person does it too, between full lookups of the same car. Counted
under its literal text, such a lookup is a plate nobody else searched, and the person's
repetition or swarm comes up short by it. A partial plate therefore counts as the plate
it stands for when the vehicle register (``vehicles.csv``) holds exactly one plate that
matches it, and it fixes enough characters that a car outside the register would match
a registered plate only by rare chance: the register's size times ``36 ** -fixed`` (the
chance matches expected) at most ``CHANCE``. Resolving needs only the reference, no
state, so a stream routes a resolved lookup to its plate's partition as a replay keys it.

Wildcards: ``*`` or ``?`` stands for one character; a trailing ``*`` for any number.
"""

from __future__ import annotations

from itertools import combinations

import numpy as np
from numba import njit

ALPHABET = 36  # letters and digits
CHANCE = 0.05  # expected chance matches of a pattern in the register above which it is not resolved
STAR, QUESTION = ord("*"), ord("?")
# Characters to bucket codes: letters and digits apart, anything else together.
_CODE = np.full(256, ALPHABET, dtype=np.int64)
_CODE[np.frombuffer(b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", np.uint8)] = np.arange(ALPHABET)
_CODES = ALPHABET + 1


class PlateRegister:
    """The register's plates, bucketed by every pair of (position, character), to find a pattern's matches.

    >>> register = PlateRegister(["6YBN727", "6YBN721", "4GUT238", "8XEB998"])
    >>> register.resolve(["6*BN*27", "4GUT2*", "6YBN72*", "*", "8XE?998"])
    ['6YBN727', '4GUT238', None, None, '8XEB998']
    """

    def __init__(self, plates: list[str]) -> None:
        plates = list(dict.fromkeys(p for p in plates if p and p.isascii() and "*" not in p and "?" not in p))
        self.size = len(plates)
        self.plates = plates
        self.width = max(map(len, plates), default=1)
        self.chars = np.array(plates, dtype=f"S{self.width}").view(np.uint8).reshape(len(plates), self.width)
        self.lengths = np.fromiter(map(len, plates), np.int64, len(plates))
        pairs = np.array(list(combinations(range(self.width), 2)), dtype=np.int64).reshape(-1, 2)
        self.pair_index = np.full((self.width, self.width), -1, dtype=np.int64)
        self.pair_index[pairs[:, 0], pairs[:, 1]] = np.arange(len(pairs))
        self.start, self.rows = _buckets(self.chars, self.lengths, pairs, _CODE)
        self.least_fixed = next(k for k in range(2, 64) if self.size * float(ALPHABET) ** -k <= CHANCE)

    def resolve(self, typed: list[str]) -> list[str | None]:
        """The registered plate each of the partial plates ``typed`` stands for, or None where it stands for none."""
        out: list[str | None] = [None] * len(typed)
        ascii_ = [k for k, v in enumerate(typed) if v.isascii()]
        if not ascii_ or not self.size:
            return out
        words = [typed[k] for k in ascii_]
        width = max(map(len, words))
        patterns = np.array(words, dtype=f"S{width}").view(np.uint8).reshape(len(words), width)
        lengths = np.fromiter(map(len, words), np.int64, len(words))
        found = _match(patterns, lengths, self.chars, self.lengths, self.rows, self.start, self.pair_index, _CODE,
                       self.least_fixed)
        for k, row in zip(ascii_, found.tolist()):
            if row >= 0:
                out[k] = self.plates[row]
        return out


@njit(cache=True, nogil=True)
def _buckets(chars, lengths, pairs, code):  # pragma: no cover - compiled
    """Each plate's row under every (pair of positions, their two characters) it has: a counting sort,
    so that bucket ``k`` holds ``rows[start[k]:start[k + 1]]``."""
    start = np.zeros(len(pairs) * _CODES * _CODES + 1, dtype=np.int64)
    for n in range(len(pairs)):
        i, j = pairs[n, 0], pairs[n, 1]
        for r in range(len(chars)):
            if lengths[r] > j:
                start[(n * _CODES + code[chars[r, i]]) * _CODES + code[chars[r, j]] + 1] += 1
    for k in range(1, len(start)):
        start[k] += start[k - 1]
    rows = np.empty(start[-1], dtype=np.int32)
    fill = start[:-1].copy()
    for n in range(len(pairs)):
        i, j = pairs[n, 0], pairs[n, 1]
        for r in range(len(chars)):
            if lengths[r] > j:
                key = (n * _CODES + code[chars[r, i]]) * _CODES + code[chars[r, j]]
                rows[fill[key]] = r
                fill[key] += 1
    return start, rows


@njit(cache=True, nogil=True)
def _match(patterns, lengths, chars, plate_len, rows, start, pair_index, code, least_fixed):  # pragma: no cover - compiled
    """Per pattern, the row of the one register plate it matches, or -1 (none, several, or too little fixed).

    Candidates come from the smallest bucket among the pattern's fixed pairs, then each is checked in full.
    """
    width = chars.shape[1]
    found = np.full(len(patterns), -1, dtype=np.int64)
    fixed = np.empty(patterns.shape[1], dtype=np.int64)
    for p in range(len(patterns)):
        n = lengths[p]
        open_end = n > 0 and patterns[p, n - 1] == STAR
        body = n - 1 if open_end else n
        if body > width:
            continue
        k = 0
        for i in range(body):
            c = patterns[p, i]
            if c != STAR and c != QUESTION:
                fixed[k] = i
                k += 1
        if k < least_fixed:
            continue
        best, lo, hi = -1, 0, 0
        for a in range(k):
            for b in range(a + 1, k):
                i, j = fixed[a], fixed[b]
                key = (pair_index[i, j] * _CODES + code[patterns[p, i]]) * _CODES + code[patterns[p, j]]
                size = start[key + 1] - start[key]
                if best < 0 or size < best:
                    best, lo, hi = size, start[key], start[key + 1]
        match = -1
        for q in range(lo, hi):
            r = rows[q]
            if plate_len[r] < body or (not open_end and plate_len[r] != body):
                continue
            same = True
            for a in range(k):
                if chars[r, fixed[a]] != patterns[p, fixed[a]]:
                    same = False
                    break
            if same:
                if match >= 0:
                    match = -2
                    break
                match = r
        if match >= 0:
            found[p] = match
    return found
