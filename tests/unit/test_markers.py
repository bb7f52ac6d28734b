"""The pytest markers that select kinds of tests are registered and each selects tests."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
MARKERS = ("slow", "browser", "subprocess", "fuzz")


def test_the_markers_are_registered(pytestconfig):
    registered = {line.split(":")[0] for line in pytestconfig.getini("markers")}
    assert set(MARKERS) <= registered


@pytest.mark.subprocess
def test_each_marker_selects_tests():
    collect = [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider", "-m"]
    runs = {
        marker: subprocess.Popen([*collect, marker], cwd=ROOT, stdout=subprocess.PIPE, text=True) for marker in MARKERS
    }
    for marker, run in runs.items():
        output, _ = run.communicate(timeout=120)
        selected = [line for line in output.splitlines() if "::" in line]
        assert selected, f"-m {marker} selects no test"
