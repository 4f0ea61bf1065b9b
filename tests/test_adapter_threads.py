"""threads adapter (blocking client, threaded router server) and the rawsocket_tcp server."""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from wampcore.adapters import rawsocket_tcp
from wampcore.adapters.asyncio import CallResult, ConnectionRefused
from wampcore.adapters.threads import ThreadedRouterServer, connect

from wampcore.errors import ApplicationError
from wampcore.router import Router

pytestmark = pytest.mark.timeout(60)


@pytest.fixture
def server() -> Iterator[ThreadedRouterServer]:
    with ThreadedRouterServer(Router(), ["ws://127.0.0.1:0/ws", "rs://127.0.0.1:0"]) as srv:
        yield srv


@pytest.mark.parametrize("serializer", ["json", "msgpack", "cbor"])
def test_blocking_rpc_pubsub_and_errors_on_the_threaded_server(
    server: ThreadedRouterServer, serializer: str
) -> None:
    """wamp-spec §3.3/§3.4 through the blocking API, over both of the server's listeners."""
    ws, rs = server.urls
    got: queue.Queue[Any] = queue.Queue()
    handler_threads: set[str] = set()

    def add(a: int, b: int) -> int:
        handler_threads.add(threading.current_thread().name)
        return a + b

    def oops() -> None:
        raise ApplicationError("com.example.oops", 1, kwargs={"k": 2})

    with connect(ws, "realm1", serializers=[serializer]) as callee:
        callee.register("com.example.add", add)
        callee.register("com.example.oops", oops)
        callee.subscribe("com.example.news", lambda *a, **k: got.put((a, k)))
        with connect(rs, "realm1", serializers=[serializer]) as caller:
            assert caller.call("com.example.add", 2, 3) == 5
            with pytest.raises(ApplicationError) as info:
                caller.call("com.example.oops")
            assert (info.value.error, info.value.args_list, info.value.kwargs) == (
                "com.example.oops",
                [1],
                {"k": 2},
            )
            caller.publish("com.example.news", "hi", n=1, acknowledge=True)
            assert got.get(timeout=10) == (("hi",), {"n": 1})
    # Blocking handlers run on the handler pool, never on the client's event-loop thread.
    assert handler_threads and not handler_threads & {"wampcore-client"}


def test_generator_handlers_stream_progressive_results(server: ThreadedRouterServer) -> None:
    """wamp-spec §4.2 with plain generators and a plain iterator on the caller side."""

    def count(n: int) -> Iterator[int]:
        yield from range(n)

    with connect(server.urls[1], "realm1") as s:
        s.register("com.example.count", count)
        assert list(s.call_progressive("com.example.count", 3)) == [0, 1, 2]
        assert s.call("com.example.count", 3) == 2


def test_calls_from_many_threads_at_once(server: ThreadedRouterServer) -> None:
    """The blocking session is safe to share between threads."""
    results: queue.Queue[Any] = queue.Queue()
    with connect(server.urls[0], "realm1") as s:
        s.register("com.example.echo", lambda *a: CallResult(list(a)))

        def worker(i: int) -> None:
            for j in range(20):
                results.put(s.call("com.example.echo", i, j))

        workers = [threading.Thread(target=worker, args=(i,)) for i in range(8)]
        for w in workers:
            w.start()
        for w in workers:
            w.join(30)
    seen = {tuple(results.get_nowait().args) for _ in range(results.qsize())}
    assert seen == {(i, j) for i in range(8) for j in range(20)}


def test_threaded_server_shutdown_says_system_shutdown() -> None:
    """wamp-spec §3.2: closing the server sends every session GOODBYE system_shutdown."""
    reasons: list[str] = []
    srv = ThreadedRouterServer(Router(), ["rs://127.0.0.1:0"]).start()
    s = connect(srv.urls[0], "realm1", on_leave=lambda _s, why: reasons.append(why))
    srv.close()
    s.leave()
    assert any("wamp.close.system_shutdown" in r for r in reasons), reasons
    with pytest.raises(ConnectionRefused):
        connect(srv.urls[0], "realm1")


@pytest.mark.parametrize("serializer", ["json", "msgpack", "cbor"])
def test_rawsocket_tcp_serves_a_router(serializer: str) -> None:
    """The selectors example adapter is a complete RawSocket router server (wamp-spec §6)."""
    stop = threading.Event()
    ports: queue.Queue[int] = queue.Queue()
    thread = threading.Thread(
        target=rawsocket_tcp.serve,
        args=(Router(),),
        kwargs={"port": 0, "ready": ports.put, "stop": stop.is_set},
        daemon=True,
    )
    thread.start()
    url = f"rs://127.0.0.1:{ports.get(timeout=10)}"
    got: queue.Queue[Any] = queue.Queue()
    reasons: list[str] = []
    with connect(url, "realm1", serializers=[serializer]) as a:
        a.register("com.example.add", lambda x, y: x + y)
        a.subscribe("com.example.t", got.put)
        b = connect(
            url, "realm1", serializers=[serializer], on_leave=lambda _s, r: reasons.append(r)
        )
        assert b.call("com.example.add", 1, 2) == 3
        b.publish("com.example.t", "event", acknowledge=True)
        assert got.get(timeout=10) == "event"
        stop.set()
        thread.join(15)
        assert not thread.is_alive()
        b.leave()
    assert any("wamp.close.system_shutdown" in r for r in reasons), reasons


def test_threaded_server_over_tls_and_unix_sockets(tmp_path: Any) -> None:
    """The threaded server's listeners: RawSocket over TLS (trustme CA) and over a Unix socket."""
    import ssl

    from wampcore.adapters.asyncio import Listener

    trustme = pytest.importorskip("trustme")
    ca = trustme.CA()
    server_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(server_ctx)
    client_ctx = ssl.create_default_context()
    ca.configure_trust(client_ctx)
    listeners = [Listener("rss://127.0.0.1:0", server_ctx), f"rs+unix://{tmp_path}/router.sock"]
    with ThreadedRouterServer(Router(), listeners) as srv:
        tls_url, unix_url = srv.urls
        with connect(tls_url, "realm1", ssl=client_ctx) as a, connect(unix_url, "realm1") as b:
            a.register("com.example.where", lambda: "tls")
            assert b.call("com.example.where") == "tls"


def test_calls_after_leave_fail_fast(server: ThreadedRouterServer) -> None:
    from wampcore.adapters.threads import ConnectionLost

    s = connect(server.urls[0], "realm1")
    s.register("com.example.count", lambda: iter(range(3)))
    stream = s.call_progressive("com.example.count")
    s.leave()
    with pytest.raises(ConnectionLost):
        s.call("com.example.count")
    with pytest.raises(ConnectionLost):
        next(stream)
