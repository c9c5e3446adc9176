"""Format detection, forcing a format, and the errors a malformed export gives."""

from __future__ import annotations

import pytest
from vendor_helpers import AUDIT_HEADER, SAMPLES, audit_row, read_all, write_csv

from detector.validate import InputError, RejectCounter
from streams.vendor import detect_format, read_export


@pytest.mark.parametrize("name", [
    "flock_portal_belmont_ca_2026-04.csv", "flock_portal_foster_city_ca_2026-04.csv", "flock_portal_grandville_mi_2026-09.csv",
    "flock_portal_eugene_or_2025-06_12.csv", "san_mateo_ca_own_search_audit_2025-12.csv",
])
def test_samples_are_portal_files(name):
    assert detect_format(SAMPLES / name) == "flock_portal"


def test_audit_and_canonical_files(tmp_path):
    assert detect_format(write_csv(tmp_path / "a.csv", AUDIT_HEADER, [audit_row()])) == "flock_audit"
    canonical = tmp_path / "c.csv"
    canonical.write_text("search_id,ts,user_id,agency\ns1,2025-01-01T00:00:00Z,u,PD\n")
    assert detect_format(canonical) == "canonical"
    batch, _ = read_all(canonical)
    assert batch.search_id.tolist() == ["s1"]
    assert detect_format(tmp_path / "x.jsonl") == "canonical" and detect_format(tmp_path) == "canonical"


def test_incomplete_canonical_header_is_left_to_the_canonical_reader(tmp_path):
    path = tmp_path / "c.csv"
    path.write_text("search_id,ts\ns1,2025-01-01\n")
    assert detect_format(path) == "canonical"
    with pytest.raises(InputError, match="missing required column"):
        read_all(path)


def test_forcing_a_format(tmp_path):
    path = write_csv(tmp_path / "a.csv", AUDIT_HEADER, [audit_row()])
    with pytest.raises(InputError, match="does not name its agency"):
        list(read_export(path, RejectCounter(), format="flock_portal"))
    with pytest.raises(InputError, match="unknown format 'vigilant'"):
        list(read_export(path, RejectCounter(), format="vigilant"))
    portal = SAMPLES / "flock_portal_belmont_ca_2026-04.csv"
    with pytest.raises(InputError, match="no Search Time column"):
        list(read_export(portal, RejectCounter(), format="flock_audit", agency="Belmont CA PD"))


def test_unknown_header_names_the_file_and_the_header(tmp_path):
    path = tmp_path / "plates.csv"
    path.write_text("plate,seen_at\nABC123,today\n")
    with pytest.raises(InputError, match=r"plates\.csv: line 1: unrecognised header 'plate,seen_at'; expected"):
        detect_format(path)


@pytest.mark.parametrize("content", [b"", b"\n\n"])
def test_empty_file(tmp_path, content):
    path = tmp_path / "empty.csv"
    path.write_bytes(content)
    with pytest.raises(InputError, match=r"empty\.csv: the file is empty"):
        detect_format(path)


def test_missing_file(tmp_path):
    with pytest.raises(InputError, match="no such file"):
        detect_format(tmp_path / "nope.csv")


def test_not_utf8_names_the_line(tmp_path):
    path = tmp_path / "latin1.csv"
    lines = [",".join(AUDIT_HEADER)] + [f'{i},***,PD,1,1,"",***,inv,,,"12/20/2025, 03:04:05 PM UTC",lookup,,' for i in range(3)]
    lines[3] = lines[3].replace("inv", "Peña")
    path.write_bytes("\n".join(lines).encode("latin-1"))
    assert detect_format(path) == "flock_audit"
    with pytest.raises(InputError, match=r"latin1\.csv: line 4: not UTF-8 text"):
        read_all(path)


def test_not_utf8_header(tmp_path):
    path = tmp_path / "h.csv"
    path.write_bytes(b"id,userId,searchDate,networkCount,r\xe9ason\n")
    with pytest.raises(InputError, match=r"h\.csv: line 1: not UTF-8 text"):
        detect_format(path)


def test_unclosed_quoted_cell_names_its_line(tmp_path):
    path = write_csv(tmp_path / "a.csv", AUDIT_HEADER, [audit_row(0), audit_row(1)])
    with path.open("a") as fh:
        fh.write('2,***,PD,1,1,"12/13/2025, 03:04:05 PM UTC\n')  # line 6: the Time Frame cell never closes
    with pytest.raises(InputError, match=r"a\.csv: line 6: malformed CSV: broken quoted cell"):
        read_all(path)


def test_row_with_too_many_cells_names_its_line(tmp_path):
    path = tmp_path / "p.csv"
    path.write_text("id,userId,searchDate,networkCount,reason\na,u,2025-06-18 00:02:04,1,x\nb,u,2025-06-18 00:02:05,1,x,extra\n")
    with pytest.raises(InputError, match=r"p\.csv: line 3: malformed CSV: expected 5 cells, found 6"):
        read_all(path, agency="PD")


def test_header_naming_one_field_twice(tmp_path):
    path = tmp_path / "p.csv"
    path.write_text("id,userId,searchDate,networkCount,reason,Reason\na,u,2025-06-18 00:02:04,1,x,y\n")
    with pytest.raises(InputError, match="columns 'reason' and 'Reason' both hold reason"):
        read_all(path, agency="PD")


def test_header_only_gives_no_rows(tmp_path):
    path = tmp_path / "p.csv"
    path.write_text("id,userId,searchDate,networkCount,reason\n")
    assert list(read_export(path, RejectCounter(), agency="PD")) == []
