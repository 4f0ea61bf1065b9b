"""10,000 concurrent joined sessions on the real ``wampcore router`` command (issue 11).

The router runs as the CLI does (a subprocess on an ephemeral loopback port, with a hard
timeout); one client process (``bench/loadgen.py``'s idle role: hand-built RawSocket+msgpack or
WebSocket+json sessions, stdlib only) opens and joins all of them; the count is read back through
the meta API (``wamp.session.count``, wamp-spec.md §4.26) and the router's resident memory per
idle session is reported (its RSS after the sessions joined minus its RSS after 20 warm-up
sessions, divided by N). The figure is printed (``-s``). For RawSocket it is only bounded
loosely (the bench, ``bench/bench_compare.py`` "memory KB per idle joined session", is where it
is compared); for WebSocket the issue's bound of 5 KiB per session is asserted, on asyncio's own
event loop (``WAMPCORE_UVLOOP=0``: uvloop's transports are smaller, so that is the harder case).
Memory is not timing: the figure does not move with the machine's load.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import resource
import select
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from wampcore.adapters.threads import connect

ROOT = Path(__file__).resolve().parent.parent
LOADGEN = str(ROOT / "bench" / "loadgen.py")
SESSIONS = 10_000
READY = json.dumps("ready")  # loadgen speaks JSON lines
#: Each process gets a hard deadline; the whole test stays well within two minutes.
DEADLINE = 100.0


def _rss(pid: int) -> int:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS")


@contextlib.contextmanager
def _raised_fd_limit(needed: int) -> Iterator[None]:
    """Children inherit the soft limit; the router and the client process each hold N sockets."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and hard < needed:
        pytest.skip(f"RLIMIT_NOFILE hard limit {hard} < {needed}")
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, needed), hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


@contextlib.contextmanager
def _process(
    argv: list[str], env: dict[str, str] | None = None
) -> Iterator[subprocess.Popen[bytes]]:
    proc = subprocess.Popen(
        argv,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})},
    )
    try:
        yield proc
    finally:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(10)
        for stream in (proc.stdin, proc.stdout, proc.stderr):
            if stream is not None:
                _BUFFERS.pop(stream.fileno(), None)
                stream.close()


_BUFFERS: dict[int, bytes] = {}


def _line(proc: subprocess.Popen[bytes], deadline: float) -> str:
    """The next line the process prints, read straight from the pipe (no buffered reader, so
    ``select`` sees everything that has not been read yet)."""
    assert proc.stdout is not None
    fd = proc.stdout.fileno()
    buf = _BUFFERS.get(fd, b"")
    while b"\n" not in buf:
        ready, _, _ = select.select([fd], [], [], max(0.0, deadline - time.monotonic()))
        if not ready:
            raise AssertionError(f"no output from {proc.args!r} in time")
        chunk = os.read(fd, 4096)
        if not chunk:
            err = proc.stderr.read() if proc.stderr is not None else b""
            raise AssertionError(f"{proc.args!r} ended: {err[-2000:]!r}")
        buf += chunk
    line, _, rest = buf.partition(b"\n")
    _BUFFERS[fd] = rest
    return line.decode().strip()


def _count(url: str) -> int:
    with connect(url, "realm1") as session:
        count = session.call("wamp.session.count")
    assert isinstance(count, int)
    return count


def test_10000_concurrent_sessions_join_one_router_process_issue_11() -> None:
    per_session = _idle_sessions("rs://127.0.0.1:0", "msgpack", {})
    # A loose guard against a regression to the old ~10-15 KiB: the bench compares it.
    assert per_session < 8 * 1024


def test_10000_websocket_sessions_cost_at_most_5_kib_each_on_plain_asyncio_issue_11() -> None:
    """Issue 11: "10,000 concurrent joined sessions in one process, at most 5 KiB of router
    memory each while idle" -- over WebSocket, on asyncio's own loop."""
    per_session = _idle_sessions("ws://127.0.0.1:0/ws", "json", {"WAMPCORE_UVLOOP": "0"})
    assert per_session <= 5 * 1024


def _idle_sessions(listen: str, serializer: str, env: dict[str, str]) -> float:
    """Join SESSIONS idle sessions to a fresh router; its RSS per session, in bytes."""
    started = time.monotonic()
    deadline = started + DEADLINE
    with _raised_fd_limit(SESSIONS + 500):
        router_argv = [sys.executable, "-m", "wampcore", "router", "--listen", listen]
        timeout_argv = ["timeout", "-s", "KILL", str(int(DEADLINE))]
        with _process([*timeout_argv, *router_argv], env) as router:
            url = ""
            while not url:
                match = re.search(r"listening on ((?:rs|ws)://\S+)", _line(router, deadline))
                url = match.group(1) if match else ""
            pid = _router_pid(router.pid)
            warm_argv = [sys.executable, LOADGEN, "idle", url, serializer, "--sessions", "20"]
            with _process([*warm_argv, "--deadline", str(DEADLINE)]) as warm:
                assert _line(warm, deadline) == READY
                time.sleep(0.3)
                rss0 = _rss(pid)
            idle_argv = [sys.executable, LOADGEN, "idle", url, serializer]
            idle_argv += ["--sessions", str(SESSIONS), "--deadline", str(DEADLINE)]
            with _process(idle_argv) as idle:
                assert _line(idle, deadline) == READY
                joined = time.monotonic()
                assert _count(url) == SESSIONS + 1  # the counting session is one of them
                time.sleep(0.3)
                per_session = (_rss(pid) - rss0) / SESSIONS
    print(
        f"\n{listen} {serializer} {env or ''}: {SESSIONS} sessions joined in "
        f"{joined - started:.1f} s; router RSS per idle joined session: "
        f"{per_session / 1024:.2f} KiB"
    )
    return per_session


def _router_pid(wrapper: int) -> int:
    """The router's pid: the only child of the ``timeout`` wrapper."""
    for _ in range(100):
        try:
            with open(f"/proc/{wrapper}/task/{wrapper}/children") as f:
                children = f.read().split()
        except OSError:
            children = []
        if children:
            return int(children[0])
        time.sleep(0.05)
    raise AssertionError("the router process did not start")
