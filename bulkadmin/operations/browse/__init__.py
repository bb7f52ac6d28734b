"""Reading a collection page by page for the browser: numbered pages at any depth (`pages`),
page marks that keep deep page numbers cheap (`marks`), and the time limit of every read a user
composed. The caller passes the collection (its database with it) and the settings to read with."""

from bulkadmin.operations.browse.marks import RELOAD_SECONDS, MarkTakers, PositionsPending
from bulkadmin.operations.browse.pages import (
    PER_PAGE,
    Page,
    Part,
    Reading,
    ReadTimeout,
    Sort,
    read_page,
    read_union_page,
    time_limited,
)

__all__ = [
    "PER_PAGE",
    "RELOAD_SECONDS",
    "MarkTakers",
    "Page",
    "Part",
    "PositionsPending",
    "ReadTimeout",
    "Reading",
    "Sort",
    "read_page",
    "read_union_page",
    "time_limited",
]
