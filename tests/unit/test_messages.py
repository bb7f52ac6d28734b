"""Validation messages a user can act on: a failed pattern is named by what it expects."""

from __future__ import annotations

from typing import Annotated

import pytest
from pydantic import StringConstraints, TypeAdapter, ValidationError

from bulkadmin.core.messages import name_pattern, readable

CODE = name_pattern(r"^[A-Z]{3}-\d{2}$", "a code such as ABC-12")


def failure(annotation: object, value: object) -> dict:
    with pytest.raises(ValidationError) as raised:
        TypeAdapter(annotation).validate_python(value)
    return raised.value.errors()[0]


def test_a_named_pattern_says_its_meaning_and_an_unnamed_one_no_regex():
    named = readable(failure(Annotated[str, StringConstraints(pattern=CODE)], "abc"))
    assert named == "should be a code such as ABC-12"
    unnamed = readable(failure(Annotated[str, StringConstraints(pattern=r"^x+$")], "y"))
    assert unnamed == "does not have the form this field expects"


def test_other_messages_are_pydantics():
    assert readable(failure(int, "old")) == "Input should be a valid integer, unable to parse string as an integer"
