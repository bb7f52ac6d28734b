"""The preview of a composed bulk update or delete: a few matching documents before and after,
and the number of matches from the background counts (exact; for a large collection it may
still be on its way, and the page shows it arriving). Nothing is written."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pymongo.database import Database

from bulkadmin.core import conf
from bulkadmin.core.documents import MongoModel
from bulkadmin.core.mongo import get_db
from bulkadmin.core.safety import translate_filter, translate_update
from bulkadmin.jobs import counts
from bulkadmin.jobs.browsing import read_timeout
from bulkadmin.operations.browse import ReadTimeout, time_limited
from bulkadmin.operations.simulate import apply_update
from bulkadmin.operations.updates import SAMPLE_SIZE, Sample

COUNT_MAX_AGE = 60.0  # a count older than this is computed again before a confirmation


@dataclass(frozen=True)
class Preview:
    """What a composed operation would do: its count as far as known, samples, the specs as sent."""

    count_state: counts.Count
    samples: tuple[Sample, ...]
    stored: dict[str, Any]
    undo_limit: int
    samples_note: str = ""

    @property
    def count(self) -> int | None:
        return self.count_state.value

    @property
    def whole_collection(self) -> bool:
        """An empty filter: the operation touches every document of the collection."""
        return not self.stored["filter"]

    @property
    def undoable(self) -> bool:
        return self.count is not None and self.count <= self.undo_limit


def preview(
    *,
    model: type[MongoModel],
    filter: Mapping[str, Any],
    update: Mapping[str, Any] | None = None,
    db: Database | None = None,
    user: int | None = None,
) -> Preview:
    """Check the specs, read `SAMPLE_SIZE` matches (time-limited) and ask for the count (`user`'s)."""
    stored_filter = translate_filter(model, filter)
    stored: dict[str, Any] = {"filter": stored_filter}
    if update is not None:
        stored["update"] = translate_update(model, update)
    database = db if db is not None else get_db()
    samples, note = _samples(database[model.collection], stored_filter, stored.get("update"))
    count = counts.counted(
        collection=model.collection, filter=stored_filter, max_age=COUNT_MAX_AGE, db=database, user=user
    )
    limit = conf.undo_limit()
    return Preview(count, samples, stored, limit, note)


def _samples(collection: Any, filter: dict[str, Any], update: dict[str, Any] | None) -> tuple[tuple[Sample, ...], str]:
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    try:
        with time_limited(read_timeout()):
            documents = list(collection.find(filter).sort("_id", 1).limit(SAMPLE_SIZE))
    except ReadTimeout as error:
        return (), f"No sample could be read: {error}"
    return tuple(Sample(doc, None if update is None else apply_update(doc, update, now=now)) for doc in documents), ""
