"""Cost of undo data: a composed bulk update (ids first, pre-images, writes by `_id` in batches)
against one plain `update_many` through the bulk service, on the same documents in one process.

    python benchmarks/bulk_update_undo.py [--docs 10000] [--batch-size 500] [--no-validation]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "project.settings")

import django

django.setup()

from django.conf import settings  # noqa: E402

from bulkadmin.bulk import bulk_insert, bulk_update  # noqa: E402
from bulkadmin.core.mongo import get_db  # noqa: E402
from bulkadmin.operations import updates  # noqa: E402
from project.collections import User  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=10_000, help="documents to update (default: %(default)s)")
    parser.add_argument("--batch-size", type=int, default=500, help="batch size (default: %(default)s)")
    parser.add_argument(
        "--no-validation", action="store_true", help="don't validate each result with the model (undo data only)"
    )
    options = parser.parse_args()
    settings.MONGODB_DB = f"bench_{uuid.uuid4().hex[:8]}"
    db = get_db()
    try:
        rows = ({"name": f"U{i}", "email": f"u{i}@example.com", "age": i % 90} for i in range(options.docs))
        bulk_insert(User, rows, db=db, batch_size=1000)
        started = time.perf_counter()
        bulk_update(User, [{"filter": {}, "update": {"$inc": {"age": 1}}}], db=db)
        plain = time.perf_counter() - started
        started = time.perf_counter()
        outcome = updates.run_update(
            model=User,
            filter={},
            update={"$inc": {"age": 1}},
            undo_key=1,
            batch_size=options.batch_size,
            validate_results=not options.no_validation,
            db=db,
        )
        composed = time.perf_counter() - started
        print(f"documents: {options.docs}, batch size {options.batch_size}")
        print(f"plain update_many:        {plain:7.2f} s  {options.docs / plain:9.0f} docs/s")
        print(f"composed, with undo data: {composed:7.2f} s  {options.docs / composed:9.0f} docs/s")
        print(f"ratio composed / plain:   {composed / plain:7.2f}  (undo records kept: {outcome.undo_records})")
    finally:
        db.client.drop_database(db.name)


if __name__ == "__main__":
    main()
