"""The asyncio server writes each peer once per event-loop iteration, and no later (issue 11).

Issue 11's levers: "write each peer once per loop iteration" (throughput under load) and the
target "latency with 1 call in flight: p50 and p99 at most half of Crossbar's". A real
``RouterServer`` on loopback serves raw RawSocket+JSON clients (wampcore's own framing and
serializer on plain sockets, so the test decides exactly when bytes arrive) on asyncio's own
loop; the subscriber's server-side ``transport.write`` is counted.
"""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import Callable
from typing import Any

from wampcore.adapters.asyncio_server import RouterServer, event_loop_factory, serve

from wampcore.router import Router
from wampcore.transports import RawSocketClient
from wampcore.transports.base import Payload, Ready

TIMEOUT = 10.0


class _Client:
    """One raw RawSocket+JSON WAMP client on a non-blocking socket of the test's loop."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.framing = RawSocketClient("json")
        self.messages: list[list[Any]] = []
        self.ready = False

    @classmethod
    async def join(cls, port: int) -> _Client:
        sock = socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT)
        sock.setblocking(False)
        client = cls(sock)
        await client.flush()
        await client.until(lambda: client.ready)
        client.send([1, "realm1", {"roles": {"publisher": {}, "subscriber": {}}}])
        await client.flush()
        await client.until(lambda: any(m[0] == 2 for m in client.messages))  # WELCOME
        return client

    def send(self, message: list[Any]) -> None:
        self.framing.send(json.dumps(message).encode())

    def send_now(self, message: list[Any]) -> None:
        """Write synchronously (a small frame fits the socket buffer): the loop does not turn."""
        self.send(message)
        data = self.framing.data_to_send()
        assert self.sock.send(data) == len(data)

    async def flush(self) -> None:
        data = self.framing.data_to_send()
        if data:
            await asyncio.get_running_loop().sock_sendall(self.sock, data)

    async def until(self, done: Callable[[], bool]) -> None:
        loop = asyncio.get_running_loop()
        async with asyncio.timeout(TIMEOUT):
            while not done():
                data = await loop.sock_recv(self.sock, 65536)
                assert data, "the router hung up"
                self.framing.receive_data(data)
                while (event := self.framing.next_event()) is not None:
                    if isinstance(event, Payload):
                        self.messages.append(json.loads(event.data))
                    else:
                        assert isinstance(event, Ready)
                        self.ready = True

    def close(self) -> None:
        self.sock.close()


async def _scene() -> tuple[RouterServer, _Client, list[_Client], list[bool]]:
    """A router, a subscriber to ``t`` and two publishers; the subscriber's writes are logged
    (True: the write happened during a read, i.e. in the iteration that read the request)."""
    server = await serve(Router(), ["rs://127.0.0.1:0"])
    port = int(server.urls[0].rsplit(":", 1)[1])
    subscriber = await _Client.join(port)
    subscriber.send([32, 1, {}, "t"])
    await subscriber.flush()
    await subscriber.until(lambda: any(m[0] == 33 for m in subscriber.messages))
    publishers = [await _Client.join(port), await _Client.join(port)]
    (conn,) = [c for c in server._connections.values() if _is_peer_of(c, subscriber)]
    transport: Any = conn.transport
    writes: list[bool] = []
    reading = [False]
    write, received = transport.write, server.received

    def counting_write(data: bytes) -> None:
        writes.append(reading[0])
        write(data)

    def marking_received(c: Any, data: bytes) -> None:
        reading[0] = True
        try:
            received(c, data)
        finally:
            reading[0] = False

    transport.write = counting_write
    server.received = marking_received  # type: ignore[method-assign]
    return server, subscriber, publishers, writes


def _is_peer_of(conn: Any, client: _Client) -> bool:
    name = client.sock.getsockname()
    return bool(conn.transport.get_extra_info("peername") == name)


def _events(client: _Client) -> int:
    return sum(1 for m in client.messages if m[0] == 36)


def _run(loop: str, main: Callable[[], Any]) -> None:
    with asyncio.Runner(loop_factory=event_loop_factory(loop == "uvloop")) as runner:
        runner.run(main())


async def _close(server: RouterServer, clients: list[_Client]) -> None:
    for client in clients:
        client.close()
    await server.close(timeout=2.0)


def test_two_publications_read_in_one_iteration_reach_a_subscriber_in_one_write() -> None:
    """Issue 11 lever "write each peer once per loop iteration": two PUBLISHes that arrive
    together (both sockets readable in the same iteration) cost the subscriber one write.
    (On asyncio's loop: uvloop's transports cannot have their ``write`` counted.)"""

    async def main() -> None:
        server, subscriber, publishers, writes = await _scene()
        try:
            for round_ in range(1, 4):
                del writes[:]
                for publisher in publishers:  # both in the kernel before the loop polls
                    publisher.send_now([16, round_, {}, "t", [round_]])
                await subscriber.until(lambda n=round_: _events(subscriber) == 2 * n)
                assert len(writes) == 1
        finally:
            await _close(server, [subscriber, *publishers])

    _run("asyncio", main)


def test_a_lone_request_is_written_in_the_iteration_that_read_it_on_asyncio() -> None:
    """Issue 11 target "latency with 1 call in flight": on asyncio's loop, a read that is the
    last callback of its iteration writes what it caused at once, not one turn of the loop
    later (uvloop runs the deferred write before it polls again anyway)."""

    async def main() -> None:
        server, subscriber, publishers, writes = await _scene()
        try:
            for n in range(1, 6):
                publishers[0].send_now([16, n, {}, "t", [n]])
                await subscriber.until(lambda n=n: _events(subscriber) == n)
            assert writes == [True] * 5
        finally:
            await _close(server, [subscriber, *publishers])

    _run("asyncio", main)
