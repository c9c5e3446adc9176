"""Audit exports delivered as XLSX read like their CSV twins, with sheet row numbers."""

from __future__ import annotations

import datetime as dt

import openpyxl
import pandas as pd
import pytest
from vendor_helpers import AUDIT_HEADER, audit_row, read_all, write_csv, write_xlsx

from detector.validate import InputError, RejectCounter
from streams.vendor import detect_format, read_export


def cells(row: dict[str, str], header: list[str]) -> list[object]:
    """A row as a spreadsheet holds it: counts as numbers."""
    return [int(row[h]) if h.startswith("Total") and row[h].isdigit() else row[h] for h in header]


def test_xlsx_matches_the_csv_export(tmp_path):
    rows = [audit_row(i, **{"Org Name": "[Federal] Federal Bureau of Investigation (FBI)" if i == 1 else "Houston TX PD",
                            "Total Devices Searched": "——" if i == 2 else "15737"}) for i in range(4)]
    header = [" " + h for h in AUDIT_HEADER]
    xlsx = write_xlsx(tmp_path / "a.xlsx", {"Network Audit": (header, [cells(r, AUDIT_HEADER) for r in rows])})
    csv = write_csv(tmp_path / "a.csv", AUDIT_HEADER, rows)
    assert detect_format(xlsx) == "flock_audit"
    from_xlsx, rejects = read_all(xlsx, chunk_rows=3)
    from_csv, _ = read_all(csv)
    assert len(rejects) == 0
    pd.testing.assert_frame_equal(from_xlsx, from_csv)
    assert from_xlsx.agency_state.tolist() == ["TX", "US", "TX", "TX"]
    assert pd.isna(from_xlsx.devices_searched[2]) and from_xlsx.networks_searched[0] == 631


def test_sheet_rows_are_the_line_numbers_and_blank_rows_are_skipped(tmp_path):
    rows = [cells(audit_row(i), AUDIT_HEADER) for i in range(3)]
    rows[2][AUDIT_HEADER.index("Search Time")] = "12/32/2025, 01:00:00 AM UTC"
    rows.insert(1, [None] * len(AUDIT_HEADER))  # an empty sheet row
    path = write_xlsx(tmp_path / "a.xlsx", {"Audit": (AUDIT_HEADER, rows)})
    batch, rejects = read_all(path)
    assert len(batch) == 2
    (reject,) = rejects.items
    assert (reject.source, reject.line, reject.field) == (f"{path}[Audit]", 5, "ts")


def test_excel_date_cells_are_read(tmp_path):
    row = cells(audit_row(0), AUDIT_HEADER)
    row[AUDIT_HEADER.index("Search Time")] = dt.datetime(2025, 12, 20, 15, 4, 5)
    batch, rejects = read_all(write_xlsx(tmp_path / "a.xlsx", {"Audit": (AUDIT_HEADER, [row])}))
    assert len(rejects) == 0 and batch.ts[0] == pd.Timestamp("2025-12-20 15:04:05", tz="UTC")


def test_every_matching_sheet_is_read_with_one_id_memory(tmp_path):
    first = [cells(audit_row(i), AUDIT_HEADER) for i in range(2)]
    second = [cells(audit_row(1, Reason="other text"), AUDIT_HEADER)]
    path = write_xlsx(tmp_path / "a.xlsx", {"Jan": (AUDIT_HEADER, first), "Notes": (["Note"], [["produced 2026"]]),
                                            "Feb": (AUDIT_HEADER, second)})
    batch, _ = read_all(path)
    assert batch.search_id.tolist()[-1] == "00000000-0000-4000-8000-000000000001#2"
    assert len(batch) == 3


def test_workbook_without_a_known_header(tmp_path):
    path = write_xlsx(tmp_path / "a.xlsx", {"Sheet": (["Plate", "When"], [["ABC", "today"]])})
    with pytest.raises(InputError, match=r"a\.xlsx: line 1: unrecognised header 'Plate,When'"):
        detect_format(path)
    with pytest.raises(InputError, match="unrecognised header"):
        list(read_export(path, RejectCounter(), format="flock_audit"))


def test_empty_workbook(tmp_path):
    path = tmp_path / "a.xlsx"
    openpyxl.Workbook().save(path)
    with pytest.raises(InputError, match="the workbook has no rows"):
        detect_format(path)


def test_broken_workbook(tmp_path):
    path = tmp_path / "a.xlsx"
    path.write_bytes(b"PK\x03\x04 not really a zip")
    with pytest.raises(InputError, match=r"a\.xlsx: not a readable XLSX workbook"):
        detect_format(path)
