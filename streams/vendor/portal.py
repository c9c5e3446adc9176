"""Flock transparency-portal search audit CSV (one agency's own searches, 30 days).

Headers seen: ``id,userId,searchDate,cameraCount|networkCount,reason|offenseType`` in
several combinations, ``id,searchDate,networkCount,reason,offenseType`` without user
ids, and San Mateo PD's release printed from the same screen,
``ID,userId,networkCount,Search Time,Reason,parse_note``. Names are matched without
regard to case or spacing. The file never names its agency: the portal's owner
must be given.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from detector.texthash import text_hash
from detector.validate import InputError, RejectSink
from streams.vendor.agencies import agency_name, agency_state
from streams.vendor.batch import BadCells, column_roles, drop_bad_rows, to_frame, utc
from streams.vendor.dropdown import categories
from streams.vendor.flocktime import EXAMPLE, parse_times
from streams.vendor.ids import SearchIds, combine
from streams.vendor.text import Column, contiguous, to_counts, unmasked

# normalised header name -> what it holds
COLUMNS = {
    "id": "search_id",
    "userid": "user_id",
    "searchdate": "ts_iso",
    "search time": "ts_flock",
    "networkcount": "networks_searched",
    "cameracount": "devices_searched",
    "reason": "reason",
    "offensetype": "offense_type",
}
SIGNATURE = frozenset({"userid", "searchdate", "networkcount", "cameracount", "offensetype"})
TIMES = frozenset({"searchdate", "search time"})


def matches(names: set[str]) -> bool:
    """Whether a header (normalised names) is a portal export."""
    return bool(names & SIGNATURE) and bool(names & TIMES)


class PortalAdapter:
    """Maps portal rows to canonical columns, keeping the id memory of one file."""

    def __init__(self, columns: list[str], source: str, agency: str | None, ids: SearchIds | None = None) -> None:
        if not agency:
            raise InputError(
                f"{source}: a Flock transparency portal export does not name its agency; "
                "give the portal's owner (agency=..., --agency on the command line)"
            )
        self.agency = agency
        self.role = column_roles(columns, COLUMNS, source)
        if not {"ts_iso", "ts_flock"} & self.role.keys():
            raise InputError(f"{source}: line 1: no searchDate or Search Time column; the header has {', '.join(columns)}")
        self.ids = ids or SearchIds()

    def convert(self, table: pa.Table, lines: np.ndarray, source: str, rejects: RejectSink) -> tuple[pd.DataFrame, np.ndarray]:
        """The raw canonical frame for ``canonicalize`` and the line numbers of its rows."""
        if "ts_flock" in self.role:
            ts, bad = parse_times(contiguous(table.column(self.role["ts_flock"])))
            bad_times = BadCells(bad, "ts", self.role["ts_flock"], f"a Flock time like {EXAMPLE!r}")
            keep = drop_bad_rows(table, lines, [bad_times], source, rejects)
            table, lines, when = table.filter(pa.array(keep)), lines[keep], utc(ts[keep])
        else:
            when = contiguous(table.column(self.role["ts_iso"]))  # ISO, zone-less = UTC: canonicalize's own format
        columns = {name: Column(table.column(name)) for name in self.role.values()}
        empty = Column.empty(table.num_rows)

        def get(role: str) -> Column:
            return columns[self.role[role]] if role in self.role else empty

        offense = get("offense_type").text()
        offense = pc.if_else(pc.equal(offense, ""), get("reason").apply(categories), offense)
        fingerprint = combine([text_hash(contiguous(column)) for column in table.columns])
        ids = self.ids.assign(get("search_id").text() if "search_id" in self.role else None, fingerprint)
        raw = to_frame({
            "search_id": ids,
            "ts": when,
            "user_id": get("user_id").apply(unmasked),
            "agency": pa.repeat(agency_name(self.agency), table.num_rows),
            "agency_state": pa.repeat(agency_state(self.agency), table.num_rows),
            "networks_searched": get("networks_searched").apply(to_counts),
            "devices_searched": get("devices_searched").apply(to_counts),
            "reason": get("reason").text(),
            "offense_type": offense,
        })
        return raw, lines
