"""End-to-end benchmark: ``wampcore router`` (asyncio adapter) against Crossbar.io.

Both routers run on this machine in the same run and are driven by the same Autobahn|Python
(asyncio) client processes: routed calls/s with 1 and 100 calls in flight (p50/p99 latency at
1), and events/s delivered to 1 and 10 subscribers, with small and 4 KB payloads, over
RawSocket+msgpack and WebSocket+json. One command:

    .venv/bin/python bench/bench_e2e.py [--duration 2] [--repeat 3] [--crossbar PATH]

prints a table with both routers' figures and the ratio wampcore / Crossbar.io (for latency,
Crossbar.io / wampcore: above 1 means wampcore is faster). Crossbar.io comes from
``$WAMPCORE_CROSSBAR``, ``.cbvenv`` (made by .ci/run) or ``/tmp/cbvenv``; without it, only
wampcore's figures are printed, and the table says so.

Method: one router process, one callee (or one process holding every subscriber session) and
one caller (or publisher) process, on loopback. Publishers keep a window of acknowledged
publishes in flight, so a router must route each publish before more arrive. Each scenario
runs ``--repeat`` times, alternating the two routers, and each figure is the median. The machine
is shared by router and clients (and the clients are Autobahn|Python, which costs more CPU per
message than either router), so absolute figures mean little; ratios from one run do.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

SMALL, LARGE = "x" * 16, "x" * 4096
TRANSPORTS = (("rs", "msgpack"), ("ws", "json"))


# --- client roles (each runs in its own process) ------------------------------------------------


async def join(url: str, serializer: str) -> Any:
    import txaio

    txaio.use_asyncio()
    from autobahn.asyncio.rawsocket import WampRawSocketClientFactory
    from autobahn.asyncio.wamp import ApplicationSession
    from autobahn.asyncio.websocket import WampWebSocketClientFactory
    from autobahn.wamp.serializer import JsonSerializer, MsgPackSerializer
    from autobahn.wamp.types import ComponentConfig

    loop = asyncio.get_running_loop()
    joined: asyncio.Future[Any] = loop.create_future()

    class Session(ApplicationSession):  # type: ignore[misc]
        def onJoin(self, details: Any) -> None:
            joined.set_result(self)

    ser = {"json": JsonSerializer, "msgpack": MsgPackSerializer}[serializer]()
    parts = urlsplit(url)
    factory: Any
    if parts.scheme == "ws":
        factory = WampWebSocketClientFactory(
            lambda: Session(ComponentConfig("realm1")), url=url, serializers=[ser]
        )
    else:
        factory = WampRawSocketClientFactory(
            lambda: Session(ComponentConfig("realm1")), serializer=ser
        )
    await loop.create_connection(factory, parts.hostname, parts.port)
    return await asyncio.wait_for(joined, 10)


def emit(obj: Any) -> None:
    print(json.dumps(obj), flush=True)


async def next_line() -> str:
    return await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)


async def role_callee(url: str, serializer: str) -> None:
    session = await join(url, serializer)
    await session.register(lambda payload: payload, "bench.echo")
    emit("ready")
    await next_line()


async def role_caller(url: str, serializer: str, conc: int, duration: float, size: int) -> None:
    session = await join(url, serializer)
    payload = "x" * size
    latencies: list[float] = []
    stop_at = time.perf_counter() + 0.3  # warm-up, not measured
    while time.perf_counter() < stop_at:
        await session.call("bench.echo", payload)

    async def worker() -> None:
        while time.perf_counter() < stop_at:
            t0 = time.perf_counter()
            await session.call("bench.echo", payload)
            latencies.append(time.perf_counter() - t0)

    start = time.perf_counter()
    stop_at = start + duration
    await asyncio.gather(*(worker() for _ in range(conc)))
    elapsed = time.perf_counter() - start
    q = statistics.quantiles(latencies, n=100)
    emit({"rate": len(latencies) / elapsed, "p50": q[49] * 1e3, "p99": q[98] * 1e3})


async def role_subscribers(url: str, serializer: str, count: int) -> None:
    received = [0]

    def on_event(payload: str) -> None:
        received[0] += 1

    for _ in range(count):
        session = await join(url, serializer)
        await session.subscribe(on_event, "bench.topic")
    emit("ready")
    await next_line()  # "start"
    received[0], start = 0, time.perf_counter()
    await next_line()  # "stop"
    emit({"rate": received[0] / (time.perf_counter() - start)})


async def role_publisher(url: str, serializer: str, duration: float, size: int) -> None:
    from autobahn.wamp.types import PublishOptions

    session = await join(url, serializer)
    payload, ack = "x" * size, PublishOptions(acknowledge=True)
    window = 50
    stop_at = time.perf_counter() + duration

    async def worker() -> None:
        while time.perf_counter() < stop_at:
            await session.publish("bench.topic", payload, options=ack)

    await asyncio.gather(*(worker() for _ in range(window)))
    emit("done")


# --- orchestration ------------------------------------------------------------------------------


def spawn(*args: Any) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, __file__, "--role", *map(str, args)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )


def read(proc: subprocess.Popen[str]) -> Any:
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if not line:
        raise RuntimeError(f"bench client {proc.args} failed (exit {proc.wait()})")
    return json.loads(line)


def finish(proc: subprocess.Popen[str]) -> None:
    assert proc.stdin is not None
    try:
        proc.stdin.write("\n")
        proc.stdin.close()
    except BrokenPipeError:
        pass
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()


def measure_rpc(url: str, ser: str, conc: int, size: int, duration: float) -> dict[str, float]:
    callee = spawn("callee", url, ser)
    try:
        assert read(callee) == "ready"
        caller = spawn("caller", url, ser, conc, duration, size)
        result: dict[str, float] = read(caller)
        finish(caller)
        return result
    finally:
        finish(callee)


def measure_events(url: str, ser: str, subs: int, size: int, duration: float) -> dict[str, float]:
    subscribers = spawn("subscribers", url, ser, subs)
    try:
        assert read(subscribers) == "ready"
        assert subscribers.stdin is not None
        subscribers.stdin.write("start\n")
        subscribers.stdin.flush()
        publisher = spawn("publisher", url, ser, duration, size)
        read(publisher)
        finish(publisher)
        time.sleep(0.2)  # events still in flight count
        subscribers.stdin.write("stop\n")
        subscribers.stdin.flush()
        result: dict[str, float] = read(subscribers)
        return result
    finally:
        finish(subscribers)


def scenarios() -> list[tuple[str, str, str, str, int, int]]:
    out = []
    for scheme, ser in TRANSPORTS:
        for size, size_name in ((len(SMALL), "small"), (len(LARGE), "4KB")):
            label = f"{'RawSocket' if scheme == 'rs' else 'WebSocket'}+{ser} {size_name}"
            out.append((f"calls/s, 1 in flight ({label})", "rpc", scheme, ser, 1, size))
            out.append((f"calls/s, 100 in flight ({label})", "rpc", scheme, ser, 100, size))
            out.append((f"events/s, 1 subscriber ({label})", "events", scheme, ser, 1, size))
            out.append((f"events/s, 10 subscribers ({label})", "events", scheme, ser, 10, size))
    return out


def run_all(
    targets: dict[str, dict[str, str]], duration: float, repeat: int
) -> dict[str, dict[str, dict[str, float]]]:
    """Every scenario ``repeat`` times, alternating the routers (so load drifting on a shared
    machine hits both alike); each figure is the median of its repeats."""
    results: dict[str, dict[str, dict[str, float]]] = {name: {} for name in targets}
    for name, kind, scheme, ser, n, size in scenarios():
        measure = measure_rpc if kind == "rpc" else measure_events
        samples: dict[str, list[dict[str, float]]] = {router: [] for router in targets}
        for _ in range(repeat):
            for router, urls in targets.items():
                samples[router].append(measure(urls[scheme], ser, n, size, duration))
        for router, runs in samples.items():
            results[router][name] = {
                key: statistics.median(run[key] for run in runs) for key in runs[0]
            }
            print(f"  {router} {name}: {results[router][name]}", file=sys.stderr, flush=True)
    return results


def table(ours: dict[str, dict[str, float]], theirs: dict[str, dict[str, float]] | None) -> str:
    rows = [("scenario", "wampcore", "Crossbar.io", "ratio")]
    for name, mine in ours.items():
        other = theirs.get(name) if theirs else None
        rows.append(
            (
                name,
                f"{mine['rate']:.0f}",
                f"{other['rate']:.0f}" if other else "-",
                f"{mine['rate'] / other['rate']:.2f}x" if other else "-",
            )
        )
        if "p50" in mine and name.startswith("calls/s, 1 "):
            for q in ("p50", "p99"):
                rows.append(
                    (
                        f"  latency {q} ms",
                        f"{mine[q]:.3f}",
                        f"{other[q]:.3f}" if other else "-",
                        f"{other[q] / mine[q]:.2f}x faster" if other else "-",
                    )
                )
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    lines = [
        "  ".join(
            c.ljust(w) if i == 0 else c.rjust(w)
            for i, (c, w) in enumerate(zip(r, widths, strict=True))
        )
        for r in rows
    ]
    lines.insert(1, "-" * len(lines[0]))
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=2.0, help="seconds per scenario")
    parser.add_argument("--repeat", type=int, default=3, help="runs per scenario (median)")
    parser.add_argument("--crossbar", help="crossbar executable (default: found automatically)")
    parser.add_argument("--role", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.role:
        role, *rest = args.role
        coro = {
            "callee": lambda: role_callee(rest[0], rest[1]),
            "caller": lambda: role_caller(
                rest[0], rest[1], int(rest[2]), float(rest[3]), int(rest[4])
            ),
            "subscribers": lambda: role_subscribers(rest[0], rest[1], int(rest[2])),
            "publisher": lambda: role_publisher(rest[0], rest[1], float(rest[2]), int(rest[3])),
        }[role]()
        asyncio.run(coro)
        return

    from adapterkit import Crossbar, Router, crossbar_executable

    executable = args.crossbar or crossbar_executable()
    with contextlib.ExitStack() as stack:
        targets = {"wampcore": stack.enter_context(Router()).urls}
        if executable:
            tmp = stack.enter_context(tempfile.TemporaryDirectory())
            targets["crossbar"] = stack.enter_context(Crossbar(executable, tmp)).urls
        results = run_all(targets, args.duration, args.repeat)
    ours, theirs = results["wampcore"], results.get("crossbar")
    print(
        f"\nEnd-to-end, Autobahn|Python clients, median of {args.repeat} x {args.duration:g} s "
        "per scenario, "
        f"{os.cpu_count()} CPUs, Python {sys.version.split()[0]}"
    )
    if theirs is None:
        print(
            "Crossbar.io not found (install it: python3 -m venv .cbvenv && "
            ".cbvenv/bin/pip install crossbar): wampcore figures only."
        )
    print(table(ours, theirs))


if __name__ == "__main__":
    main()
