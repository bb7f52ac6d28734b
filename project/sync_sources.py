"""The example sync source: partner users from a small paged JSON API (`manage.py demo_feed`
serves one on 127.0.0.1; set DEMO_FEED_URL to read another)."""

from __future__ import annotations

from bulkadmin.operations.feeds import Pagination
from bulkadmin.operations.sync import Source, register_source
from project.collections import User
from project.demo_feed import DEFAULT_PORT

register_source(
    Source(
        name="demo_users",
        model=User,
        url_env="DEMO_FEED_URL",
        default_url=f"http://127.0.0.1:{DEFAULT_PORT}/users",
        records_path="data",
        key_field="id",
        key_target="external_id",
        fields={"name": "name", "email": "email", "verified": "is_verified", "updated_at": "external_updated_at"},
        pagination=Pagination(style="page", page_size_param="per_page", page_size=50, total_pages_path="total_pages"),
        updated_since_param="updated_since",
        description="Partner users from the demo feed (python manage.py demo_feed).",
    )
)
