"""One pseudonymisation key per workspace.

Pseudonyms are keyed hashes, so a workspace filled under one key and then fed under
another would hold two pseudonyms for every person, and ``beacon forget`` would find
only half of them. The workspace therefore keeps a fingerprint of its key (an HMAC of
a fixed label, which reveals nothing about the key) and refuses any other key.
"""

from __future__ import annotations

import hashlib
import hmac
import logging

import duckdb

from foundation.exceptions import ConfigError
from foundation.workspace._pseudonym import DEFAULT_PHONE_REGION, Pseudonymizer
from foundation.workspace._store import Workspace, get_meta, set_meta

logger = logging.getLogger(__name__)

#: ``meta`` key of the fingerprint.
FINGERPRINT_KEY = "pseudonym_key_fingerprint"
_LABEL = b"beacon pseudonym key fingerprint v1"


def key_fingerprint(key: bytes) -> str:
    """A short, non-secret fingerprint of a pseudonymisation key (16 hex characters)."""
    return hmac.new(key, _LABEL, hashlib.sha256).hexdigest()[:16]


def _stored_fingerprint(con: duckdb.DuckDBPyConnection) -> str | None:
    try:
        value = get_meta(con, FINGERPRINT_KEY)
    except duckdb.CatalogException:  # a file made before the meta table existed
        return None
    return value if isinstance(value, str) else None


def workspace_pseudonymizer(
    workspace: Workspace, key: bytes, *, region: str = DEFAULT_PHONE_REGION, record: bool = True
) -> Pseudonymizer:
    """The pseudonymiser for ``workspace``, after checking that ``key`` is the workspace's own.

    Args:
        workspace: The workspace the pseudonyms go into.
        key: The installation's key (``Settings.pseudonym_key()``).
        region: Whose national phone formats are read (``Settings.phone_region``).
        record: Store the fingerprint when the workspace has none yet (a short write);
            servers answering turns pass False and only check.

    Raises:
        ConfigError: The workspace was built with another key.
        WorkspaceBusy: Another process holds the file longer than the workspace's wait.
    """
    fingerprint = key_fingerprint(key)
    stored: str | None = None
    if workspace.path.exists():
        with workspace.connect(read_only=True) as con:
            stored = _stored_fingerprint(con)
    if stored is None and record:
        with workspace.connect() as con:
            stored = _stored_fingerprint(con)  # again, under the write lock
            if stored is None:
                set_meta(con, FINGERPRINT_KEY, fingerprint)
                stored = fingerprint
    if stored is not None and stored != fingerprint:
        raise ConfigError(
            "the pseudonymisation key is not the one this workspace was built with "
            f"(key fingerprint {fingerprint}, workspace expects {stored}); set "
            "BEACON_PSEUDONYM_KEY to the original key, or start a new workspace "
            "(BEACON_WORKSPACE)"
        )
    return Pseudonymizer(key, region=region)
