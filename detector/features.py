"""Causal per-search features over batches, from compiled kernels and persistent state.

A search is described only by what came before it (and itself), so a replay and a
stream that see the same searches in the same per-entity order compute the same
numbers. State is split by what it is keyed on, so a stream can partition it:

* ``UserSide``: keyed by the searching account (a stream partitions it by agency):
  working hours, volume, repetition of one person, searches across one household and
  the households linked to it, repeated searches near one site, the reach the user
  normally asks for; and, per agency, what its officers usually do, the sites their
  searches pass, and the people the agency has looked up before.
* ``TargetSide``: keyed by the plate searched (a stream partitions it by plate):
  how many different users look one person up (a decayed count, and the users of the
  last few calendar days), whether a plate has any local history.

Both forget a pair of keys (or a plate) idle for ``FORGET_DAYS`` (``_Forgetting``), so that a
stream's state holds its last months, not its whole history.
"""

from __future__ import annotations

import time

import numpy as np
from numba import njit

from detector.reference import Links
from detector.schema import NS_DAY, NS_HOUR
from detector.state import Keys, Table, Vocab, find_slot, slot_of

PAIR = np.int64(1 << 32)

USER_FEATURES = (
    "user_prior", "hour_share", "day_count", "daily_mean", "peer_daily", "burst", "burst_nocase", "day_fishing",
    "up_count", "up_days", "up_span_days", "up_nocase", "up_case", "site_count", "site_days", "net_mean", "far_burst", "far_usual",
    "circle_plates", "sweep_anchor", "circle_repeat", "located_count", "peer_site_count", "peer_located",
    "linked_recent", "circle_chance", "far_new", "site_wdays", "own_case_practice", "fixations", "agency_case_practice",
    "up_offshift", "circle_tied", "circle_team", "plate_team", "agency_sweep_practice", "colleague_expected",
    "peak_hour",
)
TARGET_FEATURES = ("plate_prior", "plate_users", "plate_agencies", "plate_cover", "plate_users_window", "plate_hotlist",
                   "plate_users_before")
AGENCY_SITE = {"count": (np.float64, 0.0)}
# "by": the user who last looked the person up; "other": when someone else last did
AGENCY_PERSON = {"first": (np.int64, -1), "last": (np.int64, -1), "by": (np.int64, -1), "other": (np.int64, -1)}
WINDOW_DAYS = 4  # calendar days (UTC; today and the three before) of the distinct users on a plate
SWEEP_WINDOW_DAYS = 10.0  # days within which one user's lookups of a circle's plates make one sweep
FORGET_DAYS = 180  # what a pair of keys (or a plate) holds is forgotten once idle this long; see _Forgetting
# Case practice, the share of searches giving a case number: an agency's starts as this share
# of so many searches; it and an account's weigh about the last CASE_PRACTICE_MEMORY searches
CASE_PRACTICE_PRIOR, CASE_PRACTICE_PRIOR_SEARCHES, CASE_PRACTICE_MEMORY = 0.5, 20.0, 2000.0
CASE_PRACTICE_RATE = 1.0 / CASE_PRACTICE_MEMORY
# A user's fixations: their (user, person) pairs that reached this many unexplained lookups
FIXATION = 4.0
# A search is off the user's shift where at most this share of the user's searches so far fell
# in its hour, once the user has this many (``rules.RuleParams`` takes its defaults from these)
OFFSHIFT_SHARE, OFFSHIFT_HISTORY = 0.01, 50.0
# An agency's sweep practice: the share of its lookups of linked plates that fall in a circle of
# this many (weighted) plates looked up by one user within the sweep window, a running mean like case practice
# (none, as if over this many lookups, at first: one officer's sweep is no agency's habit)
SWEEP_PRACTICE_PLATES, SWEEP_PRACTICE_PRIOR_LOOKUPS = 2.5, 500.0
# A user's usual busiest hour (an EWMA of each day's highest decayed hourly count of the user's
# searches, explained or not: a diligent account's busy hours show its pace too) is known once
# this many of the user's days have closed
PEAK_DAYS = 5


@njit(cache=True, nogil=True)
def _running_share(share, gave, span):  # pragma: no cover - compiled
    """``share`` with one more search (``gave`` 1 or 0) as a mean over ``span`` searches, at most
    the last CASE_PRACTICE_MEMORY or so."""
    return share + (gave - share) * (CASE_PRACTICE_RATE if span >= CASE_PRACTICE_MEMORY else 1.0 / span)


@njit(cache=True, nogil=True)
def _decay(last_t, t, tau):  # pragma: no cover - compiled
    """The factor a value last updated at ``last_t`` has decayed by at ``t``: one exp for all values sharing ``tau``."""
    if last_t < 0 or t <= last_t:
        return 1.0
    return np.exp(-(t - last_t) / tau)


@njit(cache=True, inline="always")
def _user_bit(u):  # pragma: no cover - compiled
    return np.uint64(1) << np.uint64(u & 63)


@njit(cache=True, inline="always")
def _recent_slot(u, r, ti, k_slots, k_last, row_last, row_users, window):  # pragma: no cover - compiled
    """The slot of user ``u`` on row ``r`` if they looked it up within ``window``, else -1.

    ``row_last`` (anyone's last lookup of the row) and ``row_users`` (a bit per user
    modulo 64, of the users who looked it up since it was last idle a whole window)
    spare the hash lookup, a cache miss in a table of millions, for rows nobody
    touched lately or this user never did: most of a plate's links.
    """
    # the user's bit first: it rules most rows out, sparing the read of when they were last looked up
    if (row_users[r] & _user_bit(u)) == 0 or row_last[r] < 0 or ti - row_last[r] > window:
        return -1
    s = find_slot(k_slots, u * 4294967296 + r)
    if s >= 0 and ti - k_last[s] <= window:
        return s
    return -1


@njit(cache=True, nogil=True)
def _circle_weight(r, u, ti, k_slots, k_last, k_weight, k_rep, k_tied, row_last, row_users, link_start, link_near, window):  # pragma: no cover - compiled
    """Plates of the circle centred on row ``r`` that user ``u`` looked up within ``window``, by weight,
    the most unexplained lookups of one of them (``k_rep``), and whether a case or hotlist tied one
    of those lookups (``k_tied``)."""
    s = _recent_slot(u, r, ti, k_slots, k_last, row_last, row_users, window)
    total = k_weight[s] if s >= 0 else 0.0
    most = k_rep[s] if s >= 0 else 0.0
    tied = s >= 0 and _within(k_tied[s], ti, window)
    for j in range(link_start[r], link_start[r + 1]):
        s = _recent_slot(u, link_near[j], ti, k_slots, k_last, row_last, row_users, window)
        if s >= 0:
            total += k_weight[s]
            most = max(most, k_rep[s])
            tied = tied or _within(k_tied[s], ti, window)
    return total, most, tied


@njit(cache=True, nogil=True)
def _circle_team(r, u, ti, k_slots, k_last, k_team, row_last, row_users, link_start, link_near, window):  # pragma: no cover - compiled
    """Whether a colleague had looked up, before user ``u`` did within ``window``, a plate of the circle
    centred on row ``r`` (``k_team``). Apart from ``_circle_weight``: asked only of circles that
    could make a sweep, it spares every other linked lookup a read of that column per plate."""
    s = _recent_slot(u, r, ti, k_slots, k_last, row_last, row_users, window)
    if s >= 0 and _within(k_team[s], ti, window):
        return True
    for j in range(link_start[r], link_start[r + 1]):
        s = _recent_slot(u, link_near[j], ti, k_slots, k_last, row_last, row_users, window)
        if s >= 0 and _within(k_team[s], ti, window):
            return True
    return False


@njit(cache=True, inline="always")
def _within(at, ti, window):  # pragma: no cover - compiled
    """Whether a time ``at`` (-1 for never) falls within ``window`` before ``ti``."""
    return at >= 0 and ti - at <= window


@njit(cache=True, nogil=True)
def user_kernel(  # pragma: no cover - compiled
    t, user, agency, plate, site, located, explained, probing, looked_up, has_case, log_net, far, linked, out,
    u_n, u_hist, u_day, u_day_count, u_day_fish, u_daily, u_active, u_burst, u_burst_nc, u_last,
    u_net, u_net_n, u_far, u_far_day, u_far_daily, u_located, u_linked, u_linked_last, u_fix, u_case_practice,
    u_day_peak, u_peak,
    a_daily, a_n, a_located, a_searches, a_case_practice, a_linked, a_sweep_practice, a_first,
    p_slots, p_size, p_count, p_days, p_lastday, p_first, p_nocase, p_case, p_off,
    s_slots, s_size, s_count, s_days, s_lastday, s_wdays, s_daymax,
    as_slots, as_size, as_count,
    ap_slots, ap_size, ap_first, ap_last, ap_by, ap_other,
    k_slots, k_size, k_last, k_first, k_weight, k_rep, k_tied, k_team, row_last, row_users, link_start, link_near, back_start, back_near,
    burst_tau, daily_alpha, far_tau, sweep_window, forget, offshift_share, offshift_history, persons,
):
    # what hangs on one pair of keys alone first, in a loop of its own: the (user, plate) features,
    # and the slots of the (agency, plate) and (user, linked plate) pairs. Its hash lookups do not
    # wait on one another, so the processor overlaps their cache misses, where the loop below waits
    # on each in turn
    ap_slot = np.empty(t.shape[0], dtype=np.int64)
    k_slot = np.empty(t.shape[0], dtype=np.int64)
    # the (user, plate) slot of each search, and whether the pair starts afresh there: its count of
    # off-shift lookups waits for the user's hours, which the loop below follows
    p_slot = np.full(t.shape[0], -1, dtype=np.int64)
    p_afresh = np.zeros(t.shape[0], dtype=np.bool_)
    for i in range(t.shape[0]):
        if plate[i] >= 0:
            # one user, one plate: how often, over how long, under which case numbers
            s = slot_of(p_slots, user[i] * 4294967296 + plate[i], p_size)
            day = t[i] // NS_DAY
            if s == p_size:
                p_size += 1
                p_first[s] = t[i]
                p_afresh[i] = True
            elif p_lastday[s] >= 0 and (day - p_lastday[s]) * NS_DAY > forget:  # idle beyond memory: afresh
                p_first[s], p_count[s], p_days[s], p_nocase[s], p_case[s] = t[i], 0.0, 0.0, 0.0, 0.0
                p_afresh[i] = True
            p_slot[i] = s
            if p_lastday[s] != day:
                p_days[s] += 1.0
                p_lastday[s] = day
            p_count[s] += 1.0
            was = p_nocase[s]
            p_nocase[s] += 1.0 - explained[i]
            # the user's other fixations: a detective who keeps coming back to plates without case
            # numbers does so to many, a private interest stands out among few
            if was < FIXATION <= p_nocase[s]:
                u_fix[user[i]] += 1.0
            out[29, i] = u_fix[user[i]] - (1.0 if p_nocase[s] >= FIXATION else 0.0)
            if has_case[i]:
                p_case[s] += 1.0
            out[8, i] = p_count[s]
            out[9, i] = p_days[s]
            out[10, i] = (t[i] - p_first[s]) / NS_DAY
            out[11, i] = p_nocase[s]
            out[12, i] = p_case[s]
            g = slot_of(ap_slots, agency[i] * 4294967296 + plate[i], ap_size)
            if g == ap_size:
                ap_size += 1
                ap_first[g] = t[i]
            elif t[i] - max(ap_first[g], ap_last[g]) > forget:
                ap_first[g] = t[i]
            # whether a colleague (another user of the agency) looked the person up within the sweep window before
            if _within(ap_last[g] if ap_by[g] != user[i] else ap_other[g], t[i], sweep_window):
                out[34, i] = 1.0
            if ap_by[g] != user[i]:
                ap_other[g], ap_by[g] = ap_last[g], user[i]
            ap_last[g] = max(ap_last[g], t[i])
            ap_slot[i] = g
        if linked[i] >= 0:  # a slot inserted ahead of its search reads as never looked up (last -1) until then
            s = slot_of(k_slots, user[i] * 4294967296 + linked[i], k_size)
            if s == k_size:
                k_size += 1
            k_slot[i] = s
    link_near_buf = np.empty(np.max(np.diff(link_start) + np.diff(back_start)) if link_start.shape[0] > 1 else 0, dtype=np.int64)
    for i in range(t.shape[0]):
        u = user[i]
        a = agency[i]
        ti = t[i]
        day = ti // NS_DAY
        hour = (ti // NS_HOUR) % 24
        # close the user's previous day: fold its count into the user's and the agency's norm
        if u_day[u] != day:
            if u_day[u] >= 0:
                c = u_day_count[u]
                if u_active[u] == 0:
                    u_daily[u] = c
                else:
                    u_daily[u] = (1 - daily_alpha) * u_daily[u] + daily_alpha * c
                u_far_daily[u] = u_far_day[u] if u_active[u] == 0 else (1 - daily_alpha) * u_far_daily[u] + daily_alpha * u_far_day[u]
                # the user's usual busiest hour (from the first day that holds one)
                u_peak[u] = u_day_peak[u] if u_peak[u] <= 0 else (1 - daily_alpha) * u_peak[u] + daily_alpha * u_day_peak[u]
                u_active[u] += 1
                if a_n[a] == 0:
                    a_daily[a] = c
                else:
                    a_daily[a] = (1 - daily_alpha) * a_daily[a] + daily_alpha * c
                a_n[a] += 1
            u_day[u] = day
            u_day_count[u] = 0.0
            u_day_fish[u] = 0.0
            u_day_peak[u] = 0.0
            u_far_day[u] = 0.0
        n_prior = u_n[u]
        out[0, i] = n_prior
        out[1, i] = (u_hist[u, hour] + 0.1) / (n_prior + 1.0)
        s = p_slot[i]
        if s >= 0:
            # lookups of the plate at hours the user does not work: their own time
            if p_afresh[i]:
                p_off[s] = 0.0
            if n_prior >= offshift_history and out[1, i] < offshift_share:
                p_off[s] += 1.0
            out[31, i] = p_off[s]
        u_day_count[u] += 1.0
        out[2, i] = u_day_count[u]
        out[3, i] = u_daily[u] if u_active[u] > 0 else -1.0
        out[4, i] = a_daily[a] if a_n[a] > 0 else -1.0
        # case practice: the account's own share and its agency's (rules.case_practice weighs them)
        gave = 1.0 if has_case[i] else 0.0
        out[28, i] = u_case_practice[u]
        out[30, i] = a_case_practice[a]
        u_case_practice[u] = _running_share(u_case_practice[u], gave, n_prior + 1.0)
        # the lookups of one person the agency's colleagues would make within the sweep window by chance,
        # were its searches spread evenly over the register's people (none without a register)
        if a_first[a] < 0:
            a_first[a] = ti
        if persons > 0:
            out[36, i] = a_searches[a] / max(ti - a_first[a], NS_DAY) * sweep_window / persons
        a_searches[a] += 1.0
        a_case_practice[a] = _running_share(a_case_practice[a], gave, a_searches[a] + CASE_PRACTICE_PRIOR_SEARCHES)
        burst = _decay(u_last[u], ti, burst_tau)
        u_burst[u] = u_burst[u] * burst + 1.0
        # fishing is unexplained lookups of plates (a "test" of the system on one plate after another
        # among them); a storm of area searches answers an incident
        fishing = (1.0 if probing[i] else 1.0 - explained[i]) if looked_up[i] else 0.0
        out[37, i] = u_peak[u] if u_active[u] >= PEAK_DAYS and u_peak[u] > 0 else -1.0
        u_burst_nc[u] = u_burst_nc[u] * burst + fishing
        u_day_peak[u] = max(u_day_peak[u], u_burst[u])
        u_day_fish[u] += fishing
        out[7, i] = u_day_fish[u]
        # unexplained far-reaching lookups of unknown plates, of people the agency never looked up
        # before (no local history): the recent run, and this user's usual day of them
        far_new = far[i]
        if plate[i] >= 0 and ap_first[ap_slot[i]] < ti:
            far_new = 0.0
        out[26, i] = far_new
        u_far[u] = u_far[u] * _decay(u_last[u], ti, far_tau) + far_new
        u_far_day[u] += far_new
        out[16, i] = u_far[u]
        out[17, i] = u_far_daily[u] if u_active[u] > 0 else 0.0
        u_last[u] = ti
        out[5, i] = u_burst[u]
        out[6, i] = u_burst_nc[u]
        u_hist[u, hour] += 1.0
        u_n[u] = n_prior + 1.0
        # searches of a place (an area, or a plate with a location) by this user and by the agency's
        # others: the more of them, the more sites the user passes by chance
        if located[i]:
            u_located[u] += 1.0
            a_located[a] += 1.0
        out[21, i] = u_located[u]
        out[23, i] = a_located[a] - u_located[u]
        # one user, one sensitive site: on how many days, and those days each weighted by how little
        # explained the day's least explained search there (a case or hotlist tie 0, a specific reason 0.5)
        if site[i] >= 0:
            s = slot_of(s_slots, u * 4294967296 + site[i], s_size)
            if s == s_size:
                s_size += 1
            g = slot_of(as_slots, a * 4294967296 + site[i], as_size)
            if g == as_size:
                as_size += 1
            w = 1.0 - explained[i]
            if s_lastday[s] != day:
                s_days[s] += 1.0
                s_lastday[s] = day
                s_wdays[s] += w
                s_daymax[s] = w
            elif w > s_daymax[s]:
                s_wdays[s] += w - s_daymax[s]
                s_daymax[s] = w
            s_count[s] += 1.0
            as_count[g] += 1.0
            out[13, i] = s_count[s]
            out[14, i] = s_days[s]
            out[27, i] = s_wdays[s]
            # how often the agency's other users' searches passed this site (none, rather than fewer, where
            # the user's count goes back further than the agency's: a checkpoint from before the latter)
            out[22, i] = max(as_count[g] - s_count[s], 0.0)
        out[15, i] = u_net[u] if u_net_n[u] > 0 else np.nan
        if not np.isnan(log_net[i]):
            u_net[u] = (u_net[u] * u_net_n[u] + log_net[i]) / (u_net_n[u] + 1.0)
            u_net_n[u] += 1.0
        # one user across one circle (a household and the households linked to it, centred on
        # this plate or on a linked plate looked up recently): the distinct plates of the
        # largest such circle looked up within the window, each as far as nothing explained
        # it, and the plate that opened the run (the episode's anchor); and how often one plate of
        # that circle was looked up with nothing explaining it (none if a case or hotlist tied it)
        out[19, i] = -1.0
        r = linked[i]
        if r >= 0:
            s = k_slot[i]
            w = 1.0 - explained[i]
            # distinct linked plates this user looked up lately (a decayed count over the window):
            # the more of them, the likelier some circle is met by chance
            u_linked[u] *= _decay(u_linked_last[u], ti, sweep_window)
            u_linked_last[u] = ti
            if k_last[s] < 0 or ti - k_last[s] > sweep_window:
                u_linked[u] += 1.0
                k_first[s] = ti
                k_weight[s] = w
                k_rep[s] = w
            else:
                k_weight[s] = max(k_weight[s], w)
                k_rep[s] += w
            if explained[i] >= 1.0:
                # a case number or hotlist hit on the plate explains its other lookups in the window
                k_rep[s] = -1.0e9
                k_tied[s] = ti
            if out[34, i] > 0:
                k_team[s] = ti
            k_last[s] = ti
            if row_last[r] < 0 or ti - row_last[r] > sweep_window:  # every earlier lookup is out of the window
                row_users[r] = 0
            row_users[r] |= _user_bit(u)
            row_last[r] = ti
            own = k_weight[s]
            own_rep = k_rep[s]
            own_tied = _within(k_tied[s], ti, sweep_window)
            anchor, opened = r, k_first[s]
            recent = 0
            # the plates of its circle, then those whose circle holds it without its holding theirs
            # (an employee's, for an employer): candidate centres, and the run's first plate
            for side in range(2):
                starts, nears = (link_start, link_near) if side == 0 else (back_start, back_near)
                for j in range(starts[r], starts[r + 1]):
                    q = nears[j]
                    s2 = _recent_slot(u, q, ti, k_slots, k_last, row_last, row_users, sweep_window)
                    if s2 >= 0:
                        if side == 0:
                            own += k_weight[s2]
                            own_rep = max(own_rep, k_rep[s2])
                            own_tied = own_tied or _within(k_tied[s2], ti, sweep_window)
                        link_near_buf[recent] = q
                        recent += 1
                        if k_first[s2] < opened or (k_first[s2] == opened and q < anchor):
                            anchor, opened = q, k_first[s2]
            best, best_rep, best_tied, centre = own, own_rep, own_tied, r
            # the circle may be centred on a plate looked up before (the target, then its links)
            for j in range(recent):
                q = link_near_buf[j]
                other, other_rep, other_tied = _circle_weight(q, u, ti, k_slots, k_last, k_weight, k_rep, k_tied, row_last, row_users,
                                                              link_start, link_near, sweep_window)
                if other > best:
                    best, best_rep, best_tied, centre = other, other_rep, other_tied, q
            out[18, i] = best
            out[24, i] = u_linked[u]
            # the plates of that circle the user's recent linked lookups would meet by chance, were they
            # spread evenly over the register's linked plates
            out[25, i] = u_linked[u] * (link_start[centre + 1] - link_start[centre] + 1) / (link_start.shape[0] - 1)
            out[19, i] = anchor
            out[20, i] = max(best_rep, 0.0)  # none where a case or hotlist tie explains the repeated plate
            # a case number (or hotlist hit) on a lookup of the circle within the window: the others may be its investigation
            out[32, i] = 1.0 if best_tied else 0.0
            # a colleague looked a plate of it up within the window before this user did: a team's investigation
            # (asked of circles of more than one weighted plate: a sweep needs two and more)
            if best > 1.0 and _circle_team(centre, u, ti, k_slots, k_last, k_team, row_last, row_users, link_start, link_near, sweep_window):
                out[33, i] = 1.0
            # how often the agency's lookups of linked plates are part of such a circle: its officers' habit
            out[35, i] = a_sweep_practice[a]
            a_linked[a] += 1.0
            a_sweep_practice[a] = _running_share(a_sweep_practice[a], 1.0 if best >= SWEEP_PRACTICE_PLATES else 0.0,
                                                 a_linked[a] + SWEEP_PRACTICE_PRIOR_LOOKUPS)
    return p_size, s_size, as_size, ap_size, k_size


@njit(cache=True, nogil=True)
def target_kernel(  # pragma: no cover - compiled
    t, plate, user, agency, covered, hotlist, out,
    pl_n, pl_users, pl_agencies, pl_cover, pl_total, pl_last, pl_wday, pl_wb, pl_hot, pl_early,
    pu_slots, pu_size, pu_last,
    pa_slots, pa_size, pa_last,
    window, tau, swarm_tau, forget,
):
    # the slots of the (plate, user) and (plate, agency) pairs first, in a loop of their own (see user_kernel)
    pu_slot = np.empty(t.shape[0], dtype=np.int64)
    pa_slot = np.empty(t.shape[0], dtype=np.int64)
    daily = np.exp(-NS_DAY / tau)
    for i in range(t.shape[0]):
        if plate[i] >= 0:
            s = slot_of(pu_slots, plate[i] * 4294967296 + user[i], pu_size)
            if s == pu_size:
                pu_size += 1
            pu_slot[i] = s
            s = slot_of(pa_slots, plate[i] * 4294967296 + agency[i], pa_size)
            if s == pa_size:
                pa_size += 1
            pa_slot[i] = s
    for i in range(t.shape[0]):
        p = plate[i]
        if p < 0:
            continue
        ti = t[i]
        if pl_last[p] >= 0 and ti - pl_last[p] > forget:  # idle beyond memory: afresh
            pl_n[p], pl_users[p], pl_agencies[p], pl_cover[p], pl_total[p], pl_last[p], pl_wday[p] = 0.0, 0.0, 0.0, 0.0, 0.0, -1, -1
            pl_hot[p], pl_early[p] = 0.0, 0.0
        out[0, i] = pl_n[p]
        pl_n[p] += 1.0
        # distinct users (and agencies) looking this plate up recently: a decayed count
        # that a user adds to again only once their previous search fell out of the window
        s = pu_slot[i]
        fresh_user = pu_last[s] < 0 or ti - pu_last[s] > window
        # distinct users within the last WINDOW_DAYS calendar days, undecayed: per-day counts of the
        # users new to the plate within that span, in a ring of WINDOW_DAYS buckets ending on day pl_wday
        # The users of a day that leaves the ring join the plate's earlier interest, a count decayed
        # by the day (time constant tau)
        day = ti // NS_DAY
        if pl_wday[p] < 0:
            pl_wb[p, :] = 0.0
            pl_wday[p] = day
            pl_early[p] = 0.0
        gap = day - pl_wday[p]
        for _ in range(min(gap, WINDOW_DAYS)):  # each day passed since empties its bucket into the earlier count
            pl_wday[p] += 1
            b = pl_wday[p] % WINDOW_DAYS
            pl_early[p] = pl_early[p] * daily + pl_wb[p, b]
            pl_wb[p, b] = 0.0
        if gap > WINDOW_DAYS:  # the ring is empty: the days beyond only decay the earlier count
            pl_early[p] *= daily ** (gap - WINDOW_DAYS)
            pl_wday[p] = day
        new_user = pu_last[s] < 0 or ti - pu_last[s] >= WINDOW_DAYS * NS_DAY
        if new_user and day > pl_wday[p] - WINDOW_DAYS:  # a late search older than the ring counts nowhere
            pl_wb[p, day % WINDOW_DAYS] += 1.0
        out[4, i] = np.sum(pl_wb[p])
        out[6, i] = pl_early[p]
        pu_last[s] = ti
        s = pa_slot[i]
        fresh_agency = pa_last[s] < 0 or ti - pa_last[s] > window
        pa_last[s] = ti
        swarm = _decay(pl_last[p], ti, swarm_tau)
        recent = _decay(pl_last[p], ti, tau)
        pl_users[p] = pl_users[p] * swarm + (1.0 if fresh_user else 0.0)
        pl_agencies[p] = pl_agencies[p] * recent + (1.0 if fresh_agency else 0.0)
        pl_cover[p] = pl_cover[p] * recent + covered[i]
        pl_hot[p] = pl_hot[p] * recent + (1.0 if hotlist[i] else 0.0)
        pl_total[p] = pl_total[p] * recent + 1.0
        pl_last[p] = ti
        out[1, i] = pl_users[p]
        out[2, i] = pl_agencies[p]
        out[3, i] = pl_cover[p] / pl_total[p]
        # the share of its recent searches that were hotlist searches: a plate on a hotlist
        out[5, i] = pl_hot[p] / pl_total[p]
    return pu_size, pa_size


class _Checkpointed:
    """State as plain arrays for checkpoints: its tables and vocabularies, by name."""

    TABLES: tuple[str, ...] = ()
    VOCABS: tuple[str, ...] = ()
    ARRAYS: tuple[str, ...] = ()

    def to_arrays(self) -> dict[str, np.ndarray]:
        out = {}
        for name in self.TABLES:
            out.update(getattr(self, name).to_arrays(name))
        for name in self.VOCABS:
            out[f"vocab.{name}"] = np.array(getattr(self, name).values, dtype=object)
        for name in self.ARRAYS:
            out[f"array.{name}"] = getattr(self, name).copy()
        return out

    def load_arrays(self, arrays: dict[str, np.ndarray]) -> None:
        for name in self.TABLES:
            getattr(self, name).load_arrays(name, arrays)
        for name in self.VOCABS:
            setattr(self, name, Vocab(list(arrays[f"vocab.{name}"])))
        for name in self.ARRAYS:
            setattr(self, name, arrays[f"array.{name}"].copy())


class _Forgetting(_Checkpointed):
    """State that forgets what went idle, so that a stream that runs for years holds what the last
    ``forget_days`` brought rather than every plate it ever met (and its checkpoints, which rewrite
    the whole state, stay as small).

    The kernels take a pair of keys (or a plate) idle that long as new, whether or not its rows
    are still there, so dropping them changes no feature: ``forget`` does, once a quarter of
    that span of data time has passed (from ``run``), or when called.
    """

    def __init__(self, forget_days: float) -> None:
        self.forget_ns = int(forget_days * NS_DAY)
        self._next_forget = -1
        self.forgot_before = -(2**63)  # what went idle before this (ns) was last forgotten

    def _maybe_forget(self, t: np.ndarray) -> None:
        if not len(t):
            return
        at = min(int(np.median(t)), time.time_ns())
        if self._next_forget < 0:
            self._next_forget = at + self.forget_ns // 4
        elif at >= self._next_forget:
            self.forget()
            self._next_forget = at + self.forget_ns // 4

    def forget(self, now: int | None = None) -> None:
        """Drop what went idle ``forget_days`` before ``now`` (ns; by default see ``_now``)."""
        now = self._now() if now is None else now
        if now >= 0:
            self.forgot_before = now - self.forget_ns
            self._drop(now)

    def _now(self) -> int:
        """The time to forget by, by default: of the entities' last searches (``_last``), the one a
        tenth are later than, and never past the clock (no search ran later). So that a mistyped
        timestamp years ahead cannot make the state forget what is live: dropping rows changes no
        feature only while the searches to come are no older than this. -1 where nothing was searched."""
        last = self._last()
        seen = last[last >= 0]
        if not len(seen):
            return -1
        return min(int(np.quantile(seen, 0.9, method="lower")), time.time_ns())

    def _last(self) -> np.ndarray:
        """When each entity the side is keyed by (user, plate) was last searched (ns, -1 never)."""
        raise NotImplementedError

    def _drop(self, now: int) -> None:
        """Drop the rows idle beyond the memory (or their window) before ``now``."""
        raise NotImplementedError


def _rekey(keys: np.ndarray, high: np.ndarray | None = None, low: np.ndarray | None = None) -> np.ndarray:
    """Keys ``high * 2**32 + low`` with either half renumbered through a map (old -> new)."""
    hi, lo = keys // PAIR, keys % PAIR
    return (hi if high is None else high[hi]) * PAIR + (lo if low is None else low[lo])


class UserSide(_Forgetting):
    """State and kernel driver for features keyed by the searching account."""

    def __init__(self, burst_tau_h: float = 1.0, daily_alpha: float = 0.1, far_tau_h: float = 6.0,
                 sweep_window_days: float = SWEEP_WINDOW_DAYS, forget_days: float = FORGET_DAYS,
                 offshift_share: float = OFFSHIFT_SHARE, offshift_history: float = OFFSHIFT_HISTORY) -> None:
        if forget_days < sweep_window_days:
            raise ValueError(f"forget_days ({forget_days}) must cover the sweep window ({sweep_window_days} days)")
        super().__init__(forget_days)
        self.burst_tau = burst_tau_h * NS_HOUR
        self.far_tau = far_tau_h * NS_HOUR
        self.sweep_window = int(sweep_window_days * NS_DAY)
        self.daily_alpha = daily_alpha
        self.offshift_share, self.offshift_history = offshift_share, offshift_history
        self.users = Vocab()
        self.agencies = Vocab()
        self.plates = Vocab()
        self.sites = Vocab()
        self.user = Table({
            "n": (np.float64, 0.0), "hist": (np.float64, 0.0, 24), "day": (np.int64, -1), "day_count": (np.float64, 0.0), "day_fish": (np.float64, 0.0),
            "daily": (np.float64, 0.0), "active": (np.float64, 0.0), "burst": (np.float64, 0.0), "burst_nc": (np.float64, 0.0),
            "last": (np.int64, -1), "net": (np.float64, 0.0), "net_n": (np.float64, 0.0), "far": (np.float64, 0.0),
            "far_day": (np.float64, 0.0), "far_daily": (np.float64, 0.0), "located": (np.float64, 0.0),
            "linked": (np.float64, 0.0), "linked_last": (np.int64, -1), "fix": (np.float64, 0.0),
            # the first search sets it; an account restored from a checkpoint without it starts even
            "case_practice": (np.float64, CASE_PRACTICE_PRIOR),
            # an account restored from a checkpoint without them takes its first day's busiest hour as usual
            "day_peak": (np.float64, 0.0), "peak": (np.float64, 0.0),
        })
        self.agency = Table({"daily": (np.float64, 0.0), "n": (np.float64, 0.0), "located": (np.float64, 0.0),
                             "searches": (np.float64, 0.0), "case_practice": (np.float64, CASE_PRACTICE_PRIOR),
                             # an agency restored from a checkpoint without them starts its sweep practice afresh
                             "linked": (np.float64, 0.0), "sweep_practice": (np.float64, 0.0), "first": (np.int64, -1)})
        self.pair = Table({
            "count": (np.float64, 0.0), "days": (np.float64, 0.0), "lastday": (np.int64, -1), "first": (np.int64, 0),
            "nocase": (np.float64, 0.0), "case": (np.float64, 0.0),
            # a pair restored from a checkpoint without it counts its off-shift lookups from then on
            "off": (np.float64, 0.0),
        }, keyed=True)
        self.site = Table({"count": (np.float64, 0.0), "days": (np.float64, 0.0), "lastday": (np.int64, -1),
                           "wdays": (np.float64, 0.0), "daymax": (np.float64, 0.0)}, keyed=True)
        # keyed by agency and site: how many of its users' searches passed the site
        self.agency_site = Table(AGENCY_SITE, keyed=True)
        # keyed by agency and person: when the agency first looked the person up
        self.agency_person = Table(AGENCY_PERSON, keyed=True)
        # keyed by user and the searched plate's row in the reference's links
        # ("tied": when a case number or hotlist hit last tied a lookup of the plate; a row restored
        # from a checkpoint without it is untied until its next such lookup)
        self.linked = Table({"last": (np.int64, -1), "first": (np.int64, 0), "weight": (np.float64, 0.0), "rep": (np.float64, 0.0),
                             "tied": (np.int64, -1), "team": (np.int64, -1)}, keyed=True)
        # per row: when any of these users last looked the plate up, and which (a bit per user
        # modulo 64); they spare most lookups in ``linked``
        self.row_last = np.zeros(0, dtype=np.int64)
        self.row_users = np.zeros(0, dtype=np.uint64)
        # the circles (``Links.digest``) those rows are of, once a batch has run: a checkpoint
        # restored against other reference files is refused, not read with rows of other plates
        self.links_digest = np.zeros(0, dtype=np.uint64)

    def run(self, t: np.ndarray, user: Keys, agency: Keys, person: Keys, site: Keys, located: np.ndarray, explained: np.ndarray,
            probing: np.ndarray, looked_up: np.ndarray, has_case: np.ndarray, log_net: np.ndarray, far: np.ndarray,
            linked: np.ndarray, links: Links, persons: int = 0) -> np.ndarray:
        """Features for one batch in time order, one row per feature (``USER_FEATURES``); updates the state.

        ``person`` and ``site`` are empty where a search has none; ``located`` marks the searches
        that name a place; ``probing`` those whose reason is a test, which explains a lookup of a test
        plate but not one plate after another (``fishing``); ``looked_up`` those that looked a plate
        up, one the log withheld too (no ``person``); ``linked`` is each search's row in
        ``links`` (-1 where the plate is linked to nothing); ``persons`` the people of the register
        (0 without one).
        """
        n = len(t)
        u = self.users.encode(user)
        a = self.agencies.encode(agency)
        p = self.plates.encode(person, blank=False)
        s = self.sites.encode(site, blank=False)
        self.user.reserve(len(self.users)); self.user.size = len(self.users)
        self.agency.reserve(len(self.agencies)); self.agency.size = len(self.agencies)
        # room for a new key from every search that has the entity: the kernel cannot grow a table
        self.pair.reserve(self.pair.size + np.count_nonzero(p >= 0))
        self.site.reserve(self.site.size + np.count_nonzero(s >= 0))
        self.agency_site.reserve(self.agency_site.size + np.count_nonzero(s >= 0))
        self.agency_person.reserve(self.agency_person.size + np.count_nonzero(p >= 0))
        self.linked.reserve(self.linked.size + np.count_nonzero(linked >= 0))
        rows = len(links.start) - 1
        digest = np.array([links.digest], dtype=np.uint64)
        if len(self.row_last) != rows or (len(self.links_digest) and self.links_digest[0] != digest[0]):
            if len(self.row_last) or len(self.links_digest):
                raise ValueError(f"the feature state was built on other circles ({len(self.row_last):,} linked plates) than "
                                 f"the reference's ({rows:,}): reference files changed since the state was saved")
            self.row_last = np.full(rows, -1, dtype=np.int64)
            self.row_users = np.zeros(rows, dtype=np.uint64)
        self.links_digest = digest
        out = np.zeros((len(USER_FEATURES), n))
        out[USER_FEATURES.index("net_mean")] = np.nan
        U, A, P, S, K = self.user.data, self.agency.data, self.pair.data, self.site.data, self.linked.data
        self.pair.size, self.site.size, self.agency_site.size, self.agency_person.size, self.linked.size = user_kernel(
            t, u, a, p, s, located, explained, probing, looked_up, has_case, log_net, far, linked, out,
            U["n"], U["hist"], U["day"], U["day_count"], U["day_fish"], U["daily"], U["active"], U["burst"], U["burst_nc"], U["last"],
            U["net"], U["net_n"], U["far"], U["far_day"], U["far_daily"], U["located"], U["linked"], U["linked_last"], U["fix"], U["case_practice"], U["day_peak"], U["peak"], A["daily"], A["n"], A["located"], A["searches"], A["case_practice"], A["linked"], A["sweep_practice"], A["first"],
            self.pair.slots.table, self.pair.size, P["count"], P["days"], P["lastday"], P["first"], P["nocase"], P["case"], P["off"],
            self.site.slots.table, self.site.size, S["count"], S["days"], S["lastday"], S["wdays"], S["daymax"],
            self.agency_site.slots.table, self.agency_site.size, self.agency_site.data["count"],
            self.agency_person.slots.table, self.agency_person.size, self.agency_person.data["first"], self.agency_person.data["last"],
            self.agency_person.data["by"], self.agency_person.data["other"],
            self.linked.slots.table, self.linked.size, K["last"], K["first"], K["weight"], K["rep"], K["tied"], K["team"], self.row_last, self.row_users,
            links.start, links.near, links.back_start, links.back_near,
            float(self.burst_tau), self.daily_alpha, float(self.far_tau), self.sweep_window, self.forget_ns,
            float(self.offshift_share), float(self.offshift_history), persons,
        )
        self._maybe_forget(t)
        return out

    def _last(self) -> np.ndarray:
        return self.user.data["last"][: self.user.size]

    def _drop(self, now: int) -> None:
        """The (user, plate) and (agency, person) rows idle ``forget_days``, the people no row holds any
        more, and the (user, linked plate) rows idle beyond the sweep window (where they count nowhere)."""
        pair = self.pair.data["lastday"][: self.pair.size] * NS_DAY >= (now // NS_DAY) * NS_DAY - self.forget_ns
        ap = self.agency_person.data
        person = np.maximum(ap["first"][: self.agency_person.size], ap["last"][: self.agency_person.size]) >= now - self.forget_ns
        linked = self.linked.data["last"][: self.linked.size] >= now - self.sweep_window
        if not linked.all():
            self.linked.keep(linked)
        if pair.all() and person.all():  # the plates too: every one is held by a pair or person row
            return
        pair_keys, person_keys = self.pair.keys()[pair], self.agency_person.keys()[person]
        held = np.zeros(len(self.plates), dtype=bool)
        held[pair_keys % PAIR] = True
        held[person_keys % PAIR] = True
        plates = self.plates.keep(held)
        self.pair.keep(pair, _rekey(pair_keys, low=plates))
        self.agency_person.keep(person, _rekey(person_keys, low=plates))

    def load_arrays(self, arrays: dict[str, np.ndarray]) -> None:
        # a checkpoint from before ``row_users``: any user may have looked any row up, which spares nothing
        unknown = {"array.row_users": np.full(len(arrays["array.row_last"]), np.iinfo(np.uint64).max, dtype=np.uint64),
                   "array.links_digest": np.zeros(0, dtype=np.uint64)}  # ... and before the digest: rows are checked by number only
        # ... and from before the site days were weighted: each earlier day near a site counts as
        # unexplained, as it did then (and today's as counted already)
        if "site.days" in arrays:
            unknown |= {"site.wdays": arrays["site.days"], "site.daymax": np.ones(len(arrays["site.days"]))}
        # ... and from before the agency tables: no site passed and nobody looked up yet, so every
        # person is new to the agency once more
        unknown |= Table(AGENCY_SITE, keyed=True).to_arrays("agency_site")
        unknown |= Table(AGENCY_PERSON, keyed=True).to_arrays("agency_person")
        super().load_arrays(unknown | arrays)

    TABLES = ("user", "agency", "pair", "site", "agency_site", "agency_person", "linked")
    VOCABS = ("users", "agencies", "plates", "sites")
    ARRAYS = ("row_last", "row_users", "links_digest")


class TargetSide(_Forgetting):
    """State and kernel driver for features keyed by the plate searched."""

    def __init__(self, window_days: float = 14.0, tau_days: float = 14.0, swarm_tau_days: float = 4.0,
                 forget_days: float = FORGET_DAYS) -> None:
        if forget_days < window_days:
            raise ValueError(f"forget_days ({forget_days}) must cover the window ({window_days} days)")
        super().__init__(forget_days)
        self.window = int(window_days * NS_DAY)
        self.tau = tau_days * NS_DAY
        self.swarm_tau = swarm_tau_days * NS_DAY
        self.plates = Vocab()
        self.users = Vocab()
        self.agencies = Vocab()
        self.plate = Table({
            "n": (np.float64, 0.0), "users": (np.float64, 0.0), "agencies": (np.float64, 0.0),
            "cover": (np.float64, 0.0), "total": (np.float64, 0.0), "last": (np.int64, -1),
            "wday": (np.int64, -1), "wb": (np.float64, 0.0, WINDOW_DAYS), "hot": (np.float64, 0.0),
            "early": (np.float64, 0.0),
        })
        self.plate_user = Table({"last": (np.int64, -1)}, keyed=True)
        self.plate_agency = Table({"last": (np.int64, -1)}, keyed=True)

    def run(self, t: np.ndarray, plate: Keys, user: Keys, agency: Keys, covered: np.ndarray, hotlist: np.ndarray) -> np.ndarray:
        """Features for one batch in time order, one row per feature (``TARGET_FEATURES``); updates the state.

        ``plate`` is empty where a search has none; ``hotlist`` marks the hotlist searches.
        """
        n = len(t)
        p = self.plates.encode(plate, blank=False)
        u = self.users.encode(user)
        a = self.agencies.encode(agency)
        self.plate.reserve(len(self.plates)); self.plate.size = len(self.plates)
        # room for a new key from every search that has the entity: the kernel cannot grow a table
        searched = np.count_nonzero(p >= 0)
        for table in (self.plate_user, self.plate_agency):
            table.reserve(table.size + searched)
        out = np.zeros((len(TARGET_FEATURES), n))
        P, PU, PA = self.plate.data, self.plate_user.data, self.plate_agency.data
        self.plate_user.size, self.plate_agency.size = target_kernel(
            t, p, u, a, covered, hotlist, out,
            P["n"], P["users"], P["agencies"], P["cover"], P["total"], P["last"], P["wday"], P["wb"], P["hot"], P["early"],
            self.plate_user.slots.table, self.plate_user.size, PU["last"],
            self.plate_agency.slots.table, self.plate_agency.size, PA["last"],
            self.window, float(self.tau), float(self.swarm_tau), self.forget_ns,
        )
        self._maybe_forget(t)
        return out

    def _last(self) -> np.ndarray:
        return self.plate.data["last"][: self.plate.size]

    def _drop(self, now: int) -> None:
        """The plates idle ``forget_days`` with their (plate, user) and (plate, agency) rows, and those
        rows idle beyond the window (where they count nowhere)."""
        live = self._last() >= now - self.forget_ns
        # a (plate, user) or (plate, agency) row goes with its plate (idle at least as long, but for late searches)
        pairs = []
        for table in (self.plate_user, self.plate_agency):
            keys = table.keys()
            pairs.append((table, keys, (table.data["last"][: table.size] >= now - self.window) & live[keys // PAIR]))
        if live.all():  # the plates are kept as numbered
            for table, _, kept in pairs:
                if not kept.all():
                    table.keep(kept)
            return
        plates = self.plates.keep(live)
        self.plate.keep(live)
        for table, keys, kept in pairs:
            table.keep(kept, _rekey(keys[kept], high=plates))

    TABLES = ("plate", "plate_user", "plate_agency")
    VOCABS = ("plates", "users", "agencies")
