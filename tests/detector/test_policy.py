"""Policy packs: each loads, ``auto`` picks by home state, bad packs fail clearly, and the rules fire as written."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from detector.policy import POLICY_DIR, STATE_PACKS, load_policy
from detector.reasons import BIT, classify_column
from detector.validate import InputError

PACKS = ("california", "illinois", "washington", "generic")
STATE_PACKS_BY_NAME = {pack: state for state, pack in STATE_PACKS.items()}


def check(policy, rows: list[tuple[str, str, str, str, str]]) -> dict[str, np.ndarray]:
    """``Policy.check`` on rows of (agency state, agency kind, on-behalf state, on-behalf kind, reason)."""
    states, kinds, ob_states, ob_kinds, reasons = (pd.Series(list(col), dtype=str) for col in zip(*rows))
    return policy.check(states, kinds, ob_states, ob_kinds, classify_column(reasons))


@pytest.mark.parametrize("name", PACKS)
def test_every_pack_loads_and_cites_a_statute(name):
    policy = load_policy(name)
    text = (POLICY_DIR / f"{name}.yaml").read_text(encoding="utf-8")
    assert text.startswith("#"), "a pack opens with comments saying what law it encodes"
    if name == "generic":
        assert policy.state is None and policy.sharing_rule is None and not policy.forbidden_purposes
        return
    assert policy.state == STATE_PACKS_BY_NAME[name]
    assert policy.sharing_rule and policy.allowed_states == (policy.state,)
    for category, rule in policy.forbidden_purposes.items():
        assert category in BIT
        assert rule.startswith(f"{policy.state}-"), rule


def test_every_shipped_pack_is_tested():
    assert {p.stem for p in POLICY_DIR.glob("*.yaml")} == set(PACKS)


@pytest.mark.parametrize("home, pack", [("CA", "California"), ("ca", "California"), ("IL", "Illinois"),
                                        ("WA", "Washington"), ("OR", "Generic"), (None, "Generic")])
def test_auto_picks_the_pack_of_the_home_state(home, pack):
    assert load_policy("auto", home).name == pack


def test_a_pack_can_be_a_path(tmp_path):
    path = tmp_path / "county.yaml"
    path.write_text("name: County\nstate: OR\nsharing:\n  allowed_states: [OR]\n  allowed_kinds: [local]\n"
                    "  rule: 'ORS 181A.250'\nforbidden_purposes:\n  immigration: 'ORS 181A.820'\n", encoding="utf-8")
    policy = load_policy(str(path))
    assert (policy.name, policy.state, policy.rule_for("forbidden_purpose", ["immigration"])) == ("County", "OR", "ORS 181A.820")


def test_an_unknown_pack_names_the_packs_there_are():
    with pytest.raises(InputError, match=r"policy 'texas': no such pack or file \(packs: california, generic, illinois, washington"):
        load_policy("texas")


@pytest.mark.parametrize("text", ["name: [unclosed\n", "state: CA\n", "- just\n- a list\n"])
def test_a_broken_pack_names_its_file(tmp_path, text):
    path = tmp_path / "broken.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InputError, match=r"broken\.yaml: not a valid policy pack"):
        load_policy(str(path))


def test_california_flags_out_of_state_federal_and_private_access():
    found = check(load_policy("california"), [
        ("CA", "local", "", "", "stolen vehicle"),
        ("TX", "sheriff", "", "", "stolen vehicle"),
        ("US", "federal", "", "", "stolen vehicle"),
        ("CA", "private", "", "", "stolen vehicle"),
        ("CA", "local", "US", "federal", "assist"),
        ("", "", "", "", "stolen vehicle"),
    ])
    assert found["outside_sharing"].tolist() == [False, True, True, True, False, False]
    assert found["federal_access"].tolist() == [False, False, True, False, False, False]
    assert found["declared_sharing"].tolist() == [False, False, False, False, True, False]


def test_california_flags_immigration_purpose_only():
    found = check(load_policy("california"), [
        ("CA", "local", "", "", "ICE+ERO"),
        ("CA", "local", "", "", "Immigration (civil/administrative) -"),
        ("CA", "local", "", "", "police assist"),
        ("CA", "local", "", "", "protest"),
    ])
    assert found["forbidden_purpose"].tolist() == [True, True, False, False]


def test_illinois_flags_reproductive_and_gender_affirming_purposes():
    found = check(load_policy("illinois"), [
        ("IL", "local", "", "", "had an abortion, search for female"),
        ("IL", "local", "", "", "gender-affirming clinic visitor"),
        ("IL", "local", "", "", "burglary 2025-1234"),
        ("WI", "local", "", "", "burglary 2025-1234"),
    ])
    assert found["forbidden_purpose"].tolist() == [True, True, False, False]
    assert found["outside_sharing"].tolist() == [False, False, False, True]


def test_generic_flags_nothing_as_a_violation():
    policy = load_policy("generic")
    found = check(policy, [
        ("TX", "sheriff", "", "", "ICE"),
        ("US", "federal", "US", "federal", "had an abortion"),
        ("CA", "private", "", "", "gender-affirming care"),
    ])
    for finding in ("outside_sharing", "declared_sharing", "forbidden_purpose"):
        assert not found[finding].any(), finding
    assert all(policy.rule_for(f, ["immigration"]) is None
               for f in ("outside_sharing", "declared_sharing", "federal_access", "forbidden_purpose"))


@pytest.mark.parametrize("name, finding, categories, cites", [
    ("california", "outside_sharing", None, "1798.90.55"),
    ("california", "federal_access", None, "1798.90.55"),
    ("california", "forbidden_purpose", ["immigration"], "7284.6"),
    ("california", "forbidden_purpose", ["reproductive_health"], "13778.2"),
    ("california", "forbidden_purpose", ["gender_affirming_care"], "819"),
    ("illinois", "forbidden_purpose", ["reproductive_health"], "2-130"),
    ("illinois", "declared_sharing", None, "2-130"),
    ("washington", "forbidden_purpose", ["immigration"], "10.93.160"),
    ("washington", "forbidden_purpose", ["gender_affirming_care"], "7.115"),
])
def test_rule_for_names_the_statute_a_finding_rests_on(name, finding, categories, cites):
    assert cites in load_policy(name).rule_for(finding, categories)


def test_rule_for_a_purpose_the_pack_does_not_forbid_is_none():
    assert load_policy("california").rule_for("forbidden_purpose", ["protest_political"]) is None


def test_the_report_names_the_rule_an_alert_rests_on():
    from detector.report import NO_RULE, alert_rules

    ca = load_policy("california")
    assert alert_rules(ca, ["outside_sharing", "vague_reason"], []) == [ca.sharing_rule]
    assert alert_rules(ca, ["forbidden_purpose"], ["immigration", "religion"]) == [ca.forbidden_purposes["immigration"]]
    assert alert_rules(ca, ["repeat_plate", "no_case_number"], ["immigration"]) == [NO_RULE]
    assert alert_rules(load_policy("generic"), ["outside_sharing", "forbidden_purpose"], ["immigration"]) == [NO_RULE]
