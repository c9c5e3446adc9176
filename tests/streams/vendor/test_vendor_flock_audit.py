"""The Organization/Network Audit adapter on hand-made CSV exports carrying each released quirk."""

from __future__ import annotations

import pandas as pd
import pytest
from vendor_helpers import AUDIT_HEADER, audit_row, read_all, write_csv

from detector.validate import InputError, RejectCounter
from streams.vendor import read_export

UTC = "UTC"


def one(tmp_path, header=AUDIT_HEADER, **cells) -> pd.Series:
    batch, rejects = read_all(write_csv(tmp_path / "audit.csv", header, [audit_row(0, **cells)]))
    assert len(rejects) == 0, rejects.items
    return batch.iloc[0]


def test_a_full_row_maps_every_field(tmp_path):
    got = one(tmp_path, **{"Name": "jdoe", "License Plate": "7ABC123", "Case #": "2025-00123",
                           "Reason": "Motor Vehicle Theft/Stolen - stolen vehicle", "Search Type": "search"})
    assert got.search_id == "00000000-0000-4000-8000-000000000000"
    assert got.ts == pd.Timestamp("2025-12-20 15:04:05", tz=UTC)  # "12/20/2025, 03:04:05 PM UTC"
    assert got.window_start == pd.Timestamp("2025-12-13 15:04:05", tz=UTC)
    assert got.window_end == pd.Timestamp("2025-12-20 15:04:05", tz=UTC)
    assert (got.user_id, got.agency, got.agency_state) == ("jdoe", "Houston TX PD", "TX")
    assert (got.plate, got.case_number, got.search_type) == ("7ABC123", "2025-00123", "plate")
    assert got.reason == "Motor Vehicle Theft/Stolen - stolen vehicle"
    assert got.offense_type == "Motor Vehicle Theft/Stolen"
    assert (got.networks_searched, got.devices_searched) == (631, 15737)


def test_leading_spaces_in_header_names(tmp_path):
    got = one(tmp_path, header=[" " + h for h in AUDIT_HEADER])
    assert got.agency == "Houston TX PD" and got.ts == pd.Timestamp("2025-12-20 15:04:05", tz=UTC)


def test_device_sentinel_is_missing(tmp_path):
    assert pd.isna(one(tmp_path, **{"Total Devices Searched": "——"}).devices_searched)


def test_federal_org_name(tmp_path):
    got = one(tmp_path, **{"Org Name": "[Federal] Federal Bureau of Investigation (FBI)"})
    assert (got.agency, got.agency_state) == ("Federal Bureau of Investigation (FBI)", "US")


@pytest.mark.parametrize(("org", "state"), [
    ("Blaine CO OK SO", "OK"), ("Mountain View CA PD (Santa Clara County)", "CA"),
    ("Georgia Attorney General's Office - GA", "GA"), ("California Highway Patrol", ""), ("Anytown ZZ PD", ""),
])
def test_state_read_from_flock_org_names(tmp_path, org, state):
    got = one(tmp_path, **{"Org Name": org})
    assert (got.agency, got.agency_state) == (org, state)


@pytest.mark.parametrize("marker", ["***", "REDACTED", "[REDACTED]", " REDACTED", "XXXX", "###", "* * *", "7923.600 GC", "REDACTED, J"])
def test_redaction_markers_never_become_values(tmp_path, marker):
    got = one(tmp_path, **{"Name": marker, "License Plate": marker, "Case #": marker, "Search Type": "search"})
    assert (got.user_id, got.plate, got.case_number) == ("", "***", "")  # a plate, which one withheld
    assert got.search_type == "plate"  # a masked plate was still a plate search


@pytest.mark.parametrize(("label", "plate", "filters", "expected"), [
    ("lookup", "7ABC123", "", "plate"), ("lookup - Mobile", "***", "", "plate"), ("apiLookup", "7ABC123", "", "plate"),
    ("search", "7ABC123", "", "plate"), ("search - Mobile", "7AB*", "", "partial_plate"),
    ("search", "7?BC123", "", "partial_plate"), ("search", "ABC", "", "partial_plate"),
    ("search", "", "black suv", "attributes"), ("search", "", "", "other"), ("convoy", "***", "", "convoy"),
    ("visual", "", "", "attributes"), ("freeform", "", "", "attributes"), ("freeform - Mobile", "", "", "attributes"),
    ("multiGeo", "", "", "area"), ("searchSummary", "", "", "other"), ("searchSummary - Mobile", "", "", "other"),
    ("mostSeenOcrValues", "", "", "other"), ("apiV1", "", "", "other"), ("", "", "", ""),
])
def test_search_types(tmp_path, label, plate, filters, expected):
    got = one(tmp_path, **{"Search Type": label, "License Plate": plate, "Filters": filters})
    assert got.search_type == expected


@pytest.mark.parametrize(("reason", "offense"), [
    ("Wanted Person (Arrest Warrant/Fugitive) - warrant", "Wanted Person (Arrest Warrant/Fugitive)"),
    ("Immigration (civil/administrative) -", "Immigration (civil/administrative)"),
    ("Wanted Person (Arrest Warrant/Fugitive)", "Wanted Person (Arrest Warrant/Fugitive)"),
    ("ICE - ERO", ""), ("had an abortion, search for female", ""), ("Robbery", ""), ("Robbery - 211 PC", "Robbery"),
])
def test_dropdown_reasons_give_offense_type_and_keep_the_text(tmp_path, reason, offense):
    got = one(tmp_path, Reason=reason)
    assert (got.reason, got.offense_type) == (reason, offense)


def test_minimal_ten_column_export(tmp_path):
    header = ["Name", "Org Name", "Total Networks Searched", "Time Frame", "License Plate", "Reason", "Case #",
              "Filters", "Search Time", "Search Type"]
    rows = [audit_row(0), audit_row(1), audit_row(1)]  # no ID column: a printed-twice row is one search
    batch, rejects = read_all(write_csv(tmp_path / "a.csv", header, rows))
    assert len(rejects) == 0 and len(batch) == 3
    assert batch.search_id.str.fullmatch(r"row-[0-9a-f]{16}").all()
    assert batch.search_id[1] == batch.search_id[2] != batch.search_id[0]
    assert batch.devices_searched.isna().all()
    again, _ = read_all(tmp_path / "a.csv")
    assert again.search_id.tolist() == batch.search_id.tolist()  # stable on re-read


@pytest.mark.parametrize("dropped", [(), ("Moderation",), ("Moderation", "Text Prompt"),
                                     ("Moderation", "Text Prompt", "Total Devices Searched")])
def test_columns_dropped_over_time(tmp_path, dropped):
    header = [h for h in AUDIT_HEADER if h not in dropped]
    batch, rejects = read_all(write_csv(tmp_path / "a.csv", header, [audit_row(0, Reason="inv"), audit_row(1)]))
    assert len(rejects) == 0 and len(header) == 14 - len(dropped)
    assert batch.search_id.tolist() == ["00000000-0000-4000-8000-000000000000", "00000000-0000-4000-8000-000000000001"]
    assert batch.devices_searched.isna().all() == ("Total Devices Searched" in dropped)
    assert (batch.window_end == batch.ts).all() and (batch.agency == "Houston TX PD").all()


def test_blank_org_name_cells(tmp_path):
    path = write_csv(tmp_path / "a.csv", AUDIT_HEADER, [audit_row(0), audit_row(1, **{"Org Name": ""})])
    batch, rejects = read_all(path)
    assert len(batch) == 1 and [(r.line, r.field) for r in rejects.items] == [(4, "agency")]
    batch, rejects = read_all(path, agency="El Cerrito CA PD")
    assert batch.agency.tolist() == ["Houston TX PD", "El Cerrito CA PD"] and batch.agency_state.tolist() == ["TX", "CA"]


def test_own_search_log_without_org_name_needs_the_agency(tmp_path):
    header = [h for h in AUDIT_HEADER if h != "Org Name"]
    path = write_csv(tmp_path / "own.csv", header, [audit_row(0), audit_row(1, **{"Org Name": ""})])
    with pytest.raises(InputError, match="no Org Name column"):
        list(read_export(path, RejectCounter()))
    batch, _ = read_all(path, agency="Lodi CA PD")
    assert (batch.agency == "Lodi CA PD").all() and (batch.agency_state == "CA").all()


def test_line_numbers_count_the_two_line_time_frames(tmp_path):
    rows = [audit_row(i) for i in range(4)]
    rows[2]["Search Time"] = "not a time"
    rows[3]["Time Frame"] = "12/13/2025, 03:04:05 PM UTC"  # the end is missing
    path = write_csv(tmp_path / "a.csv", AUDIT_HEADER, rows)
    batch, rejects = read_all(path, chunk_rows=2)
    assert len(batch) == 2
    # header line 1; each record takes two lines: rows start on lines 2, 4, 6 and 8
    assert [(r.line, r.field) for r in rejects.items] == [(6, "ts"), (8, "window_start")]
    assert "Search Time is not a Flock time" in rejects.items[0].reason and "'not a time'" in rejects.items[0].reason
    assert "Time Frame" in rejects.items[1].reason


def test_bad_count_is_rejected_by_canonicalize(tmp_path):
    rows = [audit_row(0), audit_row(1, **{"Total Networks Searched": "lots"})]
    batch, rejects = read_all(write_csv(tmp_path / "a.csv", AUDIT_HEADER, rows))
    assert len(batch) == 1
    assert [(r.line, r.field) for r in rejects.items] == [(4, "networks_searched")]


def test_unpadded_and_one_line_time_frames(tmp_path):
    got = one(tmp_path, **{"Search Time": "1/5/2024, 3:04:05 AM UTC",
                           "Time Frame": "1/1/2024, 1:00:00 AM UTC to 1/5/2024, 3:04:05 AM UTC"})
    assert got.ts == pd.Timestamp("2024-01-05 03:04:05", tz=UTC)
    assert (got.window_start, got.window_end) == (pd.Timestamp("2024-01-01 01:00", tz=UTC), got.ts)


def test_chunking_does_not_change_the_result(tmp_path):
    rows = [audit_row(i, **{"Org Name": f"Agency {i % 3} TX PD", "Reason": f"case {i % 4}"}) for i in range(9)]
    rows.append(audit_row(3, Reason="changed"))  # a repeated ID with other content
    path = write_csv(tmp_path / "a.csv", AUDIT_HEADER, rows)
    whole, _ = read_all(path)
    pieces, _ = read_all(path, chunk_rows=2)
    pd.testing.assert_frame_equal(whole, pieces)
    assert whole.search_id.iloc[-1] == "00000000-0000-4000-8000-000000000003#2"
