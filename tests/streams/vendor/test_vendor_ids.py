"""Search ids: repeats, changed repeats, missing ids, and the memory that spans chunks."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
from vendor_helpers import AUDIT_HEADER, audit_row, read_all, write_csv

from detector.texthash import text_hash
from streams.vendor.ids import SearchIds


def test_repeats_keep_their_id_and_changed_repeats_get_a_suffix(tmp_path):
    rows = [
        audit_row(1), audit_row(2),
        audit_row(1),  # printed twice: the same search
        audit_row(1, Reason="another reason"),  # same id, other content
        audit_row(1, Reason="a third"),
        audit_row(1, Reason="another reason"),  # the second variant again
        audit_row(3, ID=""), audit_row(4, ID="***"),  # no usable id
    ]
    batch, rejects = read_all(write_csv(tmp_path / "a.csv", AUDIT_HEADER, rows), chunk_rows=3)
    uuid = "00000000-0000-4000-8000-000000000001"
    assert batch.search_id[:6].tolist() == [uuid, "00000000-0000-4000-8000-000000000002", uuid, f"{uuid}#2", f"{uuid}#3", f"{uuid}#2"]
    assert batch.search_id[6].startswith("row-") and batch.search_id[7].startswith("row-")
    assert batch.search_id[6] != batch.search_id[7]
    again, _ = read_all(tmp_path / "a.csv")
    assert again.search_id.tolist() == batch.search_id.tolist()


def test_memory_spans_many_chunks_and_grows():
    ids = SearchIds()
    names = np.array([f"id-{i}" for i in range(60_000)], dtype=object)
    for start in range(0, 60_000, 5_000):  # enough ids to grow the filter and merge runs
        chunk = pa.array(names[start:start + 5_000], pa.string())
        out = ids.assign(chunk, text_hash(chunk))
        assert out.to_pylist() == names[start:start + 5_000].tolist()
    repeat = pa.array(["id-7", "id-59999", "new"])
    content = text_hash(repeat)
    assert ids.assign(repeat, content).to_pylist() == ["id-7", "id-59999", "new"]
    assert ids.assign(repeat, content + np.uint64(1)).to_pylist() == ["id-7#2", "id-59999#2", "new#2"]


def test_text_hash_is_stable_and_length_aware():
    values = pa.array(["", "a", "a\x00", "abcdefgh", "abcdefghi", "abcdefgh"])
    h = text_hash(values)
    assert len(set(h[:5].tolist())) == 5 and h[3] == h[5]
    assert h.tolist() == text_hash(pa.array(values.to_pylist()[::-1])).tolist()[::-1]
