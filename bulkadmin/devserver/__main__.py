"""Run the embedded development server: `python -m bulkadmin.devserver --data-dir DIR -p PORT`."""

from __future__ import annotations

import sys

from nx_27017.handler import NeoSQLiteHandler
from nx_27017.nx_27017 import main

from bulkadmin.devserver import (
    counts,
    date_filters,
    distinct,
    document_ids,
    dotted_paths,
    index_names,
    indexes,
    null_filters,
    number_filters,
    object_id_fields,
    object_ids,
    reads,
    replies,
    skip_limit,
    values,
    writes,
)


def install() -> None:
    """Install every correction of nx-27017 and neosqlite (the order matters: values first)."""
    unlocked = NeoSQLiteHandler.handle_command.__wrapped__  # nx-27017's, without its lock
    values.install()
    replies.install()
    object_ids.install()
    object_id_fields.install()
    document_ids.install()
    dotted_paths.install(counts.prepare)
    number_filters.install()
    null_filters.install()
    date_filters.install()
    writes.install()
    distinct.install()
    indexes.install()
    index_names.install()
    reads.install(unlocked)
    skip_limit.install()


if __name__ == "__main__":
    install()
    sys.exit(main())
