"""Router memory per idle joined session, in process: what the core itself keeps per session.

Run: ``.venv/bin/python bench/bench_memory.py [--sessions N] [--top K]``. Prints, for RawSocket and
WebSocket (msgpack), the bytes ``tracemalloc`` sees allocated per joined, idle session (framing,
connection record, state table, session, the router's tables) and the allocation sites that
account for most of it. Sockets and the event loop's per-connection objects are not included:
``bench_compare.py`` measures the real ``wampcore router`` process (RSS), and
``tests/test_router_scale.py`` does so with 10,000 sessions.

Each session is joined through real framings (a RawSocket or WebSocket client framing on the
other side, its HELLO announcing the four client roles), then the client side is dropped; 50
sessions are joined first so that one-time allocations are not counted.
"""

from __future__ import annotations

import argparse
import gc
import random
import tracemalloc
from typing import Any

from wampcore.router import Router
from wampcore.serializers import get_serializer
from wampcore.transports import RawSocketClient, RawSocketServer, WebSocketClient, WebSocketServer

ROLES: dict[str, Any] = {
    "publisher": {},
    "subscriber": {},
    "caller": {},
    "callee": {"features": {"call_canceling": True, "progressive_call_results": True}},
}
INFO = {"type": "rawsocket", "protocol": "rs", "peer": "tcp4:127.0.0.1:50000", "tls": False}


def _join(router: Router, transport: str) -> None:
    serializer = get_serializer("msgpack")
    client: RawSocketClient | WebSocketClient
    server: RawSocketServer | WebSocketServer
    if transport == "rawsocket":
        client, server = RawSocketClient("msgpack"), RawSocketServer()
    else:
        client = WebSocketClient("127.0.0.1", subprotocols=["wamp.2.msgpack"])
        server = WebSocketServer()
    peer = router.accept(server, dict(INFO), now=0.0)
    router.receive_data(peer, client.data_to_send(), now=0.0)
    client.receive_data(router.data_to_send(peer))
    while client.next_event() is not None:
        pass
    client.send(serializer.encode([1, "realm1", {"roles": ROLES, "agent": "bench"}]))
    router.receive_data(peer, client.data_to_send(), now=0.0)
    client.receive_data(router.data_to_send(peer))
    while client.next_event() is not None:
        pass
    while router.next_event() is not None:  # an adapter drains them
        pass


def measure(transport: str, sessions: int, top: int) -> None:
    router = Router(rng=random.Random(1))
    for _ in range(50):
        _join(router, transport)
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.take_snapshot()
        used0, _ = tracemalloc.get_traced_memory()
        for _ in range(sessions):
            _join(router, transport)
        gc.collect()
        used1, _ = tracemalloc.get_traced_memory()
        after = tracemalloc.take_snapshot()
    finally:
        tracemalloc.stop()
    assert router.session_count() == sessions + 50
    per = (used1 - used0) / sessions
    print(f"{transport}: {per:,.0f} bytes ({per / 1024:.2f} KiB) per idle joined session")
    for stat in after.compare_to(before, "lineno")[:top]:
        frame = stat.traceback[0]
        print(f"  {stat.size_diff / sessions:7.0f} B  {frame.filename}:{frame.lineno}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=2000)
    parser.add_argument("--top", type=int, default=8, help="allocation sites to list")
    args = parser.parse_args(argv)
    for transport in ("rawsocket", "websocket"):
        measure(transport, args.sessions, args.top)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
