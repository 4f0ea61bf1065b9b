"""Event retention (wamp-spec.md §4.20), event history (§4.19) and payload passthru (§4.18), at
the core: one Router and scripted TestPeers over real framings. No sockets.
"""

from __future__ import annotations

import random
from typing import Any

import pytest
from netharness import SERIALIZERS, Network, TestPeer
from test_router_meta_session import authid_of, error, events, local, result, subscribed

from wampcore.client import PublicationReceived
from wampcore.config import HistoryConfig, RealmConfig, RouterConfig
from wampcore.messages import Call, Error, Invocation, Publish, Published, Result, Yield
from wampcore.router import Router

HISTORY_UNAVAILABLE = "wamp.error.history_unavailable"


def published(net: Network, peer: TestPeer, topic: str, args: list[Any], **options: Any) -> int:
    rid = peer.publish(topic, args, acknowledge=True, **options)
    net.pump()
    return peer.one(Published, lambda m: m.request_id == rid).publication_id


# -- retention -----------------------------------------------------------------------------------


def test_get_retained_delivers_the_latest_retained_event_wamp_spec_4_20() -> None:
    net = Network()
    pub, sub_peer, plain = net.join(), net.join("websocket", "cbor"), net.join()
    published(net, pub, "com.r", ["v1"], retain=True)
    v2 = published(net, pub, "com.r", ["v2"], retain=True, disclose_me=True)
    published(net, pub, "com.r", ["not kept"])  # not retained: replaces nothing
    sub = subscribed(net, sub_peer, "com.r", get_retained=True)
    (event,) = events(sub_peer, sub)
    assert (event.publication_id, event.args, event.kwargs) == (v2, ["v2"], None)
    assert event.details == {
        "retained": True,
        "publisher": pub.session_id,
        "publisher_authid": authid_of(pub),
        "publisher_authrole": "anonymous",
    }
    assert events(plain, subscribed(net, plain, "com.r")) == []  # only on request
    assert events(plain, subscribed(net, plain, "com.other", get_retained=True)) == []
    pub.publish("com.r", ["live"])
    net.pump()
    live = events(sub_peer, sub)[-1]
    assert live.args == ["live"] and "retained" not in live.details
    net.check()


def test_retained_event_honours_black_and_white_lists_wamp_spec_4_20() -> None:
    net = Network()
    pub = net.join()
    excluded, chosen, other = net.join(), net.join(), net.join()
    published(net, pub, "com.r", ["for all"], retain=True)
    published(net, pub, "com.r", ["not for excluded"], retain=True, exclude=[excluded.session_id])
    published(net, pub, "com.r", ["only chosen"], retain=True, eligible=[chosen.session_id])
    for peer, expected in (
        (excluded, ["for all"]),
        (chosen, ["only chosen"]),
        (other, ["not for excluded"]),
    ):
        sub = subscribed(net, peer, "com.r", get_retained=True)
        assert [e.args for e in events(peer, sub)] == [expected]
    # An unfiltered retained event replaces every older one.
    published(net, pub, "com.r", ["fresh"], retain=True)
    late = net.join()
    sub = subscribed(net, late, "com.r", get_retained=True)
    assert [e.args for e in events(late, sub)] == [["fresh"]]
    net.check()


@pytest.mark.parametrize(
    ("option", "value", "eligible"),
    [
        ("exclude_authid", ["alice"], ["bob", "carol"]),
        ("eligible_authid", ["alice"], ["alice"]),
        ("exclude_authrole", ["admin"], ["bob"]),
        ("eligible_authrole", ["admin"], ["alice", "carol"]),
    ],
)
def test_retained_event_honours_authid_and_authrole_lists_wamp_spec_4_20(
    option: str, value: list[str], eligible: list[str]
) -> None:
    net = Network()
    pub = net.join()
    published(net, pub, "com.r", ["x"], retain=True, **{option: value})
    got = []
    for authid, authrole in (("alice", "admin"), ("bob", "user"), ("carol", "admin")):
        cp, _ = local(net, authid=authid, authrole=authrole)
        cp.subscribe("com.r", get_retained=True)
        evs = [e for e in _drain(cp) if isinstance(e, PublicationReceived)]
        if evs:
            (ev,) = evs
            assert ev.retained and ev.args == ["x"]
            got.append(authid)
    assert got == eligible
    net.check()


def _drain(cp: Any) -> list[Any]:
    out = []
    while (ev := cp.next_event()) is not None:
        out.append(ev)
    return out


def test_retained_event_honours_publisher_exclusion_wamp_spec_4_20() -> None:
    net = Network()
    pub = net.join()
    published(net, pub, "com.mine", ["excluded"], retain=True)
    published(net, pub, "com.theirs", ["included"], retain=True, exclude_me=False)
    mine = subscribed(net, pub, "com.mine", get_retained=True)
    theirs = subscribed(net, pub, "com.theirs", get_retained=True)
    assert events(pub, mine) == []
    assert [e.args for e in events(pub, theirs)] == [["included"]]
    other = net.join()
    assert [
        e.args for e in events(other, subscribed(net, other, "com.mine", get_retained=True))
    ] == [["excluded"]]
    net.check()


@pytest.mark.parametrize(("pattern", "match"), [("com.p", "prefix"), ("com..leaf", "wildcard")])
def test_pattern_subscription_gets_one_retained_event_per_topic_wamp_spec_4_20(
    pattern: str, match: str
) -> None:
    net = Network()
    pub, sub_peer = net.join(), net.join()
    published(net, pub, "com.p.leaf", ["a1"], retain=True)
    published(net, pub, "com.p.leaf", ["a2"], retain=True)
    published(net, pub, "com.q.leaf", ["b"], retain=True)
    published(net, pub, "com.p.other", ["c"], retain=True)
    published(net, pub, "org.p.leaf", ["d"], retain=True)
    sub = subscribed(net, sub_peer, pattern, match=match)
    assert events(sub_peer, sub) == []  # no get_retained: nothing
    sub_peer.unsubscribe(sub)
    net.pump()
    sub = subscribed(net, sub_peer, pattern, match=match, get_retained=True)
    got = sorted((e.details["topic"], e.args, e.details["retained"]) for e in events(sub_peer, sub))
    expected = {
        "prefix": [("com.p.leaf", ["a2"], True), ("com.p.other", ["c"], True)],
        "wildcard": [("com.p.leaf", ["a2"], True), ("com.q.leaf", ["b"], True)],
    }
    assert got == expected[match]
    net.check()


# -- history -------------------------------------------------------------------------------------


class Clock:
    def __init__(self) -> None:
        self.t = 1_700_000_000.0

    def __call__(self) -> float:
        self.t += 1.0
        return self.t


def history_network(*history: HistoryConfig) -> Network:
    config = RouterConfig(realms=[RealmConfig("realm1", history=list(history))])
    net = Network(config)
    net.router = Router(config, rng=random.Random(0), wall_clock=Clock())
    return net


def test_history_keeps_the_last_limit_events_newest_last_wamp_spec_4_19() -> None:
    net = history_network(HistoryConfig("com.h", "exact", 3))
    pub, reader = net.join(), net.join()
    ids = [published(net, pub, "com.h", [i], retain=False, disclose_me=(i == 4)) for i in range(5)]
    published(net, pub, "com.other", ["not kept"])
    pub.publish("com.h", [9], {"k": "v"}, ppt_scheme="x_custom")
    net.pump()
    sub = subscribed(net, reader, "com.h")
    (kept,) = result(net, reader, "wamp.subscription.get_events", [sub])  # type: ignore[misc]
    assert [k["publication"] for k in kept[:2]] == ids[3:]
    assert [k["args"] for k in kept] == [[3], [4], [9]]
    for k in kept:
        assert set(k) == {
            "timestamp",
            "subscription",
            "publication",
            "topic",
            "realm",
            "details",
            "args",
            "kwargs",
        }
        assert (k["subscription"], k["topic"], k["realm"]) == (sub, "com.h", "realm1")
    assert kept[0]["details"] == {} and kept[0]["kwargs"] == {}
    assert kept[1]["details"]["publisher"] == pub.session_id
    assert kept[2]["details"] == {"ppt_scheme": "x_custom"} and kept[2]["kwargs"] == {"k": "v"}
    stamps = [k["timestamp"] for k in kept]
    assert stamps == sorted(stamps) and len(set(stamps)) == 3  # ISO-8601, newest last
    assert all(s.endswith("Z") and s.startswith("2023-11-14T22:") for s in stamps)
    assert result(net, reader, "wamp.subscription.get_events", [sub, 2]) == [kept[1:]]
    by_name = {"subscription_id": sub, "limit": 1}
    assert result(net, reader, "wamp.subscription.get_events", None, by_name) == [kept[2:]]
    assert result(net, reader, "wamp.subscription.get_events", [sub, 100]) == [kept]
    for limit in (0, -1, "2", True, 1.5, [1]):
        assert (
            error(net, reader, "wamp.subscription.get_events", [sub, limit])
            == "wamp.error.invalid_argument"
        )
    net.check()


def test_history_default_limit_is_ten_wamp_spec_4_19() -> None:
    net = history_network(HistoryConfig("com.h", "exact", 50))
    pub, reader = net.join(), net.join()
    for i in range(15):
        pub.publish("com.h", [i])
    net.pump()
    sub = subscribed(net, reader, "com.h")
    (kept,) = result(net, reader, "wamp.subscription.get_events", [sub])  # type: ignore[misc]
    assert [k["args"] for k in kept] == [[i] for i in range(5, 15)]
    net.check()


def test_prefix_history_and_history_unavailable_wamp_spec_4_19() -> None:
    net = history_network(HistoryConfig("com.ph", "prefix", 10), HistoryConfig("com.e", "exact", 5))
    pub, reader = net.join(), net.join()
    published(net, pub, "com.ph.a", ["a"])
    published(net, pub, "com.ph.b.c", ["bc"])
    published(net, pub, "com.phx", ["a string prefix covers it"])
    published(net, pub, "com.pg", ["not under the prefix"])
    prefix_sub = subscribed(net, reader, "com.ph", match="prefix")
    (kept,) = result(net, reader, "wamp.subscription.get_events", [prefix_sub])  # type: ignore[misc]
    assert [(k["topic"], k["args"]) for k in kept] == [
        ("com.ph.a", ["a"]),
        ("com.ph.b.c", ["bc"]),
        ("com.phx", ["a string prefix covers it"]),  # wamp-spec.md §4.8: a string prefix
    ]
    assert all(k["subscription"] == prefix_sub for k in kept)
    # History is per (uri, match): these subscriptions have none configured.
    for topic, match in (("com.ph.a", "exact"), ("com.e", "prefix"), ("com.none", "exact")):
        sub = subscribed(net, reader, topic, match=match)
        assert error(net, reader, "wamp.subscription.get_events", [sub]) == HISTORY_UNAVAILABLE
    exact = subscribed(net, reader, "com.e")
    assert result(net, reader, "wamp.subscription.get_events", [exact]) == [[]]
    net.check()


def test_history_skips_session_filtered_and_refilters_authid_lists_wamp_spec_4_19() -> None:
    net = history_network(HistoryConfig("com.h", "exact", 10))
    pub, reader = net.join(), net.join()
    published(net, pub, "com.h", ["by id"], exclude=[pub.session_id])  # not stored
    published(net, pub, "com.h", ["by eligible"], eligible=[reader.session_id])  # not stored
    published(net, pub, "com.h", ["not for anonymous"], exclude_authrole=["anonymous"])
    published(net, pub, "com.h", ["for anonymous"], eligible_authrole=["anonymous"])
    sub = subscribed(net, reader, "com.h")
    (kept,) = result(net, reader, "wamp.subscription.get_events", [sub])  # type: ignore[misc]
    assert [k["args"] for k in kept] == [["for anonymous"]]
    admin, _ = local(net, authrole="admin")
    admin.subscribe("com.h")
    _drain(admin)
    rid = admin.call("wamp.subscription.get_events", [sub])
    (answer,) = [e for e in _drain(admin) if getattr(e, "request_id", None) == rid]
    assert [k["args"] for k in answer.args[0]] == [["not for anonymous"]]
    net.check()


# -- payload passthru ----------------------------------------------------------------------------

PPT = {
    "ppt_scheme": "x_my_ppt",
    "ppt_serializer": "cbor",
    "ppt_cipher": "xsalsa20poly1305",
    "ppt_keyid": "key-1",
}
ENC = {"enc_algo": "cryptobox", "enc_serializer": "msgpack", "enc_key": "a2V5"}
# Not valid msgpack, cbor or json: the router must never try to decode it.
OPAQUE = b"\x00\xc1\xff\xfe garbage \x00"


@pytest.mark.parametrize("serializer", SERIALIZERS)
def test_ppt_options_and_binary_payload_pass_through_events_wamp_spec_4_18(
    serializer: str,
) -> None:
    net = Network()
    pub = net.join("rawsocket", serializer)
    subs = [
        net.join(t, s)
        for t, s in (("websocket", "json"), ("message", "msgpack"), ("rawsocket", "cbor"))
    ]
    sub_ids = [subscribed(net, s, "com.ppt") for s in subs]
    pub.publish("com.ppt", [OPAQUE], None, **PPT)
    net.pump()
    for peer, sub in zip(subs, sub_ids, strict=True):
        (event,) = events(peer, sub)
        assert event.details == PPT and event.args == [OPAQUE] and event.kwargs is None
    net.check()


@pytest.mark.parametrize("serializer", SERIALIZERS)
def test_raw_payload_form_passes_through_byte_identical_wamp_spec_4_18(serializer: str) -> None:
    net = Network()
    pub = net.join("rawsocket", serializer)
    subs = [net.join("websocket", s) for s in SERIALIZERS]
    sub_ids = [subscribed(net, s, "com.enc") for s in subs]
    pub.send(Publish(request_id=pub.next_id(), options=dict(ENC), topic="com.enc", payload=OPAQUE))
    net.pump()
    for peer, sub in zip(subs, sub_ids, strict=True):
        (event,) = events(peer, sub)
        assert event.details == ENC
        assert (event.payload, event.args, event.kwargs) == (OPAQUE, None, None)
    net.check()


@pytest.mark.parametrize("options", [PPT, ENC], ids=["ppt", "enc"])
def test_passthru_options_reach_invocation_result_and_error_wamp_spec_4_18(
    options: dict[str, str],
) -> None:
    net = Network()
    caller, callee = net.join("websocket", "msgpack"), net.join("rawsocket", "json")
    callee.register("com.ppt")
    net.pump()
    raw = "enc_algo" in options
    payload: dict[str, Any] = {"payload": OPAQUE} if raw else {"args": [OPAQUE]}
    rid = caller.next_id()
    caller.send(Call(request_id=rid, options=dict(options), procedure="com.ppt", **payload))
    net.pump()
    (inv,) = callee.take(Invocation)
    assert inv.details == options
    assert (inv.payload, inv.args) == ((OPAQUE, None) if raw else (None, [OPAQUE]))
    callee.send(Yield(request_id=inv.request_id, options=dict(options), **payload))
    net.pump()
    res = caller.one(Result, lambda m: m.request_id == rid)
    assert res.details == options
    assert (res.payload, res.args, res.kwargs) == (
        (OPAQUE, None, None) if raw else (None, [OPAQUE], None)
    )
    rid = caller.next_id()
    caller.send(Call(request_id=rid, options=dict(options), procedure="com.ppt", **payload))
    net.pump()
    (inv,) = callee.take(Invocation)
    callee.send(
        Error(
            request_type=68,
            request_id=inv.request_id,
            details=dict(options),
            error="com.example.failed",
            **payload,
        )
    )
    net.pump()
    err = caller.one(Error, lambda m: m.request_id == rid)
    assert (err.error, err.details) == ("com.example.failed", options)
    assert (err.payload, err.args) == ((OPAQUE, None) if raw else (None, [OPAQUE]))
    net.check()


def test_retained_and_historic_passthru_payloads_stay_untouched_wamp_spec_4_18() -> None:
    net = history_network(HistoryConfig("com.enc", "exact", 5))
    pub, late = net.join("rawsocket", "cbor"), net.join("websocket", "msgpack")
    options = {**ENC, "retain": True}
    pub.send(Publish(request_id=pub.next_id(), options=options, topic="com.enc", payload=OPAQUE))
    net.pump()
    sub = subscribed(net, late, "com.enc", get_retained=True)
    (event,) = events(late, sub)
    assert event.payload == OPAQUE and event.details == {**ENC, "retained": True}
    (kept,) = result(net, late, "wamp.subscription.get_events", [sub])  # type: ignore[misc]
    (entry,) = kept
    assert entry["payload"] == OPAQUE and entry["details"] == ENC
    assert (entry["args"], entry["kwargs"]) == ([], {})
    net.check()
