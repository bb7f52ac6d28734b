"""The dry run's key set: keys kept in a temporary SQLite file, one table per kind of key; a batch's
new keys are told from those held before in one statement; text and bytes are never equal; the
file is deleted on close."""

from __future__ import annotations

import pytest

from bulkadmin.operations.imports.key_set import FileKeySet

KEYS = [bytes([number]) * 16 for number in range(12)]


@pytest.fixture
def spill_dir(tmp_path, monkeypatch):
    """The temporary folder, for this test alone."""
    monkeypatch.setattr("tempfile.tempdir", str(tmp_path))
    return tmp_path


def test_new_keys_are_told_from_those_held_before_and_the_file_goes_on_close(spill_dir):
    keys = FileKeySet()
    assert keys.add_new(0, KEYS[:6]) == set(KEYS[:6])
    assert keys.path is not None and list(spill_dir.iterdir()) == [keys.path]
    assert keys.add_new(0, KEYS[4:9]) == set(KEYS[6:9])
    assert keys.add_new(0, KEYS) == set(KEYS[9:])
    assert keys.add_new(0, KEYS) == set()
    keys.close()
    assert (keys.path, list(spill_dir.iterdir())) == (None, [])


def test_each_kind_of_key_is_held_apart(spill_dir):
    keys = FileKeySet()
    assert keys.add_new(0, ["a@example.com", "b@example.com"]) == {"a@example.com", "b@example.com"}
    assert keys.add_new(1, ["a@example.com"]) == {"a@example.com"}
    assert keys.add_new(0, ["a@example.com", "c@example.com"]) == {"c@example.com"}
    keys.close()


def test_text_and_bytes_of_the_same_characters_are_different_keys(spill_dir):
    keys = FileKeySet()
    assert keys.add_new(0, ["abc"]) == {"abc"}
    assert keys.add_new(0, [b"abc"]) == {b"abc"}
    assert keys.add_new(0, ["abc", b"abc", "ABC"]) == {"ABC"}
    keys.close()


def test_discarded_keys_are_new_again(spill_dir):
    keys = FileKeySet()
    keys.add_new(0, KEYS[:4])
    keys.discard(0, KEYS[1:3])
    keys.discard(5, KEYS)  # a kind never added: nothing to do
    assert keys.add_new(0, KEYS[:4]) == set(KEYS[1:3])
    keys.close()


def test_a_batch_larger_than_one_statement_is_counted_whole(spill_dir, monkeypatch):
    monkeypatch.setattr("bulkadmin.operations.imports.key_set._CHUNK", 5)
    keys = FileKeySet()
    assert keys.add_new(0, KEYS) == set(KEYS)
    assert keys.add_new(0, [*KEYS[::3], b"x" * 16]) == {b"x" * 16}
    keys.close()


def test_closing_a_set_never_used_leaves_no_file(spill_dir):
    keys = FileKeySet()
    keys.close()
    assert (keys.path, list(spill_dir.iterdir())) == (None, [])
