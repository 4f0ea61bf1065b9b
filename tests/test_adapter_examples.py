"""Every example in examples/ runs against a `wampcore router` subprocess and prints what it
promises (the embedding example has its own test: test_adapter_embedding.py; embedded_callee.py
serves its own router, so it gets no URL)."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from adapterkit import Router, run

pytestmark = pytest.mark.timeout(120)
EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


@pytest.fixture(scope="module")
def router() -> Iterator[Router]:
    with Router() as r:  # its __exit__ reaps it and closes its pipes
        yield r


@pytest.mark.parametrize(
    ("example", "scheme", "expected"),
    [
        ("rpc.py", "ws", ["2 + 3 = 5", "1 / 0 -> com.example.division_by_zero"]),
        ("pubsub.py", "rs", ["received: wampcore ships"]),
        ("progressive.py", "ws", ["progress: 3", "progress: 2", "progress: 1"]),
        ("threads_client.py", "rs", ["squares: [0, 1, 4, 9, 16]"]),
        (
            "embedded_callee.py",
            None,
            [
                "hello, network client (from the router process)",
                "embedded subscriber got: client was here",
                "sessions in realm1: 2",
            ],
        ),
    ],
)
def test_example_runs(
    router: Router, example: str, scheme: str | None, expected: list[str]
) -> None:
    url = [] if scheme is None else [router.urls[scheme]]
    result = run([sys.executable, str(EXAMPLES / example), *url])
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == expected
