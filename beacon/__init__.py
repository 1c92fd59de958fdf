"""Beacon application shell: settings, the DuckDB workspace and the ``beacon`` CLI.

The analytics live in :mod:`analytics`, document retrieval in :mod:`knowledge`,
and the Rasa custom actions in :mod:`actions`.
"""

__all__ = ["__version__"]

__version__ = "0.1.0"
