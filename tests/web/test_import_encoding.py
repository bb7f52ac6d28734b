"""The Import page's encoding box: a codec that is not a text encoding is a message on the
preview, never a server error, and choosing a text encoding there repairs the preview."""

from __future__ import annotations

import pytest

from tests.web.import_helpers import GOOD_AND_BAD, preview_data, upload

pytestmark = pytest.mark.django_db

REFUSED = ("zlib_codec", "base64", "hex", "uu", "bz2", "rot13", "idna", "punycode", "undefined", "unicode_escape")


@pytest.fixture(autouse=True)
def jobs_dir(tmp_path, settings):
    settings.BULKADMIN_JOBS_DIR = tmp_path / "jobs"
    return settings.BULKADMIN_JOBS_DIR


@pytest.mark.parametrize("name", REFUSED)
def test_a_codec_that_is_not_a_text_encoding_is_a_message_and_the_preview_recovers(admin_client_, db, name):
    uploaded = upload(admin_client_, GOOD_AND_BAD, encoding=name)
    assert uploaded.status_code == 302
    shown = admin_client_.get(uploaded["Location"])
    assert shown.status_code == 200
    assert shown.context["preview"].problems == (
        f"Encoding: '{name}' is not a text encoding (use a text encoding such as utf-8, utf-16, cp1252 or latin-1).",
    )
    repaired = admin_client_.post(uploaded["Location"], preview_data(shown, encoding="utf-8"))
    assert repaired.status_code == 200
    preview = repaired.context["preview"]
    assert (preview.encoding, preview.problems) == ("utf-8", ())
    assert [row.ok for row in preview.rows] == [True, False, True, False, True]
