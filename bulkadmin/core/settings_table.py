"""A declarative table of settings: each `Setting` has its name, how its environment variable is
read, its default, the rule its value must follow (with a system check id) and a one-line doc.
From the table come the values (default when unset, refused when they break their rule), the
reading of the environment, the system checks and the Markdown table of the docs."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Error
from django.core.exceptions import ImproperlyConfigured

TRUE_WORDS = ("true", "yes", "on", "1")
FALSE_WORDS = ("false", "no", "off", "0")
HEADER = "| setting | from the environment | default | meaning | check |\n| --- | --- | --- | --- | --- |"
BEGIN = "<!-- settings table: printed by `python manage.py settings_table` -->\n"
END = "<!-- end of settings table -->\n"


@dataclass(frozen=True)
class Kind:
    """What an environment variable holds (`name`, for messages) and how its text is read."""

    name: str
    parse: Callable[[str], Any]


def _boolean(text: str) -> bool:
    word = text.strip().lower()
    if word not in TRUE_WORDS + FALSE_WORDS:
        raise ValueError(text)
    return word in TRUE_WORDS


INTEGER = Kind("a whole number", int)
NUMBER = Kind("a number", float)
BOOLEAN = Kind("true or false (or yes/no, on/off, 1/0)", _boolean)
TEXT = Kind("text", str)
FOLDER = Kind("a folder's path", str)
PYTHON = Kind("a Python structure", str)  # for settings not read from the environment


@dataclass(frozen=True)
class Rule:
    """What a value must be: `text` says it (in messages and the docs), `test` tells. Messages
    quote the bad value unless `quotes_value` is false (a value that may hold a password)."""

    text: str
    test: Callable[[Any], bool]
    quotes_value: bool = True

    def problem(self, name: str, value: Any) -> str | None:
        """Why `value` cannot be setting `name`'s, or None when it can."""
        if self.test(value):
            return None
        return f"{name} must be {self.text}, not {value!r}." if self.quotes_value else f"{name} must be {self.text}."


def _whole(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def one_of(*choices: str) -> Rule:
    """A rule allowing exactly `choices` (its message names them)."""
    return Rule(f"one of {', '.join(choices)}", lambda value: isinstance(value, str) and value in choices)


POSITIVE_INTEGER = Rule("a positive whole number", lambda value: _whole(value) and value > 0)
NON_NEGATIVE_INTEGER = Rule("a whole number, 0 or more", lambda value: _whole(value) and value >= 0)
POSITIVE_NUMBER = Rule("a positive number", lambda value: _number(value) and value > 0)
TRUE_OR_FALSE = Rule("true or false", lambda value: isinstance(value, bool))


@dataclass(frozen=True)
class Setting:
    """One setting: the Django setting `name`, read from the environment variable of the same
    name (unless `environment` is false) as a `kind`; `default` when unset; `rule` checked with
    `check_id`; `doc` for the docs, which show `shown_default` when the default is computed."""

    name: str
    kind: Kind
    default: Any
    rule: Rule
    check_id: str
    doc: str
    shown_default: str = ""
    environment: bool = True

    @property
    def env(self) -> str | None:
        """The environment variable read into this setting, or None."""
        return self.name if self.environment else None

    def value(self) -> Any:
        """The Django setting's value (the default when unset); refused when it breaks the rule."""
        value = getattr(settings, self.name, self.default)
        problem = self.rule.problem(self.name, value)
        if problem is not None:
            raise ImproperlyConfigured(f"{problem.removesuffix('.')} ({self.check_id}).")
        return value

    def check(self) -> list[CheckMessage]:
        """The system check: an `Error` with the setting's id when its value breaks the rule."""
        problem = self.rule.problem(self.name, getattr(settings, self.name, self.default))
        return [] if problem is None else [Error(problem, id=self.check_id)]

    def parse(self, text: str) -> Any:
        """The value of environment text; `ImproperlyConfigured` when it is not of the kind."""
        try:
            return self.kind.parse(text)
        except ValueError:
            raise ImproperlyConfigured(
                f"The environment variable {self.env} must be {self.kind.name}, not {text!r} ({self.check_id})."
            ) from None

    def markdown_row(self) -> str:
        """This setting's row of the docs' table."""
        from_env = "yes" if self.env else f"no: {self.kind.name} in Django's settings"
        default = self.shown_default or f"`{_shown(self.default)}`"
        cells = (f"`{self.name}`", from_env, default, self.doc, f"`{self.check_id}`: {self.rule.text}")
        return f"| {' | '.join(cells)} |"


def _shown(value: Any) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


class SettingsTable:
    """Settings by name, in the order the docs list them; names and check ids are unique."""

    def __init__(self, *entries: Setting) -> None:
        self._entries = {entry.name: entry for entry in entries}
        ids = {entry.check_id for entry in entries}
        if len(self._entries) != len(entries) or len(ids) != len(entries):
            raise ValueError("Every setting needs a name and a check id of its own.")

    def __iter__(self) -> Iterator[Setting]:
        return iter(self._entries.values())

    def __getitem__(self, name: str) -> Setting:
        return self._entries[name]

    def value(self, name: str) -> Any:
        """Setting `name`'s value, its default when unset (see `Setting.value`)."""
        return self._entries[name].value()

    def check(self) -> list[CheckMessage]:
        """Every setting's system check, in table order."""
        return [problem for entry in self for problem in entry.check()]

    def read_environment(self, environ: Mapping[str, str]) -> dict[str, Any]:
        """The settings whose environment variables are set and not empty, read as their kinds;
        `ImproperlyConfigured` naming every variable that cannot be read."""
        values: dict[str, Any] = {}
        problems: list[str] = []
        for entry in self:
            text = environ.get(entry.env, "") if entry.env else ""
            if not text:
                continue
            try:
                values[entry.name] = entry.parse(text)
            except ImproperlyConfigured as error:
                problems.append(str(error))
        if problems:
            raise ImproperlyConfigured(" ".join(problems))
        return values

    def markdown(self) -> str:
        """The docs' table of these settings (Markdown)."""
        return "\n".join([HEADER, *(entry.markdown_row() for entry in self)]) + "\n"


def documented_table(text: str) -> str:
    """The settings table in docs `text`: what lies between the `BEGIN` and `END` markers."""
    start, end = text.find(BEGIN), text.find(END)
    if start < 0 or end < start:
        raise ValueError("The text has no settings table between its markers.")
    return text[start + len(BEGIN) : end]


def replace_documented_table(text: str, table: str) -> str:
    """Docs `text` with `table` in place of the one between the markers."""
    old = documented_table(text)
    start = text.find(BEGIN) + len(BEGIN)
    return text[:start] + table + text[start + len(old) :]
