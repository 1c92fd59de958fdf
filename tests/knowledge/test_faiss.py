"""Index types (flat, IVF, HNSW) with filters, persistence, and the GPU selection path."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import faiss
import numpy as np
import pytest

from knowledge import IndexConfig, KnowledgeBase, KnowledgeError, _faiss, build_index


def _vectors(n: int = 2000, dim: int = 32, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, dim)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


@pytest.mark.parametrize("kind", ["flat", "ivf", "hnsw"])
def test_kinds_find_neighbours_and_respect_selectors(kind: str) -> None:
    x = _vectors()
    config = IndexConfig(kind=kind, nprobe=32)  # type: ignore[arg-type]
    index = _faiss.build_faiss_index(x, config)
    assert _faiss.index_kind(index) == kind and index.ntotal == len(x)
    _, ids = _faiss.search(index, x[:50], 1, None, config)
    assert (ids[:, 0] == np.arange(50)).mean() >= 0.95
    allowed = np.arange(1, len(x), 2, dtype=np.int64)
    _, ids = _faiss.search(index, x[:20], 5, allowed, config)
    found = ids[ids >= 0]
    assert found.size > 0 and np.all(found % 2 == 1)
    restored = faiss.deserialize_index(faiss.serialize_index(index))
    assert _faiss.index_kind(restored) == kind


def test_auto_kind_switches_to_ivf_past_the_limit() -> None:
    config = IndexConfig(kind="auto", auto_flat_max=1000)
    assert _faiss.resolve_kind(config, 1000) == "flat"
    assert _faiss.resolve_kind(config, 1001) == "ivf"
    with pytest.raises(KnowledgeError, match=r"index kind must be flat, ivf, hnsw or auto"):
        _faiss.build_faiss_index(_vectors(10), IndexConfig(kind="annoy"))  # type: ignore[arg-type]


@pytest.mark.parametrize("kind", ["ivf", "hnsw"])
def test_knowledge_base_on_approximate_indexes(corpus_dir: Path, tmp_path: Path, kind: str) -> None:
    build_index(corpus_dir, tmp_path / "index", config=IndexConfig(kind=kind))  # type: ignore[arg-type]
    kb = KnowledgeBase.open(tmp_path / "index")
    assert kb.index_kind == kind
    answer = kb.ask("How much does a brake bleed cost?")
    assert answer.passages[0].source == "internal/service-prices.csv"
    public = kb.ask("brake bleed price", collection="public")
    assert all(p.collection == "public" for p in public.passages)


def test_cpu_build_never_uses_a_gpu(index_dir: Path) -> None:
    assert not _faiss.gpu_available()  # the CPU build is what CI tests
    assert KnowledgeBase.open(index_dir, gpu="auto").on_gpu is False
    with pytest.raises(KnowledgeError, match=r"gpu='always' needs faiss-gpu"):
        KnowledgeBase.open(index_dir, gpu="always")


def test_gpu_path_is_selected_when_a_gpu_is_present(monkeypatch: pytest.MonkeyPatch) -> None:
    moved: list[Any] = []

    class FakeResources:
        pass

    def index_cpu_to_gpu(resources: Any, device: int, index: Any) -> Any:
        moved.append((resources, device, index))
        return faiss.IndexFlatIP(index.d)  # stands in for the GPU clone

    monkeypatch.setattr(faiss, "StandardGpuResources", FakeResources, raising=False)
    monkeypatch.setattr(faiss, "get_num_gpus", lambda: 1)
    monkeypatch.setattr(faiss, "index_cpu_to_gpu", index_cpu_to_gpu, raising=False)
    _faiss._gpu_resources.cache_clear()
    flat = _faiss.build_faiss_index(_vectors(100), IndexConfig(kind="flat"))
    gpu_index, on_gpu = _faiss.to_device(flat, "auto")
    assert on_gpu and moved and moved[0][1] == 0 and gpu_index is not flat
    assert isinstance(moved[0][0], FakeResources)
    assert _faiss.to_device(flat, "never") == (flat, False)
    hnsw = _faiss.build_faiss_index(_vectors(100), IndexConfig(kind="hnsw"))
    assert _faiss.to_device(hnsw, "auto") == (hnsw, False)
    with pytest.raises(KnowledgeError, match=r"cannot move an HNSW index"):
        _faiss.to_device(hnsw, "always")
    # On a GPU index the filter is applied after the search.
    config = IndexConfig(kind="flat")
    x = _vectors(100)
    cpu = _faiss.build_faiss_index(x, config)
    allowed = np.arange(0, 100, 3, dtype=np.int64)
    _, ids = _faiss.search(cpu, x[:5], 3, allowed, config, on_gpu=True)
    assert np.all(np.isin(ids[ids >= 0], allowed))
    _faiss._gpu_resources.cache_clear()
