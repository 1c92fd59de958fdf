"""Exceptions raised by :mod:`analytics`.

Hierarchy::

    AnalyticsError              base of everything analytics raises on purpose
    ├── NotFittedError          predict/transform called before fit
    ├── ModelLoadError          a model artifact is missing, corrupt or of another version
    └── AnalysisInputError      the data handed to an analysis cannot be analysed as given
"""

from __future__ import annotations

from foundation.exceptions import BeaconError


class AnalyticsError(BeaconError):
    """Base class for analytics errors."""


class NotFittedError(AnalyticsError):
    """An estimator was used before ``fit``."""


class ModelLoadError(AnalyticsError):
    """A model artifact cannot be loaded."""


class AnalysisInputError(AnalyticsError):
    """Input data cannot be analysed as given (empty, wrong columns, wrong types)."""
