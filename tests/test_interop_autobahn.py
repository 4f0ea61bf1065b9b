"""Interop: Autobahn|Python (asyncio flavour, from PyPI) clients against ``wampcore router``.

The router runs as a subprocess on ephemeral loopback ports (``--listen``); every transport and
serializer combination joins, registers and calls, subscribes and publishes, and sees errors.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest
from adapterkit import Router, run_closing

autobahn = pytest.importorskip("autobahn")
txaio = pytest.importorskip("txaio")
txaio.use_asyncio()

from autobahn.asyncio.rawsocket import WampRawSocketClientFactory  # noqa: E402
from autobahn.asyncio.wamp import ApplicationSession  # noqa: E402
from autobahn.asyncio.websocket import WampWebSocketClientFactory  # noqa: E402
from autobahn.wamp.exception import ApplicationError as ABApplicationError  # noqa: E402
from autobahn.wamp.serializer import (  # noqa: E402
    CBORSerializer,
    JsonSerializer,
    MsgPackSerializer,
)
from autobahn.wamp.types import (  # noqa: E402
    CallOptions,
    ComponentConfig,
    PublishOptions,
    RegisterOptions,
    SubscribeOptions,
)

pytestmark = pytest.mark.timeout(120)

SERIALIZERS = {"json": JsonSerializer, "msgpack": MsgPackSerializer, "cbor": CBORSerializer}


@pytest.fixture(scope="module")
def router() -> Iterator[Router]:
    with Router() as r:
        yield r


#: Sessions whose transport is not yet closed: ``run`` leaves and awaits them, so no socket
#: outlives a test.
_OPEN: set[Any] = set()


async def join(url: str, realm: str, serializer: str) -> Any:
    """An Autobahn ApplicationSession joined to ``realm`` at ``url`` (ws:// or rs://)."""
    loop = asyncio.get_running_loop()
    joined: asyncio.Future[Any] = loop.create_future()

    class Session(ApplicationSession):  # type: ignore[misc]
        def __init__(self, config: ComponentConfig) -> None:
            super().__init__(config)
            self.disconnected: asyncio.Future[None] = loop.create_future()
            _OPEN.add(self)

        def onJoin(self, details: Any) -> None:
            if not joined.done():
                joined.set_result(self)

        def onLeave(self, details: Any) -> None:
            if not joined.done():
                joined.set_exception(RuntimeError(f"left: {details.reason} {details.message}"))
            super().onLeave(details)

        def onDisconnect(self) -> None:
            _OPEN.discard(self)
            if not self.disconnected.done():
                self.disconnected.set_result(None)
            super().onDisconnect()

    def make() -> Session:
        return Session(ComponentConfig(realm))

    parts = urlsplit(url)
    ser = SERIALIZERS[serializer]()
    factory: Any
    if parts.scheme == "ws":
        factory = WampWebSocketClientFactory(make, url=url, serializers=[ser])
    else:
        factory = WampRawSocketClientFactory(make, serializer=ser)
    await loop.create_connection(factory, parts.hostname, parts.port)
    async with asyncio.timeout(10):
        return await joined


def run(coro: Any) -> None:
    run_closing(coro, _OPEN, 60)


@pytest.mark.interop(
    peer="autobahn-python",
    transport="{scheme}",
    serializer="{serializer}",
    features=["join", "rpc", "errors", "progressive", "pubsub", "pattern", "exclusion", "binary"],
)
@pytest.mark.parametrize("scheme", ["ws", "rs"])
@pytest.mark.parametrize("serializer", ["json", "msgpack", "cbor"])
def test_autobahn_clients_join_call_publish_and_get_errors(
    router: Router, scheme: str, serializer: str
) -> None:
    """wamp-spec §3.1 (join), §3.3 (pub/sub), §3.4 (RPC and errors), §4.2 (progress)."""
    url = router.urls[scheme]

    async def test() -> None:
        callee = await join(url, "realm1", serializer)
        caller = await join(url, "realm1", serializer)
        assert callee._session_id != caller._session_id

        def add(a: int, b: int) -> int:
            return a + b

        def echo(*args: Any, **kwargs: Any) -> Any:
            return {"args": list(args), "kwargs": kwargs}

        def fail(x: int) -> None:
            raise ABApplicationError("com.example.failed", x, reason="because")

        def stream(n: int, details: Any = None) -> str:
            for i in range(n):
                details.progress(i)
            return "done"

        proc = f"com.example.{scheme}.{serializer}"
        await callee.register(add, f"{proc}.add")
        await callee.register(echo, f"{proc}.echo")
        await callee.register(fail, f"{proc}.fail")
        await callee.register(
            stream, f"{proc}.stream", options=RegisterOptions(details_arg="details")
        )

        assert await caller.call(f"{proc}.add", 2, 3) == 5
        echoed = await caller.call(f"{proc}.echo", 1, "two", b"\x00\x01", k={"n": [1]})
        assert echoed == {"args": [1, "two", b"\x00\x01"], "kwargs": {"k": {"n": [1]}}}

        with pytest.raises(ABApplicationError) as info:
            await caller.call(f"{proc}.fail", 7)
        assert info.value.error == "com.example.failed"
        assert info.value.args == (7,) and info.value.kwargs == {"reason": "because"}
        with pytest.raises(ABApplicationError) as info:
            await caller.call(f"{proc}.missing")
        assert info.value.error == "wamp.error.no_such_procedure"

        progress: list[int] = []
        result = await caller.call(
            f"{proc}.stream", 3, options=CallOptions(on_progress=progress.append)
        )
        assert (progress, result) == ([0, 1, 2], "done")

        events: asyncio.Queue[Any] = asyncio.Queue()
        await callee.subscribe(lambda *a, **k: events.put_nowait((a, k)), f"{proc}.topic")
        await callee.subscribe(
            lambda *a, **k: events.put_nowait(("prefix", a)),
            f"{proc}.",
            options=SubscribeOptions(match="prefix"),
        )
        pub = await caller.publish(
            f"{proc}.topic", "hello", n=1, options=PublishOptions(acknowledge=True)
        )
        assert pub.id > 0
        got = [await events.get(), await events.get()]
        assert (("hello",), {"n": 1}) in got and ("prefix", ("hello",)) in got
        # wamp-spec §3.3: the publisher does not get its own event by default.
        own: asyncio.Queue[Any] = asyncio.Queue()
        await caller.subscribe(lambda *a: own.put_nowait(a), f"{proc}.own")
        await caller.publish(f"{proc}.own", 1, options=PublishOptions(acknowledge=True))
        await caller.publish(
            f"{proc}.own", 2, options=PublishOptions(acknowledge=True, exclude_me=False)
        )
        assert await own.get() == (2,)

        with pytest.raises(ABApplicationError) as info:
            await callee.register(add, f"{proc}.add")
        assert info.value.error == "wamp.error.procedure_already_exists"

        for s in (caller, callee):
            s.leave()
        async with asyncio.timeout(10):
            await asyncio.gather(caller.disconnected, callee.disconnected)

    run(test())


@pytest.mark.interop(peer="autobahn-python", transport="ws", serializer="json", features=["join"])
def test_autobahn_join_to_an_unknown_realm_is_aborted(router: Router) -> None:
    """wamp-spec §3.1: the router answers HELLO for an unknown realm with ABORT."""

    async def test() -> None:
        with pytest.raises(RuntimeError, match=r"wamp\.error\.no_such_realm"):
            await join(router.urls["ws"], "com.example.nowhere", "json")

    run(test())
