"""Written files: layout on disk, byte-identical per seed, and the quirks of real vendor exports."""

from __future__ import annotations

import csv
import filecmp
import re
from pathlib import Path

import pandas as pd
import pytest

from detector.schema import FIELD_NAMES, LABEL_COLUMNS, REFERENCE_FILES
from synthetic import SyntheticData, generate
from synthetic.exports import FLOCK_SEARCH_TYPES, NETWORK_AUDIT_COLUMNS, PORTAL_COLUMNS

FLOCK_TIME = r"\d{2}/\d{2}/\d{4}, (0[1-9]|1[0-2]):[0-5]\d:[0-5]\d [AP]M UTC"
EXPECTED = {"searches.csv", "sites.csv", "vehicles.csv", "relations.csv", "agencies.csv", "users.csv", "labels.csv",
            "flock_network_audit.csv", "flock_portal_san_mateo_ca.csv"}
TINY = dict(days=7, searches=4_000, seed=5)


@pytest.fixture(scope="module")
def tiny_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A dataset small enough to write as a workbook quickly."""
    out = tmp_path_factory.mktemp("tiny")
    generate(**TINY).write(out, xlsx=True)
    return out


@pytest.fixture(scope="module")
def audit(small_dir: Path) -> pd.DataFrame:
    return pd.read_csv(small_dir / "flock_network_audit.csv", dtype=str, keep_default_na=False)


def test_writes_every_file_with_spec_headers(small_dir: Path) -> None:
    assert {p.name for p in small_dir.iterdir()} == EXPECTED
    assert pd.read_csv(small_dir / "searches.csv", nrows=0).columns.tolist() == list(FIELD_NAMES)
    for name, columns in REFERENCE_FILES.items():
        assert pd.read_csv(small_dir / f"{name}.csv", nrows=0).columns.tolist() == list(columns)
    assert pd.read_csv(small_dir / "labels.csv", nrows=0).columns.tolist() == list(LABEL_COLUMNS)


def test_searches_csv_text_form(small: SyntheticData, small_dir: Path) -> None:
    text = pd.read_csv(small_dir / "searches.csv", dtype=str, keep_default_na=False)
    assert len(text) == len(small.searches)
    assert text["ts"].str.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z").all()
    assert text["networks_searched"].str.fullmatch(r"\d+").all()
    assert (text["lat"] == "").sum() == small.searches["lat"].isna().sum()
    back = pd.to_datetime(text["ts"], utc=True).dt.as_unit("ns")
    assert back.equals(small.searches["ts"].rename("ts"))


def test_same_seed_writes_identical_files(tiny_dir: Path, tmp_path: Path) -> None:
    generate(**TINY).write(tmp_path, xlsx=True)
    names = sorted(p.name for p in tiny_dir.iterdir())
    match, mismatch, errors = filecmp.cmpfiles(tiny_dir, tmp_path, names, shallow=False)
    assert not mismatch and not errors and set(match) == EXPECTED | {"flock_network_audit.xlsx"}


@pytest.mark.parametrize("fmt", ["jsonl", "parquet"])
def test_other_formats_round_trip(small: SyntheticData, tmp_path: Path, fmt: str) -> None:
    small.write(tmp_path, format=fmt)
    if fmt == "parquet":
        pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "searches.parquet"), small.searches)
    else:
        back = pd.read_json(tmp_path / "searches.jsonl", lines=True, dtype=False)
        assert back.columns.tolist() == list(FIELD_NAMES)
        assert back["search_id"].tolist() == small.searches["search_id"].tolist()
        assert back["networks_searched"].dtype.kind == "i"


def test_network_audit_keeps_the_real_quirks(small: SyntheticData, audit: pd.DataFrame) -> None:
    assert tuple(audit.columns) == NETWORK_AUDIT_COLUMNS
    assert any(c.startswith(" ") for c in audit.columns)
    frames = audit.loc[audit["Time Frame"] != "", "Time Frame"]
    assert frames.str.fullmatch(FLOCK_TIME + "\n" + FLOCK_TIME).all()
    assert audit[" Search Time"].str.fullmatch(FLOCK_TIME).all()
    assert (audit[" Total Devices Searched"] == "——").any()
    assert audit[" Org Name"].str.startswith("[Federal] ").any()
    assert audit["ID"].duplicated().any()
    allowed = {v for table in FLOCK_SEARCH_TYPES.values() for v in table}
    assert set(audit["Search Type"]) <= allowed


def test_network_audit_redacts_other_agencies_since_december(small: SyntheticData, audit: pd.DataFrame) -> None:
    when = pd.to_datetime(audit[" Search Time"], format="%m/%d/%Y, %I:%M:%S %p UTC", utc=True)
    other = audit[" Org Name"] != small.export_owner
    late = when >= pd.Timestamp("2025-12-01", tz="UTC")
    assert (audit.loc[other & late, " Name"] == "***").all()
    assert (audit.loc[other & late & (audit[" License Plate"] != ""), " License Plate"] == "***").all()
    assert (audit.loc[other & late & (audit["Case #"] != ""), "Case #"] == "***").any()
    assert not (audit.loc[~other | ~late, " Name"] == "***").any()


def test_network_audit_xlsx_matches_csv(tiny_dir: Path) -> None:
    book = pd.read_excel(tiny_dir / "flock_network_audit.xlsx", dtype=str, keep_default_na=False)
    text = pd.read_csv(tiny_dir / "flock_network_audit.csv", dtype=str, keep_default_na=False)
    assert tuple(book.columns) == NETWORK_AUDIT_COLUMNS
    pd.testing.assert_frame_equal(book, text)


def test_portal_export_form(small: SyntheticData, small_dir: Path) -> None:
    path = small_dir / "flock_portal_san_mateo_ca.csv"
    with path.open() as f:
        assert f.readline().strip() == ",".join(f'"{c}"' for c in PORTAL_COLUMNS)
    portal = pd.read_csv(path, dtype=str, keep_default_na=False, quoting=csv.QUOTE_ALL)
    assert len(portal) > 0
    assert portal["searchDate"].str.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z").all()
    assert (portal["userId"] == "***").any()
    owner_ids = set(small.searches.loc[small.searches["agency"] == small.export_owner, "search_id"])
    assert set(portal["id"]) <= owner_ids
    assert all(re.fullmatch(r"\d+", v) for v in portal["networkCount"])
