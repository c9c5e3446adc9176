"""Shared helpers: the real samples, and small hand-made Flock exports (CSV and XLSX)."""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

import openpyxl
import pandas as pd

from detector.validate import RejectCounter
from streams.vendor import read_export

# CI clones the repository with shared/ beside it.
SAMPLES = Path(__file__).parents[3] / ".." / "shared" / "samples"

AUDIT_HEADER = [
    "ID", "Name", "Org Name", "Total Networks Searched", "Total Devices Searched", "Time Frame", "License Plate",
    "Reason", "Case #", "Filters", "Search Time", "Search Type", "Text Prompt", "Moderation",
]


def flock_time(when: dt.datetime) -> str:
    return when.strftime("%m/%d/%Y, %I:%M:%S %p UTC")


def audit_row(n: int = 0, **cells: str) -> dict[str, str]:
    """One Network Audit row as Flock prints it; ``n`` varies id and time, ``cells`` override."""
    when = dt.datetime(2025, 12, 20, 15, 4, 5) + dt.timedelta(minutes=n)
    row = {
        "ID": f"00000000-0000-4000-8000-{n:012d}",
        "Name": "***",
        "Org Name": "Houston TX PD",
        "Total Networks Searched": "631",
        "Total Devices Searched": "15737",
        "Time Frame": flock_time(when - dt.timedelta(days=7)) + "\n" + flock_time(when),
        "License Plate": "***",
        "Reason": "investigation",
        "Case #": "***",
        "Filters": "",
        "Search Time": flock_time(when),
        "Search Type": "lookup",
        "Text Prompt": "",
        "Moderation": "",
    }
    row.update(cells)
    return row


def write_csv(path: Path, header: list[str], rows: list[dict[str, str]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(header)
        for row in rows:
            writer.writerow([row.get(h.strip(), "") for h in header])
    return path


def write_xlsx(path: Path, sheets: dict[str, tuple[list[str], list[list[object]]]]) -> Path:
    book = openpyxl.Workbook()
    book.remove(book.active)
    for name, (header, rows) in sheets.items():
        sheet = book.create_sheet(name)
        sheet.append(header)
        for row in rows:
            sheet.append(row)
    book.save(path)
    return path


def read_all(path: Path, **kwargs: object) -> tuple[pd.DataFrame, RejectCounter]:
    rejects = RejectCounter()
    batches = list(read_export(path, rejects, **kwargs))
    return pd.concat(batches, ignore_index=True), rejects
