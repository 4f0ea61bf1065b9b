"""Broker flows (wamp-spec §3.3, §4.13-§4.15, §4.17) through the in-memory network."""

from __future__ import annotations

import pytest
from netharness import SERIALIZERS, TRANSPORTS, Network

from wampcore.config import RouterConfig
from wampcore.messages import Error, Event, Published, Subscribed, Unsubscribed, Welcome


def _subscribed(net: Network, peer: object, topic: str, **options: object) -> int:
    peer.subscribe(topic, **options)  # type: ignore[attr-defined]
    net.pump()
    return peer.last(Subscribed).subscription_id  # type: ignore[attr-defined,no-any-return]


@pytest.mark.parametrize("transport", TRANSPORTS)
@pytest.mark.parametrize("serializer", SERIALIZERS)
def test_publish_reaches_every_subscriber_across_serializers_wamp_spec_3_3(
    transport: str, serializer: str
) -> None:
    net = Network()
    publisher = net.join(transport, serializer)
    subs = [net.join(t, s) for t in TRANSPORTS for s in SERIALIZERS]
    sub_ids = {_subscribed(net, s, "com.news") for s in subs}
    assert len(sub_ids) == 1  # one subscription per topic, shared (wamp-spec §2.1)
    publisher.publish("com.news", ["hi", b"\x00\x01bin"], {"k": [1.5, None]})
    net.pump()
    for s in subs:
        (event,) = s.take(Event)
        assert event.args == ["hi", b"\x00\x01bin"] and event.kwargs == {"k": [1.5, None]}
        assert event.subscription_id in sub_ids
        assert event.details == {}
    assert publisher.take(Event) == []
    net.check()


def test_unacknowledged_publish_gets_no_answer_wamp_spec_3_3() -> None:
    net = Network()
    publisher = net.join()
    publisher.take()
    publisher.publish("com.t", ["x"])
    publisher.publish("wamp.reserved", ["x"])  # refused, but silently: nobody asked
    net.pump()
    assert publisher.take() == []


def test_acknowledged_publish_gets_published_with_the_event_publication_id_wamp_spec_3_3() -> None:
    net = Network()
    publisher, subscriber = net.join(), net.join()
    _subscribed(net, subscriber, "com.t")
    rid = publisher.publish("com.t", ["x"], acknowledge=True)
    net.pump()
    published = publisher.one(Published)
    assert published.request_id == rid
    assert subscriber.one(Event).publication_id == published.publication_id


def test_publication_ids_are_random_global_ids_wamp_spec_2_1() -> None:
    net = Network()
    publisher = net.join()
    for _ in range(50):
        publisher.publish("com.t", acknowledge=True)
    net.pump()
    ids = [p.publication_id for p in publisher.all(Published)]
    assert len(set(ids)) == 50 and all(1 <= i <= 2**53 for i in ids)
    assert ids != sorted(ids)


def test_repeated_subscribe_returns_the_existing_id_wamp_spec_3_3() -> None:
    net = Network()
    publisher, subscriber = net.join(), net.join()
    first = _subscribed(net, subscriber, "com.t")
    second = _subscribed(net, subscriber, "com.t")
    assert first == second
    publisher.publish("com.t")
    net.pump()
    assert len(subscriber.take(Event)) == 1  # still one subscription, one event


def test_unsubscribe_and_no_such_subscription_wamp_spec_3_3() -> None:
    net = Network()
    publisher, a, b = net.join(), net.join(), net.join()
    sub = _subscribed(net, a, "com.t")
    assert _subscribed(net, b, "com.t") == sub
    rid = a.unsubscribe(sub)
    net.pump()
    assert a.last(Unsubscribed).request_id == rid
    publisher.publish("com.t")
    net.pump()
    assert a.take(Event) == [] and len(b.take(Event)) == 1
    rid = a.unsubscribe(sub)
    net.pump()
    error = a.last(Error)
    assert (error.request_type, error.request_id, error.error) == (
        34,
        rid,
        "wamp.error.no_such_subscription",
    )
    b.unsubscribe(sub)
    net.pump()
    assert net.router.realm("realm1").broker.subscriptions() == []  # gone with the last one


def test_subscribed_comes_before_any_event_wamp_spec_3_3() -> None:
    net = Network()
    subscriber, publisher = net.join("message"), net.join("message")
    subscriber.take()
    # The pump serves peers in connection order: the SUBSCRIBE is routed before the PUBLISH.
    subscriber.subscribe("com.t")
    publisher.publish("com.t", ["after"])
    net.pump()
    kinds = [type(m).__name__ for m in subscriber.take()]
    assert kinds == ["Subscribed", "Event"]


def test_events_arrive_in_publish_order_across_topics_wamp_spec_3_3() -> None:
    net = Network()
    publisher, subscriber = net.join(), net.join()
    _subscribed(net, subscriber, "com.a")
    _subscribed(net, subscriber, "com.b")
    for i in range(20):
        publisher.publish("com.a" if i % 3 else "com.b", [i])
    net.pump()
    assert [e.args[0] for e in subscriber.take(Event)] == list(range(20))


# -- publisher exclusion (wamp-spec §4.14) --------------------------------------------------------


def test_publisher_is_excluded_by_default_wamp_spec_4_14() -> None:
    net = Network()
    both = net.join()
    _subscribed(net, both, "com.t")
    both.publish("com.t", ["x"])
    net.pump()
    assert both.take(Event) == []


def test_exclude_me_false_delivers_to_the_publisher_wamp_spec_4_14() -> None:
    net = Network()
    both = net.join()
    _subscribed(net, both, "com.t")
    both.publish("com.t", ["x"], exclude_me=False)
    net.pump()
    assert [e.args for e in both.take(Event)] == [["x"]]


# -- black/white listing (wamp-spec §4.13) --------------------------------------------------------


def test_exclude_and_eligible_by_session_id_wamp_spec_4_13() -> None:
    net = Network()
    publisher = net.join()
    subs = [net.join() for _ in range(4)]
    for s in subs:
        _subscribed(net, s, "com.t")
    ids = [s.session_id for s in subs]
    publisher.publish("com.t", ["ex"], exclude=[ids[0]])
    publisher.publish("com.t", ["el"], eligible=[ids[1], ids[2]])
    publisher.publish("com.t", ["both"], eligible=[ids[1], ids[2]], exclude=[ids[2]])
    net.pump()
    got = [[e.args[0] for e in s.take(Event)] for s in subs]
    assert got == [[], ["ex", "el", "both"], ["ex", "el"], ["ex"]]


def test_exclude_and_eligible_by_authid_and_authrole_wamp_spec_4_13() -> None:
    net = Network()
    publisher = net.join()
    a, b = net.join(), net.join()
    _subscribed(net, a, "com.t")
    _subscribed(net, b, "com.t")
    a_authid = a.last(Welcome).details["authid"]
    publisher.publish("com.t", ["1"], exclude_authid=[a_authid])
    publisher.publish("com.t", ["2"], eligible_authid=[a_authid])
    publisher.publish("com.t", ["3"], exclude_authrole=["anonymous"])
    publisher.publish("com.t", ["4"], eligible_authrole=["anonymous"])
    publisher.publish("com.t", ["5"], eligible_authrole=["admin"])
    net.pump()
    assert [e.args[0] for e in a.take(Event)] == ["2", "4"]
    assert [e.args[0] for e in b.take(Event)] == ["1", "4"]


def test_publisher_still_excluded_with_whitelist_unless_exclude_me_false_wamp_spec_4_13() -> None:
    net = Network()
    both = net.join()
    _subscribed(net, both, "com.t")
    both.publish("com.t", ["1"], eligible=[both.session_id])
    both.publish("com.t", ["2"], eligible=[both.session_id], exclude_me=False)
    net.pump()
    assert [e.args[0] for e in both.take(Event)] == ["2"]


# -- publisher identification (wamp-spec §4.15) ---------------------------------------------------


def test_disclose_me_puts_the_publisher_in_event_details_wamp_spec_4_15() -> None:
    net = Network()
    publisher, subscriber = net.join(), net.join()
    _subscribed(net, subscriber, "com.t")
    publisher.publish("com.t", ["x"], disclose_me=True)
    publisher.publish("com.t", ["y"])
    net.pump()
    disclosed, anonymous = subscriber.take(Event)
    assert disclosed.details["publisher"] == publisher.session_id
    assert disclosed.details["publisher_authrole"] == "anonymous"
    assert isinstance(disclosed.details["publisher_authid"], str)
    assert "publisher" not in anonymous.details


# -- pattern-based subscription (wamp-spec §4.17) -------------------------------------------------


def test_prefix_and_wildcard_subscriptions_wamp_spec_4_17() -> None:
    net = Network()
    publisher, subscriber = net.join(), net.join()
    exact = _subscribed(net, subscriber, "com.app.room1.msg")
    prefix = _subscribed(net, subscriber, "com.app", match="prefix")
    wildcard = _subscribed(net, subscriber, "com.app..msg", match="wildcard")
    assert len({exact, prefix, wildcard}) == 3
    publisher.publish("com.app.room1.msg", ["all three"])
    publisher.publish("com.app.room2.msg", ["prefix and wildcard"])
    publisher.publish("com.app.x.y.msg", ["prefix only"])
    publisher.publish("com.other.room1.msg", ["none"])
    net.pump()
    events = subscriber.take(Event)
    by_args: dict[str, list[Event]] = {}
    for e in events:
        by_args.setdefault(e.args[0], []).append(e)
    assert {e.subscription_id for e in by_args["all three"]} == {exact, prefix, wildcard}
    assert len({e.publication_id for e in by_args["all three"]}) == 1  # one publication
    assert {e.subscription_id for e in by_args["prefix and wildcard"]} == {prefix, wildcard}
    assert {e.subscription_id for e in by_args["prefix only"]} == {prefix}
    assert "none" not in by_args
    for e in events:
        if e.subscription_id == exact:
            assert "topic" not in e.details
        else:
            assert e.details["topic"] in (
                "com.app.room1.msg",
                "com.app.room2.msg",
                "com.app.x.y.msg",
            )


def test_same_topic_different_match_are_different_subscriptions_wamp_spec_4_17() -> None:
    net = Network()
    subscriber = net.join()
    assert _subscribed(net, subscriber, "com.app") != _subscribed(
        net, subscriber, "com.app", match="prefix"
    )


# -- URIs -----------------------------------------------------------------------------------------


def test_subscribe_to_a_malformed_topic_is_invalid_uri_not_a_violation_wamp_spec_2_2() -> None:
    net = Network()
    peer = net.join()
    rid = peer.tracker.peek_request_id()
    peer.send_wire([32, rid, {}, "com.bad topic"])
    net.pump()
    error = peer.last(Error)
    assert (error.request_type, error.request_id, error.error) == (
        32,
        rid,
        "wamp.error.invalid_uri",
    )
    assert not peer.gone
    peer.send_wire([32, rid + 1, {}, "com.good"])  # the request id counter moved on
    net.pump()
    assert peer.last(Subscribed).request_id == rid + 1


def test_acknowledged_publish_to_a_malformed_topic_is_invalid_uri_wamp_spec_2_2() -> None:
    net = Network()
    peer = net.join()
    peer.take()
    rid = peer.tracker.peek_request_id()
    peer.send_wire([16, rid, {"acknowledge": True}, "com..bad"])
    peer.send_wire([16, rid + 1, {}, "com..bad"])  # unacknowledged: no answer at all
    net.pump()
    assert [(e.request_id, e.error) for e in peer.take(Error)] == [(rid, "wamp.error.invalid_uri")]
    assert not peer.gone


def test_publish_to_reserved_wamp_namespace_is_refused_wamp_spec_2_2() -> None:
    net = Network()
    peer, subscriber = net.join(), net.join()
    _subscribed(net, subscriber, "wamp.session.on_join")  # subscribing to wamp.* is fine
    peer.publish("wamp.session.on_join", ["fake"], acknowledge=True)
    net.pump()
    assert peer.last(Error).error == "wamp.error.invalid_uri"
    assert subscriber.take(Event) == []


def test_strict_uris_refuse_loose_topics_wamp_spec_2_2() -> None:
    net = Network(RouterConfig(strict_uris=True))
    peer = net.join()
    peer.subscribe("com.Example.Topic")
    peer.subscribe("com.example", match="prefix")
    peer.subscribe("com..topic", match="wildcard")
    net.pump()
    assert [e.error for e in peer.all(Error)] == ["wamp.error.invalid_uri"]
    assert len(peer.all(Subscribed)) == 2
