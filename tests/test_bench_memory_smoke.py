"""bench/bench_memory.py stays runnable, and its figure is plausible (issue 11: at most 5 KiB
of router memory per idle joined session; the bench reports it, this only bounds it loosely)."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parent.parent / "bench" / "bench_memory.py"


def test_bench_memory_reports_per_session_bytes(capsys: pytest.CaptureFixture[str]) -> None:
    spec = importlib.util.spec_from_file_location("bench_memory", BENCH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.main(["--sessions", "300", "--top", "3"]) == 0
    out = capsys.readouterr().out
    figures = dict(re.findall(r"^(\w+): ([\d,]+) bytes", out, re.M))
    assert set(figures) == {"rawsocket", "websocket"}
    for transport, text in figures.items():
        assert 500 < int(text.replace(",", "")) < 8 * 1024, (transport, out)
