"""Embedded sessions in both adapters: the client Session API inside the router process.

``RouterServer.local_session`` (asyncio) and ``ThreadedRouterServer.local_session`` (threads)
run user code on the router's own internal-session mechanism (wamp-spec.md §4.25 lists them
like any session), with no socket. Real network clients on 127.0.0.1 talk to them.
"""

from __future__ import annotations

import asyncio
import queue
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from wampcore.adapters import threads
from wampcore.adapters.asyncio import RouterServer, SessionAborted, connect, serve

from wampcore.config import Limits, RouterConfig
from wampcore.errors import ApplicationError
from wampcore.router import InternalError, Router

pytestmark = pytest.mark.timeout(60)


def run(test: Callable[[], Awaitable[None]]) -> None:
    async def bounded() -> None:
        async with asyncio.timeout(30):
            await test()

    asyncio.run(bounded())


async def started(config: RouterConfig | None = None) -> tuple[RouterServer, list[Any]]:
    events: list[Any] = []
    server = await serve(Router(config), ["rs://127.0.0.1:0"], on_event=events.append)
    return server, events


def test_embedded_callee_serves_network_callers_wamp_spec_3_4() -> None:
    async def scenario() -> None:
        server, events = await started()
        url = server.urls[0]
        async with server.local_session("realm1") as local:

            def add(a: int, b: int) -> int:
                return a + b

            async def slow(x: int) -> int:
                await asyncio.sleep(0.01)
                return x * 2

            await local.register("com.example.add", add)
            await local.register("com.example.slow", slow)
            async with connect(url, "realm1") as client:
                assert await client.call("com.example.add", 2, 3) == 5
                assert await client.call("com.example.slow", 21) == 42
                # and the other way round: the embedded session calls a network callee
                await client.register("com.example.neg", lambda x: -x)
                assert await local.call("com.example.neg", 7) == -7
        await server.close()
        assert not [e for e in events if isinstance(e, InternalError)]

    run(scenario)


def test_embedded_handler_errors_reach_the_caller_and_the_router_survives_wamp_spec_3_4() -> None:
    """An embedded handler that raises answers with ERROR; the router keeps serving."""

    async def scenario() -> None:
        server, events = await started()
        async with server.local_session("realm1") as local:

            def oops() -> None:
                raise ApplicationError("com.example.oops", "no", kwargs={"why": 1})

            def boom() -> None:
                raise RuntimeError("a bug in user code")

            await local.register("com.example.oops", oops)
            await local.register("com.example.boom", boom)
            async with connect(server.urls[0], "realm1") as client:
                with pytest.raises(ApplicationError) as raised:
                    await client.call("com.example.oops")
                assert raised.value.error == "com.example.oops"
                assert raised.value.kwargs == {"why": 1}
                with pytest.raises(ApplicationError) as raised:
                    await client.call("com.example.boom")
                assert raised.value.error == "wamp.error.runtime_error"
                assert await client.call("wamp.session.count") == 2
        await server.close()
        assert not [e for e in events if isinstance(e, InternalError)]

    run(scenario)


def test_embedded_pubsub_both_ways_wamp_spec_3_3() -> None:
    async def scenario() -> None:
        server, _ = await started()
        async with server.local_session("realm1") as local:
            got: asyncio.Queue[Any] = asyncio.Queue()
            await local.subscribe("com.example.up", got.put_nowait)
            async with connect(server.urls[0], "realm1") as client:
                down: asyncio.Queue[Any] = asyncio.Queue()
                await client.subscribe("com.example.down", down.put_nowait)
                await client.publish("com.example.up", "hello", acknowledge=True)
                assert await got.get() == "hello"
                await local.publish("com.example.down", "world", acknowledge=True)
                assert await down.get() == "world"
        await server.close()

    run(scenario)


def test_embedded_session_is_a_session_of_the_meta_api_wamp_spec_4_25() -> None:
    """Listed with authrole trusted, not counted against max_sessions_per_realm, and its
    leave is an on_leave like any other."""

    async def scenario() -> None:
        config = RouterConfig(limits=Limits(max_sessions_per_realm=1))
        server, _ = await started(config)
        async with connect(server.urls[0], "realm1") as client:
            left: asyncio.Queue[Any] = asyncio.Queue()
            await client.subscribe("wamp.session.on_leave", lambda *a: left.put_nowait(a))
            async with server.local_session("realm1", authid="svc") as local:
                assert local.session_id is not None
                listed = await client.call("wamp.session.list")
                assert sorted(listed) == sorted([client.session_id, local.session_id])
                details = await client.call("wamp.session.get", local.session_id)
                assert (details["authid"], details["authrole"]) == ("svc", "trusted")
                assert details["transport"]["type"] == "local"
                embedded_id = local.session_id
            assert await left.get() == (embedded_id, "svc", "trusted")
            assert await client.call("wamp.session.count") == 1
        await server.close()

    run(scenario)


def test_embedded_session_in_a_missing_realm_is_refused_wamp_spec_3_1() -> None:
    async def scenario() -> None:
        server, _ = await started()
        with pytest.raises(SessionAborted) as refused:
            async with server.local_session("com.example.nowhere"):
                pass
        assert refused.value.reason == "wamp.error.no_such_realm"
        await server.close()

    run(scenario)


def test_killing_an_embedded_session_ends_it_wamp_spec_4_25() -> None:
    async def scenario() -> None:
        server, _ = await started()
        async with connect(server.urls[0], "realm1") as client:
            async with server.local_session("realm1") as local:
                await client.call("wamp.session.kill", local.session_id, message="bye")
                await asyncio.wait_for(local.wait_closed(), 5)
                assert local.session_id is None
                assert "wamp.close.killed" in (local.close_reason or "")
            assert await client.call("wamp.session.count") == 1
        await server.close()

    run(scenario)


def test_server_close_ends_embedded_sessions_wamp_spec_3_2() -> None:
    async def scenario() -> None:
        server, _ = await started()
        async with server.local_session("realm1") as local:
            await server.close()
            await asyncio.wait_for(local.wait_closed(), 5)
            assert "system_shutdown" in (local.close_reason or "")

    run(scenario)


def test_threaded_server_embedded_session_blocking_api_wamp_spec_3_4() -> None:
    with threads.ThreadedRouterServer(Router(), ["rs://127.0.0.1:0"]) as server:
        with server.local_session("realm1", authrole="backend") as local:
            local.register("com.example.add", lambda a, b: a + b)
            got: queue.Queue[Any] = queue.Queue()
            local.subscribe("com.example.news", got.put)
            with threads.connect(server.urls[0], "realm1") as client:
                assert client.call("com.example.add", 20, 22) == 42
                client.publish("com.example.news", "hi", acknowledge=True)
                assert got.get(timeout=5) == "hi"
                details = client.call("wamp.session.get", local.session_id)
                assert details["authrole"] == "backend"
                assert local.call("wamp.session.count") == 2
