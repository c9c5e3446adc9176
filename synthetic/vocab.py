"""Words the synthetic world is written in: surnames, reasons, dropdown categories, plate formats.

Reasons come from released audit logs (spec section 4 and ``/work/shared/samples``): most
are vague ("investigation", "inv"), some are penal-code shorthand or bare case numbers,
and after the dropdown switch most take the form ``Category - free text``. Misuse
launders itself in the same vague words, so the vocabulary is shared on purpose.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# Common surnames with rough relative frequencies in California; they recur across
# officers and vehicle owners, so same-surname matches happen by chance.
COMMON_SURNAMES: dict[str, float] = {
    "Garcia": 100, "Hernandez": 75, "Lopez": 70, "Martinez": 65, "Rodriguez": 60,
    "Gonzalez": 55, "Smith": 55, "Nguyen": 50, "Perez": 45, "Sanchez": 40, "Ramirez": 40,
    "Johnson": 40, "Williams": 35, "Flores": 35, "Brown": 30, "Jones": 30, "Torres": 30,
    "Rivera": 30, "Gomez": 28, "Diaz": 28, "Kim": 27, "Lee": 27, "Chen": 25, "Cruz": 24,
    "Reyes": 24, "Morales": 23, "Gutierrez": 22, "Ortiz": 22, "Miller": 22, "Davis": 22,
    "Castillo": 20, "Ruiz": 20, "Tran": 20, "Chavez": 20, "Mendoza": 19, "Wilson": 18,
    "Wong": 18, "Vasquez": 18, "Anderson": 17, "Jimenez": 17, "Moreno": 17, "Romero": 16,
    "Alvarez": 16, "Herrera": 16, "Medina": 15, "Aguilar": 15, "Vargas": 14, "Castro": 14,
    "Guzman": 13, "Patel": 13, "Le": 13, "Pham": 12, "Taylor": 12, "Thomas": 12, "Moore": 11,
    "Martin": 11, "Jackson": 11, "Thompson": 11, "White": 11, "Harris": 10, "Clark": 10,
    "Lewis": 10, "Robinson": 10, "Walker": 10, "Young": 10, "Allen": 10, "King": 10,
    "Wang": 10, "Singh": 10, "Wright": 9, "Scott": 9, "Hill": 9, "Green": 9, "Adams": 9,
    "Baker": 9, "Nelson": 9, "Liu": 9, "Ramos": 9, "Carter": 8, "Mitchell": 8,
    "Roberts": 8, "Campbell": 8, "Zhang": 8, "Santos": 8, "Mendez": 8, "Park": 8,
    "Phillips": 7, "Evans": 7, "Turner": 7, "Parker": 7, "Collins": 7, "Edwards": 7,
    "Stewart": 7, "Huang": 7, "Silva": 7, "Dominguez": 7, "Soto": 7, "Ortega": 7,
    "Morris": 6, "Murphy": 6, "Cook": 6, "Rogers": 6, "Morgan": 6, "Cooper": 6,
    "Peterson": 6, "Bailey": 6, "Reed": 6, "Kelly": 6, "Howard": 6, "Delgado": 6,
    "Vega": 6, "Contreras": 6, "Salazar": 6, "Luna": 6, "Espinoza": 6, "Estrada": 6,
    "Ho": 6, "Yang": 6, "Ward": 5, "Cox": 5, "Rojas": 5, "Sandoval": 5, "Lam": 5,
    "Choi": 5, "Khan": 5, "Ali": 5, "Vu": 5, "Cabrera": 4, "Shah": 4, "Hoang": 4,
    "Dang": 4, "Bui": 4, "Do": 4, "Truong": 4,
}

# Rare surnames are composed, so that each appears on only a handful of households.
_RARE_HEADS = (
    "Abern", "Brack", "Calder", "Dunwo", "Esk", "Fairb", "Galv", "Hollin", "Ivers",
    "Jankow", "Kesh", "Lindq", "Marche", "Nakaj", "Okaf", "Pelle", "Quist", "Rask",
    "Sobcz", "Thorv", "Uriar", "Vandew", "Whitt", "Yarbr", "Zelin", "Achter", "Blom",
    "Czern", "Dravec", "Ellingb", "Fitzg", "Grzyb", "Halv", "Istv", "Kowalcz", "Lusk",
    "Mbek", "Norqu", "Oyel", "Przyb",
)
_RARE_TAILS = (
    "athy", "ington", "ski", "ura", "en", "ist", "ian", "orth", "ley", "etti", "ardo",
    "berg", "wicz", "mann", "ova", "ez", "sson", "ani", "oro", "ade", "ick", "uk",
    "emba", "asco", "holm", "inger", "ovic", "aker", "ito", "ard",
)
RARE_SURNAMES: tuple[str, ...] = tuple(h + t for h in _RARE_HEADS for t in _RARE_TAILS)

# Surnames reserved for officers: nobody else in the world carries them, except the
# officer's own relatives, which is what makes a same-surname search telling.
OFFICER_RARE_SURNAMES: tuple[str, ...] = (
    "Okonkwo", "Szczepanski", "Baptiste", "Thorvaldsen", "Uriarte-Vela", "Abernethy",
    "Marchetti", "Yarbrough", "Kowalczyk", "Haugland", "Vukovich", "Delacroix",
    "Brannigan", "Fitzsimmons", "Oyelaran", "Przybylski", "Lindstrom", "Quintanilla",
    "Zabrowski", "Castellanos-Ruiz", "Mbeki", "Eckhardt", "Gallardo-Pena", "Ishikawa",
    "Tervonen", "Achterberg", "Blomqvist", "Czerniak", "Dravecky", "Ellingboe",
    "Grzybowski", "Halvorsen", "Istvanffy", "Luskin", "Norquist", "Ravensworth",
    "Stavropoulos", "Tolliver", "Underhill", "Villaseñor", "Wojcik", "Xiong-Lor",
    "Yeboah", "Zuniga-Meza", "Arceneaux", "Boudreaux", "Cavanaugh", "Dziedzic",
    "Esposito-Lang", "Fairweather", "Grajeda", "Heathcote", "Ingebretsen", "Jablonski",
    "Kasprzak", "Lacombe", "Mulcahy", "Nwachukwu", "Ostrowski", "Pellegrino",
    "Quiroga", "Rasmussen-Toll", "Sekulic", "Trujillo-Baca", "Uchida", "Vanterpool",
    "Whitlock", "Yamashiro", "Zeledon", "Abrego", "Bautista-Lim", "Cisneros-Oh",
    "Dunleavy", "Eberhardt", "Farquhar", "Gorski", "Hinojosa-Pratt", "Ivanova",
    "Janowitz", "Kittredge", "Lindgren", "Mastrangelo", "Nieminen", "Oduya",
    "Pokorny", "Radcliffe", "Strobel", "Tamayo-Reed", "Ulloa", "Vasconcelos",
    "Wetherby", "Yoshimura", "Zielinski", "Ambrosetti", "Beaumont", "Coughlin",
    "Dimitrov", "Etxeberria", "Fonseca-Hale", "Gustafsson", "Hruska", "Iwasaki",
    "Jaramillo-Cole", "Kilbride", "Lombardo", "Mikkelsen", "Nakashima", "Oberholtzer",
)

FIRST_NAMES: tuple[str, ...] = (
    "Maria", "Jose", "Michael", "David", "Daniel", "Jennifer", "Christopher", "Jessica",
    "Juan", "Carlos", "Luis", "Ashley", "James", "Robert", "John", "Sarah", "Matthew",
    "Anthony", "Andrew", "Elizabeth", "Joshua", "Kevin", "Brian", "Michelle", "Eric",
    "Steven", "Jason", "Ryan", "Jonathan", "Adrian", "Vanessa", "Angela", "Thomas",
    "Mark", "Paul", "Richard", "Laura", "Stephanie", "Alejandro", "Miguel", "Jorge",
    "Kimberly", "Linda", "Patricia", "Nicole", "Rebecca", "Minh", "Thanh", "Jin",
    "Priya", "Arjun", "Wei", "Tyler", "Brandon", "Justin", "Aaron", "Monica", "Erica",
    "Gabriel", "Rachel", "Diana", "Oscar", "Victor", "Sean", "Derek", "Travis",
)

# Vague reasons, as released logs spell them; each user has one favourite.
VAGUE_REASONS: tuple[str, ...] = (
    "investigation", "investigation", "investigation", "Investigation", "Investigation",
    "INVESTIGATION", "inv", "INV", "invest", "investigative", "Investigative",
    "investigations", "INVESTIGATIONS", "invesigation", "criminal investigation",
    "Criminal Investigation", "Daytime search for best result", "locate", "Locate",
    "suspect", "follow up", "case", "info", "investigative+", "Inv", "check",
)

# Free text a user adds after a dropdown category when the real purpose is vague.
VAGUE_FREE_TEXT: tuple[str, ...] = ("investigation", "inv", "follow up", "locate", "", "", "info")


@dataclass(frozen=True)
class Category:
    """One purpose of a search: its dropdown label and the free text officers write for it."""

    label: str
    texts: tuple[str, ...]
    weight: float  # share among ordinary benign searches


CATEGORIES: tuple[Category, ...] = (
    Category("Investigation", (
        "investigation", "follow up", "suspect vehicle", "id vehicle", "sus id", "locate",
        "lead", "DA office request", "service call", "police assist", "notice of violation",
        "suspect", "victim vehicle", "Track vehicle", "flock hit",
    ), 16),
    Category("Motor Vehicle Theft/Stolen", (
        "UUV", "UUV", "uuv", "stolen vehicle", "Stolen", "stolen", "10851 VC", "10851",
        "stolen vehicle investigation", "Possible unreported 10851", "10851 VC INV",
        "recovered stolen", "Stolen Vehicle",
    ), 12),
    Category("Wanted Person (Arrest Warrant/Fugitive)", (
        "warrant", "WARRANT", "outstanding warrant", "felony warrant", "fugitive", "Warrant",
        "parolee at large",
    ), 8),
    Category("Burglary/Breaking & Entering", (
        "459 PC", "459 PC Investigation", "burglary", "auto burg investigation",
        "commercial burglary", "residential burglary", "BURG",
    ), 7),
    Category("Larceny/Theft Offenses", (
        "theft", "grand theft", "grand theft suspects", "484 PC", "petty theft",
        "catalytic converter theft", "package theft", "stolen device", "retail theft",
    ), 7),
    Category("Assault/Battery Offenses", (
        "assault", "ADW", "245 PC", "DV", "domestic violence", "273.5 PC", "battery",
    ), 6),
    Category("Robbery", ("robbery", "211 PC", "armed robbery", "carjacking", "215 PC"), 4),
    Category("Hit and Run/Car Accident", (
        "hit and run", "HIT AND RUN", "20001 VC", "20002 VC", "hit & run",
    ), 4),
    Category("Missing/Endangered Person/Runaway", (
        "missing person", "Missing Person", "runaway", "at risk missing",
        "Missing Person / AMBER",
    ), 3),
    Category("Welfare Check", ("welfare check", "Welfare Check", "415", "5150", "service call"), 3),
    Category("Weapons Offense (Guns/Shots Fired)", (
        "shots fired", "246 PC", "ARMED VEH", "brandishing", "417 PC",
    ), 3),
    Category("Destruction/Damage/Vandalism of Property", (
        "vandalism", "594 PC", "id vehicle", "graffiti", "tagging suspects",
    ), 3),
    Category("Drugs/Narcotics", ("narcotics", "11378 HS", "drug sales", "narcotics investigation"), 3),
    Category("Financial Crime (Embezzlement/Fraud)", (
        "fraud", "identity theft", "530.5 PC", "check fraud", "elder abuse fraud",
    ), 2),
    Category("Traffic Infraction", (
        "dui", "DUI", "reckless driving", "sideshow", "23103 VC", "tow notice",
        "notice to appear", "Traffic",
    ), 3),
    Category("Obstructing the Police (Fleeing/Eluding)", (
        "evading", "evading bol", "2800.2 VC", "fled stop", "pursuit",
    ), 2),
    Category("Suspicious Vehicle", (
        "suspicious vehicle", "Suspicious Vehicle", "Suspicious Cir", "susp veh", "prowler",
        "Possible 10-56 subject", "Dumping suspect",
    ), 5),
    Category("Homicide Offenses", ("homicide", "187 PC", "death investigation"), 1),
    Category("Sex Offenses", ("290 registrant", "sexual assault", "indecent exposure", "vice investigation"), 1),
    Category("Human Trafficking", ("human trafficking", "266h PC", "Vice unit", "vice"), 0.7),
    Category("Training", (
        "training", "training", "test", "Training", "Administrative Test", "Camera Test",
        "trng", "TEST", "practice search",
    ), 0),
    Category("Assist Other Agency", (
        "assist other agency", "outside agency assist", "OA", "mutual aid", "police assist",
        "assist CHP", "assist SO", "ATC for SSF",
    ), 0),
    Category("Immigration (civil/administrative)", (
        "", "", "ICE", "ICE+ERO", "HSI assist", "Immigration violation", "ERO",
    ), 0),
)
CATEGORY_INDEX: dict[str, int] = {c.label: i for i, c in enumerate(CATEGORIES)}
CAT_INVESTIGATION = CATEGORY_INDEX["Investigation"]
CAT_STOLEN = CATEGORY_INDEX["Motor Vehicle Theft/Stolen"]
CAT_WARRANT = CATEGORY_INDEX["Wanted Person (Arrest Warrant/Fugitive)"]
CAT_SUSPICIOUS = CATEGORY_INDEX["Suspicious Vehicle"]
CAT_TRAINING = CATEGORY_INDEX["Training"]
CAT_ASSIST = CATEGORY_INDEX["Assist Other Agency"]
CAT_IMMIGRATION = CATEGORY_INDEX["Immigration (civil/administrative)"]

# Agencies whose dropdown calls stolen vehicles "Stolen Vehicle" rather than the NIBRS label.
SIMPLE_LABELS: dict[int, str] = {CAT_STOLEN: "Stolen Vehicle", CAT_SUSPICIOUS: "Suspicious Vehicle"}

# Explicit immigration wording seen in released logs; only a minority of misuse uses it.
IMMIGRATION_REASONS: tuple[str, ...] = (
    "ICE", "ICE+ERO", "HSI assist", "Immigration violation", "HSI", "ICE ERO request",
    "immigration", "assist ICE",
)
# How informal sharing is usually laundered.
LAUNDERED_ASSIST_REASONS: tuple[str, ...] = (
    "investigation", "inv", "Investigation", "assist other agency", "outside agency assist",
    "investigative", "OA", "follow up", "INV",
)

# Legitimate purposes that share words with misuse (a crime at a protest, a hate crime at a
# mosque, fraud against immigrants); always filed with a case number.
LOOKALIKE_REASONS: tuple[str, ...] = (
    "hate crime - mosque vandalism", "vandalism at mosque", "No Kings rally - hit and run",
    "protest - assault on officer", "protest vandalism suspect", "immigration consultant fraud",
    "notario fraud victim", "abortion clinic arson", "ICE machine theft from restaurant",
    "church burglary", "clinic vandalism",
)

# Search-type mix of ad-hoc lookups (canonical names of detector.schema.SEARCH_TYPES).
ADHOC_TYPE_MIX: dict[str, float] = {
    "plate": 0.80, "partial_plate": 0.08, "attributes": 0.07, "convoy": 0.01, "other": 0.04,
}

# Plate layouts by issuing state: L letter, D digit, N digit 2-9 (California's first digit).
PLATE_LAYOUTS: dict[str, tuple[str, ...]] = {
    "CA": ("NLLLDDD",),
    "TX": ("LLLDDDD",),
    "AZ": ("LLLDDDD", "LLDDDDD"),
    "NV": ("DDDLDD", "LLLDDD"),
    "OR": ("DDDLLL", "LLLDDD"),
    "WA": ("LLLDDDD",),
    "FL": ("LLLLDD", "DDDLLL"),
    "GA": ("LLLDDDD",),
    "NY": ("LLLDDDD",),
    "UT": ("LDDDLL",),
    "MX": ("LLLDDDD",),
}
# Where out-of-state plates seen in California come from.
OUT_OF_STATE_PLATE_MIX: dict[str, float] = {
    "NV": 0.22, "AZ": 0.2, "OR": 0.14, "TX": 0.14, "WA": 0.1, "FL": 0.05, "UT": 0.05,
    "NY": 0.04, "GA": 0.03, "MX": 0.03,
}

_LETTERS = np.array(list("ABCDEFGHJKLMNPRSTUVWXYZ"))  # no I, O, Q as on real plates
_DIGITS = np.array(list("0123456789"))


def plates(rng: np.random.Generator, n: int, layout: str) -> np.ndarray:
    """``n`` random plates of one layout as a numpy unicode array, without a Python loop."""
    chars = np.empty((n, len(layout)), dtype="<U1")
    for i, kind in enumerate(layout):
        if kind == "L":
            chars[:, i] = _LETTERS[rng.integers(0, len(_LETTERS), n)]
        elif kind == "N":
            chars[:, i] = _DIGITS[rng.integers(2, 10, n)]
        else:
            chars[:, i] = _DIGITS[rng.integers(0, 10, n)]
    return np.ascontiguousarray(chars).view(f"<U{len(layout)}").ravel()


def state_plates(rng: np.random.Generator, states: np.ndarray) -> np.ndarray:
    """One random plate per entry of ``states``, in that state's layout."""
    out = np.empty(len(states), dtype=object)
    for state in np.unique(states):
        sel = np.flatnonzero(states == state)
        layouts = PLATE_LAYOUTS[str(state)]
        pick = rng.integers(0, len(layouts), len(sel))
        for j, layout in enumerate(layouts):
            sub = sel[pick == j]
            out[sub] = plates(rng, len(sub), layout)
    return out


def partial_plates(rng: np.random.Generator, full: np.ndarray) -> np.ndarray:
    """What an officer types when only part of a plate was seen: a prefix or wildcards."""
    full = np.asarray(full, dtype="<U8")
    chars = full.view("<U1").reshape(len(full), 8).copy()
    length = np.char.str_len(full)
    n = len(full)
    mode = rng.random(n)
    # Wildcard two positions inside the plate.
    for _ in range(2):
        pos = (rng.random(n) * length).astype(int)
        wild = mode < 0.6
        chars[np.flatnonzero(wild), pos[wild]] = "*"
    # Or keep only a prefix of 3 to 5 characters followed by a wildcard.
    keep = rng.integers(3, 6, n)
    col = np.arange(8)[None, :]
    prefix_rows = (mode >= 0.6)[:, None]
    chars = np.where(prefix_rows & (col == keep[:, None]), "*", chars)
    chars = np.where(prefix_rows & (col > keep[:, None]), "", chars)
    return chars.view("<U8").ravel().astype(object)
