"""Uploading a file on the Import page, as a user does, up to its preview."""

from __future__ import annotations

import re
from pathlib import Path

from playwright.sync_api import Page


def upload_for_preview(page: Page, path: Path, collection: str = "users") -> None:
    """From the dashboard: open Import, choose `collection` and `path`, upload, wait for the preview."""
    page.click("#content-main a[href='/admin/bulk/import/']")
    page.select_option("#id_collection", collection)
    page.set_input_files("#id_file", str(path))
    page.click("#upload-button")
    page.wait_for_url(re.compile(r"/admin/bulk/import/[0-9a-f]{32}/$"))
