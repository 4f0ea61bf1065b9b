"""Interop: the WAMP meta API (sessions, registrations, subscriptions, testaments, retention,
event history) of Crossbar.io from PyPI, driven by wampcore clients.

These tests pin what Crossbar.io really does -- including where it departs from the spec -- as
written down in docs/crossbar-meta.md. Spec references are to wamp-spec.md §4.19-§4.27.
Crossbar.io lives in its own virtual environment (see adapterkit.crossbar_executable); without
it these tests skip, saying so.

Two clients are used: the asyncio ``Session`` for calls, and ``WirePeer``, a bare
``ClientPeer`` over RawSocket that keeps every event in wire order (GOODBYE vs ABORT, reply
before or after a meta event, retained EVENTs that arrive together with SUBSCRIBED).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterator
from typing import Any, TypeVar

import pytest
from adapterkit import Crossbar, crossbar_executable
from wampcore.adapters.asyncio import ConnectionLost, Session, connect

from wampcore.client import (
    ClientPeer,
    Joined,
    Left,
    PublicationReceived,
    PublishAcknowledged,
    RegistrationCreated,
    RegistrationEnded,
    SubscriptionCreated,
    SubscriptionEnded,
)
from wampcore.errors import ApplicationError
from wampcore.transports import RawSocketClient

pytestmark = pytest.mark.timeout(180)
CROSSBAR = crossbar_executable()
E = TypeVar("E")

#: realm2 has a memory store with event history on these two subscriptions (§4.19).
HISTORY_EXACT = "com.example.history.exact"
HISTORY_PREFIX = "com.example.history."
HISTORY_LIMIT = 3
SESSION_KEYS = {"session", "authid", "authrole", "authmethod", "authprovider", "realm"}


@pytest.fixture(scope="module")
def crossbar(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Crossbar]:
    if CROSSBAR is None:
        pytest.skip(
            "Crossbar.io is not installed: .ci/run installs it into .cbvenv "
            "(python3 -m venv .cbvenv && .cbvenv/bin/pip install crossbar), or set "
            "WAMPCORE_CROSSBAR to a crossbar executable"
        )
    store = {
        "type": "memory",
        "limit": 100,
        "event-history": [
            {"uri": HISTORY_EXACT, "match": "exact", "limit": HISTORY_LIMIT},
            {"uri": HISTORY_PREFIX, "match": "prefix", "limit": 5},
        ],
    }
    with Crossbar(
        CROSSBAR,
        str(tmp_path_factory.mktemp("crossbar-meta")),
        roles=["other"],
        extra_realms=[{"name": "realm2", "store": store}],
        extra_transports={
            "alice": {"anonymous": {"type": "static", "role": "other", "authid": "alice"}}
        },
    ) as node:
        yield node


def run(test: Callable[[], Awaitable[None]]) -> None:
    async def bounded() -> None:
        async with asyncio.timeout(60):
            await test()

    asyncio.run(bounded())


async def error_of(session: Session, procedure: str, *args: Any, **kwargs: Any) -> ApplicationError:
    with pytest.raises(ApplicationError) as info:
        await session.call(procedure, *args, **kwargs)
    return info.value


async def eventually(check: Callable[[], bool], what: str, timeout: float = 10.0) -> None:
    async with asyncio.timeout(timeout):
        while not check():
            await asyncio.sleep(0.02)
    assert check(), what


class WirePeer:
    """A ClientPeer over RawSocket/TCP (JSON) that records every event in arrival order."""

    def __init__(self, realm: str) -> None:
        self.peer = ClientPeer(realm, RawSocketClient("json"), strict_request_ids=False)
        self.events: list[Any] = []
        self._new = asyncio.Event()
        self._seen = 0
        self.session_id = 0
        self.joined: Joined | None = None

    @classmethod
    async def open(cls, url: str, realm: str = "realm1") -> WirePeer:
        host, port = url.removeprefix("rs://").rsplit(":", 1)
        self = cls(realm)
        self._reader, self._writer = await asyncio.open_connection(host, int(port))
        self._task = asyncio.create_task(self._pump())
        self.flush()
        self.joined = await self.next(Joined)
        self.session_id = self.joined.session_id
        return self

    def flush(self) -> None:
        data = self.peer.data_to_send()
        if data and not self._writer.is_closing():
            self._writer.write(data)

    async def _pump(self) -> None:
        while True:
            data = await self._reader.read(65536)
            self.peer.receive_data(data)
            while (event := self.peer.next_event()) is not None:
                self.events.append(event)
            self.flush()
            self._new.set()
            if not data:
                return

    async def next(self, kind: type[E], timeout: float = 10.0) -> E:
        """The next not yet taken event of type ``kind`` (earlier ones of other types stay)."""
        async with asyncio.timeout(timeout):
            while True:
                for i in range(self._seen, len(self.events)):
                    if isinstance(self.events[i], kind):
                        self._seen = i + 1
                        event: E = self.events[i]
                        return event
                self._new.clear()
                await self._new.wait()

    def since(self, start: int) -> list[Any]:
        return self.events[start:]

    async def close(self) -> None:
        self._writer.close()
        self._task.cancel()
        await asyncio.gather(self._task, self._writer.wait_closed(), return_exceptions=True)


# --- §4.25 session meta API -----------------------------------------------------------------


@pytest.mark.interop(
    peer="crossbar",
    transport="websocket",
    serializer="json",
    features=["meta-session"],
)
def test_session_count_list_get(crossbar: Crossbar) -> None:
    """wamp-spec §4.25: count/list take an optional authrole filter list; get returns the
    on_join details dict; an unknown id is wamp.error.no_such_session."""

    async def test() -> None:
        async with (
            connect(crossbar.urls["ws"], "realm1") as me,
            connect(crossbar.urls["alice"], "realm1") as alice,
        ):
            ids = await me.call("wamp.session.list")
            assert isinstance(ids, list) and {me.session_id, alice.session_id} <= set(ids)
            count = await me.call("wamp.session.count")
            assert isinstance(count, int) and count >= 2
            assert await me.call("wamp.session.list", ["other"]) == [alice.session_id]
            assert await me.call("wamp.session.count", ["other"]) == 1
            assert await me.call("wamp.session.list", filter_authroles=["other"]) == [
                alice.session_id
            ]
            assert await me.call("wamp.session.count", []) == 0
            assert await me.call("wamp.session.list", []) == []

            info = await me.call("wamp.session.get", alice.session_id)
            assert SESSION_KEYS <= info.keys()
            assert (info["session"], info["authid"], info["authrole"]) == (
                alice.session_id,
                "alice",
                "other",
            )
            assert (info["authmethod"], info["authprovider"], info["realm"]) == (
                "anonymous",
                "static",
                "realm1",
            )
            own = await me.call("wamp.session.get", me.session_id)
            assert own["session"] == me.session_id and own["authrole"] == "anonymous"

            error = await error_of(me, "wamp.session.get", 12345)
            assert error.error == "wamp.error.no_such_session"
            assert error.args_list == ["no session with ID 12345 exists on this router"]

    run(test)


@pytest.mark.interop(
    peer="crossbar",
    transport="websocket",
    serializer="json",
    features=["meta-session"],
)
def test_session_on_join_and_on_leave(crossbar: Crossbar) -> None:
    """wamp-spec §4.25: on_join carries one positional details dict; Crossbar's on_leave
    carries only the session id (not session, authid, authrole)."""

    async def test() -> None:
        joins: list[tuple[Any, ...]] = []
        leaves: list[tuple[Any, ...]] = []
        async with connect(crossbar.urls["ws"], "realm1") as watcher:
            await watcher.subscribe("wamp.session.on_join", lambda *a, **k: joins.append((a, k)))
            await watcher.subscribe("wamp.session.on_leave", lambda *a, **k: leaves.append((a, k)))
            other = await connect(crossbar.urls["alice"], "realm1")
            sid = other.session_id
            await eventually(lambda: any(a[0]["session"] == sid for a, _ in joins), "on_join")
            (args, kwargs) = next((a, k) for a, k in joins if a[0]["session"] == sid)
            assert len(args) == 1 and kwargs == {}
            assert SESSION_KEYS <= args[0].keys()
            assert (args[0]["authid"], args[0]["authrole"]) == ("alice", "other")
            await other.leave()
            await eventually(lambda: ((sid,), {}) in leaves, "on_leave")

    run(test)


@pytest.mark.interop(
    peer="crossbar",
    transport="websocket",
    serializer="json",
    features=["meta-session"],
)
@pytest.mark.interop(
    peer="crossbar",
    transport="rawsocket",
    serializer="json",
    features=["meta-session"],
)
def test_session_kill(crossbar: Crossbar) -> None:
    """wamp-spec §4.25: kill sends the victim a GOODBYE (Crossbar's default reason is
    wamp.close.normal, not wamp.close.killed) and returns nothing; kill_all does not exist."""

    async def test() -> None:
        async with connect(crossbar.urls["ws"], "realm1") as killer:
            victim = await WirePeer.open(crossbar.urls["rs"])
            assert await killer.call("wamp.session.kill", victim.session_id) is None
            left = await victim.next(Left)
            assert (left.reason, left.message, left.local) == ("wamp.close.normal", None, False)
            await victim.close()

            victim = await WirePeer.open(crossbar.urls["rs"])
            result = await killer.call(
                "wamp.session.kill", victim.session_id, reason="com.example.bye", message="go"
            )
            assert result is None
            left = await victim.next(Left)
            assert (left.reason, left.message) == ("com.example.bye", "go")
            await victim.close()

            error = await error_of(killer, "wamp.session.kill", 12345)
            assert error.error == "wamp.error.no_such_session"
            error = await error_of(killer, "wamp.session.kill_all")
            assert error.error == "wamp.error.no_such_procedure"

        # Crossbar does not refuse a session killing itself: the caller gets GOODBYE instead
        # of a RESULT (the spec wants wamp.error.no_such_session).
        suicidal = await connect(crossbar.urls["ws"], "realm1")
        with pytest.raises(ConnectionLost):
            await suicidal.call("wamp.session.kill", suicidal.session_id)
        await asyncio.wait_for(suicidal.wait_closed(), 10)
        assert suicidal.close_reason is not None
        assert "wamp.close.normal" in suicidal.close_reason
        await suicidal.leave()

    run(test)


@pytest.mark.interop(
    peer="crossbar",
    transport="websocket",
    serializer="json",
    features=["meta-session"],
)
def test_session_kill_by_authid_and_authrole(crossbar: Crossbar) -> None:
    """wamp-spec §4.25: both return the list of killed session ids (Crossbar returns a list for
    kill_by_authrole too, not a count), [] when nothing matches; victims get GOODBYE."""

    async def test() -> None:
        async with connect(crossbar.urls["ws"], "realm1") as killer:
            first = await connect(crossbar.urls["alice"], "realm1")
            second = await connect(crossbar.urls["alice"], "realm1")
            killed = await killer.call(
                "wamp.session.kill_by_authid", "alice", reason="com.example.out", message="m"
            )
            assert sorted(killed) == sorted([first.session_id, second.session_id])
            for victim in (first, second):
                await asyncio.wait_for(victim.wait_closed(), 10)
                assert victim.close_reason == "session closed (com.example.out: m)"
            assert await killer.call("wamp.session.kill_by_authid", "nobody") == []

            third = await connect(crossbar.urls["alice"], "realm1")
            sid = third.session_id
            assert await killer.call("wamp.session.kill_by_authrole", "other") == [sid]
            await asyncio.wait_for(third.wait_closed(), 10)
            assert third.close_reason == "session closed (wamp.close.normal)"
            assert await killer.call("wamp.session.kill_by_authrole", "nobody") == []

    run(test)


# --- §4.26 registration meta API ------------------------------------------------------------


@pytest.mark.interop(
    peer="crossbar",
    transport="websocket",
    serializer="json",
    features=["meta-registration"],
)
def test_registration_meta_procedures(crossbar: Crossbar) -> None:
    """wamp-spec §4.26: list is {exact, prefix, wildcard} without wamp.* URIs; lookup and match
    return one id or None; get returns {id, created, uri, match, invoke}."""

    async def test() -> None:
        p = "com.example.regmeta"
        async with (
            connect(crossbar.urls["ws"], "realm1") as callee,
            connect(crossbar.urls["ws"], "realm1") as other,
            connect(crossbar.urls["ws"], "realm1") as meta,
        ):
            exact = await callee.register(f"{p}.proc", lambda: 1)
            prefix = await callee.register(f"{p}.", lambda: 2, match="prefix")
            wild = await callee.register("com.example..rmproc", lambda: 3, match="wildcard")
            shared = await callee.register(f"{p}.shared", lambda: 4, invoke="roundrobin")
            again = await other.register(f"{p}.shared", lambda: 5, invoke="roundrobin")
            assert again.id == shared.id

            listing = await meta.call("wamp.registration.list")
            assert set(listing) == {"exact", "prefix", "wildcard"}
            assert {exact.id, shared.id} <= set(listing["exact"])
            assert prefix.id in listing["prefix"] and wild.id in listing["wildcard"]
            assert await meta.call("wamp.registration.lookup", "wamp.session.list") is None
            assert await meta.call("wamp.registration.match", "wamp.session.list") is None

            lookup = "wamp.registration.lookup"
            assert await meta.call(lookup, f"{p}.proc") == exact.id
            assert await meta.call(lookup, f"{p}.") is None  # default match is exact
            assert await meta.call(lookup, f"{p}.", {"match": "prefix"}) == prefix.id
            assert await meta.call(lookup, "com.example..rmproc", {"match": "wildcard"}) == wild.id
            assert await meta.call(lookup, f"{p}.proc", options={"match": "exact"}) == exact.id
            assert await meta.call(lookup, "org.example.nothing") is None

            match = "wamp.registration.match"
            assert await meta.call(match, f"{p}.proc") == exact.id
            assert await meta.call(match, f"{p}.zzz") == prefix.id
            assert await meta.call(match, "com.example.zz.rmproc") == wild.id
            assert await meta.call(match, "org.example.nothing") is None

            info = await meta.call("wamp.registration.get", shared.id)
            assert set(info) == {"id", "created", "uri", "match", "invoke"}
            assert (info["id"], info["uri"], info["match"], info["invoke"]) == (
                shared.id,
                f"{p}.shared",
                "exact",
                "roundrobin",
            )
            assert isinstance(info["created"], str) and info["created"].endswith("Z")
            assert (await meta.call("wamp.registration.get", prefix.id))["match"] == "prefix"

            callees = "wamp.registration.list_callees"
            assert await meta.call(callees, shared.id) == [callee.session_id, other.session_id]
            assert await meta.call("wamp.registration.count_callees", shared.id) == 2
            for proc in (
                "wamp.registration.get",
                "wamp.registration.list_callees",
                "wamp.registration.count_callees",
            ):
                error = await error_of(meta, proc, 12345)
                assert error.error == "wamp.error.no_such_registration", proc
                assert error.args_list == ["no registration with ID 12345 exists on this dealer"]

            # remove_callee: detaches the callee (Crossbar 26.x then fails with runtime_error)
            try:
                await meta.call("wamp.registration.remove_callee", wild.id, callee.session_id)
            except ApplicationError as exc:
                assert exc.error == "wamp.error.runtime_error"
            assert await meta.call(lookup, "com.example..rmproc", {"match": "wildcard"}) is None
            error = await error_of(meta, "wamp.registration.remove_callee", 12345, 12345)
            assert error.error == "wamp.error.no_such_session"
            error = await error_of(
                meta, "wamp.registration.remove_callee", 12345, callee.session_id
            )
            assert error.error == "wamp.error.no_such_registration"

    run(test)


@pytest.mark.interop(
    peer="crossbar",
    transport="rawsocket",
    serializer="json",
    features=["meta-registration"],
)
def test_registration_meta_events_follow_the_reply(crossbar: Crossbar) -> None:
    """wamp-spec §4.26: on_create [session, details] then on_register [session, id], both
    after REGISTERED; on_unregister then on_delete [session, id], after UNREGISTERED; on leave
    Crossbar reports the session as None."""

    async def test() -> None:
        uri = "com.example.regevents.proc"
        wire = await WirePeer.open(crossbar.urls["rs"])
        for topic in ("on_create", "on_register", "on_unregister", "on_delete"):
            wire.peer.subscribe(f"wamp.registration.{topic}")
            wire.flush()
            await wire.next(SubscriptionCreated)
        start = len(wire.events)
        wire.peer.register(uri, invoke="roundrobin")
        wire.flush()
        created = await wire.next(RegistrationCreated)
        on_create = await wire.next(PublicationReceived)
        on_register = await wire.next(PublicationReceived)
        seq = [type(e) for e in wire.since(start)]
        assert seq[:3] == [RegistrationCreated, PublicationReceived, PublicationReceived]
        rid, sid = created.registration_id, wire.session_id
        assert (on_create.topic, on_create.kwargs) == ("wamp.registration.on_create", None)
        assert on_create.args is not None and on_create.args[0] == sid
        assert on_create.args[1]["id"] == rid and on_create.args[1]["uri"] == uri
        assert set(on_create.args[1]) == {"id", "created", "uri", "match", "invoke"}
        assert on_create.args[1]["invoke"] == "roundrobin"
        assert (on_register.topic, on_register.args) == (
            "wamp.registration.on_register",
            [sid, rid],
        )

        async with connect(crossbar.urls["ws"], "realm1") as second:
            await second.register(uri, lambda: None, invoke="roundrobin")
            got = await wire.next(PublicationReceived)
            # Joining an existing registration: on_register only, no on_create.
            assert (got.topic, got.args) == (
                "wamp.registration.on_register",
                [second.session_id, rid],
            )
        got = await wire.next(PublicationReceived)
        # The second callee left with GOODBYE: its session id is reported as None.
        assert (got.topic, got.args) == ("wamp.registration.on_unregister", [None, rid])

        start = len(wire.events)
        wire.peer.unregister(rid)
        wire.flush()
        await wire.next(RegistrationEnded)
        on_unregister = await wire.next(PublicationReceived)
        on_delete = await wire.next(PublicationReceived)
        seq = [type(e) for e in wire.since(start)]
        assert seq[:3] == [RegistrationEnded, PublicationReceived, PublicationReceived]
        assert (on_unregister.topic, on_unregister.args) == (
            "wamp.registration.on_unregister",
            [sid, rid],
        )
        assert (on_delete.topic, on_delete.args) == ("wamp.registration.on_delete", [sid, rid])
        await wire.close()

    run(test)


# --- §4.27 subscription meta API ------------------------------------------------------------


@pytest.mark.interop(
    peer="crossbar",
    transport="websocket",
    serializer="json",
    features=["meta-subscription"],
)
def test_subscription_meta_procedures(crossbar: Crossbar) -> None:
    """wamp-spec §4.27: list is {exact, prefix, wildcard} (Crossbar leaves wildcard empty);
    match returns a list of all matching ids or None; get returns {id, created, uri, match}."""

    async def test() -> None:
        t = "com.example.submeta"
        async with (
            connect(crossbar.urls["ws"], "realm1") as sub,
            connect(crossbar.urls["ws"], "realm1") as meta,
        ):
            exact = await sub.subscribe(f"{t}.smtopic", lambda *a: None)
            again = await meta.subscribe(f"{t}.smtopic", lambda *a: None)
            assert again.id == exact.id
            prefix = await sub.subscribe(f"{t}.", lambda *a: None, match="prefix")
            wild = await sub.subscribe("com.example..smtopic", lambda *a: None, match="wildcard")
            await meta.subscribe("wamp.subscription.on_create", lambda *a: None)

            listing = await meta.call("wamp.subscription.list")
            assert set(listing) == {"exact", "prefix", "wildcard"}
            assert exact.id in listing["exact"] and prefix.id in listing["prefix"]
            assert (
                await meta.call("wamp.subscription.lookup", "wamp.subscription.on_create") is None
            )
            mine = await meta.call("wamp.subscription.list", sub.session_id)
            assert wild.id in mine["wildcard"]  # the per-session variant includes wildcards

            lookup = "wamp.subscription.lookup"
            assert await meta.call(lookup, f"{t}.smtopic") == exact.id
            assert await meta.call(lookup, f"{t}.") is None
            assert await meta.call(lookup, f"{t}.", {"match": "prefix"}) == prefix.id
            assert await meta.call(lookup, "com.example..smtopic", {"match": "wildcard"}) == wild.id
            assert await meta.call(lookup, "org.example.nothing") is None

            match = "wamp.subscription.match"
            assert await meta.call(match, f"{t}.smtopic") == [exact.id, prefix.id, wild.id]
            assert await meta.call(match, f"{t}.zzz") == [prefix.id]
            assert await meta.call(match, "org.example.nothing") is None

            info = await meta.call("wamp.subscription.get", prefix.id)
            assert set(info) == {"id", "created", "uri", "match"}
            assert (info["id"], info["uri"], info["match"]) == (prefix.id, f"{t}.", "prefix")
            subscribers = await meta.call("wamp.subscription.list_subscribers", exact.id)
            assert sorted(subscribers) == sorted([sub.session_id, meta.session_id])
            assert await meta.call("wamp.subscription.count_subscribers", exact.id) == 2
            for proc in (
                "wamp.subscription.get",
                "wamp.subscription.list_subscribers",
                "wamp.subscription.count_subscribers",
            ):
                error = await error_of(meta, proc, 12345)
                assert error.error == "wamp.error.no_such_subscription", proc
                assert error.args_list == ["no subscription with ID 12345 exists on this broker"]

    run(test)


@pytest.mark.interop(
    peer="crossbar",
    transport="rawsocket",
    serializer="json",
    features=["meta-subscription"],
)
def test_subscription_meta_events_and_remove_subscriber(crossbar: Crossbar) -> None:
    """wamp-spec §4.27, §4.21: on_create/on_subscribe after SUBSCRIBED; remove_subscriber
    returns nothing, publishes on_unsubscribe/on_delete and revokes with UNSUBSCRIBED(0)."""

    async def test() -> None:
        topic = "com.example.subevents.topic"
        wire = await WirePeer.open(crossbar.urls["rs"])
        for name in ("on_create", "on_subscribe", "on_unsubscribe", "on_delete"):
            wire.peer.subscribe(f"wamp.subscription.{name}")
            wire.flush()
            await wire.next(SubscriptionCreated)
        start = len(wire.events)
        wire.peer.subscribe(topic)
        wire.flush()
        created = await wire.next(SubscriptionCreated)
        on_create = await wire.next(PublicationReceived)
        on_subscribe = await wire.next(PublicationReceived)
        seq = [type(e) for e in wire.since(start)]
        assert seq[:3] == [SubscriptionCreated, PublicationReceived, PublicationReceived]
        sub_id, sid = created.subscription_id, wire.session_id
        assert on_create.topic == "wamp.subscription.on_create" and on_create.kwargs is None
        assert on_create.args is not None and on_create.args[0] == sid
        assert set(on_create.args[1]) == {"id", "created", "uri", "match"}
        assert (on_create.args[1]["id"], on_create.args[1]["uri"]) == (sub_id, topic)
        assert (on_subscribe.topic, on_subscribe.args) == (
            "wamp.subscription.on_subscribe",
            [sid, sub_id],
        )

        async with connect(crossbar.urls["ws"], "realm1") as meta:
            result = await meta.call("wamp.subscription.remove_subscriber", sub_id, sid, "com.x.r")
            assert result is None
            ended = await wire.next(SubscriptionEnded)
            assert (ended.request_id, ended.subscription_id, ended.revoked) == (None, sub_id, True)
            assert ended.reason == "com.x.r"
            on_unsubscribe = await wire.next(PublicationReceived)
            on_delete = await wire.next(PublicationReceived)
            assert (on_unsubscribe.topic, on_unsubscribe.args) == (
                "wamp.subscription.on_unsubscribe",
                [sid, sub_id],
            )
            assert (on_delete.topic, on_delete.args) == (
                "wamp.subscription.on_delete",
                [sid, sub_id],
            )
            assert await meta.call("wamp.subscription.lookup", topic) is None

            error = await error_of(meta, "wamp.subscription.remove_subscriber", sub_id, 12345)
            assert error.error == "wamp.error.no_such_session"
            error = await error_of(meta, "wamp.subscription.remove_subscriber", 12345, sid)
            assert error.error == "wamp.error.no_such_subscription"
        await wire.close()

    run(test)


# --- §4.23 testaments -----------------------------------------------------------------------


@pytest.mark.interop(
    peer="crossbar",
    transport="websocket",
    serializer="json",
    features=["testament"],
)
def test_testaments(crossbar: Crossbar) -> None:
    """wamp-spec §4.23: add_testament(topic, args, kwargs, publish_options=, scope=) returns a
    publication id in Crossbar; flush_testaments returns how many it dropped; on leave the
    detached testaments are published first, then the destroyed ones, in the order added."""

    async def test() -> None:
        t = "com.example.testament"
        got: list[tuple[str, tuple[Any, ...], dict[str, Any]]] = []

        def on_event(*args: Any, details: Any = None, **kwargs: Any) -> None:
            got.append((details.topic, args, kwargs))

        async with connect(crossbar.urls["ws"], "realm1") as watcher:
            await watcher.subscribe(f"{t}.", on_event, match="prefix")
            dying = await connect(crossbar.urls["ws"], "realm1")
            add = "wamp.session.add_testament"
            pub = await dying.call(add, f"{t}.a", [1, 2], {"k": "v"})
            assert isinstance(pub, int)
            await dying.call(add, f"{t}.b", ["detached"], {}, scope="detached")
            await dying.call(add, topic=f"{t}.c", args=[3], kwargs={"z": 1})
            await dying.call(add, f"{t}.e", [], {})
            error = await error_of(dying, add, f"{t}.x", [], {}, scope="bogus")
            assert error.error == "wamp.error.testament_error"
            error = await error_of(dying, add, f"{t}.x", [])  # kwargs is required
            assert error.error == "wamp.error.runtime_error"

            await dying.call(add, f"{t}.flushed", [], {}, scope="detached")
            # flush_testaments drops all of the scope's testaments (b too) and counts them
            assert await dying.call("wamp.session.flush_testaments", scope="detached") == 2
            assert await dying.call("wamp.session.flush_testaments", scope="detached") == 0
            await dying.call(add, f"{t}.b2", ["detached2"], {}, scope="detached")
            await dying.call(add, f"{t}.d", [4], {})
            await dying.leave()
            await eventually(lambda: len(got) >= 5, "testaments")
            await asyncio.sleep(0.2)
            assert [topic for topic, _, _ in got] == [
                f"{t}.b2",
                f"{t}.a",
                f"{t}.c",
                f"{t}.e",
                f"{t}.d",
            ]
            assert got[1][1:] == ((1, 2), {"k": "v"})
            assert got[2][1:] == ((3,), {"z": 1})

            got.clear()
            killed = await connect(crossbar.urls["ws"], "realm1")
            await killed.call(add, f"{t}.killed", ["k"], {})
            await watcher.call("wamp.session.kill", killed.session_id)
            await asyncio.wait_for(killed.wait_closed(), 10)
            await eventually(lambda: bool(got), "testament of a killed session")

    run(test)


# --- §4.20 event retention ------------------------------------------------------------------


@pytest.mark.interop(
    peer="crossbar",
    transport="websocket",
    serializer="json",
    features=["retention"],
)
def test_event_retention(crossbar: Crossbar) -> None:
    """wamp-spec §4.20: a get_retained SUBSCRIBE gets the latest retain=True event right after
    SUBSCRIBED, with Details {"retained": true} and a fresh publication id; prefix
    subscriptions get nothing."""

    async def test() -> None:
        topic = "com.example.retention.topic"
        publisher = await WirePeer.open(crossbar.urls["rs"])
        pubs = []
        for n, retain in ((1, True), (2, True), (3, False)):
            publisher.peer.publish(topic, [n], {"n": n}, acknowledge=True, retain=retain)
            publisher.flush()
            pubs.append((await publisher.next(PublishAcknowledged)).publication_id)

        async with connect(crossbar.urls["ws"], "realm1") as meta:
            # retain=True creates the (exact) subscription, which then outlives its subscribers
            assert isinstance(await meta.call("wamp.subscription.lookup", topic), int)

        subscriber = await WirePeer.open(crossbar.urls["rs"])
        start = len(subscriber.events)
        subscriber.peer.subscribe(topic, get_retained=True)
        subscriber.flush()
        created = await subscriber.next(SubscriptionCreated)
        event = await subscriber.next(PublicationReceived)
        assert [type(e) for e in subscriber.since(start)][:2] == [
            SubscriptionCreated,
            PublicationReceived,
        ]
        assert event.subscription_id == created.subscription_id
        assert (event.args, event.kwargs, event.details) == ([2], {"n": 2}, {"retained": True})
        assert event.retained and event.publication_id not in pubs

        subscriber.peer.subscribe("com.example.retention.", match="prefix", get_retained=True)
        subscriber.flush()
        await subscriber.next(SubscriptionCreated)
        subscriber.peer.subscribe(topic)  # without get_retained: nothing either
        subscriber.flush()
        await subscriber.next(SubscriptionCreated)
        await asyncio.sleep(0.3)
        assert not [e for e in subscriber.since(start) if isinstance(e, PublicationReceived)][1:]
        await subscriber.close()
        await publisher.close()

    run(test)


# --- §4.19 event history --------------------------------------------------------------------


@pytest.mark.interop(
    peer="crossbar",
    transport="websocket",
    serializer="json",
    features=["history"],
)
def test_event_history(crossbar: Crossbar) -> None:
    """wamp-spec §4.19: Crossbar's get_events(subscription, limit=10) returns the newest events
    first as {time_ns, realm, session_id, authid, authrole, publication, topic, args, kwargs}
    (not the spec's shape); without a store it is wamp.error.history_unavailable."""

    async def test() -> None:
        url = crossbar.urls["ws"]
        async with connect(url, "realm2") as sub, connect(url, "realm2") as pub:
            history = await sub.call("wamp.subscription.lookup", HISTORY_EXACT)
            assert isinstance(history, int)  # the store's subscription exists from startup
            subscription = await sub.subscribe(HISTORY_EXACT, lambda *a, **k: None)
            assert subscription.id == history
            assert await sub.call("wamp.subscription.get_events", history) == []

            ids = []
            for n in range(HISTORY_LIMIT + 1):
                ids.append(await pub.publish(HISTORY_EXACT, n, n=n, acknowledge=True))
            ids.append(await pub.publish(HISTORY_EXACT, acknowledge=True))
            events = await sub.call("wamp.subscription.get_events", history)
            assert [e["publication"] for e in events] == ids[::-1][:HISTORY_LIMIT]
            newest, older = events[0], events[1]
            assert set(newest) == {
                "time_ns",
                "realm",
                "session_id",
                "authid",
                "authrole",
                "publication",
                "topic",
                "args",
                "kwargs",
            }
            assert (newest["args"], newest["kwargs"]) == (None, None)
            assert (older["args"], older["kwargs"]) == ([HISTORY_LIMIT], {"n": HISTORY_LIMIT})
            assert (older["session_id"], older["realm"], older["topic"]) == (
                pub.session_id,
                "realm2",
                HISTORY_EXACT,
            )
            assert older["authrole"] == "anonymous" and isinstance(older["time_ns"], int)
            assert newest["time_ns"] >= older["time_ns"]
            limited = await sub.call("wamp.subscription.get_events", history, 1)
            assert [e["publication"] for e in limited] == [ids[-1]]
            limited = await sub.call("wamp.subscription.get_events", history, limit=2)
            assert [e["publication"] for e in limited] == ids[::-1][:2]

            plain = await sub.subscribe("com.example.nohistory", lambda *a: None)
            error = await error_of(sub, "wamp.subscription.get_events", plain.id)
            assert error.error == "wamp.error.history_unavailable"
            error = await error_of(sub, "wamp.subscription.get_events", 12345)
            assert error.error == "wamp.error.no_such_subscription"

        async with connect(url, "realm1") as nostore:
            error = await error_of(nostore, "wamp.subscription.get_events", 12345)
            assert error.error == "wamp.error.history_unavailable"

    run(test)


# --- bad arguments --------------------------------------------------------------------------


@pytest.mark.interop(
    peer="crossbar",
    transport="websocket",
    serializer="json",
    features=["meta-session", "meta-registration", "meta-subscription"],
)
def test_bad_arguments_to_meta_procedures(crossbar: Crossbar) -> None:
    """wamp-spec §4.25-§4.27: Crossbar has no dedicated error for bad arguments: a missing or
    mistyped argument surfaces as wamp.error.runtime_error."""

    async def test() -> None:
        async with connect(crossbar.urls["ws"], "realm1") as s:
            for proc, args in (
                ("wamp.session.get", ()),
                ("wamp.session.count", ("anonymous",)),
                ("wamp.session.list", (5,)),
                ("wamp.session.kill", ("x",)),
                ("wamp.registration.get", ()),
                ("wamp.subscription.count_subscribers", ()),
            ):
                error = await error_of(s, proc, *args)
                assert error.error == "wamp.error.runtime_error", (proc, args)
            error = await error_of(s, "wamp.session.get")
            assert error.args_list == [
                "RouterServiceAgent.session_get() missing 1 required positional argument: "
                "'session_id'"
            ]

    run(test)
