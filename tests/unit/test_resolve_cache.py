"""A field path is resolved once per model and path (a partial row's fields, row after row), and a
bad path is refused every time it is asked."""

from __future__ import annotations

import pytest

from bulkadmin.core.exceptions import InvalidSpec
from bulkadmin.core.field_paths import resolve
from project.collections import User


def test_a_path_is_resolved_once_and_its_target_given_again():
    first = resolve(User, "name")
    assert resolve(User, "name") is first
    assert first.stored == "name"
    assert resolve(User, "name", update=True) == first


@pytest.mark.parametrize("path", ["nope", "name..x", "", 5, ["name"]])
def test_a_bad_path_is_refused_each_time(path):
    for _ in range(2):
        with pytest.raises(InvalidSpec):
            resolve(User, path)
