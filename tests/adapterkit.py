"""Helpers for the adapter, CLI and interop tests: run the ``wampcore`` command as a subprocess.

Output is read by background threads into queues, so every wait has a hard timeout.
"""

from __future__ import annotations

import asyncio
import os
import queue
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Awaitable, Sequence
from typing import Any

WAMPCORE = [sys.executable, "-m", "wampcore"]


class Proc:
    """A subprocess whose stdout and stderr lines can be awaited with a timeout."""

    def __init__(self, args: Sequence[str], *, env: dict[str, str] | None = None) -> None:
        self.args = list(args)
        self.popen = subprocess.Popen(
            self.args,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})},
        )
        self.out: queue.Queue[str] = queue.Queue()
        self.err: queue.Queue[str] = queue.Queue()
        self.out_lines: list[str] = []
        self.err_lines: list[str] = []
        self._pumps = [
            threading.Thread(target=self._pump, args=(stream, q, keep), daemon=True)
            for stream, q, keep in (
                (self.popen.stdout, self.out, self.out_lines),
                (self.popen.stderr, self.err, self.err_lines),
            )
        ]
        for pump in self._pumps:
            pump.start()

    @staticmethod
    def _pump(stream: object, q: queue.Queue[str], keep: list[str]) -> None:
        for line in stream:  # type: ignore[attr-defined]
            keep.append(line.rstrip("\n"))
            q.put(line.rstrip("\n"))

    def expect(self, predicate: str, *, stream: str = "out", timeout: float = 20.0) -> str:
        """The next line on ``stream`` containing ``predicate`` (AssertionError on timeout)."""
        q = self.out if stream == "out" else self.err
        end = time.monotonic() + timeout
        while True:
            left = end - time.monotonic()
            if left <= 0:
                raise AssertionError(
                    f"no line with {predicate!r} on std{stream} of {self.args}: "
                    f"out={self.out_lines} err={self.err_lines}"
                )
            try:
                line = q.get(timeout=min(left, 0.5))
            except queue.Empty:
                if self.popen.poll() is not None and q.empty():
                    time.sleep(0.1)
                    if q.empty():
                        raise AssertionError(
                            f"{self.args} exited ({self.popen.returncode}) before {predicate!r}: "
                            f"out={self.out_lines} err={self.err_lines}"
                        ) from None
                continue
            if predicate in line:
                return line

    def wait(self, timeout: float = 20.0) -> int:
        try:
            return self.popen.wait(timeout)
        finally:
            time.sleep(0.05)  # let the pump threads take the last lines

    def close_pipes(self) -> None:
        """After the process has exited: let the pumps finish, then close its pipes."""
        for pump in self._pumps:
            pump.join(5)
        for stream in (self.popen.stdout, self.popen.stderr):
            if stream is not None:
                stream.close()

    def signal(self, sig: int = signal.SIGTERM) -> None:
        if self.popen.poll() is None:
            self.popen.send_signal(sig)

    def kill(self) -> None:
        if self.popen.poll() is None:
            self.popen.kill()
            self.popen.wait(10)

    def close(self) -> None:
        """Kill it if it still runs, reap it, close its pipes (idempotent)."""
        try:
            self.kill()
        finally:
            self.close_pipes()

    def __enter__(self) -> Proc:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def run(args: Sequence[str], timeout: float = 30.0) -> subprocess.CompletedProcess[str]:
    """Run to completion with a hard timeout."""
    return subprocess.run(
        list(args), capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL
    )


class Router:
    """``wampcore router`` on ephemeral loopback ports; ``urls`` maps scheme -> URL."""

    def __init__(
        self, *extra: str, listen: Sequence[str] = ("ws://127.0.0.1:0/ws", "rs://127.0.0.1:0")
    ) -> None:
        args = [*WAMPCORE, "router"]
        for url in listen:
            args += ["--listen", url]
        self.proc = Proc([*args, *extra])
        self.urls: dict[str, str] = {}
        try:
            for _ in listen:
                url = self.proc.expect("listening on").split("listening on ", 1)[1].strip()
                self.urls[url.split("://", 1)[0]] = url
        except BaseException:
            self.proc.close()  # __exit__ will not run: do not leave the router or its pipes
            raise

    def __enter__(self) -> Router:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.proc.signal(signal.SIGTERM)
        try:
            self.proc.wait(15)
        finally:
            self.proc.close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def port_is_free(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


# --- Crossbar.io (installed in its own virtual environment: it pins heavy dependencies) ----------


def crossbar_executable() -> str | None:
    """$WAMPCORE_CROSSBAR, else .cbvenv/bin/crossbar in the checkout (made by .ci/run), else
    /tmp/cbvenv/bin/crossbar, else ``crossbar`` on PATH; None if there is none."""
    import shutil
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    for candidate in (
        os.environ.get("WAMPCORE_CROSSBAR"),
        str(root / ".cbvenv" / "bin" / "crossbar"),
        "/tmp/cbvenv/bin/crossbar",
        shutil.which("crossbar"),
    ):
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    return None


class Crossbar:
    """A Crossbar.io node on loopback with realm1 open to anonymous; ``urls`` like Router's.

    ``roles`` are extra realm1 roles with the same open permissions as ``anonymous``;
    ``extra_realms`` are further realm items, each also given the open ``anonymous`` role (plus
    ``roles``) unless it names its own; ``extra_transports`` maps a name to the ``auth`` item
    of one more WebSocket transport (reachable as ``urls[name]``), e.g.
    ``{"alice": {"anonymous": {"type": "static", "role": "other", "authid": "alice"}}}``.
    """

    def __init__(
        self,
        executable: str,
        workdir: str,
        *,
        roles: Sequence[str] = (),
        extra_realms: Sequence[dict[str, object]] = (),
        extra_transports: dict[str, dict[str, object]] | None = None,
    ) -> None:
        import json
        from pathlib import Path

        ws_port, rs_port = free_port(), free_port()
        extra_ports = {name: free_port() for name in extra_transports or {}}
        cbdir = Path(workdir) / ".crossbar"
        cbdir.mkdir(parents=True, exist_ok=True)
        everything = {"call": True, "register": True, "publish": True, "subscribe": True}

        def open_role(name: str) -> dict[str, object]:
            return {
                "name": name,
                "permissions": [
                    {
                        "uri": "",
                        "match": "prefix",
                        "allow": everything,
                        "disclose": {"caller": False, "publisher": False},
                        "cache": True,
                    }
                ],
            }

        realms: list[dict[str, object]] = [
            {"name": "realm1", "roles": [open_role(name) for name in ("anonymous", *roles)]}
        ]
        for realm in extra_realms:
            realms.append({"roles": [open_role(name) for name in ("anonymous", *roles)], **realm})
        transports: list[dict[str, object]] = [
            {
                "type": "websocket",
                "endpoint": {"type": "tcp", "interface": "127.0.0.1", "port": ws_port},
                "serializers": ["json", "msgpack", "cbor"],
            },
            {
                "type": "rawsocket",
                "endpoint": {"type": "tcp", "interface": "127.0.0.1", "port": rs_port},
                "serializers": ["json", "msgpack", "cbor"],
            },
        ]
        for name, auth in (extra_transports or {}).items():
            transports.append(
                {
                    "type": "websocket",
                    "endpoint": {
                        "type": "tcp",
                        "interface": "127.0.0.1",
                        "port": extra_ports[name],
                    },
                    "serializers": ["json", "msgpack", "cbor"],
                    "auth": auth,
                }
            )
        config = {
            "version": 2,
            "controller": {},
            "workers": [{"type": "router", "realms": realms, "transports": transports}],
        }
        (cbdir / "config.json").write_text(json.dumps(config))
        self.proc = Proc([executable, "start", "--cbdir", str(cbdir), "--loglevel", "info"])
        self.urls = {"ws": f"ws://127.0.0.1:{ws_port}/ws", "rs": f"rs://127.0.0.1:{rs_port}"}
        for name, port in extra_ports.items():
            self.urls[name] = f"ws://127.0.0.1:{port}/ws"
        end = time.monotonic() + 90
        for port in (ws_port, rs_port, *extra_ports.values()):
            while not _accepting(port):
                if time.monotonic() > end or self.proc.popen.poll() is not None:
                    self.kill()
                    raise RuntimeError(f"Crossbar.io did not start: {self.proc.out_lines[-20:]}")
                time.sleep(0.2)

    def kill(self) -> None:
        self.proc.signal(signal.SIGTERM)
        try:
            self.proc.wait(20)
        except subprocess.TimeoutExpired:
            pass
        finally:
            self.proc.close()

    def __enter__(self) -> Crossbar:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.kill()


def _accepting(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


def run_closing(coro: Awaitable[Any], open_sessions: set[Any], timeout: float) -> None:
    """Run ``coro`` under a hard timeout, then close every Autobahn|Python session still in
    ``open_sessions`` (the test's own registry) and wait until each transport is gone, so no
    test leaves a socket behind (warnings are errors). leave() only sends GOODBYE: each
    transport must be seen closed and lost."""

    async def bounded() -> None:
        try:
            async with asyncio.timeout(timeout):
                await coro
        finally:
            async with asyncio.timeout(10):
                for session in list(open_sessions):
                    if session.is_attached():
                        session.leave()
                    elif session.transport is not None:
                        session.transport.close()
                    if session.transport is not None or session.is_attached():
                        await session.disconnected
                open_sessions.clear()
                await asyncio.sleep(0.01)  # let the transports' connection_lost run

    asyncio.run(bounded())
