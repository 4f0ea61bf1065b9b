"""Payload passthru (wamp-spec.md §4.18) and event retention (§4.20) on the client side.

The ClientPeer runs against the real Router in memory (``clientnet``) over every framing and
serializer; the asyncio and blocking Sessions run against in-process servers on loopback.
"""

from __future__ import annotations

import asyncio
import queue
from collections.abc import Callable
from typing import Any

import pytest
from clientkit import ROUTER_ROLES, Scripted
from clientnet import COMBOS, NetClient, join_client
from netharness import Network
from wampcore.adapters import asyncio as wa
from wampcore.adapters import threads

from wampcore.client import (
    DEFAULT_ROLES,
    CallResult,
    InvocationReceived,
    PublicationReceived,
    PublishAcknowledged,
    RegistrationCreated,
    RequestError,
    SubscriptionCreated,
)
from wampcore.config import RouterConfig
from wampcore.errors import LocalProtocolError
from wampcore.router import Router

pytestmark = pytest.mark.timeout(60)

#: Every byte value, NUL first (what the JSON binary convention has to survive, §5.2).
BLOB = bytes(range(256))
BLOB2 = b"\x00\xff" * 40 + b"reply"
PPT = {
    "ppt_scheme": "wamp",
    "ppt_serializer": "cbor",
    "ppt_cipher": "xsalsa20poly1305",
    "ppt_keyid": "key-1",
}
PPT_REPLY = {"ppt_scheme": "x_my_ppt", "ppt_keyid": "key-2"}
#: Autobahn's spelling, whose raw payload replaces the Arguments list.
ENC = {"enc_algo": "cryptobox", "enc_serializer": "msgpack", "enc_key": "a2V5"}
ENC_REPLY = {"enc_algo": "mqtt", "enc_serializer": "json", "enc_key": "b3Ro"}


def _net() -> Network:
    return Network(RouterConfig(), seed=11)


def _register(net: Network, callee: NetClient, procedure: str) -> int:
    callee.peer.register(procedure)
    net.pump()
    return callee.one(RegistrationCreated).registration_id


def _subscribe(net: Network, client: NetClient, topic: str, **kw: Any) -> int:
    client.peer.subscribe(topic, **kw)
    net.pump()
    return client.one(SubscriptionCreated).subscription_id


# --- ClientPeer against the Router --------------------------------------------------------------


@pytest.mark.parametrize(("transport", "serializer", "batched"), COMBOS)
def test_ppt_options_round_trip_caller_callee_caller_spec_4_18(
    transport: str, serializer: str, batched: bool
) -> None:
    """§4.18: CALL.Options ppt_* reach INVOCATION.Details, YIELD.Options ppt_* reach
    RESULT.Details (progressive and final), ERROR.Details ppt_* reach the caller's ERROR; the
    single binary argument arrives byte for byte."""
    net = _net()
    callee = join_client(net, transport, serializer, batched=batched)
    caller = join_client(net, transport, serializer, batched=batched)
    reg_id = _register(net, callee, "com.secret")

    rid = caller.peer.call("com.secret", [BLOB], ppt=PPT, receive_progress=True)
    net.pump()
    inv = callee.one(InvocationReceived)
    assert (inv.registration_id, inv.ppt, inv.args, inv.kwargs) == (reg_id, PPT, [BLOB], None)
    assert type(inv.args[0]) is bytes and inv.payload is None
    assert {k: inv.details[k] for k in PPT} == PPT

    callee.peer.yield_result(inv.request_id, [b"partial"], progress=True, ppt=PPT_REPLY)
    callee.peer.yield_result(inv.request_id, [BLOB2], ppt=PPT_REPLY)
    net.pump()
    partial, final = caller.take()
    assert isinstance(partial, CallResult) and isinstance(final, CallResult)
    assert (partial.request_id, partial.progress, partial.ppt) == (rid, True, PPT_REPLY)
    assert (final.request_id, final.progress, final.args, final.ppt) == (
        rid,
        False,
        [BLOB2],
        PPT_REPLY,
    )

    rid = caller.peer.call("com.secret", [BLOB], ppt=PPT)
    net.pump()
    inv = callee.one(InvocationReceived)
    callee.peer.yield_error(inv.request_id, "com.err.decrypt", [BLOB2], ppt=PPT_REPLY)
    net.pump()
    err = caller.one(RequestError)
    assert (err.request_id, err.error, err.args, err.ppt) == (
        rid,
        "com.err.decrypt",
        [BLOB2],
        PPT_REPLY,
    )

    # Without ppt nothing is invented.
    caller.peer.call("com.secret", [1])
    net.pump()
    inv = callee.one(InvocationReceived)
    callee.peer.yield_result(inv.request_id, [2])
    net.pump()
    assert inv.ppt == {} and caller.one(CallResult).ppt == {}
    net.check()


@pytest.mark.parametrize(("transport", "serializer", "batched"), COMBOS)
def test_ppt_options_publisher_to_subscriber_spec_4_18(
    transport: str, serializer: str, batched: bool
) -> None:
    """§4.18: PUBLISH.Options ppt_* reach EVENT.Details with the binary argument unchanged."""
    net = _net()
    sub = join_client(net, transport, serializer, batched=batched)
    pub = join_client(net, transport, serializer, batched=batched)
    sub_id = _subscribe(net, sub, "com.secret.news")
    pub.peer.publish("com.secret.news", [BLOB], ppt=PPT, acknowledge=True)
    pub.peer.publish("com.secret.news", ["plain"])
    net.pump()
    ack = pub.one(PublishAcknowledged)
    first, second = sub.take()
    assert isinstance(first, PublicationReceived) and isinstance(second, PublicationReceived)
    assert (first.subscription_id, first.publication_id) == (sub_id, ack.publication_id)
    assert (first.args, first.ppt, first.payload) == ([BLOB], PPT, None)
    assert (second.args, second.ppt) == (["plain"], {})
    net.check()


@pytest.mark.parametrize(("transport", "serializer", "batched"), COMBOS)
def test_raw_payload_form_round_trips_byte_identical_spec_4_18(
    transport: str, serializer: str, batched: bool
) -> None:
    """§4.18 (Autobahn's form): with enc_algo, the raw payload bytes replace the Arguments list
    in CALL, INVOCATION, YIELD, RESULT, ERROR, PUBLISH and EVENT, and arrive identical."""
    net = _net()
    callee = join_client(net, transport, serializer, batched=batched)
    caller = join_client(net, transport, serializer, batched=batched)
    _register(net, callee, "com.raw")
    _subscribe(net, callee, "com.raw.news")

    rid = caller.peer.call("com.raw", payload=BLOB, ppt=ENC)
    net.pump()
    inv = callee.one(InvocationReceived)
    assert (inv.payload, inv.args, inv.kwargs, inv.ppt) == (BLOB, None, None, ENC)
    assert type(inv.payload) is bytes
    callee.peer.yield_result(inv.request_id, payload=BLOB2, ppt=ENC_REPLY)
    net.pump()
    res = caller.one(CallResult)
    assert (res.request_id, res.payload, res.args, res.kwargs, res.ppt) == (
        rid,
        BLOB2,
        None,
        None,
        ENC_REPLY,
    )
    assert type(res.payload) is bytes

    caller.peer.call("com.raw", payload=BLOB, ppt=ENC)
    net.pump()
    callee.peer.yield_error(
        callee.one(InvocationReceived).request_id, "com.err.raw", payload=BLOB2, ppt=ENC
    )
    net.pump()
    err = caller.one(RequestError)
    assert (err.error, err.payload, err.args, err.ppt) == ("com.err.raw", BLOB2, None, ENC)

    caller.peer.publish("com.raw.news", payload=BLOB, ppt=ENC)
    net.pump()
    ev = callee.one(PublicationReceived)
    assert (ev.payload, ev.args, ev.kwargs, ev.ppt) == (BLOB, None, None, ENC)
    assert type(ev.payload) is bytes
    net.check()


def test_raw_payload_takes_the_arguments_position_on_the_wire_spec_4_18() -> None:
    """§4.18: ``[16, id, {"enc_algo": ...}, topic, <bytes>]`` -- the payload is not in a list."""
    roles = {
        role: {"features": {**spec["features"], "payload_passthru_mode": True}}
        for role, spec in ROUTER_ROLES.items()
    }
    s = Scripted("rawsocket", "msgpack")
    s.join(roles=roles)
    rid = s.peer.publish("com.raw", payload=BLOB, ppt=ENC)
    cid = s.peer.call("com.raw", payload=BLOB, ppt=ENC)
    assert s.sent() == [[16, rid, ENC, "com.raw", BLOB], [48, cid, ENC, "com.raw", BLOB]]


def test_continue_call_sends_ppt_options_and_raw_payload_spec_4_3_4_18() -> None:
    """§4.3/§4.18: each chunk of a progressive call invocation is a CALL and may carry its own
    ppt options or raw payload."""
    roles = {
        role: {"features": {**spec["features"], "payload_passthru_mode": True}}
        for role, spec in ROUTER_ROLES.items()
    }
    s = Scripted("rawsocket", "cbor")
    s.join(roles=roles)
    rid = s.peer.call("com.s", [BLOB], ppt=PPT, progress=True)
    s.peer.continue_call(rid, payload=BLOB2, ppt=ENC)
    s.peer.continue_call(rid, [BLOB], ppt=PPT, progress=False)
    assert s.sent() == [
        [48, rid, {"progress": True, **PPT}, "com.s", [BLOB]],
        [48, rid, {"progress": True, **ENC}, "com.s", BLOB2],
        [48, rid, PPT, "com.s", [BLOB]],
    ]
    with pytest.raises(LocalProtocolError):
        s.peer.continue_call(rid, payload=BLOB)  # no enc_algo
    assert s.sent() == []


def test_progressive_call_continuation_in_raw_payload_form_spec_4_3_4_18() -> None:
    """§4.3/§4.18: a raw-payload continuation chunk reaches the callee with its enc_* options."""
    net = _net()
    callee = join_client(net)
    caller = join_client(net)
    _register(net, callee, "com.s")
    rid = caller.peer.call("com.s", payload=BLOB, ppt=ENC, progress=True)
    net.pump()
    assert callee.one(InvocationReceived).payload == BLOB
    caller.peer.continue_call(rid, payload=BLOB2, ppt=ENC, progress=False)
    net.pump()
    chunk = callee.one(InvocationReceived)
    assert (chunk.continuation, chunk.payload, chunk.ppt) == (True, BLOB2, ENC)


def test_progressive_call_continuation_keeps_its_ppt_options_spec_4_3_4_18() -> None:
    """§4.18: CALL.Options ppt_* are passed on in INVOCATION.Details, continuation chunks too."""
    net = _net()
    callee = join_client(net)
    caller = join_client(net)
    _register(net, callee, "com.s")
    rid = caller.peer.call("com.s", [BLOB], ppt=PPT, progress=True)
    net.pump()
    assert callee.one(InvocationReceived).ppt == PPT
    caller.peer.continue_call(rid, [BLOB2], ppt=PPT, progress=False)
    net.pump()
    chunk = callee.one(InvocationReceived)
    assert (chunk.continuation, chunk.args, chunk.ppt) == (True, [BLOB2], PPT)


BAD_PPT: list[Any] = [
    pytest.param({"ppt_serializer": "cbor"}, id="no-ppt_scheme"),
    pytest.param({"ppt_keyid": "k", "enc_algo": "cryptobox"}, id="no-ppt_scheme-mixed"),
    pytest.param({"scheme": "wamp"}, id="bad-prefix"),
    pytest.param({"ppt_scheme": "wamp", "ppt_shceme": "wamp"}, id="unknown-key"),
    pytest.param({"ppt_scheme": 1}, id="int-value"),
    pytest.param({"ppt_scheme": "wamp", "ppt_keyid": None}, id="none-value"),
    pytest.param({"enc_algo": "rot13"}, id="bad-enc_algo"),
    pytest.param([("ppt_scheme", "wamp")], id="not-a-dict"),
]


@pytest.fixture
def pair() -> tuple[Network, NetClient, NetClient, int]:
    """A callee with one open invocation (its id returned) and a caller, both joined."""
    net = _net()
    callee = join_client(net)
    caller = join_client(net)
    _register(net, callee, "com.open")
    caller.peer.call("com.open")
    net.pump()
    return net, callee, caller, callee.one(InvocationReceived).request_id


def _nothing_sent(client: NetClient, net: Network, verb: Callable[[], object]) -> None:
    """``verb`` raises LocalProtocolError, queues no bytes and uses no request id."""
    before = client.peer.publish("com.probe")
    net.pump()
    with pytest.raises(LocalProtocolError):
        verb()
    assert client.peer.data_to_send() == b""
    assert client.peer.publish("com.probe") == before + 1
    net.pump()


@pytest.mark.parametrize("ppt", BAD_PPT)
def test_invalid_ppt_options_raise_and_send_nothing_spec_4_18(
    pair: tuple[Network, NetClient, NetClient, int], ppt: Any
) -> None:
    """§4.18: ppt_scheme is required; only ppt_*/enc_* keys with string values (of the values
    the spec and Autobahn define) pass. A refused verb sends nothing (the callee sees no
    invocation, the caller no result)."""
    net, callee, caller, inv_id = pair
    _nothing_sent(caller, net, lambda: caller.peer.call("com.open", [BLOB], ppt=ppt))
    _nothing_sent(caller, net, lambda: caller.peer.publish("com.t", [BLOB], ppt=ppt))
    _nothing_sent(callee, net, lambda: callee.peer.yield_result(inv_id, [BLOB], ppt=ppt))
    _nothing_sent(callee, net, lambda: callee.peer.yield_error(inv_id, "com.e", ppt=ppt))
    assert not [e for e in callee.take() if isinstance(e, InvocationReceived)]
    assert not [e for e in caller.take() if isinstance(e, CallResult | RequestError)]
    # The invocation is still open: a valid answer goes through.
    callee.peer.yield_result(inv_id, [1], ppt={"ppt_scheme": "wamp"})
    net.pump()
    assert caller.one(CallResult).ppt == {"ppt_scheme": "wamp"}


@pytest.mark.parametrize(
    "kw",
    [
        pytest.param({"payload": BLOB}, id="payload-without-enc_algo"),
        pytest.param({"payload": BLOB, "ppt": PPT}, id="payload-with-ppt-only"),
        pytest.param({"payload": BLOB, "ppt": ENC, "args": [1]}, id="payload-and-args"),
        pytest.param({"payload": 5, "ppt": ENC}, id="payload-not-bytes"),
        pytest.param(
            {"ppt": {"ppt_scheme": "a"}, "options": {"ppt_scheme": "b"}}, id="conflicting"
        ),
        pytest.param({"options": {"ppt_cipher": "aes256gcm"}}, id="options-without-scheme"),
    ],
)
def test_invalid_raw_payload_raises_and_sends_nothing_spec_4_18(
    pair: tuple[Network, NetClient, NetClient, int], kw: dict[str, Any]
) -> None:
    """§4.18: a raw payload needs enc_algo and replaces the args (it cannot come with them)."""
    net, _, caller, _ = pair
    _nothing_sent(caller, net, lambda: caller.peer.call("com.open", **kw))
    _nothing_sent(caller, net, lambda: caller.peer.publish("com.t", **kw))


def test_ppt_needs_it_announced_by_us_and_by_the_router_spec_4_18() -> None:
    """§4.18: using PPT without having announced it, or towards a router that did not announce
    it, is a protocol error: the peer refuses. Every client role announces it by default."""
    for role in ("caller", "callee", "publisher", "subscriber"):
        assert DEFAULT_ROLES[role]["features"]["payload_passthru_mode"] is True
    s = Scripted("rawsocket", "json")
    s.join()  # ROUTER_ROLES: no payload_passthru_mode
    with pytest.raises(LocalProtocolError, match="payload_passthru_mode"):
        s.peer.call("com.x", [BLOB], ppt=PPT)
    with pytest.raises(LocalProtocolError, match="payload_passthru_mode"):
        s.peer.publish("com.x", payload=BLOB, ppt=ENC)
    assert s.sent() == []
    # Autobahn's name for the feature is accepted from the router.
    s = Scripted("rawsocket", "json")
    s.join(roles={"dealer": {"features": {"payload_transparency": True}}})
    rid = s.peer.call("com.x", [BLOB], ppt=PPT)
    assert s.sent() == [[48, rid, PPT, "com.x", [BLOB]]]

    net = _net()
    shy = join_client(net, roles={"caller": {"features": {}}})
    with pytest.raises(LocalProtocolError, match="payload_passthru_mode"):
        shy.peer.call("com.x", [BLOB], ppt=PPT)
    assert shy.peer.data_to_send() == b""


@pytest.mark.parametrize(("transport", "serializer", "batched"), COMBOS[:9])
def test_retain_and_get_retained_through_the_client_peer_spec_4_20(
    transport: str, serializer: str, batched: bool
) -> None:
    """§4.20: PUBLISH retain=true, then SUBSCRIBE get_retained=true delivers that event with
    EVENT.Details.retained = true (its ppt options and raw payload kept); a subscriber that did
    not ask gets nothing, and live events are not marked retained."""
    net = _net()
    pub = join_client(net, transport, serializer, batched=batched)
    pub.peer.publish("com.state", ["old"], retain=True)
    pub.peer.publish("com.state", ["v1"], {"n": 1}, retain=True, acknowledge=True)
    pub.peer.publish("com.raw.state", payload=BLOB, ppt=ENC, retain=True)
    net.pump()
    ack = pub.one(PublishAcknowledged)

    plain = join_client(net, transport, serializer, batched=batched)
    _subscribe(net, plain, "com.state")
    assert plain.take() == []

    sub = join_client(net, transport, serializer, batched=batched)
    rid = sub.peer.subscribe("com.state", get_retained=True)
    raw_rid = sub.peer.subscribe("com.raw.state", get_retained=True)
    net.pump()
    created, retained, raw_created, raw = sub.take()
    assert isinstance(created, SubscriptionCreated) and created.request_id == rid
    assert isinstance(retained, PublicationReceived) and retained.retained is True
    assert (retained.subscription_id, retained.publication_id) == (
        created.subscription_id,
        ack.publication_id,
    )
    assert (retained.args, retained.kwargs) == (["v1"], {"n": 1})
    assert isinstance(raw_created, SubscriptionCreated) and raw_created.request_id == raw_rid
    assert isinstance(raw, PublicationReceived) and raw.retained is True
    assert (raw.payload, raw.ppt) == (BLOB, ENC)

    pub.peer.publish("com.state", ["v2"])
    net.pump()
    live = sub.one(PublicationReceived)
    assert (live.args, live.retained) == (["v2"], False)
    assert plain.one(PublicationReceived).retained is False
    net.check()


# --- the asyncio Session ----------------------------------------------------------------------


def _run(test: Callable[[], Any]) -> None:
    async def bounded() -> None:
        async with asyncio.timeout(30):
            await test()

    asyncio.run(bounded())


@pytest.mark.parametrize("serializer", ["json", "msgpack", "cbor"])
def test_asyncio_session_retain_get_retained_and_ppt_spec_4_18_4_20(serializer: str) -> None:
    """§4.20 through ``Session.publish(retain=True)`` / ``subscribe(get_retained=True)``: the
    retained event reaches the handler that asked (details.retained), not the one that did
    not; §4.18: ppt options reach handler details, a raw payload is the handler's one argument,
    and a callee's ``CallResult(ppt=...)`` comes back to the caller as a CallResult with them."""

    async def test() -> None:
        server = await wa.serve(Router(), ["rs://127.0.0.1:0"])
        try:
            url = server.urls[0]
            async with (
                wa.connect(url, "realm1", serializers=[serializer]) as a,
                wa.connect(url, "realm1", serializers=[serializer]) as b,
            ):
                await a.publish("com.state", "v1", n=1, retain=True, acknowledge=True)
                got: asyncio.Queue[tuple[str, tuple[Any, ...], dict[str, Any]]]
                got = asyncio.Queue()

                def plain(*args: Any, **kwargs: Any) -> None:
                    got.put_nowait(("plain", args, kwargs))

                def asked(*args: Any, details: Any, **kwargs: Any) -> None:
                    got.put_nowait(("asked", args, {**kwargs, "details": details}))

                await b.subscribe("com.state", plain)
                await b.subscribe("com.state", asked, get_retained=True)
                who, args, kwargs = await got.get()
                assert (who, args, kwargs["n"]) == ("asked", ("v1",), 1)
                assert kwargs["details"].retained is True
                await a.publish("com.state", "v2", acknowledge=True)
                live = sorted([await got.get(), await got.get()], key=lambda g: g[0])
                assert [(w, x) for w, x, _ in live] == [("asked", ("v2",)), ("plain", ("v2",))]
                assert live[0][2]["details"].retained is False
                assert got.empty()

                # ppt options and a raw payload reach a subscriber's details.
                events: asyncio.Queue[tuple[tuple[Any, ...], Any]] = asyncio.Queue()
                await b.subscribe("com.secret", lambda *x, details: events.put_nowait((x, details)))
                await a.publish("com.secret", BLOB, ppt=PPT, acknowledge=True)
                await a.publish("com.secret", BLOB, ppt=ENC, acknowledge=True)
                (args, d1), (raw_args, d2) = await events.get(), await events.get()
                assert (args, d1.ppt, d1.args, d1.payload) == ((BLOB,), PPT, [BLOB], None)
                assert (raw_args, d2.ppt, d2.args, d2.payload) == ((BLOB,), ENC, None, BLOB)

                # A callee sees the CALL's ppt; the caller sees the YIELD's.
                seen: list[Any] = []

                def echo(blob: bytes, details: Any) -> wa.CallResult:
                    seen.append(details)
                    reply = ENC_REPLY if details.payload is not None else PPT_REPLY
                    return wa.CallResult([blob[::-1]], ppt=reply)

                await b.register("com.secret.echo", echo)
                res = await a.call("com.secret.echo", BLOB, ppt=PPT)
                assert res == wa.CallResult([BLOB[::-1]], {}, PPT_REPLY)
                assert (seen[-1].ppt, seen[-1].args, seen[-1].payload) == (PPT, [BLOB], None)
                res = await a.call("com.secret.echo", BLOB, ppt=ENC)
                assert res == wa.CallResult([BLOB[::-1]], {}, ENC_REPLY)
                assert (seen[-1].ppt, seen[-1].args, seen[-1].payload) == (ENC, None, BLOB)

                # Progressive results carry theirs too.
                async def stream(details: Any) -> Any:
                    yield wa.CallResult([b"1"], ppt=PPT_REPLY)
                    yield wa.CallResult([b"2"], ppt=PPT_REPLY)

                await b.register("com.secret.stream", stream)
                chunks = [c async for c in a.call_progressive("com.secret.stream", ppt=PPT)]
                assert chunks == [
                    wa.CallResult([b"1"], {}, PPT_REPLY),
                    wa.CallResult([b"2"], {}, PPT_REPLY),
                ]
                with pytest.raises(LocalProtocolError):
                    await a.call("com.secret.echo", BLOB, ppt={"ppt_cipher": "aes256gcm"})
                assert await a.call("com.secret.echo", b"ok", ppt=PPT) == wa.CallResult(
                    [b"ko"], {}, PPT_REPLY
                )
        finally:
            await server.close()

    _run(test)


# --- the blocking Session ---------------------------------------------------------------------


def test_threads_session_retain_get_retained_and_ppt_spec_4_18_4_20() -> None:
    """§4.20 and §4.18 through the blocking API: the retained event reaches a ``get_retained``
    handler with details.retained; ppt options reach the handler's details and the caller."""
    with threads.ThreadedRouterServer(Router(), ["rs://127.0.0.1:0"]) as server:
        got: queue.Queue[tuple[tuple[Any, ...], Any]] = queue.Queue()
        with (
            threads.connect(server.urls[0], "realm1") as a,
            threads.connect(server.urls[0], "realm1", serializers=["cbor"]) as b,
        ):
            a.publish("com.state", "v1", retain=True, acknowledge=True)
            b.subscribe("com.state", lambda *x, details: got.put((x, details)), get_retained=True)
            args, details = got.get(timeout=10)
            assert (args, details.retained) == (("v1",), True)
            a.publish("com.state", BLOB, ppt=PPT, acknowledge=True)
            args, details = got.get(timeout=10)
            assert (args, details.retained, details.ppt) == ((BLOB,), False, PPT)

            def echo(blob: bytes, details: Any) -> threads.CallResult:
                return threads.CallResult([blob, details.ppt["ppt_keyid"]], ppt=PPT_REPLY)

            b.register("com.secret.echo", echo)
            assert a.call("com.secret.echo", BLOB, ppt=PPT) == threads.CallResult(
                [BLOB, "key-1"], {}, PPT_REPLY
            )
