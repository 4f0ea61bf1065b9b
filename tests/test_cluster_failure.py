"""Cluster failures (issue 13): a node SIGKILLed mid-call, NATS restarted under load, a node cut
off from NATS and back, NATS unreachable at startup.

Timers are short here (``[cluster]`` heartbeat_interval 0.3 s, failure_timeout 1.5 s); waits
are generous upper bounds, never timing assertions on a loaded machine.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest
from adapterkit import WAMPCORE, free_port
from adapterkit import run as run_command
from autobahn.wamp.exception import ApplicationError
from autobahn.wamp.types import PublishOptions
from test_cluster_kit import (
    NatsServer,
    Node,
    Proxy,
    Watch,
    eventually,
    join,
    nodes_see,
    run,
)

pytestmark = pytest.mark.timeout(240)

FAILURE_TIMEOUT = 1.5
CONFIG = f"""
[cluster]
heartbeat_interval = 0.3
failure_timeout = {FAILURE_TIMEOUT}
request_timeout = 2.0
[[realms]]
name = "realm1"
"""


async def linked(url: str, names: list[str], timeout: float = 20) -> None:
    watch = await Watch.open(url)
    try:
        await nodes_see(watch, names, timeout)
    finally:
        await watch.close()


def test_sigkill_mid_call() -> None:
    """A SIGKILLed node is noticed within failure_timeout: the call in flight to it ends with
    ERROR wamp.error.canceled, its sessions leave (on_leave once, testament published once),
    its registrations go -- on every surviving node."""
    with NatsServer() as nats:
        a, b, c = (Node(nats.url, n, config=CONFIG) for n in ("a", "b", "c"))
        try:

            async def test() -> None:
                await linked(nats.url, ["a", "b", "c"])
                callee = await join(b.rs)
                await callee.call(
                    "wamp.session.add_testament", "com.will", ["bye"], {}, {}, "destroyed"
                )

                async def hang() -> None:
                    await asyncio.sleep(60)

                await callee.register(hang, "com.hang")
                watcher_a, watcher_c = await join(a.rs), await join(c.rs)
                leaves: list[Any] = []
                wills: list[Any] = []
                for w in (watcher_a, watcher_c):
                    await w.subscribe(lambda *x: leaves.append(x), "wamp.session.on_leave")
                    await w.subscribe(lambda *x: wills.append(x), "com.will")
                caller = await join(a.rs)
                await asyncio.sleep(0.5)
                call = asyncio.ensure_future(caller.call("com.hang"))
                await asyncio.sleep(0.5)
                started = time.monotonic()
                b.kill()
                with pytest.raises(ApplicationError) as info:
                    await asyncio.wait_for(call, FAILURE_TIMEOUT + 10)
                assert info.value.error == "wamp.error.canceled"
                assert time.monotonic() - started < FAILURE_TIMEOUT + 10
                await eventually(lambda: len(leaves) == 2 and len(wills) == 2)
                await asyncio.sleep(0.5)
                assert [x[0] for x in leaves] == [callee.sid, callee.sid]  # once per watcher
                assert wills == [("bye",), ("bye",)]
                for s in (caller, watcher_c):
                    assert callee.sid not in await s.call("wamp.session.list")
                    with pytest.raises(ApplicationError) as info:
                        await s.call("com.hang")
                    assert info.value.error == "wamp.error.no_such_procedure"
                # The URI is free again cluster-wide (its claim was purged).
                await eventually(lambda: _registers(watcher_c, "com.hang"), 10)

            run(test, 90)
        finally:
            for node in (a, b, c):
                node.close()


async def _registers(session: Any, uri: str, answer: str = "again") -> bool:
    try:
        await session.register(lambda: answer, uri)
    except ApplicationError:
        return False
    return True


def test_nats_restart_under_load() -> None:
    """NATS goes away while events flow: local routing continues; NATS comes back: the nodes
    reconnect, re-announce their state, and cross-node routing resumes."""
    with NatsServer() as nats:
        a, b = Node(nats.url, "a", config=CONFIG), Node(nats.url, "b", config=CONFIG)
        try:

            async def test() -> None:
                await linked(nats.url, ["a", "b"])
                pub, local_sub, remote_sub = await join(a.rs), await join(a.rs), await join(b.rs)
                local: list[int] = []
                remote: list[int] = []
                await local_sub.subscribe(local.append, "com.load")
                await remote_sub.subscribe(remote.append, "com.load")
                await remote_sub.register(lambda x: x + 1, "com.inc")
                await asyncio.sleep(0.5)
                stop = asyncio.Event()

                async def load() -> None:
                    i = 0
                    while not stop.is_set():
                        pub.publish("com.load", i)
                        i += 1
                        await asyncio.sleep(0.005)

                task = asyncio.ensure_future(load())
                await eventually(lambda: len(remote) > 20)
                nats.stop()
                mark = len(local)
                await eventually(lambda: len(local) > mark + 100)  # local routing goes on
                await asyncio.sleep(FAILURE_TIMEOUT + 0.5)
                nats.start()
                await linked(nats.url, ["a", "b"], 30)
                mark = len(remote)
                await eventually(lambda: len(remote) > mark + 20, 20)
                stop.set()
                await task
                assert await pub.call("com.inc", 41) == 42
                ack = await pub.publish("com.load", -1, options=PublishOptions(acknowledge=True))
                assert ack is not None

            run(test, 120)
        finally:
            a.close()
            b.close()


def test_partitioned_node_reconciles_without_duplicates() -> None:
    """A node cut off from NATS (its connection runs through a proxy the test severs) is
    declared failed; meanwhile another node registers the same URI; when the cut-off node comes
    back it re-claims, finds the URI taken and revokes its own callee: one registration."""
    with NatsServer() as nats:
        proxy = Proxy(nats.port)
        x = Node(proxy.url, "x", config=CONFIG)
        y = Node(nats.url, "y", config=CONFIG)
        try:

            async def test() -> None:
                await linked(nats.url, ["x", "y"])
                cx, cy = await join(x.rs), await join(y.rs)
                await cx.register(lambda: "x", "com.part")
                await cx.register(lambda: "x-only", "com.keep")
                await asyncio.sleep(0.5)
                with pytest.raises(ApplicationError):
                    await cy.register(lambda: "y", "com.part")
                proxy.sever()
                # y gives x up after failure_timeout; then the URI is y's to take.
                await eventually(lambda: _registers(cy, "com.part", "y"), 20)
                assert await cx.call("com.part") == "x"  # x still routes locally meanwhile
                proxy.restore()
                await linked(nats.url, ["x", "y"], 30)

                async def single() -> bool:
                    for s in (cx, cy):
                        reg = await s.call("wamp.registration.lookup", "com.part")
                        if reg is None:
                            return False
                        if await s.call("wamp.registration.count_callees", reg) != 1:
                            return False
                    return True

                await eventually(single, 20)
                assert await cx.call("com.part") == "y"
                assert await cy.call("com.part") == "y"
                assert await cy.call("com.keep") == "x-only"  # no conflict: re-announced

            run(test, 120)
        finally:
            x.close()
            y.close()
            proxy.close()


def test_unreachable_nats_fails_with_one_line() -> None:
    """Issue 13: NATS unreachable at startup -> exit non-zero with one clear line."""
    port = free_port()
    result = run_command(
        [
            *WAMPCORE,
            "router",
            "--cluster",
            f"nats://127.0.0.1:{port}",
            "--node",
            "lonely",
            "--listen",
            "rs://127.0.0.1:0",
        ],
        timeout=60,
    )
    assert result.returncode != 0
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert "cannot reach NATS" in lines[0] and str(port) in lines[0]


def test_bad_node_name_and_config_are_usage_errors(tmp_path: Any) -> None:
    """Node names become subject tokens: anything but [A-Za-z0-9_-] is refused up front."""
    for name in ("a.b", "a*", "a>", "a b", ""):
        result = run_command(
            [*WAMPCORE, "router", "--cluster", "nats://127.0.0.1:1", "--node", name], timeout=30
        )
        assert result.returncode == 2, (name, result.stderr)
        assert "node" in result.stderr
    config = tmp_path / "bad.toml"
    config.write_text('[cluster]\nurl = "nats://127.0.0.1:1"\nfailure_timout = 3\n')
    result = run_command([*WAMPCORE, "router", "--config", str(config)], timeout=30)
    assert result.returncode == 2 and "failure_timout" in result.stderr
