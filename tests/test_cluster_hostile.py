"""Hostile input on the cluster subjects (issue 13 "Bad input"), against live nodes: garbage
and foreign messages are dropped and counted, never reach a client or crash a node; a node
speaking another protocol version is refused with a logged reason; URIs full of NATS
wildcards and dots never become subjects."""

from __future__ import annotations

import asyncio
from typing import Any

import msgpack
import pytest
from test_cluster_kit import NatsServer, Node, Watch, eventually, join, nodes_see, run

from wampcore.cluster import BROADCAST_SUBJECT, PROTOCOL_VERSION, encode, node_subject

pytestmark = pytest.mark.timeout(120)


def test_garbage_foreign_and_other_versions_are_dropped() -> None:
    with NatsServer() as nats:
        a, b = Node(nats.url, "a"), Node(nats.url, "b")
        try:

            async def test() -> None:
                watch = await Watch.open(nats.url)
                try:
                    await nodes_see(watch, ["a", "b"])
                    sub = await join(b.rs)
                    got: list[Any] = []
                    await sub.subscribe(lambda *x: got.append(x), "com.h")
                    await asyncio.sleep(0.4)
                    junk = [
                        b"\x00\x01garbage",
                        b"",
                        msgpack.packb([1, 2]),
                        msgpack.packb({"v": PROTOCOL_VERSION, "t": "pub", "n": "a", "e": 1}),
                        # a well-formed publication from a node nobody knows
                        encode(
                            "pub",
                            "ghost",
                            1,
                            realm="realm1",
                            p={"id": 1, "authid": "x", "authrole": "y"},
                            topic="com.h",
                            pid=5,
                            opts={},
                            dis=False,
                            args=["forged"],
                            kwargs=None,
                            payload=None,
                        ),
                    ]
                    for data in junk:
                        for subject in (BROADCAST_SUBJECT, node_subject("b")):
                            await watch.nc.publish(subject, data)
                    # a node of a future protocol version says hello
                    future = msgpack.packb(
                        {"v": PROTOCOL_VERSION + 1, "t": "hello", "n": "future", "e": 1}
                    )
                    await watch.nc.publish(BROADCAST_SUBJECT, future)
                    await watch.nc.flush()

                    async def counted() -> bool:
                        stats = await watch.stats("b")
                        dropped = sum(
                            v for k, v in stats["counters"].items() if k.startswith("dropped.")
                        )
                        return dropped >= 2 * len(junk) + 1 and "future" in stats["refused"]

                    await eventually(counted)
                    stats = await watch.stats("b")
                    assert f"version {PROTOCOL_VERSION + 1}" in stats["refused"]["future"]
                    assert got == []  # nothing forged reached the client
                    pub = await join(a.rs)
                    pub.publish("com.h", "real")
                    await eventually(lambda: got == [("real",)])
                finally:
                    await watch.close()

            run(test)
            b.proc.expect("refusing cluster node 'future'", stream="err", timeout=10)
        finally:
            a.close()
            b.close()


def test_uris_never_become_subject_tokens() -> None:
    """Topics and procedures with `*`, `>` and many dots are data: they match only themselves,
    and every subject the nodes use is one of the fixed ones."""
    with NatsServer() as nats:
        a, b = Node(nats.url, "a"), Node(nats.url, "b")
        try:

            async def test() -> None:
                watch = await Watch.open(nats.url)
                try:
                    await nodes_see(watch, ["a", "b"])
                    sub, pub = await join(b.rs), await join(a.rs)
                    star: list[Any] = []
                    gt: list[Any] = []
                    await sub.subscribe(lambda *x: star.append(x), "com.*")
                    await sub.subscribe(lambda *x: gt.append(x), "com.>")
                    await sub.register(lambda: "wild", "com.*.x")
                    await asyncio.sleep(0.4)
                    pub.publish("com.other", 1)
                    pub.publish("com.*", 2)
                    pub.publish("com.>", 3)
                    assert await pub.call("com.*.x") == "wild"
                    await eventually(lambda: star == [(2,)] and gt == [(3,)])
                    allowed = {
                        BROADCAST_SUBJECT,
                        node_subject("a"),
                        node_subject("b"),
                        "wampcore.cluster.stats.a",
                        "wampcore.cluster.stats.b",
                    }
                    assert {subject for subject, _ in watch.seen} <= allowed
                finally:
                    await watch.close()

            run(test)
        finally:
            a.close()
            b.close()
