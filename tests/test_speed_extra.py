"""The ``wampcore[speed]`` extra (issue 11): the asyncio servers run on uvloop when it is
installed, unless disabled, and a router behaves the same on either loop.

The same end-to-end round trip (RawSocket and WebSocket, json and msgpack: join, register, call,
subscribe, acknowledged publish, the meta API's session count) runs against a server on
asyncio's own loop and, where uvloop is installed, on uvloop's. The orjson half of the extra is
compared with the standard library in ``tests/test_json_fast.py``.
"""

from __future__ import annotations

import asyncio
import importlib.util
import queue
import threading
from typing import Any

import pytest
from wampcore.adapters.asyncio_server import UVLOOP_VARIABLE, event_loop_factory, run, serve
from wampcore.adapters.threads import connect

from wampcore.router import Router

HAS_UVLOOP = importlib.util.find_spec("uvloop") is not None
LOOPS = [
    False,
    pytest.param(True, marks=pytest.mark.skipif(not HAS_UVLOOP, reason="uvloop not installed")),
]


def _round_trip(serializer: str, use_uvloop: bool) -> dict[str, Any]:
    """Serve a router on the chosen loop (in a thread of its own), drive it with the blocking
    client from here."""
    started: queue.Queue[Any] = queue.Queue()
    stop: list[Any] = []

    async def server_main() -> str:
        server = await serve(Router(), ["rs://127.0.0.1:0", "ws://127.0.0.1:0/ws"])
        stopped = asyncio.Event()
        loop = asyncio.get_running_loop()
        stop.append(lambda: loop.call_soon_threadsafe(stopped.set))
        started.put(server.urls)
        try:
            await stopped.wait()
        finally:
            await server.close()
        return type(loop).__module__

    result: list[Any] = []
    thread = threading.Thread(
        target=lambda: result.append(run(server_main(), use_uvloop=use_uvloop)), daemon=True
    )
    thread.start()
    seen: dict[str, Any] = {}
    try:
        for url in started.get(timeout=20):
            got: queue.Queue[Any] = queue.Queue()
            with (
                connect(url, "realm1", serializers=[serializer], timeout=10) as callee,
                connect(url, "realm1", serializers=[serializer], timeout=10) as caller,
            ):
                callee.register("com.speed.add", lambda a, b: a + b)
                callee.subscribe("com.speed.news", lambda *args, got=got: got.put(args))
                seen[f"{url[:2]} sum"] = caller.call("com.speed.add", 2, 3)
                caller.publish("com.speed.news", "hi", b"\x00\x01", acknowledge=True)
                seen[f"{url[:2]} event"] = got.get(timeout=10)
                seen[f"{url[:2]} count"] = caller.call("wamp.session.count")
    finally:
        if stop:
            stop[0]()
        thread.join(20)
    assert not thread.is_alive()
    seen["loop"] = result[0]
    return seen


@pytest.mark.parametrize("serializer", ["json", "msgpack"])
@pytest.mark.parametrize("use_uvloop", LOOPS)
def test_a_router_serves_the_same_on_either_event_loop_issue_11(
    use_uvloop: bool, serializer: str
) -> None:
    seen = _round_trip(serializer, use_uvloop)
    assert seen.pop("loop").startswith("uvloop") is use_uvloop
    for scheme in ("rs", "ws"):
        assert seen[f"{scheme} sum"] == 5
        assert seen[f"{scheme} event"] == ("hi", b"\x00\x01")
        assert seen[f"{scheme} count"] == 2


def test_the_loop_choice_follows_the_extra_and_the_switch(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(UVLOOP_VARIABLE, raising=False)
    chosen = event_loop_factory()
    assert (chosen is not asyncio.new_event_loop) is HAS_UVLOOP
    monkeypatch.setenv(UVLOOP_VARIABLE, "0")
    assert event_loop_factory() is asyncio.new_event_loop
    assert event_loop_factory(False) is asyncio.new_event_loop
    if not HAS_UVLOOP:
        with pytest.raises(ImportError):
            event_loop_factory(True)
