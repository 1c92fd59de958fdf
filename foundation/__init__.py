"""Beacon's foundation: settings, the error hierarchy and the DuckDB workspace.

Everything else stands on this package and it imports nothing above it
(``make lint`` checks the layers: foundation → analytics → knowledge → beacon → actions).

- :mod:`foundation.settings` — configuration read once from the environment.
- :mod:`foundation.exceptions` — the base of every error Beacon raises on purpose.
- :mod:`foundation.workspace` — the DuckDB workspace: schema, validated ingest,
  quarantine, pseudonymisation, forget and audit.

This ``__init__`` imports nothing, so the Rasa process (which has none of the
analytics dependencies) can import the pure modules here.
"""
