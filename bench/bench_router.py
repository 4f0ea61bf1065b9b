"""Router core throughput with no sockets: routed calls/s and delivered events/s.

Run: ``.venv/bin/python bench/bench_router.py [--quick]``. Prints one table.

Every peer talks RawSocket to the router through real framings; what is timed is the router
core alone: ``receive_data`` (framing, decoding, validation, the state table, routing,
encoding for every recipient) and ``data_to_send`` for every peer. The client side's work is
kept out of the timing: requests are encoded before the clock starts, and the router's output
is only checked (counted, with a sample decoded) after it stops. The clock is this process's CPU
time, so other load on a shared machine hardly moves the figures.

* calls: one caller, one callee; CALLs go in batches of 500 (within the default limit on
  pending calls), then the callee's YIELDs for them; one routed call = CALL -> INVOCATION ->
  YIELD -> RESULT.
* events: one publisher, 1 or 100 subscribers of one topic; unacknowledged PUBLISHes in batches
  of 500, every subscriber's output drained after each batch; the figure counts delivered
  EVENTs (publications x subscribers).
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from typing import Any

from wampcore.config import Limits, RouterConfig
from wampcore.router import PeerId, Router
from wampcore.serializers import get_serializer
from wampcore.transports import Payload, RawSocketClient, RawSocketServer

ROLES: dict[str, Any] = {
    "publisher": {},
    "subscriber": {},
    "caller": {},
    "callee": {"features": {"call_canceling": True}},
}
BATCH = 500


class Client:
    """A bare RawSocket client: just enough to join and to count what arrives."""

    def __init__(self, router: Router, serializer: str) -> None:
        self.router = router
        self.serializer = get_serializer(serializer)
        self.framing = RawSocketClient(serializer)
        self.peer: PeerId = router.accept(RawSocketServer())
        self.next_id = 1
        self.payloads: list[bytes] = []
        self.flush()
        self.send([1, "realm1", {"roles": ROLES}])
        self.flush()

    def frame(self, wire: list[Any]) -> bytes:
        """The bytes of one message as it would leave the client's socket."""
        self.framing.send(self.serializer.encode(wire))
        return self.framing.data_to_send()

    def send(self, wire: list[Any]) -> None:
        self.router.receive_data(self.peer, self.frame(wire))

    def flush(self) -> None:
        """Move everything in both directions and parse what arrived (outside timings)."""
        data = self.framing.data_to_send()
        if data:
            self.router.receive_data(self.peer, data)
        self.receive(self.router.data_to_send(self.peer))

    def receive(self, data: bytes) -> None:
        self.framing.receive_data(data)
        while (event := self.framing.next_event()) is not None:
            if isinstance(event, Payload):
                self.payloads.append(event.data)

    def take(self) -> list[list[Any]]:
        out = [m for p in self.payloads for m in self.serializer.decode(p)]
        self.payloads = []
        return out

    def request_id(self) -> int:
        rid, self.next_id = self.next_id, self.next_id + 1
        return rid


def _router() -> Router:
    return Router(
        RouterConfig(limits=Limits(outbound_queue_bytes=64 * 1024 * 1024)), rng=random.Random(1)
    )


def bench_calls(serializer: str, n: int) -> float:
    router = _router()
    callee, caller = Client(router, serializer), Client(router, serializer)
    callee.send([64, callee.request_id(), {}, "com.bench.add"])
    callee.flush()
    callee.take()
    caller.take()
    invocation_id = 0
    elapsed = 0.0
    done = 0
    for start in range(0, n, BATCH):
        count = min(BATCH, n - start)
        calls = b"".join(
            caller.frame([48, caller.request_id(), {}, "com.bench.add", [1, 2]])
            for _ in range(count)
        )
        yields = b"".join(callee.frame([70, invocation_id + i + 1, {}, [3]]) for i in range(count))
        invocation_id += count
        t0 = time.process_time()
        router.receive_data(caller.peer, calls)
        to_callee = router.data_to_send(callee.peer)
        router.receive_data(callee.peer, yields)
        to_caller = router.data_to_send(caller.peer)
        elapsed += time.process_time() - t0
        callee.receive(to_callee)
        caller.receive(to_caller)
        results = caller.take()
        invocations = callee.take()
        assert len(invocations) == count and all(m[0] == 68 for m in invocations), invocations[:2]
        assert len(results) == count and all(m[0] == 50 for m in results), results[:2]
        done += count
    return done / elapsed


def bench_events(serializer: str, subscribers: int, n: int) -> float:
    router = _router()
    subs = [Client(router, serializer) for _ in range(subscribers)]
    for s in subs:
        s.send([32, s.request_id(), {}, "com.bench.topic"])
        s.flush()
        s.take()
    publisher = Client(router, serializer)
    publisher.take()
    elapsed = 0.0
    delivered = 0
    for start in range(0, n, BATCH):
        count = min(BATCH, n - start)
        publishes = b"".join(
            publisher.frame([16, publisher.request_id(), {}, "com.bench.topic", ["tick", 42]])
            for _ in range(count)
        )
        t0 = time.process_time()
        router.receive_data(publisher.peer, publishes)
        outputs = [router.data_to_send(s.peer) for s in subs]
        elapsed += time.process_time() - t0
        for s, data in zip(subs, outputs, strict=True):
            s.receive(data)
            got = len(s.payloads)
            assert got == count, (got, count)
            delivered += got
        subs[0].take()  # decode one subscriber's events as a sanity check
        for s in subs[1:]:
            s.payloads = []
    return delivered / elapsed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer iterations (a smoke run)")
    parser.add_argument("--repeat", type=int, default=3, help="runs per figure; the best counts")
    parser.add_argument(
        "--profile",
        choices=("calls", "events1", "events10", "events1000"),
        help="run one msgpack scenario under cProfile and print where the time goes",
    )
    args = parser.parse_args(argv)
    if args.profile:
        return _profile(args.profile, quick=args.quick)
    calls_n = 2_000 if args.quick else 20_000
    events_n = 2_000 if args.quick else 20_000
    fanout_n = 200 if args.quick else 2_000
    repeat = 1 if args.quick else max(1, args.repeat)

    def best(bench: Any, *args: Any) -> str:
        # The best of several runs: other load on the machine only ever slows a run down.
        return f"{max(bench(*args) for _ in range(repeat)):,.0f}"

    rows: list[tuple[str, str, str]] = []
    for serializer in ("json", "msgpack"):
        rows.append(("routed calls/s", serializer, best(bench_calls, serializer, calls_n)))
    for serializer in ("json", "msgpack"):
        rate = best(bench_events, serializer, 1, events_n)
        rows.append(("delivered events/s, 1 subscriber", serializer, rate))
        rate = best(bench_events, serializer, 10, events_n // 10)
        rows.append(("delivered events/s, 10 subscribers", serializer, rate))
        rate = best(bench_events, serializer, 100, fanout_n)
        rows.append(("delivered events/s, 100 subscribers", serializer, rate))

    print(f"wampcore router core, no sockets (Python {sys.version.split()[0]}, best of {repeat})")
    widths = [max(len(r[i]) for r in [("what", "serializer", "rate"), *rows]) for i in range(3)]
    header = ("what", "serializer", "rate")
    print("  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)))
    print("  ".join("-" * w for w in widths))
    for row in rows:
        print(f"{row[0].ljust(widths[0])}  {row[1].ljust(widths[1])}  {row[2].rjust(widths[2])}")
    return 0


def _profile(scenario: str, *, quick: bool) -> int:
    import cProfile
    import pstats

    scale = 1 if quick else 5
    run: Any
    if scenario == "calls":
        run = lambda: bench_calls("msgpack", 2_000 * scale)  # noqa: E731
    else:
        subscribers = int(scenario.removeprefix("events"))
        n = max(BATCH, 20_000 * scale // subscribers)
        run = lambda: bench_events("msgpack", subscribers, n)  # noqa: E731
    profiler = cProfile.Profile(time.process_time)
    profiler.enable()
    rate = run()
    profiler.disable()
    print(f"{scenario}: {rate:,.0f}/s under the profiler ({1e6 / rate:.2f} us per operation)")
    pstats.Stats(profiler).sort_stats("tottime").print_stats(25)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
