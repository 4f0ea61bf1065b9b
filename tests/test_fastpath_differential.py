"""Every fast path gives the full path's verdict (issue 11, "Bad input": the same events, the same
errors, the same bytes), over random and mutated input (wamp-spec.md §6 RawSocket framing, §3.6
protocol violations).

The fast paths and what they are compared with:

* RawSocket's shortcut for plain message frames (``RawSocketServer.fast_path``) against the full
  frame parser, on random and mutated frame streams in random chunkings;
* frames built once and shared between peers (``frame`` + ``send_framed``) against ``send``, for
  RawSocket and WebSocket servers;
* a whole router whose peers use both against one whose peers use neither
  (``fuzz/fuzz_router_fastpath.py``, which atheris also drives): the same bytes to every peer and
  the same router events, with three subscribers and a callee beside the fuzzed peer;
* the orjson JSON steps against the standard library's: ``tests/test_json_fast.py`` (and the same
  harness, for every JSON payload of its input).
"""

from __future__ import annotations

import importlib.util
import itertools
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from strategies import junk_wire, wire_lists

from wampcore.serializers import get_serializer
from wampcore.transports import Closed, RawSocketServer, WebSocketClient, WebSocketServer
from wampcore.transports.rawsocket import RawSocketClient

FUZZ = Path(__file__).resolve().parent.parent / "fuzz"


def _load(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, FUZZ / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


harness = _load("fuzz_router_fastpath")
SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
HANDSHAKE = bytes((0x7F, 0xF2, 0, 0))  # msgpack, 16 MiB


# -- RawSocket: the frame shortcut -------------------------------------------------------------


def _events(framing: RawSocketServer, chunks: list[bytes]) -> list[Any]:
    out: list[Any] = []
    for chunk in chunks:
        framing.receive_data(chunk)
        while (event := framing.next_event()) is not None:
            if isinstance(event, Closed):
                error = event.error
                out.append(("closed", event.reason, event.code, error and error.message))
            else:
                out.append(event)
        out.append(framing.data_to_send())
    return out


def _frame(payload: bytes, kind: int = 0) -> bytes:
    return bytes((kind,)) + len(payload).to_bytes(3, "big") + payload


_frame_streams = st.lists(
    st.one_of(
        st.binary(max_size=40).map(_frame),
        st.tuples(st.binary(max_size=8), st.sampled_from([1, 2, 3, 0x10, 0x08])).map(
            lambda p: _frame(*p)
        ),
        st.binary(max_size=12),
    ),
    max_size=8,
).map(b"".join)


@st.composite
def _streams(draw: st.DrawFn) -> tuple[bytes, list[int], int]:
    body = draw(st.one_of(_frame_streams, st.binary(max_size=120)))
    data = HANDSHAKE + body if draw(st.booleans()) else body
    if data and draw(st.booleans()):  # one damaged byte
        i = draw(st.integers(0, len(data) - 1))
        data = data[:i] + bytes([draw(st.integers(0, 255))]) + data[i + 1 :]
    cuts = sorted(draw(st.lists(st.integers(0, len(data)), max_size=4)))
    limit = draw(st.sampled_from([512, 1 << 24]))
    return data, cuts, limit


@SETTINGS
@given(_streams(), st.booleans())
def test_the_rawsocket_frame_shortcut_gives_the_parser_s_events_spec_6(
    stream: tuple[bytes, list[int], int], eof: bool
) -> None:
    data, cuts, limit = stream
    edges = [0, *cuts, len(data)]
    chunks = [data[a:b] for a, b in itertools.pairwise(edges)]
    if eof:
        chunks.append(b"")
    fast = _events(RawSocketServer(max_message_size=limit), chunks)
    plain = _events(harness.PlainRawSocketServer(max_message_size=limit), chunks)
    assert fast == plain


def test_the_shortcut_is_taken_and_plain_servers_skip_it() -> None:
    """Not a path that is never used: a plain frame after the handshake never reaches the
    parser on a fast server, always on a plain one."""
    calls: list[str] = []

    class Counting(RawSocketServer):
        __slots__ = ()

        def _parse_frame(self) -> bool:
            calls.append("parse")
            return super()._parse_frame()

    class PlainCounting(Counting):
        __slots__ = ()
        fast_path = False

    for cls, expected in ((Counting, []), (PlainCounting, ["parse"])):
        calls.clear()
        framing = cls()
        framing.receive_data(HANDSHAKE + _frame(b"\x91\x01"))
        framing.next_event()  # Ready
        assert framing.next_event() is not None
        assert calls == expected


# -- shared frames -----------------------------------------------------------------------------


def _open(server: Any, client: Any) -> Any:
    server.receive_data(client.data_to_send())
    while server.next_event() is not None:
        pass
    return server


@SETTINGS
@given(
    st.one_of(
        st.binary(max_size=300),
        st.sampled_from([125, 126, 65535, 65536]).map(lambda n: b"a" * n),
        st.text(max_size=50).map(lambda t: t.encode("utf-8", "surrogatepass")),
    ),
    st.sampled_from(["rawsocket", "wamp.2.msgpack", "wamp.2.json"]),
)
def test_a_shared_frame_is_what_send_puts_on_the_wire(payload: bytes, kind: str) -> None:
    if kind == "rawsocket":
        server: Any = _open(RawSocketServer(), RawSocketClient("msgpack"))
        other: Any = _open(RawSocketServer(), RawSocketClient("json"))
    else:
        server = _open(WebSocketServer(), WebSocketClient("h", subprotocols=[kind]))
        other = _open(WebSocketServer(), WebSocketClient("h", subprotocols=[kind]))
    server.data_to_send()
    other.data_to_send()
    try:
        server.send(payload)
    except Exception as exc:
        expected: Any = type(exc)
    else:
        expected = server.data_to_send()
    try:
        other.send_framed([server.frame(payload)])  # built by one framing, sent by another
    except Exception as exc:
        got: Any = type(exc)
    else:
        got = other.data_to_send()
    assert got == expected


# -- a whole router, with and without ------------------------------------------------------------

TOPICS = st.sampled_from(["com.t", "com.t.x", "com.x", "wamp.x", "com..bad"])
PROCEDURES = st.sampled_from(["com.p", "com.missing", "wamp.session.count", "com p"])
ARGS = st.lists(st.one_of(st.integers(), st.text(max_size=6), st.binary(max_size=6)), max_size=3)


@st.composite
def _session(draw: st.DrawFn) -> list[Any]:
    messages: list[Any] = []
    next_id = 1
    for _ in range(draw(st.integers(1, 10))):
        rid = next_id if draw(st.integers(0, 9)) else draw(st.integers(0, 5))
        kind = draw(st.integers(0, 8))
        if kind == 0:
            options = draw(st.sampled_from([{}, {"acknowledge": True}, {"exclude_me": False}]))
            msg: Any = [16, rid, options, draw(TOPICS), draw(ARGS)]
        elif kind == 1:
            options = draw(st.sampled_from([{}, {"receive_progress": True}, {"timeout": 5}]))
            msg = [48, rid, options, draw(PROCEDURES), draw(ARGS)]
        elif kind == 2:
            msg = [32, rid, draw(st.sampled_from([{}, {"match": "prefix"}])), draw(TOPICS)]
        elif kind == 3:
            msg = [64, rid, {}, draw(PROCEDURES)]
        elif kind == 4:
            msg = [70, draw(st.integers(1, 3)), {}, draw(ARGS)]
        elif kind == 5:
            msg = draw(junk_wire())
        elif kind == 6:
            msg = draw(wire_lists())
        elif kind == 7:
            msg = [6, {}, "wamp.close.close_realm"]
        else:
            msg = [1, "realm1", {"roles": {"publisher": {}, "caller": {}}}]
        if kind in (0, 1, 2, 3) and rid == next_id:
            next_id += 1
        messages.append(msg)
    return messages


@st.composite
def _router_inputs(draw: st.DrawFn) -> bytes:
    config = draw(st.integers(0, 7))
    serializer = get_serializer(harness.SERIALIZERS[config % 3])
    stream = b""
    for wire in draw(_session()):
        try:
            payload = serializer.encode(wire)
        except Exception:
            continue  # a junk value this serializer cannot carry
        stream += _frame(payload)
    if stream and draw(st.booleans()):
        i = draw(st.integers(0, len(stream) - 1))
        stream = stream[:i] + bytes([draw(st.integers(0, 255))]) + stream[i + 1 :]
    return bytes((config, draw(st.integers(0, 255)))) + stream


@SETTINGS
@given(_router_inputs())
def test_a_router_with_the_fast_paths_does_what_one_without_does_issue_11(data: bytes) -> None:
    harness.TestOneInput(data)


@SETTINGS
@given(st.binary(max_size=200))
def test_the_same_on_random_bytes(data: bytes) -> None:
    harness.TestOneInput(data)


ROUTER_SEEDS = sorted(p for p in (FUZZ / "corpus" / "router").iterdir() if "-rawsocket-" in p.name)


@pytest.mark.parametrize("path", ROUTER_SEEDS, ids=lambda p: p.name)
def test_the_same_on_the_recorded_router_sessions(path: Path) -> None:
    """The router seeds' RawSocket streams (their first octet means something else there, so
    each is replayed joined and from HELLO, with its own serializer)."""
    data = path.read_bytes()
    serializer = path.name.split("-", 1)[0]
    index = harness.SERIALIZERS.index(serializer)
    for joined in (0, harness.JOINED):
        harness.TestOneInput(bytes((index | joined, 0x80)) + data[1:])


def test_the_harness_catches_a_fast_path_that_differs(monkeypatch: pytest.MonkeyPatch) -> None:
    """A shortcut that loses one octet of a payload is found (so the checks above can fail)."""
    original = RawSocketServer._whole_message

    def lossy(self: RawSocketServer) -> bytes | None:
        payload = original(self)
        return payload[:-1] if payload else payload

    monkeypatch.setattr(RawSocketServer, "_whole_message", lossy)
    serializer = get_serializer("msgpack")
    stream = _frame(serializer.encode([16, 1, {"acknowledge": True}, "com.t", ["x"]]))
    with pytest.raises(AssertionError):
        harness.TestOneInput(bytes((1 | harness.JOINED, 0)) + stream)
