"""Serializers (wamp-spec §5): lookup, round trips, the JSON binary convention, batching, and
hostile input -- which must only ever raise RemoteProtocolError."""

from __future__ import annotations

import math
from typing import Any

import cbor2
import msgpack
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from strategies import messages, payload_values

from wampcore import LocalProtocolError, RemoteProtocolError, get_serializer
from wampcore import messages as m
from wampcore.errors import PROTOCOL_VIOLATION
from wampcore.serializers import (
    SUBPROTOCOLS,
    CBORSerializer,
    JSONSerializer,
    MsgPackSerializer,
    Serializer,
    serializer_for_rawsocket_id,
    serializer_for_subprotocol,
)

NAMES = ("json", "msgpack", "cbor")
VARIANTS = [(name, batched) for name in NAMES for batched in (False, True)]
VARIANT_IDS = [f"{n}{'-batched' if b else ''}" for n, b in VARIANTS]
PROPERTY = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def ser(name: str, batched: bool = False, **kw: Any) -> Serializer:
    return get_serializer(name, batched=batched, **kw)


def violation(serializer: Serializer, data: bytes, needle: str = "") -> RemoteProtocolError:
    with pytest.raises(RemoteProtocolError) as info:
        serializer.decode(data)
    assert info.value.reason == PROTOCOL_VIOLATION
    assert needle in info.value.message, info.value.message
    return info.value


# --- lookup (wamp-spec §5.1, §6) -------------------------------------------------------------


def test_lookup_by_name_rawsocket_id_and_subprotocol() -> None:
    """wamp-spec §5.1: json/msgpack/cbor have RawSocket ids 1/2/3 and subprotocols wamp.2.*."""
    for name, cls, rs_id in (
        ("json", JSONSerializer, 1),
        ("msgpack", MsgPackSerializer, 2),
        ("cbor", CBORSerializer, 3),
    ):
        s = ser(name)
        assert type(s) is cls and s.name == name and s.rawsocket_id == rs_id
        assert s.subprotocol == f"wamp.2.{name}"
        assert ser(name, batched=True).subprotocol == f"wamp.2.{name}.batched"
        by_id = serializer_for_rawsocket_id(rs_id)
        assert type(by_id) is cls and not by_id.batched
        for batched in (False, True):
            sub = f"wamp.2.{name}" + (".batched" if batched else "")
            found = serializer_for_subprotocol(sub)
            assert type(found) is cls and found.batched is batched
    assert ser("json").binary is False
    assert ser("msgpack").binary is True and ser("cbor").binary is True


def test_lookup_unknown() -> None:
    """wamp-spec §5.1/§6: ubjson (4), flatbuffers (5) and unknown names are not offered."""
    with pytest.raises(LocalProtocolError):
        get_serializer("ubjson")
    for rs_id in (0, 4, 5, 15):
        assert serializer_for_rawsocket_id(rs_id) is None
    for sub in ("wamp.2.ubjson", "wamp.2.flatbuffers", "wamp", "wamp.2.json.x", "json", ""):
        assert serializer_for_subprotocol(sub) is None
    assert set(SUBPROTOCOLS) == {f"wamp.2.{n}{b}" for n in NAMES for b in ("", ".batched")}


def test_max_size_is_passed_through() -> None:
    assert serializer_for_rawsocket_id(2, max_size=10).max_size == 10  # type: ignore[union-attr]
    assert serializer_for_subprotocol("wamp.2.cbor", max_size=None).max_size is None  # type: ignore[union-attr]


# --- round trips -----------------------------------------------------------------------------


@pytest.mark.parametrize(("name", "batched"), VARIANTS, ids=VARIANT_IDS)
@PROPERTY
@given(msg=messages())
def test_every_message_round_trips(name: str, batched: bool, msg: m.Message) -> None:
    """wamp-spec §5.1/§5.3: from_wire(decode(encode(to_wire(msg)))) == msg, for every message,
    serializer and batched variant; encoding is deterministic."""
    s = ser(name, batched)
    data = s.encode(msg.to_wire())
    (wire,) = s.decode(data)
    assert m.from_wire(wire) == msg
    assert s.encode(wire) == data


@pytest.mark.parametrize("name", NAMES)
@PROPERTY
@given(batch=st.lists(messages(), min_size=1, max_size=4))
def test_batches_round_trip(name: str, batch: list[m.Message]) -> None:
    """wamp-spec §5.3: a batched payload carries several messages, in order."""
    s = ser(name, batched=True)
    data = s.encode_batch([msg.to_wire() for msg in batch])
    assert [m.from_wire(w) for w in s.decode(data)] == batch
    assert data == b"".join(s.encode(msg.to_wire()) for msg in batch)


@pytest.mark.parametrize("name", NAMES)
@PROPERTY
@given(value=payload_values())
def test_payload_values_round_trip_with_types(name: str, value: Any) -> None:
    """wamp-spec §5.1/§5.2: application values keep their types (str stays str, bytes stay
    bytes, bool stays bool) through every serializer."""
    s = ser(name)
    (wire,) = s.decode(s.encode([16, 1, {}, "a.b", [value]]))
    assert _typed(wire[4][0]) == _typed(value)


def _typed(value: Any) -> Any:
    if type(value) is list:
        return ["list", [_typed(v) for v in value]]
    if type(value) is dict:
        return ["dict", sorted((k, _typed(v)) for k, v in value.items())]
    if type(value) is float and value == 0.0:
        return [type(value).__name__, math.copysign(1.0, value)]
    return [type(value).__name__, value]


# --- JSON specifics (wamp-spec §5.1, §5.2) ------------------------------------------------------


def test_json_binary_convention_both_directions() -> None:
    """wamp-spec §5.2: bytes travel as a string of NUL + base64 (standard alphabet, padded), at
    any depth, and come back as bytes; dict keys stay plain strings."""
    raw = bytes.fromhex("10e3ff91534c5c526f5fc06d4fe37cdb")
    s = ser("json")
    data = s.encode([16, 1, {}, "a.b", [raw, {"k": [raw]}], {"\x00key": raw}])
    assert b'"\\u0000EOP/kVNMXFJvX8BtT+N82w=="' in data
    (wire,) = s.decode(data)
    assert wire[4] == [raw, {"k": [raw]}]
    assert wire[5] == {"\x00key": raw}
    assert s.decode(b'[1,"\\u0000"]') == [[1, b""]]


def test_json_binary_with_bad_base64_is_a_violation() -> None:
    """wamp-spec §5.2: a NUL-prefixed string must be base64; anything else is undecodable."""
    violation(ser("json"), b'[16,1,{},"a.b",["\\u0000not base64!"]]', "base64")


def test_json_is_compact_utf8() -> None:
    """wamp-spec §5.1: compact JSON, UTF-8 (no ASCII escaping needed), text frames."""
    data = ser("json").encode([16, 1, {}, "a.b", ["ä€😀"]])
    assert data == '[16,1,{},"a.b",["ä€😀"]]'.encode()


def test_json_accepts_spaced_and_escaped_input() -> None:
    """wamp-spec §7.2: the vectors' spaced form and ASCII-escaped text are valid input."""
    (wire,) = ser("json").decode(b'[16, 1, {}, "a.b", ["\\u00e4\\ud83d\\ude00"]]')
    assert wire == [16, 1, {}, "a.b", ["ä😀"]]


@pytest.mark.parametrize(
    "data",
    [b'[1,"\\ud800"]', b'[1,{"\\uDC00":1}]', b'[1,["x\\udbff"]]', b'[1,"\\ud83d\\u0041"]'],
)
def test_json_lone_surrogates_are_violations(data: bytes) -> None:
    """RFC 8259 §8.2 via wamp-spec §5.1: a lone UTF-16 surrogate escape is not a Unicode
    string; accepting it would only fail later, when the text is re-encoded for someone else."""
    violation(ser("json"), data, "surrogate")


@pytest.mark.parametrize("data", [b"[NaN]", b"[1,Infinity]", b"[-Infinity]"])
def test_json_rejects_non_standard_constants(data: bytes) -> None:
    """RFC 8259 (wamp-spec §5.1): NaN and Infinity are not JSON."""
    violation(ser("json"), data, "constant")


@pytest.mark.parametrize("data", [b'[16,1,{},"a.b",[1e400]]', b"[1,-2E+999]"])
def test_json_numbers_out_of_range_are_violations(data: bytes) -> None:
    """RFC 8259 §6 (wamp-spec §5.1): a number past the double range would decode to infinity,
    which JSON cannot carry onward -- refused on arrival, not when it is forwarded."""
    violation(ser("json"), data, "out of range")


def test_json_cannot_encode_nan() -> None:
    with pytest.raises(LocalProtocolError):
        ser("json").encode([16, 1, {}, "a.b", [math.nan]])


@pytest.mark.parametrize("data", [b"\xff", b'[1,"\xc3"]', b"[1,\xed\xa0\x80]"])
def test_json_invalid_utf8(data: bytes) -> None:
    """wamp-spec §5.1: JSON is UTF-8; invalid UTF-8 is a protocol violation."""
    violation(ser("json"), data, "UTF-8")


# --- MessagePack / CBOR specifics -------------------------------------------------------------


def test_msgpack_uses_str_and_bin() -> None:
    """wamp-spec §5.1: MessagePack v5 -- str as str, bytes as bin."""
    data = ser("msgpack").encode([16, 1, {}, "a.b", ["s", b"b"]])
    assert data == msgpack.packb([16, 1, {}, "a.b", ["s", b"b"]], use_bin_type=True)
    assert b"\xa1s" in data and b"\xc4\x01b" in data


def test_msgpack_ext_types_are_violations() -> None:
    """wamp-spec §5.1: WAMP defines no MessagePack extension types."""
    data = msgpack.packb([16, 1, {}, "a.b", [msgpack.ExtType(5, b"x")]])
    violation(ser("msgpack"), data, "extension")


def test_cbor_byte_strings() -> None:
    """wamp-spec §5.1: CBOR bytes are major type 2, text is major type 3."""
    data = ser("cbor").encode([16, 1, {}, "a.b", ["s", b"b"]])
    assert data == cbor2.dumps([16, 1, {}, "a.b", ["s", b"b"]])
    assert ser("cbor").decode(data) == [[16, 1, {}, "a.b", ["s", b"b"]]]


def test_cbor_shared_references_are_violations() -> None:
    """wamp-spec §5.1: WAMP defines no CBOR tags; value-sharing tags (28/29) could build cyclic
    structures that no other serializer can carry, so they are refused."""
    violation(ser("cbor"), bytes.fromhex("82d81c8101d81d00"), "tag 28")  # [x := [1], x]
    violation(ser("cbor"), bytes.fromhex("81d81d00"), "tag 29")


@pytest.mark.parametrize("batched", [False, True])
def test_cbor_uint8_typed_array_is_binary(batched: bool) -> None:
    """wamp-spec §5.1: binary is a CBOR byte string. node-cbor (so autobahn-js) sends every
    Uint8Array as RFC 8746 tag 64 around one: read as bytes, so a router can forward it to JSON
    and MessagePack peers (found by tests/test_interop_autobahn_js.py)."""
    wire = [70, 1, {}, [cbor2.CBORTag(64, b"\x00\x01\xff")], {"b": cbor2.CBORTag(64, b"")}]
    data = cbor2.dumps(wire)
    assert data.count(b"\xd8\x40") == 2  # the tag is really on the wire
    s = ser("cbor", batched)
    decoded = s.decode(len(data).to_bytes(4, "big") + data if batched else data)
    assert decoded == [[70, 1, {}, [b"\x00\x01\xff"], {"b": b""}]]
    for name in NAMES:
        assert ser(name).decode(ser(name).encode(decoded[0])) == decoded


@pytest.mark.parametrize("content", ["text", 5, [1, 2], None], ids=repr)
def test_cbor_uint8_typed_array_must_hold_bytes(content: Any) -> None:
    """Tag 64 around anything but a byte string is not a uint8 array: refused."""
    violation(ser("cbor"), cbor2.dumps([70, 1, {}, [cbor2.CBORTag(64, content)]]), "tag 64")


@pytest.mark.parametrize("batched", [False, True])
def test_cbor_undefined_is_null(batched: bool) -> None:
    """wamp-spec §5.1: WAMP's values are JSON's, which has no undefined. A JavaScript callee
    that returns nothing yields [undefined] through node-cbor; it is read as None at any depth,
    so that it reaches JSON and MessagePack callers as null."""
    u = cbor2.undefined
    wire = [70, 1, {}, [u, 247, b"\xf7", "\xf7"], {"a": u, "n": [[u, {"x": u}]]}]
    data = cbor2.dumps(wire)
    s = ser("cbor", batched)
    decoded = s.decode(len(data).to_bytes(4, "big") + data if batched else data)
    assert decoded == [
        [70, 1, {}, [None, 247, b"\xf7", "\xf7"], {"a": None, "n": [[None, {"x": None}]]}]
    ]
    for name in NAMES:
        assert ser(name).decode(ser(name).encode(decoded[0])) == decoded


@pytest.mark.parametrize("name", ["msgpack", "cbor", "json"])
def test_trailing_data_is_a_violation(name: str) -> None:
    """wamp-spec §5.4: one WAMP message per transport message -- bytes after it are garbage."""
    s = ser(name)
    violation(s, s.encode([17, 1, 2]) + (b" x" if name == "json" else b"\x01"))


@pytest.mark.parametrize(
    "suffix",
    [b"\x01", b"\xff", b"\xf7", b"\xf6", b"\x1b" + bytes(8), b"\x83\x11\x01\x02", b"\x9f"],
    ids=lambda b: b.hex(),
)
def test_cbor_any_trailing_item_or_byte_is_refused(suffix: bytes) -> None:
    """wamp-spec §5.4: whatever follows the message -- a stray break, a simple value, a whole
    second message, a 64-bit integer like the sentinel's -- the payload is refused, plain and
    in a batch frame."""
    s = ser("cbor")
    good = s.encode([17, 1, 2])
    violation(s, good + suffix)
    framed = good + suffix
    violation(ser("cbor", True), len(framed).to_bytes(4, "big") + framed)


def test_cbor_truncated_items_are_refused() -> None:
    """A payload cut anywhere inside the item is undecodable (the sentinel cannot complete it)."""
    s = ser("cbor")
    good = s.encode([16, 1, {"acknowledge": True}, "a.b", ["x" * 30, b"\x00" * 30], {"k": 1.5}])
    for cut in range(1, len(good)):
        violation(s, good[:cut])


# --- batching (wamp-spec §5.3) ------------------------------------------------------------------


def test_batched_framing_bytes() -> None:
    """wamp-spec §5.3: JSON messages are followed by 0x1E; MessagePack (and, as Autobahn does,
    CBOR) messages are preceded by a 4-byte big-endian length."""
    wire = [17, 1, 2]
    assert ser("json", True).encode(wire) == b"[17,1,2]\x1e"
    body = msgpack.packb(wire)
    assert ser("msgpack", True).encode(wire) == len(body).to_bytes(4, "big") + body
    body = cbor2.dumps(wire)
    assert ser("cbor", True).encode(wire) == len(body).to_bytes(4, "big") + body


@pytest.mark.parametrize("name", NAMES)
def test_batch_with_no_message_is_a_violation(name: str) -> None:
    """wamp-spec §5.3: a WebSocket message with 0 WAMP messages is illegal."""
    violation(ser(name, True), b"")
    with pytest.raises(LocalProtocolError):
        ser(name, True).encode_batch([])


def test_batch_encoding_needs_a_batched_serializer() -> None:
    with pytest.raises(LocalProtocolError):
        ser("json").encode_batch([[17, 1, 2]])


@pytest.mark.parametrize("name", ["msgpack", "cbor"])
def test_batch_length_prefix_errors(name: str) -> None:
    """wamp-spec §5.3: a truncated prefix, or a length past the end, is a violation."""
    s = ser(name, True)
    good = s.encode([17, 1, 2])
    violation(s, good + b"\x00\x00", "truncated")
    violation(s, good[:-1], "announces")
    violation(s, b"\x00\x00\x00\x00", "")


def test_json_batch_must_end_with_separator() -> None:
    """wamp-spec §5.3: each JSON message is *followed* by 0x1E."""
    violation(ser("json", True), b"[17,1,2]\x1e[17,1,3]", "0x1E")
    assert ser("json", True).decode(b"[17,1,2]\x1e[17,1,3]\x1e") == [[17, 1, 2], [17, 1, 3]]


# --- hostile input: only RemoteProtocolError ----------------------------------------------------


@pytest.mark.parametrize(("name", "batched"), VARIANTS, ids=VARIANT_IDS)
@settings(max_examples=200, deadline=None)
@given(data=st.binary(max_size=200))
def test_random_bytes_give_only_remote_protocol_errors(
    name: str, batched: bool, data: bytes
) -> None:
    """wamp-spec §3.6: any decoding error is a protocol violation -- and nothing else escapes
    a decoder, whatever the bytes (here also fed through from_wire)."""
    s = ser(name, batched)
    try:
        wires = s.decode(data)
    except RemoteProtocolError as exc:
        assert exc.reason == PROTOCOL_VIOLATION
        return
    assert wires and all(type(w) is list for w in wires)
    for wire in wires:
        try:
            m.from_wire(wire)
        except RemoteProtocolError:
            pass


@pytest.mark.parametrize(("name", "batched"), VARIANTS, ids=VARIANT_IDS)
@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(msg=messages(), data=st.data())
def test_mutated_valid_payloads_give_only_remote_protocol_errors(
    name: str, batched: bool, msg: m.Message, data: st.DataObject
) -> None:
    """wamp-spec §3.6: byte flips, truncation and splices of *valid* payloads (which reach much
    deeper into the parsers than random bytes) still give only RemoteProtocolError."""
    s = ser(name, batched)
    good = bytearray(s.encode(msg.to_wire()))
    for _ in range(data.draw(st.integers(1, 4))):
        op = data.draw(st.sampled_from(["flip", "cut", "insert"]))
        at = data.draw(st.integers(0, max(len(good) - 1, 0)))
        if op == "flip" and good:
            good[at] ^= data.draw(st.integers(1, 255))
        elif op == "cut":
            del good[at:]
        else:
            good[at:at] = data.draw(st.binary(min_size=1, max_size=4))
    try:
        for wire in s.decode(bytes(good)):
            m.from_wire(wire)
    except RemoteProtocolError:
        pass


BOMBS = {
    "json": [b"[" * 100_000, b"[1," + b"[" * 50_000 + b"]" * 50_000 + b"]"],
    "msgpack": [b"\x91" * 100_000, b"\x92\x01" + b"\x91" * 100_000 + b"\x01"],
    "cbor": [b"\x81" * 100_000, b"\x9f" * 100_000, b"\xa1\x61a" * 50_000 + b"\x01"],
}


@pytest.mark.parametrize(
    ("name", "data"), [(n, d) for n, ds in BOMBS.items() for d in ds], ids=lambda x: str(x)[:8]
)
def test_deep_nesting_bombs(name: str, data: bytes) -> None:
    """Issue 2 "bad input": a nesting bomb is a protocol violation, not a crash or a
    RecursionError, in every serializer and its batched variant."""
    violation(ser(name), data)
    batched = ser(name, True)
    framed = data + b"\x1e" if name == "json" else len(data).to_bytes(4, "big") + data
    violation(batched, framed)


@pytest.mark.parametrize(("name", "batched"), VARIANTS, ids=VARIANT_IDS)
def test_oversize_input(name: str, batched: bool) -> None:
    """Issue 2 "bad input": input past the configured limit is refused before parsing, with a
    message naming the limit; max_size=None means no limit."""
    small = ser(name, batched, max_size=64)
    data = ser(name, batched).encode([16, 1, {}, "a.b", ["x" * 100]])
    violation(small, data, "exceeds the limit of 64")
    assert len(ser(name, batched, max_size=None).decode(data)) == 1
    at_limit = ser(name, batched, max_size=len(data))
    assert len(at_limit.decode(data)) == 1


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("top", [{"a": 1}, 5, "x", None, True, 1.5])
def test_top_level_must_be_a_list(name: str, top: Any) -> None:
    """wamp-spec §1.1: a message is a list; any other top-level value is a violation."""
    s = ser(name)
    if name == "json":
        import json

        data = json.dumps(top).encode()
    elif name == "msgpack":
        data = msgpack.packb(top)
    else:
        data = cbor2.dumps(top)
    violation(s, data, "must be a list")


@pytest.mark.parametrize("name", NAMES)
def test_unencodable_values_are_local_errors(name: str) -> None:
    """Encoding something a serializer cannot carry is the caller's fault: LocalProtocolError."""
    s = ser(name)
    for bad in (object(), 2**70 if name == "msgpack" else object()):
        with pytest.raises(LocalProtocolError):
            s.encode([16, 1, {}, "a.b", [bad]])
    cyclic: list[Any] = []
    cyclic.append(cyclic)
    with pytest.raises(LocalProtocolError):
        s.encode([16, 1, {}, "a.b", cyclic])
