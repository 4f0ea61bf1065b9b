"""Fixes to the shared state table found while building the client peer (wampcore/_state.py).

Each test drives a ``SessionTracker`` for both sides, as the router and the client peer do.
"""

from __future__ import annotations

import pytest

from wampcore._state import Disposition, SessionState, SessionTracker, Side
from wampcore.errors import LocalProtocolError, RemoteProtocolError
from wampcore.messages import (
    Call,
    Hello,
    Interrupt,
    Invocation,
    Publish,
    Register,
    Registered,
    Subscribe,
    Subscribed,
    Unregistered,
    Unsubscribed,
    Welcome,
    Yield,
)

FEATURES = {
    "callee": {"features": {"registration_revocation": True, "progressive_call_invocations": True}},
    "subscriber": {"features": {"subscription_revocation": True}},
    "caller": {},
    "publisher": {},
}


def _pair(client_roles: dict[str, object] | None = None) -> tuple[SessionTracker, SessionTracker]:
    """An established (client tracker, router tracker) pair."""
    client, router = SessionTracker(Side.CLIENT), SessionTracker(Side.ROUTER)
    both(client, router, Hello(realm="r", details={"roles": client_roles or FEATURES}))
    both(router, client, Welcome(session_id=1, details={"roles": {"dealer": {}, "broker": {}}}))
    assert client.state is router.state is SessionState.ESTABLISHED
    return client, router


def both(sender: SessionTracker, receiver: SessionTracker, msg: object) -> Disposition:
    out = sender.send(msg)  # type: ignore[arg-type]
    into = receiver.receive(msg)  # type: ignore[arg-type]
    assert out is into
    return into


def test_progressive_invocation_continuation_reuses_id_spec_4_3() -> None:
    client, router = _pair()
    rid = router.next_request_id()
    progress = {"progress": True}
    both(router, client, Invocation(request_id=rid, registration_id=3, details=progress))
    both(router, client, Invocation(request_id=rid, registration_id=3, details=progress))
    both(router, client, Invocation(request_id=rid, registration_id=3))  # the final chunk
    both(client, router, Yield(request_id=rid))
    assert not client.pending_in and not router.pending_out
    # a continuation after the invocation finished is late, not a violation (§4.3)
    late = Invocation(request_id=rid, registration_id=3, details=progress)
    assert client.receive(late) is Disposition.IGNORE


def test_reusing_an_open_non_progressive_id_is_violation_spec_4_3() -> None:
    client, router = _pair()
    rid = router.next_request_id()
    both(router, client, Invocation(request_id=rid, registration_id=3))
    with pytest.raises(RemoteProtocolError):
        client.receive(Invocation(request_id=rid, registration_id=3))
    client, router = _pair()
    rid = client.next_request_id()
    both(client, router, Call(request_id=rid, procedure="p"))
    with pytest.raises(RemoteProtocolError):
        router.receive(Call(request_id=rid, procedure="p"))


def test_killnowait_interrupt_ends_invocation_on_both_sides_spec_4_5() -> None:
    client, router = _pair()
    rid = router.next_request_id()
    both(router, client, Invocation(request_id=rid, registration_id=3))
    both(router, client, Interrupt(request_id=rid, options={"mode": "killnowait"}))
    assert not client.pending_in and not router.pending_out
    assert client.send(Yield(request_id=rid)) is Disposition.IGNORE
    assert router.receive(Yield(request_id=rid)) is Disposition.IGNORE


def test_kill_interrupt_keeps_invocation_open_spec_4_5() -> None:
    client, router = _pair()
    rid = router.next_request_id()
    both(router, client, Invocation(request_id=rid, registration_id=3))
    both(router, client, Interrupt(request_id=rid, options={"mode": "kill"}))
    assert both(client, router, Yield(request_id=rid)) is Disposition.PROCESS


@pytest.mark.parametrize(
    ("request_msg", "reply", "revocation"),
    [
        (
            lambda i: Subscribe(request_id=i, topic="t"),
            lambda i: Subscribed(request_id=i, subscription_id=5),
            Unsubscribed(request_id=0, details={"subscription": 5}),
        ),
        (
            lambda i: Register(request_id=i, procedure="p"),
            lambda i: Registered(request_id=i, registration_id=5),
            Unregistered(request_id=0, details={"registration": 5}),
        ),
    ],
)
def test_revocation_is_not_a_reply_spec_4_12_4_21(
    request_msg: object, reply: object, revocation: object
) -> None:
    client, router = _pair()
    rid = client.next_request_id()
    both(client, router, request_msg(rid))  # type: ignore[operator]
    both(router, client, reply(rid))  # type: ignore[operator]
    assert both(router, client, revocation) is Disposition.PROCESS
    # without the announced feature the router may not send it (and the client rejects it)
    client, router = _pair({"callee": {}, "subscriber": {}})
    with pytest.raises(LocalProtocolError):
        router.send(revocation)  # type: ignore[arg-type]
    with pytest.raises(RemoteProtocolError):
        client.receive(revocation)  # type: ignore[arg-type]


def test_refused_send_uses_no_request_id_spec_2_1() -> None:
    client, router = _pair({"publisher": {}})
    rid = client.peek_request_id()
    with pytest.raises(LocalProtocolError):
        client.send(Call(request_id=rid, procedure="p"))  # caller role not announced
    assert client.peek_request_id() == rid
    both(client, router, Publish(request_id=rid, topic="t"))
    assert client.peek_request_id() == rid + 1
    with pytest.raises(LocalProtocolError):
        client.send(Publish(request_id=rid + 5, topic="t"))  # neither peeked nor allocated
