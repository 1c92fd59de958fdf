"""Beacon's application shell: the ``beacon`` CLI, the demo brand, the digest and the servers.

It stands on :mod:`foundation` (settings, errors, the workspace), :mod:`analytics`
and :mod:`knowledge`; the Rasa custom actions in :mod:`actions` stand on it.
"""

__all__ = ["__version__"]

__version__ = "0.1.0"
