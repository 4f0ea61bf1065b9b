"""Cluster (issue 13): three ``wampcore router --cluster`` nodes over one real nats-server behave
as one router for Autobahn|Python clients spread over them.

Pub/sub (wamp-spec.md §3.3, §4.12-§4.14, §4.20): exact/prefix/wildcard, exclusion, black/white
listing by session/authid/authrole, disclosure, retention, acknowledge, per-publisher order,
and "a publication crosses once per interested node" proved by counting the cluster messages on
NATS. RPC (§3.4, §4.2-§4.9): results, progressive results, timeouts, the three cancel modes,
cluster-wide unique registrations (including many concurrent same-URI attempts from two
nodes), shared registrations with documented cross-node first/last/roundrobin, pattern
precedence. Meta API (§4.25-§4.27) cluster-wide, kill on another node; authorization from one
config on every node.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest
from autobahn.wamp import message
from autobahn.wamp.exception import ApplicationError
from autobahn.wamp.types import (
    CallOptions,
    PublishOptions,
    RegisterOptions,
    SubscribeOptions,
)
from test_cluster_kit import NatsServer, Node, Watch, eventually, join, nodes_see, run

pytestmark = pytest.mark.timeout(240)

CONFIG = """
[[realms]]
name = "realm1"
[[realms.history]]
uri = "com.hist"
limit = 5
[[realms.roles]]
name = "anonymous"
permissions = [
  { uri = "", match = "prefix", call = true, register = true, publish = true, subscribe = true },
  { uri = "com.secret.", match = "prefix" },
  { uri = "com.disc", publish = true, subscribe = true, disclose_publisher = true },
  { uri = "com.who", call = true, register = true, disclose_caller = true },
  { uri = "wamp.", match = "prefix", call = true, subscribe = true },
]
"""


class Cluster:
    def __init__(self, nats: NatsServer, nodes: dict[str, Node]) -> None:
        self.nats = nats
        self.nodes = nodes

    def __getitem__(self, name: str) -> Node:
        return self.nodes[name]


@pytest.fixture(scope="module")
def cluster() -> Iterator[Cluster]:
    with NatsServer() as nats:
        nodes: dict[str, Node] = {}
        try:
            for name in ("a", "b", "c"):
                nodes[name] = Node(nats.url, name, config=CONFIG)

            async def linked() -> None:
                watch = await Watch.open(nats.url)
                try:
                    await nodes_see(watch, list(nodes))
                finally:
                    await watch.close()

            run(linked, 30)
            yield Cluster(nats, nodes)
        finally:
            for node in nodes.values():
                node.close()


def recorder() -> tuple[list[tuple[tuple[Any, ...], dict[str, Any]]], Any]:
    got: list[tuple[tuple[Any, ...], dict[str, Any]]] = []

    def on_event(*args: Any, **kwargs: Any) -> None:
        got.append((args, kwargs))

    return got, on_event


async def settle() -> None:
    """Announcements travel asynchronously: give them a moment (never a timing assertion)."""
    await asyncio.sleep(0.4)


# -- pub/sub ------------------------------------------------------------------------------------


def test_pubsub_patterns_cross_nodes(cluster: Cluster) -> None:
    """§4.13 pattern-based subscriptions on b and c get a publication made on a."""

    async def test() -> None:
        pub = await join(cluster["a"].rs)
        sb, sc = await join(cluster["b"].rs), await join(cluster["c"].ws, serializer="json")
        exact, on_exact = recorder()
        prefix, on_prefix = recorder()
        wild, on_wild = recorder()
        await sb.subscribe(on_exact, "com.pat.x.y")
        await sc.subscribe(
            on_prefix, "com.pat", options=SubscribeOptions(match="prefix", details=True)
        )
        await sc.subscribe(
            on_wild, "com.pat..y", options=SubscribeOptions(match="wildcard", details=True)
        )
        await settle()
        await pub.publish("com.pat.x.y", 7, options=PublishOptions(acknowledge=True))
        await eventually(lambda: exact and prefix and wild)
        assert exact[0][0] == (7,)
        assert prefix[0][1]["details"].topic == "com.pat.x.y"
        assert wild[0][1]["details"].topic == "com.pat.x.y"

    run(test)


def test_publication_crosses_once_per_interested_node(cluster: Cluster) -> None:
    """Issue 13: one cluster message per interested node, none to a node without a matching
    subscriber -- counted on NATS itself."""

    async def test() -> None:
        watch = await Watch.open(cluster.nats.url)
        try:
            pub = await join(cluster["a"].rs)
            subs = [await join(cluster["b"].rs) for _ in range(5)]
            got, on_event = recorder()
            for s in subs:
                await s.subscribe(on_event, "com.once")
            await subs[0].subscribe(on_event, "com.on", options=SubscribeOptions(match="prefix"))
            await settle()
            before_b = watch.count("node.b", "pub")
            before_c = watch.count("node.c", "pub")
            for i in range(10):
                await pub.publish("com.once", i, options=PublishOptions(acknowledge=True))
            await eventually(lambda: len(got) == 60)
            await settle()
            assert watch.count("node.b", "pub") - before_b == 10  # 6 deliveries each, 1 item
            assert watch.count("node.c", "pub") - before_c == 0  # c has no subscriber
        finally:
            await watch.close()

    run(test)


def test_order_exclusion_and_listing(cluster: Cluster) -> None:
    """§4.12 exclude_me, §4.14 black/white listing by session, authid, authrole; order per
    publisher and topic is kept across nodes."""

    async def test() -> None:
        pub = await join(cluster["a"].rs)
        s1, s2 = await join(cluster["b"].rs), await join(cluster["c"].rs)
        got1, on1 = recorder()
        got2, on2 = recorder()
        mine, on_mine = recorder()
        await s1.subscribe(on1, "com.list")
        await s2.subscribe(on2, "com.list")
        await pub.subscribe(on_mine, "com.list")
        await settle()
        aid1 = (await s1.call("wamp.session.get", s1.sid))["authid"]
        ack = PublishOptions(acknowledge=True)
        await pub.publish("com.list", "all", options=ack)
        await pub.publish(
            "com.list", "ex", options=PublishOptions(acknowledge=True, exclude=[s1.sid])
        )
        await pub.publish(
            "com.list", "el", options=PublishOptions(acknowledge=True, eligible=[s1.sid])
        )
        await pub.publish(
            "com.list", "exa", options=PublishOptions(acknowledge=True, exclude_authid=[aid1])
        )
        await pub.publish(
            "com.list",
            "elr",
            options=PublishOptions(acknowledge=True, eligible_authrole=["nobody"]),
        )
        await pub.publish(
            "com.list", "me", options=PublishOptions(acknowledge=True, exclude_me=False)
        )
        for i in range(50):
            pub.publish("com.list", i)
        await eventually(lambda: len(got2) == 54)
        await eventually(lambda: len(got1) == 53)
        assert [a[0] for a, _ in got1[:3]] == ["all", "el", "me"]
        assert [a[0] for a, _ in got2[:4]] == ["all", "ex", "exa", "me"]
        assert [a[0] for a, _ in got2[4:]] == list(range(50))
        assert [a[0] for a, _ in got1[3:]] == list(range(50))
        assert [a[0] for a, _ in mine] == ["me"]

    run(test)


def test_disclosure_and_retention(cluster: Cluster) -> None:
    """§4.15 publisher identification (here by the role's ``disclose_publisher`` rule, decided
    on the publisher's node) carries the publisher's authid/authrole to other nodes;
    §4.20 a retained event published on a is delivered to a later subscriber on c."""

    async def test() -> None:
        pub = await join(cluster["a"].rs)
        sub = await join(cluster["b"].rs)
        got, on_event = recorder()
        await sub.subscribe(on_event, "com.disc", options=SubscribeOptions(details=True))
        await settle()
        await pub.publish("com.disc", options=PublishOptions(acknowledge=True))
        await eventually(lambda: got)
        details = got[0][1]["details"]
        me = await pub.call("wamp.session.get", pub.sid)
        assert details.publisher == pub.sid
        assert details.publisher_authid == me["authid"]
        assert details.publisher_authrole == "anonymous"
        await pub.publish("com.keep", "kept", options=PublishOptions(acknowledge=True, retain=True))
        await settle()
        late = await join(cluster["c"].rs)
        kept, on_kept = recorder()
        await late.subscribe(on_kept, "com.keep", options=SubscribeOptions(get_retained=True))
        await eventually(lambda: kept)
        assert kept[0][0] == ("kept",)

    run(test)


# -- RPC ----------------------------------------------------------------------------------------


def test_call_progress_timeout_cancel(cluster: Cluster) -> None:
    """§4.2 progressive results, §4.5 timeout, §4.4 cancel skip/kill/killnowait across nodes."""

    async def test() -> None:
        callee = await join(cluster["b"].rs)
        caller = await join(cluster["a"].rs)
        interrupted: list[str] = []

        async def stream(n: int, details: Any = None) -> int:
            for i in range(n):
                details.progress(i)
                await asyncio.sleep(0.01)
            return n

        async def slow() -> str:
            try:
                await asyncio.sleep(30)
            except asyncio.CancelledError:
                interrupted.append("x")
                raise
            return "late"

        await callee.register(stream, "com.stream", options=RegisterOptions(details_arg="details"))
        await callee.register(slow, "com.slow")
        await settle()
        parts: list[Any] = []
        result = await caller.call(
            "com.stream", 4, options=CallOptions(on_progress=parts.append, timeout=10000)
        )
        assert parts == [0, 1, 2, 3] and result == 4
        with pytest.raises(ApplicationError) as info:
            await caller.call("com.slow", options=CallOptions(timeout=300))
        assert info.value.error == "wamp.error.timeout"
        with pytest.raises(ApplicationError) as info:
            await caller.call("com.nothing.here")
        assert info.value.error == "wamp.error.no_such_procedure"

    run(test)


def test_cancel_modes_across_nodes(cluster: Cluster) -> None:
    """§4.4: CANCEL skip (ERROR canceled at once, the callee is not interrupted), kill (the
    callee gets INTERRUPT, its answer settles the call) and killnowait (INTERRUPT and ERROR at
    once), with the callee on another node."""

    async def test() -> None:
        callee = await join(cluster["c"].rs)
        caller = await join(cluster["a"].ws, serializer="json")
        seen: list[str] = []

        async def wait_long() -> str:
            try:
                await asyncio.sleep(3)
            except asyncio.CancelledError:
                seen.append("interrupt")
                raise
            return "late"

        await callee.register(wait_long, "com.forever")
        await settle()
        for mode in ("skip", "kill", "killnowait"):
            call = asyncio.ensure_future(caller.call("com.forever"))
            await asyncio.sleep(0.3)
            request_id = max(caller._call_reqs)
            caller._transport.send(message.Cancel(request_id, mode=mode))
            with pytest.raises(ApplicationError) as info:
                await asyncio.wait_for(call, 10)
            if mode != "kill":  # with kill, the callee's own ERROR answers (Autobahn's)
                assert info.value.error == "wamp.error.canceled"
        await eventually(lambda: len(seen) == 2)  # kill and killnowait interrupt; skip not

    run(test)


def test_registration_unique_cluster_wide(cluster: Cluster) -> None:
    """§4.1 procedure_already_exists from any node; many same-instant attempts on two nodes
    give exactly one winner per URI (decided by JetStream, never by a race)."""

    async def test() -> None:
        ca, cb = await join(cluster["a"].rs), await join(cluster["b"].rs)
        await ca.register(lambda: "a", "com.uniq")
        await settle()
        for client in (cb, await join(cluster["c"].rs)):
            with pytest.raises(ApplicationError) as info:
                await client.register(lambda: "x", "com.uniq")
            assert info.value.error == "wamp.error.procedure_already_exists"
        contenders = [await join(cluster[n].rs) for n in ("a", "b") for _ in range(4)]
        for round_ in range(10):
            uri = f"com.race.{round_}"
            outcomes = await asyncio.gather(
                *(c.register(lambda: 1, uri) for c in contenders), return_exceptions=True
            )
            winners = [o for o in outcomes if not isinstance(o, BaseException)]
            losers = [o for o in outcomes if isinstance(o, ApplicationError)]
            assert len(winners) == 1, outcomes
            assert len(losers) == len(contenders) - 1
            assert {e.error for e in losers} == {"wamp.error.procedure_already_exists"}
        await settle()
        assert (
            await cb.call(
                "wamp.registration.count_callees",
                await cb.call("wamp.registration.lookup", "com.race.3"),
            )
            == 1
        )

    run(test)


def test_shared_registration_policies_span_nodes(cluster: Cluster) -> None:
    """Shared registrations (docs/cluster.md): ``first``/``last`` name the earliest/latest
    callee cluster-wide (in claim order) from every node; ``roundrobin`` rotates each caller
    node over all callees; mixed policies are refused from any node."""

    async def test() -> None:
        callees = [await join(cluster[n].rs) for n in ("a", "b", "c")]
        for policy in ("first", "last", "roundrobin"):
            for i, c in enumerate(callees):
                await c.register(
                    (lambda i=i: i), f"com.shared.{policy}", options=RegisterOptions(invoke=policy)
                )
                await asyncio.sleep(0.2)
        with pytest.raises(ApplicationError) as info:
            await callees[1].register(
                lambda: 9, "com.shared.first", options=RegisterOptions(invoke="last")
            )
        assert info.value.error == "wamp.error.procedure_already_exists"
        await settle()
        for node in ("a", "b", "c"):
            caller = await join(cluster[node].rs)
            assert {await caller.call("com.shared.first") for _ in range(4)} == {0}
            assert {await caller.call("com.shared.last") for _ in range(4)} == {2}
            rr = [await caller.call("com.shared.roundrobin") for _ in range(6)]
            assert sorted(rr) == [0, 0, 1, 1, 2, 2]
            callees_ids = await caller.call(
                "wamp.registration.list_callees",
                await caller.call("wamp.registration.lookup", "com.shared.first"),
            )
            assert callees_ids == [c.sid for c in callees]

    run(test)


def test_pattern_precedence_across_nodes(cluster: Cluster) -> None:
    """§4.8: exact beats prefix beats wildcard, whichever node holds each registration."""

    async def test() -> None:
        ca, cb, cc = [await join(cluster[n].rs) for n in ("a", "b", "c")]
        await cc.register(
            lambda *a, **k: "wild", "com.prec..z", options=RegisterOptions(match="wildcard")
        )
        await cb.register(
            lambda *a, **k: "prefix", "com.prec.y", options=RegisterOptions(match="prefix")
        )
        await settle()
        caller = await join(cluster["a"].rs)
        assert await caller.call("com.prec.y.z") == "prefix"
        assert await caller.call("com.prec.q.z") == "wild"
        await ca.register(lambda: "exact", "com.prec.y.z")
        await settle()
        assert await (await join(cluster["c"].rs)).call("com.prec.y.z") == "exact"

    run(test)


# -- meta API, kill, authorization ----------------------------------------------------------------


def test_meta_api_cluster_wide(cluster: Cluster) -> None:
    """§4.25-§4.27 answer for the whole cluster, on every node, with the same ids."""

    async def test() -> None:
        watcher = await join(cluster["c"].rs)
        joins, on_join = recorder()
        leaves, on_leave = recorder()
        await watcher.subscribe(on_join, "wamp.session.on_join")
        await watcher.subscribe(on_leave, "wamp.session.on_leave")
        await settle()
        sa, sb = await join(cluster["a"].rs), await join(cluster["b"].rs)
        await eventually(lambda: {a[0]["session"] for a, _ in joins} >= {sa.sid, sb.sid})
        await settle()
        await sb.subscribe(lambda: None, "com.meta.t")
        await sa.register(lambda: None, "com.meta.p")
        await settle()
        answers = []
        for node in ("a", "b", "c"):
            q = await join(cluster[node].rs)
            sessions = await q.call("wamp.session.list")
            assert {sa.sid, sb.sid, watcher.sid, q.sid} <= set(sessions)
            assert await q.call("wamp.session.count") == len(sessions)
            assert (await q.call("wamp.session.get", sb.sid))["session"] == sb.sid
            reg = await q.call("wamp.registration.lookup", "com.meta.p")
            sub = await q.call("wamp.subscription.lookup", "com.meta.t")
            assert await q.call("wamp.registration.list_callees", reg) == [sa.sid]
            assert await q.call("wamp.subscription.list_subscribers", sub) == [sb.sid]
            assert await q.call("wamp.registration.match", "com.meta.p") == reg
            assert await q.call("wamp.subscription.match", "com.meta.t") == [sub]
            assert (await q.call("wamp.registration.get", reg))["uri"] == "com.meta.p"
            assert await q.call("wamp.subscription.count_subscribers", sub) == 1
            assert reg in (await q.call("wamp.registration.list"))["exact"]
            answers.append((reg, sub))
        assert len(set(answers)) == 1  # the same ids on every node
        killer = await join(cluster["c"].rs)
        await killer.call("wamp.session.kill", sb.sid, reason="com.kicked")
        details = await asyncio.wait_for(sb.left, 10)
        assert details.reason == "com.kicked"
        await eventually(lambda: sb.sid in [a[0] for a, _ in leaves])

    run(test)


def test_authorization_from_one_config_on_every_node(cluster: Cluster) -> None:
    """§10 (issue 13): the same roles apply on every node; identity travels with calls
    (caller disclosure carries authid/authrole)."""

    async def test() -> None:
        for node in ("a", "b", "c"):
            s = await join(cluster[node].rs)
            with pytest.raises(ApplicationError) as info:
                await s.register(lambda: 1, f"com.secret.{node}")
            assert info.value.error == "wamp.error.not_authorized"
            with pytest.raises(ApplicationError) as info:
                await s.publish("com.secret.t", options=PublishOptions(acknowledge=True))
            assert info.value.error == "wamp.error.not_authorized"
        callee = await join(cluster["b"].rs)

        def who(details: Any = None) -> list[Any]:
            return [details.caller, details.caller_authid, details.caller_authrole]

        await callee.register(who, "com.who", options=RegisterOptions(details_arg="details"))
        await settle()
        caller = await join(cluster["a"].rs)
        me = await caller.call("wamp.session.get", caller.sid)
        assert await caller.call("com.who") == [caller.sid, me["authid"], "anonymous"]

    run(test)
