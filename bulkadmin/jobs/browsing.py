"""The collection browser's reads as this process runs them: with the settings from `conf`, the
collection's estimated size from `counts`, and the one set of threads of this process that takes
page marks (see `operations.browse`)."""

from __future__ import annotations

import functools

from pymongo.collection import Collection

from bulkadmin.core import conf
from bulkadmin.jobs import counts
from bulkadmin.operations.browse import MarkTakers, Reading

MARK_TAKERS = MarkTakers(workers=2)


def read_timeout() -> float:
    """Seconds a read a user composed may take (`BULKADMIN_USER_READ_MAX_TIME_MS`)."""
    return conf.user_read_max_time_ms() / 1000


def reading(collection: Collection) -> Reading:
    """How pages of `collection` are read now: the settings, its estimate, this process's mark takers."""
    return Reading(
        seconds=read_timeout(),
        paging=conf.browse_paging(),
        mark_pages=conf.browse_mark_pages(),
        estimate=functools.partial(_estimate, collection),
        takers=MARK_TAKERS,
    )


def _estimate(collection: Collection) -> int | None:
    return counts.estimated(collection.name, db=collection.database).value
