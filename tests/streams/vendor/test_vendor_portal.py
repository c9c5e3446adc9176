"""The transparency-portal adapter on the real downloads and on every header variant of the spec."""

from __future__ import annotations

import pandas as pd
import pytest
from vendor_helpers import SAMPLES, read_all

from detector.schema import FIELD_NAMES
from detector.validate import InputError, RejectCounter
from streams.vendor import read_export

UTC = "UTC"


def test_eugene_sample_keeps_every_row_with_zone_less_times_as_utc():
    batch, rejects = read_all(SAMPLES / "flock_portal_eugene_or_2025-06_12.csv", agency="Eugene OR PD")
    assert len(batch) == 4294 and len(rejects) == 0  # 4,295 lines: the header and 4,294 searches
    assert tuple(batch.columns) == FIELD_NAMES
    first = batch.iloc[0]
    assert first.search_id == "5869ce7e-98f2-47e7-a3c2-5e6bff4def4a"
    assert first.ts == pd.Timestamp("2025-06-18 00:02:04.789", tz=UTC)  # "2025-06-18 00:02:04.789", no zone
    assert first.user_id == "587e52c3-e5b1-494d-bc15-943a853a26f5"
    assert first.devices_searched == 2510 and pd.isna(first.networks_searched)  # cameraCount
    assert (first.reason, first.agency, first.agency_state) == ("investigation", "Eugene OR PD", "OR")
    assert batch.user_id.nunique() == 147
    assert batch.ts.max() == pd.Timestamp("2025-12-02 23:01:50.984", tz=UTC)
    assert batch.search_id.is_unique and (batch.search_type == "").all()
    # free-text era: "Welfare Check" is not taken for the later dropdown label
    assert (batch.offense_type == "").all() and (batch.reason == "Welfare Check").sum() == 61


@pytest.mark.parametrize(("name", "rows", "networks", "first"), [
    ("flock_portal_belmont_ca_2026-04.csv", 91, 15633, "2026-03-10T04:31:52.901Z"),
    ("flock_portal_foster_city_ca_2026-04.csv", 36, 4006, "2026-03-10T05:17:06.087Z"),
])
def test_networkcount_samples_with_redacted_users_and_z_times(name, rows, networks, first):
    batch, rejects = read_all(SAMPLES / name, agency="Some CA PD")
    assert len(batch) == rows and len(rejects) == 0
    assert (batch.user_id == "").all()  # every userId is ***
    assert batch.networks_searched.sum() == networks and batch.devices_searched.isna().all()
    assert batch.ts.iloc[0] == pd.Timestamp(first)


def test_grandville_offense_type_column():
    batch, rejects = read_all(SAMPLES / "flock_portal_grandville_mi_2026-09.csv", agency="Grandville MI PD")
    assert len(batch) == 49 and len(rejects) == 0
    assert (batch.reason == "").all()
    assert batch.offense_type.iloc[0] == "Motor Vehicle Theft/Stolen"
    assert batch.offense_type.value_counts()["Drugs/Narcotics"] == 16
    assert batch.ts.iloc[0] == pd.Timestamp("2026-09-07 19:40:00.008", tz=UTC)


def test_san_mateo_printed_variant_parses_search_time_and_dropdown_reasons():
    batch, rejects = read_all(SAMPLES / "san_mateo_ca_own_search_audit_2025-12.csv", agency="San Mateo CA PD")
    assert len(batch) == 4103 and len(rejects) == 0
    first = batch.iloc[0]
    assert first.search_id == "952b2d73-3ef6-4cea-89a5-e4ce0bb8d4d3"
    assert first.ts == pd.Timestamp("2025-12-06 04:09:53", tz=UTC)  # "12/06/2025, 04:09:53 AM UTC"
    assert first.networks_searched == 3 and first.user_id == ""
    assert batch.ts.min() == pd.Timestamp("2025-12-01 09:14:12", tz=UTC)
    assert batch.ts.max() == pd.Timestamp("2026-01-01 06:35:46", tz=UTC)
    dropdown = batch[batch.reason == "Wanted Person (Arrest Warrant/Fugitive) - warrant"]
    assert len(dropdown) == 127 and (dropdown.offense_type == "Wanted Person (Arrest Warrant/Fugitive)").all()
    two = batch[batch.reason == "Assault/Battery Offenses, Assault/Battery Offenses (Domestic)"]
    assert len(two) == 4 and (two.offense_type == two.reason).all()
    assert (batch.loc[batch.reason == "investigation", "offense_type"] == "").all()


ZONELESS = pd.Timestamp("2025-06-18 00:02:04.789", tz=UTC)
ZULU = pd.Timestamp("2026-03-10T04:31:52.901Z")


@pytest.mark.parametrize(("header", "row", "expect"), [
    ("id,userId,searchDate,cameraCount,reason", "a,u1,2025-06-18 00:02:04.789,2510,inv",
     {"ts": ZONELESS, "user_id": "u1", "devices_searched": 2510.0, "networks_searched": None, "reason": "inv", "offense_type": ""}),
    ("id,userId,searchDate,networkCount,reason", "a,***,2026-03-10T04:31:52.901Z,449,Stolen",
     {"ts": ZULU, "user_id": "", "networks_searched": 449.0, "devices_searched": None, "reason": "Stolen"}),
    ("id,userId,searchDate,networkCount,offenseType", 'a,***,2026-03-10T04:31:52.901Z,13,"Drugs/Narcotics, Robbery"',
     {"ts": ZULU, "offense_type": "Drugs/Narcotics, Robbery", "reason": ""}),
    ("id,searchDate,networkCount,reason,offenseType", "a,2026-03-10T04:31:52.901Z,13,warrant,Robbery",
     {"ts": ZULU, "user_id": "", "reason": "warrant", "offense_type": "Robbery"}),
    ("id,userId,searchDate,cameraCount,reason,networkCount", "a,u9,2025-06-18 00:02:04.789,94,UUV,2",
     {"ts": ZONELESS, "devices_searched": 94.0, "networks_searched": 2.0, "reason": "UUV"}),
    ("ID,userId,networkCount,Search Time,Reason,parse_note", 'a,***,3,"12/06/2025, 04:09:53 PM UTC",investigation,',
     {"ts": pd.Timestamp("2025-12-06 16:09:53", tz=UTC), "networks_searched": 3.0, "reason": "investigation"}),
])
def test_every_portal_header_variant(tmp_path, header, row, expect):
    path = tmp_path / "portal.csv"
    path.write_text(f"{header}\n{row}\n", encoding="utf-8")
    batch, rejects = read_all(path, agency="Test PD")
    assert len(rejects) == 0 and len(batch) == 1
    got = batch.iloc[0]
    assert got.search_id == "a" and got.agency == "Test PD" and got.search_type == ""
    for field, value in expect.items():
        assert (pd.isna(got[field]) if value is None else got[field] == value), field


def test_zone_less_and_z_times_are_the_same_instant(tmp_path):
    path = tmp_path / "p.csv"
    path.write_text("id,userId,searchDate,networkCount,reason\na,u,2025-06-18 00:02:04.789,1,x\nb,u,2025-06-18T00:02:04.789Z,1,x\n")
    batch, _ = read_all(path, agency="PD")
    assert batch.ts.iloc[0] == batch.ts.iloc[1] == pd.Timestamp("2025-06-18T00:02:04.789Z")


def test_portal_without_agency_is_refused(tmp_path):
    path = tmp_path / "p.csv"
    path.write_text("id,userId,searchDate,networkCount,reason\na,u,2025-06-18 00:02:04.789,1,x\n")
    with pytest.raises(InputError, match=r"p\.csv: a Flock transparency portal export does not name its agency"):
        list(read_export(path, RejectCounter()))


def test_bad_values_become_rejects_with_line_and_field(tmp_path):
    path = tmp_path / "p.csv"
    path.write_text(
        "id,userId,searchDate,networkCount,reason\n"
        "a,u,2025-06-18 00:02:04.789,1,ok\n"
        "b,u,yesterday,1,bad time\n"
        "c,u,2025-06-18 00:05:00,many,bad count\n"
        ",u,2025-06-18 00:06:00,1,no id\n"
    )
    batch, rejects = read_all(path, agency="PD")
    assert batch.search_id.tolist()[0] == "a" and batch.search_id.iloc[1].startswith("row-")
    assert [(r.line, r.field) for r in rejects.items] == [(3, "ts"), (4, "networks_searched")]
    assert all(r.source == str(path) for r in rejects.items)
    assert "'yesterday'" in rejects.items[0].reason


def test_unparseable_search_time_is_rejected_by_line(tmp_path):
    path = tmp_path / "p.csv"
    path.write_text('ID,userId,networkCount,Search Time,Reason\n'
                    'a,***,3,"12/06/2025, 04:09:53 AM UTC",x\n'
                    'b,***,3,"13/45/2025, 99:09:53 AM UTC",x\n')
    batch, rejects = read_all(path, agency="PD")
    assert batch.search_id.tolist() == ["a"]
    (reject,) = rejects.items
    assert (reject.source, reject.line, reject.field) == (str(path), 3, "ts")
    assert "Search Time" in reject.reason and "13/45/2025" in reject.reason and '"ID": "b"' in reject.raw
