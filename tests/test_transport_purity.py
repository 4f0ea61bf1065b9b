"""The transports stay pure (no I/O, clocks or global randomness) and share one typed surface."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from wampcore.transports import (
    Framing,
    MessageFraming,
    RawSocketClient,
    RawSocketServer,
    WebSocketClient,
    WebSocketServer,
)

FORBIDDEN = {"socket", "asyncio", "threading", "selectors", "time", "random"}
TRANSPORTS = Path(__file__).resolve().parent.parent / "wampcore" / "transports"


@pytest.mark.parametrize("path", sorted(TRANSPORTS.glob("*.py")), ids=lambda p: p.name)
def test_no_io_imports(path: Path) -> None:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        else:
            continue
        for name in names:
            assert name.split(".")[0] not in FORBIDDEN, f"{path.name} imports {name}"


def test_every_framing_has_the_surface() -> None:
    # Also checked statically: mypy accepts each of these as a Framing.
    framings: list[Framing] = [
        RawSocketClient(),
        RawSocketServer(),
        WebSocketClient("example.com"),
        WebSocketServer(),
        MessageFraming("wamp.2.json"),
    ]
    for framing in framings:
        assert framing.closed is False
        assert isinstance(framing.message_oriented, bool)
