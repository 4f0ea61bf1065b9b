"""The honest instrument: ``wampcore router`` vs Crossbar.io vs the echo ceiling, one sitting.

    .venv/bin/python bench/bench_compare.py [--quick] [--runs N] [--transport rs|ws]
                                            [--serializer msgpack|json] [--sessions N]

Each run starts each target afresh on ephemeral loopback ports -- ``wampcore router`` (this
checkout), a Crossbar.io node (``$WAMPCORE_CROSSBAR``, ``.cbvenv``, ``/tmp/cbvenv`` or PATH;
skipped with a note if absent) and ``bench/ceiling.py`` -- in an order rotated between runs,
drives it with the lean clients of ``bench/loadgen.py`` (one OS process per client) and stops
it. Scenarios: memory per idle joined session (RSS delta of the router's process tree / N,
first, on the fresh process), calls/s with 100 in flight (small and 4 KB args), calls/s and
latency p50/p99 with 1 call in flight, events/s to 1 and 10 subscribers (an acknowledged
publisher keeping 100 in flight). Router CPU per call or delivered event is the
utime+stime delta of the router's process tree (``/proc/<pid>/stat``, Crossbar's controller
included) over the measuring window divided by the calls answered or events delivered in it.
Each figure is the median over the runs; ``±`` is half the min-max spread relative to it.

Every process has a hard deadline: clients and routers are exec'd with SIGALRM pending and
PR_SET_PDEATHSIG set, and this process kills any child (and its descendants) still running
at the end. Nothing leaves 127.0.0.1. The noise line reports steal and busy CPU from
``/proc/stat``, during an idle second before the first run and during the whole bench.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import queue
import select
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
LOADGEN = str(BENCH / "loadgen.py")
CEILING = str(BENCH / "ceiling.py")
TICK = os.sysconf("SC_CLK_TCK")
PAGE = os.sysconf("SC_PAGE_SIZE")
SMALL, LARGE = 16, 4096
TARGETS = ("wampcore", "crossbar", "ceiling")
LABELS = {"wampcore": "wampcore", "crossbar": "Crossbar.io", "ceiling": "ceiling"}

#: Run in the child before exec: a raised fd limit (thousands of sessions), a pending SIGALRM
#: (the hard deadline; the default action terminates, and it survives exec) and death with the
#: parent. The pid is the router's own, so /proc/<pid> is the router.
_EXEC_WITH_DEADLINE = """
import ctypes, os, resource, signal, sys
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
ctypes.CDLL(None).prctl(1, signal.SIGKILL)
if os.getppid() == 1:
    sys.exit(1)
signal.alarm(int(sys.argv[1]))
os.execv(sys.argv[2], sys.argv[2:])
"""


# --- /proc --------------------------------------------------------------------------------------


def _stat_fields(pid: int) -> list[str] | None:
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            text = f.read().decode()
    except OSError:
        return None
    return text[text.rindex(")") + 2 :].split()  # fields from 3 (state) on


def descendants(pid: int) -> list[int]:
    """``pid`` and every live descendant (children found through /proc/*/stat ppid)."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            fields = _stat_fields(int(entry))
            if fields is not None:
                children.setdefault(int(fields[1]), []).append(int(entry))
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo += children.get(p, [])
    return out


def tree_cpu(pids: Sequence[int]) -> float:
    """utime+stime seconds of ``pids``."""
    ticks = 0
    for p in pids:
        fields = _stat_fields(p)
        if fields is not None:
            ticks += int(fields[11]) + int(fields[12])
    return ticks / TICK


def tree_rss(pids: Sequence[int]) -> int:
    """Resident bytes of ``pids``."""
    total = 0
    for p in pids:
        fields = _stat_fields(p)
        if fields is not None:
            total += int(fields[21]) * PAGE
    return total


def proc_stat() -> list[int]:
    """The aggregate ``cpu`` line of /proc/stat: user nice system idle iowait irq softirq steal."""
    with open("/proc/stat") as f:
        return [int(v) for v in f.readline().split()[1:9]]


def noise(before: list[int], after: list[int]) -> tuple[float, float]:
    """(steal %, busy %) of all CPUs between two /proc/stat samples."""
    delta = [b - a for a, b in zip(before, after, strict=True)]
    total = sum(delta) or 1
    idle = delta[3] + delta[4]
    return 100 * delta[7] / total, 100 * (total - idle) / total


def loadavg() -> str:
    with open("/proc/loadavg") as f:
        return f.read().split()[0]


# --- child processes ----------------------------------------------------------------------------


def _kill_tree(pid: int) -> None:
    for p in reversed(descendants(pid)):
        with contextlib.suppress(ProcessLookupError):
            os.kill(p, signal.SIGKILL)


class Client:
    """A loadgen process: JSON lines out, command lines in, every read with a timeout."""

    def __init__(self, role: str, url: str, serializer: str, deadline: float, *extra: str):
        argv = [sys.executable, LOADGEN, role, url, serializer, "--deadline", str(deadline)]
        self.popen = subprocess.Popen(
            [*argv, *extra], stdin=subprocess.PIPE, stdout=subprocess.PIPE, bufsize=0
        )
        self.role = role
        self.pending = b""

    def line(self, timeout: float) -> Any:
        assert self.popen.stdout is not None
        fd = self.popen.stdout.fileno()
        end = time.monotonic() + timeout
        while b"\n" not in self.pending:
            left = end - time.monotonic()
            if left <= 0 or not select.select([fd], [], [], left)[0]:
                raise RuntimeError(f"loadgen {self.role}: no answer within {timeout:g} s")
            data = os.read(fd, 65536)
            if not data:
                raise RuntimeError(f"loadgen {self.role} exited ({self.popen.wait(5)})")
            self.pending += data
        line, _, self.pending = self.pending.partition(b"\n")
        return json.loads(line)

    def send(self, command: str) -> None:
        assert self.popen.stdin is not None
        with contextlib.suppress(BrokenPipeError):
            self.popen.stdin.write(command.encode() + b"\n")

    def close(self) -> None:
        """Close its stdin (it exits), reap it (kill after 5 s), close the pipes."""
        for stream in (self.popen.stdin,):
            with contextlib.suppress(BrokenPipeError):
                if stream is not None:
                    stream.close()
        try:
            self.popen.wait(5)
        except subprocess.TimeoutExpired:
            self.popen.kill()
            self.popen.wait(5)
        if self.popen.stdout is not None:
            self.popen.stdout.close()


@contextlib.contextmanager
def clients(*specs: tuple[str, ...], deadline: float, url: str, ser: str) -> Iterator[list[Client]]:
    started: list[Client] = []
    try:
        for role, *extra in specs:
            started.append(Client(role, url, ser, deadline, *extra))
        yield started
    finally:
        for c in started:
            try:
                c.close()
            except Exception:
                _kill_tree(c.popen.pid)
                raise


class Target:
    """A router process on ephemeral loopback ports: ``urls`` maps "rs"/"ws" to its URL."""

    def __init__(self, name: str, argv: Sequence[str], deadline: float) -> None:
        self.name = name
        self.popen = subprocess.Popen(
            [sys.executable, "-c", _EXEC_WITH_DEADLINE, str(int(deadline)), *argv],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            cwd=str(ROOT),
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        self.pid = self.popen.pid
        self.lines: queue.Queue[str] = queue.Queue()
        self.tail: list[str] = []
        self.urls: dict[str, str] = {}
        self._pumps = [
            threading.Thread(target=self._pump, args=(s,), daemon=True)
            for s in (self.popen.stdout, self.popen.stderr)
        ]
        for t in self._pumps:
            t.start()

    def _pump(self, stream: Any) -> None:
        for raw in stream:
            line = raw.decode(errors="replace").rstrip()
            self.tail = [*self.tail[-30:], line]
            self.lines.put(line)

    def await_listening(self, count: int, timeout: float) -> None:
        end = time.monotonic() + timeout
        while len(self.urls) < count:
            try:
                line = self.lines.get(timeout=max(0.01, end - time.monotonic()))
            except queue.Empty:
                raise RuntimeError(f"{self.name} did not start: {self.tail}") from None
            if line.startswith("listening on "):
                url = line.split("listening on ", 1)[1].strip()
                self.urls[url.split("://", 1)[0]] = url

    def await_ports(self, urls: dict[str, str], timeout: float) -> None:
        end = time.monotonic() + timeout
        for url in urls.values():
            port = int(url.split(":")[2].split("/")[0])
            while True:
                with contextlib.suppress(OSError):
                    socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                    break
                if time.monotonic() > end or self.popen.poll() is not None:
                    raise RuntimeError(f"{self.name} did not start: {self.tail}")
                time.sleep(0.2)
        self.urls = dict(urls)

    def pids(self) -> list[int]:
        return descendants(self.pid)

    def quiesce(self, limit: float) -> None:
        """Wait until the router's CPU use drops under about 5% (at most ``limit`` s)."""
        end = time.monotonic() + limit
        last = tree_cpu(self.pids())
        step = min(0.2, limit)
        while time.monotonic() < end:
            time.sleep(step)
            now = tree_cpu(self.pids())
            if now - last <= step / 20:
                return
            last = now

    def close(self) -> None:
        tree = self.pids()
        if self.popen.poll() is None:
            self.popen.send_signal(signal.SIGTERM)
        try:
            self.popen.wait(15)
        except subprocess.TimeoutExpired:
            pass
        for p in reversed(tree):  # Crossbar's worker, or anything else left over
            if p != self.pid or self.popen.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(p, signal.SIGKILL)
        self.popen.wait(10)
        for t in self._pumps:
            t.join(5)
        for s in (self.popen.stdout, self.popen.stderr):
            if s is not None:
                s.close()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def crossbar_executable() -> str | None:
    sys.path.insert(0, str(ROOT / "tests"))
    try:
        from adapterkit import crossbar_executable as find
    finally:
        sys.path.pop(0)
    return find()


@contextlib.contextmanager
def start(name: str, deadline: float, crossbar: str | None) -> Iterator[Target]:
    if name == "wampcore":
        argv = [sys.executable, "-m", "wampcore", "router"]
        argv += ["--listen", "rs://127.0.0.1:0", "--listen", "ws://127.0.0.1:0/ws"]
    elif name == "ceiling":
        argv = [sys.executable, CEILING, "--listen", "rs://127.0.0.1:0"]
        argv += ["--listen", "ws://127.0.0.1:0/ws"]
    else:
        assert crossbar is not None
        workdir = tempfile.mkdtemp(prefix="bench-crossbar-")
        urls = _crossbar_config(Path(workdir))
        argv = [crossbar, "start", "--cbdir", str(Path(workdir) / ".crossbar")]
        argv += ["--loglevel", "warn"]
    target = Target(name, argv, deadline)
    try:
        if name == "crossbar":
            target.await_ports(urls, 90)
        else:
            target.await_listening(2, 30)
        yield target
    finally:
        target.close()
        if name == "crossbar":
            import shutil

            shutil.rmtree(workdir, ignore_errors=True)


def _crossbar_config(workdir: Path) -> dict[str, str]:
    """realm1 open to anonymous on a RawSocket and a WebSocket transport (as tests/adapterkit)."""
    rs_port, ws_port = _free_port(), _free_port()
    allow = {"call": True, "register": True, "publish": True, "subscribe": True}
    role = {
        "name": "anonymous",
        "permissions": [
            {
                "uri": "",
                "match": "prefix",
                "allow": allow,
                "disclose": {"caller": False, "publisher": False},
                "cache": True,
            }
        ],
    }
    serializers = ["json", "msgpack"]
    config = {
        "version": 2,
        "controller": {},
        "workers": [
            {
                "type": "router",
                "realms": [{"name": "realm1", "roles": [role]}],
                "transports": [
                    {
                        "type": "websocket",
                        "endpoint": {"type": "tcp", "interface": "127.0.0.1", "port": ws_port},
                        "serializers": serializers,
                    },
                    {
                        "type": "rawsocket",
                        "endpoint": {"type": "tcp", "interface": "127.0.0.1", "port": rs_port},
                        "serializers": serializers,
                    },
                ],
            }
        ],
    }
    cbdir = workdir / ".crossbar"
    cbdir.mkdir(parents=True)
    (cbdir / "config.json").write_text(json.dumps(config))
    return {"rs": f"rs://127.0.0.1:{rs_port}", "ws": f"ws://127.0.0.1:{ws_port}/ws"}


# --- scenarios ----------------------------------------------------------------------------------


@dataclass
class Settings:
    transport: str
    serializer: str
    duration: float
    warmup: float
    sessions: int
    settle: float
    fanout: int = 10
    client_deadline: float = field(init=False)

    def __post_init__(self) -> None:
        self.client_deadline = 60 + self.warmup + self.duration + self.sessions / 50


def _client_cpu(group: Sequence[Client]) -> float:
    return tree_cpu([c.popen.pid for c in group])


def measure_calls(target: Target, s: Settings, window: int, size: int) -> dict[str, float]:
    url, d = target.urls[s.transport], s.client_deadline
    with clients(("callee", "--size", str(size)), deadline=d, url=url, ser=s.serializer) as (
        callee,
    ):
        assert callee.line(30) == "ready"
        spec = ("caller", "--size", str(size), "--window", str(window))
        with clients(spec, deadline=d, url=url, ser=s.serializer) as (caller,):
            assert caller.line(30) == "ready"
            time.sleep(s.warmup)
            group = [callee, caller]
            cpu0, ccpu0, t0 = tree_cpu(target.pids()), _client_cpu(group), time.perf_counter()
            caller.send("start")
            time.sleep(s.duration)
            cpu1, ccpu1, t1 = tree_cpu(target.pids()), _client_cpu(group), time.perf_counter()
            caller.send("stop")
            result = caller.line(30)
            caller.send("quit")
    count = max(1, result["count"])
    return {
        "rate": result["count"] / result["elapsed"],
        "cpu_us": 1e6 * (cpu1 - cpu0) / count,
        "p50_us": 1e6 * result["p50"],
        "p99_us": 1e6 * result["p99"],
        "router_core": 100 * (cpu1 - cpu0) / (t1 - t0),
        "client_core": 100 * (ccpu1 - ccpu0) / (t1 - t0),
    }


def measure_events(target: Target, s: Settings, subscribers: int, size: int) -> dict[str, float]:
    url, d = target.urls[s.transport], s.client_deadline
    specs = [("subscriber",)] * subscribers
    with clients(*specs, deadline=d, url=url, ser=s.serializer) as subs:
        for sub in subs:
            assert sub.line(30) == "ready"
        spec = ("publisher", "--size", str(size), "--window", "100")
        with clients(spec, deadline=d, url=url, ser=s.serializer) as (publisher,):
            assert publisher.line(30) == "ready"
            time.sleep(s.warmup)
            group = [*subs, publisher]
            cpu0, ccpu0, t0 = tree_cpu(target.pids()), _client_cpu(group), time.perf_counter()
            for sub in subs:
                sub.send("start")
            time.sleep(s.duration)
            cpu1, ccpu1, t1 = tree_cpu(target.pids()), _client_cpu(group), time.perf_counter()
            for sub in subs:
                sub.send("stop")
            counts = [sub.line(30) for sub in subs]
            publisher.send("quit")
    total = sum(c["count"] for c in counts)
    return {
        "rate": sum(c["count"] / c["elapsed"] for c in counts),
        "cpu_us": 1e6 * (cpu1 - cpu0) / max(1, total),
        "router_core": 100 * (cpu1 - cpu0) / (t1 - t0),
        "client_core": 100 * (ccpu1 - ccpu0) / (t1 - t0),
    }


def measure_memory(target: Target, s: Settings) -> dict[str, float]:
    url, d = target.urls[s.transport], s.client_deadline
    warm = ("idle", "--sessions", str(min(20, s.sessions)))
    with clients(warm, deadline=d, url=url, ser=s.serializer) as (idle,):
        assert idle.line(60) == "ready"  # lazy imports and first allocations, not counted
    target.quiesce(s.settle)
    rss0 = tree_rss(target.pids())
    spec = ("idle", "--sessions", str(s.sessions))
    with clients(spec, deadline=d, url=url, ser=s.serializer) as (idle,):
        assert idle.line(d) == "ready"
        target.quiesce(s.settle)
        rss1 = tree_rss(target.pids())
    return {"kb": (rss1 - rss0) / 1024 / s.sessions}


@dataclass
class Scenario:
    key: str
    run: Callable[[Target, Settings], dict[str, float]]


SCENARIOS = [
    Scenario("memory", measure_memory),
    Scenario("calls_small", lambda t, s: measure_calls(t, s, 100, SMALL)),
    Scenario("calls_4kb", lambda t, s: measure_calls(t, s, 100, LARGE)),
    Scenario("calls_1", lambda t, s: measure_calls(t, s, 1, SMALL)),
    Scenario("events_1", lambda t, s: measure_events(t, s, 1, SMALL)),
    Scenario("events_n", lambda t, s: measure_events(t, s, s.fanout, SMALL)),
]

#: Table rows: (label, scenario, metric, which is better)
ROWS = [
    ("calls/s, 100 in flight, small args", "calls_small", "rate", "higher"),
    ("  router CPU us per call", "calls_small", "cpu_us", "lower"),
    ("calls/s, 100 in flight, 4 KB args", "calls_4kb", "rate", "higher"),
    ("  router CPU us per call", "calls_4kb", "cpu_us", "lower"),
    ("calls/s, 1 in flight, small args", "calls_1", "rate", "higher"),
    ("  latency p50 us", "calls_1", "p50_us", "lower"),
    ("  latency p99 us", "calls_1", "p99_us", "lower"),
    ("events/s, 1 subscriber", "events_1", "rate", "higher"),
    ("  router CPU us per event", "events_1", "cpu_us", "lower"),
    ("events/s, {fanout} subscribers", "events_n", "rate", "higher"),
    ("  router CPU us per event", "events_n", "cpu_us", "lower"),
    ("memory KB per idle joined session", "memory", "kb", "lower"),
]


def run_all(
    names: Sequence[str],
    s: Settings,
    runs: int,
    crossbar: str | None,
    log: Callable[[str], None],
    scenarios: Sequence[Scenario] = SCENARIOS,
) -> dict[str, dict[str, list[dict[str, float]]]]:
    """Every scenario on every target, ``runs`` times; the target order rotates per run."""
    results: dict[str, dict[str, list[dict[str, float]]]] = {
        n: {sc.key: [] for sc in scenarios} for n in names
    }
    per_target = 120 + len(scenarios) * (s.warmup + s.duration + 40) + s.sessions / 20
    for run in range(runs):
        order = [names[(run + i) % len(names)] for i in range(len(names))]
        for name in order:
            with start(name, per_target, crossbar) as target:
                for sc in scenarios:
                    target.quiesce(s.settle)
                    sample = sc.run(target, s)
                    results[name][sc.key].append(sample)
                    shown = ", ".join(f"{k}={v:.4g}" for k, v in sample.items())
                    log(f"run {run + 1}/{runs} {name:8} {sc.key:11} {shown}")
    return results


def _fmt(value: float) -> str:
    if value >= 100:
        return f"{value:.0f}"
    if value >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


def table(
    results: dict[str, dict[str, list[dict[str, float]]]], names: Sequence[str], s: Settings
) -> str:
    def cell(name: str, key: str, metric: str) -> tuple[str, float | None]:
        samples = [r[metric] for r in results.get(name, {}).get(key, [])]
        if not samples:
            return "-", None
        med = statistics.median(samples)
        spread = (max(samples) - min(samples)) / 2 / med * 100 if med else 0.0
        return (f"{_fmt(med)} ±{spread:.0f}%" if len(samples) > 1 else _fmt(med)), med

    head = ["scenario", "better", *(LABELS[n] for n in TARGETS)]
    head += ["wampcore/Crossbar", "wampcore/ceiling"]
    rows = [head]
    for label, key, metric, better in ROWS:
        label = label.format(fanout=s.fanout)
        if key == "memory":
            label = f"{label} (N={s.sessions})"
        cells = {n: cell(n, key, metric) for n in TARGETS}
        ours = cells["wampcore"][1]

        def ratio(other: str, ours: float | None = ours, cells: dict[str, Any] = cells) -> str:
            theirs = cells[other][1]
            return f"{ours / theirs:.2f}" if ours is not None and theirs else "-"

        rows.append(
            [label, better, *(cells[n][0] for n in TARGETS), ratio("crossbar"), ratio("ceiling")]
        )
    # router and client CPU use during the windows, to show who was the bottleneck
    rows.append(["router / clients CPU, % of one core", "", "", "", "", "", ""])
    for key in ("calls_small", "calls_4kb", "calls_1", "events_1", "events_n"):
        line = [f"  {key}", ""]
        for n in TARGETS:
            r = results.get(n, {}).get(key, [])
            if r:
                rc = statistics.median(x["router_core"] for x in r)
                cc = statistics.median(x["client_core"] for x in r)
                line.append(f"{rc:.0f} / {cc:.0f}")
            else:
                line.append("-")
        rows.append([*line, "", ""])
    widths = [max(len(r[i]) for r in rows) for i in range(len(head))]
    out = []
    for r in rows:
        cols = zip(r, widths, strict=True)
        out.append("  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(cols)))
    out.insert(1, "-" * len(out[0]))
    return "\n".join(line.rstrip() for line in out)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="3 runs of 1 s windows, N=1000")
    parser.add_argument("--runs", type=int, help="runs per target (median); default 5, quick 3")
    parser.add_argument("--transport", choices=("rs", "ws"), default="rs")
    parser.add_argument("--serializer", choices=("msgpack", "json"), default="msgpack")
    parser.add_argument("--duration", type=float, help="measuring window, s (default 3, quick 1)")
    parser.add_argument("--warmup", type=float, help="load before measuring, s (default 1)")
    parser.add_argument(
        "--sessions", type=int, help="idle sessions for memory (default 5000, quick 1000)"
    )
    parser.add_argument(
        "--targets",
        default=",".join(TARGETS),
        help="comma-separated subset of wampcore,crossbar,ceiling (default: all)",
    )
    parser.add_argument("--crossbar", help="crossbar executable (default: found automatically)")
    parser.add_argument(
        "--settle", type=float, help="max wait for the router to go idle, s (default 5, quick 2)"
    )
    parser.add_argument(
        "--fanout", type=int, default=10, help="subscribers in the fan-out scenario (default 10)"
    )
    parser.add_argument(
        "--noise-sample", type=float, default=1.0, help="idle /proc/stat sample first, s"
    )
    parser.add_argument(
        "--scenarios",
        default=",".join(sc.key for sc in SCENARIOS),
        help="comma-separated subset of " + ",".join(sc.key for sc in SCENARIOS),
    )
    args = parser.parse_args(argv)
    quick = args.quick
    runs = args.runs or (3 if quick else 5)
    settings = Settings(
        transport=args.transport,
        serializer=args.serializer,
        duration=args.duration or (1.0 if quick else 3.0),
        warmup=args.warmup if args.warmup is not None else (0.5 if quick else 1.0),
        sessions=args.sessions or (1000 if quick else 5000),
        settle=args.settle if args.settle is not None else (2.0 if quick else 5.0),
        fanout=args.fanout,
    )
    names = [n for n in args.targets.split(",") if n]
    if unknown := set(names) - set(TARGETS):
        parser.error(f"unknown targets: {', '.join(sorted(unknown))}")
    wanted = [k for k in args.scenarios.split(",") if k]
    if unknown := set(wanted) - {sc.key for sc in SCENARIOS}:
        parser.error(f"unknown scenarios: {', '.join(sorted(unknown))}")
    scenarios = [sc for sc in SCENARIOS if sc.key in wanted]
    notes = []
    crossbar = None
    if "crossbar" in names:
        crossbar = args.crossbar or crossbar_executable()
        if crossbar is None:
            names.remove("crossbar")
            notes.append(
                "Crossbar.io not found (python3 -m venv .cbvenv && .cbvenv/bin/pip install "
                "crossbar): its column is empty."
            )

    def log(line: str) -> None:
        print(line, file=sys.stderr, flush=True)

    idle0 = proc_stat()
    time.sleep(args.noise_sample)
    idle_steal, idle_busy = noise(idle0, proc_stat())
    load0, stat0, t0 = loadavg(), proc_stat(), time.monotonic()
    results = run_all(names, settings, runs, crossbar, log, scenarios)
    steal, busy = noise(stat0, proc_stat())
    transport = "RawSocket" if settings.transport == "rs" else "WebSocket"
    print(
        f"\nwampcore router vs Crossbar.io vs echo ceiling: {transport}+{settings.serializer}, "
        f"lean loadgen clients, median of {runs} runs x {settings.duration:g} s windows "
        f"({settings.warmup:g} s warm-up), {os.cpu_count()} CPUs, Python {sys.version.split()[0]}"
    )
    for note in notes:
        print(note)
    print(table(results, names, settings))
    print(
        f"noise: before the bench ({args.noise_sample:g} s idle) steal {idle_steal:.1f}%, "
        f"CPU busy {idle_busy:.0f}%; "
        f"during it ({time.monotonic() - t0:.0f} s) steal {steal:.1f}%, CPU busy {busy:.0f}% of "
        f"{os.cpu_count()} CPUs; load average {load0} -> {loadavg()}"
    )
    print(
        "ratios are wampcore / other for every row: above 1 is better for rates, below 1 for "
        "CPU, latency and memory. The ceiling answers CALL itself (no callee hop)."
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
