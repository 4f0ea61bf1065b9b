"""Client peer round trip (call -> result) against the router core, no sockets; vs Autobahn|Python.

Run: ``.venv/bin/python bench/bench_client.py [--quick] [--serializer json|msgpack|cbor]``.

Both sides run in this process against the same wampcore ``Router`` over the identity framing
(``MessageFraming``: whole payloads, no byte framing and no sockets), so the router's share of
the work is identical and the difference is the client peers':

* **wampcore**: a caller and a callee, each a ``ClientPeer``. One round trip: ``call`` ->
  router -> ``InvocationReceived`` -> ``yield_result`` -> router -> ``CallResult``. A small pump
  moves payloads; nothing else runs.
* **Autobahn|Python**: a caller and a callee, each an ``ApplicationSession`` (asyncio flavour,
  via txaio) on an in-memory ``ITransport``: ``send(msg)`` serializes with Autobahn's own
  serializer and hands the payload to the router; router output is unserialized by Autobahn and
  delivered with ``session.onMessage`` on the next loop iteration. The callee is a registered
  Python function; the caller ``await``s ``session.call`` -- Autobahn's normal API. The asyncio
  loop (needed for its futures) is part of what is measured, as it is in any Autobahn
  application.

Round trips are sequential (one call outstanding), then pipelined in batches of 100, which
shows per-message overhead without the loop's wake-ups dominating. Printed: round trips per
second for each, and the ratio (wampcore / Autobahn; above 1 means wampcore is faster).
"""

from __future__ import annotations

import argparse
import asyncio
import random
import time
from typing import Any

from wampcore.client import CallResult, ClientPeer, InvocationReceived, Joined
from wampcore.config import RouterConfig
from wampcore.router import PeerId, Router
from wampcore.transports import MessageFraming

PROCEDURE = "com.bench.echo"
ARGS = [1, "two", {"three": 3.0}]


# --- wampcore ----------------------------------------------------------------------------------


class Link:
    """One ClientPeer and the router-side identity framing it talks to."""

    def __init__(self, router: Router, subprotocol: str) -> None:
        self.router = router
        self.peer = ClientPeer("realm1", MessageFraming(subprotocol))
        self.id: PeerId = router.accept(MessageFraming(subprotocol))

    def pump(self) -> bool:
        moved = False
        for payload in self.peer.payloads_to_send():
            self.router.receive_data(self.id, payload)
            moved = True
        for payload in self.router.payloads_to_send(self.id):
            self.peer.receive_data(payload)
            moved = True
        return moved


def pump(*links: Link) -> None:
    while any([link.pump() for link in links]):
        pass


def wampcore_setup(subprotocol: str) -> tuple[Link, Link]:
    router = Router(RouterConfig(), rng=random.Random(1))
    caller, callee = Link(router, subprotocol), Link(router, subprotocol)
    pump(caller, callee)
    for link in (caller, callee):
        assert isinstance(link.peer.next_event(), Joined)
    callee.peer.register(PROCEDURE)
    pump(caller, callee)
    callee.peer.next_event()
    return caller, callee


def answer(callee: Link) -> None:
    peer = callee.peer
    while (ev := peer.next_event()) is not None:
        if type(ev) is InvocationReceived:
            peer.yield_result(ev.request_id, ev.args, ev.kwargs)


def wampcore_sequential(caller: Link, callee: Link, n: int) -> float:
    peer = caller.peer
    start = time.perf_counter()
    for _ in range(n):
        peer.call(PROCEDURE, ARGS)
        pump(caller, callee)
        answer(callee)
        pump(caller, callee)
        ev = peer.next_event()
        assert type(ev) is CallResult and ev.args == ARGS, ev
    return time.perf_counter() - start


def wampcore_batched(caller: Link, callee: Link, n: int, batch: int) -> float:
    peer = caller.peer
    start = time.perf_counter()
    for _ in range(n // batch):
        for _ in range(batch):
            peer.call(PROCEDURE, ARGS)
        pump(caller, callee)
        answer(callee)
        pump(caller, callee)
        got = 0
        while (ev := peer.next_event()) is not None:
            assert type(ev) is CallResult
            got += 1
        assert got == batch
    return time.perf_counter() - start


# --- Autobahn|Python ---------------------------------------------------------------------------


def autobahn_run(subprotocol: str, n: int, batch: int) -> tuple[float, float] | str:
    """(sequential seconds, batched seconds) for n round trips, or why it could not run."""
    try:
        from autobahn.asyncio.wamp import ApplicationSession
        from autobahn.wamp import serializer as ab_serializer
        from autobahn.wamp.types import ComponentConfig, TransportDetails
    except ImportError as exc:
        return f"autobahn is not installed ({exc})"

    serializers = {
        "wamp.2.json": ab_serializer.JsonSerializer,
        "wamp.2.msgpack": ab_serializer.MsgPackSerializer,
        "wamp.2.cbor": ab_serializer.CBORSerializer,
    }
    binary = not subprotocol.endswith("json")
    router = Router(RouterConfig(), rng=random.Random(2))
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)

    class MemoryTransport:
        """Autobahn's ITransport over the router: whole payloads both ways, in memory."""

        def __init__(self, session: Any) -> None:
            self.session = session
            self._serializer = serializers[subprotocol]()  # Autobahn reads this name
            self.id = router.accept(MessageFraming(subprotocol))
            self.transport_details = TransportDetails()
            self._open = True
            self._scheduled = False

        def send(self, msg: Any) -> None:
            payload, _binary = self._serializer.serialize(msg)
            router.receive_data(self.id, payload)
            for t in transports:
                t.schedule()

        def schedule(self) -> None:
            if not self._scheduled:
                self._scheduled = True
                loop.call_soon(self.deliver)

        def deliver(self) -> None:
            self._scheduled = False
            for payload in router.payloads_to_send(self.id):
                for msg in self._serializer.unserialize(payload, binary):
                    self.session.onMessage(msg)

        def isOpen(self) -> bool:
            return self._open

        def close(self) -> None:
            self._open = False

        def abort(self) -> None:
            self._open = False

    joined: list[asyncio.Future[None]] = []

    class Session(ApplicationSession):  # type: ignore[misc]
        def __init__(self) -> None:
            super().__init__(ComponentConfig(realm="realm1"))
            self.ready: asyncio.Future[None] = loop.create_future()

        def onJoin(self, details: Any) -> None:
            self.ready.set_result(None)

    transports: list[MemoryTransport] = []
    caller, callee = Session(), Session()
    for session in (caller, callee):
        transport = MemoryTransport(session)
        transports.append(transport)
        session.onOpen(transport)
        joined.append(session.ready)

    async def main() -> tuple[float, float]:
        await asyncio.gather(*joined)
        await callee.register(lambda *args, **kwargs: args, PROCEDURE)
        start = time.perf_counter()
        for _ in range(n):
            result = await caller.call(PROCEDURE, *ARGS)
            assert list(result) == ARGS, result
        sequential = time.perf_counter() - start
        start = time.perf_counter()
        for _ in range(n // batch):
            results = await asyncio.gather(*(caller.call(PROCEDURE, *ARGS) for _ in range(batch)))
            assert len(results) == batch
        return sequential, time.perf_counter() - start

    try:
        # A failure inside a loop callback would otherwise leave the awaited call hanging.
        return loop.run_until_complete(asyncio.wait_for(main(), timeout=600))
    finally:
        loop.close()


# --- report ------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer round trips (a smoke run)")
    parser.add_argument("--serializer", default="json", choices=["json", "msgpack", "cbor"])
    opts = parser.parse_args()
    n = 500 if opts.quick else 10_000
    batch = 100
    subprotocol = f"wamp.2.{opts.serializer}"

    caller, callee = wampcore_setup(subprotocol)
    wampcore_sequential(caller, callee, min(n, 500))  # warm-up
    ours_seq = wampcore_sequential(caller, callee, n)
    ours_batch = wampcore_batched(caller, callee, n, batch)

    theirs = autobahn_run(subprotocol, n, batch)
    print(
        f"client round trip (call -> result) through the wampcore router, {opts.serializer}, "
        f"{n} calls, no sockets"
    )
    print(f"{'':26}{'sequential rt/s':>18}{'pipelined rt/s':>18}")
    print(f"{'wampcore ClientPeer':26}{n / ours_seq:>18,.0f}{n / ours_batch:>18,.0f}")
    if isinstance(theirs, str):
        print(f"Autobahn|Python: not measured: {theirs}")
        return
    ab_seq, ab_batch = theirs
    print(f"{'Autobahn ApplicationSession':26}{n / ab_seq:>18,.0f}{n / ab_batch:>18,.0f}")
    seq_ratio, batch_ratio = ab_seq / ours_seq, ab_batch / ours_batch
    print(f"{'ratio (wampcore/Autobahn)':26}{seq_ratio:>17.2f}x{batch_ratio:>17.2f}x")


if __name__ == "__main__":
    main()
