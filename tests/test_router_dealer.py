"""Dealer flows (wamp-spec §3.4, §4.2-§4.9) through the in-memory network."""

from __future__ import annotations

import math
from typing import Any

import pytest
from netharness import BASIC_ROLES, CLIENT_ROLES, SERIALIZERS, TRANSPORTS, Network, TestPeer

from wampcore.config import Limits, RouterConfig
from wampcore.messages import (
    Error,
    Interrupt,
    Invocation,
    Registered,
    Result,
    Unregistered,
)


def _registered(net: Network, peer: TestPeer, procedure: str, **options: Any) -> int:
    peer.register(procedure, **options)
    net.pump()
    return peer.last(Registered).registration_id


def _no_pending(net: Network) -> None:
    """No call state is left anywhere in the router."""
    for session in net.router.sessions.sessions.values():
        assert session.open_calls() == [] and session.open_invocations() == [], session


def _roles_without(role: str, *features: str) -> dict[str, Any]:
    roles = {r: {"features": dict(spec["features"])} for r, spec in CLIENT_ROLES.items()}
    for feature in features:
        roles[role]["features"].pop(feature, None)
    return roles


@pytest.mark.parametrize("transport", TRANSPORTS)
@pytest.mark.parametrize("serializer", SERIALIZERS)
def test_call_invocation_yield_result_wamp_spec_3_4(transport: str, serializer: str) -> None:
    net = Network()
    callee = net.join("rawsocket", "cbor")
    caller = net.join(transport, serializer)
    reg = _registered(net, callee, "com.add")
    rid = caller.call("com.add", [2, 3], {"k": b"\x00bin"})
    net.pump()
    inv = callee.one(Invocation)
    assert inv.registration_id == reg and inv.args == [2, 3] and inv.kwargs == {"k": b"\x00bin"}
    assert inv.details == {}
    callee.yield_(inv.request_id, [5], {"sum": True})
    net.pump()
    result = caller.one(Result)
    assert (result.request_id, result.args, result.kwargs) == (rid, [5], {"sum": True})
    _no_pending(net)
    net.check()


def test_invocation_ids_are_sequential_per_callee_wamp_spec_2_1() -> None:
    net = Network()
    callee_a, callee_b = net.join(), net.join()
    caller1, caller2 = net.join(), net.join()
    _registered(net, callee_a, "com.a")
    _registered(net, callee_b, "com.b")
    for caller in (caller1, caller2, caller1):
        caller.call("com.a")
        caller.call("com.b")
    net.pump()
    assert [i.request_id for i in callee_a.all(Invocation)] == [1, 2, 3]
    assert [i.request_id for i in callee_b.all(Invocation)] == [1, 2, 3]


def test_callee_error_is_passed_through_wamp_spec_3_4() -> None:
    net = Network()
    callee, caller = net.join(), net.join("websocket", "msgpack")
    _registered(net, callee, "com.div")
    rid = caller.call("com.div", [1, 0])
    net.pump()
    inv = callee.one(Invocation)
    callee.send(
        Error(
            request_type=68,
            request_id=inv.request_id,
            error="com.example.division_by_zero",
            args=["nope"],
            kwargs={"a": 1},
        )
    )
    net.pump()
    error = caller.one(Error)
    assert (error.request_type, error.request_id, error.error, error.args, error.kwargs) == (
        48,
        rid,
        "com.example.division_by_zero",
        ["nope"],
        {"a": 1},
    )
    _no_pending(net)


def test_no_such_procedure_wamp_spec_3_4() -> None:
    net = Network()
    caller = net.join()
    rid = caller.call("com.nothing")
    net.pump()
    error = caller.one(Error)
    assert (error.request_type, error.request_id, error.error) == (
        48,
        rid,
        "wamp.error.no_such_procedure",
    )


def test_procedure_already_exists_wamp_spec_3_4() -> None:
    net = Network()
    a, b = net.join(), net.join()
    _registered(net, a, "com.p")
    rid = b.register("com.p")
    a.register("com.p")
    net.pump()
    assert b.one(Error).error == "wamp.error.procedure_already_exists"
    assert b.one(Error).request_id == rid
    assert a.last(Error).error == "wamp.error.procedure_already_exists"


def test_unregister_and_no_such_registration_wamp_spec_3_4() -> None:
    net = Network()
    callee, caller = net.join(), net.join()
    reg = _registered(net, callee, "com.p")
    rid = callee.unregister(reg)
    net.pump()
    assert callee.one(Unregistered).request_id == rid
    caller.call("com.p")
    callee.unregister(reg)
    net.pump()
    assert caller.one(Error).error == "wamp.error.no_such_procedure"
    assert callee.one(Error).error == "wamp.error.no_such_registration"
    # The URI is free again.
    assert _registered(net, caller, "com.p")


def test_register_in_wamp_namespace_is_refused_wamp_spec_2_2() -> None:
    net = Network()
    callee = net.join()
    callee.register("wamp.session.count")
    net.pump()
    assert callee.one(Error).error == "wamp.error.invalid_uri"


def test_register_malformed_procedure_is_invalid_uri_wamp_spec_2_2() -> None:
    net = Network()
    callee = net.join()
    callee.send_wire([64, callee.tracker.peek_request_id(), {}, "com.bad#proc"])
    net.pump()
    assert callee.one(Error).error == "wamp.error.invalid_uri"
    assert not callee.gone


def test_call_with_malformed_procedure_is_invalid_uri_wamp_spec_2_2() -> None:
    net = Network()
    caller = net.join()
    caller.send_wire([48, caller.tracker.peek_request_id(), {}, "com bad"])
    net.pump()
    assert caller.one(Error).error == "wamp.error.invalid_uri"


# -- a party leaves mid-call ----------------------------------------------------------------------


def test_callee_leaving_answers_every_waiting_caller_canceled_wamp_spec_3_4() -> None:
    net = Network()
    callee = net.join()
    callers = [net.join() for _ in range(3)]
    _registered(net, callee, "com.slow")
    rids = [c.call("com.slow") for c in callers]
    net.pump()
    assert len(callee.all(Invocation)) == 3
    callee.eof()
    net.pump()
    for caller, rid in zip(callers, rids, strict=True):
        error = caller.one(Error)
        assert (error.request_id, error.error) == (rid, "wamp.error.canceled")
    _no_pending(net)
    net.check()


def test_caller_leaving_interrupts_cancel_capable_callee_killnowait_wamp_spec_3_4() -> None:
    net = Network()
    callee, caller = net.join(), net.join()
    _registered(net, callee, "com.slow")
    caller.call("com.slow")
    net.pump()
    inv = callee.one(Invocation)
    caller.vanish()
    net.pump()
    interrupt = callee.one(Interrupt)
    assert interrupt.request_id == inv.request_id and interrupt.options["mode"] == "killnowait"
    # The callee's late answer is dropped, silently and without a violation.
    callee.send_wire([70, inv.request_id, {}, ["late"]])
    net.pump()
    assert not callee.gone
    _no_pending(net)
    assert net.router._peers[callee.id].tracker.pending_out == {}


def test_caller_leaving_sends_nothing_to_a_basic_callee_wamp_spec_3_4() -> None:
    net = Network()
    callee = net.connect()
    callee.join(roles=BASIC_ROLES)
    caller = net.join()
    _registered(net, callee, "com.slow")
    caller.call("com.slow")
    net.pump()
    inv = callee.one(Invocation)
    caller.goodbye()
    net.pump()
    assert callee.all(Interrupt) == []
    callee.yield_(inv.request_id, ["late"])  # dropped by the router
    net.pump()
    assert not callee.gone
    _no_pending(net)
    net.check()


def test_caller_and_callee_being_one_session_leaves_cleanly() -> None:
    net = Network()
    me = net.join()
    _registered(net, me, "com.self")
    me.call("com.self")
    net.pump()
    assert me.one(Invocation)
    me.eof()
    net.pump()
    assert net.router.session_count() == 0
    net.check()


def test_late_yield_after_caller_left_leaks_nothing() -> None:
    net = Network()
    callee = net.join()
    _registered(net, callee, "com.p")
    for _ in range(50):
        caller = net.join()
        caller.call("com.p")
        net.pump()
        caller.vanish()
        net.pump()
    invocations = callee.all(Invocation)
    assert len(invocations) == 50
    for inv in invocations:
        callee.yield_(inv.request_id, ["late"])
    net.pump()
    session = net.router._peers[callee.id].session
    assert session is not None and session.open_invocations() == []
    assert net.router._peers[callee.id].tracker.pending_out == {}
    net.check()


# -- progressive call results (wamp-spec §4.2) ----------------------------------------------------


def test_progressive_results_are_forwarded_immediately_wamp_spec_4_2() -> None:
    net = Network()
    callee, caller = net.join(), net.join()
    _registered(net, callee, "com.stream")
    rid = caller.call("com.stream", receive_progress=True)
    net.pump()
    inv = callee.one(Invocation)
    assert inv.details.get("receive_progress") is True
    for i in range(3):
        callee.yield_(inv.request_id, [i], progress=True)
        net.pump()
        assert [r.args for r in caller.take(Result)] == [[i]]
    callee.yield_(inv.request_id, ["done"])
    net.pump()
    (final,) = caller.take(Result)
    assert final.args == ["done"] and not final.progress and final.request_id == rid
    assert all(r.progress for r in caller.all(Result)[:3])
    _no_pending(net)
    net.check()


def test_progress_is_offered_to_a_callee_without_call_canceling_wamp_spec_4_2() -> None:
    """wamp-spec §4.2 asks a progressive callee to support canceling too; autobahn-js callees
    announce progressive results without it (and stream through Crossbar), so the dealer
    honours progressive results alone -- and such a callee is never sent an INTERRUPT."""
    net = Network()
    callee = net.connect()
    callee.join(roles=_roles_without("callee", "call_canceling"))
    caller = net.join()
    _registered(net, callee, "com.stream")
    rid = caller.call("com.stream", receive_progress=True)
    net.pump()
    inv = callee.one(Invocation)
    assert inv.details.get("receive_progress") is True
    callee.yield_(inv.request_id, ["partial"], progress=True)
    net.pump()
    (partial,) = caller.take(Result)
    assert partial.progress and partial.args == ["partial"] and partial.request_id == rid
    caller.cancel(rid, "kill")
    net.pump()
    assert caller.one(Error).error == "wamp.error.canceled"
    assert callee.all(Interrupt) == []
    _no_pending(net)
    net.check()


def test_error_ends_a_progressive_call_wamp_spec_4_2() -> None:
    net = Network()
    callee, caller = net.join(), net.join()
    _registered(net, callee, "com.stream")
    caller.call("com.stream", receive_progress=True)
    net.pump()
    inv = callee.one(Invocation)
    callee.yield_(inv.request_id, [1], progress=True)
    callee.error(inv.request_id, "com.example.failed")
    net.pump()
    assert [type(m).__name__ for m in caller.take()][-2:] == ["Result", "Error"]
    assert caller.last(Error).request_type == 48
    _no_pending(net)


# -- progressive call invocations (wamp-spec §4.3) ------------------------------------------------


def test_progressive_invocations_stream_to_the_same_callee_wamp_spec_4_3() -> None:
    net = Network()
    callee, caller = net.join(), net.join()
    _registered(net, callee, "com.upload")
    rid = caller.call("com.upload", ["chunk0"], progress=True, receive_progress=True)
    net.pump()
    caller.call("com.upload", ["chunk1"], request_id=rid, progress=True)
    caller.call("com.upload", ["last"], request_id=rid)
    net.pump()
    invocations = callee.all(Invocation)
    assert [i.args for i in invocations] == [["chunk0"], ["chunk1"], ["last"]]
    assert len({i.request_id for i in invocations}) == 1
    assert [i.details.get("progress", False) for i in invocations] == [True, True, False]
    # A new request after the stream uses the next id: the stream did not consume ids.
    rid2 = caller.call("com.upload", ["other"])
    net.pump()
    assert rid2 == rid + 1
    callee.yield_(invocations[0].request_id, ["ok"])
    net.pump()
    assert caller.one(Result, lambda r: r.request_id == rid).args == ["ok"]
    net.check()


def test_continuation_after_the_call_ended_is_dropped_wamp_spec_4_3() -> None:
    net = Network()
    callee, caller = net.join(), net.join()
    _registered(net, callee, "com.upload")
    rid = caller.call("com.upload", ["a"], progress=True)
    net.pump()
    inv = callee.one(Invocation)
    callee.yield_(inv.request_id, ["early final"])
    net.pump()
    assert caller.one(Result).args == ["early final"]
    caller.send_wire([48, rid, {"progress": True}, "com.upload", ["more"]])
    net.pump()
    assert not caller.gone and len(callee.all(Invocation)) == 1


def test_continuation_for_another_procedure_is_a_violation_wamp_spec_4_3() -> None:
    net = Network()
    callee, caller = net.join(), net.join()
    _registered(net, callee, "com.upload")
    _registered(net, callee, "com.other")
    rid = caller.call("com.upload", ["a"], progress=True)
    net.pump()
    caller.send_wire([48, rid, {"progress": True}, "com.other", ["b"]])
    net.pump()
    assert caller.gone
    assert callee.one(Interrupt).options["mode"] == "killnowait"


def test_progressive_call_to_a_callee_without_the_feature_wamp_spec_4_3() -> None:
    net = Network()
    callee = net.connect()
    callee.join(roles=_roles_without("callee", "progressive_call_invocations"))
    caller = net.join()
    _registered(net, callee, "com.upload")
    caller.call("com.upload", ["a"], progress=True)
    net.pump()
    assert caller.one(Error).error == "wamp.error.feature_not_supported"
    assert callee.all(Invocation) == []


# -- call canceling (wamp-spec §4.5) --------------------------------------------------------------


@pytest.mark.parametrize("mode", ["skip", "killnowait", None])
def test_cancel_answers_the_caller_at_once_wamp_spec_4_5(mode: str | None) -> None:
    net = Network()
    callee, caller = net.join(), net.join()
    _registered(net, callee, "com.slow")
    rid = caller.call("com.slow")
    net.pump()
    inv = callee.one(Invocation)
    caller.cancel(rid, mode)
    net.pump()
    error = caller.one(Error)
    assert (error.request_id, error.error) == (rid, "wamp.error.canceled")
    interrupts = callee.all(Interrupt)
    if mode == "skip":
        assert interrupts == []
    else:  # killnowait is also the default when CANCEL names no mode
        assert [i.options["mode"] for i in interrupts] == ["killnowait"]
    callee.send_wire([70, inv.request_id, {}, ["late"]])  # discarded
    net.pump()
    assert caller.all(Result) == [] and not callee.gone
    _no_pending(net)


@pytest.mark.parametrize("answer", ["yield", "error"])
def test_cancel_kill_waits_for_the_callee_wamp_spec_4_5(answer: str) -> None:
    net = Network()
    callee, caller = net.join(), net.join()
    _registered(net, callee, "com.slow")
    rid = caller.call("com.slow")
    net.pump()
    inv = callee.one(Invocation)
    caller.cancel(rid, "kill")
    net.pump()
    assert callee.one(Interrupt).options == {"mode": "kill"}
    assert caller.all(Error) == []  # not yet
    if answer == "yield":
        callee.yield_(inv.request_id, ["finished anyway"])
        net.pump()
        assert caller.one(Result).args == ["finished anyway"]
    else:
        callee.error(inv.request_id, "wamp.error.canceled")
        net.pump()
        assert caller.one(Error).error == "wamp.error.canceled"
    _no_pending(net)
    net.check()


def test_cancel_to_a_callee_without_canceling_is_skip_wamp_spec_4_5() -> None:
    net = Network()
    callee = net.connect()
    callee.join(roles=BASIC_ROLES)
    caller = net.join()
    _registered(net, callee, "com.slow")
    rid = caller.call("com.slow")
    net.pump()
    caller.cancel(rid, "kill")
    net.pump()
    assert caller.one(Error).error == "wamp.error.canceled"
    assert callee.all(Interrupt) == []


def test_cancel_after_the_result_is_ignored_wamp_spec_4_5() -> None:
    net = Network()
    callee, caller = net.join(), net.join()
    _registered(net, callee, "com.fast")
    rid = caller.call("com.fast")
    net.pump()
    callee.yield_(callee.one(Invocation).request_id, ["r"])
    net.pump()
    caller.cancel(rid, "killnowait")
    net.pump()
    assert caller.all(Error) == [] and not caller.gone
    assert callee.all(Interrupt) == []


# -- call timeout (wamp-spec §4.4) ----------------------------------------------------------------


def test_dealer_times_out_a_call_wamp_spec_4_4() -> None:
    net = Network()
    callee, caller = net.join(), net.join()
    _registered(net, callee, "com.slow")
    rid = caller.call("com.slow", timeout=1500)
    net.pump()
    inv = callee.one(Invocation)
    assert inv.details["timeout"] == 1500  # forwarded: the callee announced call_timeout
    assert net.router.next_deadline() == pytest.approx(1.5)
    net.advance(1.4)
    assert caller.all(Error) == []
    net.advance(0.2)
    error = caller.one(Error)
    assert (error.request_id, error.error) == (rid, "wamp.error.timeout")
    assert callee.one(Interrupt).options["mode"] == "killnowait"
    callee.send_wire([70, inv.request_id, {}, ["late"]])
    net.pump()
    assert caller.all(Result) == [] and not callee.gone
    _no_pending(net)
    assert net.router.next_deadline() is None


def test_timeout_without_canceling_callee_skips_wamp_spec_4_4() -> None:
    net = Network()
    callee = net.connect()
    callee.join(roles=BASIC_ROLES)
    caller = net.join()
    _registered(net, callee, "com.slow")
    caller.call("com.slow", timeout=100)
    net.pump()
    assert "timeout" not in callee.one(Invocation).details
    net.advance(0.2)
    assert caller.one(Error).error == "wamp.error.timeout"
    assert callee.all(Interrupt) == []


def test_forward_timeout_option_forwards_to_a_basic_callee_wamp_spec_4_4() -> None:
    net = Network()
    callee = net.connect()
    callee.join(roles=BASIC_ROLES)
    caller = net.join()
    _registered(net, callee, "com.slow", forward_timeout=True)
    caller.call("com.slow", timeout=100)
    net.pump()
    assert callee.one(Invocation).details["timeout"] == 100


def test_answered_call_cancels_its_timer_wamp_spec_4_4() -> None:
    net = Network()
    callee, caller = net.join(), net.join()
    _registered(net, callee, "com.p")
    caller.call("com.p", timeout=1000)
    net.pump()
    callee.yield_(callee.one(Invocation).request_id, ["ok"])
    net.pump()
    assert net.router.next_deadline() is None
    net.advance(5)
    assert caller.all(Error) == []


def test_progressive_results_restart_the_timer_wamp_spec_4_2() -> None:
    net = Network()
    callee, caller = net.join(), net.join()
    _registered(net, callee, "com.stream")
    caller.call("com.stream", timeout=1000, receive_progress=True)
    net.pump()
    inv = callee.one(Invocation)
    for _ in range(5):
        net.advance(0.8)
        callee.yield_(inv.request_id, ["tick"], progress=True)
        net.pump()
    assert caller.all(Error) == [] and len(caller.all(Result)) == 5
    net.advance(1.1)
    assert caller.one(Error).error == "wamp.error.timeout"


def test_many_short_calls_with_long_timeouts_keep_the_timer_heap_small() -> None:
    net = Network()
    callee, caller = net.join("message"), net.join("message")
    _registered(net, callee, "com.p")
    for _ in range(3000):
        caller.call("com.p", timeout=60_000)
        net.pump()
        callee.yield_(callee.take(Invocation)[0].request_id)
        net.pump()
    assert len(net.router._heap) <= 2048


# -- caller identification (wamp-spec §4.6) -------------------------------------------------------


def test_disclose_me_and_disclose_caller_wamp_spec_4_6() -> None:
    net = Network()
    callee, caller = net.join(), net.join()
    _registered(net, callee, "com.plain")
    _registered(net, callee, "com.tell", disclose_caller=True)
    caller.call("com.plain")
    caller.call("com.plain", disclose_me=True)
    caller.call("com.tell")
    net.pump()
    hidden, disclosed, forced = callee.all(Invocation)
    assert "caller" not in hidden.details
    for inv in (disclosed, forced):
        assert inv.details["caller"] == caller.session_id
        assert inv.details["caller_authrole"] == "anonymous"
        assert isinstance(inv.details["caller_authid"], str)


# -- pattern-based registration (wamp-spec §4.8) --------------------------------------------------


def test_exact_then_longest_prefix_then_wildcard_wamp_spec_4_8() -> None:
    net = Network()
    exact, short, long_, wild = net.join(), net.join(), net.join(), net.join()
    caller = net.join()
    _registered(net, exact, "com.app.obj.get")
    _registered(net, short, "com.app", match="prefix")
    _registered(net, long_, "com.app.obj", match="prefix")
    _registered(net, wild, "com..obj.get", match="wildcard")
    for procedure in ("com.app.obj.get", "com.app.obj.set", "com.app.x", "com.zzz.obj.get"):
        caller.call(procedure)
    net.pump()
    assert [i.details.get("procedure") for i in exact.all(Invocation)] == [None]
    assert [i.details["procedure"] for i in long_.all(Invocation)] == ["com.app.obj.set"]
    assert [i.details["procedure"] for i in short.all(Invocation)] == ["com.app.x"]
    assert [i.details["procedure"] for i in wild.all(Invocation)] == ["com.zzz.obj.get"]


def test_best_wildcard_prefers_longer_literal_runs_wamp_spec_4_8() -> None:
    net = Network()
    early, late = net.join(), net.join()
    caller = net.join()
    _registered(net, early, "a.b..d", match="wildcard")
    _registered(net, late, "a..c.d", match="wildcard")
    caller.call("a.b.c.d")
    net.pump()
    assert len(early.all(Invocation)) == 1 and late.all(Invocation) == []


# -- shared registration (wamp-spec §4.9) ---------------------------------------------------------


def test_roundrobin_cycles_through_callees_wamp_spec_4_9() -> None:
    net = Network()
    callees = [net.join() for _ in range(3)]
    caller = net.join()
    ids = {_registered(net, c, "com.p", invoke="roundrobin") for c in callees}
    assert len(ids) == 1  # one shared registration
    for _ in range(6):
        caller.call("com.p")
    net.pump()
    assert [len(c.all(Invocation)) for c in callees] == [2, 2, 2]


@pytest.mark.parametrize(("policy", "winner"), [("first", 0), ("last", 2)])
def test_first_and_last_policies_wamp_spec_4_9(policy: str, winner: int) -> None:
    net = Network()
    callees = [net.join() for _ in range(3)]
    caller = net.join()
    for c in callees:
        _registered(net, c, "com.p", invoke=policy)
    for _ in range(4):
        caller.call("com.p")
    net.pump()
    counts = [len(c.all(Invocation)) for c in callees]
    assert counts[winner] == 4 and sum(counts) == 4
    callees[winner].goodbye()  # hot standby: the next one takes over
    net.pump()
    caller.call("com.p")
    net.pump()
    assert sum(len(c.all(Invocation)) for c in callees) == 5


def test_random_policy_spreads_calls_wamp_spec_4_9() -> None:
    net = Network()
    callees = [net.join() for _ in range(3)]
    caller = net.join("message")
    for c in callees:
        _registered(net, c, "com.p", invoke="random")
    for _ in range(90):
        caller.call("com.p")
    net.pump()
    assert all(len(c.all(Invocation)) > 5 for c in callees)


def test_shared_registration_requires_the_same_policy_wamp_spec_4_9() -> None:
    net = Network()
    a, b, c = net.join(), net.join(), net.join()
    _registered(net, a, "com.p", invoke="roundrobin")
    b.register("com.p", invoke="random")
    c.register("com.p")  # single
    a.register("com.p", invoke="roundrobin")  # the same session twice
    net.pump()
    for peer in (b, c, a):
        assert peer.last(Error).error == "wamp.error.procedure_already_exists"


def test_unregistering_one_shared_callee_keeps_the_others_wamp_spec_4_9() -> None:
    net = Network()
    a, b, caller = net.join(), net.join(), net.join()
    reg = _registered(net, a, "com.p", invoke="roundrobin")
    _registered(net, b, "com.p", invoke="roundrobin")
    a.unregister(reg)
    net.pump()
    for _ in range(3):
        caller.call("com.p")
    net.pump()
    assert a.all(Invocation) == [] and len(b.all(Invocation)) == 3


# -- limits, sizes, encodings ---------------------------------------------------------------------


def test_max_pending_calls_per_session_limits() -> None:
    net = Network(RouterConfig(limits=Limits(max_pending_calls_per_session=3)))
    callee, caller = net.join(), net.join()
    _registered(net, callee, "com.slow")
    rids = [caller.call("com.slow") for _ in range(4)]
    net.pump()
    assert len(callee.all(Invocation)) == 3
    error = caller.one(Error)
    assert (error.request_id, error.error) == (rids[3], "wampcore.error.too_many_pending_calls")
    callee.yield_(callee.all(Invocation)[0].request_id)
    net.pump()
    caller.call("com.slow")
    net.pump()
    assert len(callee.all(Invocation)) == 4


def test_oversize_result_becomes_payload_size_exceeded_wamp_spec_6() -> None:
    net = Network()
    callee = net.join()
    caller = net.join("rawsocket", "json", max_message_size=1024)  # the caller accepts 1 KiB
    _registered(net, callee, "com.big")
    rid = caller.call("com.big")
    net.pump()
    callee.yield_(callee.one(Invocation).request_id, ["x" * 5000])
    net.pump()
    error = caller.one(Error)
    assert (error.request_id, error.error) == (rid, "wamp.error.payload_size_exceeded")
    assert not caller.gone
    _no_pending(net)
    net.check()


def test_oversize_invocation_fails_the_call_wamp_spec_6() -> None:
    net = Network()
    callee = net.join("rawsocket", "json", max_message_size=1024)
    caller = net.join()
    _registered(net, callee, "com.big")
    caller.call("com.big", ["x" * 5000])
    net.pump()
    assert caller.one(Error).error == "wamp.error.payload_size_exceeded"
    assert callee.all(Invocation) == []
    # No id was consumed: the next invocation is still number 1 (wamp-spec §2.1).
    caller.call("com.big", ["small"])
    net.pump()
    assert callee.one(Invocation).request_id == 1


def test_value_a_json_peer_cannot_carry_fails_the_call_not_the_router() -> None:
    net = Network()
    callee = net.join("rawsocket", "json")
    caller = net.join("rawsocket", "msgpack")
    _registered(net, callee, "com.p")
    caller.call("com.p", [math.nan])
    net.pump()
    assert caller.one(Error).error == "wamp.error.invalid_argument"
    caller.call("com.p", [1])
    net.pump()
    inv = callee.one(Invocation)
    assert inv.request_id == 1
    callee.send_wire([70, inv.request_id, {}, [1]])
    net.pump()
    net.check()


def test_result_a_caller_cannot_decode_becomes_invalid_argument() -> None:
    net = Network()
    callee = net.join("rawsocket", "cbor")
    caller = net.join("rawsocket", "msgpack")
    _registered(net, callee, "com.p")
    caller.call("com.p")
    net.pump()
    callee.yield_(callee.one(Invocation).request_id, [2**70])  # CBOR carries it, msgpack not
    net.pump()
    assert caller.one(Error).error == "wamp.error.invalid_argument"
    _no_pending(net)
