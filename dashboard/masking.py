"""Plates and officer names as reviewers see them: pseudonyms until revealed with a reason.

The pseudonyms are the detector's own (``detector.explain.pseudonym``), so the
``plate#…`` in an alert summary is the ``plate#…`` in the tables below it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

import pandas as pd

from detector.explain import pseudonym
from detector.redaction import WITHHELD

REDACTED = "(redacted)"


class Mask:
    """How identities appear on one page; ``revealed`` is decided (and logged) by the caller."""

    def __init__(self, revealed: bool = False) -> None:
        self.revealed = revealed

    def plate(self, value: str | None) -> str:
        if not value:
            return ""
        if value == WITHHELD:  # the source log withheld it: one pseudonym for all would read as one plate
            return WITHHELD
        return str(value) if self.revealed else pseudonym(str(value))

    def user(self, value: str | None) -> str:
        if not value:
            return REDACTED  # the source log itself withheld the account
        return str(value) if self.revealed else pseudonym(str(value), "user")

    def summary(self, text: str, user_id: str, plates: Iterable[str] = ()) -> str:
        """An alert summary: the detector writes ``User <id> (<agency>)`` and plate pseudonyms."""
        prefix = f"User {user_id} ("
        if text.startswith(prefix):
            text = f"User {self.user(user_id)} (" + text[len(prefix):]
        if self.revealed:
            for p in plates:
                if p:
                    text = text.replace(pseudonym(p), p)
        return text

    def text(self, text: str, plates: Iterable[str]) -> str:
        """Free text such as a stated reason, with any of ``plates`` quoted in it masked."""
        if self.revealed:
            return text
        for p in sorted({p for p in plates if p}, key=len, reverse=True):
            text = re.sub(rf"(?<![A-Za-z0-9]){re.escape(p)}(?![A-Za-z0-9])", pseudonym(p), text, flags=re.IGNORECASE)
        return text

    def frame(self, frame: pd.DataFrame, plates: Iterable[str] = ()) -> pd.DataFrame:
        """Mask the identity columns of a table of searches (and plates quoted in its free text)."""
        out = frame.copy()
        if "user_id" in out:
            out["user_id"] = out["user_id"].map(self.user)
        if "plate" in out:
            out["plate"] = out["plate"].map(self.plate)
        known = [p for p in plates if p]
        if not self.revealed and known:
            for col in ("reason", "case_number"):
                if col in out:
                    out[col] = out[col].map(lambda v: self.text(v, known) if isinstance(v, str) else v)
        return out
