"""Reference data (spec section 2): what turns a plate, user or agency string into context.

Each table is optional; a missing one just leaves its signals silent. Lookups are
prepared once as dictionaries and arrays so the per-search path stays vectorised.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from functools import cached_property
from itertools import repeat
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from detector.partial import PlateRegister
from detector.schema import REFERENCE_FILES, SITE_CATEGORIES, normalize_plates
from detector.state import Keys, Vocab
from detector.validate import InputError
from streams.vendor.agencies import agency_state as state_in_name

if TYPE_CHECKING:
    from scipy.spatial import cKDTree

EARTH_RADIUS_M = 6_371_008.8
# Links that put two households in each other's circle (an ``employer`` link puts the
# employer in its employee's only: see ``Reference._links``).
CIRCLE_KINDS = ("household", "associate", "co_travel")
# A household linked to more households than this is a hub (a fleet, a shared address, a
# large employer): it is in its neighbours' circles, they are not in its.
MAX_LINKS = 12
# Site centres around a search checked for an overlapping circle (``Reference.sites_near``).
NEAREST_SITES = 8


def _read_table(path: Path, name: str) -> pd.DataFrame:
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(f"{path}: not UTF-8 text ({exc.reason})") from exc
    except pd.errors.EmptyDataError as exc:
        raise InputError(f"{path}: the file is empty (expected columns {', '.join(REFERENCE_FILES[name])})") from exc
    frame.columns = [c.strip() for c in frame.columns]
    missing = [c for c in REFERENCE_FILES[name] if c not in frame.columns]
    if missing:
        raise InputError(f"{path}: line 1: missing column(s) {', '.join(missing)}; the header has {', '.join(frame.columns)}")
    return frame


def _numbers(frame: pd.DataFrame, path: Path, columns: tuple[str, ...]) -> pd.DataFrame:
    for name in columns:
        values = pd.to_numeric(frame[name], errors="coerce")
        bad = values.isna().to_numpy()
        if bad.any():
            line = int(np.flatnonzero(bad)[0]) + 2
            raise InputError(f"{path}: line {line}: field {name!r}: expected a number, got {frame[name].iloc[line - 2]!r}")
        frame[name] = values.astype(np.float64)
    return frame


def _gather(values: np.ndarray, at: np.ndarray, fill: object) -> np.ndarray:
    """``values[at]``, ``fill`` where ``at`` is -1 (nothing there).

    Text comes as Python strings (``object``): a fixed-width array sized to ``fill`` would
    cut whatever is written into it later to that width.
    """
    if len(values):
        dtype = np.asarray(values).dtype
    else:
        dtype = object if isinstance(fill, str) else np.asarray([fill]).dtype
    out = np.full(len(at), fill, dtype=dtype)
    ok = at >= 0
    out[ok] = np.asarray(values)[at[ok]]
    return out


# An on-behalf-of name that declares a federal agency the reference does not list.
FEDERAL_NAME = re.compile(r"\[Federal\]|ICE|HSI|Homeland|Immigration|FBI|DEA|CBP")
# A log's own spelling of an agency ("Boise PD", "Harris Co. SO (TX)") against agencies.csv's
# ("Boise Police Department"): words it abbreviates
_ABBREVIATIONS = {"pd": "police department", "so": "sheriffs office", "sd": "sheriffs department", "co": "county",
                  "cnty": "county", "dept": "department", "univ": "university", "dps": "department of public safety"}


def _normal_agency(name: str) -> str:
    """An agency's name in lower case without punctuation or a parenthesis, its abbreviations spelled out.

    >>> _normal_agency("Harris Co. SO (TX)"), _normal_agency("Harris County Sheriff's Office")
    ('harris county sheriffs office', 'harris county sheriffs office')
    """
    words = re.sub(r"[^a-z0-9 ]", "", re.sub(r"\([^)]*\)", " ", name.lower()).replace("&", " and ").replace("-", " ")).split()
    return " ".join(_ABBREVIATIONS.get(w, w) for w in words)


def _mapping(keys: pd.Series, values: pd.Series) -> dict:
    """``keys`` -> ``values`` (the last wins); via lists, since iterating an Arrow-backed column is slow."""
    return dict(zip(keys.tolist(), values.tolist()))


@dataclass(frozen=True, eq=False)
class PlateFacts:
    """What the reference says about each of some plates, as aligned arrays."""

    registered: np.ndarray  # in the vehicle register
    owner: np.ndarray  # code of the owner's surname in ``Reference.surname_codes``, -1 if none is known
    households: np.ndarray  # households carrying that surname (of the empty one where none is known; 10**9 if none)
    linked: np.ndarray  # row of the plate in ``Reference.links``, -1 if nothing links it to another plate


@dataclass(frozen=True, eq=False)
class Links:
    """The linked plates of each plate, compressed by row: a plate with row ``r`` (``row`` by
    code in the reference's plate index, -1 for a plate linked to nothing) has in its circle
    the plates of rows ``near[start[r]:start[r + 1]]``, and is in the circles of those of
    ``back_near[back_start[r]:back_start[r + 1]]`` besides (an employee's, were it an employer).
    ``person[r]`` names the plate's household."""

    row: np.ndarray
    start: np.ndarray
    near: np.ndarray
    back_start: np.ndarray
    back_near: np.ndarray
    person: np.ndarray

    @cached_property
    def digest(self) -> int:
        """A fingerprint of the circles, for state keyed by their rows to know it was built on these."""
        h = hashlib.blake2b(digest_size=8)
        for part in (self.start, self.near, self.back_start, self.back_near):
            h.update(np.ascontiguousarray(part, dtype=np.int64).tobytes())
        return int.from_bytes(h.digest(), "little")


@dataclass
class Reference:
    """Reference tables plus the lookups the detector needs from them."""

    sites: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=list(REFERENCE_FILES["sites"])))
    vehicles: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=list(REFERENCE_FILES["vehicles"])))
    relations: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=list(REFERENCE_FILES["relations"])))
    agencies: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=list(REFERENCE_FILES["agencies"])))
    users: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=list(REFERENCE_FILES["users"])))

    def __post_init__(self) -> None:
        self.vehicles = self.vehicles.assign(plate=normalize_plates(self.vehicles["plate"]))
        self.relations = self.relations.assign(
            plate_a=normalize_plates(self.relations["plate_a"]), plate_b=normalize_plates(self.relations["plate_b"])
        )
        self.user_surname: dict[str, str] = _mapping(self.users["user_id"], self.users["surname"].str.strip().str.upper())
        self.agency_state: dict[str, str] = _mapping(self.agencies["agency"], self.agencies["state"].str.upper())
        self.agency_kind: dict[str, str] = _mapping(self.agencies["agency"], self.agencies["kind"].str.lower())
        self.site_category = self.sites["category"].to_numpy(dtype=str) if len(self.sites) else np.array([], dtype=str)
        self.site_radius = self.sites["radius_m"].to_numpy(dtype=np.float64) if len(self.sites) else np.zeros(0)
        self._index_plates()

    @cached_property
    def _agency_by_normal(self) -> dict[str, str]:
        return {_normal_agency(name): name for name in self.agency_state}

    def agency_of(self, name: str, read_state: bool = False) -> tuple[str, str]:
        """(state, kind) of an agency named as a log names it: by ``agencies.csv``'s name, else its
        spelling there with abbreviations spelled out ("Boise PD"); else, with ``read_state``, a
        state the name carries as vendors print it ("Harris Co. SO (TX)", "[Federal] ...") or
        ``US`` for a federal agency's name (``FEDERAL_NAME``); empty where none tells. Only for a
        name an officer typed: "LA PD" would read as Louisiana."""
        if not name:
            return "", ""
        known = name if name in self.agency_state else self._agency_by_normal.get(_normal_agency(name))
        state, kind = (self.agency_state[known], self.agency_kind.get(known, "")) if known is not None else ("", "")
        if read_state and not state:
            state = state_in_name(name) or ("US" if FEDERAL_NAME.search(name) else "")
        return state, kind

    def _index_plates(self) -> None:
        """The per-plate facts as arrays under one compiled plate index (see ``plate_facts``).

        Worked out with joins over columns, not per-plate dictionaries: a register of a
        million vehicles loads in seconds.
        """
        veh = self.vehicles
        plate = veh["plate"]
        household_id = veh["household_id"].fillna("").astype(str)
        # a vehicle without a household id is a household of its own, not one with every other such vehicle
        blank = household_id.str.strip() == ""
        register = pd.DataFrame({"surname": veh["owner_surname"].fillna("").astype(str).str.strip().str.upper(),
                                 "household": ("hh:" + household_id).mask(blank, "plate:" + plate)})
        # households carrying the surname: a match on a rare name is telling, on a common one it is chance
        self.surname_households: dict[str, int] = register.groupby("surname")["household"].nunique().to_dict()
        # the people of the register (its households, a vehicle without one a household of its own): how
        # many an agency's lookups spread over, for the chance that a colleague met one of them too
        self.persons = int(register["household"].nunique())
        last = ~plate.duplicated(keep="last").to_numpy()  # a repeated plate: its last row
        register = register.set_axis(plate).loc[last]
        plates = pd.concat([plate, self.relations["plate_a"], self.relations["plate_b"]], ignore_index=True).unique()
        self._plates = Vocab(plates.tolist())
        at = register.index.get_indexer(plates)  # each plate's row of the register, -1 where it has none
        registered = at >= 0
        surnames, names = pd.factorize(register["surname"])
        self.surname_codes: dict[str, int] = {name: i for i, name in enumerate(names.tolist()) if name}
        surname = _gather(surnames, at, -1)  # each plate's owner's surname by code
        owner = np.where(_gather(np.asarray(names, dtype=object) != "", surname, False), surname, -1)
        carrying = pd.Series(self.surname_households, dtype=np.float64).reindex(names).fillna(10**9).to_numpy()
        households = _gather(carrying, surname, self.surname_households.get("", 10**9))
        homes, home_names = pd.factorize(register["household"])
        hh = _gather(homes, at, -1)
        # a plate alone: not in the register, or registered without a household
        solo = np.zeros(len(home_names), dtype=bool)
        solo[homes[blank.to_numpy()[last]]] = True
        hh[~registered] = len(home_names) + np.arange(np.count_nonzero(~registered))
        self.links = self._links(np.asarray(plates, dtype=object), hh, np.asarray(home_names, dtype=object), solo)
        # a last row for plates the reference does not know
        self._facts = PlateFacts(
            registered=np.append(registered, False),
            owner=np.append(owner, -1).astype(np.int64),
            households=np.append(households, self.surname_households.get("", 10**9)),
            linked=np.append(self.links.row, -1),
        )

    def plate_facts(self, plates: list[str]) -> PlateFacts:
        """The reference's facts about each of ``plates`` (a batch's distinct plates), in one compiled lookup."""
        at = self._plates.find(plates)
        at[at < 0] = len(self._plates)
        f = self._facts
        return PlateFacts(registered=f.registered[at], owner=f.owner[at], households=f.households[at], linked=f.linked[at])

    def _links(self, values: np.ndarray, hh: np.ndarray, names: np.ndarray, solo: np.ndarray) -> Links:
        """Each plate's circle: the plates of its household and of the households linked to it;
        and the plates whose circle holds it without its holding theirs.

        ``values`` are the plates of the index, ``hh`` each one's household by code: ``names``
        name the register's households (``solo`` those of one vehicle without a household id),
        codes past them are plates alone, named by the plate.

        One hop between households, not the connected component: links of a whole region
        chain into one giant component, which would make everyone everyone's associate.
        Household, associate and co-travel links put each household in the other's circle.
        An employer link puts the employer (of the two, the household with more employer
        links) in the employee's circle but not the employee in the employer's: where someone
        works is part of their life, the people who work there are not one another's circle.
        A hub (a household linked to more than ``MAX_LINKS`` others: a fleet, a shared
        address, a large employer) is likewise in its neighbours' circles while its own
        circle is its household. Worked out on integer codes of plates and households, each
        step a gather over sorted arrays, so that a register of a million plates takes seconds.
        """
        plates = self._plates
        if not len(plates):
            empty = np.zeros(0, np.int64)
            return Links(row=empty, start=np.zeros(1, np.int64), near=empty, back_start=np.zeros(1, np.int64),
                         back_near=empty, person=np.zeros(0, dtype=object))
        n = np.int64(hh.max() + 1)
        kind = self.relations["kind"].str.lower()
        a, b = (hh[plates.find(self.relations[side].tolist())] for side in ("plate_a", "plate_b"))
        mutual = kind.isin(CIRCLE_KINDS).to_numpy()
        lo, hi = np.minimum(a, b), np.maximum(a, b)
        pair = np.unique((lo * n + hi)[(kind == "employer").to_numpy() & (lo != hi)])
        lo, hi = pair // n, pair % n
        employees = np.bincount(np.concatenate([lo, hi]), minlength=n)
        # edge x -> y: y is in x's circle
        edges = np.unique(np.concatenate([
            a[mutual] * n + b[mutual], b[mutual] * n + a[mutual],
            (lo * n + hi)[employees[lo] <= employees[hi]], (hi * n + lo)[employees[hi] <= employees[lo]],
        ]))
        edges = edges[edges // n != edges % n]
        neighbours = np.unique(np.concatenate([edges, (edges % n) * n + edges // n])) // n
        hub = np.bincount(neighbours, minlength=n) > MAX_LINKS
        edges = edges[~hub[edges // n]]
        reverse = (edges % n) * n + edges // n
        back = np.sort(reverse[~np.isin(reverse, edges)])  # y -> x: x's circle holds y, y's does not hold x
        known = np.flatnonzero(values != "")
        own = np.unique(hh[known])
        members = known[np.argsort(hh[known], kind="stable")]
        member_start = np.searchsorted(hh[members], np.arange(n + 1))

        def plate_pairs(pairs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
            """Household pairs (sorted codes x * n + y) as plate pairs: each plate of x with each of y's."""
            x, y = pairs // n, pairs % n
            x_start = np.searchsorted(x, np.arange(n + 1))
            ways = x_start[hh[known] + 1] - x_start[hh[known]]
            other = y[_runs(x_start[hh[known]], ways)]
            code = np.repeat(known, ways)
            ways = member_start[other + 1] - member_start[other]
            near = members[_runs(member_start[other], ways)]
            code = np.repeat(code, ways)
            keep = code != near
            order = np.argsort(code[keep] * np.int64(len(plates)) + near[keep])
            return code[keep][order], near[keep][order]

        code, near = plate_pairs(np.union1d(own * n + own, edges))
        back_code, back_near = plate_pairs(back)
        codes = np.union1d(code, back_code)
        row = np.full(len(plates), -1, dtype=np.int64)
        row[codes] = np.arange(len(codes))
        home = np.where(hh[codes] < len(names), hh[codes], -1)
        person = _gather(names, home, "")
        alone = (home < 0) | _gather(solo, home, True)
        person[alone] = values[codes[alone]]
        return Links(row=row, start=np.searchsorted(row[code], np.arange(len(codes) + 1)), near=row[near],
                     back_start=np.searchsorted(row[back_code], np.arange(len(codes) + 1)), back_near=row[back_near],
                     person=person)

    @cached_property
    def register(self) -> PlateRegister:
        """Built at the first partial plate: many logs have none."""
        return PlateRegister(self.vehicles["plate"].tolist())

    def resolve_partials(self, plates: Keys, column: pd.Series) -> Keys:
        """``plates`` (the keys of the plate ``column``) with each partial plate counted as the
        registered plate it stands for, where it stands for one (``detector.partial``).

        The value is replaced where it is: a resolved plate that is also typed in full keeps two
        codes with one value, which every vocabulary encodes alike, rather than paying for
        factorizing all the batch's plates again to merge them.
        """
        if not len(self.vehicles):  # no register: not even the wildcards are looked for
            return plates
        wild = column.str.contains("*", regex=False) | column.str.contains("?", regex=False)
        partial = np.unique(plates.codes[wild.to_numpy(dtype=bool)])
        if not len(partial):
            return plates
        found = self.register.resolve([plates.values[k] for k in partial.tolist()])
        if not any(found):
            return plates
        values = list(plates.values)
        for k, plate in zip(partial.tolist(), found):
            if plate is not None:
                values[k] = plate
        return Keys(plates.codes, values)

    @cached_property
    def _site_tree(self) -> cKDTree:
        """Built at the first search with a place: most vendor exports have none. SciPy's
        tree, not scikit-learn's, whose import costs a second of the replay's process
        (SciPy is loaded by numba already; scikit-learn only in the model's worker)."""
        from scipy.spatial import cKDTree

        return cKDTree(_unit_vectors(self.sites["lat"].to_numpy(dtype=np.float64), self.sites["lon"].to_numpy(dtype=np.float64)))

    def sites_near(self, lat: np.ndarray, lon: np.ndarray, radius_m: np.ndarray, priority: np.ndarray) -> np.ndarray:
        """For each point, the sensitive site whose circle overlaps the search circle, -1 for none.

        Where several overlap, the one of highest ``priority`` (per site), the nearest among
        equals: a search over a clinic that also grazes a school is a search near the
        clinic. Candidates are the ``NEAREST_SITES`` nearest centres, not only the nearest,
        whose small circle may miss the search while a larger one a little farther covers it.

        Distances are great-circle, on a sphere of the Earth's mean radius: the tree holds
        the sites as unit vectors, whose straight-line (chord) distance orders them as the
        arc does and costs no trigonometry per comparison; the arc follows from the chord.
        """
        site = np.full(len(lat), -1, dtype=np.int64)
        ok = np.flatnonzero(~(np.isnan(lat) | np.isnan(lon)))
        if not len(self.sites) or not len(ok):
            return site
        nearest = list(range(1, min(NEAREST_SITES, len(self.sites)) + 1))  # a list: two-dimensional results even for one
        chord, i = self._site_tree.query(_unit_vectors(lat[ok], lon[ok]), k=nearest)
        metres = 2 * np.arcsin(np.minimum(chord / 2, 1.0)) * EARTH_RADIUS_M  # each row nearest first
        hit = metres <= np.nan_to_num(radius_m[ok], nan=0.0)[:, None] + self.site_radius[i]
        best = np.argmax(np.where(hit, priority[i], -np.inf), axis=1)  # the first of the highest: nearest among equals
        rows = np.arange(len(ok))
        found = hit[rows, best]
        site[ok[found]] = i[rows, best][found]
        return site


def _runs(starts: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Positions ``starts[k]`` to ``starts[k] + counts[k] - 1`` of every ``k``, laid end to end."""
    return np.repeat(starts - np.cumsum(counts) + counts, counts) + np.arange(counts.sum())


def _unit_vectors(lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    """Points on the unit sphere for latitudes and longitudes in degrees."""
    phi, lam = np.radians(lat), np.radians(lon)
    return np.column_stack([np.cos(phi) * np.cos(lam), np.cos(phi) * np.sin(lam), np.sin(phi)])


def lookup(keys: Keys, table: dict, default: object = "") -> list:
    """``table``'s entry for each distinct value of ``keys``, ``default`` where it has none.

    One ``dict.get`` per distinct value, not per search; the rows follow by ``keys.take``.
    (``Series.map(dict)`` would also turn the whole table into a Series on every call,
    which costs more than the lookup itself for the small batches a stream scores.)
    """
    return list(map(table.get, keys.values, repeat(default)))


def load_reference(directory: str | Path | None) -> Reference:
    """Load whichever reference files a dataset directory holds (spec section 2)."""
    tables: dict[str, pd.DataFrame] = {}
    if directory is not None:
        d = Path(directory)
        if d.is_file():
            d = d.parent
        for name in REFERENCE_FILES:
            path = d / f"{name}.csv"
            if path.exists():
                frame = _read_table(path, name)
                if name == "sites":
                    frame = _numbers(frame, path, ("lat", "lon", "radius_m"))
                    unknown = ~frame["category"].isin(SITE_CATEGORIES)
                    frame.loc[unknown, "category"] = "other"
                tables[name] = frame
    return Reference(**tables)
