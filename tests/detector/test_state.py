"""Vocabularies and tables: codes stay put as values come, and what is kept after forgetting is found again."""

import numpy as np

from detector.state import Keys, SlotMap, Table, Vocab


def test_a_vocabulary_keeps_its_codes_and_renumbers_only_what_it_keeps():
    vocab = Vocab()
    assert vocab.encode(Keys.of(np.array(["B", "A", "B", "C"], dtype=object))).tolist() == [0, 1, 0, 2]
    assert vocab.encode(Keys.of(np.array(["C", "D"], dtype=object))).tolist() == [2, 3]
    remap = vocab.keep(np.array([False, True, False, True]))
    assert remap.tolist() == [-1, 0, -1, 1] and vocab.values == ["A", "D"]
    assert vocab.find(["D", "B", "A"]).tolist() == [1, -1, 0]
    assert vocab.encode(Keys.of(np.array(["B", "A"], dtype=object))).tolist() == [2, 0]  # a forgotten value comes back new


def test_a_keyed_table_keeps_rows_under_their_keys_or_under_new_ones():
    table = Table({"n": (np.float64, 0.0), "last": (np.int64, -1)}, keyed=True)
    keys = np.array([7, 3, 9], dtype=np.int64)
    table.reserve(len(keys))
    table.slots = SlotMap.from_arrays(keys, np.arange(3))
    table.size = 3
    table.data["n"][:3] = [1.0, 2.0, 3.0]
    table.keep(np.array([True, False, True]))
    assert table.keys().tolist() == [7, 9] and table.data["n"][:2].tolist() == [1.0, 3.0]
    assert table.data["last"][2:].tolist() == [-1] * (len(table.data["last"]) - 2)  # room beyond holds the fill
    table.keep(np.array([True, True]), keys=np.array([70, 90]))
    arrays = table.to_arrays("t")
    assert arrays["t.__keys"].tolist() == [70, 90] and arrays["t.n"].tolist() == [1.0, 3.0]
