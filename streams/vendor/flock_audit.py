"""Flock Organization Audit / Network Audit exports (CSV or XLSX).

Columns (10 to 14 of them, names with stray spaces): ``ID, Name, Org Name, Total
Networks Searched, Total Devices Searched, Time Frame, License Plate, Reason, Case #,
Filters, Search Time, Search Type, Text Prompt, Moderation``. Releases drop columns
(Moderation, Text Prompt, Total Devices Searched, even ID), mask other agencies'
names, plates and case numbers with ``***`` since December 2025, and agencies add
their own markers (``REDACTED``, exemption citations). An own-search log without
``Org Name`` belongs to the agency that produced it, which the caller must name.
"""

from __future__ import annotations

import re
from functools import lru_cache

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from detector.redaction import is_redacted
from detector.texthash import text_hash
from detector.validate import InputError, RejectSink
from streams.vendor.agencies import agency_name, agency_state
from streams.vendor.batch import BadCells, column_roles, drop_bad_rows, to_frame, utc
from streams.vendor.dropdown import categories
from streams.vendor.flocktime import EXAMPLE, parse_frames, parse_times
from streams.vendor.ids import SearchIds, combine
from streams.vendor.text import Column, byte_lengths, contiguous, to_counts, unmasked

# normalised header name -> what it holds
COLUMNS = {
    "id": "search_id",
    "name": "user",
    "org name": "org",
    "total networks searched": "networks",
    "total devices searched": "devices",
    "time frame": "frame",
    "license plate": "plate",
    "reason": "reason",
    "offense type": "offense",
    "case #": "case",
    "filters": "filters",
    "search time": "ts",
    "search type": "type",
}
SIGNATURE = frozenset({
    "org name", "total networks searched", "total devices searched", "time frame", "license plate", "search type", "case #",
})

# Search Type label (without " - Mobile") -> canonical search_type; "search" depends on the plate.
SEARCH_TYPES = {
    "lookup": "plate",
    "apilookup": "plate",
    "search": "search",
    "convoy": "convoy",
    "visual": "attributes",
    "freeform": "attributes",
    "multigeo": "area",
}
_MOBILE = re.compile(r"\s*-\s*mobile$", re.IGNORECASE)
def matches(names: set[str]) -> bool:
    """Whether a header (normalised names) is an Organization or Network Audit export."""
    return "search time" in names and bool(names & SIGNATURE)


@lru_cache(maxsize=1 << 16)  # labels recur in every chunk
def search_type_label(label: str) -> str:
    """Flock's Search Type as a canonical type ("search" still to be split by plate); unknown -> other."""
    base = _MOBILE.sub("", label).lower()
    return SEARCH_TYPES.get(base, "other") if base else ""


class FlockAuditAdapter:
    """Maps audit rows to canonical columns, keeping the id memory of one export."""

    def __init__(self, columns: list[str], source: str, agency: str | None, ids: SearchIds | None = None) -> None:
        self.role = column_roles(columns, COLUMNS, source)
        if "ts" not in self.role:
            raise InputError(f"{source}: line 1: no Search Time column; the header has {', '.join(columns)}")
        if "org" not in self.role and not agency:
            raise InputError(
                f"{source}: this audit export has no Org Name column, so it is one agency's own-search log; "
                "give that agency (agency=..., --agency on the command line)"
            )
        self.agency = agency or ""
        self.ids = ids or SearchIds()

    def convert(self, table: pa.Table, lines: np.ndarray, source: str, rejects: RejectSink) -> tuple[pd.DataFrame, np.ndarray]:
        """The raw canonical frame for ``canonicalize`` and the line numbers of its rows."""
        ts, ts_bad = parse_times(contiguous(table.column(self.role["ts"])))
        bad = [BadCells(ts_bad, "ts", self.role["ts"], f"a Flock time like {EXAMPLE!r}")]
        if "frame" in self.role:
            start, end, frame_bad = parse_frames(contiguous(table.column(self.role["frame"])))
            bad.append(BadCells(frame_bad, "window_start", self.role["frame"], "two Flock times (start and end, one per line)"))
        else:
            start = end = np.full(table.num_rows, np.datetime64("NaT"), dtype="datetime64[ns]")
        keep = drop_bad_rows(table, lines, bad, source, rejects)
        if not keep.all():
            table, lines, ts, start, end = table.filter(pa.array(keep)), lines[keep], ts[keep], start[keep], end[keep]

        ids_column = self.role.get("search_id")
        mapped = set(self.role.values()) - {self.role["ts"], self.role.get("frame"), ids_column}
        columns = {name: Column(table.column(name)) for name in mapped}
        empty = Column.empty(table.num_rows)

        def get(role: str) -> Column:
            return columns[self.role[role]] if role in self.role else empty

        agency, state = get("org").map(agency_name), get("org").map(agency_state)
        if self.agency:  # rows that do not name their organisation belong to the export's owner
            blank = pc.equal(agency, "")
            agency = pc.if_else(blank, agency_name(self.agency), agency)
            state = pc.if_else(blank, agency_state(self.agency), state)
        plate_redacted = get("plate").apply(is_redacted)
        plate = get("plate").text()  # a marker left as it is: canonicalize makes it the canonical withheld plate
        offense = get("offense").text()
        # Every cell but the id goes into the content hash; unmapped columns (Text Prompt,
        # Moderation) are mostly empty, so hashing them raw costs next to nothing.
        hashes = [columns[name].apply(text_hash) if name in columns else text_hash(contiguous(table.column(i)))
                  for i, name in enumerate(table.column_names) if name not in (self.role["ts"], self.role.get("frame"), ids_column)]
        fingerprint = combine([ts.view(np.int64), start.view(np.int64), end.view(np.int64), *hashes])
        ids = Column(table.column(ids_column)).text() if ids_column else None
        raw = to_frame({
            "search_id": self.ids.assign(ids, fingerprint),
            "ts": utc(ts),
            "user_id": get("user").apply(unmasked),
            "agency": agency,
            "agency_state": state,
            "search_type": self._search_type(get("type").map(search_type_label), plate, plate_redacted, get("filters")),
            "plate": plate,
            "window_start": utc(start),
            "window_end": utc(end),
            "reason": get("reason").text(),
            "offense_type": pc.if_else(pc.equal(offense, ""), get("reason").apply(categories), offense),
            "case_number": get("case").apply(unmasked),
            "networks_searched": get("networks").apply(to_counts),
            "devices_searched": get("devices").apply(to_counts),
        })
        return raw, lines

    def _search_type(self, kinds: pa.Array, plate: pa.Array, plate_redacted: np.ndarray, filters: Column) -> pa.Array:
        """Canonical type; Flock's ``search`` is a plate, partial-plate or attribute search by what was typed.

        A plate with ``*`` or ``?`` or under five characters is partial; no plate but
        filters is an attribute search; a masked plate is taken as a plate search, as
        is every ``search`` of an export without a License Plate column.
        """
        is_search = pc.equal(kinds, "search")
        if not pc.any(is_search).as_py():
            return kinds
        if "plate" not in self.role:
            return pc.if_else(is_search, pa.scalar("plate"), kinds)
        lengths = byte_lengths(plate)
        wildcard = pc.match_substring_regex(plate, r"[*?]").to_numpy(zero_copy_only=False)
        has_filters = filters.apply(lambda v: (byte_lengths(v) > 0) & ~is_redacted(v))
        choice = np.select(
            [(lengths > 0) & ~plate_redacted & (wildcard | (lengths < 5)), (lengths > 0) | plate_redacted, has_filters],
            [0, 1, 2],
            3,
        )
        split = pa.array(["partial_plate", "plate", "attributes", "other"]).take(pa.array(choice))
        return pc.if_else(is_search, split, kinds)
