"""Exceptions at the foundation of Beacon: the base every package's errors derive from.

Hierarchy::

    BeaconError                 base of everything Beacon raises on purpose
    ├── ConfigError             a setting is missing or malformed
    ├── InputError              user-supplied input (file, flag, request) is unusable
    │   └── UnknownFormatError  ``--format`` names no known reader
    ├── WorkspaceError          the DuckDB workspace cannot be opened or is inconsistent
    │   └── WorkspaceBusy       another process keeps it locked for longer than the wait
    └── ServiceUnavailableError another Beacon process (the bot) cannot be reached

The CLI prints ``str(error)`` as a one-line reason and exits non-zero, so each
message says what was expected, what came and how to fix it.
"""

from __future__ import annotations


class BeaconError(Exception):
    """Base class for errors Beacon raises on purpose."""


class ConfigError(BeaconError):
    """A setting is missing or malformed."""


class InputError(BeaconError):
    """User-supplied input cannot be used as given."""


class UnknownFormatError(InputError):
    """An ingest ``--format`` names no known reader."""


class WorkspaceError(BeaconError):
    """The workspace cannot be opened or is inconsistent."""


class WorkspaceBusy(WorkspaceError):
    """Another process holds the workspace's lock for longer than the caller waits."""


class ServiceUnavailableError(BeaconError):
    """Another Beacon process (the Rasa server, the action server) cannot be reached."""
