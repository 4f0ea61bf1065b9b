"""The client peer against a hand-played router, through real framings (wamp-spec.md §2-4).

Each test plays the router's side message by message (``clientkit.Scripted``), so it can also
send what a real router never would: the violations of wamp-spec.md §3.6.
"""

from __future__ import annotations

from typing import Any

import pytest
from clientkit import ROUTER_ROLES, SERIALIZERS, TRANSPORTS, Scripted, joined

from wampcore.client import (
    DEFAULT_ROLES,
    Aborted,
    CallResult,
    ClientPeer,
    InterruptReceived,
    InvocationReceived,
    Joined,
    Left,
    ProtocolViolation,
    PublicationReceived,
    PublishAcknowledged,
    RegistrationCreated,
    RegistrationEnded,
    RequestError,
    SubscriptionCreated,
    SubscriptionEnded,
    TransportClosed,
)
from wampcore.errors import (
    ApplicationError,
    LocalProtocolError,
    MessageTooLargeError,
)
from wampcore.messages import (
    Abort,
    Authenticate,
    Challenge,
    Error,
    Event,
    Goodbye,
    Interrupt,
    Invocation,
    Published,
    Registered,
    Result,
    Subscribed,
    Unregistered,
    Unsubscribed,
    Welcome,
)
from wampcore.transports import MessageFraming, RawSocketClient

ABORT, GOODBYE, ERROR, PUBLISH, SUBSCRIBE, UNSUBSCRIBE = 3, 6, 8, 16, 32, 34
CALL, CANCEL, REGISTER, UNREGISTER, YIELD = 48, 49, 64, 66, 70


def _subscribe(s: Scripted, topic: str = "com.t", sub_id: int = 5, **kw: Any) -> int:
    rid = s.peer.subscribe(topic, **kw)
    s.sent()
    s.send(Subscribed(request_id=rid, subscription_id=sub_id))
    assert isinstance(s.events()[0], SubscriptionCreated)
    return rid


def _register(s: Scripted, proc: str = "com.p", reg_id: int = 9, **kw: Any) -> int:
    rid = s.peer.register(proc, **kw)
    s.sent()
    s.send(Registered(request_id=rid, registration_id=reg_id))
    assert isinstance(s.events()[0], RegistrationCreated)
    return rid


def _violated(s: Scripted) -> list[Any]:
    """Assert the client reported a violation, queued ABORT protocol_violation and closed."""
    events = s.events()
    assert any(isinstance(e, ProtocolViolation) for e in events), events
    sent = s.sent()
    assert sent and sent[-1][0] == ABORT and sent[-1][2] == "wamp.error.protocol_violation", sent
    assert s.peer.closed or s.transport == "websocket"
    return events


# --- session establishment (wamp-spec.md §3.1, §2.3, §4.1) ---------------------------------------


@pytest.mark.parametrize("transport", TRANSPORTS)
@pytest.mark.parametrize("serializer", SERIALIZERS)
def test_hello_then_welcome_gives_joined_spec_3_1(transport: str, serializer: str) -> None:
    s = Scripted(transport, serializer)
    s.events()
    hello = s.sent()
    assert len(hello) == 1
    code, realm, details = hello[0]
    assert (code, realm) == (1, "realm1")
    assert details["roles"] == DEFAULT_ROLES
    assert details["agent"].startswith("wampcore-")
    s.send(
        Welcome(
            session_id=1234,
            details={
                "roles": ROUTER_ROLES,
                "authid": "anon",
                "authrole": "anonymous",
                "authmethod": "anonymous",
                "authprovider": "static",
                "x_extra": 1,
            },
        )
    )
    (ev,) = s.events()
    assert ev == Joined(
        session_id=1234,
        realm="realm1",
        authid="anon",
        authrole="anonymous",
        authmethod="anonymous",
        authprovider="static",
        authextra={},
        router_roles=ROUTER_ROLES,
        details=ev.details,
    )
    assert ev.details["x_extra"] == 1
    assert s.peer.is_joined and s.peer.session_id == 1234


def test_hello_carries_auth_details_spec_4_28() -> None:
    s = Scripted(
        authid="joe",
        authmethods=["ticket", "wampcra"],
        authextra={"k": "v"},
        authrole="user",
        roles={"caller": {}},
        agent="me/1",
    )
    s.events()
    ((_, _, details),) = s.sent()
    assert details == {
        "roles": {"caller": {}},
        "agent": "me/1",
        "authid": "joe",
        "authmethods": ["ticket", "wampcra"],
        "authextra": {"k": "v"},
        "authrole": "user",
    }


def test_bad_realm_or_role_refused_at_construction_spec_2_2() -> None:
    with pytest.raises(LocalProtocolError):
        ClientPeer("bad realm", RawSocketClient())
    with pytest.raises(LocalProtocolError):
        ClientPeer("realm1", RawSocketClient(), roles={"dealer": {}})
    with pytest.raises(LocalProtocolError):
        ClientPeer("realm1", RawSocketClient(), roles={})


def test_abort_on_join_gives_aborted_spec_3_2() -> None:
    s = Scripted()
    s.events()
    s.sent()
    s.send(Abort(details={"message": "no such realm"}, reason="wamp.error.no_such_realm"))
    assert s.events() == [Aborted(reason="wamp.error.no_such_realm", message="no such realm")]
    assert not s.peer.is_joined and not s.peer.closed


def test_verbs_before_join_raise_and_send_nothing_spec_2_4() -> None:
    s = Scripted()
    s.events()
    s.sent()
    for verb in (
        lambda: s.peer.call("com.p"),
        lambda: s.peer.publish("com.t"),
        lambda: s.peer.subscribe("com.t"),
        lambda: s.peer.register("com.p"),
        lambda: s.peer.leave(),
        lambda: s.peer.yield_result(1),
    ):
        with pytest.raises(LocalProtocolError):
            verb()
    assert s.sent() == []


def test_verbs_before_transport_ready_raise() -> None:
    peer = ClientPeer("realm1", RawSocketClient())
    with pytest.raises(LocalProtocolError):
        peer.call("com.p")


# --- authentication (wamp-spec.md §4.28) ---------------------------------------------------------


def test_challenge_answered_by_responder_multiround_spec_4_28() -> None:
    seen: list[Challenge] = []

    def responder(ch: Challenge) -> Authenticate:
        seen.append(ch)
        return Authenticate(signature=f"sig-{len(seen)}", extra={})

    s = Scripted(authmethods=["ticket"], authid="joe", responder=responder)
    s.events()
    s.sent()
    s.send(Challenge(method="ticket", extra={}))
    assert s.events() == []
    assert s.sent() == [[5, "sig-1", {}]]
    s.send(Challenge(method="totp", extra={"n": 1}))
    s.events()
    assert s.sent() == [[5, "sig-2", {}]]
    s.send(Welcome(session_id=3, details={"roles": ROUTER_ROLES, "authmethod": "ticket"}))
    (ev,) = s.events()
    assert isinstance(ev, Joined) and ev.authmethod == "ticket"
    assert [c.method for c in seen] == ["ticket", "totp"]


def test_challenge_without_responder_aborts_spec_4_28() -> None:
    s = Scripted(authmethods=["ticket"])
    s.events()
    s.sent()
    s.send(Challenge(method="ticket", extra={}))
    (ev,) = s.events()
    assert isinstance(ev, Aborted) and ev.local
    assert ev.reason == "wamp.error.no_matching_auth_method"
    (abort,) = s.sent()
    assert abort[0] == ABORT and abort[2] == "wamp.error.no_matching_auth_method"
    assert "ticket" in abort[1]["message"]


def test_responder_failure_aborts_spec_4_28() -> None:
    def refuses(ch: Challenge) -> Authenticate:
        raise ApplicationError("wamp.error.authentication_denied", "wrong key")

    def crashes(ch: Challenge) -> Authenticate:
        raise RuntimeError("boom")

    for responder, reason in (
        (refuses, "wamp.error.authentication_denied"),
        (crashes, "wamp.error.authentication_failed"),
    ):
        s = Scripted(authmethods=["x"], responder=responder)
        s.events()
        s.sent()
        s.send(Challenge(method="x", extra={}))
        (ev,) = s.events()
        assert isinstance(ev, Aborted) and ev.local and ev.reason == reason
        assert s.sent()[0][2] == reason


def test_challenge_after_join_is_violation_spec_3_6() -> None:
    s = joined()
    s.send(Challenge(method="ticket", extra={}))
    _violated(s)


# --- closing (wamp-spec.md §3.2) ----------------------------------------------------------------


def test_leave_goodbye_handshake_ignores_in_flight_spec_3_2() -> None:
    s = joined()
    _subscribe(s)
    call_id = s.peer.call("com.p")
    s.peer.leave(message="bye")
    sent = s.sent()
    assert sent[-1] == [GOODBYE, {"message": "bye"}, "wamp.close.close_realm"]
    with pytest.raises(LocalProtocolError):
        s.peer.call("com.p")
    # in flight from the router before it saw our GOODBYE: ignored
    s.send(Event(subscription_id=5, publication_id=1), Result(request_id=call_id))
    assert s.events() == []
    s.send(Goodbye(reason="wamp.close.goodbye_and_out"))
    events = s.events()
    assert events[0] == RequestError(
        request_type=CALL,
        request_id=call_id,
        error="wamp.close.close_realm",
        args=["bye"],
        local=True,
    )
    assert events[1] == Left(reason="wamp.close.close_realm", message="bye", local=True)
    assert not s.peer.is_joined and s.peer.session_id is None


def test_router_goodbye_is_echoed_spec_3_2() -> None:
    s = joined()
    s.send(Goodbye(details={"message": "killed"}, reason="wamp.close.killed"))
    assert s.events() == [Left(reason="wamp.close.killed", message="killed", local=False)]
    assert s.sent() == [[GOODBYE, {}, "wamp.close.goodbye_and_out"]]


def test_rejoin_on_same_transport_restarts_request_ids_spec_2_1() -> None:
    s = joined()
    assert s.peer.publish("com.t") == 1
    assert s.peer.publish("com.t") == 2
    s.send(Goodbye(reason="wamp.close.killed"))
    s.events()
    s.sent()
    s.peer.join()
    assert s.sent()[0][0] == 1
    s.send(Welcome(session_id=8, details={"roles": ROUTER_ROLES}))
    assert isinstance(s.events()[0], Joined)
    assert s.peer.publish("com.t") == 1


def test_local_abort_drops_in_flight_until_rejoin_spec_3_2() -> None:
    s = joined()
    _subscribe(s)
    s.peer.abort("wamp.close.system_shutdown", "going")
    assert s.events() == [Aborted(reason="wamp.close.system_shutdown", message="going", local=True)]
    assert s.sent()[-1] == [ABORT, {"message": "going"}, "wamp.close.system_shutdown"]
    s.send(Event(subscription_id=5, publication_id=1))
    assert s.events() == []
    assert not s.peer.closed


def test_close_ends_pending_then_transport_closed() -> None:
    s = joined()
    _register(s)
    rid = s.peer.call("com.p")
    s.send(Invocation(request_id=1, registration_id=9))
    s.events()
    s.peer.close()
    events = s.events()
    assert [type(e) for e in events] == [RequestError, InterruptReceived, TransportClosed]
    assert events[0].request_id == rid and events[0].local  # type: ignore[union-attr]
    assert events[0].error == "wamp.close.transport_lost"  # type: ignore[union-attr]
    assert events[1] == InterruptReceived(
        request_id=1, mode="killnowait", reason="wamp.close.transport_lost", local=True
    )
    assert s.peer.next_event() is None


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_eof_ends_every_pending_request_once(transport: str) -> None:
    s = joined(transport)
    _register(s)
    call_id = s.peer.call("com.p", receive_progress=True)
    pub_id = s.peer.publish("com.t", acknowledge=True)
    sub_id = s.peer.subscribe("com.u")
    s.send(Invocation(request_id=1, registration_id=9))
    s.send(Result(request_id=call_id, details={"progress": True}))
    s.events()
    s.eof()
    events = s.events()
    ends = [e for e in events if isinstance(e, RequestError)]
    assert sorted(e.request_id for e in ends) == sorted([call_id, pub_id, sub_id])
    assert all(e.local for e in ends)
    assert isinstance(events[-1], TransportClosed)
    assert sum(isinstance(e, InterruptReceived) for e in events) == 1
    # answering the invocation that ended with its session is not an error, and sends nothing
    s.peer.yield_result(1, [1])
    s.peer.yield_error(1, "com.err")
    assert s.peer.next_event() is None


# --- publish & subscribe (wamp-spec.md §3.3, §4.13-4.17, §4.20-4.21) -----------------------------


@pytest.mark.parametrize("serializer", SERIALIZERS)
def test_subscribe_event_unsubscribe_spec_3_3(serializer: str) -> None:
    s = joined("websocket", serializer)
    rid = s.peer.subscribe("com.t")
    assert s.sent() == [[SUBSCRIBE, rid, {}, "com.t"]]
    s.send(Subscribed(request_id=rid, subscription_id=5))
    assert s.events() == [
        SubscriptionCreated(request_id=rid, subscription_id=5, topic="com.t", match="exact")
    ]
    s.send(
        Event(
            subscription_id=5,
            publication_id=99,
            details={"publisher": 3, "publisher_authid": "a"},
            args=[1, b"\x00\xff"],
            kwargs={"k": 2},
        )
    )
    (ev,) = s.events()
    assert ev == PublicationReceived(
        subscription_id=5,
        publication_id=99,
        args=[1, b"\x00\xff"],
        kwargs={"k": 2},
        details=ev.details,
        topic="com.t",
        publisher=3,
        publisher_authid="a",
    )
    urid = s.peer.unsubscribe(5)
    assert s.sent() == [[UNSUBSCRIBE, urid, 5]]
    s.send(Event(subscription_id=5, publication_id=100))  # crossed our UNSUBSCRIBE: delivered
    s.send(Unsubscribed(request_id=urid))
    events = s.events()
    assert isinstance(events[0], PublicationReceived)
    assert events[1] == SubscriptionEnded(request_id=urid, subscription_id=5)
    assert s.peer.subscriptions == {}
    s.send(Event(subscription_id=5, publication_id=101))
    _violated(s)


def test_pattern_subscription_reports_concrete_topic_spec_4_17() -> None:
    s = joined()
    _subscribe(s, "com.", 6, match="prefix")
    s.send(Event(subscription_id=6, publication_id=1, details={"topic": "com.a.b"}))
    (ev,) = s.events()
    assert isinstance(ev, PublicationReceived) and ev.topic == "com.a.b"


def test_event_for_unknown_subscription_is_violation_spec_3_6() -> None:
    s = joined()
    s.send(Event(subscription_id=5, publication_id=1))
    _violated(s)


def test_publish_options_on_the_wire_spec_4_13() -> None:
    s = joined()
    rid = s.peer.publish(
        "com.t",
        [1],
        {"a": 1},
        exclude_me=False,
        exclude=[2],
        exclude_authid=("x",),
        exclude_authrole=["r"],
        eligible=[3],
        eligible_authid=["y"],
        eligible_authrole=["q"],
        disclose_me=True,
        retain=True,
        options={"_custom": 1},
    )
    assert s.sent() == [
        [
            PUBLISH,
            rid,
            {
                "_custom": 1,
                "exclude_me": False,
                "disclose_me": True,
                "retain": True,
                "exclude": [2],
                "exclude_authid": ["x"],
                "exclude_authrole": ["r"],
                "eligible": [3],
                "eligible_authid": ["y"],
                "eligible_authrole": ["q"],
            },
            "com.t",
            [1],
            {"a": 1},
        ]
    ]
    assert s.events() == []  # unacknowledged: nothing pending, nothing comes back


def test_acknowledged_publish_spec_3_3() -> None:
    s = joined()
    rid = s.peer.publish("com.t", acknowledge=True)
    assert s.sent()[0][2] == {"acknowledge": True}
    s.send(Published(request_id=rid, publication_id=42))
    assert s.events() == [PublishAcknowledged(request_id=rid, publication_id=42)]
    rid2 = s.peer.publish("com.t", acknowledge=True)
    s.send(Error(request_type=PUBLISH, request_id=rid2, error="wamp.error.not_authorized"))
    assert s.events() == [
        RequestError(request_type=PUBLISH, request_id=rid2, error="wamp.error.not_authorized")
    ]


def test_published_for_unacknowledged_publish_is_violation_spec_3_6() -> None:
    s = joined()
    rid = s.peer.publish("com.t")
    s.send(Published(request_id=rid, publication_id=42))
    _violated(s)


def test_subscription_revocation_spec_4_21() -> None:
    s = joined()
    _subscribe(s)
    s.send(Unsubscribed(request_id=0, details={"subscription": 5, "reason": "gone"}))
    assert s.events() == [
        SubscriptionEnded(request_id=None, subscription_id=5, revoked=True, reason="gone")
    ]
    assert s.peer.subscriptions == {}


def test_revocation_not_announced_is_violation_spec_4_21() -> None:
    s = joined(roles={"subscriber": {}})
    _subscribe(s)
    s.send(Unsubscribed(request_id=0, details={"subscription": 5}))
    _violated(s)


def test_get_retained_and_match_options_spec_4_20() -> None:
    s = joined()
    rid = s.peer.subscribe("com..x", match="wildcard", get_retained=True)
    assert s.sent() == [[SUBSCRIBE, rid, {"match": "wildcard", "get_retained": True}, "com..x"]]


# --- remote procedure calls (wamp-spec.md §3.4, §4.2-4.8, §4.12) ---------------------------------


@pytest.mark.parametrize("serializer", SERIALIZERS)
def test_call_result_and_error_spec_3_4(serializer: str) -> None:
    s = joined("rawsocket", serializer)
    rid = s.peer.call("com.p", (1, 2), {"x": 1}, timeout=500, disclose_me=True)
    assert s.sent() == [
        [CALL, rid, {"timeout": 500, "disclose_me": True}, "com.p", [1, 2], {"x": 1}]
    ]
    s.send(Result(request_id=rid, args=[3]))
    assert s.events() == [CallResult(request_id=rid, args=[3])]
    rid2 = s.peer.call("com.p")
    s.send(
        Error(
            request_type=CALL,
            request_id=rid2,
            error="com.app.fail",
            args=["why"],
            kwargs={"code": 7},
        )
    )
    (ev,) = s.events()
    assert ev == RequestError(
        request_type=CALL, request_id=rid2, error="com.app.fail", args=["why"], kwargs={"code": 7}
    )
    exc = ev.to_exception()
    assert exc.error == "com.app.fail" and exc.args_list == ["why"] and exc.kwargs == {"code": 7}


def test_progressive_results_spec_4_2() -> None:
    s = joined()
    rid = s.peer.call("com.p", receive_progress=True)
    assert s.sent()[0][2] == {"receive_progress": True}
    s.send(
        Result(request_id=rid, details={"progress": True}, args=[1]),
        Result(request_id=rid, details={"progress": True}, args=[2]),
        Result(request_id=rid, args=[3]),
    )
    events = s.events()
    assert [(e.args, e.progress) for e in events] == [  # type: ignore[union-attr]
        ([1], True),
        ([2], True),
        ([3], False),
    ]


def test_progressive_result_not_requested_is_violation_spec_4_2() -> None:
    s = joined()
    rid = s.peer.call("com.p")
    s.send(Result(request_id=rid, details={"progress": True}))
    _violated(s)


def test_second_final_result_is_violation_spec_3_6() -> None:
    s = joined()
    rid = s.peer.call("com.p")
    s.send(Result(request_id=rid), Result(request_id=rid))
    events = _violated(s)
    assert isinstance(events[0], CallResult)


def test_result_for_unknown_request_is_violation_spec_3_6() -> None:
    s = joined()
    s.send(Result(request_id=1))
    _violated(s)


def test_violation_ends_pending_requests_spec_3_6() -> None:
    s = joined()
    rid = s.peer.call("com.p")
    s.send([WELCOME_CODE := 2, 5, {"roles": ROUTER_ROLES}])
    assert WELCOME_CODE == 2
    events = _violated(s)
    assert events[0] == RequestError(
        request_type=CALL,
        request_id=rid,
        error="wamp.error.protocol_violation",
        args=events[0].args,  # type: ignore[union-attr]
        local=True,
    )


def test_register_invocation_yield_spec_3_4() -> None:
    s = joined()
    rid = s.peer.register("com.p", invoke="roundrobin", disclose_caller=True)
    assert s.sent() == [[REGISTER, rid, {"invoke": "roundrobin", "disclose_caller": True}, "com.p"]]
    s.send(Registered(request_id=rid, registration_id=9))
    assert s.events() == [
        RegistrationCreated(request_id=rid, registration_id=9, procedure="com.p", match="exact")
    ]
    s.send(
        Invocation(
            request_id=1,
            registration_id=9,
            details={"caller": 4, "caller_authid": "a", "caller_authrole": "r", "timeout": 100},
            args=[5],
        )
    )
    (ev,) = s.events()
    assert ev == InvocationReceived(
        request_id=1,
        registration_id=9,
        args=[5],
        details=ev.details,
        procedure="com.p",
        caller=4,
        caller_authid="a",
        caller_authrole="r",
        timeout=100,
    )
    s.peer.yield_result(1, [6], {"k": 1})
    assert s.sent() == [[YIELD, 1, {}, [6], {"k": 1}]]
    s.send(Invocation(request_id=2, registration_id=9))
    s.events()
    s.peer.yield_error(2, "com.app.err", ["no"])
    assert s.sent() == [[ERROR, 68, 2, {}, "com.app.err", ["no"]]]
    with pytest.raises(LocalProtocolError):
        s.peer.yield_result(3)  # never invoked
    urid = s.peer.unregister(9)
    assert s.sent() == [[UNREGISTER, urid, 9]]
    s.send(Unregistered(request_id=urid))
    assert s.events() == [RegistrationEnded(request_id=urid, registration_id=9)]


def test_pattern_registration_reports_concrete_procedure_spec_4_8() -> None:
    s = joined()
    _register(s, "com.", 9, match="prefix")
    s.send(Invocation(request_id=1, registration_id=9, details={"procedure": "com.a.b"}))
    (ev,) = s.events()
    assert isinstance(ev, InvocationReceived) and ev.procedure == "com.a.b"


def test_invocation_for_unregistered_id_is_violation_spec_3_6() -> None:
    s = joined()
    s.send(Invocation(request_id=1, registration_id=9))
    _violated(s)


def test_invocation_with_non_sequential_id_is_violation_spec_3_6() -> None:
    s = joined()
    _register(s)
    s.send(Invocation(request_id=2, registration_id=9))
    _violated(s)


def test_callee_progressive_results_spec_4_2() -> None:
    s = joined()
    _register(s)
    s.send(Invocation(request_id=1, registration_id=9, details={"receive_progress": True}))
    (ev,) = s.events()
    assert isinstance(ev, InvocationReceived) and ev.receive_progress
    s.peer.yield_result(1, [1], progress=True)
    s.peer.yield_result(1, [2])
    assert s.sent() == [[YIELD, 1, {"progress": True}, [1]], [YIELD, 1, {}, [2]]]
    s.send(Invocation(request_id=2, registration_id=9))
    s.events()
    with pytest.raises(LocalProtocolError):
        s.peer.yield_result(2, progress=True)  # the caller did not ask for progress
    assert s.sent() == []


def test_caller_progressive_invocations_spec_4_3() -> None:
    s = joined()
    rid = s.peer.call("com.p", [1], progress=True, receive_progress=True)
    s.peer.continue_call(rid, [2])
    other = s.peer.publish("com.t")
    s.peer.continue_call(rid, [3], progress=False)
    assert other == rid + 1
    assert s.sent() == [
        [CALL, rid, {"receive_progress": True, "progress": True}, "com.p", [1]],
        [CALL, rid, {"progress": True}, "com.p", [2]],
        [PUBLISH, other, {}, "com.t"],
        [CALL, rid, {}, "com.p", [3]],
    ]
    with pytest.raises(LocalProtocolError):
        s.peer.continue_call(rid, [4])  # the stream is closed
    s.send(Result(request_id=rid, args=["done"]))
    assert isinstance(s.events()[0], CallResult)
    s.peer.continue_call(rid, [5])  # answered already: dropped
    assert s.sent() == []
    with pytest.raises(LocalProtocolError):
        s.peer.continue_call(99, [1])  # never made


def test_progressive_call_needs_dealer_feature_spec_4_3() -> None:
    s = Scripted()
    s.join(roles={"dealer": {}})
    with pytest.raises(LocalProtocolError):
        s.peer.call("com.p", progress=True)
    with pytest.raises(LocalProtocolError):
        s.peer.cancel(1)
    assert s.sent() == []
    assert s.peer.call("com.p") == 1  # no request id was used by the refusals


def test_callee_progressive_invocations_spec_4_3() -> None:
    s = joined()
    _register(s)
    s.send(
        Invocation(request_id=1, registration_id=9, details={"progress": True}, args=[1]),
        Invocation(request_id=1, registration_id=9, details={"progress": True}, args=[2]),
        Invocation(request_id=2, registration_id=9, args=["other"]),
        Invocation(request_id=1, registration_id=9, args=[3]),
    )
    events = s.events()
    assert [
        (e.request_id, e.args, e.progress, e.continuation)  # type: ignore[union-attr]
        for e in events
    ] == [
        (1, [1], True, False),
        (1, [2], True, True),
        (2, ["other"], False, False),
        (1, [3], False, True),
    ]
    s.peer.yield_result(1, ["sum"])
    assert s.sent() == [[YIELD, 1, {}, ["sum"]]]
    # a continuation for the now-finished invocation is dropped (wamp-spec.md §4.3)
    s.send(Invocation(request_id=1, registration_id=9, args=[4]))
    assert s.events() == []


@pytest.mark.parametrize("mode", ["skip", "kill", "killnowait"])
def test_cancel_modes_spec_4_5(mode: str) -> None:
    s = joined()
    rid = s.peer.call("com.p")
    s.sent()
    s.peer.cancel(rid, mode)
    assert s.sent() == [[CANCEL, rid, {"mode": mode}]]
    s.send(Error(request_type=CALL, request_id=rid, error="wamp.error.canceled"))
    assert s.events() == [
        RequestError(request_type=CALL, request_id=rid, error="wamp.error.canceled")
    ]
    s.peer.cancel(rid, mode)  # already answered: dropped
    assert s.sent() == []


def test_cancel_refusals_spec_4_5() -> None:
    s = joined()
    with pytest.raises(LocalProtocolError):
        s.peer.cancel(1)  # never made
    sub = s.peer.subscribe("com.t")
    with pytest.raises(LocalProtocolError):
        s.peer.cancel(sub)  # not a call
    rid = s.peer.call("com.p")
    with pytest.raises(LocalProtocolError):
        s.peer.cancel(rid, "later")
    s.sent()
    s.peer.cancel(rid)
    assert s.sent() == [[CANCEL, rid, {"mode": "kill"}]]


def test_kill_interrupt_still_expects_an_answer_spec_4_5() -> None:
    s = joined()
    _register(s)
    s.send(Invocation(request_id=1, registration_id=9))
    s.send(Interrupt(request_id=1, options={"mode": "kill", "reason": "wamp.error.timeout"}))
    events = s.events()
    assert events[1] == InterruptReceived(request_id=1, mode="kill", reason="wamp.error.timeout")
    s.peer.yield_error(1, "wamp.error.canceled")
    assert s.sent() == [[ERROR, 68, 1, {}, "wamp.error.canceled"]]


def test_killnowait_interrupt_ends_the_invocation_spec_4_5() -> None:
    s = joined()
    _register(s)
    s.send(Invocation(request_id=1, registration_id=9))
    s.send(Interrupt(request_id=1, options={"mode": "killnowait"}))
    assert isinstance(s.events()[1], InterruptReceived)
    s.peer.yield_result(1, ["late"])
    s.peer.yield_error(1, "wamp.error.canceled")
    assert s.sent() == []
    s.send(Interrupt(request_id=1, options={"mode": "killnowait"}))  # late: dropped
    assert s.events() == []


def test_interrupt_for_never_invoked_is_violation_spec_3_6() -> None:
    s = joined()
    s.send(Interrupt(request_id=1, options={"mode": "kill"}))
    _violated(s)


def test_callee_does_not_claim_call_timeout_spec_4_4() -> None:
    """The peer runs no timers, so the dealer must time calls out and INTERRUPT the callee."""
    assert "call_timeout" not in DEFAULT_ROLES["callee"]["features"]
    assert DEFAULT_ROLES["caller"]["features"]["call_timeout"] is True


def test_registration_revocation_spec_4_12() -> None:
    s = joined()
    _register(s)
    s.send(Unregistered(request_id=0, details={"registration": 9, "reason": "x"}))
    assert s.events() == [
        RegistrationEnded(request_id=None, registration_id=9, revoked=True, reason="x")
    ]
    s.send(Invocation(request_id=1, registration_id=9))
    _violated(s)


def test_unsubscribe_error_no_such_subscription_forgets_it_spec_3_3() -> None:
    s = joined()
    _subscribe(s)
    rid = s.peer.unsubscribe(5)
    s.send(Error(request_type=UNSUBSCRIBE, request_id=rid, error="wamp.error.no_such_subscription"))
    assert isinstance(s.events()[0], RequestError)
    assert s.peer.subscriptions == {}


# --- local validation: nothing sent, no id used (wamp-spec.md §2.1, §3.6) -------------------------


@pytest.mark.parametrize(
    "verb",
    [
        lambda p: p.publish("com.t", exclude=["x"]),
        lambda p: p.publish("com.t", exclude="abc"),
        lambda p: p.publish("com.t", acknowledge="yes", options={"acknowledge": "yes"}),
        lambda p: p.publish("bad topic"),
        lambda p: p.subscribe("com.t", match="regex"),
        lambda p: p.subscribe("com..t"),
        lambda p: p.register("com.p", invoke="sometimes"),
        lambda p: p.call("com.p", timeout=-1),
        lambda p: p.call("com.p", args="abc"),
        lambda p: p.call("com.p", kwargs=[1]),
        lambda p: p.call("com.p", [object()]),
        lambda p: p.call("com.p", options={"disclose_me": 1}),
        lambda p: p.unsubscribe(0),
        lambda p: p.unregister(True),
        lambda p: p.leave(reason="not a uri"),
        lambda p: p.call("com.p", [b"x" * 70000]),
    ],
)
def test_invalid_verbs_send_nothing_and_use_no_id_spec_3_6(verb: Any) -> None:
    s = joined(server_max=65536)
    with pytest.raises(LocalProtocolError):
        verb(s.peer)
    assert s.sent() == []
    assert s.peer.call("com.p") == 1


def test_too_large_is_message_too_large_error() -> None:
    s = joined(server_max=1024)
    with pytest.raises(MessageTooLargeError):
        s.peer.publish("com.t", ["x" * 2000])
    assert s.sent() == []


def test_too_large_yield_can_still_be_answered_with_an_error() -> None:
    s = joined(server_max=1024)
    _register(s)
    s.send(Invocation(request_id=1, registration_id=9))
    s.events()
    with pytest.raises(MessageTooLargeError):
        s.peer.yield_result(1, ["x" * 2000])
    s.peer.yield_error(1, "wamp.error.payload_size_exceeded")
    assert s.sent() == [[ERROR, 68, 1, {}, "wamp.error.payload_size_exceeded"]]


# --- garbage from the router (wamp-spec.md §3.6) --------------------------------------------------


@pytest.mark.parametrize(
    "payload",
    [b"not json", b"{}", b"[]", b"[999]", b"[36, 0, 1, {}]", b'[8, 1, 1, {}, "x.y"]'],
)
def test_garbage_payload_is_violation_spec_3_6(payload: bytes) -> None:
    s = joined()
    s.send_payload(payload)
    _violated(s)


def test_violation_stops_the_rest_of_a_batch_spec_3_6() -> None:
    s = Scripted("websocket", "json", batched=True)
    s.join()
    _subscribe(s)
    bad = s.ser.encode([50, 77, {}])
    good = s.ser.encode(Event(subscription_id=5, publication_id=1).to_wire())
    s.send_payload(bad + good)
    events = _violated(s)
    assert not any(isinstance(e, PublicationReceived) for e in events)


def test_batched_payload_delivers_every_message_spec_5_3() -> None:
    s = Scripted("websocket", "msgpack", batched=True)
    s.join()
    _subscribe(s)
    s.send_payload(
        s.ser.encode_batch(
            [Event(subscription_id=5, publication_id=n).to_wire() for n in (1, 2, 3)]
        )
    )
    assert [e.publication_id for e in s.events()] == [1, 2, 3]  # type: ignore[union-attr]


def test_nothing_processed_after_violation() -> None:
    s = joined()
    _subscribe(s)
    s.send_payload(b"garbage")
    s.send(Event(subscription_id=5, publication_id=1))
    events = s.events()
    assert not any(isinstance(e, PublicationReceived) for e in events)
    assert isinstance(events[-1], TransportClosed)


def test_identity_framing_queues_hello_at_construction_spec_3_1() -> None:
    """HELLO must be the client's first message; the adapter writes before it ever reads."""
    peer = ClientPeer("realm1", MessageFraming("wamp.2.json"))
    (hello,) = peer.payloads_to_send()
    assert hello.startswith(b'[1,"realm1",')
