"""Entry point of the embedded development server: nx-27017 with one correctness fix.

nx-27017 0.8.1 (neosqlite 1.17) stores a datetime written by `$set`, `$min` or `$max` on an
existing document as a string when it takes its SQL update path. Updates whose values hold a
datetime are sent down its Python update path instead, which keeps them as dates. Nothing
here is used with a real MongoDB server.
"""

from __future__ import annotations

import datetime as dt
import sys
from typing import Any

from neosqlite.collection.query_helper import QueryHelper
from nx_27017.nx_27017 import main


def _holds_datetime(value: Any) -> bool:
    if isinstance(value, dt.datetime | dt.date):
        return True
    if isinstance(value, dict):
        return any(_holds_datetime(item) for item in value.values())
    if isinstance(value, list | tuple):
        return any(_holds_datetime(item) for item in value)
    return False


def _patch_datetime_updates() -> None:
    sql_path_allowed = QueryHelper._can_use_sql_updates

    def can_use_sql_updates(self: QueryHelper, update_spec: dict[str, Any], *args: Any, **kwargs: Any) -> bool:
        if _holds_datetime(update_spec):
            return False
        return bool(sql_path_allowed(self, update_spec, *args, **kwargs))

    QueryHelper._can_use_sql_updates = can_use_sql_updates


if __name__ == "__main__":
    _patch_datetime_updates()
    sys.exit(main())
