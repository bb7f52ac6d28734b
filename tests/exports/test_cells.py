"""The formula guard: exports write it, the importer removes exactly it."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bulkadmin.operations.cells import guard_formula, text_cell, unguard


@pytest.mark.parametrize(
    ("text", "cell"),
    [
        ("=1+1", "'=1+1"),
        ("+x", "'+x"),
        ("-y", "'-y"),
        ("@z", "'@z"),
        ("\tt", "'\tt"),
        ("\rr", "'\rr"),
        ("'=x", "''=x"),
        ("", "'"),
        ("   ", "'   "),
        ("'", "''"),
        ("O'Brien", "O'Brien"),
        ("'quoted'", "'quoted'"),
        (" x", " x"),
        ("plain", "plain"),
    ],
)
def test_text_cells_are_guarded_and_read_back(text, cell):
    assert text_cell(text) == cell
    assert unguard(cell) == text


def test_the_importer_removes_only_the_guard():
    assert [unguard(c) for c in ("'abc", "O'Brien", "''", "'=", "x'=")] == ["'abc", "O'Brien", "'", "=", "x'="]


@given(st.text())
def test_every_text_reads_back_exactly(text):
    assert unguard(text_cell(text)) == text
    assert unguard(guard_formula(text)) == text or guard_formula(text) == text
