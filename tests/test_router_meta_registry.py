"""The registration and subscription meta API (wamp-spec.md §4.26, §4.27) and revocation
(§4.21), at the core: one Router and scripted TestPeers over real framings. No sockets.
"""

from __future__ import annotations

import copy
import datetime
import random
from typing import Any

import pytest
from netharness import CLIENT_ROLES, Network, TestPeer
from test_router_meta_session import answer, error, events, local, result, subscribed

from wampcore.messages import (
    Event,
    Registered,
    Result,
    Subscribed,
    Unregistered,
    Unsubscribed,
)
from wampcore.router import Router

INVALID_ARGUMENT = "wamp.error.invalid_argument"
NO_SUCH_REGISTRATION = "wamp.error.no_such_registration"
NO_SUCH_SUBSCRIPTION = "wamp.error.no_such_subscription"
NO_SUCH_SESSION = "wamp.error.no_such_session"

REVOKING = copy.deepcopy(CLIENT_ROLES)
REVOKING["callee"]["features"]["registration_revocation"] = True
REVOKING["subscriber"]["features"]["subscription_revocation"] = True

WALL = 1_700_000_000.25  # 2023-11-14T22:13:20.250Z


def dated_network() -> Network:
    """A Network whose router dates the meta API with a fixed wall clock."""
    net = Network()
    net.router = Router(net.router.config, rng=random.Random(0), wall_clock=lambda: WALL)
    return net


def registered(net: Network, peer: TestPeer, procedure: str, **options: Any) -> int:
    rid = peer.register(procedure, **options)
    net.pump()
    return peer.one(Registered, lambda m: m.request_id == rid).registration_id


def after(peer: TestPeer, first: Any, then: Any) -> bool:
    """Whether ``first`` arrived at ``peer`` before ``then`` (both received)."""
    received = peer.received
    return received.index(first) < received.index(then)


# -- wamp.registration.* procedures ---------------------------------------------------------------


def test_registration_list_lookup_match_by_policy_wamp_spec_4_26() -> None:
    net = Network()
    a = net.join()
    exact = registered(net, a, "com.a.proc")
    prefix = registered(net, a, "com.a", match="prefix")
    wildcard = registered(net, a, "com..proc", match="wildcard")
    assert result(net, a, "wamp.registration.list") == [
        {"exact": [exact], "prefix": [prefix], "wildcard": [wildcard]}
    ]
    lookup = "wamp.registration.lookup"
    assert result(net, a, lookup, ["com.a.proc"]) == [exact]
    assert result(net, a, lookup, ["com.a"]) == [None]  # exact by default
    assert result(net, a, lookup, ["com.a", {"match": "prefix"}]) == [prefix]
    kwargs = {"procedure": "com..proc", "options": {"match": "wildcard"}}
    assert result(net, a, lookup, None, kwargs) == [wildcard]
    assert result(net, a, lookup, ["com.a.proc", {}]) == [exact]
    assert result(net, a, lookup, ["com.none"]) == [None]
    match = "wamp.registration.match"
    assert result(net, a, match, ["com.a.proc"]) == [exact]  # exact wins
    assert result(net, a, match, ["com.a.other"]) == [prefix]  # prefix before wildcard
    assert result(net, a, match, None, {"procedure": "com.b.proc"}) == [wildcard]
    assert result(net, a, match, ["org.none"]) == [None]  # a single id or null, never a list
    for args in (["com.a", {"match": "bogus"}], ["com.a", "prefix"], [5], [], ["a", {}, 1]):
        assert error(net, a, lookup, args) == INVALID_ARGUMENT
    assert error(net, a, match, [["com.a"]]) == INVALID_ARGUMENT
    net.check()


def test_registration_get_with_iso_8601_created_and_callees_wamp_spec_4_26() -> None:
    net = dated_network()
    a, b = net.join(), net.join("websocket", "msgpack")
    reg = registered(net, a, "com.shared", invoke="roundrobin")
    assert registered(net, b, "com.shared", invoke="roundrobin") == reg
    (details,) = result(net, a, "wamp.registration.get", [reg])  # type: ignore[misc]
    assert details == {
        "id": reg,
        "created": "2023-11-14T22:13:20.250Z",
        "uri": "com.shared",
        "match": "exact",
        "invoke": "roundrobin",
    }
    created = datetime.datetime.fromisoformat(details["created"])
    assert created.timestamp() == WALL
    by_name = {"registration_id": reg}
    assert result(net, a, "wamp.registration.get", None, by_name) == [details]
    callees = [a.session_id, b.session_id]
    assert result(net, a, "wamp.registration.list_callees", [reg]) == [callees]
    assert result(net, a, "wamp.registration.count_callees", None, by_name) == [2]
    b.goodbye()
    net.pump()
    assert result(net, a, "wamp.registration.list_callees", [reg]) == [[a.session_id]]
    assert result(net, a, "wamp.registration.count_callees", [reg]) == [1]
    net.check()


@pytest.mark.parametrize(
    "procedure",
    [
        "wamp.registration.get",
        "wamp.registration.list_callees",
        "wamp.registration.count_callees",
    ],
)
def test_unknown_or_malformed_registration_ids_wamp_spec_4_26(procedure: str) -> None:
    net = Network()
    a = net.join()
    meta_reg = net.router.realm("realm1").dealer.lookup("wamp.session.count")  # type: ignore[union-attr]
    assert meta_reg is not None
    for reg_id in (424242, meta_reg.id):  # the router's own wamp.* ones do not exist here
        assert error(net, a, procedure, [reg_id]) == NO_SUCH_REGISTRATION
    for args in ([], ["x"], [True], [0], [1, 2]):
        assert error(net, a, procedure, args) == INVALID_ARGUMENT
    net.check()


def test_wamp_registrations_are_not_listed_matched_or_announced_wamp_spec_4_26() -> None:
    net = Network()
    a = net.join()
    on_create = subscribed(net, a, "wamp.registration.on_create")
    on_register = subscribed(net, a, "wamp.registration.on_register")
    embedded, _ = local(net)
    embedded.register("wamp.custom.proc")  # an internal session may register under wamp.*
    net.pump()
    empty: dict[str, list[int]] = {"exact": [], "prefix": [], "wildcard": []}
    assert result(net, a, "wamp.registration.list") == [empty]
    assert result(net, a, "wamp.registration.lookup", ["wamp.custom.proc"]) == [None]
    assert result(net, a, "wamp.registration.lookup", ["wamp.session.count"]) == [None]
    assert result(net, a, "wamp.registration.match", ["wamp.session.list"]) == [None]
    assert events(a, on_create) == [] and events(a, on_register) == []
    net.check()


def test_remove_callee_revokes_with_unregistered_0_only_where_announced_wamp_spec_4_21() -> None:
    net = Network()
    admin = net.join()
    on_unregister = subscribed(net, admin, "wamp.registration.on_unregister")
    on_delete = subscribed(net, admin, "wamp.registration.on_delete")
    revocable = net.join(roles=REVOKING)
    plain = net.join("websocket", "cbor")
    reg = registered(net, revocable, "com.p", invoke="first")
    assert registered(net, plain, "com.p", invoke="first") == reg
    remove = "wamp.registration.remove_callee"
    assert result(net, admin, remove, [reg, revocable.session_id, "com.example.revoked"]) is None
    (revoked,) = revocable.take(Unregistered)
    assert revoked.request_id == 0
    assert revoked.details == {"registration": reg, "reason": "com.example.revoked"}
    assert [e.args for e in events(admin, on_unregister)] == [[revocable.session_id, reg]]
    assert events(admin, on_delete) == []  # one callee is left
    kwargs = {"registration_id": reg, "callee_id": plain.session_id}
    assert result(net, admin, remove, None, kwargs) is None
    assert plain.take(Unregistered) == []  # it did not announce registration_revocation
    assert [e.args for e in events(admin, on_delete)] == [[plain.session_id, reg]]
    assert error(net, admin, "wamp.registration.get", [reg]) == NO_SUCH_REGISTRATION
    assert error(net, admin, "com.p") == "wamp.error.no_such_procedure"  # nobody is invoked
    net.check()


def test_remove_callee_errors_wamp_spec_4_26() -> None:
    net = Network()
    admin, callee, other = net.join(), net.join(roles=REVOKING), net.join()
    reg = registered(net, callee, "com.p")
    remove = "wamp.registration.remove_callee"
    assert error(net, admin, remove, [reg, other.session_id]) == NO_SUCH_SESSION  # no callee
    assert error(net, admin, remove, [424242, callee.session_id]) == NO_SUCH_REGISTRATION
    for args in ([reg], [reg, "x"], [reg, callee.session_id, 5], ["x", callee.session_id]):
        assert error(net, admin, remove, args) == INVALID_ARGUMENT
    assert callee.take(Unregistered) == []
    assert result(net, admin, "wamp.registration.count_callees", [reg]) == [1]
    net.check()


# -- wamp.subscription.* procedures ---------------------------------------------------------------


def test_subscription_list_lookup_match_incl_wildcard_wamp_spec_4_27() -> None:
    net = Network()
    a, b = net.join(), net.join()
    exact = subscribed(net, a, "com.a.topic")
    prefix = subscribed(net, b, "com.a", match="prefix")
    wildcard = subscribed(net, a, "com..topic", match="wildcard")
    subscribed(net, a, "wamp.session.on_join")  # the router's own: never listed
    assert result(net, a, "wamp.subscription.list") == [
        {"exact": [exact], "prefix": [prefix], "wildcard": [wildcard]}
    ]
    lookup = "wamp.subscription.lookup"
    assert result(net, a, lookup, ["com.a.topic"]) == [exact]
    assert result(net, a, lookup, ["com.a"]) == [None]
    assert result(net, a, lookup, ["com.a", {"match": "prefix"}]) == [prefix]
    kwargs = {"topic": "com..topic", "options": {"match": "wildcard"}}
    assert result(net, a, lookup, None, kwargs) == [wildcard]
    assert result(net, a, lookup, ["wamp.session.on_join"]) == [None]
    match = "wamp.subscription.match"
    # Every matching subscription, as a list (unlike registration.match).
    assert sorted(result(net, a, match, ["com.a.topic"])[0]) == sorted(  # type: ignore[index]
        [exact, prefix, wildcard]
    )
    assert result(net, a, match, ["com.a.other"]) == [[prefix]]
    assert result(net, a, match, None, {"topic": "com.b.topic"}) == [[wildcard]]
    assert result(net, a, match, ["org.none"]) == [None]
    assert result(net, a, match, ["wamp.session.on_join"]) == [None]
    for args in (["com.a", {"match": "regex"}], ["com.a", []], [5], []):
        assert error(net, a, lookup, args) == INVALID_ARGUMENT
    net.check()


def test_subscription_get_and_subscribers_wamp_spec_4_27() -> None:
    net = dated_network()
    a, b = net.join(), net.join("message", "cbor")
    sub = subscribed(net, a, "com.p", match="prefix")
    assert subscribed(net, b, "com.p", match="prefix") == sub
    (details,) = result(net, a, "wamp.subscription.get", [sub])  # type: ignore[misc]
    assert details == {
        "id": sub,
        "created": "2023-11-14T22:13:20.250Z",
        "uri": "com.p",
        "match": "prefix",
    }
    assert datetime.datetime.fromisoformat(details["created"]).timestamp() == WALL
    by_name = {"subscription_id": sub}
    assert result(net, a, "wamp.subscription.get", None, by_name) == [details]
    both = [a.session_id, b.session_id]
    assert result(net, a, "wamp.subscription.list_subscribers", [sub]) == [both]
    assert result(net, a, "wamp.subscription.count_subscribers", None, by_name) == [2]
    own = net.router.realm("realm1").broker.lookup("wamp.session.on_join")  # type: ignore[union-attr]
    on_join = subscribed(net, a, "wamp.session.on_join")
    assert own is None and net.router.realm("realm1").broker.subscription(on_join) is not None  # type: ignore[union-attr]
    for procedure in (
        "wamp.subscription.get",
        "wamp.subscription.list_subscribers",
        "wamp.subscription.count_subscribers",
        "wamp.subscription.get_events",
    ):
        for sub_id in (424242, on_join):
            assert error(net, a, procedure, [sub_id]) == NO_SUCH_SUBSCRIPTION
        for args in ([], ["x"], [False], [2**53 + 1]):
            assert error(net, a, procedure, args) == INVALID_ARGUMENT
    net.check()


def test_remove_subscriber_revokes_with_unsubscribed_0_only_where_announced_wamp_spec_4_21() -> (
    None
):
    net = Network()
    admin = net.join()
    on_unsubscribe = subscribed(net, admin, "wamp.subscription.on_unsubscribe")
    on_delete = subscribed(net, admin, "wamp.subscription.on_delete")
    revocable, plain = net.join(roles=REVOKING), net.join("websocket", "msgpack")
    sub = subscribed(net, revocable, "com.t")
    assert subscribed(net, plain, "com.t") == sub
    remove = "wamp.subscription.remove_subscriber"
    assert result(net, admin, remove, [sub, revocable.session_id, "com.example.why"]) is None
    (revoked,) = revocable.take(Unsubscribed)
    assert revoked.request_id == 0
    assert revoked.details == {"subscription": sub, "reason": "com.example.why"}
    assert [e.args for e in events(admin, on_unsubscribe)] == [[revocable.session_id, sub]]
    admin.publish("com.t", ["after"])
    net.pump()
    assert events(revocable, sub) == [] and [e.args for e in events(plain, sub)] == [["after"]]
    kwargs = {"subscription_id": sub, "subscriber_id": plain.session_id}
    assert result(net, admin, remove, None, kwargs) is None
    assert plain.take(Unsubscribed) == []
    assert [e.args for e in events(admin, on_delete)] == [[plain.session_id, sub]]
    assert error(net, admin, remove, [sub, plain.session_id]) == NO_SUCH_SUBSCRIPTION
    net.check()


def test_remove_subscriber_errors_wamp_spec_4_27() -> None:
    net = Network()
    admin, sub_peer, other = net.join(), net.join(roles=REVOKING), net.join()
    sub = subscribed(net, sub_peer, "com.t")
    remove = "wamp.subscription.remove_subscriber"
    assert error(net, admin, remove, [sub, other.session_id]) == NO_SUCH_SESSION
    assert error(net, admin, remove, [424242, sub_peer.session_id]) == NO_SUCH_SUBSCRIPTION
    for args in ([sub], [sub, None], [sub, sub_peer.session_id, ["r"]], [[sub], 1]):
        assert error(net, admin, remove, args) == INVALID_ARGUMENT
    assert sub_peer.take(Unsubscribed) == []
    assert result(net, admin, "wamp.subscription.count_subscribers", [sub]) == [1]
    net.check()


# -- meta events and their order ------------------------------------------------------------------


def test_registration_events_follow_the_reply_in_order_wamp_spec_4_26() -> None:
    net = dated_network()
    a = net.join()
    topics = ("on_create", "on_register", "on_unregister", "on_delete")
    subs = {t: subscribed(net, a, f"wamp.registration.{t}") for t in topics}
    b = net.join()
    reg = registered(net, a, "com.p", invoke="roundrobin")
    registered_msg = a.last(Registered)
    (created,) = events(a, subs["on_create"])
    (reg_event,) = events(a, subs["on_register"])
    assert created.args == [
        a.session_id,
        {
            "id": reg,
            "created": "2023-11-14T22:13:20.250Z",
            "uri": "com.p",
            "match": "exact",
            "invoke": "roundrobin",
        },
    ]
    assert reg_event.args == [a.session_id, reg]
    # REGISTERED first, then on_create, then on_register (wamp-spec.md §4.26).
    assert after(a, registered_msg, created) and after(a, created, reg_event)
    registered(net, b, "com.p", invoke="roundrobin")
    assert len(events(a, subs["on_create"])) == 1  # no second on_create
    assert [e.args for e in events(a, subs["on_register"])][1:] == [[b.session_id, reg]]
    b.unregister(reg)
    net.pump()
    assert [e.args for e in events(a, subs["on_unregister"])] == [[b.session_id, reg]]
    assert events(a, subs["on_delete"]) == []
    a.unregister(reg)
    net.pump()
    unregistered_msg = a.last(Unregistered)
    unreg_event = events(a, subs["on_unregister"])[-1]
    (deleted,) = events(a, subs["on_delete"])
    assert unreg_event.args == [a.session_id, reg] and deleted.args == [a.session_id, reg]
    assert after(a, unregistered_msg, unreg_event) and after(a, unreg_event, deleted)
    net.check()


def test_subscription_events_follow_the_reply_in_order_wamp_spec_4_27() -> None:
    net = dated_network()
    a = net.join()
    topics = ("on_create", "on_subscribe", "on_unsubscribe", "on_delete")
    subs = {t: subscribed(net, a, f"wamp.subscription.{t}") for t in topics}
    b = net.join()
    sub = subscribed(net, a, "com..w", match="wildcard")
    subscribed_msg = a.last(Subscribed)
    (created,) = events(a, subs["on_create"])
    (sub_event,) = events(a, subs["on_subscribe"])
    details = {
        "id": sub,
        "created": "2023-11-14T22:13:20.250Z",
        "uri": "com..w",
        "match": "wildcard",
    }
    assert created.args == [a.session_id, details]
    assert sub_event.args == [a.session_id, sub]
    assert after(a, subscribed_msg, created) and after(a, created, sub_event)
    subscribed(net, b, "com..w", match="wildcard")
    assert len(events(a, subs["on_create"])) == 1
    assert [e.args for e in events(a, subs["on_subscribe"])][1:] == [[b.session_id, sub]]
    b.unsubscribe(sub)
    net.pump()
    assert [e.args for e in events(a, subs["on_unsubscribe"])] == [[b.session_id, sub]]
    assert events(a, subs["on_delete"]) == []
    a.unsubscribe(sub)
    net.pump()
    unsubscribed_msg = a.last(Unsubscribed)
    unsub_event = events(a, subs["on_unsubscribe"])[-1]
    (deleted,) = events(a, subs["on_delete"])
    assert unsub_event.args == [a.session_id, sub] and deleted.args == [a.session_id, sub]
    assert after(a, unsubscribed_msg, unsub_event) and after(a, unsub_event, deleted)
    # Subscribing to meta topics announced nothing (wamp.* is the router's own).
    assert all(e.args[1]["uri"] == "com..w" for e in events(a, subs["on_create"]))  # type: ignore[index]
    net.check()


def test_leaving_announces_unregister_and_unsubscribe_before_delete_and_leave() -> None:
    """wamp-spec.md §4.25-§4.27: a departing session's registrations and subscriptions go,
    each with on_unregister/on_unsubscribe before on_delete, then on_leave; the session is
    named in all of them."""
    net = Network()
    observer = net.join()
    names = [
        "wamp.registration.on_unregister",
        "wamp.registration.on_delete",
        "wamp.subscription.on_unsubscribe",
        "wamp.subscription.on_delete",
        "wamp.session.on_leave",
    ]
    subs = {subscribed(net, observer, name): name for name in names}
    leaver = net.join()
    reg = registered(net, leaver, "com.p")
    sub = subscribed(net, leaver, "com.t")
    leaver.goodbye()
    net.pump()
    got = [
        (subs[e.subscription_id], e.args) for e in observer.all(Event) if e.subscription_id in subs
    ]
    sid = leaver.session_id
    assert got.index(("wamp.registration.on_unregister", [sid, reg])) < got.index(
        ("wamp.registration.on_delete", [sid, reg])
    )
    assert got.index(("wamp.subscription.on_unsubscribe", [sid, sub])) < got.index(
        ("wamp.subscription.on_delete", [sid, sub])
    )
    assert len(got) == 5
    assert got[-1][0] == "wamp.session.on_leave" and got[-1][1][0] == sid  # type: ignore[index]
    assert result(net, observer, "wamp.registration.list") == [
        {"exact": [], "prefix": [], "wildcard": []}
    ]
    net.check()


def test_meta_events_are_ordinary_publications_wamp_spec_4_25() -> None:
    """Meta events reach pattern subscriptions like any event (wamp-spec.md §4.17)."""
    net = Network()
    a = net.join()
    sub = subscribed(net, a, "wamp.session", match="prefix")
    b = net.join()
    b.goodbye()
    net.pump()
    got = [(e.details.get("topic"), e.args[0] if e.args else None) for e in events(a, sub)]
    assert [t for t, _ in got] == ["wamp.session.on_join", "wamp.session.on_leave"]
    assert got[1][1] == b.session_id
    got_answer = answer(net, a, "wamp.session.count")
    assert isinstance(got_answer, Result) and got_answer.args == [1]
    net.check()
