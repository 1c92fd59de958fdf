"""The benchmark scripts' argument checks (the runs themselves need ../shared/data)."""

from __future__ import annotations

import pytest

from benchmarks import engagement


def test_engagement_benchmark_refuses_zero_latency_calls(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr("sys.argv", ["engagement", "--latency-calls", "0"])
    with pytest.raises(SystemExit) as exit_info:
        engagement.main()
    assert exit_info.value.code == 2
    assert "--latency-calls must be at least 1, got 0" in capsys.readouterr().err
