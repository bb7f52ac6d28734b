"""Production shape: the production variables of docs/deploying.md, real `manage.py` and gunicorn processes."""

from __future__ import annotations

import re
import secrets
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ENV_FILE_HEADER = "# /etc/bulkadmin/production.env"


def documented_production_env() -> dict[str, str]:
    """The variables of docs/deploying.md's production environment file (its ```sh block that starts
    with `ENV_FILE_HEADER`), with a freshly generated SECRET_KEY in place of the placeholder."""
    page = (ROOT / "docs" / "deploying.md").read_text()
    blocks = re.findall(r"```sh\n(.*?)```", page, flags=re.DOTALL)
    block = next(block for block in blocks if block.startswith(ENV_FILE_HEADER))
    variables = {}
    for line in block.splitlines():
        if line.strip() and not line.startswith("#"):
            name, _, value = line.partition("=")
            variables[name.strip()] = value.strip().strip('"')
    assert "SECRET_KEY" in variables, "docs/deploying.md's production environment must name SECRET_KEY"
    variables["SECRET_KEY"] = secrets.token_urlsafe(50)  # as docs/deploying.md says to generate it
    return variables


@pytest.fixture
def production_env(tmp_path) -> dict[str, str]:
    """The environment of a production process: the documented variables, with this test's folders."""
    return {
        **documented_production_env(),
        "STATIC_ROOT": str(tmp_path / "static"),
        "BULKADMIN_JOBS_DIR": str(tmp_path / "jobs"),
    }


@pytest.fixture
def closed_port() -> Iterator[int]:
    """A local TCP port bound but not listening: connections to it are refused."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        yield sock.getsockname()[1]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
