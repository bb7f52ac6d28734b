"""The web preview of every hostile file: no exception but the product's own, and each bad row
among the first rows shown with its problem (naming the field where one is at fault)."""

from __future__ import annotations

import pytest

from bulkadmin.core.exceptions import BulkAdminError
from bulkadmin.operations.imports.preview import preview_file
from project.collections import User
from tests.hostile.make_corpus import corpus, write_corpus

CORPUS = corpus()


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    return {item.name: path for item, path in write_corpus(tmp_path_factory.mktemp("hostile"))}


@pytest.mark.parametrize("mode", ["insert", "merge"])
@pytest.mark.parametrize("item", CORPUS, ids=lambda item: item.name)
def test_hostile_file_preview(item, mode, files):
    keys = ("email",) if mode == "merge" else ()
    try:
        preview = preview_file(model=User, path=files[item.name], mode=mode, key_fields=keys)
    except BulkAdminError as error:
        assert item.file_error is not None, str(error)
        return
    if item.file_error is not None:
        assert preview.problems or all(not row.ok for row in preview.rows), preview
        return
    bad = {row.where: row.messages for row in preview.rows if not row.ok}
    assert sorted(bad) == sorted(where for where, _ in item.rejected), bad
    for where, field in item.rejected:
        if field:
            assert any(message.startswith(field) or f"{field!r}" in message for message in bad[where]), bad[where]
    assert preview.valid_rows == item.imported, preview.rows
