"""Words for signals and alerts: what a reviewer reads before deciding.

Texts never carry a plate or a name: plates are shown as a short pseudonym, so an
alert can be logged, exported and discussed without revealing whom it is about.
"""

from __future__ import annotations

import hashlib

from detector.features import SWEEP_WINDOW_DAYS

SIGNAL_TITLES = {
    "repeat_plate": "Repeated lookups of one plate",
    "self_surname": "Plate of the officer's own surname or household",
    "household_sweep": "Several plates of one household or circle of associates",
    "sensitive_site": "Searches near a sensitive site",
    "volume_burst": "Burst of searches far above the usual volume",
    "informal_sharing": "Run of nationwide lookups of plates with no local history",
    "subject_swarm": "Many users looking up one person",
    "outside_sharing": "Access from outside the sharing the state allows",
    "declared_sharing": "Search declared on behalf of an agency outside the sharing rules",
    "forbidden_purpose": "Stated purpose that the state policy forbids",
    "protected_reason": "Reason names immigration, reproductive or gender-affirming care, protest, religion or a personal purpose",
    "personal_data_reason": "Personal data in the reason",
    "nationwide_scope": "Nationwide reach far beyond the user's norm",
    "off_shift": "Outside the user's usual working hours",
    "no_case_number": "No case number",
    "vague_reason": "Vague reason",
    "model_anomaly": "Unusual for this user by the learned model",
}


def pseudonym(value: str, kind: str = "plate") -> str:
    """A stable short stand-in for a plate or name.

    >>> pseudonym("7ABC123")
    'plate#077103'
    """
    if not value:
        return f"{kind}#none"
    return f"{kind}#{hashlib.sha256(value.encode()).hexdigest()[:6]}"


def _colleague(ctx: dict, flag: str, whom: str) -> str:
    """A note that a colleague of the same agency had looked the person up before: perhaps a shared case
    (the signal weighs less for it), which the reviewer can ask about. Alerts stored before it was kept have none."""
    if ctx.get(flag, 0.0) > 0:
        return f"; a colleague of the same agency had looked {whom} up within {SWEEP_WINDOW_DAYS:.0f} days before (a shared case?)"
    return ""


def signal_detail(name: str, ctx: dict) -> str:
    """One line on why ``name`` fired for an alert, from the alert's aggregates in ``ctx``."""
    n = ctx["n"]
    if name == "repeat_plate":
        return (f"{ctx['max_up_count']:.0f} searches of {ctx['target']} over {ctx['max_up_days']:.0f} days by this user, {ctx['nocase_share']:.0%} without a case number"
                + _colleague(ctx, "plate_team", "them"))
    if name == "self_surname":
        return (f"{ctx['target']} is registered to the officer's surname ({'rare' if ctx['rare_surname'] else 'common'} name)"
                + _colleague(ctx, "plate_team", "them"))
    if name == "household_sweep":
        again = ctx.get("circle_repeat", 0.0)  # alerts stored before it was kept have none
        return (f"{ctx['max_circle']:.0f} plates of one household or circle of associates searched within {SWEEP_WINDOW_DAYS:.0f} days"
                + (f", one of them {again:.0f} times with nothing explaining it" if again >= 2 else "")
                + _colleague(ctx, "circle_team", "one of them"))
    if name == "sensitive_site":
        return f"searches within reach of a {ctx['site_category'].replace('_', ' ')} site on {ctx['max_site_days']:.0f} day(s)"
    if name == "volume_burst":
        peak = ctx.get("peak_hour", 0.0)  # alerts stored before it was kept have none
        return (f"up to {ctx['max_burst']:.0f} searches in about an hour against a usual {ctx['usual_day']:.0f} per day"
                + (f" and a usual busiest hour of {peak:.0f}" if peak > 0 else ""))
    if name == "informal_sharing":
        return f"{_run_of_far(ctx)}; {_times(ctx['far_new'], 'lookup')} of them in this alert"
    if name == "subject_swarm":
        return f"{ctx['max_plate_users']:.0f} different users from {ctx['max_plate_agencies']:.0f} agencies looked up {ctx['target']} within two weeks, without a shared case number"
    if name == "outside_sharing":
        return f"{ctx['agency_state'] or 'unknown-state'} {ctx['agency_kind'] or 'agency'} searching this network; {ctx['rule'] or 'outside the home state'}"
    if name == "declared_sharing":
        return f"declared on behalf of an agency outside the sharing rules; {ctx['rule'] or ''}".rstrip("; ")
    if name == "forbidden_purpose":
        return f"reason categories {', '.join(ctx['reason_categories'])}; {ctx['purpose_rule'] or 'forbidden by the policy'}"
    if name == "protected_reason":
        return f"reason categories: {', '.join(ctx['reason_categories']) or 'protected'}"
    if name == "personal_data_reason":
        return "the stated reason holds personal data (a date of birth, a phone number, an address, a description)"
    if name == "nationwide_scope":
        return f"{ctx['nationwide']} of {n} searches reached 100+ networks, far above the user's norm"
    if name == "off_shift":
        return f"{ctx['offshift']} of {n} searches at hours this user rarely works"
    if name == "no_case_number":
        return f"{ctx['nocase']} of {n} searches without a case number"
    if name == "vague_reason":
        return f"{ctx['vague']} of {n} searches with a vague reason such as 'investigation'"
    if name == "model_anomaly":
        return "the learned model ranks this user's activity among the most unusual"
    return name


def _times(n: float, noun: str) -> str:
    return f"{n:.0f} {noun}" + ("" if round(n) == 1 else "s")


def _run_of_far(ctx: dict) -> str:
    """The run an informal-sharing alert stands on: its flagged searches may be only the run's end."""
    run = max(ctx["far_burst"], ctx["far_new"])  # a checkpoint from before the run was kept restores it as 0
    return f"a run of about {_times(run, 'nationwide lookup')} of plates unknown locally within hours"


def summary(pattern: str, ctx: dict) -> str:
    """One sentence a reviewer can act on."""
    who = f"User {ctx['user']} ({ctx['agency']})"
    span = f"between {ctx['first_day']} and {ctx['last_day']}" if ctx["first_day"] != ctx["last_day"] else f"on {ctx['first_day']}"
    core = {
        "repeat_plate": f"looked up {ctx['target']} {ctx['max_up_count']:.0f} times {span} with no case number tying it to an investigation",
        "self_surname": f"looked up {ctx['target']}, registered to the officer's own surname, {ctx['n']} time(s) {span}",
        "household_sweep": f"looked up {ctx['max_circle']:.0f} plates of one household or circle of associates {span}",
        "sensitive_site": f"searched around a {ctx['site_category'].replace('_', ' ')} site on {ctx['max_site_days']:.0f} day(s) {span}",
        "volume_burst": f"ran a burst of {ctx['n']} searches {span}, far above their usual volume and mostly without case numbers",
        "informal_sharing": f"made {_run_of_far(ctx)} {span}, a pattern of searching on someone else's behalf",
        "subject_swarm": f"and others ({ctx['max_plate_users']:.0f} users) looked up {ctx['target']} {span} with no shared case number",
        "outside_sharing": f"searched this network from outside the sharing the policy allows ({ctx['n']} searches {span})",
        "declared_sharing": f"ran {ctx['n']} searches {span} declared on behalf of an agency the policy excludes",
        "forbidden_purpose": f"ran {ctx['n']} searches {span} for a purpose the policy forbids ({', '.join(ctx['reason_categories'])})",
        "protected_reason": f"ran {ctx['n']} searches {span} whose reason names {', '.join(ctx['reason_categories']) or 'a protected category'}",
    }.get(pattern, f"ran {ctx['n']} unusual searches {span}")
    return f"{who} {core}: review the stated reasons and ask for the case."
