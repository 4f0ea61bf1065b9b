"""Interop: wampcore clients (asyncio and threads) against Crossbar.io from PyPI.

Crossbar.io pins heavy dependencies, so it lives in its own virtual environment (.ci/run makes
``.cbvenv``; see adapterkit.crossbar_executable). Without it these tests skip, saying so.
"""

from __future__ import annotations

import asyncio
import queue
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from adapterkit import Crossbar, crossbar_executable
from wampcore.adapters import threads
from wampcore.adapters.asyncio import CallResult, connect

from wampcore.client import ClientPeer, InvocationReceived, Joined
from wampcore.errors import ApplicationError
from wampcore.transports import MessageFraming

pytestmark = pytest.mark.timeout(180)
CROSSBAR = crossbar_executable()


def test_client_peer_accepts_router_scoped_invocation_ids_when_lenient() -> None:
    """Crossbar.io numbers INVOCATIONs per router: the first one a session sees may be 6."""
    peer = ClientPeer("realm1", MessageFraming("wamp.2.json"), strict_request_ids=False)
    peer.payloads_to_send()  # HELLO
    peer.receive_data(b'[2, 1, {"roles": {"dealer": {}, "broker": {}}}]')
    assert isinstance(peer.next_event(), Joined)
    rid = peer.register("com.example.p")
    peer.receive_data(f"[65, {rid}, 77]".encode())
    peer.next_event()
    peer.receive_data(b"[68, 6, 77, {}]")
    event = peer.next_event()
    assert isinstance(event, InvocationReceived) and event.request_id == 6


@pytest.fixture(scope="module")
def crossbar(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Crossbar]:
    if CROSSBAR is None:
        pytest.skip(
            "Crossbar.io is not installed: .ci/run installs it into .cbvenv "
            "(python3 -m venv .cbvenv && .cbvenv/bin/pip install crossbar), or set "
            "WAMPCORE_CROSSBAR to a crossbar executable"
        )
    with Crossbar(CROSSBAR, str(tmp_path_factory.mktemp("crossbar"))) as node:
        yield node


@pytest.mark.interop(
    peer="crossbar",
    transport="{scheme}",
    serializer="{serializer}",
    features=["join", "rpc", "errors", "progressive", "pubsub"],
)
@pytest.mark.parametrize(
    ("scheme", "serializer"), [("ws", "json"), ("ws", "cbor"), ("rs", "msgpack"), ("rs", "cbor")]
)
def test_asyncio_client_against_crossbar(crossbar: Crossbar, scheme: str, serializer: str) -> None:
    """wamp-spec §3.3, §3.4, §4.2: join, pub/sub, RPC, errors, progressive results."""
    url = crossbar.urls[scheme]
    prefix = f"com.example.{scheme}.{serializer}"

    async def test() -> None:
        async with (
            connect(url, "realm1", serializers=[serializer]) as callee,
            connect(url, "realm1", serializers=[serializer]) as caller,
        ):

            def fail(x: int) -> None:
                raise ApplicationError("com.example.failed", x, kwargs={"why": "test"})

            async def count(n: int) -> AsyncIterator[int]:
                for i in range(n):
                    yield i

            await callee.register(f"{prefix}.add", lambda a, b: a + b)
            await callee.register(f"{prefix}.fail", fail)
            await callee.register(f"{prefix}.count", count)
            await callee.register(f"{prefix}.kw", lambda **kw: CallResult([], kw))
            events: asyncio.Queue[Any] = asyncio.Queue()
            await callee.subscribe(f"{prefix}.news", lambda *a, **k: events.put_nowait((a, k)))

            assert await caller.call(f"{prefix}.add", 2, 3) == 5
            assert await caller.call(f"{prefix}.kw", a=1) == CallResult([], {"a": 1})
            with pytest.raises(ApplicationError) as info:
                await caller.call(f"{prefix}.fail", 7)
            assert (info.value.error, info.value.args_list, info.value.kwargs) == (
                "com.example.failed",
                [7],
                {"why": "test"},
            )
            with pytest.raises(ApplicationError) as info:
                await caller.call(f"{prefix}.missing")
            assert info.value.error == "wamp.error.no_such_procedure"
            assert [x async for x in caller.call_progressive(f"{prefix}.count", 3)] == [0, 1, 2]
            publication = await caller.publish(
                f"{prefix}.news", "hi", b"\x01", n=1, acknowledge=True
            )
            assert isinstance(publication, int)
            assert await events.get() == (("hi", b"\x01"), {"n": 1})

    async def bounded() -> None:
        async with asyncio.timeout(60):
            await test()

    asyncio.run(bounded())


@pytest.mark.interop(
    peer="crossbar",
    transport="rawsocket",
    serializer="cbor",
    features=["rpc", "pubsub"],
)
@pytest.mark.interop(
    peer="crossbar",
    transport="websocket",
    serializer="json",
    features=["rpc", "pubsub"],
)
def test_threads_client_against_crossbar(crossbar: Crossbar) -> None:
    got: queue.Queue[Any] = queue.Queue()

    def count(n: int) -> Iterator[int]:
        yield from range(n)

    with (
        threads.connect(crossbar.urls["rs"], "realm1", serializers=["cbor"]) as callee,
        threads.connect(crossbar.urls["ws"], "realm1") as caller,
    ):
        callee.register("com.example.threads.mul", lambda a, b: a * b)
        callee.register("com.example.threads.count", count)
        callee.subscribe("com.example.threads.news", got.put)
        assert caller.call("com.example.threads.mul", 6, 7) == 42
        assert list(caller.call_progressive("com.example.threads.count", 3)) == [0, 1, 2]
        with pytest.raises(ApplicationError) as info:
            caller.call("com.example.threads.missing")
        assert info.value.error == "wamp.error.no_such_procedure"
        caller.publish("com.example.threads.news", "hello", acknowledge=True)
        assert got.get(timeout=10) == "hello"
