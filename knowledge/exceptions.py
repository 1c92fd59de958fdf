"""Exceptions raised by :mod:`knowledge`.

Hierarchy::

    BeaconError                     (foundation.exceptions)
    └── KnowledgeError              base of everything the knowledge base raises on purpose
        ├── IndexNotFoundError      no index at the given folder (nothing was indexed yet)
        ├── IndexIntegrityError     the index or docstore fails its checksum or is inconsistent
        ├── DocumentLoadError       a document cannot be read or parsed
        └── GeneratorError          the configured chat model is misconfigured

Every message says what was expected, what was found, and how to fix it.
"""

from __future__ import annotations

from foundation.exceptions import BeaconError


class KnowledgeError(BeaconError):
    """Base class for knowledge-base errors."""


class IndexNotFoundError(KnowledgeError):
    """No knowledge index exists at the given folder."""


class IndexIntegrityError(KnowledgeError):
    """A stored index file was modified, truncated or does not match its manifest."""


class DocumentLoadError(KnowledgeError):
    """A document could not be loaded or parsed."""


class GeneratorError(KnowledgeError):
    """The optional answer generator is misconfigured."""
