"""The spreadsheet cell guard shared by exports, error files and imports (OWASP CSV injection).

A text cell that a spreadsheet would run as a formula (it starts with `=`, `+`, `-`, `@`, tab or
carriage return) is written with a leading `'`. So that the guard can be removed exactly on the
way back in, text that already starts with quotes before such a character is guarded too
(`'=x` is written `''=x`). Exports also write the empty string, and text of spaces only, guarded
(`'`): an empty cell stays free to mean "no value" (null, or the field's default).

The importer removes one `'` from a cell made of quotes followed by a formula character, or by
nothing but spaces, and from no other cell: `O'Brien` and `'quoted'` are read as they are.
"""

from __future__ import annotations

import re

GUARD = "'"
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_FORMULA = re.compile(r"'*[=+\-@\t\r]")
_BLANK = re.compile(r"'*\s*\Z")
_GUARDED = re.compile(r"'+(?:[=+\-@\t\r]|\s*\Z)")
_LOOK_CLOSER = frozenset("=+-@\t\r'")


def guard_formula(text: str) -> str:
    """`text` safe to open in a spreadsheet: a formula-like start is prefixed with `'`."""
    return GUARD + text if _FORMULA.match(text) else text


def text_cell(text: str) -> str:
    """`text` as an exported cell: guarded against formulas, and "" (or spaces only) guarded so
    that it is not read back as an empty cell."""
    first = text[:1]
    if first and first not in _LOOK_CLOSER and not first.isspace():
        return text
    return GUARD + text if _FORMULA.match(text) or _BLANK.match(text) else text


def unguard(text: str) -> str:
    """A cell as written before `text_cell` / `guard_formula` guarded it (only that guard is removed)."""
    return text[1:] if _GUARDED.match(text) else text
