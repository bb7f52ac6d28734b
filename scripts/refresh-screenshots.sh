#!/usr/bin/env bash
# Refresh the screenshots in docs/ from the pages as they are now: run the browser tests that
# take them (into test-artifacts/), then copy each to its name in docs/.
#   scripts/refresh-screenshots.sh
# A test that fails leaves its screenshot as it was; the script says which.
set -uo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-.venv/bin/python}

# docs/<name>.png <- test-artifacts/<shot>.png
SHOTS="
web-dashboard:dashboard
web-browse:browse-sorted
web-document:document
web-update-preview:compose-preview
web-compose-counting:compose-counting
web-job-result:job-result
web-job-errors:job-errors
web-import-preview:import-preview-top
web-import-preview-scan:import-preview-scan-top
web-cleanup:cleanup
"

rm -f test-artifacts/*.png
"$PYTHON" -m pytest -q -p no:cacheprovider -m browser \
    tests/browser/test_web_admin.py tests/browser/test_browse_compose.py tests/browser/test_import.py \
    tests/browser/test_job_story.py tests/browser/test_operations.py
status=0
for pair in $SHOTS; do
    doc=${pair%%:*} shot=${pair##*:}
    if [ -f "test-artifacts/$shot.png" ]; then
        cp "test-artifacts/$shot.png" "docs/$doc.png"
        echo "docs/$doc.png refreshed"
    else
        echo "docs/$doc.png kept: no test-artifacts/$shot.png (its test failed?)" >&2
        status=1
    fi
done
exit $status
