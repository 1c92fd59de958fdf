"""FAISS index construction, search with metadata selectors, and the optional GPU path.

Indexes are always written to disk as CPU indexes with ``faiss.write_index``; with
``gpu="auto"`` (default) a flat or IVF index is moved to the GPU after loading when the
installed faiss build has GPU support (``faiss-gpu``) and sees a device. HNSW has no
GPU implementation in faiss and stays on the CPU.
"""

from __future__ import annotations

import functools
import math
from typing import Any

import faiss
import numpy as np

from knowledge._types import GpuMode, IndexConfig
from knowledge.exceptions import KnowledgeError


def resolve_kind(config: IndexConfig, n_vectors: int) -> str:
    """The concrete index type for ``n_vectors`` (``auto`` → flat, or IVF past the limit)."""
    if config.kind == "auto":
        return "flat" if n_vectors <= config.auto_flat_max else "ivf"
    return config.kind


def build_faiss_index(vectors: np.ndarray, config: IndexConfig, kind: str | None = None) -> Any:
    """Build a CPU FAISS index over L2-normalised vectors (inner product = cosine).

    Args:
        vectors: float32 array of shape (n, dim).
        config: Index parameters.
        kind: Override of ``resolve_kind(config, n)``.

    Returns:
        A ``faiss.Index`` holding the vectors; row i of ``vectors`` has id i.
    """
    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    n, dim = vectors.shape
    kind = kind or resolve_kind(config, n)
    index: Any
    if kind == "flat":
        index = faiss.IndexFlatIP(dim)
    elif kind == "hnsw":
        index = faiss.IndexHNSWFlat(dim, config.hnsw_m, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = config.ef_construction
        index.hnsw.efSearch = config.ef_search
    elif kind == "ivf":
        nlist = config.nlist or max(1, int(4 * math.sqrt(max(n, 1))))
        nlist = max(1, min(nlist, n // 39 if n >= 39 else 1))  # faiss wants ~39 points a list
        quantizer = faiss.IndexFlatIP(dim)
        index = faiss.IndexIVFFlat(quantizer, dim, nlist, faiss.METRIC_INNER_PRODUCT)
        if n:
            # k-means on a sample: 64 points a list is plenty and keeps 1M-vector builds short.
            sample = min(n, max(64 * nlist, 50_000))
            rows = np.random.default_rng(0).choice(n, size=sample, replace=False)
            index.train(vectors[np.sort(rows)])
        index.nprobe = min(config.nprobe, nlist)
    else:
        raise KnowledgeError(f"index kind must be flat, ivf, hnsw or auto (got {kind!r})")
    if n:
        index.add(vectors)
    return index


def index_kind(index: Any) -> str:
    """``flat``, ``ivf`` or ``hnsw`` for a (CPU) FAISS index."""
    if isinstance(index, faiss.IndexHNSW):
        return "hnsw"
    if isinstance(index, faiss.IndexIVF):
        return "ivf"
    return "flat"


def gpu_available() -> bool:
    """True when the installed faiss has GPU support and sees at least one device."""
    get_num_gpus = getattr(faiss, "get_num_gpus", None)
    return (
        hasattr(faiss, "StandardGpuResources") and get_num_gpus is not None and get_num_gpus() > 0
    )


def to_device(index: Any, mode: GpuMode) -> tuple[Any, bool]:
    """Move a flat or IVF index to GPU 0 when ``mode`` asks for it and a GPU is present.

    Args:
        index: A CPU FAISS index.
        mode: ``auto``, ``never`` or ``always``.

    Returns:
        ``(index, on_gpu)``: the GPU clone or the unchanged CPU index.

    Raises:
        KnowledgeError: ``mode`` is ``always`` but no GPU (or no faiss-gpu build) is present.
    """
    if mode == "never":
        return index, False
    if not gpu_available():
        if mode == "always":
            raise KnowledgeError(
                "gpu='always' needs faiss-gpu and a visible CUDA device (found faiss "
                f"{faiss.__version__} without GPU support or with no device); install "
                "faiss-gpu on a GPU machine or set BEACON_KNOWLEDGE_GPU=auto"
            )
        return index, False
    if index_kind(index) == "hnsw":
        if mode == "always":
            raise KnowledgeError(
                "gpu='always' cannot move an HNSW index (faiss has no GPU HNSW); "
                "rebuild with kind='flat' or kind='ivf' for the GPU"
            )
        return index, False
    return faiss.index_cpu_to_gpu(_gpu_resources(), 0, index), True


@functools.cache
def _gpu_resources() -> Any:
    """One set of GPU resources per process (faiss's recommended use), kept alive here."""
    return faiss.StandardGpuResources()


def search(
    index: Any,
    query: np.ndarray,
    k: int,
    allowed: np.ndarray | None,
    config: IndexConfig,
    on_gpu: bool = False,
) -> tuple[np.ndarray, np.ndarray]:
    """Top-``k`` inner-product search, optionally restricted to ``allowed`` ids.

    Args:
        index: The FAISS index.
        query: float32 array of shape (n_queries, dim).
        k: Neighbours wanted per query.
        allowed: int64 ids allowed to match (None = all).
        config: Supplies ``nprobe`` and ``ef_search``.
        on_gpu: Whether ``index`` lives on the GPU (selectors are not supported there;
            the filter is applied afterwards on a larger candidate list).

    Returns:
        ``(scores, ids)``, each of shape (n_queries, k); missing slots have id -1.
    """
    query = np.ascontiguousarray(query, dtype=np.float32)
    kind = index_kind(index) if not on_gpu else "gpu"
    if allowed is None or on_gpu:
        if kind == "hnsw":
            index.hnsw.efSearch = max(config.ef_search, k)
        if kind == "ivf":
            index.nprobe = config.nprobe
        wanted = k if allowed is None else min(index.ntotal, k * 8)
        scores, ids = index.search(query, max(wanted, 1))
        if allowed is not None:
            keep = np.isin(ids, allowed)
            scores = np.where(keep, scores, -np.inf)
            order = np.argsort(-scores, axis=1, kind="stable")[:, :k]
            ids = np.take_along_axis(np.where(keep, ids, -1), order, axis=1)
            scores = np.take_along_axis(scores, order, axis=1)
        return scores, ids
    swig: Any = faiss  # faiss's bundled stubs miss the SWIG keyword constructors
    selector = swig.IDSelectorBatch(np.ascontiguousarray(allowed, dtype=np.int64))
    params: Any
    if kind == "hnsw":
        params = swig.SearchParametersHNSW(sel=selector, efSearch=max(config.ef_search, k))
    elif kind == "ivf":
        params = swig.SearchParametersIVF(sel=selector, nprobe=config.nprobe)
    else:
        params = swig.SearchParameters(sel=selector)
    return index.search(query, k, params=params)
