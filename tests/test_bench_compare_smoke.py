"""bench/bench_compare.py stays runnable: every scenario on a tiny workload against
``wampcore router`` and the echo ceiling (Crossbar.io is left out; no timing is asserted).

The lean clients check what they get back (a RESULT or PUBLISHED for each request id they
sent), so this is also a check that wampcore answers the load generator's hand-built frames.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

BENCH = Path(__file__).resolve().parent.parent / "bench" / "bench_compare.py"


def _load() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_compare", BENCH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["bench_compare"] = module  # dataclasses look the module up by name
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules["bench_compare"]
        raise
    return module


@pytest.mark.parametrize(
    ("transport", "serializer", "targets"),
    [("rs", "msgpack", "wampcore,ceiling"), ("ws", "json", "wampcore")],
)
def test_bench_compare_runs_every_scenario(
    transport: str, serializer: str, targets: str, capsys: pytest.CaptureFixture[str]
) -> None:
    bench = _load()
    try:
        status = bench.main(
            [
                "--runs=1",
                "--duration=0.1",
                "--warmup=0.05",
                "--sessions=10",
                "--settle=0.1",
                "--fanout=3",
                "--noise-sample=0.1",
                f"--targets={targets}",
                f"--transport={transport}",
                f"--serializer={serializer}",
            ]
        )
    finally:
        del sys.modules["bench_compare"]
    assert status == 0
    out = capsys.readouterr().out
    for row in ("calls/s, 100 in flight, small args", "latency p99 us", "events/s, 3 subscribers"):
        assert row in out
    assert "memory KB per idle joined session (N=10)" in out
    assert "noise: " in out
    wampcore_row = next(line for line in out.splitlines() if line.startswith("events/s, 1 "))
    assert wampcore_row.split()[4] != "-"  # wampcore delivered events
