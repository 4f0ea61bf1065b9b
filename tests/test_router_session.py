"""Router session lifecycle (wamp-spec §2.4, §3.1, §3.2): join, refuse, leave, deadlines, limits.

Everything runs through the in-memory network (tests/netharness.py) over real framings.
"""

from __future__ import annotations

import pytest
from netharness import BASIC_ROLES, SERIALIZERS, TRANSPORTS, Network

from wampcore.config import Limits, RealmConfig, RouterConfig
from wampcore.messages import Abort, Event, Goodbye, Subscribed, Welcome
from wampcore.router import (
    HandshakeTimedOut,
    LeaveCause,
    PeerAborted,
    SessionJoined,
    SessionLeft,
)
from wampcore.router.router import ROUTER_ROLES


@pytest.mark.parametrize("transport", TRANSPORTS)
@pytest.mark.parametrize("serializer", SERIALIZERS)
def test_hello_gets_welcome_with_anonymous_identity_wamp_spec_3_1(
    transport: str, serializer: str
) -> None:
    net = Network()
    peer = net.join(transport, serializer)
    welcome = peer.one(Welcome)
    details = welcome.details
    assert details["realm"] == "realm1"
    assert details["authrole"] == "anonymous"
    assert details["authmethod"] == "anonymous"
    assert details["authprovider"] == "static"
    assert isinstance(details["authid"], str) and details["authid"]
    assert 1 <= welcome.session_id <= 2**53
    assert net.router.session_count("realm1") == 1
    joined = net.events_of(SessionJoined)
    assert [(e.session_id, e.authid) for e in joined] == [(welcome.session_id, details["authid"])]
    net.check()


def test_welcome_announces_exactly_the_implemented_features_wamp_spec_4_1() -> None:
    net = Network()
    peer = net.join()
    roles = peer.one(Welcome).details["roles"]
    assert roles == ROUTER_ROLES
    assert set(roles["broker"]["features"]) == {
        "publisher_exclusion",
        "subscriber_blackwhite_listing",
        "publisher_identification",
        "pattern_based_subscription",
        "event_retention",
        "event_history",
        "payload_passthru_mode",
        "subscription_revocation",
        "session_meta_api",
        "subscription_meta_api",
    }
    assert set(roles["dealer"]["features"]) == {
        "progressive_call_results",
        "progressive_call_invocations",
        "call_canceling",
        "call_timeout",
        "caller_identification",
        "pattern_based_registration",
        "shared_registration",
        "payload_passthru_mode",
        "registration_revocation",
        "session_meta_api",
        "registration_meta_api",
        "testament_meta_api",
    }


def test_session_ids_are_distinct_and_authids_generated_wamp_spec_2_1() -> None:
    net = Network()
    peers = [net.join() for _ in range(20)]
    ids = {p.session_id for p in peers}
    authids = {p.one(Welcome).details["authid"] for p in peers}
    assert len(ids) == 20 and len(authids) == 20


def test_unknown_realm_is_aborted_no_such_realm_wamp_spec_3_1() -> None:
    net = Network()
    peer = net.connect()
    peer.join("com.example.nowhere")
    abort = peer.one(Abort)
    assert abort.reason == "wamp.error.no_such_realm"
    assert "com.example.nowhere" in abort.details["message"]
    assert peer.gone and peer.closed is not None  # the transport is closed after ABORT
    assert net.events_of(PeerAborted)[0].reason == "wamp.error.no_such_realm"
    assert net.router.session_count() == 0
    net.check()


def test_auto_create_realms_creates_on_demand_and_drops_empty_wamp_spec_3_1() -> None:
    net = Network(RouterConfig(auto_create_realms=True))
    a = net.join(realm="com.example.fresh")
    assert a.one(Welcome).details["realm"] == "com.example.fresh"
    assert "com.example.fresh" in net.router.realms
    a.goodbye()
    net.pump()
    assert "com.example.fresh" not in net.router.realms
    assert "realm1" in net.router.realms  # configured realms stay


def test_malformed_realm_is_aborted_invalid_uri_wamp_spec_2_2() -> None:
    net = Network()
    peer = net.connect()
    net.pump()
    peer.send_wire([1, "bad realm", {"roles": {"caller": {}}}])
    net.pump()
    assert peer.one(Abort).reason == "wamp.error.invalid_uri"
    assert peer.gone


def test_strict_uris_refuse_loose_realm_wamp_spec_2_2() -> None:
    net = Network(RouterConfig(auto_create_realms=True, strict_uris=True))
    peer = net.connect()
    peer.join("com.Example")
    assert peer.one(Abort).reason == "wamp.error.invalid_uri"


def test_realm_full_is_aborted_and_others_unaffected_limits() -> None:
    net = Network(RouterConfig(limits=Limits(max_sessions_per_realm=2)))
    a, b = net.join(), net.join()
    c = net.connect()
    c.join()
    assert c.one(Abort).reason == "wampcore.error.realm_full"
    assert net.router.session_count("realm1") == 2
    b.goodbye()
    net.pump()
    d = net.join()
    assert d.one(Welcome)
    assert a.take(Abort) == []
    net.check()


def test_offered_authmethods_without_anonymous_are_refused_wamp_spec_4_28() -> None:
    net = Network()
    peer = net.connect()
    peer.join(authmethods=["ticket"], authid="joe")
    assert peer.one(Abort).reason == "wamp.error.no_matching_auth_method"


def test_anonymous_in_authmethods_is_admitted_wamp_spec_4_28() -> None:
    net = Network()
    peer = net.connect()
    peer.join(authmethods=["ticket", "anonymous"])
    assert peer.one(Welcome).details["authmethod"] == "anonymous"


def test_realm_without_anonymous_access_refuses_join() -> None:
    net = Network(RouterConfig(realms=[RealmConfig("realm1", allow_anonymous=False)]))
    peer = net.connect()
    peer.join()
    assert peer.one(Abort).reason == "wamp.error.no_matching_auth_method"


def test_basic_profile_client_with_empty_role_dicts_joins_wamp_spec_2_3() -> None:
    net = Network()
    peer = net.connect()
    peer.join(roles=BASIC_ROLES)
    assert peer.one(Welcome)


# -- leaving --------------------------------------------------------------------------------------


def test_client_goodbye_is_answered_goodbye_and_out_wamp_spec_3_2() -> None:
    net = Network()
    a, b = net.join(), net.join()
    b.subscribe("com.t")
    b.register("com.p")
    net.pump()
    b.goodbye("wamp.close.close_realm")
    net.pump()
    assert b.last(Goodbye).reason == "wamp.close.goodbye_and_out"
    left = net.events_of(SessionLeft)
    assert [(e.session_id, e.cause, e.reason) for e in left] == [
        (b.session_id, LeaveCause.GOODBYE, "wamp.close.close_realm")
    ]
    # The removal path ran: nothing of b is left in the realm.
    realm = net.router.realm("realm1")
    assert realm.broker.subscriptions() == [] and realm.dealer.registrations() == []
    a.publish("com.t", ["x"])
    net.pump()
    assert b.take(Event) == []
    net.check()


def test_transport_is_reusable_after_client_goodbye_wamp_spec_2_4() -> None:
    net = Network()
    peer = net.join()
    first = peer.session_id
    peer.goodbye()
    net.pump()
    assert not peer.gone and not net.router.should_close(peer.id)
    second = peer.join()
    assert second != first
    assert net.router.session_count() == 1
    net.check()


def test_idle_transport_after_goodbye_is_closed_at_the_handshake_deadline() -> None:
    net = Network(RouterConfig(limits=Limits(handshake_timeout=5.0)))
    peer = net.join()
    peer.goodbye()
    net.pump()
    net.advance(4.9)
    assert not peer.gone
    net.advance(0.2)
    assert peer.gone
    assert peer.take(Abort) == []  # no session is being opened: nothing to refuse (§3.2)
    net.check()


def test_client_abort_ends_session_and_closes_transport_wamp_spec_3_2() -> None:
    net = Network()
    a = net.join()
    a.register("com.p")
    net.pump()
    a.abort("wamp.close.system_shutdown")
    net.pump()
    assert a.gone
    assert a.take(Abort) == []  # ABORT is never answered
    left = net.events_of(SessionLeft)[0]
    assert left.cause is LeaveCause.ABORT and left.reason == "wamp.close.system_shutdown"
    assert net.events_of(PeerAborted)[0].by_peer
    assert net.router.realm("realm1").dealer.registrations() == []


@pytest.mark.parametrize("transport", ["rawsocket", "websocket", "message"])
def test_eof_runs_the_removal_path(transport: str) -> None:
    net = Network()
    a = net.join(transport)
    a.subscribe("com.t")
    net.pump()
    a.eof()
    net.pump()
    assert a.gone
    left = net.events_of(SessionLeft)[0]
    assert left.cause is LeaveCause.TRANSPORT_LOST
    assert net.router.session_count() == 0
    assert net.router.realm("realm1").broker.subscriptions() == []


def test_connection_lost_is_idempotent_and_cleans_up() -> None:
    net = Network()
    a = net.join()
    a.register("com.p")
    net.pump()
    a.vanish()
    net.router.connection_lost(a.id)
    net.pump()
    assert net.router.session_count() == 0
    assert len(net.events_of(SessionLeft)) == 1
    assert a.id not in net.router._peers
    # Unknown peers are tolerated everywhere.
    assert net.router.data_to_send(a.id) == b""
    assert net.router.should_close(a.id)
    net.router.receive_data(a.id, b"x")


# -- router-initiated goodbye ---------------------------------------------------------------------


def test_shutdown_says_goodbye_to_every_session_and_closes_after_reply_wamp_spec_3_2() -> None:
    net = Network()
    a, b = net.join(), net.join()
    idle = net.connect()
    net.pump()
    net.router.shutdown(message="maintenance")
    net.pump()
    for peer in (a, b):
        goodbye = peer.last(Goodbye)
        assert goodbye.reason == "wamp.close.system_shutdown"
        assert goodbye.details == {"message": "maintenance"}
        assert not peer.gone  # awaiting the reply
    assert idle.gone  # no session: closed at once
    assert net.router.session_count() == 0
    a.goodbye("wamp.close.goodbye_and_out")
    net.pump()
    assert a.gone and not b.gone
    late = net.connect()
    late.join()
    assert late.one(Abort).reason == "wamp.close.system_shutdown"
    net.advance(11)
    assert b.gone  # never replied: closed at the deadline
    assert net.events_of(HandshakeTimedOut)[-1].stage == "goodbye"
    net.check()


def test_kill_session_sends_goodbye_killed_wamp_spec_3_2() -> None:
    net = Network()
    a, b = net.join(), net.join()
    assert net.router.kill_session(b.session_id or 0, message="bye")
    assert not net.router.kill_session(12345)
    net.pump()
    goodbye = b.last(Goodbye)
    assert goodbye.reason == "wamp.close.killed" and goodbye.details["message"] == "bye"
    left = net.events_of(SessionLeft)[0]
    assert left.cause is LeaveCause.ROUTER_GOODBYE and left.session_id == b.session_id
    # Messages in flight while the router awaits the reply are ignored (wamp-spec §3.2).
    b.subscribe("com.t")
    net.pump()
    assert b.take(Subscribed) == []
    b.goodbye("wamp.close.goodbye_and_out")
    net.pump()
    assert b.gone and not a.gone
    net.check()


# -- handshake deadline ---------------------------------------------------------------------------


def test_peer_that_never_says_hello_is_closed_at_deadline_limits() -> None:
    """No HELLO within handshake_timeout: the transport is closed, without an ABORT (ABORT
    refuses a session being opened, wamp-spec.md §3.2; a client without one may take none)."""
    net = Network(RouterConfig(limits=Limits(handshake_timeout=3.0)))
    peer = net.connect("rawsocket")
    net.pump()
    assert net.router.next_deadline() == 3.0
    net.advance(2.5)
    assert not peer.gone
    net.advance(1.0)
    assert peer.gone
    assert peer.take(Abort) == []
    assert net.events_of(HandshakeTimedOut)[0].stage == "handshake"
    net.check()


def test_peer_stuck_before_transport_handshake_is_plainly_closed_limits() -> None:
    net = Network(RouterConfig(limits=Limits(handshake_timeout=3.0)))
    peer = net.connect("websocket")
    # Never deliver the client's upgrade request: the router's framing never becomes ready.
    peer.client.data_to_send()
    net.advance(3.5)
    assert net.router.should_close(peer.id)
    assert peer.received == []
    assert net.events_of(HandshakeTimedOut)


def test_welcome_clears_the_handshake_deadline() -> None:
    net = Network(RouterConfig(limits=Limits(handshake_timeout=3.0)))
    peer = net.join()
    assert net.router.next_deadline() is None
    net.advance(100)
    assert not peer.gone


# -- limits ---------------------------------------------------------------------------------------


def test_incoming_message_over_max_message_size_is_aborted_limits() -> None:
    net = Network(RouterConfig(limits=Limits(max_message_size=1000)))
    a, b = net.join("message"), net.join()
    a.publish("com.t", ["x" * 2000])
    net.pump()
    assert a.one(Abort).reason == "wamp.error.payload_size_exceeded"
    assert a.gone and not b.gone
    assert net.router.session_count() == 1


def test_transport_info_reaches_session_joined() -> None:
    net = Network()
    peer = net.connect(transport_info={"peer": "tcp:127.0.0.1:5555"})
    peer.join()
    info = net.events_of(SessionJoined)[0].transport_info
    assert info == {"peer": "tcp:127.0.0.1:5555", "serializer": "json"}  # plus the negotiated one
