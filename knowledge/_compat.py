"""Optional or noisy third-party imports, in one place.

``langchain-community`` emits a DeprecationWarning on import ("being sunset") while
its loaders are still the documented LangChain loaders for PDF, HTML and CSV; we import
it here, lazily, with that one warning silenced. Remove the filter when the loaders
move to a standalone package.
"""

from __future__ import annotations

import warnings
from types import ModuleType


def document_loaders() -> ModuleType:
    """``langchain_community.document_loaders``, imported without its sunset warning."""
    with warnings.catch_warnings():
        warnings.filterwarnings(
            "ignore", message=".*langchain-community.*sunset", category=DeprecationWarning
        )
        from langchain_community import document_loaders as loaders
    return loaders
