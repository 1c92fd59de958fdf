"""actions/cache.py: answers kept per data version, each computed once at a time."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from actions.cache import AnswerCache


def test_a_result_is_kept_per_key_and_version_and_the_oldest_go_first() -> None:
    cache = AnswerCache(max_entries=2)
    calls: list[str] = []

    def compute(name: str) -> str:
        calls.append(name)
        return name.upper()

    assert cache.get_or_compute("a", 1, lambda: compute("a")) == "A"
    assert cache.get_or_compute("a", 1, lambda: compute("again")) == "A"  # kept
    assert cache.get_or_compute("a", 2, lambda: compute("a2")) == "A2"  # new data, new answer
    assert cache.get_or_compute("b", 1, lambda: compute("b")) == "B"  # evicts ("a", 1)
    assert cache.get_or_compute("a", 1, lambda: compute("a-again")) == "A-AGAIN"
    assert calls == ["a", "a2", "b", "a-again"]
    assert len(cache) == 2
    assert (cache.hits, cache.misses) == (1, 4)


def test_threads_missing_the_same_answer_at_once_compute_it_once() -> None:
    cache = AnswerCache()
    started = threading.Event()
    calls = 0

    def slow() -> str:
        nonlocal calls
        calls += 1
        started.set()
        time.sleep(0.3)  # long enough for the others to arrive while it computes
        return "ranking"

    with ThreadPoolExecutor(max_workers=8) as pool:
        first = pool.submit(cache.get_or_compute, "rank", 1, slow)
        started.wait(timeout=5)
        others = [pool.submit(cache.get_or_compute, "rank", 1, slow) for _ in range(7)]
        results = [first.result(timeout=5)] + [f.result(timeout=5) for f in others]
    assert results == ["ranking"] * 8
    assert calls == 1
    assert (cache.hits, cache.misses) == (7, 1)


def test_different_answers_are_computed_side_by_side() -> None:
    cache = AnswerCache()
    both_running = threading.Barrier(2, timeout=5)

    def compute(name: str) -> str:
        both_running.wait()  # breaks (and fails the test) if one waits for the other
        return name

    with ThreadPoolExecutor(max_workers=2) as pool:
        a = pool.submit(cache.get_or_compute, "a", 1, lambda: compute("a"))
        b = pool.submit(cache.get_or_compute, "b", 1, lambda: compute("b"))
        assert (a.result(timeout=5), b.result(timeout=5)) == ("a", "b")


def test_when_the_computation_fails_a_waiter_computes_it_again() -> None:
    cache = AnswerCache()
    started = threading.Event()
    release = threading.Event()
    calls = 0

    def fails_first() -> str:
        nonlocal calls
        calls += 1
        if calls == 1:
            started.set()
            release.wait(timeout=5)
            raise RuntimeError("the workspace went away")
        return "answer"

    with ThreadPoolExecutor(max_workers=2) as pool:
        first = pool.submit(cache.get_or_compute, "k", 1, fails_first)
        started.wait(timeout=5)
        waiter = pool.submit(cache.get_or_compute, "k", 1, fails_first)
        time.sleep(0.1)  # the waiter is now waiting on the first computation
        release.set()
        with pytest.raises(RuntimeError, match="went away"):
            first.result(timeout=5)
        assert waiter.result(timeout=5) == "answer"
    assert calls == 2
    # The failure is not kept; the waiter's answer is.
    assert cache.get_or_compute("k", 1, lambda: "unused") == "answer"
