"""The dry run's key set: keys past its bound move to a temporary SQLite file, are still found
there, and the file is deleted on close."""

from __future__ import annotations

import pytest

from bulkadmin.operations.imports import key_set
from bulkadmin.operations.imports.key_set import SpillingKeySet

KEYS = [bytes([number]) * 16 for number in range(12)]


@pytest.fixture
def spill_dir(tmp_path, monkeypatch):
    """The temporary folder, for this test alone."""
    monkeypatch.setattr("tempfile.tempdir", str(tmp_path))
    return tmp_path


def test_keys_past_the_bound_move_to_a_file_and_are_found_there(spill_dir):
    keys = SpillingKeySet(memory_keys=4)
    keys.add(KEYS[:3])
    assert (keys.path, keys.on_disk, len(keys.recent)) == (None, 0, 3)
    keys.add(KEYS[3:6])
    assert (keys.on_disk, len(keys.recent)) == (6, 0)
    assert keys.path is not None and keys.path in list(spill_dir.iterdir())
    assert all(path.name.startswith(keys.path.name) for path in spill_dir.iterdir())  # with its log
    keys.add(KEYS[6:9])
    assert (keys.on_disk, len(keys.recent)) == (6, 3)
    assert keys.found(KEYS) == set(KEYS[:9])
    assert keys.found(KEYS[9:]) == set()
    keys.close()
    assert list(spill_dir.iterdir()) == []
    assert keys.found(KEYS) == set()


def test_keys_sharing_a_bit_of_the_on_disk_bitmap_are_told_apart_by_the_file(spill_dir, monkeypatch):
    monkeypatch.setattr(key_set, "MARK_BITS", 8)  # every key shares a bit with some other
    keys = SpillingKeySet(memory_keys=2)
    keys.add(KEYS[:6])
    keys.add(KEYS[6:7])
    assert keys.on_disk == 6
    assert keys.found(KEYS) == set(KEYS[:7])
    keys.close()
    assert list(spill_dir.iterdir()) == []


def test_closing_a_set_that_never_spilled_leaves_no_file(spill_dir):
    keys = SpillingKeySet(memory_keys=100)
    keys.add(KEYS)
    assert keys.found(KEYS[::2]) == set(KEYS[::2])
    keys.close()
    assert (keys.path, list(spill_dir.iterdir())) == (None, [])


def test_keys_on_their_way_to_the_file_are_found_batch_after_batch(spill_dir):
    keys = SpillingKeySet(memory_keys=2)
    for start in range(0, 12, 3):
        keys.add(KEYS[start : start + 3])  # each add moves the keys held to the file
        assert keys.found(KEYS) == set(KEYS[: start + 3])
    assert keys.on_disk == 12
    keys.close()
    assert list(spill_dir.iterdir()) == []
