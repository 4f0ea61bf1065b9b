"""bench/bench_router.py stays runnable: each benchmark on a few messages (no timing asserted).

The benchmarks check what they route themselves (every CALL becomes one INVOCATION and one
RESULT; every PUBLISH reaches every subscriber, wamp-spec §3.3/§3.4), so this is also a
correctness check of the pipelined paths.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import pytest

BENCH = Path(__file__).resolve().parent.parent / "bench" / "bench_router.py"


def _load() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_router", BENCH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("serializer", ["json", "msgpack"])
def test_bench_routes_calls_and_events(serializer: str) -> None:
    bench = _load()
    assert bench.bench_calls(serializer, 600) > 0
    assert bench.bench_events(serializer, 1, 600) > 0
    assert bench.bench_events(serializer, 3, 50) > 0


def test_bench_prints_a_table(capsys: pytest.CaptureFixture[str]) -> None:
    bench = _load()
    real_calls, real_events = bench.bench_calls, bench.bench_events
    bench.bench_calls = lambda serializer, n: real_calls(serializer, 100)
    bench.bench_events = lambda serializer, subscribers, n: real_events(serializer, subscribers, 20)
    assert bench.main(["--quick"]) == 0
    out = capsys.readouterr().out
    assert "routed calls/s" in out and "100 subscribers" in out
