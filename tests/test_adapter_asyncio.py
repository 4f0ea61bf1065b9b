"""asyncio adapter on loopback: wampcore clients against a wampcore router served by ``serve``.

Ephemeral ports on 127.0.0.1 only, hard timeouts, no timing assertions.
"""

from __future__ import annotations

import asyncio
import socket
import ssl
import tempfile
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
from wampcore.adapters.asyncio import (
    CallResult,
    ConnectionLost,
    ConnectionRefused,
    Reconnect,
    RouterServer,
    RouterUnreachable,
    Session,
    SessionAborted,
    TLSFailed,
    connect,
    serve,
)
from wampcore.adapters.asyncio_server import Listener, ListenError

from wampcore.config import Limits, RouterConfig
from wampcore.errors import ApplicationError
from wampcore.router import EventsDropped, Router

pytestmark = pytest.mark.timeout(60)

LISTENERS = ("ws://127.0.0.1:0/ws", "rs://127.0.0.1:0")


def run(test: Callable[[], Awaitable[None]]) -> None:
    async def bounded() -> None:
        async with asyncio.timeout(30):
            await test()

    asyncio.run(bounded())


async def started(*listeners: str | Listener, **kwargs: Any) -> RouterServer:
    config = kwargs.pop("config", None)
    return await serve(Router(config), listeners or LISTENERS, **kwargs)


def url_of(server: RouterServer, scheme: str) -> str:
    return next(u for u in server.urls if u.startswith(scheme + "://"))


@pytest.mark.parametrize("scheme", ["ws", "rs"])
@pytest.mark.parametrize("serializer", ["json", "msgpack", "cbor"])
def test_rpc_and_pubsub_every_transport_and_serializer(scheme: str, serializer: str) -> None:
    """wamp-spec §3.3/§3.4: join, register/call, subscribe/publish over each transport."""

    async def test() -> None:
        async with await started() as server:
            url = url_of(server, scheme)
            events: asyncio.Queue[Any] = asyncio.Queue()
            async with connect(url, "realm1", serializers=[serializer]) as callee:
                assert callee.session_id is not None
                await callee.register("com.example.add", lambda a, b: a + b)
                await callee.subscribe(
                    "com.example.news", lambda *a, **k: events.put_nowait((a, k))
                )
                async with connect(url, "realm1", serializers=[serializer]) as caller:
                    assert await caller.call("com.example.add", 2, 3) == 5
                    pub = await caller.publish(
                        "com.example.news", "hi", b"\x00\xff", n=1, acknowledge=True
                    )
                    assert isinstance(pub, int)
                    assert await events.get() == (("hi", b"\x00\xff"), {"n": 1})

    run(test)


def test_results_shapes_and_application_errors_both_ways() -> None:
    """wamp-spec §3.4: the callee's error URI, args and kwargs reach the caller unchanged."""

    async def test() -> None:
        async with await started() as server, connect(url_of(server, "rs"), "realm1") as s:

            def oops(x: int) -> None:
                raise ApplicationError("com.example.oops", x, kwargs={"why": "because"})

            def broken() -> None:
                raise KeyError("not a WAMP error")

            async def many() -> CallResult:
                return CallResult([1, 2], {"k": "v"})

            await s.register("com.example.oops", oops)
            await s.register("com.example.broken", broken)
            await s.register("com.example.many", many)
            await s.register("com.example.none", lambda: None)
            with pytest.raises(ApplicationError) as info:
                await s.call("com.example.oops", 7)
            assert (info.value.error, info.value.args_list, info.value.kwargs) == (
                "com.example.oops",
                [7],
                {"why": "because"},
            )
            with pytest.raises(ApplicationError) as info:
                await s.call("com.example.broken")
            assert info.value.error == "wamp.error.runtime_error"
            assert await s.call("com.example.many") == CallResult([1, 2], {"k": "v"})
            assert await s.call("com.example.none") is None
            with pytest.raises(ApplicationError) as info:
                await s.call("com.example.missing")
            assert info.value.error == "wamp.error.no_such_procedure"

    run(test)


def test_progressive_results_from_an_async_generator() -> None:
    """wamp-spec §4.2: an async-generator callee streams; the caller iterates."""

    async def test() -> None:
        async with await started() as server, connect(url_of(server, "ws"), "realm1") as s:

            async def count(n: int) -> AsyncIterator[int]:
                for i in range(n):
                    yield i

            await s.register("com.example.count", count)
            assert [x async for x in s.call_progressive("com.example.count", 4)] == [0, 1, 2, 3]
            # Without receive_progress the caller gets only the last value as the result.
            assert await s.call("com.example.count", 3) == 2

    run(test)


def test_cancelling_the_awaiting_task_sends_cancel() -> None:
    """wamp-spec §4.5: CANCEL reaches the dealer, which INTERRUPTs the callee."""

    async def test() -> None:
        async with await started() as server, connect(url_of(server, "ws"), "realm1") as s:
            started_ev, interrupted = asyncio.Event(), asyncio.Event()

            async def forever() -> None:
                started_ev.set()
                try:
                    await asyncio.Event().wait()
                except asyncio.CancelledError:
                    interrupted.set()
                    raise

            await s.register("com.example.forever", forever)
            task = asyncio.ensure_future(s.call("com.example.forever"))
            await started_ev.wait()
            task.cancel()
            await interrupted.wait()
            with pytest.raises(asyncio.CancelledError):
                await task
            await s.register("com.example.echo", lambda x: x)
            assert await s.call("com.example.echo", "still joined") == "still joined"

    run(test)


def test_call_timeout_raises_timeout_error() -> None:
    """wamp-spec §4.4: ``timeout=`` ends the call with wamp.error.timeout."""

    async def test() -> None:
        async with await started() as server, connect(url_of(server, "rs"), "realm1") as s:

            async def forever() -> None:
                await asyncio.Event().wait()

            await s.register("com.example.forever", forever)
            with pytest.raises(ApplicationError) as info:
                await s.call("com.example.forever", timeout=0.2)
            assert info.value.error == "wamp.error.timeout"

    run(test)


def test_unix_sockets() -> None:
    """RawSocket and WebSocket over Unix sockets (wamp-spec §6: RawSocket runs over Unix)."""

    async def test() -> None:
        with tempfile.TemporaryDirectory() as tmp:
            rs, ws = f"rs+unix://{tmp}/rs.sock", f"ws+unix://{tmp}/ws.sock"
            async with await started(rs, ws):
                for url in (rs, ws):
                    async with connect(url, "realm1") as s:
                        await s.register("com.example.echo", lambda x: x)
                        assert await s.call("com.example.echo", url) == url

    run(test)


def test_tls_with_a_throwaway_ca() -> None:
    """wss:// and rss:// with caller-supplied contexts; an untrusted certificate is TLSFailed."""
    trustme = pytest.importorskip("trustme")
    ca = trustme.CA()
    server_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(server_ctx)
    client_ctx = ssl.create_default_context()
    ca.configure_trust(client_ctx)

    async def test() -> None:
        listeners = [
            Listener("wss://127.0.0.1:0/ws", server_ctx),
            Listener("rss://127.0.0.1:0", server_ctx),
        ]
        async with await started(*listeners) as server:
            for url in server.urls:
                async with connect(url, "realm1", ssl=client_ctx) as s:
                    await s.register("com.example.echo", lambda x: x)
                    assert await s.call("com.example.echo", 1) == 1
                with pytest.raises(TLSFailed):
                    await connect(url, "realm1", ssl=ssl.create_default_context(), timeout=5)

    run(test)


def test_typed_errors_for_refused_unreachable_and_unknown_realm() -> None:
    """Connection failures are typed exceptions with a message that says what happened."""

    async def test() -> None:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            free_port = probe.getsockname()[1]
        with pytest.raises(ConnectionRefused, match="refused"):
            await connect(f"rs://127.0.0.1:{free_port}", "realm1")
        # A listener that accepts but never answers the handshake.
        accepted: list[asyncio.StreamWriter] = []
        silent = await asyncio.start_server(lambda r, w: accepted.append(w), "127.0.0.1", 0)
        port = silent.sockets[0].getsockname()[1]
        with pytest.raises(RouterUnreachable, match="no answer"):
            await connect(f"ws://127.0.0.1:{port}/ws", "realm1", timeout=0.3)
        silent.close()
        for writer in accepted:  # the silent side's end of the connection
            writer.close()
            await writer.wait_closed()
        async with await started() as server:
            with pytest.raises(SessionAborted) as info:
                await connect(url_of(server, "ws"), "no.such.realm")
            assert info.value.reason == "wamp.error.no_such_realm"

    run(test)


def test_port_in_use_is_a_listen_error() -> None:
    async def test() -> None:
        async with await started("rs://127.0.0.1:0") as server:
            with pytest.raises(ListenError, match="cannot listen on"):
                await started(server.urls[0])

    run(test)


def test_graceful_shutdown_sends_system_shutdown_and_fails_pending_calls() -> None:
    """wamp-spec §3.2: the router's GOODBYE reason reaches the client; a pending call fails."""

    async def test() -> None:
        server = await started()
        left: list[str] = []
        callee = await connect(url_of(server, "rs"), "realm1")

        async def forever() -> None:
            await asyncio.Event().wait()

        await callee.register("com.example.forever", forever)
        caller = await connect(
            url_of(server, "ws"), "realm1", on_leave=lambda s, why: left.append(why)
        )
        pending = asyncio.ensure_future(caller.call("com.example.forever"))
        await asyncio.sleep(0)
        await server.close()
        with pytest.raises(ConnectionLost):
            await pending
        await caller.wait_closed()
        assert any("wamp.close.system_shutdown" in why for why in left)
        await callee.wait_closed()

    run(test)


def test_reconnect_restores_registrations_and_subscriptions() -> None:
    """A reconnecting client re-registers and re-subscribes; callbacks observe each join."""

    async def test() -> None:
        server = await started("rs://127.0.0.1:0")
        url = server.urls[0]
        joins: list[int | None] = []
        events: asyncio.Queue[Any] = asyncio.Queue()
        rejoined = asyncio.Event()

        def on_join(s: Session) -> None:
            joins.append(s.session_id)
            if len(joins) == 2:
                rejoined.set()

        s = await connect(
            url, "realm1", reconnect=Reconnect(initial_delay=0.05, max_delay=0.2), on_join=on_join
        )
        await s.register("com.example.echo", lambda x: x)
        await s.subscribe("com.example.news", lambda x: events.put_nowait(x))
        await server.close()
        server = await started(url)
        await rejoined.wait()
        async with connect(url, "realm1") as other:
            assert await other.call("com.example.echo", "back") == "back"
            await other.publish("com.example.news", "again", acknowledge=True)
        assert await events.get() == "again"
        await s.leave()
        await server.close()

    run(test)


def test_slow_reader_meets_the_routers_outbound_budget() -> None:
    """A subscriber that stops reading: the server stops draining it, the router drops events."""

    async def test() -> None:
        dropped: list[EventsDropped] = []
        # The budget is well above what one read from the publisher can queue, so only a
        # server that keeps queued bytes in the router (not in its own buffers) reaches it.
        config = RouterConfig(limits=Limits(outbound_queue_bytes=512 * 1024))
        server = await started(
            "rs://127.0.0.1:0",
            config=config,
            on_event=lambda ev: dropped.append(ev) if isinstance(ev, EventsDropped) else None,
        )
        url = server.urls[0]
        slow = await connect(url, "realm1")
        await slow.subscribe("com.example.flood", lambda x: None)
        link = slow._link
        assert link is not None and link.transport is not None
        link.transport.pause_reading()  # the client stops reading; the kernel buffers fill
        async with connect(url, "realm1") as pub:
            blob = "x" * 16384
            for _ in range(4000):
                await pub.publish("com.example.flood", blob)
                await asyncio.sleep(0)
                if dropped:
                    break
            await pub.publish("com.example.flood", "sync", acknowledge=True)
        assert dropped, "the router never saw backpressure"
        link.transport.abort()
        await server.close()

    run(test)


def test_handler_exceptions_never_crash_the_session() -> None:
    async def test() -> None:
        async with await started() as server, connect(url_of(server, "ws"), "realm1") as s:
            got: asyncio.Queue[int] = asyncio.Queue()

            def bad(x: int) -> None:
                raise RuntimeError("handler bug")

            await s.subscribe("com.example.t", bad)
            await s.subscribe("com.example.t", lambda x: got.put_nowait(x))
            async with connect(url_of(server, "rs"), "realm1") as pub:
                await pub.publish("com.example.t", 1, acknowledge=True)
            assert await got.get() == 1
            await s.register("com.example.echo", lambda x: x)
            assert await s.call("com.example.echo", 2) == 2

    run(test)


def test_a_failed_first_connect_leaves_nothing_running() -> None:
    """With reconnect on, a first connect that fails raises, calls no on_leave, starts no task."""

    async def test() -> None:
        left: list[str] = []
        async with await started("ws://127.0.0.1:0/ws") as server:
            with pytest.raises(SessionAborted):
                await connect(
                    server.urls[0],
                    "no.such.realm",
                    reconnect=True,
                    on_leave=lambda s, why: left.append(why),
                )
            await asyncio.sleep(0.05)
            assert left == []
            assert asyncio.all_tasks() == {asyncio.current_task()}

    run(test)
