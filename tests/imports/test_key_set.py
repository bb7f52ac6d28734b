"""The dry run's key set: keys kept in a private temporary SQLite database, one table per kind of
key; a batch's new keys are told from those held before; text and bytes are never equal; past the
page cache the keys go to a file no folder shows, closed (and so deleted) with the set."""

from __future__ import annotations

from bulkadmin.core import scratch
from bulkadmin.operations.imports.key_set import FileKeySet
from tests.imports.conftest import key_files

KEYS = [bytes([number]) * 16 for number in range(12)]


def test_new_keys_are_told_from_those_held_before():
    keys = FileKeySet()
    assert keys.add_new(0, KEYS[:6]) == set(KEYS[:6])
    assert keys.opened
    assert keys.add_new(0, KEYS[4:9]) == set(KEYS[6:9])
    assert keys.add_new(0, KEYS) == set(KEYS[9:])
    assert keys.add_new(0, KEYS) == set()
    keys.close()
    assert not keys.opened


def test_keys_past_the_page_cache_go_to_a_file_closed_with_the_set(monkeypatch):
    monkeypatch.setattr(scratch, "CACHE_KIB", 64)  # 64 KiB
    before = key_files()
    keys = FileKeySet()
    batch = [f"user{number}@example.com" for number in range(20_000)]
    assert keys.add_new(0, batch) == set(batch)
    assert keys.add_new(0, [*batch[::1000], "new@example.com"]) == {"new@example.com"}
    assert len(key_files()) == len(before) + 1 and max(key_files()) > 64 * 1024
    keys.close()
    assert key_files() == before


def test_each_kind_of_key_is_held_apart():
    keys = FileKeySet()
    assert keys.add_new(0, ["a@example.com", "b@example.com"]) == {"a@example.com", "b@example.com"}
    assert keys.add_new(1, ["a@example.com"]) == {"a@example.com"}
    assert keys.add_new(0, ["a@example.com", "c@example.com"]) == {"c@example.com"}
    keys.close()


def test_text_and_bytes_of_the_same_characters_are_different_keys():
    keys = FileKeySet()
    assert keys.add_new(0, ["abc"]) == {"abc"}
    assert keys.add_new(0, [b"abc"]) == {b"abc"}
    assert keys.add_new(0, ["abc", b"abc", "ABC"]) == {"ABC"}
    keys.close()


def test_discarded_keys_are_new_again():
    keys = FileKeySet()
    keys.add_new(0, KEYS[:4])
    keys.discard(0, KEYS[1:3])
    keys.discard(5, KEYS)  # a kind never added: nothing to do
    assert keys.add_new(0, KEYS[:4]) == set(KEYS[1:3])
    keys.close()


def test_a_batch_larger_than_one_statement_is_counted_whole(monkeypatch):
    monkeypatch.setattr("bulkadmin.operations.imports.key_set._CHUNK", 5)
    keys = FileKeySet()
    assert keys.add_new(0, KEYS) == set(KEYS)
    assert keys.add_new(0, [*KEYS[::3], b"x" * 16]) == {b"x" * 16}
    keys.close()


def test_closing_a_set_never_used_opens_nothing():
    keys = FileKeySet()
    keys.close()
    assert not keys.opened
