"""The session meta API (wamp-spec.md §4.25), testaments (§4.23) and embedded sessions, at the
core: one Router, scripted TestPeers over real framings (tests/netharness.py) and
router-internal ClientPeers from ``router.open_local_session``. No sockets.

Shapes are checked exactly: ``RESULT.Arguments`` is ``[value]`` (or absent for "nothing"),
``ERROR.Arguments`` one human-readable string; meta events are ordinary EVENTs.
"""

from __future__ import annotations

from typing import Any

import pytest
from netharness import Network, TestPeer

from wampcore.client import CallResult, ClientPeer, Joined, Left, RequestError
from wampcore.config import Limits, RealmConfig, RouterConfig
from wampcore.messages import (
    CALL,
    Abort,
    Error,
    Event,
    Goodbye,
    Hello,
    Invocation,
    Result,
    Subscribed,
    Welcome,
)
from wampcore.router import InternalError, ProtocolViolation

INVALID_ARGUMENT = "wamp.error.invalid_argument"
INVALID_URI = "wamp.error.invalid_uri"
NO_SUCH_SESSION = "wamp.error.no_such_session"
DETAIL_KEYS = {
    "session",
    "realm",
    "authid",
    "authrole",
    "authmethod",
    "authprovider",
    "authextra",
    "transport",
    "joined",  # issue 12: the status page shows each session's age
}


# -- helpers -------------------------------------------------------------------------------------


def answer(
    net: Network,
    peer: TestPeer,
    procedure: str,
    args: list[Any] | None = None,
    kwargs: dict[str, Any] | None = None,
) -> Result | Error:
    """CALL ``procedure``, pump, and return the one RESULT or ERROR for it."""
    rid = peer.call(procedure, args, kwargs)
    net.pump()
    found = [
        m
        for m in peer.received
        if (isinstance(m, Result) and m.request_id == rid)
        or (isinstance(m, Error) and m.request_type == CALL and m.request_id == rid)
    ]
    assert len(found) == 1, f"{procedure}: {peer.received[-5:]!r:.800}"
    return found[0]


def result(
    net: Network,
    peer: TestPeer,
    procedure: str,
    args: list[Any] | None = None,
    kwargs: dict[str, Any] | None = None,
) -> list[Any] | None:
    """The RESULT.Arguments of a meta call that must succeed (no ArgumentsKw)."""
    got = answer(net, peer, procedure, args, kwargs)
    assert isinstance(got, Result), f"{procedure}{args}{kwargs}: {got!r:.300}"
    assert got.kwargs is None and got.details == {}
    return got.args


def error(
    net: Network,
    peer: TestPeer,
    procedure: str,
    args: list[Any] | None = None,
    kwargs: dict[str, Any] | None = None,
) -> str:
    """The ERROR URI of a meta call that must fail (Arguments: one message string)."""
    got = answer(net, peer, procedure, args, kwargs)
    assert isinstance(got, Error), f"{procedure}{args}{kwargs}: {got!r:.300}"
    assert got.args is not None and len(got.args) == 1 and isinstance(got.args[0], str)
    assert got.args[0] and got.kwargs is None
    return got.error


def subscribed(net: Network, peer: TestPeer, topic: str, **options: Any) -> int:
    rid = peer.subscribe(topic, **options)
    net.pump()
    return peer.one(Subscribed, lambda m: m.request_id == rid).subscription_id


def events(peer: TestPeer, subscription_id: int) -> list[Event]:
    return [m for m in peer.all(Event) if m.subscription_id == subscription_id]


def authid_of(peer: TestPeer) -> str:
    authid: str = peer.one(Welcome).details["authid"]
    return authid


def drain(cp: ClientPeer) -> list[Any]:
    out = []
    while (ev := cp.next_event()) is not None:
        out.append(ev)
    return out


def local(net: Network, realm: str = "realm1", **identity: Any) -> tuple[ClientPeer, Joined]:
    cp = net.router.open_local_session(realm, **identity)
    evs = drain(cp)
    assert len(evs) == 1 and isinstance(evs[0], Joined), evs
    return cp, evs[0]


def local_call(cp: ClientPeer, procedure: str, *args: Any, **kwargs: Any) -> Any:
    """A meta call from an embedded session: answered within the same step."""
    rid = cp.call(procedure, list(args) or None, kwargs or None)
    evs = [e for e in drain(cp) if getattr(e, "request_id", None) == rid]
    assert len(evs) == 1, evs
    return evs[0]


# -- wamp.session.count / list / get -------------------------------------------------------------


def test_session_count_and_list_exclude_the_hidden_service_session_wamp_spec_4_25() -> None:
    net = Network()
    a, b = net.join(), net.join()
    assert result(net, a, "wamp.session.count") == [2]
    assert result(net, a, "wamp.session.list") == [[a.session_id, b.session_id]]  # join order
    hidden = [s for s in net.router.sessions.sessions.values() if s.hidden]
    assert len(hidden) == 1 and hidden[0].authrole == "trusted"
    assert hidden[0].id not in result(net, a, "wamp.session.list")[0]  # type: ignore[index]
    b.goodbye()
    net.pump()
    assert result(net, a, "wamp.session.count") == [1]
    assert result(net, a, "wamp.session.list") == [[a.session_id]]
    net.check()


def test_session_count_and_list_filter_by_authroles_positional_and_keyword_wamp_spec_4_25() -> None:
    net = Network()
    a = net.join()
    _admin, admin_joined = local(net, authrole="admin")
    _trusted, trusted_joined = local(net)  # the realm's embedded_authrole: trusted
    everyone = [a.session_id, admin_joined.session_id, trusted_joined.session_id]
    assert result(net, a, "wamp.session.count") == [3]
    assert result(net, a, "wamp.session.list") == [everyone]
    assert result(net, a, "wamp.session.count", [["admin"]]) == [1]
    assert result(net, a, "wamp.session.list", [["admin"]]) == [[admin_joined.session_id]]
    assert result(net, a, "wamp.session.count", None, {"filter_authroles": ["anonymous"]}) == [1]
    assert result(net, a, "wamp.session.list", None, {"filter_authroles": ["anonymous"]}) == [
        [a.session_id]
    ]
    # The hidden service session is trusted too, but never counted.
    assert result(net, a, "wamp.session.count", [["trusted"]]) == [1]
    assert result(net, a, "wamp.session.count", [["admin", "anonymous"]]) == [2]
    # An empty filter filters everything out; it does not mean "no filter".
    assert result(net, a, "wamp.session.count", [[]]) == [0]
    assert result(net, a, "wamp.session.list", [[]]) == [[]]
    assert result(net, a, "wamp.session.count", [["nobody"]]) == [0]
    net.check()


def test_session_get_returns_the_details_of_any_session_incl_the_callers_wamp_spec_4_25() -> None:
    net = Network()
    a = net.join()
    b = net.join("websocket", "cbor")
    (details,) = result(net, a, "wamp.session.get", [b.session_id])  # type: ignore[misc]
    assert set(details) == DETAIL_KEYS
    assert details["session"] == b.session_id and details["realm"] == "realm1"
    assert details["authid"] == authid_of(b)
    assert (details["authrole"], details["authmethod"], details["authprovider"]) == (
        "anonymous",
        "anonymous",
        "static",
    )
    assert details["authextra"] == {} and isinstance(details["transport"], dict)
    assert result(net, a, "wamp.session.get", None, {"session_id": b.session_id}) == [details]
    (own,) = result(net, a, "wamp.session.get", [a.session_id])  # type: ignore[misc]
    assert own["session"] == a.session_id and own["authid"] == authid_of(a)
    net.check()


def test_session_get_of_unknown_hidden_or_foreign_sessions_is_no_such_session_wamp_spec_4_25() -> (
    None
):
    net = Network(RouterConfig(realms=[RealmConfig("realm1"), RealmConfig("realm2")]))
    a = net.join()
    other = net.join(realm="realm2")
    hidden = [s.id for s in net.router.sessions.sessions.values() if s.hidden]
    assert len(hidden) == 2  # one service session per realm
    for sid in [*hidden, other.session_id, 12345]:
        assert error(net, a, "wamp.session.get", [sid]) == NO_SUCH_SESSION
        assert error(net, a, "wamp.session.kill", [sid]) == NO_SUCH_SESSION
    assert other.take(Goodbye) == []  # a session of another realm is out of reach
    net.check()


@pytest.mark.parametrize(
    ("procedure", "args", "kwargs"),
    [
        ("wamp.session.count", ["anonymous"], None),  # not a list
        ("wamp.session.count", [[1]], None),  # not a list of strings
        ("wamp.session.count", [["a"], ["b"]], None),  # too many
        ("wamp.session.count", None, {"authroles": ["a"]}),  # no such argument
        ("wamp.session.list", [5], None),
        ("wamp.session.list", [["a"]], {"filter_authroles": ["a"]}),  # given twice
        ("wamp.session.get", None, None),  # missing
        ("wamp.session.get", ["x"], None),
        ("wamp.session.get", [True], None),  # a bool is no id
        ("wamp.session.get", [0], None),
        ("wamp.session.get", [2**53 + 1], None),
        ("wamp.session.get", [1.5], None),
        ("wamp.session.get", [1, 2], None),
        ("wamp.session.kill", None, None),
        ("wamp.session.kill", ["x"], None),
        ("wamp.session.kill", [1], {"message": 5}),
        ("wamp.session.kill", [1], {"bogus": 1}),
        ("wamp.session.kill_by_authid", None, None),
        ("wamp.session.kill_by_authid", [5], None),
        ("wamp.session.kill_by_authrole", [["anonymous"]], None),
        ("wamp.session.kill_all", None, {"message": ["x"]}),
        ("wamp.session.kill_all", ["wamp.close.killed", "m", "extra"], None),
        ("wamp.session.add_testament", None, None),
        ("wamp.session.flush_testaments", ["forever"], None),
        ("wamp.session.flush_testaments", None, {"scope": 1}),
    ],
)
def test_bad_argument_types_and_counts_are_invalid_argument_wamp_spec_4_25(
    procedure: str, args: list[Any] | None, kwargs: dict[str, Any] | None
) -> None:
    net = Network()
    a, b = net.join(), net.join()
    assert error(net, a, procedure, args, kwargs) == INVALID_ARGUMENT
    # Nothing was done: both sessions are still there, and the router is unharmed.
    assert result(net, a, "wamp.session.count") == [2]
    assert b.take(Goodbye) == []
    net.check()


def test_many_bad_meta_calls_never_take_the_router_down_wamp_spec_4_25() -> None:
    net = Network()
    a, b = net.join(), net.join("websocket", "msgpack")
    odd: list[Any] = [None, 0, -1, True, 1.5, "", "x", "a b", [], [1], ["a"], {}, {"match": []}]
    for procedure in (
        "wamp.session.count",
        "wamp.session.list",
        "wamp.session.get",
        "wamp.session.add_testament",
        "wamp.session.flush_testaments",
        "wamp.registration.lookup",
        "wamp.registration.match",
        "wamp.registration.get",
        "wamp.registration.remove_callee",
        "wamp.subscription.lookup",
        "wamp.subscription.match",
        "wamp.subscription.remove_subscriber",
        "wamp.subscription.get_events",
    ):
        for value in odd:
            for args in ([value], [1, value], [value, value, value, value, value, value]):
                a.call(procedure, args)
            a.call(procedure, None, {"options": value})
    net.pump()
    answered = [m for m in a.received if isinstance(m, Result | Error)]
    assert len(answered) == 13 * len(odd) * 4  # every call got an answer
    assert result(net, b, "wamp.session.count") == [2]
    assert net.events_of(InternalError) == []
    net.check()


# -- kill ----------------------------------------------------------------------------------------


def test_kill_sends_goodbye_killed_and_returns_nothing_wamp_spec_4_25() -> None:
    net = Network()
    a, b, c = net.join(), net.join(), net.join()
    assert result(net, a, "wamp.session.kill", [b.session_id]) is None  # no result
    assert b.one(Goodbye).reason == "wamp.close.killed" and b.one(Goodbye).details == {}
    b.goodbye("wamp.close.goodbye_and_out")  # the victim replies; the router then closes
    net.pump()
    assert b.gone and c.take(Goodbye) == [] and a.take(Goodbye) == []
    assert result(net, a, "wamp.session.list") == [[a.session_id, c.session_id]]
    net.check()


def test_kill_with_reason_and_message_by_position_and_keyword_wamp_spec_4_25() -> None:
    net = Network()
    a, b, c = net.join(), net.join(), net.join()
    assert result(net, a, "wamp.session.kill", [b.session_id, "com.example.bye", "go away"]) is None
    goodbye = b.one(Goodbye)
    assert (goodbye.reason, goodbye.details) == ("com.example.bye", {"message": "go away"})
    kwargs = {"session_id": c.session_id, "reason": "com.example.out", "message": "later"}
    assert result(net, a, "wamp.session.kill", None, kwargs) is None
    goodbye = c.one(Goodbye)
    assert (goodbye.reason, goodbye.details) == ("com.example.out", {"message": "later"})
    net.check()


@pytest.mark.parametrize("reason", ["not a uri!", "", "com..x", 5, ["wamp.close.killed"]])
def test_kill_with_an_invalid_reason_is_invalid_uri_and_kills_nobody_wamp_spec_4_25(
    reason: Any,
) -> None:
    net = Network()
    a, b = net.join(), net.join()
    for procedure, args in (
        ("wamp.session.kill", [b.session_id, reason]),
        ("wamp.session.kill_by_authid", [authid_of(b), reason]),
        ("wamp.session.kill_by_authrole", ["anonymous", reason]),
        ("wamp.session.kill_all", [reason]),
    ):
        assert error(net, a, procedure, args) == INVALID_URI
        assert error(net, a, procedure, args[:-1], {"reason": reason}) == INVALID_URI
    assert b.take(Goodbye) == []
    assert result(net, a, "wamp.session.count") == [2]
    net.check()


def test_kill_own_session_is_no_such_session_wamp_spec_4_25() -> None:
    net = Network()
    a = net.join()
    assert error(net, a, "wamp.session.kill", [a.session_id]) == NO_SUCH_SESSION
    assert a.take(Goodbye) == []
    assert result(net, a, "wamp.session.count") == [1]
    net.check()


def test_kill_by_authid_returns_the_killed_ids_never_the_caller_wamp_spec_4_25() -> None:
    net = Network()
    observer = net.join()
    caller, caller_joined = local(net, authid="bob")
    _b1, b1 = local(net, authid="bob")
    b2_peer, b2 = local(net, authid="bob", authrole="user")
    _alice, alice = local(net, authid="alice")
    got = local_call(caller, "wamp.session.kill_by_authid", "bob", message="bye bob")
    assert isinstance(got, CallResult) and got.kwargs is None
    assert got.args == [[b1.session_id, b2.session_id]]
    left = [e for e in drain(b2_peer) if isinstance(e, Left)]
    assert [(e.reason, e.message) for e in left] == [("wamp.close.killed", "bye bob")]
    remaining = result(net, observer, "wamp.session.list")
    assert remaining == [[observer.session_id, caller_joined.session_id, alice.session_id]]
    assert local_call(caller, "wamp.session.kill_by_authid", "bob").args == [[]]  # none left
    assert result(net, observer, "wamp.session.kill_by_authid", None, {"authid": "x"}) == [[]]
    net.check()


def test_kill_by_authrole_returns_a_count_never_the_caller_wamp_spec_4_25() -> None:
    net = Network()
    a, b, c = net.join(), net.join(), net.join()
    _u, user = local(net, authrole="user")
    assert result(net, a, "wamp.session.kill_by_authrole", ["anonymous"]) == [2]
    for victim in (b, c):
        assert victim.one(Goodbye).reason == "wamp.close.killed"
    assert a.take(Goodbye) == []
    assert result(net, a, "wamp.session.list") == [[a.session_id, user.session_id]]
    kwargs = {"authrole": "user", "reason": "com.x.gone", "message": "m"}
    assert result(net, a, "wamp.session.kill_by_authrole", None, kwargs) == [1]
    assert result(net, a, "wamp.session.kill_by_authrole", ["anonymous"]) == [0]
    assert result(net, a, "wamp.session.list") == [[a.session_id]]
    net.check()


def test_kill_all_ends_everyone_but_the_caller_without_meta_events_wamp_spec_4_25() -> None:
    net = Network()
    a, b, c = net.join(), net.join(), net.join()
    lp, _ = local(net, authid="emb")
    on_leave = subscribed(net, a, "wamp.session.on_leave")
    will = subscribed(net, a, "com.will", match="prefix")
    unsub = subscribed(net, a, "wamp.subscription.on_unsubscribe")
    subscribed(net, b, "com.b")
    assert result(net, b, "wamp.session.add_testament", ["com.will.b", ["b"], {}]) is None
    assert result(net, a, "wamp.session.kill_all", ["com.example.reset", "all out"]) == [3]
    for victim in (b, c):
        goodbye = victim.one(Goodbye)
        assert (goodbye.reason, goodbye.details) == ("com.example.reset", {"message": "all out"})
        victim.goodbye("wamp.close.goodbye_and_out")
    assert any(isinstance(e, Left) for e in drain(lp))
    net.pump()
    # kill_all generates no testament and no meta events (wamp-spec.md §4.23).
    assert events(a, on_leave) == [] and events(a, will) == [] and events(a, unsub) == []
    assert result(net, a, "wamp.session.list") == [[a.session_id]]
    # ... but later leaves do announce themselves again.
    d = net.join()
    d.goodbye()
    net.pump()
    assert [e.args for e in events(a, on_leave)] == [[d.session_id, authid_of(d), "anonymous"]]
    net.check()


# -- on_join / on_leave --------------------------------------------------------------------------


def test_on_join_carries_the_session_details_wamp_spec_4_25() -> None:
    net = Network()
    observer = net.join()
    on_join = subscribed(net, observer, "wamp.session.on_join")
    newcomer = net.join("websocket", "msgpack")
    (event,) = events(observer, on_join)
    assert event.kwargs is None and event.details == {}
    (details,) = event.args  # type: ignore[misc]
    assert set(details) == DETAIL_KEYS
    assert details["session"] == newcomer.session_id and details["authid"] == authid_of(newcomer)
    assert details["authrole"] == "anonymous" and details["realm"] == "realm1"
    assert result(net, observer, "wamp.session.get", [newcomer.session_id]) == [details]
    _lp, joined = local(net, authid="emb", authextra={"k": "v"})
    net.pump()
    (_, event) = events(observer, on_join)
    (details,) = event.args  # type: ignore[misc]
    assert details["session"] == joined.session_id and details["authid"] == "emb"
    assert (details["authrole"], details["authmethod"], details["authprovider"]) == (
        "trusted",
        "trusted",
        "programcode",
    )
    assert details["authextra"] == {"k": "v"}
    net.check()


def _violate(net: Network, victim: TestPeer) -> None:
    victim.send_wire(Hello(realm="realm1", details={"roles": {"caller": {}}}).to_wire())


ENDINGS = {
    "goodbye": lambda net, victim, killer: victim.goodbye(),
    "abort": lambda net, victim, killer: victim.abort(),
    "eof": lambda net, victim, killer: victim.eof(),
    "connection_lost": lambda net, victim, killer: victim.vanish(),
    "violation": lambda net, victim, killer: _violate(net, victim),
    "kill": lambda net, victim, killer: killer.call("wamp.session.kill", [victim.session_id]),
}


def _end(net: Network, how: str, victim: TestPeer, killer: TestPeer) -> None:
    ENDINGS[how](net, victim, killer)
    net.pump()
    if how == "kill":
        assert victim.one(Goodbye).reason == "wamp.close.killed"
        victim.goodbye("wamp.close.goodbye_and_out")  # the reply ends nothing a second time
        net.pump()
    if how == "violation":
        assert victim.last(Abort).reason == "wamp.error.protocol_violation"
        assert len(net.events_of(ProtocolViolation)) == 1
    if how == "goodbye":
        victim.eof()  # the transport that outlived the session goes too: nothing more
        net.pump()


@pytest.mark.parametrize("how", list(ENDINGS))
def test_on_leave_fires_exactly_once_with_session_authid_authrole_wamp_spec_4_25(
    how: str,
) -> None:
    net = Network()
    observer = net.join()
    on_leave = subscribed(net, observer, "wamp.session.on_leave")
    victim = net.join("websocket", "json")
    victim_id, victim_authid = victim.session_id, authid_of(victim)
    _end(net, how, victim, observer)
    (event,) = events(observer, on_leave)
    assert event.args == [victim_id, victim_authid, "anonymous"] and event.kwargs is None
    assert result(net, observer, "wamp.session.list") == [[observer.session_id]]
    if how != "violation":
        net.check()  # the violator is rogue: its view is not judged, but nothing else broke
    assert net.events_of(InternalError) == []


def test_idle_transport_after_goodbye_closes_legally_wamp_spec_3_1() -> None:
    net = Network()
    observer = net.join()
    on_leave = subscribed(net, observer, "wamp.session.on_leave")
    victim = net.join()
    victim.goodbye()
    net.pump()
    net.advance(60)  # past handshake_timeout: the router closes the idle transport
    assert victim.gone and len(events(observer, on_leave)) == 1  # still exactly once
    net.check()


def test_on_leave_arrives_after_the_kill_result_wamp_spec_4_25() -> None:
    net = Network()
    a, b = net.join(), net.join()
    on_leave = subscribed(net, a, "wamp.session.on_leave")
    rid = a.call("wamp.session.kill", [b.session_id])
    net.pump()
    order = [m for m in a.received if isinstance(m, Result | Event)]
    assert isinstance(order[-2], Result) and order[-2].request_id == rid
    assert isinstance(order[-1], Event) and order[-1].subscription_id == on_leave
    assert order[-1].args == [b.session_id, authid_of(b), "anonymous"]
    net.check()


# -- testaments ----------------------------------------------------------------------------------


@pytest.mark.parametrize("how", list(ENDINGS))
def test_testaments_are_published_on_every_way_a_session_ends_in_order_wamp_spec_4_23(
    how: str,
) -> None:
    net = Network()
    observer = net.join()
    will = subscribed(net, observer, "com.will", match="prefix")
    victim = net.join("rawsocket", "cbor")
    add = "wamp.session.add_testament"
    assert result(net, victim, add, ["com.will.d1", ["d1"], {"n": 1}]) is None  # destroyed
    assert result(net, victim, add, ["com.will.x1", ["x1"], {}], {"scope": "detached"}) is None
    assert result(net, victim, add, None, {"topic": "com.will.d2", "scope": "destroyed"}) is None
    assert result(net, victim, add, ["com.will.x2", [b"\x00\x01"], None, None, "detached"]) is None
    assert events(observer, will) == []  # nothing before the session ends
    _end(net, how, victim, observer)
    got = [(e.details["topic"], e.args, e.kwargs) for e in events(observer, will)]
    # Detached before destroyed (no resumption), each in the order added.
    assert got == [
        ("com.will.x1", ["x1"], None),
        ("com.will.x2", [b"\x00\x01"], None),
        ("com.will.d1", ["d1"], {"n": 1}),
        ("com.will.d2", None, None),
    ]
    assert net.events_of(InternalError) == []


def test_testament_publish_options_apply_like_a_publish_wamp_spec_4_23() -> None:
    net = Network()
    s1, s2 = net.join(), net.join()
    sub1, sub2 = subscribed(net, s1, "com.t"), subscribed(net, s2, "com.t")
    victim = net.join()
    options = {"exclude": [s2.session_id], "retain": True, "disclose_me": True, "acknowledge": True}
    args = ["com.t", ["bye"], {"k": "v"}]
    assert (
        result(net, victim, "wamp.session.add_testament", args, {"publish_options": options})
        is None
    )
    victim.goodbye()
    net.pump()
    (event,) = events(s1, sub1)
    # Disclosure is dropped (nobody is left to disclose), the blacklist applies.
    assert (event.args, event.kwargs, event.details) == (["bye"], {"k": "v"}, {})
    assert events(s2, sub2) == []
    late = net.join()
    retained = subscribed(net, late, "com.t", get_retained=True)
    (kept,) = events(late, retained)
    assert kept.args == ["bye"] and kept.details == {"retained": True}
    net.check()


def test_flush_testaments_drops_one_scope_and_returns_the_count_wamp_spec_4_23() -> None:
    net = Network()
    observer = net.join()
    will = subscribed(net, observer, "com.will", match="prefix")
    victim = net.join()
    add, flush = "wamp.session.add_testament", "wamp.session.flush_testaments"
    for topic, scope in (
        ("com.will.d1", None),
        ("com.will.d2", "destroyed"),
        ("com.will.x", "detached"),
    ):
        assert (
            result(net, victim, add, [topic, [], {}], {"scope": scope} if scope else None) is None
        )
    assert result(net, victim, flush) == [2]  # the default scope: destroyed
    assert result(net, victim, flush) == [0]
    assert result(net, victim, add, ["com.will.d3"]) is None
    assert result(net, victim, flush, ["detached"]) == [1]
    assert result(net, victim, flush, None, {"scope": "detached"}) == [0]
    assert result(net, observer, flush) == [0]  # another session's testaments are untouched
    victim.goodbye()
    net.pump()
    assert [e.details["topic"] for e in events(observer, will)] == ["com.will.d3"]
    net.check()


@pytest.mark.parametrize(
    ("args", "kwargs", "uri"),
    [
        (["not a uri!"], None, INVALID_URI),
        (["com..x"], None, INVALID_URI),
        (["wamp.session.on_leave"], None, INVALID_URI),  # the reserved namespace
        ([5], None, INVALID_ARGUMENT),
        (["com.t", "args"], None, INVALID_ARGUMENT),
        (["com.t", [], ["k"]], None, INVALID_ARGUMENT),
        (["com.t", [], {}, {"retain": "yes"}], None, INVALID_ARGUMENT),
        (["com.t"], {"publish_options": {"exclude_me": 1}}, INVALID_ARGUMENT),
        (["com.t"], {"publish_options": {"unknown_option": 1}}, INVALID_ARGUMENT),
        (["com.t"], {"publish_options": {"exclude": ["x"]}}, INVALID_ARGUMENT),
        (["com.t"], {"publish_options": {"exclude": [True]}}, INVALID_ARGUMENT),
        (["com.t"], {"publish_options": {"exclude": [0]}}, INVALID_ARGUMENT),
        (["com.t"], {"publish_options": {"eligible_authid": [5]}}, INVALID_ARGUMENT),
        (["com.t"], {"publish_options": {"exclude_authrole": [[1]]}}, INVALID_ARGUMENT),
        (["com.t"], {"publish_options": ["retain"]}, INVALID_ARGUMENT),
        (["com.t"], {"scope": "forever"}, INVALID_ARGUMENT),
        (["com.t"], {"scope": 1}, INVALID_ARGUMENT),
        (["com.t", [], {}, {}, "detached", "extra"], None, INVALID_ARGUMENT),
    ],
)
def test_invalid_testaments_are_refused_at_add_time_wamp_spec_4_23(
    args: list[Any], kwargs: dict[str, Any] | None, uri: str
) -> None:
    net = Network()
    observer = net.join()
    sub = subscribed(net, observer, "com.t")
    victim = net.join()
    assert error(net, victim, "wamp.session.add_testament", args, kwargs) == uri
    victim.goodbye()
    net.pump()
    assert events(observer, sub) == []
    net.check()  # nothing was stored that could fail later (no InternalError)


# -- embedded sessions ---------------------------------------------------------------------------


def test_embedded_session_joins_is_listed_and_not_counted_against_the_limit() -> None:
    """Router-internal sessions (DESIGN.md §3) in the meta API (wamp-spec.md §4.25)."""
    net = Network(RouterConfig(limits=Limits(max_sessions_per_realm=1)))
    embedded, joined = local(net, authid="service")
    assert (joined.authid, joined.authrole) == ("service", "trusted")
    assert (joined.authmethod, joined.authprovider) == ("trusted", "programcode")
    client = net.join()  # the embedded session takes no room
    refused = net.connect()
    refused.join()
    assert refused.last(Abort).reason == "wampcore.error.realm_full"  # the limit is real
    assert result(net, client, "wamp.session.list") == [[joined.session_id, client.session_id]]
    (details,) = result(net, client, "wamp.session.get", [joined.session_id])  # type: ignore[misc]
    assert (details["authid"], details["authrole"]) == ("service", "trusted")
    on_leave = subscribed(net, client, "wamp.session.on_leave")

    embedded.register("com.local.add")
    assert [type(e).__name__ for e in drain(embedded)] == ["RegistrationCreated"]
    rid = client.call("com.local.add", [2, 3])
    net.pump()
    (inv,) = drain(embedded)
    assert inv.args == [2, 3] and inv.procedure == "com.local.add"
    embedded.yield_result(inv.request_id, [inv.args[0] + inv.args[1]])
    net.pump()
    assert client.one(Result, lambda m: m.request_id == rid).args == [5]

    embedded.close()
    net.pump()
    (event,) = events(client, on_leave)
    assert event.args == [joined.session_id, "service", "trusted"]
    assert result(net, client, "wamp.session.list") == [[client.session_id]]
    assert error(net, client, "com.local.add") == "wamp.error.no_such_procedure"
    net.check()


def test_embedded_session_calls_the_meta_api_and_kills_a_network_session_wamp_spec_4_25() -> None:
    net = Network()
    victim = net.join()
    embedded, joined = local(net)
    got = local_call(embedded, "wamp.session.list")
    assert isinstance(got, CallResult) and got.args == [[victim.session_id, joined.session_id]]
    assert local_call(embedded, "wamp.session.kill", victim.session_id).args is None
    net.pump()
    assert victim.one(Goodbye).reason == "wamp.close.killed"
    bad = local_call(embedded, "wamp.session.kill", joined.session_id)
    assert isinstance(bad, RequestError) and bad.error == NO_SUCH_SESSION
    net.check()


def test_embedded_session_in_an_unknown_realm_is_aborted() -> None:
    """DESIGN.md §3: open_local_session of a realm that does not exist (wamp-spec.md §3.1)."""
    net = Network()
    cp = net.router.open_local_session("nowhere")
    evs = drain(cp)
    assert [getattr(e, "reason", None) for e in evs][:1] == ["wamp.error.no_such_realm"]
    assert not any(isinstance(e, Joined) for e in evs)
    peer = net.join()
    assert result(net, peer, "wamp.session.count") == [1]
    net.check()


def test_meta_api_is_a_plain_registration_seen_from_invocation_side() -> None:
    """The meta procedures are the service session's registrations (wamp-spec.md §4.25): a
    network client cannot register over them (§2.2 reserved namespace)."""
    net = Network()
    a = net.join()
    rid = a.register("wamp.session.count")
    net.pump()
    err = a.one(Error, lambda m: m.request_id == rid)
    assert err.error == INVALID_URI
    assert result(net, a, "wamp.session.count") == [1]
    assert a.take(Invocation) == []
    net.check()
