"""10,000 concurrent joined sessions on the real ``wampcore router`` command (issue 11).

The router runs as the CLI does (a subprocess on an ephemeral loopback port, with a hard
timeout); one client process (``bench/loadgen.py``'s idle role: hand-built RawSocket+msgpack
sessions, stdlib only) opens and joins all of them; the count is read back through the meta
API (``wamp.session.count``, wamp-spec.md §4.26) and the router's resident memory per idle
session is reported (its RSS after the sessions joined minus its RSS after 20 warm-up sessions,
divided by N). The figure is printed (``-s``) and only bounded loosely: it is a measurement,
the bench (``bench/bench_compare.py``, "memory KB per idle joined session") is where it is
compared.
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
def _process(argv: list[str]) -> Iterator[subprocess.Popen[bytes]]:
    proc = subprocess.Popen(
        argv,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
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
    started = time.monotonic()
    deadline = started + DEADLINE
    with _raised_fd_limit(SESSIONS + 500):
        router_argv = [sys.executable, "-m", "wampcore", "router", "--listen", "rs://127.0.0.1:0"]
        with _process(["timeout", "-s", "KILL", str(int(DEADLINE)), *router_argv]) as router:
            url = ""
            while not url:
                match = re.search(r"listening on (rs://\S+)", _line(router, deadline))
                url = match.group(1) if match else ""
            pid = _router_pid(router.pid)
            warm_argv = [sys.executable, LOADGEN, "idle", url, "msgpack", "--sessions", "20"]
            with _process([*warm_argv, "--deadline", str(DEADLINE)]) as warm:
                assert _line(warm, deadline) == READY
                time.sleep(0.3)
                rss0 = _rss(pid)
            idle_argv = [sys.executable, LOADGEN, "idle", url, "msgpack"]
            idle_argv += ["--sessions", str(SESSIONS), "--deadline", str(DEADLINE)]
            with _process(idle_argv) as idle:
                assert _line(idle, deadline) == READY
                joined = time.monotonic()
                assert _count(url) == SESSIONS + 1  # the counting session is one of them
                time.sleep(0.3)
                per_session = (_rss(pid) - rss0) / SESSIONS
    print(
        f"\n{SESSIONS} sessions joined in {joined - started:.1f} s; router RSS per idle "
        f"joined session: {per_session / 1024:.2f} KiB"
    )
    # A loose guard against a regression to the old ~10-15 KiB: the bench compares it.
    assert per_session < 8 * 1024


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
