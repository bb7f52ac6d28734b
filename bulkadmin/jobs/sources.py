"""The sync sources of this project: those declared in code (`operations.sync.register_source`)
and those configured in `BULKADMIN_SYNC_SOURCES`, read here and passed to the registry."""

from __future__ import annotations

from bulkadmin.core import conf
from bulkadmin.operations.sync import Source, sources


def declared() -> dict[str, Source]:
    """Every source by name."""
    return sources.all(conf.sync_sources())


def get(name: str) -> Source:
    """The source `name`; `UnknownSource` listing the declared ones."""
    return sources.get(name, conf.sync_sources())
