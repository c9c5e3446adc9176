"""Which reader a searches file needs, decided from its header row.

Records releases rarely say what they are: a file named ``audit.csv`` may be a
portal download, a Network Audit export or someone's canonical conversion. The
header settles it; anything else is refused with the header quoted, so the user
sees why.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

from detector.validate import InputError
from streams.vendor import flock_audit, portal, xlsxio
from streams.vendor.batch import normalize
from streams.vendor.csvio import first_bad_utf8_line

FORMATS = ("canonical", "flock_portal", "flock_audit")
CANONICAL_SUFFIXES = (".jsonl", ".json", ".ndjson", ".parquet")
EXPECTED = (
    "a canonical searches file (search_id,ts,user_id,agency,...), "
    "a Flock transparency portal CSV (id,userId,searchDate,networkCount,reason) "
    "or a Flock Organization/Network Audit export (ID,Name,Org Name,...,Search Time,Search Type)"
)


@dataclass(frozen=True)
class CsvHeader:
    names: list[str]  # stripped of surrounding spaces, in file order
    lines: int  # physical lines the header row takes


def classify(names: list[str]) -> str | None:
    """The format a header belongs to, or None."""
    keys = {normalize(n) for n in names}
    if keys & {"search_id", "ts"}:
        return "canonical"  # even when incomplete: the canonical reader names what is missing
    if portal.matches(keys):
        return "flock_portal"
    if flock_audit.matches(keys):
        return "flock_audit"
    return None


def csv_header(path: Path) -> CsvHeader:
    """The first record of a CSV file; InputError when there is none or it is not text."""
    try:
        with path.open("rb") as fh:
            # Decode line by line: a text stream decodes whole blocks, and a bad byte
            # further down must be reported at its own line, not the header's.
            text = (line.decode("utf-8-sig" if number == 1 else "utf-8") for number, line in enumerate(fh, start=1))
            reader = csv.reader(text)
            names = next(reader, None)
            lines = reader.line_num
    except UnicodeDecodeError as exc:
        raise InputError(f"{path}: line {first_bad_utf8_line(path) or 1}: not UTF-8 text") from exc
    except csv.Error as exc:
        raise InputError(f"{path}: line 1: malformed CSV header ({exc})") from exc
    if not names or not any(n.strip() for n in names):
        raise InputError(f"{path}: the file is empty (expected a header line: {EXPECTED})")
    return CsvHeader([n.strip() for n in names], lines)


def unknown_header(path: Path | str, names: list[str]) -> InputError:
    return InputError(f"{path}: line 1: unrecognised header {','.join(names)!r}; expected {EXPECTED}")


def detect_format(path: str | Path) -> str:
    """"canonical", "flock_portal" or "flock_audit" for a searches file, from its header.

    JSON Lines, Parquet and dataset directories are canonical; a workbook is judged
    by its first sheet with a recognised header.
    """
    p = Path(path)
    if p.is_dir() or p.suffix.lower() in CANONICAL_SUFFIXES:
        return "canonical"
    if not p.exists():
        raise InputError(f"{p}: no such file or directory")
    if p.stat().st_size and xlsxio.is_workbook(p):
        first: list[str] | None = None
        for sheet in xlsxio.sheets(p):
            first = first if first is not None else sheet.header
            fmt = classify(sheet.header)
            if fmt in ("flock_portal", "flock_audit"):
                return fmt
        if first is None:
            raise InputError(f"{p}: the workbook has no rows (expected a header row: {EXPECTED})")
        raise unknown_header(p, first)
    header = csv_header(p)
    fmt = classify(header.names)
    if fmt is None:
        raise unknown_header(p, header.names)
    return fmt
