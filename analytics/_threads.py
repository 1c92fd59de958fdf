"""Thread limits for small, latency-bound work on a shared machine.

Torch, BLAS and OpenMP each start a pool of threads sized to the machine. For one
post, one image or one small network, the threads only wait for each other on a
shared machine, so these helpers run such blocks on one thread and restore the
previous setting after (``python -m benchmarks.engagement --latency-only`` measures
the effect on a prediction, docs/benchmarks/engagement.md).
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Any

_THREADED_MODULES = ("numpy", "scipy", "torch", "lightgbm")


@contextmanager
def torch_threads(n: int) -> Iterator[None]:
    """Run the block with ``n`` torch intra-op threads, then restore the previous number.

    Small forward passes (one post, a small MLP) only lose from extra threads.
    """
    import torch

    before = torch.get_num_threads()
    if before == n:
        yield
        return
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(before)


@functools.cache
def _thread_controller(loaded: tuple[str, ...], user_api: str) -> Any:
    """threadpoolctl's view of the loaded ``user_api`` libraries, scanned once per set of
    loaded packages (``threadpool_limits`` rescans every library on each call)."""
    from threadpoolctl import ThreadpoolController

    return ThreadpoolController().select(user_api=user_api)


def _limit(user_api: str) -> AbstractContextManager[Any]:
    loaded = tuple(name for name in _THREADED_MODULES if name in sys.modules)
    limiter: AbstractContextManager[Any] = _thread_controller(loaded, user_api).limit(limits=1)
    return limiter


@contextmanager
def one_thread() -> Iterator[None]:
    """Run the block with one BLAS thread and one torch thread (restored after).

    For small, latency-bound work (one MiniLM pass) extra threads only wait for each other.
    LightGBM gets its thread count per call (``num_threads``), see :func:`one_openmp_thread`.
    """
    with _limit("blas"), torch_threads(1):
        yield


def one_openmp_thread() -> AbstractContextManager[Any]:
    """One OpenMP thread for a LightGBM call that takes no ``num_threads`` (shap's TreeSHAP).

    For one row, starting the OpenMP pool costs far more than the prediction. Torch
    shares the OpenMP runtime, so no torch work may run inside (torch's threads are set
    through torch, :func:`torch_threads`).
    """
    return _limit("openmp")
