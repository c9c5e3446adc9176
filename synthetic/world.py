"""The people and places searches are about: agencies, officers, households, vehicles, sites.

Everything a detector may join against (spec section 2) is built here once per seed,
together with the hidden traits that shape behaviour (shift, role, days off) and that
the reference files deliberately do not reveal.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from detector.schema import REFERENCE_FILES, SITE_CATEGORIES

from . import vocab

HOME_STATE = "CA"
HOME_TZ = "America/Los_Angeles"
SHIFTS = ("day", "swing", "night")
ROLES = ("patrol", "detective", "analyst", "trainer")
# Relative search volume per role: detectives and analysts live in the system.
ROLE_VOLUME = np.array([1.0, 2.6, 3.4, 0.8])


@dataclass(frozen=True)
class AgencySpec:
    """One agency and its camera-network reach; the counts mimic released audit logs."""

    name: str
    state: str
    kind: str
    slug: str  # names the agency's portal export file
    where: tuple[float, float]  # headquarters, lat and lon
    tz: str
    region: str
    users: int
    id_style: str  # "opaque", "email" or "uuid"
    domain: str
    case_format: str  # yyyy-6: 2025-004512, yy-5: 25-01234, yymmdd-4: 2512180091, yyyy-8: 20250332, prefix: RIV25-01234
    devices: int  # cameras of its own network
    networks: tuple[int, int, int]  # networks reached by a regional, statewide, nationwide search
    reach_mix: tuple[float, float, float, float] = (0.0, 0.0, 0.0, 1.0)  # own, regional, statewide, nationwide
    offense_list: bool = False  # the system records an offense type with each search
    simple_labels: bool = False  # dropdown says "Stolen Vehicle" instead of the NIBRS label

    @property
    def lat(self) -> float:
        return self.where[0]

    @property
    def lon(self) -> float:
        return self.where[1]

    @property
    def regional(self) -> int:
        return self.networks[0]

    @property
    def statewide(self) -> int:
        return self.networks[1]

    @property
    def nationwide(self) -> int:
        return self.networks[2]


_PT, _CT, _MT, _ET = HOME_TZ, "America/Chicago", "America/Phoenix", "America/New_York"

AGENCIES: tuple[AgencySpec, ...] = (
    AgencySpec(
        "San Jose Police Department", "CA", "local", "san_jose_ca",
        (37.3382, -121.8863), _PT, "bay", users=55, id_style="email", domain="sanjoseca.gov", case_format="yyyy-6",
        devices=180, networks=(23, 449, 5739), reach_mix=(0.28, 0.17, 0.33, 0.22),
    ),
    AgencySpec(
        "Oakland Police Department", "CA", "local", "oakland_ca",
        (37.8044, -122.2712), _PT, "bay", users=35, id_style="opaque", domain="oaklandca.gov", case_format="yy-5",
        devices=95, networks=(21, 406, 647), reach_mix=(0.22, 0.2, 0.38, 0.2),
    ),
    AgencySpec(
        "San Mateo Police Department", "CA", "local", "san_mateo_ca",
        (37.563, -122.3255), _PT, "bay", users=22, id_style="uuid", domain="cityofsanmateo.org", case_format="yymmdd-4",
        devices=45, networks=(3, 631, 646), reach_mix=(0.2, 0.2, 0.3, 0.3),
    ),
    AgencySpec(
        "Fresno Police Department", "CA", "local", "fresno_ca",
        (36.7378, -119.7871), _PT, "valley", users=30, id_style="opaque", domain="fresno.gov", case_format="yyyy-6",
        devices=120, networks=(14, 310, 5702), reach_mix=(0.35, 0.15, 0.3, 0.2), offense_list=True,
    ),
    AgencySpec(
        "Bakersfield Police Department", "CA", "local", "bakersfield_ca",
        (35.3733, -119.0187), _PT, "valley", users=22, id_style="email", domain="bakersfieldca.gov", case_format="yy-5",
        devices=70, networks=(13, 301, 660), reach_mix=(0.3, 0.2, 0.3, 0.2), simple_labels=True,
    ),
    AgencySpec(
        "Sacramento Police Department", "CA", "local", "sacramento_ca",
        (38.5816, -121.4944), _PT, "sac", users=30, id_style="opaque", domain="cityofsacramento.org",
        case_format="yyyy-6", devices=110, networks=(11, 437, 5688), reach_mix=(0.3, 0.2, 0.3, 0.2),
    ),
    AgencySpec(
        "Riverside Police Department", "CA", "local", "riverside_ca",
        (33.9806, -117.3755), _PT, "socal", users=25, id_style="email", domain="riversideca.gov", case_format="prefix",
        devices=85, networks=(38, 318, 637), reach_mix=(0.3, 0.25, 0.27, 0.18), offense_list=True, simple_labels=True,
    ),
    AgencySpec(
        "Santa Ana Police Department", "CA", "local", "santa_ana_ca",
        (33.7455, -117.8677), _PT, "socal", users=22, id_style="opaque", domain="santa-ana.org", case_format="yyyy-8",
        devices=60, networks=(36, 309, 659), reach_mix=(0.25, 0.25, 0.3, 0.2),
    ),
    AgencySpec(
        "Los Angeles County Sheriff's Department", "CA", "sheriff", "la_county_sheriff_ca",
        (34.0522, -118.2437), _PT, "socal", users=40, id_style="email", domain="lasd.org", case_format="prefix",
        devices=260, networks=(41, 451, 5811), reach_mix=(0.3, 0.25, 0.25, 0.2),
    ),
    AgencySpec(
        "Sacramento County Sheriff's Office", "CA", "sheriff", "sacramento_county_sheriff_ca",
        (38.55, -121.4), _PT, "sac", users=25, id_style="opaque", domain="sacsheriff.com", case_format="yy-5",
        devices=90, networks=(12, 405, 5690), reach_mix=(0.3, 0.2, 0.3, 0.2), offense_list=True,
    ),
    AgencySpec(
        "San Bernardino County Sheriff's Department", "CA", "sheriff", "san_bernardino_county_sheriff_ca",
        (34.1083, -117.2898), _PT, "socal", users=22, id_style="opaque", domain="sbcsd.org", case_format="yyyy-6",
        devices=140, networks=(37, 317, 636), reach_mix=(0.3, 0.25, 0.25, 0.2), simple_labels=True,
    ),
    AgencySpec(
        "California Highway Patrol", "CA", "state", "chp_ca",
        (38.5767, -121.4934), _PT, "state", users=25, id_style="email", domain="chp.ca.gov", case_format="yyyy-6",
        devices=480, networks=(60, 450, 648), reach_mix=(0.15, 0.15, 0.5, 0.2),
    ),
    AgencySpec(
        "UC Berkeley Police Department", "CA", "university", "uc_berkeley_ca",
        (37.8719, -122.2585), _PT, "bay", users=8, id_style="email", domain="berkeley.edu", case_format="yy-5",
        devices=12, networks=(21, 406, 647), reach_mix=(0.45, 0.3, 0.15, 0.1),
    ),
    AgencySpec(
        "Houston Police Department", "TX", "local", "houston_tx",
        (29.7604, -95.3698), _CT, "oos", users=5, id_style="email", domain="houstonpolice.org", case_format="yyyy-6",
        devices=420, networks=(30, 900, 5702),
    ),
    AgencySpec(
        "Harris County Sheriff's Office", "TX", "sheriff", "harris_county_sheriff_tx",
        (29.76, -95.36), _CT, "oos", users=4, id_style="opaque", domain="hcso.org", case_format="yy-5",
        devices=150, networks=(30, 900, 5650), offense_list=True,
    ),
    AgencySpec(
        "Texas Department of Public Safety", "TX", "state", "texas_dps_tx",
        (30.2672, -97.7431), _CT, "oos", users=4, id_style="email", domain="dps.texas.gov", case_format="yyyy-6",
        devices=300, networks=(40, 950, 5790),
    ),
    AgencySpec(
        "Phoenix Police Department", "AZ", "local", "phoenix_az",
        (33.4484, -112.074), _MT, "oos", users=4, id_style="opaque", domain="phoenix.gov", case_format="yyyy-8",
        devices=210, networks=(20, 300, 5720),
    ),
    AgencySpec(
        "Maricopa County Sheriff's Office", "AZ", "sheriff", "maricopa_county_sheriff_az",
        (33.45, -112.07), _MT, "oos", users=3, id_style="opaque", domain="mcso.org", case_format="yy-5",
        devices=130, networks=(20, 300, 5700),
    ),
    AgencySpec(
        "Las Vegas Metropolitan Police Department", "NV", "local", "las_vegas_metro_nv",
        (36.1699, -115.1398), _PT, "oos", users=4, id_style="email", domain="lvmpd.com", case_format="yymmdd-4",
        devices=240, networks=(15, 120, 5730),
    ),
    AgencySpec(
        "Atlanta Police Department", "GA", "local", "atlanta_ga",
        (33.749, -84.388), _ET, "oos", users=3, id_style="opaque", domain="atlantaga.gov", case_format="yy-5",
        devices=500, networks=(30, 600, 5760),
    ),
    AgencySpec(
        "Miami-Dade Sheriff's Office", "FL", "sheriff", "miami_dade_sheriff_fl",
        (25.7617, -80.1918), _ET, "oos", users=3, id_style="email", domain="mdso.gov", case_format="yyyy-6",
        devices=330, networks=(30, 700, 5745),
    ),
    AgencySpec(
        "Homeland Security Investigations (HSI)", "US", "federal", "hsi_us",
        (37.7749, -122.4194), _PT, "federal", users=4, id_style="email", domain="hsi.dhs.gov", case_format="prefix",
        devices=0, networks=(0, 0, 5833),
    ),
    AgencySpec(
        "Immigration and Customs Enforcement - Enforcement and Removal Operations (ICE ERO)",
        "US", "federal", "ice_ero_us",
        (34.0522, -118.2437), _PT, "federal", users=4, id_style="email", domain="ice.dhs.gov", case_format="prefix",
        devices=0, networks=(0, 0, 5833),
    ),
    AgencySpec(
        "Federal Bureau of Investigation (FBI)", "US", "federal", "fbi_us",
        (38.9072, -77.0369), _ET, "federal", users=3, id_style="email", domain="fbi.gov", case_format="prefix",
        devices=0, networks=(0, 0, 5833),
    ),
    AgencySpec(
        "U.S. Customs and Border Protection (CBP)", "US", "federal", "cbp_us",
        (32.7157, -117.1611), _PT, "federal", users=3, id_style="email", domain="cbp.dhs.gov", case_format="prefix",
        devices=0, networks=(0, 0, 5833),
    ),
    AgencySpec(
        "Drug Enforcement Administration (DEA)", "US", "federal", "dea_us",
        (34.0522, -118.2437), _PT, "federal", users=2, id_style="email", domain="dea.gov", case_format="prefix",
        devices=0, networks=(0, 0, 5833),
    ),
)

# The agency whose own-user portal and network-audit exports are rendered.
EXPORT_OWNER = "San Mateo Police Department"

# Cities where sensitive sites and incident locations lie (besides agency headquarters).
_SITE_CITIES: tuple[tuple[str, float, float], ...] = (
    ("San Jose", 37.3382, -121.8863), ("Oakland", 37.8044, -122.2712), ("San Mateo", 37.5630, -122.3255),
    ("Fresno", 36.7378, -119.7871), ("Bakersfield", 35.3733, -119.0187), ("Sacramento", 38.5816, -121.4944),
    ("Riverside", 33.9806, -117.3755), ("Santa Ana", 33.7455, -117.8677), ("Los Angeles", 34.0522, -118.2437),
    ("San Bernardino", 34.1083, -117.2898), ("Berkeley", 37.8719, -122.2585),
)
_SITE_TEMPLATES: dict[str, tuple[tuple[str, ...], int, int]] = {
    # category: (name templates, how many sites, typical radius in metres)
    "reproductive_health": (("Family Planning Health Center", "Women's Health Clinic",
                             "Reproductive Health Services"), 6, 150),
    "gender_affirming_care": (("Gender Health Clinic", "LGBTQ Community Health Center",
                               "Trans Wellness Center"), 4, 150),
    "place_of_worship": (("Islamic Center", "Masjid Al-Noor", "St. Mary's Catholic Church", "Temple Beth El",
                          "Gurdwara Sahib", "First Baptist Church", "Vietnamese Buddhist Temple"), 8, 120),
    "immigration_services": (("Immigrant Legal Resource Center", "Immigration Services Office",
                              "Consulado de Mexico", "Day Laborer Center"), 5, 120),
    "shelter": (("Domestic Violence Shelter", "Family Shelter", "Youth Shelter"), 4, 100),
    "medical": (("Regional Medical Center", "Community Hospital", "Urgent Care", "Methadone Clinic"), 6, 300),
    "school": (("High School", "Elementary School", "Community College"), 6, 250),
    "protest": (("City Hall Plaza", "Federal Building Plaza", "Courthouse Steps", "Civic Center Park"), 4, 400),
    "other": (("Union Hall", "Mental Health Services", "Needle Exchange", "Addiction Recovery Center"), 4, 200),
}


@dataclass
class World:
    """The population searches are drawn from, as arrays indexed by position.

    ``user_*`` arrays run over users, ``veh_*`` over vehicles; ``benign_pool`` lists the
    vehicles ordinary police work looks up (officers' own and relatives' households and
    private people are outside it, so that searching them is a misuse signal).
    """

    agencies: tuple[AgencySpec, ...]
    user_id: np.ndarray
    user_agency: np.ndarray
    user_surname: np.ndarray
    user_first: np.ndarray
    user_role: np.ndarray
    user_shift: np.ndarray
    user_days_off: np.ndarray  # (users, 7) bool, Monday first
    user_vacation: np.ndarray  # (users, 2) first and last day index of a vacation, -1 if none
    user_volume: np.ndarray  # relative search volume
    user_habit: np.ndarray  # index into vocab.VAGUE_REASONS
    user_vagueness: np.ndarray  # chance of writing a vague reason
    user_household: np.ndarray  # household index, -1 if not in vehicles.csv
    user_relatives: list[np.ndarray]  # other household indices of the officer's family
    veh_plate: np.ndarray
    veh_household: np.ndarray
    hh_surname: np.ndarray
    hh_plates: list[np.ndarray]  # vehicle indices per household
    benign_pool: np.ndarray  # vehicle indices
    pool_weight: np.ndarray  # popularity of each pooled vehicle (sums to 1)
    private_households: np.ndarray  # households of ordinary people reserved for misuse targets
    relations: pd.DataFrame
    sites: pd.DataFrame

    @property
    def home_agencies(self) -> np.ndarray:
        return np.array([i for i, a in enumerate(self.agencies) if a.state == HOME_STATE])

    @property
    def outside_agencies(self) -> np.ndarray:
        return np.array([i for i, a in enumerate(self.agencies) if a.state != HOME_STATE])

    def random_members(self, rng: np.random.Generator, agency: np.ndarray) -> np.ndarray:
        """One random user of each given agency."""
        order = np.argsort(self.user_agency, kind="stable")
        first = np.searchsorted(self.user_agency[order], np.arange(len(self.agencies)))
        count = np.bincount(self.user_agency, minlength=len(self.agencies))
        return order[first[agency] + (rng.random(len(agency)) * count[agency]).astype(int)]

    def agency_attr(self, name: str) -> np.ndarray:
        """One attribute of every agency, indexable by the ``user_agency`` codes."""
        return np.array([getattr(a, name) for a in self.agencies])

    def agencies_frame(self) -> pd.DataFrame:
        return pd.DataFrame(
            {"agency": [a.name for a in self.agencies], "state": [a.state for a in self.agencies],
             "kind": [a.kind for a in self.agencies]},
            columns=list(REFERENCE_FILES["agencies"]),
        )

    def users_frame(self) -> pd.DataFrame:
        names = self.agency_attr("name")
        return pd.DataFrame(
            {"user_id": self.user_id, "agency": names[self.user_agency], "surname": self.user_surname},
            columns=list(REFERENCE_FILES["users"]),
        )

    def vehicles_frame(self) -> pd.DataFrame:
        return pd.DataFrame(
            {"plate": self.veh_plate,
             "household_id": np.char.add("h", np.char.zfill(self.veh_household.astype(str), 6)),
             "owner_surname": self.hh_surname[self.veh_household]},
            columns=list(REFERENCE_FILES["vehicles"]),
        )

    def roster(self) -> pd.DataFrame:
        """Hidden traits of every user: for renderings and analysis, never for a detector."""
        names = self.agency_attr("name")
        return pd.DataFrame({
            "user_id": self.user_id, "agency": names[self.user_agency], "first_name": self.user_first,
            "surname": self.user_surname, "role": np.array(ROLES)[self.user_role],
            "shift": np.array(SHIFTS)[self.user_shift],
            "days_off": ["".join("MTWTFSS"[d] if off else "." for d, off in enumerate(row))
                         for row in self.user_days_off],
            "volume": self.user_volume,
        })


def build_world(rng: np.random.Generator, days: int, vehicles: int = 50_000) -> World:
    """Draw agencies' staff, households and their vehicles, relations and sites."""
    agencies = AGENCIES
    users = _build_users(rng, agencies, days)
    hh = _build_households(rng, vehicles, users)
    relations = _build_relations(rng, hh)
    sites = _build_sites(rng)
    return World(agencies=agencies, **users, **hh, relations=relations, sites=sites)


def _build_users(rng: np.random.Generator, agencies: tuple[AgencySpec, ...], days: int) -> dict:
    agency = np.repeat(np.arange(len(agencies)), [a.users for a in agencies])
    n = len(agency)
    home = np.array([agencies[a].state == HOME_STATE for a in agency])
    role = rng.choice(len(ROLES), n, p=[0.62, 0.24, 0.09, 0.05])
    role[~home] = np.where(rng.random((~home).sum()) < 0.6, 1, 2)  # outside users: investigators
    shift = np.where(
        role == 0, rng.choice(3, n, p=[0.4, 0.33, 0.27]), np.where(rng.random(n) < 0.8, 0, 1)
    )
    # Patrol works 4/10s with three consecutive days off; others mostly Monday to Friday.
    days_off = np.zeros((n, 7), dtype=bool)
    first_off = rng.integers(0, 7, n)
    n_off = np.where(role == 0, 3, 2)
    office = (role != 0) & (rng.random(n) < 0.8)
    first_off[office] = 5
    for k in range(3):
        days_off[np.arange(n), (first_off + k) % 7] |= k < n_off
    vacation = np.full((n, 2), -1)
    on_leave = rng.random(n) < 0.25
    length = rng.integers(4, 13, n)
    begin = rng.integers(0, max(days - 4, 1), n)
    vacation[on_leave, 0] = begin[on_leave]
    vacation[on_leave, 1] = np.minimum(begin + length, days - 1)[on_leave]

    common = np.array(list(vocab.COMMON_SURNAMES))
    weights = np.array(list(vocab.COMMON_SURNAMES.values()), dtype=float)
    surname = common[rng.choice(len(common), n, p=weights / weights.sum())].astype(object)
    rare = rng.random(n) < 0.3
    reserved = rng.permutation(len(vocab.OFFICER_RARE_SURNAMES))[: rare.sum()]
    rare_idx = np.flatnonzero(rare)[: len(reserved)]
    surname[rare_idx] = np.array(vocab.OFFICER_RARE_SURNAMES, dtype=object)[reserved]
    first = np.array(vocab.FIRST_NAMES, dtype=object)[rng.integers(0, len(vocab.FIRST_NAMES), n)]

    user_id = _user_ids(rng, agencies, agency, first, surname)
    volume = ROLE_VOLUME[role] * rng.lognormal(0.0, 0.8, n)
    habit = rng.integers(0, len(vocab.VAGUE_REASONS), n)
    vagueness = rng.beta(2.0, 2.5, n)
    return dict(
        user_id=user_id, user_agency=agency, user_surname=surname, user_first=first, user_role=role,
        user_shift=shift, user_days_off=days_off, user_vacation=vacation, user_volume=volume,
        user_habit=habit, user_vagueness=vagueness,
    )


def _user_ids(rng: np.random.Generator, agencies: tuple[AgencySpec, ...], agency: np.ndarray,
              first: np.ndarray, surname: np.ndarray) -> np.ndarray:
    """Account names in each agency's style: opaque numbers, e-mail addresses or UUIDs."""
    out: list[str] = []
    seen: set[str] = set()
    opaque = rng.permutation(9000)[: len(agency)] + 1000
    uuids = uuid4_array(rng, len(agency))
    for i, a in enumerate(agency):
        spec = agencies[a]
        if spec.id_style == "opaque":
            uid = f"u{opaque[i]:04d}"
        elif spec.id_style == "uuid":
            uid = uuids[i]
        else:
            stem = (first[i][0] + surname[i]).lower().replace(" ", "").replace("-", "").replace("ñ", "n")
            uid = f"{stem}@{spec.domain}"
            k = 2
            while uid in seen:
                uid = f"{stem}{k}@{spec.domain}"
                k += 1
        seen.add(uid)
        out.append(uid)
    return np.array(out, dtype=object)


def uuid4_array(rng: np.random.Generator, n: int) -> np.ndarray:
    """``n`` random version-4 UUID strings, formatted without a per-row Python loop."""
    raw = rng.integers(0, 256, (n, 16), dtype=np.uint8)
    raw[:, 6] = (raw[:, 6] & 0x0F) | 0x40
    raw[:, 8] = (raw[:, 8] & 0x3F) | 0x80
    hexchars = np.array(list("0123456789abcdef"))
    nibbles = np.empty((n, 32), dtype=np.uint8)
    nibbles[:, 0::2] = raw >> 4
    nibbles[:, 1::2] = raw & 0x0F
    chars = np.full((n, 36), "-", dtype="<U1")
    cols = [c for c in range(36) if c not in (8, 13, 18, 23)]
    chars[:, cols] = hexchars[nibbles]
    return chars.view("<U36").ravel().astype(object)


def _build_households(rng: np.random.Generator, vehicles: int, users: dict) -> dict:
    """Households with one to five vehicles; officers' own and relatives' among them."""
    sizes = rng.choice([1, 2, 3, 4, 5], size=vehicles, p=[0.38, 0.32, 0.18, 0.08, 0.04])
    n_hh = int(np.searchsorted(np.cumsum(sizes), vehicles)) + 1
    sizes = sizes[:n_hh]
    sizes[-1] -= sizes.sum() - vehicles
    veh_household = np.repeat(np.arange(n_hh), sizes)

    common = np.array(list(vocab.COMMON_SURNAMES), dtype=object)
    weights = np.array(list(vocab.COMMON_SURNAMES.values()), dtype=float)
    hh_surname = common[rng.choice(len(common), n_hh, p=weights / weights.sum())]
    rare = rng.random(n_hh) < 0.2
    rare_names = np.array(vocab.RARE_SURNAMES, dtype=object)
    hh_surname[rare] = rare_names[rng.integers(0, len(rare_names), rare.sum())]

    # Plates are unique: draw extra and keep the first occurrences in draw order.
    raw = vocab.plates(rng, int(vehicles * 1.05) + 100, vocab.PLATE_LAYOUTS["CA"][0])
    uniq, first_at = np.unique(raw, return_index=True)
    plate = raw[np.sort(first_at)][:vehicles].astype(object)

    order = np.argsort(veh_household, kind="stable")
    bounds = np.searchsorted(veh_household[order], np.arange(n_hh + 1))
    hh_plates = [order[bounds[h]: bounds[h + 1]] for h in range(n_hh)]

    # Officers' own households (home-state officers only; 60% live in the covered area)
    # and, for some, relatives' households carrying the same surname.
    taken = rng.permutation(n_hh)
    cursor = 0
    n_users = len(users["user_id"])
    user_household = np.full(n_users, -1)
    user_relatives: list[np.ndarray] = []
    home_users = np.array([AGENCIES[a].state == HOME_STATE for a in users["user_agency"]])
    for u in range(n_users):
        rel: list[int] = []
        if home_users[u] and rng.random() < 0.6:
            user_household[u] = taken[cursor]
            hh_surname[taken[cursor]] = users["user_surname"][u]
            cursor += 1
            n_rel = rng.choice([0, 1, 2, 3], p=[0.45, 0.3, 0.15, 0.1])
            for _ in range(n_rel):
                hh_surname[taken[cursor]] = users["user_surname"][u]
                rel.append(int(taken[cursor]))
                cursor += 1
        user_relatives.append(np.array(rel, dtype=int))
    officer_hh = taken[:cursor]
    # Private people: households nobody investigates, kept for misuse targets.
    private = taken[cursor: cursor + max(200, n_hh // 40)]
    excluded = np.zeros(n_hh, dtype=bool)
    excluded[officer_hh] = True
    excluded[private] = True
    pool = np.flatnonzero(~excluded[veh_household])
    # Popularity: a few vehicles are looked up again and again, most once or never.
    rank = rng.permutation(len(pool)) + 1
    weight = 1.0 / rank ** 0.55
    return dict(
        user_household=user_household, user_relatives=user_relatives, veh_plate=plate,
        veh_household=veh_household, hh_surname=hh_surname, hh_plates=hh_plates,
        benign_pool=pool, pool_weight=weight / weight.sum(), private_households=private,
    )


def _build_relations(rng: np.random.Generator, hh: dict) -> pd.DataFrame:
    """Links between plates beyond a shared household id (spec section 2, relations.csv).

    ``household`` links families living apart (officers and their relatives among them),
    ``associate`` and ``co_travel`` link people who know or follow each other,
    ``employer`` links fleet vehicles to the fleet's first plate.
    """
    plate = hh["veh_plate"]
    hh_plates = hh["hh_plates"]
    rows_a: list[np.ndarray] = []
    rows_b: list[np.ndarray] = []
    kinds: list[np.ndarray] = []

    def add(a: np.ndarray, b: np.ndarray, kind: str) -> None:
        keep = a != b
        rows_a.append(plate[a[keep]])
        rows_b.append(plate[b[keep]])
        kinds.append(np.full(keep.sum(), kind, dtype=object))

    # Families apart: officers' relatives, and random same-surname household pairs.
    fam_a, fam_b = [], []
    for own, rel in zip(hh["user_household"], hh["user_relatives"], strict=True):
        if own >= 0:
            for r in rel:
                fam_a.append(hh_plates[own][0])
                fam_b.append(hh_plates[r][0])
    n_hh = len(hh_plates)
    by_surname = pd.Series(np.arange(n_hh)).groupby(hh["hh_surname"]).apply(np.array)
    for members in by_surname.to_numpy():
        if len(members) >= 2 and rng.random() < 0.5:
            pair = rng.choice(members, 2, replace=False)
            fam_a.append(hh_plates[pair[0]][0])
            fam_b.append(hh_plates[pair[1]][0])
    add(np.array(fam_a, dtype=int), np.array(fam_b, dtype=int), "household")

    n = len(plate)
    add(rng.integers(0, n, n // 10), rng.integers(0, n, n // 10), "associate")
    add(rng.integers(0, n, n // 25), rng.integers(0, n, n // 25), "co_travel")
    fleets = rng.integers(0, n, 40)
    members = rng.integers(0, n, 600)
    add(fleets[rng.integers(0, 40, 600)], members, "employer")
    return pd.DataFrame(
        {"plate_a": np.concatenate(rows_a), "plate_b": np.concatenate(rows_b), "kind": np.concatenate(kinds)},
        columns=list(REFERENCE_FILES["relations"]),
    )


def _build_sites(rng: np.random.Generator) -> pd.DataFrame:
    rows = []
    for category in SITE_CATEGORIES:
        templates, count, radius = _SITE_TEMPLATES[category]
        cities = rng.permutation(len(_SITE_CITIES))
        for k in range(count):
            city, lat, lon = _SITE_CITIES[cities[k % len(cities)]]
            rows.append({
                "category": category,
                "name": f"{templates[k % len(templates)]} ({city})",
                "lat": round(lat + rng.normal(0, 0.025), 6),
                "lon": round(lon + rng.normal(0, 0.03), 6),
                "radius_m": float(round(radius * rng.uniform(0.7, 1.4), -1)),
            })
    sites = pd.DataFrame(rows)
    sites.insert(0, "site_id", [f"s{i + 1:03d}" for i in range(len(sites))])
    return sites[list(REFERENCE_FILES["sites"])]
