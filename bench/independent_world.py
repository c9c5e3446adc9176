#!/usr/bin/env python3
"""Independent synthetic ALPR search-audit generator (outside evaluation).

python gen.py --seed N --out DIR [--searches 200000] [--days 60]
              [--start 2026-01-05] [--incident-scale 1.0] [--households N]

Writes DIR/searches.csv, sites.csv, vehicles.csv, relations.csv, agencies.csv,
users.csv and labels.csv (search_id,scenario,incident_id; benign rows unlisted).
Deterministic per seed.  Built only from the data contract
(shared/spec/search-events.md sections 1-3) and public sample exports.
"""
import argparse
import math
import os
import random

import numpy as np
import pandas as pd

HOME = "CA"

# --------------------------------------------------------------------------
# static reference material
# --------------------------------------------------------------------------
# name, state, kind, lat, lon, users, abbr, domain
AGENCIES = [
    ("Los Angeles Police Department", "CA", "local", 34.052, -118.244, 110, "LAPD", "lapd.lacity.gov"),
    ("Los Angeles County Sheriff's Department", "CA", "sheriff", 34.030, -118.170, 85, "LASD", "lasd.org"),
    ("San Diego Police Department", "CA", "local", 32.716, -117.161, 60, "SDPD", "pd.sandiego.gov"),
    ("San Jose Police Department", "CA", "local", 37.338, -121.886, 50, "SJPD", "sanjoseca.gov"),
    ("San Francisco Police Department", "CA", "local", 37.774, -122.419, 48, "SFPD", "sfgov.org"),
    ("Oakland Police Department", "CA", "local", 37.804, -122.271, 32, "OPD", "oaklandca.gov"),
    ("Sacramento Police Department", "CA", "local", 38.581, -121.494, 34, "SacPD", "pd.cityofsacramento.org"),
    ("Sacramento County Sheriff's Office", "CA", "sheriff", 38.560, -121.400, 30, "SSO", "sacsheriff.com"),
    ("Fresno Police Department", "CA", "local", 36.737, -119.787, 30, "FresPD", "fresno.gov"),
    ("Long Beach Police Department", "CA", "local", 33.770, -118.193, 26, "LBPD", "longbeach.gov"),
    ("Bakersfield Police Department", "CA", "local", 35.373, -119.019, 20, "BKPD", "bakersfieldcity.us"),
    ("Anaheim Police Department", "CA", "local", 33.836, -117.914, 20, "ANPD", "anaheim.net"),
    ("Riverside Police Department", "CA", "local", 33.953, -117.396, 18, "RivPD", "riversideca.gov"),
    ("Riverside County Sheriff's Office", "CA", "sheriff", 33.740, -116.980, 30, "RSO", "riversidesheriff.org"),
    ("Orange County Sheriff's Department", "CA", "sheriff", 33.720, -117.830, 32, "OCSD", "ocsheriff.gov"),
    ("San Bernardino County Sheriff's Department", "CA", "sheriff", 34.108, -117.290, 28, "SBSD", "sbcsd.org"),
    ("Santa Ana Police Department", "CA", "local", 33.745, -117.868, 18, "SAPD", "santa-ana.org"),
    ("Stockton Police Department", "CA", "local", 37.958, -121.291, 16, "STPD", "stocktonca.gov"),
    ("Fremont Police Department", "CA", "local", 37.549, -121.989, 14, "FrPD", "fremont.gov"),
    ("Hayward Police Department", "CA", "local", 37.669, -122.081, 12, "HPD", "hayward-ca.gov"),
    ("San Mateo Police Department", "CA", "local", 37.563, -122.325, 12, "SMPD", "cityofsanmateo.org"),
    ("Daly City Police Department", "CA", "local", 37.688, -122.470, 9, "DCPD", "dalycity.org"),
    ("Belmont Police Department", "CA", "local", 37.518, -122.276, 5, "BelPD", "belmont.gov"),
    ("Foster City Police Department", "CA", "local", 37.559, -122.271, 4, "FCPD", "fostercity.org"),
    ("Redwood City Police Department", "CA", "local", 37.485, -122.236, 9, "RCPD", "redwoodcity.org"),
    ("Palo Alto Police Department", "CA", "local", 37.442, -122.143, 8, "PAPD", "cityofpaloalto.org"),
    ("Mountain View Police Department", "CA", "local", 37.386, -122.084, 8, "MVPD", "mountainview.gov"),
    ("Sunnyvale Department of Public Safety", "CA", "local", 37.369, -122.036, 10, "SDPS", "sunnyvale.ca.gov"),
    ("Santa Clara County Sheriff's Office", "CA", "sheriff", 37.350, -121.900, 18, "SCCSO", "sheriff.sccgov.org"),
    ("Alameda County Sheriff's Office", "CA", "sheriff", 37.700, -121.930, 18, "ACSO", "acgov.org"),
    ("Berkeley Police Department", "CA", "local", 37.872, -122.273, 9, "BerkPD", "berkeleyca.gov"),
    ("Richmond Police Department", "CA", "local", 37.936, -122.348, 10, "RichPD", "ci.richmond.ca.us"),
    ("Walnut Creek Police Department", "CA", "local", 37.906, -122.065, 7, "WCPD", "walnut-creek.org"),
    ("Santa Rosa Police Department", "CA", "local", 38.440, -122.714, 10, "SRPD", "srcity.org"),
    ("Salinas Police Department", "CA", "local", 36.678, -121.656, 9, "SalPD", "salinas.gov"),
    ("Modesto Police Department", "CA", "local", 37.639, -120.997, 11, "MPD", "modestogov.com"),
    ("Chula Vista Police Department", "CA", "local", 32.640, -117.084, 12, "CVPD", "chulavistaca.gov"),
    ("El Cajon Police Department", "CA", "local", 32.795, -116.963, 7, "ECPD", "elcajon.gov"),
    ("Pasadena Police Department", "CA", "local", 34.148, -118.144, 10, "PasPD", "cityofpasadena.net"),
    ("Torrance Police Department", "CA", "local", 33.836, -118.341, 9, "TPD", "torranceca.gov"),
    ("Vallejo Police Department", "CA", "local", 38.104, -122.257, 8, "VPD", "cityofvallejo.net"),
    ("Elk Grove Police Department", "CA", "local", 38.409, -121.372, 8, "EGPD", "elkgrovecity.org"),
    ("California Highway Patrol", "CA", "state", 38.580, -121.490, 40, "CHP", "chp.ca.gov"),
    ("University of California Police Department, Berkeley", "CA", "university", 37.872, -122.259, 5, "UCPD", "berkeley.edu"),
    ("UCLA Police Department", "CA", "university", 34.069, -118.445, 5, "UCLAPD", "ucla.edu"),
    ("San Jose State University Police Department", "CA", "university", 37.335, -121.881, 3, "SJSUPD", "sjsu.edu"),
    # out of state
    ("Portland Police Bureau", "OR", "local", 45.515, -122.679, 12, "PPB", "police.portlandoregon.gov"),
    ("Eugene Police Department", "OR", "local", 44.052, -123.087, 10, "EugPD", "eugene-or.gov"),
    ("Seattle Police Department", "WA", "local", 47.606, -122.332, 12, "SeaPD", "seattle.gov"),
    ("Washoe County Sheriff's Office", "NV", "sheriff", 39.530, -119.810, 8, "WCSO", "washoecounty.gov"),
    ("Las Vegas Metropolitan Police Department", "NV", "local", 36.170, -115.140, 14, "LVMPD", "lvmpd.com"),
    ("Phoenix Police Department", "AZ", "local", 33.448, -112.074, 12, "PhxPD", "phoenix.gov"),
    ("Maricopa County Sheriff's Office", "AZ", "sheriff", 33.450, -112.070, 8, "MCSO", "mcso.org"),
    ("Harris County Sheriff's Office", "TX", "sheriff", 29.760, -95.370, 10, "HCSO", "hcso.hctx.net"),
    ("Johnson County Sheriff's Office", "TX", "sheriff", 32.350, -97.390, 5, "JCSO", "johnsoncountytx.org"),
    ("Boise Police Department", "ID", "local", 43.615, -116.202, 6, "BoisePD", "cityofboise.org"),
    ("Grandville Police Department", "MI", "local", 42.909, -85.763, 3, "GPD", "cityofgrandville.com"),
    ("Cobb County Police Department", "GA", "local", 33.940, -84.550, 6, "CCPD", "cobbcounty.org"),
    # federal
    ("Federal Bureau of Investigation (FBI)", "US", "federal", 37.780, -122.420, 6, "FBI", "fbi.gov"),
    ("U.S. Marshals Service", "US", "federal", 34.050, -118.240, 5, "USMS", "usms.doj.gov"),
    ("Bureau of Alcohol, Tobacco, Firearms and Explosives (ATF)", "US", "federal", 37.790, -122.400, 4, "ATF", "atf.gov"),
    ("Drug Enforcement Administration (DEA)", "US", "federal", 34.050, -118.250, 4, "DEA", "dea.gov"),
    ("Homeland Security Investigations (HSI)", "US", "federal", 37.790, -122.400, 4, "HSI", "hsi.dhs.gov"),
    ("ICE Enforcement and Removal Operations", "US", "federal", 34.050, -118.240, 4, "ERO", "ice.dhs.gov"),
    ("U.S. Customs and Border Protection", "US", "federal", 32.540, -117.030, 4, "CBP", "cbp.dhs.gov"),
    # private
    ("Westfield Valley Fair Security", "CA", "private", 37.325, -121.946, 3, "WVF", "westfield.com"),
    ("Lowe's Asset Protection - NorCal", "CA", "private", 37.600, -122.050, 3, "LAP", "lowes.com"),
    ("Oak Knoll Estates HOA", "CA", "private", 33.700, -117.800, 2, "OKE", "oakknollhoa.org"),
]
IMMIG_FED = {"HSI", "ERO", "CBP"}
TZ = {"CA": -8, "OR": -8, "WA": -8, "NV": -8, "AZ": -7, "ID": -7, "UT": -7, "TX": -6, "MI": -5, "GA": -5}

SURNAMES_COMMON = dict(
    Garcia=30, Rodriguez=24, Martinez=22, Hernandez=22, Lopez=20, Gonzalez=18, Smith=18, Nguyen=16,
    Johnson=15, Williams=14, Brown=12, Lee=12, Kim=10, Perez=12, Sanchez=11, Ramirez=11, Torres=9,
    Flores=9, Rivera=8, Gomez=8, Diaz=8, Jones=10, Miller=9, Davis=9, Wilson=7, Anderson=7, Taylor=7,
    Thomas=6, Moore=6, Jackson=6, Martin=6, White=6, Harris=5, Clark=5, Lewis=5, Robinson=5, Walker=5,
    Young=5, Allen=5, King=4, Wright=4, Scott=4, Hill=4, Green=4, Adams=4, Baker=4, Nelson=4, Carter=4,
    Mitchell=4, Chen=9, Wang=7, Tran=8, Le=6, Pham=5, Patel=6, Singh=6, Wong=5, Chan=4, Liu=4, Yang=4,
    Huang=3, Cruz=6, Reyes=6, Morales=5, Ortiz=5, Gutierrez=5, Chavez=5, Ramos=4, Ruiz=4, Alvarez=4,
    Mendoza=4, Castillo=4, Jimenez=4, Vasquez=4, Romero=4, Herrera=4, Park=4, Khan=3)
SURNAMES_MID = """Medina Aguilar Vargas Castro Guzman Munoz Salazar Delgado Pena Rios Contreras Sandoval
Estrada Dominguez Campbell Evans Edwards Collins Stewart Morris Murphy Cook Rogers Reed Bailey Bell
Cooper Howard Ward Cox Peterson Gray Watson Brooks Kelly Sanders Price Bennett Wood Barnes Ross
Henderson Coleman Jenkins Perry Powell Long Patterson Hughes Washington Butler Simmons Foster Bryant
Alexander Russell Griffin Hayes Myers Ford Hamilton Graham Sullivan Wallace Woods Cole West Jordan
Owens Reynolds Fisher Ellis Harrison Gibson McDonald Marshall Choi Kang Yamamoto Tanaka Nakamura Sato
Ali Ahmed Hussain Cohen Shapiro Murray Freeman Wells Webb Simpson Stevens Tucker Porter Hunter Hicks
Crawford Henry Boyd Mason Kennedy Warren Dixon Burns Gordon Shaw Holmes Rice Robertson Hunt Black
Daniels Palmer Mills Nichols Grant Knight Ferguson Rose Stone Hawkins Dunn Perkins Hudson Spencer
Gardner Stephens Payne Pierce Berry Matthews Arnold Wagner Willis Ray Watkins Olson Carroll Duncan
Snyder Hart Cunningham Bradley Lane Andrews Harper Fox Riley Armstrong Carpenter Weaver Greene
Lawrence Elliott Sims Austin Peters Kelley Franklin Lawson Esparza Arreola Bautista Cervantes Escobar
Fajardo Galvan Ibarra Lozano Marquez Navarro Orozco Padilla Quiroz Solis Trujillo Valdez Zuniga
Cardenas Duarte Figueroa Gallagher O'Brien O'Connor Novak Rasmussen""".split()
SURNAMES_RARE = """Kowalczyk Abernathy Thibodeaux Okonkwo Villasenor Haverkamp Szymanski Lindqvist Oyelaran
Castellanos-Reyes Brannigan Delacroix Marchetti Kuznetsov Tsosie Begay Yazzie Halvorsen Baptiste
Ochoa-Luna Quintanilla Zamarripa Whitlock Pemberton Fairbanks Holloway Nakashima Takahashi Hashemi
Rahimi Moradi Karimi Dimitriou Papadakis Horvath Kovacs McAllister Alcaraz Barragan Wojcik Lindgren
Achterberg Sorensen Ferreira Magnusson Oduya Iwasaki Vukovic Petrossian Hakobyan Sarkisian""".split()
HISPANIC = set("""Garcia Rodriguez Martinez Hernandez Lopez Gonzalez Perez Sanchez Ramirez Torres Flores Rivera
Gomez Diaz Cruz Reyes Morales Ortiz Gutierrez Chavez Ramos Ruiz Alvarez Mendoza Castillo Jimenez
Vasquez Romero Herrera Medina Aguilar Vargas Castro Guzman Munoz Salazar Delgado Pena Rios Contreras
Sandoval Estrada Dominguez Esparza Arreola Bautista Cervantes Escobar Fajardo Galvan Ibarra Lozano
Marquez Navarro Orozco Padilla Quiroz Solis Trujillo Valdez Zuniga Cardenas Duarte Figueroa""".split())
FIRST = """James Michael Robert John David William Richard Joseph Thomas Christopher Daniel Matthew Anthony
Mark Steven Andrew Joshua Kevin Brian Ryan Jason Eric Jose Luis Carlos Juan Miguel Jorge Ricardo
Mary Jennifer Linda Patricia Elizabeth Jessica Sarah Karen Lisa Nancy Michelle Laura Maria Ana
Sofia Rosa Angela Amanda Melissa Stephanie Rebecca Kimberly Huy Minh Tuan Wei Jun Raj Amit Hiroshi""".split()
BUSINESS = ["BAYSIDE PLUMBING INC", "GOLDEN STATE ELECTRIC", "PACIFIC COAST LANDSCAPING", "SUNRISE PEST CONTROL",
            "VALLEY FRESH PRODUCE LLC", "DELTA LOGISTICS INC", "CENTRAL COAST ROOFING", "SIERRA TOWING",
            "MISSION ROOTER", "BLUE SKY HVAC", "SOCAL FREIGHT LLC", "CITY CAB CO", "ALLIANCE SECURITY SVCS",
            "REDWOOD CONSTRUCTION", "EASTBAY MOVING CO", "LA CARNICERIA MARKET", "COASTAL RENTALS",
            "PREMIER AUTO GLASS", "CALWEST JANITORIAL", "SUMMIT DELIVERY SVC"]

CA_STATE0, NAT0 = 620, 5200

# (category, weight, free-text, dropdown-free-part)
OFFENSES = [
    ("Motor Vehicle Theft/Stolen", 12, ["stolen vehicle", "Stolen", "10851", "UUV", "stolen veh", "10851 VC INV", "Possible 10851", "recovered stolen", "POSS 10851"], ["stolen vehicle", "stolen vehicle investigation", "investigation", "", "10851"]),
    ("Larceny/Theft Offenses", 9, ["theft", "grand theft suspects", "petty theft", "catalytic converter theft", "shoplift sus veh", "487 PC"], ["theft", "investigation", "", "grand theft"]),
    ("Burglary/Breaking & Entering", 8, ["459 PC Investigation", "auto burg investigation", "several 459s resd", "commercial burg", "Auto burg series", "BURG"], ["459 PC Investigation", "sus id", "investigation", "", "auto burg"]),
    ("Wanted Person (Arrest Warrant/Fugitive)", 8, ["warrant", "WARRANT", "outstanding warrant", "felony warrant", "wanted subject"], ["warrant", "WARRANT", "Wanted subject's vehicle", ""]),
    ("Assault/Battery Offenses", 6, ["assault", "ADW suspect", "245 PC", "battery"], ["assault", "", "ADW"]),
    ("Assault/Battery Offenses (Domestic)", 3, ["DV suspect", "273.5", "DV"], ["", "DV suspect"]),
    ("Robbery", 5, ["211 suspect veh", "robbery", "armed robbery", "Robbery"], ["Investigation", "", "211"]),
    ("Hit and Run/Car Accident", 5, ["HIT AND RUN", "hit and run", "20001 VC", "HIT AND RUN INVESTIGATION"], ["SUSPECT VEH IN HR", "", "hit and run"]),
    ("Welfare Check", 3, ["welfare check", "Welfare Check", "5150", "WELFARE CHECK"], ["WELFARE CHECK", "415", ""]),
    ("Missing/Endangered Person/Runaway", 2, ["Missing Person", "missing person", "runaway juvenile", "at risk missing"], ["missing person", "", "runaway"]),
    ("Drugs/Narcotics", 4, ["narcotics", "Narcotics", "sales investigation", "11351"], ["investigation", "", "sales"]),
    ("Weapons Offense (Guns/Shots Fired)", 3, ["shots fired", "ADW gun", "ARMED VEH", "417"], ["shots fired", ""]),
    ("Destruction/Damage/Vandalism of Property", 3, ["vandalism", "594", "graffiti", "Dumping suspect"], ["id vehicle", "", "vandalism"]),
    ("Financial Crime (Embezzlement/Fraud)", 2, ["fraud", "ID theft", "530.5"], ["fraud", ""]),
    ("Driving Under the Influence (DUI/DWI/OWI/OVI)", 1.5, ["dui", "DUI hit and run"], [""]),
    ("Obstructing the Police (Fleeing/Eluding)", 1.5, ["evading", "2800.2", "evading bol"], ["evading", ""]),
    ("Stolen Property Offenses", 2, ["possession of stolen property", "496"], ["stolen license plate hit confirmation", ""]),
    ("Sex Offenses", 1, ["290 registrant", "indecent exposure"], [""]),
    ("Protective/Protection Order", 1, ["restraining order violation", "DVRO service"], ["", "DVRO"]),
    ("Disorderly Conduct/Disturbance", 1, ["415", "disturbance"], [""]),
    ("Homicide Offenses", 0.5, ["homicide", "187"], ["", "187 investigation"]),
    ("Kidnapping/Abduction", 0.3, ["kidnapping", "207 PC"], [""]),
    ("Traffic Infraction", 1, ["reckless driving", "sideshow"], ["sideshow", ""]),
    ("Suspicious Activity", 2, ["Suspicious Vehicle", "suspicious vehicle", "Suspicious Cir", "sus veh"], ["suspicious vehicle", ""]),
    ("Other", 1.5, ["police", "ATL", "CFS", "locate", "Track vehicle", "flock hit"], ["", "locate"]),
]
OFF_CAT = [o[0] for o in OFFENSES]
OFF_W = np.array([o[1] for o in OFFENSES], float)
OFF_FREE = {o[0]: o[2] for o in OFFENSES}
OFF_DD = {o[0]: o[3] for o in OFFENSES}
SERIOUS_W = {"Robbery": 3, "Burglary/Breaking & Entering": 4, "Assault/Battery Offenses": 3, "Drugs/Narcotics": 3,
             "Homicide Offenses": 0.6, "Motor Vehicle Theft/Stolen": 3, "Weapons Offense (Guns/Shots Fired)": 2,
             "Wanted Person (Arrest Warrant/Fugitive)": 3, "Larceny/Theft Offenses": 3,
             "Financial Crime (Embezzlement/Fraud)": 1.5, "Assault/Battery Offenses (Domestic)": 1.5,
             "Kidnapping/Abduction": 0.2}
SERIOUS = list(SERIOUS_W)
GENERIC = ["investigation", "Investigation", "INVESTIGATION", "inv", "INV", "invest", "investigative",
           "Investigative", "criminal investigation", "investigations", "invesigation", "investagation",
           "suspect", "suspect vehicle", "locate", "BOL", "BOLO", "follow up", "Daytime search for best result",
           "Person Crime", "Property Crime", "CFS", "ATL", "sus veh", "UUV"]
FED_REASONS = ["Fugitive", "fugitive investigation", "bank robbery", "narcotics trafficking", "firearms trafficking",
               "OCDETF investigation", "violent crime task force", "wanted person"]
PRIVATE_REASONS = ["shoplifting", "trespass", "theft from vehicle in lot", "organized retail theft", "vandalism in lot",
                   "BOL from store"]

SHIFTS = {"day": (6, 10), "swing": (14, 10), "night": (21, 10), "det": (8, 9), "admin": (7, 9)}

SITE_TEMPLATES = {
    "reproductive_health": ["Planned Parenthood {c} Health Center", "{c} Women's Health Clinic", "Family Planning Associates {c}"],
    "gender_affirming_care": ["{c} Gender Health Center", "Trans Health Clinic of {c}"],
    "place_of_worship": ["Islamic Center of {c}", "Masjid Al-Noor ({c})", "St. Mary's Catholic Church ({c})",
                         "Temple Beth Shalom ({c})", "Sikh Gurdwara of {c}", "First Baptist Church of {c}",
                         "Iglesia Cristiana {c}"],
    "immigration_services": ["{c} Immigrant Legal Resource Center", "Catholic Charities Immigration Services ({c})",
                             "{c} Day Labor Center", "Centro Legal de {c}"],
    "shelter": ["{c} Domestic Violence Shelter (confidential)", "{c} Family Emergency Shelter",
                "{c} Navigation Center"],
    "medical": ["{c} Medical Center", "Kaiser Permanente {c}", "{c} Community Health Clinic"],
    "school": ["{c} High School", "Lincoln Elementary ({c})", "{c} Middle School"],
    "protest": ["{c} City Hall Plaza", "Federal Building ({c})", "{c} Civic Center Park"],
    "other": ["{c} Superior Courthouse", "{c} Public Library"],
}
OOS_PLATE_FMT = {"OR": "DDDLLL", "WA": "LLLDDDD", "NV": "DDDLDD", "AZ": "LLLDDDD", "TX": "LLLDDDD",
                 "ID": "DLDDDDD", "UT": "LDDDLL", "GA": "LLLDDDD", "MI": "LLLDDDD", "FL": "LLLLDD",
                 "NY": "LLLDDDD", "CO": "LLLDDD", "NM": "LLLDDD", "IL": "LLDDDDD"}
OOS_PLATE_W = {"NV": 5, "AZ": 5, "OR": 4, "TX": 4, "WA": 3, "FL": 2, "NY": 1, "CO": 1, "NM": 1, "UT": 1,
               "ID": 1, "GA": 1, "IL": 1, "MI": 0.5}
LET = "ABCDEFGHJKLMNPRSTUVWXYZ"


def hav_m(lat1, lon1, lat2, lon2):
    p = math.pi / 180
    a = (math.sin((lat2 - lat1) * p / 2) ** 2 +
         math.cos(lat1 * p) * math.cos(lat2 * p) * math.sin((lon2 - lon1) * p / 2) ** 2)
    return 12742000 * math.asin(math.sqrt(a))


class RanOut(RuntimeError):
    """The world has no officer, household or site left for an incident (incidents scale with --searches,
    the agencies' officers and sites do not)."""


class Gen:
    def __init__(self, a):
        self.a = a
        self.R = random.Random(a.seed)
        self.np = np.random.default_rng(a.seed)
        self.D = a.days
        self.T = a.days * 86400.0
        self.start = np.datetime64(a.start + "T00:00:00")
        self.start_wd = int((self.start.astype("datetime64[D]").astype(np.int64) + 3) % 7)  # 0=Mon
        self.start_doy = int((self.start.astype("datetime64[D]") - self.start.astype("datetime64[Y]")).astype(int))
        self.year = int(str(self.start)[:4])
        self.rows = []
        self.labels = []  # parallel: None or (scenario, incident_id)
        self.plates_used = set()
        self.relations = []
        self.reserved_hh = set()
        self.reserved_plates = set()

    # ------------------------------------------------------------------ utils
    def wchoice(self, items, weights):
        return self.R.choices(items, weights=weights, k=1)[0]

    def mkplate(self, fmt):
        R = self.R
        while True:
            p = "".join(R.choice(LET) if c == "L" else str(R.randint(0, 9)) for c in fmt)
            if p not in self.plates_used:
                self.plates_used.add(p)
                return p

    def ca_plate(self):
        R = self.R
        x = R.random()
        if x < 0.88:
            d0 = self.wchoice("56789", [1, 2, 4, 5, 4])
            return self.mkplate(d0 + "LLLDDD")
        if x < 0.94:
            return self.mkplate(R.choice(["DLDDDDD", "DDDDDLD"]))
        while True:
            n = R.randint(3, 7)
            p = "".join(R.choice(LET + "0123456789" if i else LET) for i in range(n))
            if p not in self.plates_used:
                self.plates_used.add(p)
                return p

    def oos_plate(self, st=None):
        if st is None:
            st = self.wchoice(list(OOS_PLATE_W), list(OOS_PLATE_W.values()))
        return self.mkplate(OOS_PLATE_FMT.get(st, "LLLDDDD")), st

    def fmt_plate(self, p):
        x = self.R.random()
        if x < 0.02:
            return p.lower()
        if x < 0.035 and len(p) > 4:
            k = self.R.randint(2, len(p) - 2)
            return p[:k] + self.R.choice([" ", "-"]) + p[k:]
        return p

    def partial(self, p):
        R = self.R
        x = R.random()
        if x < 0.4:
            i = R.randint(0, len(p) - 2)
            return p[:i] + "*" + p[i + 1:]
        if x < 0.7 and len(p) >= 5:
            return "*" + p[1:R.randint(3, len(p) - 1)] + "*"
        return p[:R.randint(2, min(4, len(p) - 1))] + "*"

    def jitter(self, lat, lon, sd_m):
        R = self.R
        return (lat + R.gauss(0, sd_m) / 111000.0,
                lon + R.gauss(0, sd_m) / (111000.0 * math.cos(lat * math.pi / 180)))

    # ------------------------------------------------------------------ world
    def build_agencies(self):
        R = self.R
        self.ag = []
        for (name, st, kind, lat, lon, size, abbr, dom) in AGENCIES:
            a = dict(name=name, state=st, kind=kind, lat=lat, lon=lon, abbr=abbr, domain=dom)
            a["short"] = (name.replace(" Police Department", " PD").replace(" Sheriff's Office", " SO")
                          .replace(" Sheriff's Department", " SD").replace("County", "Co.")
                          .replace(" Metropolitan PD", " Metro PD"))
            a["n_users"] = max(2, int(round(size * R.uniform(0.75, 1.3))))
            a["tz"] = TZ.get(st, -8) if st != "US" else (-8 if lon < -115 else -6)
            act = {"local": 1.0, "sheriff": 0.9, "state": 0.8, "university": 0.5, "private": 0.35}.get(kind, 1.0)
            if st not in (HOME, "US"):
                act = 0.3
            if kind == "federal":
                act = 0.0 if abbr in IMMIG_FED else 0.25
            a["act"] = act * R.uniform(0.7, 1.4)
            a["p_case"] = self.wchoice([0.97, 0.85, 0.6, 0.35, 0.12, 0.0], [.15, .2, .2, .2, .15, .1])
            if kind == "federal":
                a["p_case"] = 0.8
            if kind == "private":
                a["p_case"] = 0.1
            a["case_in_reason"] = R.random() < 0.15 and a["p_case"] > 0.3
            a["case_fmt"] = R.choice(["yy-seq6", "yyyy-seq5", "abbr", "yymmdd", "yyyy-seq4", "R", "yyyyseq4", "yyseq6"])
            a["case_rate"] = R.randint(20, 400)
            if st == HOME or kind == "federal" or kind == "private":
                a["style"] = self.wchoice(["free", "dropdown", "mixed"], [0.45, 0.3, 0.25])
            else:
                a["style"] = self.wchoice(["free", "dropdown", "offense"], [0.5, 0.2, 0.3])
            a["switch_day"] = R.randint(5, max(6, self.D - 5))
            inv = R.sample(GENERIC[:10], R.randint(1, 3))
            oth = R.sample([g for g in GENERIC if g not in inv], R.randint(1, 4))
            a["generic"] = inv + oth
            a["generic_w"] = [R.uniform(3, 8) for _ in inv] + [min(3.0, R.paretovariate(1.5)) for _ in oth]
            a["generic_p"] = R.uniform(0.15, 0.7)
            a["blank_p"] = R.choice([0.0, 0.0, 0.01, 0.03])
            a["own_n"] = self.wchoice([1, 2, 3, 4], [5, 3, 2, 1])
            a["own_cams"] = R.randint(6, 300)
            a["reg_n"] = R.randint(8, 60)
            a["state_off"] = R.randint(-20, 35)
            a["nat_n"] = R.choice([R.randint(1400, 2600), R.randint(3000, 4500), NAT0, NAT0])
            a["dev_missing"] = R.choice([0.0, 0.0, 0.05, 0.3])
            a["spread"] = {"local": 2500, "sheriff": 12000, "state": 60000, "university": 700, "private": 300}.get(kind, 3000)
            if st == HOME and kind != "private":
                a["scope_w"] = dict(own=.38, regional=.17, state=.40, national=.05)
                if kind == "state":
                    a["scope_w"] = dict(own=.15, regional=.15, state=.65, national=.05)
                if kind == "university":
                    a["scope_w"] = dict(own=.5, regional=.3, state=.2, national=0)
            elif kind == "private":
                a["scope_w"] = dict(own=1.0, regional=0, state=0, national=0)
            else:  # out-of-state, federal: own/regional only in background
                a["scope_w"] = dict(own=.55, regional=.45, state=0, national=0)
            if kind == "federal":
                a["reg_n"] = R.randint(30, 200)
            a["redacted"] = st not in (HOME, "US") and R.random() < 0.2
            a["id_fmt"] = self.wchoice(["email", "badge", "uuid", "dotted", "numeric"], [4, 3, 2, 2, 1])
            self.ag.append(a)
        self.ag_by_name = {a["name"]: i for i, a in enumerate(self.ag)}
        self.ag_by_abbr = {a["abbr"]: i for i, a in enumerate(self.ag)}

    def surname(self):
        x = self.R.random()
        if x < 0.62:
            return self.wchoice(self._sc_names, self._sc_w)
        if x < 0.985:
            return self.R.choice(SURNAMES_MID)
        return self.R.choice(SURNAMES_RARE)

    def build_users(self):
        R = self.R
        self._sc_names = list(SURNAMES_COMMON)
        self._sc_w = list(SURNAMES_COMMON.values())
        self.users = []
        seen = set()
        for ai, a in enumerate(self.ag):
            n = a["n_users"]
            for k in range(n):
                sn = self.surname()
                fn = R.choice(FIRST)
                f = a["id_fmt"]
                clean = sn.replace("'", "").replace("-", "").replace(" ", "")
                if f == "email":
                    uid = f"{fn[0]}{clean}@{a['domain']}".lower()
                elif f == "badge":
                    uid = f"{a['abbr'].upper()}{R.randint(100, 9999):04d}"
                elif f == "uuid":
                    uid = "%08x-%04x-4%03x-%04x-%012x" % (R.getrandbits(32), R.getrandbits(16), R.getrandbits(12),
                                                       0x8000 | R.getrandbits(14), R.getrandbits(48))
                elif f == "dotted":
                    uid = f"{fn}.{clean}".lower()
                else:
                    uid = f"u{R.randint(100000, 999999)}"
                base = uid
                j = 2
                while uid in seen:
                    uid = base.replace("@", f"{j}@") if "@" in base else f"{base}{j}"
                    j += 1
                seen.add(uid)
                if a["kind"] in ("federal", "private"):
                    shift = "det"
                elif k == 0 and n > 3:
                    shift = "admin"
                else:
                    shift = self.wchoice(["day", "swing", "night", "det"], [3, 2.5, 2, 2])
                role = "analyst" if (shift == "det" and R.random() < 0.15) else ("admin" if shift == "admin" else "officer")
                w = R.lognormvariate(0, 1.0)
                if role == "analyst":
                    w *= R.uniform(3, 8)
                if R.random() < 0.015:
                    w *= R.uniform(8, 15)  # heavy users
                if shift == "admin":
                    w *= 0.3
                if shift in ("det", "admin"):
                    wd = {0, 1, 2, 3, 4}
                else:
                    s = R.randint(0, 6)
                    wd = {(s + i) % 7 for i in range(4)}
                wdays = [d for d in range(self.D) if (self.start_wd + d) % 7 in wd]
                w = min(w, 30.0)
                self.users.append(dict(uid=uid, ai=ai, surname=sn, shift=shift, role=role, w=w * a["act"],
                                       tz=a["tz"], wdays=wdays))
        self.users_by_ag = {}
        for ui, u in enumerate(self.users):
            self.users_by_ag.setdefault(u["ai"], []).append(ui)

    def build_register(self):
        R = self.R
        nh = self.a.households or max(4000, int(30000 * self.a.searches / 200000))
        ca_ag = [i for i, a in enumerate(self.ag) if a["state"] == HOME and a["kind"] in ("local", "sheriff")]
        self.hh = []  # dict(id, surname, plates, ai)
        for h in range(nh):
            sn = self.surname().upper()
            k = self.wchoice([1, 2, 3, 4], [45, 33, 15, 7])
            plates = [self.ca_plate() for _ in range(k)]
            ai = R.choice(ca_ag)
            self.hh.append(dict(id=f"HH{h + 1:06d}", surname=sn, plates=plates, ai=ai, biz=False))
        for b in BUSINESS:
            k = R.randint(2, 12)
            self.hh.append(dict(id=f"HH{len(self.hh) + 1:06d}", surname=b, plates=[self.ca_plate() for _ in range(k)],
                                ai=R.choice(ca_ag), biz=True))
        self.plate_hh = {}
        for hi, h in enumerate(self.hh):
            for p in h["plates"]:
                self.plate_hh[p] = hi
            ps = h["plates"]
            if not h["biz"]:
                for i in range(len(ps)):
                    for j in range(i + 1, len(ps)):
                        self.relations.append((ps[i], ps[j], "household"))
        # criminal/associate networks
        by_ag = {}
        for hi, h in enumerate(self.hh):
            if not h["biz"]:
                by_ag.setdefault(h["ai"], []).append(hi)
        self.crim_hh = []
        self.assoc = {}
        for _ in range(int(nh * 0.03)):
            ai = R.choice(ca_ag)
            pool = by_ag.get(ai) or by_ag[ca_ag[0]]
            grp = R.sample(pool, min(len(pool), R.randint(3, 8)))
            for x in range(1, len(grp)):
                y = grp[R.randint(0, x - 1)]
                pa, pb = R.choice(self.hh[grp[x]]["plates"]), R.choice(self.hh[y]["plates"])
                self.relations.append((pa, pb, "associate"))
                self.assoc.setdefault(pa, []).append(pb)
                self.assoc.setdefault(pb, []).append(pa)
            self.crim_hh.extend(grp)
        self.crim_set = set(self.crim_hh)
        self.cotravel = []
        for _ in range(int(nh * 0.1)):
            ai = R.choice(ca_ag)
            pool = by_ag.get(ai) or by_ag[ca_ag[0]]
            h1, h2 = R.sample(pool, 2)
            pa, pb = R.choice(self.hh[h1]["plates"]), R.choice(self.hh[h2]["plates"])
            self.relations.append((pa, pb, "co_travel"))
            self.cotravel.append((pa, pb))
        biz = [hi for hi, h in enumerate(self.hh) if h["biz"]]
        for _ in range(int(nh * 0.05)):
            b = self.hh[R.choice(biz)]
            h = self.hh[R.randrange(nh)]
            self.relations.append((R.choice(h["plates"]), R.choice(b["plates"]), "employer"))
        self.n_person_hh = nh

    def build_sites(self):
        R = self.R
        self.sites = []
        probs = dict(reproductive_health=.5, gender_affirming_care=.2, immigration_services=.45, shelter=.5,
                     medical=.7, protest=.35, other=.3)
        for ai, a in enumerate(self.ag):
            if a["state"] != HOME or a["kind"] not in ("local", "sheriff"):
                continue
            city = a["name"].replace(" Police Department", "").replace(" County Sheriff's Office", " County") \
                .replace(" County Sheriff's Department", " County").replace(" Department of Public Safety", "")
            big = a["n_users"] >= 25
            cats = ["place_of_worship"] * R.randint(1, 4 if big else 2) + ["school"] * R.randint(1, 2)
            for c, p in probs.items():
                m = 2 if big and c in ("reproductive_health", "immigration_services", "shelter") else 1
                for _ in range(m):
                    if R.random() < (p if not big else min(1, p + .4)):
                        cats.append(c)
            used = set()
            for c in cats:
                for _ in range(5):
                    nm = R.choice(SITE_TEMPLATES[c]).format(c=city)
                    if nm not in used:
                        break
                if nm in used:
                    continue
                used.add(nm)
                lat, lon = self.jitter(a["lat"], a["lon"], a["spread"] * 0.7)
                self.sites.append(dict(site_id=f"S{len(self.sites) + 1:04d}", category=c, name=nm,
                                       lat=round(lat, 6), lon=round(lon, 6),
                                       radius_m=R.choice([75, 100, 150, 200, 250, 300]), ai=ai,
                                       idx=len(self.sites)))
        self.sites_by_cat = {}
        for si, s in enumerate(self.sites):
            self.sites_by_cat.setdefault(s["category"], []).append(si)
        self.protest_days = {si: sorted(R.sample(range(2, self.D - 2), R.randint(2, 4)))
                             for si in self.sites_by_cat.get("protest", [])}

    # ------------------------------------------------------------------ times / networks
    def ts_in(self, ui, day, off=False):
        u = self.users[ui]
        s, L = SHIFTS[u["shift"]]
        if off:
            h = s + L + 0.5 + self.R.random() * (24 - L - 1)
        else:
            h = s + self.R.random() * L
        return day * 86400 + (h - u["tz"]) * 3600

    def workday(self, ui, lo=0, hi=None):
        hi = self.D - 1 if hi is None else min(hi, self.D - 1)
        lo = max(0, lo)
        wd = self.users[ui]["wdays"]
        c = [d for d in wd if lo <= d <= hi]
        if not c:
            return self.R.randint(lo, max(lo, hi))
        return self.R.choice(c)

    def bg_ts(self, ui, lo=0, hi=None):
        u = self.users[ui]
        s, L = SHIFTS[u["shift"]]
        off = self.R.random() < 0.03
        day = self.workday(ui, lo, hi)
        h = (s + L + 0.5 + self.R.random() * (24 - L - 1)) if off else (s + self.R.random() * L)
        return day * 86400 + (h - u["tz"]) * 3600  # may run past the window end: add() wraps it

    def nets(self, a, scope, t):
        R = self.R
        day = t / 86400
        if scope == "own":
            n, d = a["own_n"], a["own_cams"] + R.randint(-2, 2)
        elif scope == "regional":
            n = max(2, a["reg_n"] + R.randint(-1, 1))
            d = n * R.randint(5, 12)
        elif scope == "state":
            n = int(CA_STATE0 + 0.4 * day + a["state_off"] + R.randint(-5, 5))
            d = n * R.randint(7, 11)
        elif scope == "huge":
            n = int(6800 + 3 * day + R.randint(-40, 60))
            d = n * R.randint(10, 13)
        else:
            n = int(a.get("nat_n", NAT0) + 2 * day + R.randint(-60, 60))
            d = n * R.randint(8, 12)
        if R.random() < a["dev_missing"]:
            d = None
        return n, max(d, 1) if d is not None else None

    def scope(self, a):
        w = a["scope_w"]
        return self.wchoice(list(w), list(w.values()))

    def results(self, stype, scope, radius=None):
        R = self.R
        m = {"own": 3, "regional": 6, "state": 14, "national": 20, "huge": 25}.get(scope, 5)
        if stype == "area":
            return int(R.gammavariate(1.2, (radius or 300) * 1.5))
        if stype in ("partial_plate", "attributes", "convoy"):
            return int(R.gammavariate(0.9, m * 12))
        if R.random() < 0.15:
            return 0
        return int(R.gammavariate(0.8, m))

    # ------------------------------------------------------------------ reasons / cases
    def case_no(self, ai, t):
        a = self.ag[ai]
        R = self.R
        day = int(t // 86400)
        date = self.start.astype("datetime64[D]") + day
        doy = int((date - date.astype("datetime64[Y]")).astype(int)) + 1
        ds = str(date)
        yyyy, yy = ds[:4], ds[2:4]
        seq = int(doy * a["case_rate"] + R.randint(0, a["case_rate"]))
        f = a["case_fmt"]
        if a["kind"] == "federal":
            return f"{R.choice(['245D', '91A', '7A', '281F'])}-{R.choice(['SF', 'LA', 'SD'])}-{R.randint(100000, 9999999)}"
        if f == "yy-seq6":
            return f"{yy}-{seq:06d}"
        if f == "yyyy-seq5":
            return f"{yyyy}-{seq % 100000:05d}"
        if f == "abbr":
            return f"{a['abbr'].upper()}{yy}{seq:06d}"
        if f == "yymmdd":
            return f"{yy}{ds[5:7]}{ds[8:10]}{R.randint(1, a['case_rate']):04d}"
        if f == "yyyy-seq4":
            return f"{yyyy}-{seq % 10000:04d}"
        if f == "R":
            return f"R{yy}-{seq % 100000:05d}"
        if f == "yyyyseq4":
            return f"{yyyy}{seq % 10000:04d}"
        return f"{yy}{seq:06d}"

    def style_at(self, a, t):
        s = a["style"]
        if s == "mixed":
            return "free" if t < a["switch_day"] * 86400 else "dropdown"
        return s

    def reason(self, ai, t, cat, case=""):
        """benign reason for category cat -> (reason, offense_type, case_number)"""
        a = self.ag[ai]
        R = self.R
        st = self.style_at(a, t)
        if a["kind"] == "federal":
            return R.choice(FED_REASONS), "", case
        if a["kind"] == "private":
            return R.choice(PRIVATE_REASONS), "", case
        if st == "free":
            if case and a["case_in_reason"] and R.random() < 0.6:
                r = R.choice([case, case, f"inv {case}", f"{case} {R.choice(OFF_FREE[cat])}"])
                return r, "", ("" if R.random() < 0.7 else case)
            if R.random() < a["blank_p"]:
                return "", "", case
            if R.random() < a["generic_p"]:
                return self.wchoice(a["generic"], a["generic_w"]), "", case
            return R.choice(OFF_FREE[cat]), "", case
        if st == "dropdown":
            fr = R.choice(OFF_DD[cat])
            if fr:
                return f"{cat} - {fr}", cat, case
            return (cat if R.random() < 0.8 else cat + " -"), cat, case
        # offense-only style
        ot = cat
        if R.random() < 0.05:
            ot = cat + ", " + self.wchoice(OFF_CAT, OFF_W)
        return "", ot, case

    def inc_reason(self, ai, t, free_pool, dd_pool):
        """incident reason from the incident's phrasing pools -> (reason, offense_type)"""
        st = self.style_at(self.ag[ai], t)
        if st == "free" or not dd_pool:
            return self.R.choice(free_pool), ""
        cat, fr = self.R.choice(dd_pool)
        if st == "offense":
            return fr, cat
        return (f"{cat} - {fr}" if fr else self.R.choice([cat, cat + " -"])), cat

    # ------------------------------------------------------------------ emit
    def add(self, ui, t, stype, plate="", pstate="", lat=None, lon=None, radius=None, ws=None, we=None,
            reason="", offense="", case="", obo="", scope="own", label=None, fmt=True):
        u = self.users[ui]
        a = self.ag[u["ai"]]
        if not (0 <= t < self.T):
            if label is None:
                dt = (t % self.T) - t
                t += dt
                ws = None if ws is None else ws + dt
                we = None if we is None else we + dt
            else:
                t = self.R.uniform(0, 3600) if t < 0 else self.T - self.R.uniform(1, 7200)
        if we is not None and we > t:
            we = t - self.R.uniform(0, 120)
        n, d = self.nets(a, scope, t)
        res = self.results(stype, scope, radius)
        if stype in ("plate", "partial_plate", "hotlist", "convoy") and ws is None:
            lookback = self.wchoice([1, 3, 7, 14, 30], [1, 2, 3, 2, 3]) * 86400
            we = t - self.R.random() * 60
            ws = we - lookback
        if plate and fmt:
            plate = self.fmt_plate(plate)
        if pstate and self.R.random() < 0.06:
            pstate = ""
        uid = "***" if a["redacted"] else u["uid"]
        self.rows.append((t, uid, a["name"], a["state"], stype, plate, pstate,
                          None if lat is None else round(lat, 6), None if lon is None else round(lon, 6),
                          radius, ws, we, reason, offense, case, obo, n, d, res))
        self.labels.append(label)

    # ------------------------------------------------------------------ background
    def pick_user(self, pool=None):
        if pool is None:
            return int(self._ubuf.pop()) if self._ubuf else int(self.np.choice(len(self.users), p=self._uw))
        ws = [self.users[i]["w"] + 1e-9 for i in pool]
        return self.wchoice(pool, ws)

    def bg_plate(self, ui):
        """(plate, state) for a one-off lookup by this user"""
        R = self.R
        a = self.ag[self.users[ui]["ai"]]
        if a["state"] not in (HOME,):
            if a["kind"] == "federal":
                return self.oos_plate()
            if R.random() < 0.9 or a["state"] == "US":
                return self.oos_plate(a["state"])
            return self.ca_plate(), "CA"  # looked up in own/regional network only
        x = R.random()
        if x < 0.68:
            while True:
                p = self._reg_plates[R.randrange(len(self._reg_plates))]
                if p not in self.reserved_plates:
                    return p, "CA"
        if x < 0.88:
            return self.ca_plate(), "CA"
        return self.oos_plate()

    def ep_single(self, ui):
        R = self.R
        ai = self.users[ui]["ai"]
        a = self.ag[ai]
        t = self.bg_ts(ui)
        p, st = self.bg_plate(ui)
        cat = self.wchoice(OFF_CAT, OFF_W)
        case = self.case_no(ai, t) if R.random() < a["p_case"] else ""
        r, o, c = self.reason(ai, t, cat, case)
        k = self.wchoice([1, 2, 3], [70, 20, 10])
        obo = ""
        for j in range(k):
            sc = self.scope(a) if j == 0 else self.wchoice(["state", "national", "regional"], [6, 2, 2]) \
                if a["scope_w"]["state"] > 0 else self.scope(a)
            self.add(ui, t, "plate", p, st, reason=r, offense=o, case=c, obo=obo, scope=sc)
            t += R.expovariate(1 / 90.0)
        return k

    def ep_followup(self, ui):
        R = self.R
        ai = self.users[ui]["ai"]
        a = self.ag[ai]
        p, st = self.bg_plate(ui)
        k = R.randint(2, 6)
        d0 = R.randrange(self.D)
        span = R.randint(1, 10)
        cat = self.wchoice(OFF_CAT, OFF_W)
        t0 = self.bg_ts(ui, d0, d0)
        case = self.case_no(ai, t0) if R.random() < a["p_case"] else ""
        r, o, c = self.reason(ai, t0, cat, case)
        for j in range(k):
            t = t0 if j == 0 else self.bg_ts(ui, d0, d0 + span)
            if R.random() < 0.25:
                r, o, c = self.reason(ai, t, cat, case)
            self.add(ui, t, "plate", p, st, reason=r, offense=o, case=c, scope=self.scope(a))
        return k

    def ep_investigation(self, ui):
        R = self.R
        ai = self.users[ui]["ai"]
        a = self.ag[ai]
        if a["state"] != HOME or a["kind"] == "private":
            return self.ep_followup(ui)
        for _ in range(20):
            hi = R.choice(self.crim_hh) if R.random() < 0.6 else R.randrange(self.n_person_hh)
            if hi not in self.reserved_hh:
                break
        else:
            return self.ep_followup(ui)
        core = list(self.hh[hi]["plates"])
        rel = []
        for p in core:
            rel += self.assoc.get(p, [])
        rel = [p for p in dict.fromkeys(rel) if p not in self.reserved_plates]
        R.shuffle(rel)
        rel = rel[:R.randint(0, 4)]
        rh = set()
        for p in rel[:2]:
            rh.add(self.plate_hh.get(p))
        for h in rh:
            if h is not None and R.random() < 0.4:
                rel += [q for q in self.hh[h]["plates"] if q not in rel and q not in self.reserved_plates]
        plates = core + rel
        pw = [4.0 if i == 0 else (1.5 if p in core else 1.0) for i, p in enumerate(plates)]
        n = int(min(220, max(3, R.lognormvariate(math.log(12), 0.8))))
        pool = self.users_by_ag[ai]
        m = min(len(pool) - 1, int(R.random() * (1 + n / 12)) + (1 if n > 20 else 0))
        team = [ui] + R.sample([x for x in pool if x != ui], max(0, m))
        span = int(min(30, max(1, n / 5 + R.randint(0, 8))))
        d0 = R.randint(0, max(0, self.D - 2))
        cat = self.wchoice(SERIOUS, list(SERIOUS_W.values()))
        t0 = self.ts_in(ui, d0)
        case = self.case_no(ai, t0) if a["p_case"] > 0 else ""
        pc = min(1.0, a["p_case"] + 0.3) if a["p_case"] > 0 else 0.0
        done = 0
        while done < n:
            who = ui if R.random() < 0.5 else R.choice(team)
            t = self.bg_ts(who, d0, d0 + span)
            for j in range(min(n - done, R.randint(1, 6))):
                c = case if R.random() < pc else ""
                r, o, c = self.reason(ai, t, cat, c)
                st = "convoy" if R.random() < 0.04 else "plate"
                self.add(who, t, st, self.wchoice(plates, pw), "CA", reason=r, offense=o, case=c, scope=self.scope(a))
                t += R.expovariate(1 / 120.0)
                done += 1
        self._cases.setdefault(ai, []).append(case)
        return n

    def ep_hot(self, ui):
        R = self.R
        ai = self.users[ui]["ai"]
        a = self.ag[ai]
        if a["state"] != HOME or a["kind"] == "private":
            return self.ep_single(ui)
        for _ in range(10):
            hk = self.wchoice(range(len(self.hot)), self.hot_w)
            if self._hot_cnt.get((ui, hk), 0) < self.R.randint(1, 4):
                break
        else:
            return self.ep_single(ui)
        self._hot_cnt[(ui, hk)] = self._hot_cnt.get((ui, hk), 0) + 1
        p, st, d0, d1, cat, case = self.hot[hk]
        t = self.bg_ts(ui, d0, d1)
        r, o, _ = self.reason(ai, t, cat)
        if R.random() < 0.3 and self.style_at(a, t) == "free":
            r = R.choice(["flock hit", "hotlist hit", "SVS hit", "NCIC hit", "LPR hit", "hit confirmation"])
        stype = "hotlist" if R.random() < 0.45 else "plate"
        self.add(ui, t, stype, p, st, reason=r, offense=o, case=case if R.random() < 0.3 else "",
                 scope=self.scope(a))
        return 1

    def ep_area(self, ui):
        R = self.R
        ai = self.users[ui]["ai"]
        a = self.ag[ai]
        near = None
        if a["state"] == HOME and a["kind"] in ("local", "sheriff") and R.random() < 0.14:
            cand = [si for si, s in enumerate(self.sites) if s["ai"] == ai]
            if cand:
                near = self.sites[R.choice(cand)]
        if near:
            lat, lon = self.jitter(near["lat"], near["lon"], near["radius_m"] * 0.5)
            cat = R.choice(["Burglary/Breaking & Entering", "Destruction/Damage/Vandalism of Property",
                            "Larceny/Theft Offenses", "Assault/Battery Offenses", "Hit and Run/Car Accident",
                            "Robbery", "Weapons Offense (Guns/Shots Fired)"])
            pcase = 0.93
        else:
            if a["kind"] == "state":
                b = self.ag[R.choice(self._ca_ag)]
                lat, lon = self.jitter(b["lat"], b["lon"], 8000)
            else:
                lat, lon = self.jitter(a["lat"], a["lon"], a["spread"])
            cat = self.wchoice(OFF_CAT, OFF_W)
            pcase = a["p_case"]
        crime = self.bg_ts(ui)
        if near and near["category"] == "protest":
            ev = self.protest_days.get(near["idx"])
            if ev:
                crime = min(self.T - 1, R.choice(ev) * 86400 + (R.uniform(11, 22) - a["tz"]) * 3600)
        case = self.case_no(ai, crime) if R.random() < pcase else ""
        if near and not case and a["p_case"] > 0:
            case = self.case_no(ai, crime)
        team = [ui] + R.sample(self.users_by_ag[ai], min(len(self.users_by_ag[ai]), R.randint(0, 2)))
        k = R.randint(1, 6)
        t = crime + R.uniform(600, 36 * 3600)
        for j in range(k):
            who = R.choice(team)
            if j and R.random() < 0.4:
                t = self.bg_ts(who, int(crime // 86400), int(crime // 86400) + 2)
            t = max(t, crime + 300)
            rad = R.choice([50, 100, 150, 250, 400, 800, 1500])
            r, o, c = self.reason(ai, t, cat, case)
            self.add(who, t, "area", "", "", *self.jitter(lat, lon, 30), radius=rad,
                     ws=crime - R.uniform(1, 4) * 3600, we=crime + R.uniform(0.2, 2) * 3600,
                     reason=r, offense=o, case=c, scope=self.scope(a))
            t += R.expovariate(1 / 400.0)
        return k

    def ep_partial(self, ui):
        R = self.R
        ai = self.users[ui]["ai"]
        a = self.ag[ai]
        p, st = self.bg_plate(ui)
        t = self.bg_ts(ui)
        cat = R.choice(["Hit and Run/Car Accident", "Robbery", "Burglary/Breaking & Entering", "Larceny/Theft Offenses",
                        "Assault/Battery Offenses", "Obstructing the Police (Fleeing/Eluding)"])
        case = self.case_no(ai, t) if R.random() < a["p_case"] else ""
        k = R.randint(1, 4)
        for j in range(k):
            r, o, c = self.reason(ai, t, cat, case)
            self.add(ui, t, "partial_plate", self.partial(p), st if R.random() < 0.5 else "", reason=r, offense=o,
                     case=c, scope=self.scope(a), fmt=False)
            t += R.expovariate(1 / 100.0)
        return k

    def ep_attr(self, ui):
        R = self.R
        ai = self.users[ui]["ai"]
        a = self.ag[ai]
        t = self.bg_ts(ui)
        cat = self.wchoice(OFF_CAT, OFF_W)
        case = self.case_no(ai, t) if R.random() < a["p_case"] else ""
        r, o, c = self.reason(ai, t, cat, case)
        x = R.random()
        if x < 0.55:
            if self.style_at(a, t) == "free" and R.random() < 0.5:
                r = R.choice(["white Honda Civic no plates", "grey pickup sus veh", "black SUV tinted", "red sedan HR",
                              "silver Prius dmg front", "dark colored sedan paper plates"])
            self.add(ui, t, "attributes", reason=r, offense=o, case=c, scope=self.scope(a))
        elif x < 0.85:
            p, st = self.bg_plate(ui)
            self.add(ui, t, "convoy", p, st, reason=r, offense=o, case=c, scope=self.scope(a))
        else:
            self.add(ui, t, "other", reason=r, offense=o, case=c, scope=self.scope(a))
        return 1

    def ep_missing(self, ui):
        R = self.R
        ai = self.users[ui]["ai"]
        a = self.ag[ai]
        if a["state"] != HOME or a["kind"] == "private":
            return self.ep_single(ui)
        p, st = self.bg_plate(ui)
        t = self.bg_ts(ui)
        cat = R.choice(["Missing/Endangered Person/Runaway", "Welfare Check"])
        case = self.case_no(ai, t) if R.random() < max(a["p_case"], 0.5) else ""
        k = R.randint(1, 4)
        for j in range(k):
            r, o, c = self.reason(ai, t, cat, case)
            if self.style_at(a, t) == "free" and R.random() < 0.3:
                r = R.choice(["Silver Alert", "missing at risk adult", "endangered missing", "welfare check",
                              "Missing Person / AMBER", "missing juvenile"])
            self.add(ui, t, "plate", p, st, reason=r, offense=o, case=c,
                     scope=self.wchoice(["state", "national"], [5, 5]))
            t += R.expovariate(1 / 300.0)
        return k

    def ep_mutual(self, ui):
        R = self.R
        ai = self.users[ui]["ai"]
        a = self.ag[ai]
        if a["state"] != HOME or a["kind"] not in ("local", "sheriff", "state"):
            return self.ep_single(ui)
        near = sorted(self._ca_ag, key=lambda j: hav_m(a["lat"], a["lon"], self.ag[j]["lat"], self.ag[j]["lon"]))
        bj = R.choice(near[1:6])
        b = self.ag[bj]
        t = self.bg_ts(ui)
        p, st = self.bg_plate(ui)
        case = self.case_no(bj, t)
        obo = b["name"] if R.random() < 0.6 else b["name"].replace("Police Department", "PD") \
            .replace("Sheriff's Office", "SO").replace("Sheriff's Department", "SD")
        k = R.randint(1, 3)
        for j in range(k):
            if self.style_at(a, t) == "free":
                r = R.choice([f"assist {b['abbr']}", f"Assist {obo}", "assist outside agency", "mutual aid",
                              f"{b['abbr']} case {case}"])
                o = ""
            else:
                cat = R.choice(SERIOUS)
                r, o = f"{cat} - assist {b['abbr']}", cat
            self.add(ui, t, "plate", p, st, reason=r, offense=o, case=case, obo=obo, scope=self.scope(a))
            t += R.expovariate(1 / 200.0)
        return k

    def ep_test(self, ui):
        R = self.R
        ai = self.users[ui]["ai"]
        a = self.ag[ai]
        t = self.bg_ts(ui)
        tp = self._test_plates.setdefault(ai, [self.ca_plate() for _ in range(R.randint(1, 3))])
        r = R.choice(["Administrative Test", "Camera Test", "Test", "training", "TEST", "system check"])
        self.add(ui, t, "plate", R.choice(tp), "CA", reason=r, scope="own")
        return 1

    def amber_event(self):
        R = self.R
        d = R.randint(3, self.D - 3)
        t0 = d * 86400 + R.uniform(0, 86400)
        hi = R.randrange(self.n_person_hh)
        while hi in self.reserved_hh:
            hi = R.randrange(self.n_person_hh)
        plates = self.hh[hi]["plates"][:2]
        k = R.randint(30, 90)
        ca_users = [i for i, u in enumerate(self.users) if self.ag[u["ai"]]["state"] == HOME
                    and self.ag[u["ai"]]["kind"] in ("local", "sheriff", "state")]
        for _ in range(k):
            ui = R.choice(ca_users)
            ai = self.users[ui]["ai"]
            t = t0 + R.expovariate(1 / 6000.0)
            r, o, c = self.reason(ai, t, "Kidnapping/Abduction")
            if self.style_at(self.ag[ai], t) == "free":
                r = R.choice(["Amber Alert", "AMBER", "amber alert", "Missing Person / AMBER", "AMBER ALERT 207"])
            else:
                r = "Kidnapping/Abduction - Amber Alert"
            self.add(ui, t, "plate", R.choice(plates), "CA", reason=r, offense=o,
                     scope=self.wchoice(["state", "national", "own"], [5, 3, 2]))
        return k

    def background(self, n_target):
        R = self.R
        uw = np.array([u["w"] for u in self.users])
        self._uw = uw / uw.sum()
        self._ubuf = list(self.np.choice(len(self.users), size=n_target + 1000, p=self._uw)[::-1])
        self._ca_ag = [i for i, a in enumerate(self.ag) if a["state"] == HOME and a["kind"] in ("local", "sheriff")]
        self._reg_plates = [p for h in self.hh[:self.n_person_hh] for p in h["plates"]]
        self._cases = {}
        self._test_plates = {}
        self._hot_cnt = {}
        # hot plates
        self.hot, self.hot_w = [], []
        for _ in range(max(40, int(250 * n_target / 200000))):
            if R.random() < 0.6:
                hi = R.randrange(self.n_person_hh)
                if hi in self.reserved_hh:
                    continue
                p, st = R.choice(self.hh[hi]["plates"]), "CA"
            elif R.random() < 0.7:
                p, st = self.ca_plate(), "CA"
            else:
                p, st = self.oos_plate()
            d0 = R.randrange(self.D)
            d1 = min(self.D - 1, d0 + R.randint(1, 20))
            cat = self.wchoice(["Motor Vehicle Theft/Stolen", "Wanted Person (Arrest Warrant/Fugitive)",
                                "Stolen Property Offenses", "Robbery"], [10, 3, 2, 1])
            rep = R.choice(self._ca_ag)
            self.hot.append((p, st, d0, d1, cat, self.case_no(rep, d0 * 86400)))
            self.hot_w.append(min(25.0, R.paretovariate(1.1)))
        start = len(self.rows)
        for _ in range(R.randint(1, 2)):
            self.amber_event()
        eps = [self.ep_single, self.ep_followup, self.ep_investigation, self.ep_hot, self.ep_area,
               self.ep_partial, self.ep_attr, self.ep_missing, self.ep_mutual, self.ep_test]
        ew = [40, 6, 2.2, 12, 5, 6, 4, 2, 1.2, 0.6]
        ew_an = [20, 4, 3, 10, 14, 12, 10, 2, 1, 0.2]
        while len(self.rows) - start < n_target:
            ui = self.pick_user()
            u = self.users[ui]
            if u["shift"] == "admin" and R.random() < 0.5:
                self.ep_test(ui)
                continue
            f = self.wchoice(eps, ew_an if u["role"] == "analyst" else ew)
            f(ui)
        extra = len(self.rows) - start - n_target
        if extra > 0:  # trim random background rows to hit the exact total
            bg_idx = [i for i in range(start, len(self.rows)) if self.labels[i] is None]
            drop = set(R.sample(bg_idx, extra))
            self.rows = [r for i, r in enumerate(self.rows) if i not in drop]
            self.labels = [l for i, l in enumerate(self.labels) if i not in drop]

    # ------------------------------------------------------------------ incidents
    def officer(self, kinds=("local", "sheriff"), shifts=("day", "swing", "night", "det"), ai=None, state=HOME,
                strict=True):
        R = self.R
        for _ in range(5000):
            if ai is not None:
                ui = R.choice(self.users_by_ag[ai])
            else:
                ui = R.randrange(len(self.users))
            u = self.users[ui]
            a = self.ag[u["ai"]]
            if ui in self.used_users or u["shift"] not in shifts or a["kind"] not in kinds:
                continue
            if state is not None and a["state"] != state:
                continue
            if strict and (a["style"] == "offense" or a["redacted"]):
                continue
            self.used_users.add(ui)
            return ui
        raise RanOut("no officer")

    def take_hh(self, minplates=1, pred=None):
        R = self.R
        for _ in range(10000):
            hi = R.randrange(self.n_person_hh)
            h = self.hh[hi]
            if hi in self.reserved_hh or len(h["plates"]) < minplates or hi in self.crim_set:
                continue
            if pred and not pred(h):
                continue
            self.reserved_hh.add(hi)
            self.reserved_plates.update(h["plates"])
            return hi
        raise RanOut("no household")

    def sessions(self, ui, n, d0, span, off_p, per=(1, 5), gap=240.0, anyday_off=True):
        """yield n timestamps grouped in sessions on days within [d0, d0+span]"""
        R = self.R
        out = []
        while len(out) < n:
            off = R.random() < off_p
            day = R.randint(d0, min(self.D - 1, d0 + span)) if (off and anyday_off) else self.workday(ui, d0, d0 + span)
            t = self.ts_in(ui, day, off)
            for _ in range(min(n - len(out), R.randint(*per))):
                out.append(t)
                t += R.expovariate(1 / gap)
        return sorted(out)

    def inc_stalking(self, lab, hard):
        R = self.R
        ui = self.officer(shifts=("day", "swing", "night"))
        ai = self.users[ui]["ai"]
        h1 = self.take_hh()
        p1 = R.choice(self.hh[h1]["plates"])
        plates, pw = [p1], [1.0]
        if R.random() < 0.5 and not hard:
            h2 = self.take_hh()
            p2 = R.choice(self.hh[h2]["plates"])
            self.relations.append((p1, p2, "co_travel"))
            plates.append(p2)
            pw = [0.7, 0.3]
        if hard:
            n = R.randint(8, 12)
            span = R.randint(6, 20)
            off_p = 0.1
            free = ["Suspicious Vehicle", "suspicious vehicle", "follow up", "BOL", "sus veh"]
            dd = [("Suspicious Activity", ""), ("Suspicious Activity", "suspicious vehicle"), ("Other", "follow up")]
        else:
            n = int(math.exp(R.uniform(math.log(14), math.log(180))))
            span = int(min(self.D - 2, 8 + n / 4 + R.randint(0, 15)))
            off_p = R.uniform(0.3, 0.6)
            free = R.sample(["investigation", "inv", "", "Investigation", "follow up", "suspicious vehicle",
                             "check", "locate", "welfare check", "BOL", "INV", "veh check"], 4)
            dd = [("Suspicious Activity", ""), ("Welfare Check", ""), ("Other", ""), ("Other", "follow up"),
                  ("Suspicious Activity", "locate")]
        d0 = R.randint(0, max(0, self.D - span - 1))
        stale = self.case_no(ai, (d0 - R.randint(20, 60)) * 86400) if R.random() < 0.5 else None
        for t in self.sessions(ui, n, d0, span, off_p, per=(1, 4), gap=300):
            r, o = self.inc_reason(ai, t, free, dd)
            c = stale if (stale and R.random() < 0.08) else ""
            self.add(ui, t, "plate", self.wchoice(plates, pw), "CA", reason=r, offense=o, case=c,
                     scope=self.wchoice(["own", "state", "national"], [35, 50, 15]), label=lab)

    def inc_immigration(self, lab, variant):
        R = self.R
        pred = lambda h: h["surname"].title() in HISPANIC  # noqa: E731
        if variant == "federal":
            fed = self.ag_by_abbr[R.choice(["HSI", "ERO", "CBP"])]
            ui = self.officer(kinds=("federal",), shifts=("det",), ai=fed, state=None)
            ai = self.users[ui]["ai"]
            n = R.randint(10, 50)
            hhs = [self.take_hh(pred=pred if R.random() < 0.7 else None) for _ in range(R.randint(3, 10))]
            plates = [R.choice(self.hh[h]["plates"]) for h in hhs]
            sites = self.sites_by_cat.get("immigration_services", [])
            site = self.sites[R.choice(sites)] if sites else None
            d0 = R.randint(0, self.D - 15)
            free = ["criminal investigation", "HSI case", "smuggling investigation", "administrative", "fugitive",
                    "Immigration (civil/administrative) -", "target vehicle", "ops planning"]
            for t in self.sessions(ui, n, d0, R.randint(5, 14), 0.05, per=(1, 6), gap=200):
                r = R.choice(free)
                c = f"{R.choice(['SF', 'LA', 'SD'])}{R.randint(10, 99)}PR26{R.choice(['SF', 'LA'])}{R.randint(1, 999):04d}" \
                    if R.random() < 0.3 else ""
                if site and R.random() < 0.3:
                    lat, lon = self.jitter(site["lat"], site["lon"], 60)
                    self.add(ui, t, "area", lat=lat, lon=lon, radius=R.choice([150, 200, 300, 500]),
                             ws=t - R.uniform(2, 72) * 3600, we=t - 60, reason=r, case=c, scope="state", label=lab)
                else:
                    self.add(ui, t, "plate", R.choice(plates), "CA", reason=r, case=c,
                             scope=self.wchoice(["state", "national"], [7, 3]), label=lab)
            return
        ui = self.officer(kinds=("local", "sheriff", "state"))
        ai = self.users[ui]["ai"]
        nh = R.randint(1, 5)
        hhs = [self.take_hh(pred=pred if R.random() < 0.7 else None) for _ in range(nh)]
        plates = [R.choice(self.hh[h]["plates"]) for h in hhs]
        obo = ""
        if variant == "explicit":
            n = R.randint(3, 25)
            free = R.sample(["ICE", "ICE ERO", "ICE+ERO", "HSI", "HSI request", "immigration", "Immigration violation",
                             "assist ICE", "ERO target", "ICE detainer", "removal order", "ice"], 3)
            dd = [("Immigration (civil/administrative)", ""), ("Immigration (civil/administrative)", "ICE"),
                  ("Other", "ERO request"), ("Wanted Person (Arrest Warrant/Fugitive)", "ICE admin warrant")]
            cases = [""] * 4 + [f"ERO-{R.choice(['LOS', 'SFR', 'SND'])}-2026-{R.randint(100, 999)}"]
        elif variant == "onbehalf":
            n = R.randint(4, 20)
            free = ["investigation", "inv", "assist outside agency", "warrant", "locate"]
            dd = [("Wanted Person (Arrest Warrant/Fugitive)", "warrant"), ("Other", "assist outside agency"),
                  ("Other", "")]
            obo = R.choice(["ICE Enforcement and Removal Operations", "Homeland Security Investigations (HSI)",
                            "ICE ERO", "DHS/HSI", "ICE"])
            cases = [""] * 3 + [self.case_no(ai, 0)]
        else:  # subtle
            n = R.randint(3, 6)
            sa = R.choice(["Morales", "Reid", "Nguyen", "Baker"])
            free = ["inv", "assist", f"per SA {sa}", "fed assist", "investigation"]
            dd = [("Other", "fed assist"), ("Other", f"per SA {sa}")]
            cases = [f"HSI-{R.choice(['SF', 'LA', 'SD'])}-26-{R.randint(100, 999):04d}"]
        d0 = R.randint(0, self.D - 15)
        for t in self.sessions(ui, n, d0, R.randint(1, 14), 0.1, per=(1, 5), gap=180):
            r, o = self.inc_reason(ai, t, free, dd)
            self.add(ui, t, "plate", R.choice(plates), "CA", reason=r, offense=o, case=R.choice(cases), obo=obo,
                     scope=self.wchoice(["state", "national"], [5, 5]), label=lab)

    def area_watch(self, ui, lab, site, n, span, free, dd, plate_frac=0.3, off_p=0.2, plate_scope="national"):
        R = self.R
        ai = self.users[ui]["ai"]
        d0 = R.randint(0, max(0, self.D - span - 1))
        seen = []
        for t in self.sessions(ui, n, d0, span, off_p, per=(1, 3), gap=400):
            r, o = self.inc_reason(ai, t, free, dd)
            if seen and R.random() < plate_frac or (R.random() < plate_frac * 0.5):
                if not seen or R.random() < 0.6:
                    hi = self.take_hh()
                    seen.append(R.choice(self.hh[hi]["plates"]))
                self.add(ui, t, "plate", R.choice(seen), "CA", reason=r, offense=o, scope=plate_scope, label=lab)
            else:
                lat, lon = self.jitter(site["lat"], site["lon"], min(120, site["radius_m"] * 0.6))
                self.add(ui, t, "area", lat=lat, lon=lon, radius=R.choice([100, 150, 200, 300, 400]),
                         ws=t - R.uniform(3, 96) * 3600, we=t - R.uniform(0, 2) * 3600, reason=r, offense=o,
                         scope=self.wchoice(["own", "regional", "state"], [5, 3, 2]), label=lab)

    def site_officer(self, cat, kinds=("local", "sheriff")):
        R = self.R
        cands = [si for si in self.sites_by_cat.get(cat, []) if si not in self.used_sites]
        R.shuffle(cands)
        for si in cands:
            s = self.sites[si]
            try:
                ui = self.officer(kinds=kinds, ai=s["ai"])
            except RanOut:
                continue
            self.used_sites.add(si)
            return ui, s
        raise RanOut("no site officer " + cat)

    def inc_reproductive(self, lab, variant):
        R = self.R
        if variant == "oos_abortion":
            ai = self.ag_by_abbr[R.choice(["JCSO", "HCSO"])]
            ui = self.officer(kinds=("sheriff",), ai=ai, state=None, strict=False)
            hi = self.take_hh()
            plates = self.hh[hi]["plates"][:2]
            n = R.randint(2, 10)
            free = ["had an abortion, search for female", "missing person", "locate female - possible abortion",
                    "welfare check", "missing person"]
            ts = self.sessions(ui, n, R.randint(0, self.D - 5), R.randint(0, 3), 0.15, per=(1, 4), gap=200)
            for j, t in enumerate(ts):
                r = free[0] if j == 0 else R.choice(free)
                self.add(ui, t, "plate", R.choice(plates), "CA", reason=r, scope="huge", label=lab)
        elif variant in ("clinic_watch", "gac_watch"):
            cat = "reproductive_health" if variant == "clinic_watch" else "gender_affirming_care"
            if not self.sites_by_cat.get(cat):
                cat = "reproductive_health"
            ui, s = self.site_officer(cat)
            free = ["suspicious vehicle", "area check", "investigation", "", "check", "welfare"]
            dd = [("Suspicious Activity", ""), ("Welfare Check", ""), ("Other", "area check")]
            self.area_watch(ui, lab, s, R.randint(6, 18), R.randint(3, 14), free, dd, plate_frac=0.35)
        else:  # onbehalf_oos
            ui = self.officer(kinds=("local", "sheriff"))
            ai = self.users[ui]["ai"]
            b = self.ag[self.ag_by_abbr[R.choice(["HCSO", "JCSO", "BoisePD"])]]
            obo = R.choice([b["name"], f"{b['short']} ({b['state']})"])
            hi = self.take_hh()
            p = self.hh[hi]["plates"][0]
            free = ["locate female, traveled to CA for abortion", "welfare check - out of state request re abortion",
                    f"assist {b['short']} missing female"]
            dd = [("Missing/Endangered Person/Runaway", "female traveled for abortion"),
                  ("Welfare Check", f"{b['short']} request - abortion")]
            for t in self.sessions(ui, R.randint(2, 6), R.randint(0, self.D - 5), 2, 0.1, per=(1, 3), gap=200):
                r, o = self.inc_reason(ai, t, free, dd)
                self.add(ui, t, "plate", p, "CA", reason=r, offense=o, obo=obo, case=self.case_no(ai, t) if R.random() < .3 else "",
                         scope="national", label=lab)

    def inc_sensitive(self, lab, cat, hard):
        R = self.R
        ui, s = self.site_officer(cat)
        if hard:
            free = ["welfare check", "Welfare Check", "area check"]
            dd = [("Welfare Check", ""), ("Welfare Check", "area check")]
            self.area_watch(ui, lab, s, R.randint(5, 7), R.randint(2, 5), free, dd, plate_frac=0.0, off_p=0.0)
        else:
            free = R.sample(["area check", "suspicious activity", "Suspicious Vehicle", "patrol check", "investigation",
                             "", "inv", "sus veh", "intel"], 4)
            dd = [("Suspicious Activity", ""), ("Other", "area check"), ("Other", ""), ("Suspicious Activity", "intel")]
            self.area_watch(ui, lab, s, R.randint(8, 40), R.randint(4, 21), free, dd,
                            plate_frac=R.uniform(0.1, 0.4), off_p=R.uniform(0.1, 0.4), plate_scope="state")

    def inc_family(self, lab, variant):
        R = self.R
        free = ["inv", "investigation", "", "check", "follow up", "locate", "veh check"]
        dd = [("Other", ""), ("Suspicious Activity", ""), ("Welfare Check", "")]
        if variant == "surname":
            cnt = {}
            for h in self.hh:
                cnt[h["surname"]] = cnt.get(h["surname"], 0) + 1
            cands = [i for i, x in enumerate(self.users) if x["surname"] not in SURNAMES_COMMON
                     and x["surname"].upper() not in self._fam_names and i not in self.used_users
                     and self.ag[x["ai"]]["state"] == HOME and self.ag[x["ai"]]["kind"] in ("local", "sheriff")
                     and x["shift"] in ("day", "swing", "night", "det")]
            cands.sort(key=lambda i: (cnt.get(self.users[i]["surname"].upper(), 0), R.random()))
            ui = cands[R.randrange(min(4, len(cands)))]
            self.used_users.add(ui)
            u = self.users[ui]
            self._fam_names.add(u["surname"].upper())
            hhs = [self.take_hh() for _ in range(R.randint(1, 2))]
            plates = []
            for h in hhs:
                self.hh[h]["surname"] = u["surname"].upper()
                plates += self.hh[h]["plates"]
            n = R.randint(3, 15)
            ai = u["ai"]
            for t in self.sessions(ui, n, R.randint(0, self.D - 30), R.randint(2, 28), 0.35, per=(1, 3), gap=120):
                r, o = self.inc_reason(ai, t, free, dd)
                self.add(ui, t, "plate", R.choice(plates), "CA", reason=r, offense=o,
                         scope=self.wchoice(["own", "state"], [4, 6]), label=lab)
        else:  # whole household of a target
            ui = self.officer()
            ai = self.users[ui]["ai"]
            hi = self.take_hh(minplates=3)
            plates = list(self.hh[hi]["plates"])
            # plus a relative's household (same surname, linked)
            if R.random() < 0.6:
                h2 = self.take_hh()
                self.hh[h2]["surname"] = self.hh[hi]["surname"]
                q = self.hh[h2]["plates"][0]
                self.relations.append((plates[0], q, "associate"))
                plates.append(q)
            d0 = R.randint(0, self.D - 10)
            for s in range(R.randint(1, 3)):
                day = d0 + s * R.randint(1, 4)
                off = R.random() < 0.4
                t = self.ts_in(ui, min(day, self.D - 1), off)
                order = plates[:] + R.sample(plates, R.randint(0, len(plates)))
                R.shuffle(order)
                for p in order:
                    r, o = self.inc_reason(ai, t, free, dd)
                    self.add(ui, t, "plate", p, "CA", reason=r, offense=o,
                             scope=self.wchoice(["own", "state"], [5, 5]), label=lab)
                    t = min(self.T - 1, t + R.expovariate(1 / 400.0))

    def inc_oos(self, lab, variant):
        R = self.R
        if variant in ("oos_plates", "oos_area"):
            oos = [i for i, a in enumerate(self.ag) if a["state"] not in (HOME, "US") and a["abbr"] not in ("JCSO",)]
            ai = R.choice(oos)
            ui = self.officer(kinds=("local", "sheriff"), ai=ai, state=None, strict=False)
            a = self.ag[ai]
            n = R.randint(5, 30)
            d0 = R.randint(0, self.D - 20)
            cat = R.choice(SERIOUS)
            case = self.case_no(ai, d0 * 86400) if R.random() < a["p_case"] else ""
            if variant == "oos_plates":
                hhs = [self.take_hh() for _ in range(R.randint(1, 6))]
                plates = [R.choice(self.hh[h]["plates"]) for h in hhs]
                for t in self.sessions(ui, n, d0, R.randint(2, 18), 0.05, per=(1, 4), gap=200):
                    r, o, c = self.reason(ai, t, cat, case)
                    self.add(ui, t, "plate", R.choice(plates), "CA", reason=r, offense=o, case=c,
                             scope=self.wchoice(["state", "national"], [4, 6]), label=lab)
            else:
                b = self.ag[R.choice(self._ca_ag_all)]
                lat0, lon0 = self.jitter(b["lat"], b["lon"], 2000)
                for t in self.sessions(ui, min(n, 12), d0, R.randint(1, 6), 0.05, per=(1, 4), gap=200):
                    r, o, c = self.reason(ai, t, cat, case)
                    lat, lon = self.jitter(lat0, lon0, 400)
                    self.add(ui, t, "area", lat=lat, lon=lon, radius=R.choice([250, 500, 1000]),
                             ws=t - R.uniform(6, 200) * 3600, we=t - 3600, reason=r, offense=o, case=c,
                             scope="state", label=lab)
        elif variant == "share_out":
            ui = self.officer(kinds=("local", "sheriff", "state"))
            ai = self.users[ui]["ai"]
            oos = [i for i, a in enumerate(self.ag) if a["state"] not in (HOME, "US")]
            b = self.ag[R.choice(oos)]
            obo = R.choice([b["name"], f"{b['short']} ({b['state']})", b["short"]])
            case = self.case_no(self.ag_by_name[b["name"]], 0)
            plates = [self.oos_plate(b["state"])[0] if R.random() < 0.3 else
                      R.choice(self.hh[self.take_hh()]["plates"]) for _ in range(R.randint(1, 5))]
            free = [f"assist {b['short']}", f"outside agency request {b['state']}", f"per {b['short']} det", "assist"]
            dd = [("Other", f"assist {b['short']}"), (R.choice(SERIOUS), f"{b['short']} request")]
            for t in self.sessions(ui, R.randint(3, 15), R.randint(0, self.D - 10), R.randint(1, 8), 0.1,
                                   per=(1, 4), gap=200):
                r, o = self.inc_reason(ai, t, free, dd)
                self.add(ui, t, "plate", R.choice(plates), "CA", reason=r, offense=o, case=case, obo=obo,
                         scope=self.wchoice(["state", "national"], [6, 4]), label=lab)
        elif variant == "private":
            ai = self.ag_by_abbr[R.choice(["WVF", "LAP", "OKE"])]
            ui = self.officer(kinds=("private",), shifts=("det",), ai=ai)
            hhs = [self.take_hh() for _ in range(R.randint(2, 10))]
            plates = [R.choice(self.hh[h]["plates"]) for h in hhs]
            free = ["repo", "civil matter", "employee vehicle", "trespass follow up", "insurance claim", "locate owner"]
            for t in self.sessions(ui, R.randint(5, 25), R.randint(0, self.D - 15), R.randint(2, 14), 0.1,
                                   per=(1, 4), gap=200):
                self.add(ui, t, "plate", R.choice(plates), "CA", reason=R.choice(free),
                         scope=self.wchoice(["state", "national"], [7, 3]), label=lab)
        else:  # federal (non-immigration) account reaching the CA statewide network
            ai = self.ag_by_abbr[R.choice(["FBI", "DEA", "ATF", "USMS"])]
            ui = self.officer(kinds=("federal",), shifts=("det",), ai=ai, state=None)
            hhs = [self.take_hh() for _ in range(R.randint(1, 5))]
            plates = [R.choice(self.hh[h]["plates"]) for h in hhs]
            for t in self.sessions(ui, R.randint(5, 20), R.randint(0, self.D - 15), R.randint(2, 12), 0.05,
                                   per=(1, 4), gap=200):
                self.add(ui, t, "plate", R.choice(plates), "CA", reason=R.choice(FED_REASONS),
                         case=self.case_no(ai, t) if R.random() < 0.5 else "", scope="state", label=lab)

    def inc_informal(self, lab, hard):
        R = self.R
        ui = self.officer()
        ai = self.users[ui]["ai"]
        n = R.randint(10, 14) if hard else R.randint(18, 60)
        free = R.sample(["assist", "request", "inv", "investigation", "per req", "locate", "info", "BOL"], 3)
        dd = [("Other", ""), ("Other", "locate"), ("Suspicious Activity", "")]
        plates = []
        for t in self.sessions(ui, n, R.randint(0, self.D - 25), R.randint(3, 24), 0.25, per=(3, 10), gap=120):
            if not plates or R.random() < 0.75:
                plates.append(self.oos_plate() if R.random() < 0.8 else (self.ca_plate(), "CA"))
            p, st = plates[-1] if R.random() < 0.8 else R.choice(plates)
            r, o = self.inc_reason(ai, t, free, dd)
            self.add(ui, t, "plate", p, st, reason=r, offense=o, scope="national", label=lab)

    def inc_bulk(self, lab, hard):
        R = self.R
        ui = self.officer()
        ai = self.users[ui]["ai"]
        n = R.randint(18, 25) if hard else R.randint(30, 120)
        dur = R.uniform(25, 50) * 60 if hard else R.uniform(40, 180) * 60
        free = ["Suspicious Vehicle"] if hard else R.sample(["", "check", "inv", "patrol check", "random", "test", "chk"], 2)
        dd = [("Suspicious Activity", "")] if hard else [("Other", ""), ("Other", "check")]
        t0 = self.ts_in(ui, self.workday(ui), R.random() < 0.3)
        t0 = min(t0, self.T - dur - 10)
        ts = sorted(t0 + R.uniform(0, dur) for _ in range(n))
        scope = R.choice(["own", "state"])
        for t in ts:
            h = self.take_hh()
            r, o = self.inc_reason(ai, t, free, dd)
            self.add(ui, t, "plate", R.choice(self.hh[h]["plates"]), "CA", reason=r, offense=o, scope=scope, label=lab)

    def inc_protest(self, lab, variant):
        R = self.R
        ui, s = self.site_officer("protest")
        ai = self.users[ui]["ai"]
        si = self.sites.index(s)
        ev = R.choice(self.protest_days[si])
        if variant == "named":
            name = R.choice(["No Kings", "No Kings protest", "ICE protest", "Tesla Takedown", "pro-Palestine rally",
                             "Free Palestine march", "May Day rally", "ICE out rally"])
            free = [name, name, f"{name} organizer", "protest", "activist", f"{name} veh"]
            dd = [("Other", name), ("Disorderly Conduct/Disturbance", name), ("Suspicious Activity", "protest")]
            n = R.randint(5, 30)
            for t in self.sessions(ui, n, ev, R.randint(0, 5), 0.2, per=(2, 8), gap=150):
                h = self.take_hh()
                r, o = self.inc_reason(ai, t, free, dd)
                self.add(ui, t, "plate", R.choice(self.hh[h]["plates"]), "CA", reason=r, offense=o,
                         scope=self.wchoice(["own", "state", "national"], [3, 5, 2]), label=lab)
        else:
            free = ["Suspicious Vehicle", "area check", "special event", "event", "", "investigation"]
            dd = [("Suspicious Activity", ""), ("Other", "event"), ("Other", "")]
            n_area = R.randint(3, 10)
            ev_t = ev * 86400 + (R.uniform(10, 17) - self.users[ui]["tz"]) * 3600
            ts = self.sessions(ui, n_area + R.randint(2, 8), ev, R.randint(1, 5), 0.2, per=(1, 4), gap=300)
            plates = []
            for j, t in enumerate(ts):
                t = max(t, ev_t + 4 * 3600)
                r, o = self.inc_reason(ai, t, free, dd)
                if j < n_area:
                    lat, lon = self.jitter(s["lat"], s["lon"], 60)
                    self.add(ui, min(t, self.T - 1), "area", lat=lat, lon=lon, radius=R.choice([150, 250, 400]),
                             ws=ev_t - 3600, we=ev_t + 4 * 3600, reason=r, offense=o, scope="own", label=lab)
                else:
                    h = self.take_hh()
                    self.add(ui, min(t, self.T - 1), "plate", R.choice(self.hh[h]["plates"]), "CA", reason=r,
                             offense=o, scope="state", label=lab)

    def incidents(self):
        R = self.R
        f = self.a.incident_scale * self.a.searches / 200000.0
        base = [("stalking", 6), ("immigration", 6), ("reproductive", 3), ("sensitive_site", 4),
                ("family_self", 4), ("out_of_jurisdiction", 5), ("informal_sharing", 3), ("bulk_fishing", 4),
                ("protest", 4)]
        self.used_users, self.used_sites = set(), set()
        self._fam_names = set()
        self.inc_meta = []
        self._ca_ag_all = [i for i, a in enumerate(self.ag) if a["state"] == HOME and a["kind"] in ("local", "sheriff")]
        k = 0
        for scen, nb in base:
            cnt = 0 if f <= 0 else max(1, int(round(nb * f)))
            for j in range(cnt):
                k += 1
                lab = (scen, f"INC{k:03d}")
                n0 = len(self.rows)
                if scen == "stalking":
                    self.inc_stalking(lab, hard=(j % 3 == 2))
                elif scen == "immigration":
                    self.inc_immigration(lab, ["explicit", "onbehalf", "federal", "subtle", "explicit", "federal"][j % 6])
                elif scen == "reproductive":
                    self.inc_reproductive(lab, ["oos_abortion", "clinic_watch", "onbehalf_oos", "gac_watch"][j % 4])
                elif scen == "sensitive_site":
                    cat = ["place_of_worship", "shelter", "immigration_services", "place_of_worship"][j % 4]
                    self.inc_sensitive(lab, cat, hard=(j % 4 == 1))
                elif scen == "family_self":
                    self.inc_family(lab, ["surname", "household"][j % 2])
                elif scen == "out_of_jurisdiction":
                    self.inc_oos(lab, ["oos_plates", "share_out", "private", "oos_area", "federal"][j % 5])
                elif scen == "informal_sharing":
                    self.inc_informal(lab, hard=(j % 3 == 2))
                elif scen == "bulk_fishing":
                    self.inc_bulk(lab, hard=(j % 4 == 3))
                elif scen == "protest":
                    self.inc_protest(lab, ["named", "area"][j % 2])
                v = {"stalking": ["repeat", "repeat", "hard"][j % 3],
                     "immigration": ["explicit", "onbehalf", "federal", "subtle", "explicit", "federal"][j % 6],
                     "reproductive": ["oos_abortion", "clinic_watch", "onbehalf_oos", "gac_watch"][j % 4],
                     "sensitive_site": ["place_of_worship", "shelter_hard", "immigration_services",
                                        "place_of_worship"][j % 4],
                     "family_self": ["surname", "household"][j % 2],
                     "out_of_jurisdiction": ["oos_plates", "share_out", "private", "oos_area", "federal"][j % 5],
                     "informal_sharing": ["bulk", "bulk", "hard"][j % 3],
                     "bulk_fishing": ["burst", "burst", "burst", "hard"][j % 4],
                     "protest": ["named", "area"][j % 2]}[scen]
                r = self.rows[n0]
                self.inc_meta.append((lab[1], scen, v, r[1], r[2], len(self.rows) - n0))

    # ------------------------------------------------------------------ output
    def write(self):
        out = self.a.out
        os.makedirs(out, exist_ok=True)
        cols = ["t", "user_id", "agency", "agency_state", "search_type", "plate", "plate_state", "lat", "lon",
                "radius_m", "ws", "we", "reason", "offense_type", "case_number", "on_behalf_of",
                "networks_searched", "devices_searched", "results"]
        df = pd.DataFrame(self.rows, columns=cols)
        lab = pd.Series([l[0] if l else "" for l in self.labels])
        inc = pd.Series([l[1] if l else "" for l in self.labels])
        df["_sc"], df["_inc"] = lab.values, inc.values
        order = np.argsort(df["t"].values, kind="stable")
        df = df.iloc[order].reset_index(drop=True)
        n = len(df)
        b = self.np.integers(0, 256, size=(n, 16), dtype=np.uint8)
        b[:, 6] = (b[:, 6] & 0x0F) | 0x40
        b[:, 8] = (b[:, 8] & 0x3F) | 0x80
        hx = [bytes(r).hex() for r in b]
        ids = [f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}" for h in hx]
        assert len(set(ids)) == n

        def iso(sec):
            s = np.asarray(sec, dtype=float)
            ok = ~np.isnan(s)
            res = np.full(len(s), "", dtype=object)
            ms = (s[ok] * 1000).astype(np.int64).astype("timedelta64[ms]")
            res[ok] = np.char.add(np.datetime_as_string(self.start.astype("datetime64[ms]") + ms, unit="ms"), "Z")
            return res

        out_df = pd.DataFrame({
            "search_id": ids,
            "ts": iso(df["t"].values),
            "user_id": df["user_id"], "agency": df["agency"], "agency_state": df["agency_state"],
            "search_type": df["search_type"], "plate": df["plate"], "plate_state": df["plate_state"],
            "lat": df["lat"], "lon": df["lon"], "radius_m": df["radius_m"].astype("Int64"),
            "window_start": iso(df["ws"].astype(float).values), "window_end": iso(df["we"].astype(float).values),
            "reason": df["reason"], "offense_type": df["offense_type"], "case_number": df["case_number"],
            "on_behalf_of": df["on_behalf_of"],
            "networks_searched": df["networks_searched"].astype("Int64"),
            "devices_searched": df["devices_searched"].astype("Int64"),
            "results": df["results"].astype("Int64"),
        })
        out_df.to_csv(os.path.join(out, "searches.csv"), index=False)
        m = df["_sc"] != ""
        pd.DataFrame({"search_id": np.array(ids)[m.values], "scenario": df.loc[m, "_sc"].values,
                      "incident_id": df.loc[m, "_inc"].values}).to_csv(os.path.join(out, "labels.csv"), index=False)
        pd.DataFrame([{k: s[k] for k in ("site_id", "category", "name", "lat", "lon", "radius_m")} for s in self.sites]) \
            .to_csv(os.path.join(out, "sites.csv"), index=False)
        pd.DataFrame([(p, h["id"], h["surname"]) for h in self.hh for p in h["plates"]],
                     columns=["plate", "household_id", "owner_surname"]).to_csv(os.path.join(out, "vehicles.csv"), index=False)
        rel = pd.DataFrame(self.relations, columns=["plate_a", "plate_b", "kind"]).drop_duplicates()
        rel.to_csv(os.path.join(out, "relations.csv"), index=False)
        if self.a.details:
            pd.DataFrame(self.inc_meta, columns=["incident_id", "scenario", "variant", "user_id", "agency",
                                                 "searches"]).to_csv(self.a.details, index=False)
        pd.DataFrame([(a["name"], a["state"], a["kind"]) for a in self.ag], columns=["agency", "state", "kind"]) \
            .to_csv(os.path.join(out, "agencies.csv"), index=False)
        pd.DataFrame([(u["uid"], self.ag[u["ai"]]["name"], u["surname"]) for u in self.users],
                     columns=["user_id", "agency", "surname"]).to_csv(os.path.join(out, "users.csv"), index=False)

    def run(self):
        self.build_agencies()
        self.build_users()
        self.build_register()
        self.build_sites()
        self.incidents()
        n_inc = len(self.rows)
        self.background(max(0, self.a.searches - n_inc))
        self.write()


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--out", required=True)
    ap.add_argument("--searches", type=int, default=200000, help="total rows incl. incidents")
    ap.add_argument("--days", type=int, default=60)
    ap.add_argument("--start", default="2026-01-05", help="first day (UTC date)")
    ap.add_argument("--incident-scale", type=float, default=1.0,
                    help="multiplies incident counts (which already scale with --searches/200000); 0 = benign only")
    ap.add_argument("--households", type=int, default=None, help="vehicle-register households (default scales)")
    ap.add_argument("--details", default=None, help="optional path for a per-incident summary CSV "
                    "(incident_id,scenario,variant,user_id,agency,searches); keep it outside DIR")
    a = ap.parse_args()
    if a.days < 30:
        ap.error("--days must be >= 30")
    try:
        Gen(a).run()
    except RanOut as exc:
        ap.error(f"{exc}: too many incidents for this world at --searches {a.searches} "
                 f"(--incident-scale {a.incident_scale}); lower --incident-scale (0.4 suits 1,000,000)")


if __name__ == "__main__":
    main()
