"""State policy packs: which agencies may search a network, and for which purposes.

Packs are YAML files in ``detector/policies`` (or any path), so that an auditor can read
and cite the rule a finding rests on. ``auto`` picks the pack of the home state the
reference agencies point to, falling back to the generic pack.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from detector.reasons import BIT
from detector.validate import InputError

POLICY_DIR = Path(__file__).with_name("policies")
STATE_PACKS = {"CA": "california", "IL": "illinois", "WA": "washington"}


@dataclass
class Policy:
    name: str
    state: str | None
    allowed_states: tuple[str, ...] = ()
    allowed_kinds: tuple[str, ...] = ()
    sharing_rule: str | None = None
    forbidden_purposes: dict[str, str] = field(default_factory=dict)

    def check(self, agency_state: pd.Series, agency_kind: pd.Series, on_behalf_state: pd.Series,
              on_behalf_kind: pd.Series, reason_bits: np.ndarray) -> dict[str, np.ndarray]:
        """Boolean arrays per finding: out-of-state or non-public access, undeclared
        or declared sharing with an agency outside the rules, and forbidden purposes."""
        n = len(agency_state)
        st = agency_state.to_numpy(dtype=str)
        kind = agency_kind.to_numpy(dtype=str)
        federal = (st == "US") | (kind == "federal")
        found: dict[str, np.ndarray] = {"federal_access": federal}
        if self.state and self.allowed_states:
            known = st != ""
            outside = known & ~np.isin(st, self.allowed_states)
            non_public = known & ~outside & (kind != "") & ~np.isin(kind, self.allowed_kinds)
            found["outside_sharing"] = outside | non_public
            obs = on_behalf_state.to_numpy(dtype=str)
            obk = on_behalf_kind.to_numpy(dtype=str)
            found["declared_sharing"] = (obs != "") & (~np.isin(obs, self.allowed_states) | (obk == "federal"))
        else:
            found["outside_sharing"] = np.zeros(n, bool)
            found["declared_sharing"] = np.zeros(n, bool)
        forbidden = np.zeros(n, bool)
        for category in self.forbidden_purposes:
            forbidden |= (reason_bits & BIT[category]) != 0
        found["forbidden_purpose"] = forbidden
        return found

    def rule_for(self, finding: str, reason_categories: list[str] | None = None) -> str | None:
        if finding in ("outside_sharing", "declared_sharing", "federal_access"):
            return self.sharing_rule
        for c in reason_categories or []:
            if c in self.forbidden_purposes:
                return self.forbidden_purposes[c]
        return None


def load_policy(spec: str | Path, home_state: str | None = None) -> Policy:
    """A pack by name (california, illinois, washington, generic), by path, or ``auto``."""
    spec = str(spec)
    if spec == "auto":
        spec = STATE_PACKS.get((home_state or "").upper(), "generic")
    path = Path(spec)
    if not path.suffix:
        path = POLICY_DIR / f"{spec}.yaml"
    if not path.exists():
        packs = ", ".join(sorted(p.stem for p in POLICY_DIR.glob("*.yaml")))
        raise InputError(f"policy {spec!r}: no such pack or file (packs: {packs}, or a path to a YAML file)")
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        sharing = raw.get("sharing") or {}
        return Policy(
            name=str(raw["name"]),
            state=(raw.get("state") or None),
            allowed_states=tuple(str(s).upper() for s in sharing.get("allowed_states") or ()),
            allowed_kinds=tuple(str(k).lower() for k in sharing.get("allowed_kinds") or ()),
            sharing_rule=sharing.get("rule"),
            forbidden_purposes={str(k): str(v) for k, v in (raw.get("forbidden_purposes") or {}).items()},
        )
    except (yaml.YAMLError, KeyError, TypeError, AttributeError) as exc:
        raise InputError(f"{path}: not a valid policy pack ({exc!r})") from exc
