"""Serializers: WAMP message lists <-> bytes, for JSON, MessagePack and CBOR, plain and batched.

A serializer knows nothing of message classes (that is ``messages.py``): ``encode(list)`` gives
the bytes of one transport payload, ``decode(bytes)`` gives a list of message lists (a list
because the batched variants carry several messages in one payload).

Every decoding failure -- undecodable bytes, invalid UTF-8, a top level that is not a list,
nesting bombs, input past ``max_size`` -- raises ``RemoteProtocolError`` naming the problem.
Nothing else escapes ``decode``. Values that cannot be encoded raise ``LocalProtocolError``.

Binary values: MessagePack uses ``bin`` and CBOR byte strings natively. JSON uses the WAMP
convention (wamp-spec.md §5.2): bytes travel as a string holding NUL followed by base64, at any
depth of a message, in both directions.

Two CBOR items from JavaScript peers (autobahn-js uses node-cbor) are read as their WAMP
meaning, so that they can be forwarded to JSON and MessagePack peers: a ``Uint8Array`` arrives
as RFC 8746 tag 64 around a byte string (read as bytes), and ``undefined`` (simple value 23, what
a JS callee that returns nothing yields) is read as null (None).

Batched variants (wamp-spec.md §5.3): JSON follows each message with 0x1E; MessagePack and CBOR
precede each message with a 4-byte big-endian length (the spec gives no CBOR framing; this is
Autobahn's, the only one in use).
"""

from __future__ import annotations

import base64
import binascii
import io
import json
import re
import struct
import sys
from collections.abc import Callable
from typing import Any, ClassVar

import cbor2
import msgpack

from . import _json_fast
from .errors import LocalProtocolError, RemoteProtocolError

__all__ = [
    "CBORSerializer",
    "JSONSerializer",
    "MsgPackSerializer",
    "Serializer",
    "get_serializer",
    "serializer_for_rawsocket_id",
    "serializer_for_subprotocol",
]

#: Default bound on one decoded transport payload. RawSocket's own ceiling is 16 MiB.
DEFAULT_MAX_SIZE = 16 * 1024 * 1024
#: Nesting depth beyond which a payload is treated as a bomb (CBOR's own knob; JSON and
#: MessagePack stop at their parsers' recursion limits, which are of the same order).
MAX_DEPTH = 256

_LENGTH = struct.Struct(">I")


def _violation(what: str) -> RemoteProtocolError:
    return RemoteProtocolError(what)


def _undecodable(name: str, exc: BaseException) -> RemoteProtocolError:
    """The violation for a parser failure (every one of them is the peer's fault)."""
    if isinstance(exc, RemoteProtocolError):
        return exc
    if isinstance(exc, RecursionError | msgpack.StackError):
        return _violation(f"{name} payload is nested too deeply")
    return _violation(f"undecodable {name} payload: {exc or type(exc).__name__}")


def _not_a_list(name: str, obj: Any) -> RemoteProtocolError:
    return _violation(f"{name} payload must be a list (a WAMP message), got {type(obj).__name__}")


class Serializer:
    """Base class. Subclasses implement ``_dumps`` and ``_decode_one`` for one message.

    A serializer object is cheap, holds no per-message state and belongs to one connection;
    like the rest of the core it is not meant to be shared between threads.
    """

    #: Short name: "json", "msgpack" or "cbor".
    name: ClassVar[str]
    #: RawSocket serializer id (the handshake's low nibble).
    rawsocket_id: ClassVar[int]
    #: True if this serializer's payloads travel in binary WebSocket frames (JSON uses text).
    binary: ClassVar[bool]

    __slots__ = ("_batched", "_fast_limit", "_max_size")

    def __init__(self, *, batched: bool = False, max_size: int | None = DEFAULT_MAX_SIZE) -> None:
        self._batched = batched
        self._max_size = max_size
        self._fast_limit = self._limit()

    def _limit(self) -> int:
        # The one number the decoders' fast path compares a payload's length with: payloads
        # no longer than it are one message within the size limit (-1: batched, never fast).
        if self._batched:
            return -1
        return sys.maxsize if self._max_size is None else self._max_size

    @property
    def batched(self) -> bool:
        """Whether this is the batched variant (several messages per transport payload)."""
        return self._batched

    @batched.setter
    def batched(self, value: bool) -> None:
        self._batched = value
        self._fast_limit = self._limit()

    @property
    def max_size(self) -> int | None:
        """The bound on one decoded transport payload in bytes (None: unbounded)."""
        return self._max_size

    @max_size.setter
    def max_size(self, value: int | None) -> None:
        self._max_size = value
        self._fast_limit = self._limit()

    @property
    def subprotocol(self) -> str:
        """The WebSocket subprotocol name, e.g. ``wamp.2.json`` or ``wamp.2.cbor.batched``."""
        return f"wamp.2.{self.name}.batched" if self._batched else f"wamp.2.{self.name}"

    def __repr__(self) -> str:
        return f"{type(self).__name__}(batched={self.batched}, max_size={self.max_size})"

    # -- public surface --------------------------------------------------------------------------

    def encode(self, message: list[Any]) -> bytes:
        """Serialize one WAMP message list into one transport payload."""
        if self._batched:
            return self._frame(self._dumps(message))
        return self._dumps(message)

    def encode_batch(self, messages: list[list[Any]]) -> bytes:
        """Serialize several messages into one payload (batched variants only)."""
        if not self._batched:
            raise LocalProtocolError(f"{self.subprotocol} is not a batched serializer")
        if not messages:
            raise LocalProtocolError("a batch must hold at least one message")
        return b"".join(self._frame(self._dumps(m)) for m in messages)

    def decode(self, data: bytes) -> list[list[Any]]:
        """Deserialize one transport payload into its message lists."""
        if self._max_size is not None and len(data) > self._max_size:
            raise _violation(
                f"{self.name} payload of {len(data)} bytes exceeds the limit of {self._max_size}"
            )
        if not self._batched:
            return [self._decode_one(data)]
        parts = self._split(data)
        if not parts:
            raise _violation(f"batched {self.name} payload holds no message")
        return [self._decode_one(part) for part in parts]

    # -- per format ------------------------------------------------------------------------------

    def _dumps(self, message: list[Any]) -> bytes:
        raise NotImplementedError

    def _decode_one(self, data: bytes) -> list[Any]:
        """One message list from one serialized message; RemoteProtocolError otherwise."""
        raise NotImplementedError

    def _frame(self, data: bytes) -> bytes:
        return _LENGTH.pack(len(data)) + data

    def _split(self, data: bytes) -> list[bytes]:
        parts: list[bytes] = []
        pos, end = 0, len(data)
        while pos < end:
            if end - pos < 4:
                raise _violation(f"batched {self.name} payload has a truncated length prefix")
            (length,) = _LENGTH.unpack_from(data, pos)
            pos += 4
            if length > end - pos:
                raise _violation(
                    f"batched {self.name} frame announces {length} bytes, only {end - pos} follow"
                )
            parts.append(data[pos : pos + length])
            pos += length
        return parts


# --- JSON ------------------------------------------------------------------------------------


def _json_default(obj: Any) -> Any:
    if isinstance(obj, bytes | bytearray | memoryview):
        return "\x00" + base64.b64encode(bytes(obj)).decode("ascii")
    if isinstance(obj, tuple):
        return list(obj)
    raise TypeError(f"value of type {type(obj).__name__} cannot be serialized to JSON")


def _reject_constant(name: str) -> Any:
    raise ValueError(f"non-standard JSON constant {name}")


def _finite_float(text: str) -> float:
    # A literal past the double range (1e400) would become inf, which no JSON encoder may emit
    # again: the payload could be decoded but never forwarded.
    value = float(text)
    if value - value != 0.0:
        raise ValueError(f"JSON number {text[:40]} is out of range")
    return value


_JSON_ENCODER = json.JSONEncoder(
    separators=(",", ":"), ensure_ascii=False, allow_nan=False, default=_json_default
)
# The C encoder behind JSONEncoder.encode, built once instead of on every call. Without the
# circular-reference table (None), a cycle ends in RecursionError, which _dumps reports.
_c_make_encoder = getattr(json.encoder, "c_make_encoder", None)
_JSON_C_ENCODE = (
    None
    if _c_make_encoder is None
    else _c_make_encoder(
        None, _json_default, json.encoder.encode_basestring, None, ":", ",", False, False, False
    )
)
_JSON_DECODER = json.JSONDecoder(parse_constant=_reject_constant, parse_float=_finite_float)


def _unpack_binary(value: str) -> bytes:
    try:
        return base64.b64decode(value[1:], validate=True)
    except (binascii.Error, ValueError):
        raise _violation("JSON string starting with NUL is not valid base64 binary") from None


def _json_binary_walk(root: list[Any]) -> None:
    """Replace, in place and at any depth, every NUL-prefixed string value by its bytes."""
    stack: list[Any] = [root]
    while stack:
        node = stack.pop()
        if type(node) is list:
            for i, v in enumerate(node):
                if type(v) is str:
                    if v[:1] == "\x00":
                        node[i] = _unpack_binary(v)
                elif type(v) is list or type(v) is dict:
                    stack.append(v)
        else:
            for k, v in node.items():
                if type(v) is str:
                    if v[:1] == "\x00":
                        node[k] = _unpack_binary(v)
                elif type(v) is list or type(v) is dict:
                    stack.append(v)


_SURROGATE = re.compile("[\ud800-\udfff]")


def _reject_lone_surrogates(root: list[Any]) -> None:
    """Raise if any string (key or value) holds a lone UTF-16 surrogate.

    JSON text can spell one as an escape (``"\\ud800"``); Python decodes it into a str that
    no UTF-8 encoder accepts, so it would only fail later, when a router forwards it to
    someone else. It is invalid text from this peer, and reported as such here.
    """
    stack: list[Any] = [root]
    while stack:
        node = stack.pop()
        values = node if type(node) is list else [*node, *node.values()]
        for v in values:
            if type(v) is str:
                if _SURROGATE.search(v) is not None:
                    raise _violation("JSON payload holds a lone UTF-16 surrogate escape")
            elif type(v) is list or type(v) is dict:
                stack.append(v)


class JSONSerializer(Serializer):
    """JSON (RFC 8259), compact, UTF-8, text WebSocket frames, batched with 0x1E."""

    name = "json"
    rawsocket_id = 1
    binary = False
    __slots__ = ()

    def _dumps(self, message: list[Any]) -> bytes:
        try:
            if _JSON_C_ENCODE is not None:
                return "".join(_JSON_C_ENCODE(message, 0)).encode("utf-8")
            return _JSON_ENCODER.encode(message).encode("utf-8")
        except (TypeError, ValueError, OverflowError, RecursionError) as exc:
            raise LocalProtocolError(f"cannot serialize to JSON: {exc}") from None

    def _decode_one(self, data: bytes) -> list[Any]:
        try:
            text = bytes(data).decode("utf-8")
        except UnicodeDecodeError as exc:
            raise _violation(f"JSON payload is not valid UTF-8: {exc}") from None
        try:
            obj = _JSON_DECODER.decode(text)
        except Exception as exc:
            raise _undecodable("json", exc) from None
        if type(obj) is not list:
            raise _not_a_list("json", obj)
        # Surrogates and binary can only arrive escaped, so only text with such an escape is
        # walked -- the overwhelmingly common payload carries neither.
        if "\\ud" in text or "\\uD" in text:
            _reject_lone_surrogates(obj)
        if "\\u0000" in text:
            _json_binary_walk(obj)
        return obj

    def _frame(self, data: bytes) -> bytes:
        return data + b"\x1e"

    def _split(self, data: bytes) -> list[bytes]:
        # A raw 0x1E cannot occur inside JSON text (control characters must be escaped).
        parts = bytes(data).split(b"\x1e")
        if parts[-1].strip() != b"":
            raise _violation("batched JSON payload does not end with the 0x1E separator")
        return parts[:-1]


# With the wampcore[speed] extra, orjson does the common case; the standard library keeps every
# verdict (see _json_fast).
_json_fast.install(JSONSerializer)

# --- MessagePack -----------------------------------------------------------------------------


def _msgpack_ext(code: int, data: bytes) -> Any:
    raise ValueError(f"MessagePack extension type {code} is not used by WAMP")


_unpackb = msgpack.unpackb


class MsgPackSerializer(Serializer):
    """MessagePack (v5 str/bin distinction): bytes as bin, str as str.

    Map keys must be strings (or bytes), as Autobahn's default also has it: WAMP keys are
    strings, and integer keys would let a peer choose colliding hashes.
    """

    name = "msgpack"
    rawsocket_id = 2
    binary = True
    __slots__ = ("_packer",)

    def __init__(self, *, batched: bool = False, max_size: int | None = DEFAULT_MAX_SIZE) -> None:
        super().__init__(batched=batched, max_size=max_size)
        # msgpack.packb builds a Packer per call; one per serializer is several times faster.
        # autoreset: pack() returns its bytes and starts empty again, also after an error.
        self._packer = msgpack.Packer(autoreset=True, use_bin_type=True)

    def _dumps(self, message: list[Any]) -> bytes:
        try:
            return self._packer.pack(message)  # type: ignore[no-any-return]
        except (TypeError, ValueError, OverflowError) as exc:
            raise LocalProtocolError(f"cannot serialize to MessagePack: {exc}") from None

    def decode(self, data: bytes) -> list[list[Any]]:
        # The common case (one message, within the limit) without the base class's extra call.
        if len(data) > self._fast_limit:
            return Serializer.decode(self, data)
        try:
            # raw=False and strict_map_key=True are msgpack's defaults (since 1.0, which
            # pyproject requires); every keyword argument costs a lookup per call.
            obj = _unpackb(data, ext_hook=_msgpack_ext)
        except Exception as exc:
            raise _undecodable("msgpack", exc) from None
        if type(obj) is not list:
            raise _not_a_list("msgpack", obj)
        return [obj]

    def _decode_one(self, data: bytes) -> list[Any]:
        try:
            obj = _unpackb(data, ext_hook=_msgpack_ext)
        except Exception as exc:
            raise _undecodable("msgpack", exc) from None
        if type(obj) is not list:
            raise _not_a_list("msgpack", obj)
        return obj


# --- CBOR ------------------------------------------------------------------------------------


def _no_tag(value: Any, immutable: bool) -> Any:
    raise ValueError("WAMP uses no value-sharing or string-reference tags")


# WAMP defines no CBOR tags. These four are stateful: shared values (28/29) can build cyclic
# structures no other serializer can carry, and string references (256/25) depend on earlier
# parts of the input. They are refused; tag 64 is read as bytes (below); other tags decode as
# cbor2 decodes them.
_CBOR_REFUSED_TAGS = {28: _no_tag, 29: _no_tag, 256: _no_tag, 25: _no_tag}


def _uint8_array(value: Any, immutable: bool) -> bytes:
    # Tag 64 says "these bytes are a uint8 array": exactly what WAMP calls binary. node-cbor
    # writes every Uint8Array this way, and a CBORTag could not be forwarded to other serializers.
    if type(value) is not bytes:
        raise ValueError("CBOR tag 64 (uint8 typed array) must hold a byte string")
    return value


_CBOR_DECODERS: dict[int, Callable[[Any, bool], Any]] = {**_CBOR_REFUSED_TAGS, 64: _uint8_array}
#: The byte of CBOR ``undefined`` (major type 7, simple value 23).
_CBOR_UNDEFINED_BYTE = 0xF7


def _cbor_undefined_to_none(root: list[Any]) -> None:
    """Replace, in place and at any depth, every CBOR ``undefined`` value by None.

    JSON and MessagePack have no ``undefined`` and Python users expect None; map keys cannot be
    undefined (strict_hashable_types refuses them).
    """
    undefined = cbor2.undefined
    stack: list[Any] = [root]
    while stack:
        node = stack.pop()
        items = enumerate(node) if type(node) is list else node.items()
        for k, v in items:
            if v is undefined:
                node[k] = None
            elif type(v) is list or type(v) is dict:
                stack.append(v)


# Undefined can only be there if its byte (0xf7) is, but that byte also turns up inside ids and
# floats (about one 53-bit id in forty holds it). Before the walk, a cheaper proof of absence:
# MessagePack has no ``undefined``, so a structure msgpack can pack holds none, and its C packer
# visits every value several times faster than the walk does. Anything it refuses (undefined,
# but also tags, sets, bignums) is walked.
_UNDEFINED_PROBE = msgpack.Packer(autoreset=True, use_bin_type=True)


def _replace_undefined(obj: list[Any]) -> None:
    try:
        _UNDEFINED_PROBE.pack(obj)
    except Exception:
        _cbor_undefined_to_none(obj)


def _head_sizes(majors: tuple[int, ...]) -> tuple[int, ...]:
    """Per first byte: the size of a CBOR head of one of ``majors`` with a definite
    argument (additional information 0..27), else 0. (A tuple: indexing one is a specialised
    instruction, indexing bytes is not.)"""
    return tuple(
        1 + (0, 1, 2, 4, 8)[max(0, (byte & 31) - 23)]
        if byte >> 5 in majors and byte & 31 <= 27
        else 0
        for byte in range(256)
    )


#: An array head's size; an integer's size (its head is the whole item).
_ARRAY_HEAD_SIZE = _head_sizes((4,))
_INTEGER_SIZE = _head_sizes((0, 1))


def _undefined_excluded(data: bytes) -> bool:
    """Whether ``data`` (exactly one CBOR item, already decoded) provably holds no ``undefined``.

    The 0xf7 byte usually sits inside one of the ids after the message code: a WAMP message
    starts with its integers. This steps over the top-level array's head and its leading
    integers exactly as a decoder reads them (their argument bytes are not item heads) and
    stops at the first other item; if no 0xf7 byte follows that point, none is an item head,
    so none is ``undefined``. Anything else (no array at the top, a 0xf7 further on) answers
    False and leaves the proof to the probe.
    """
    pos = _ARRAY_HEAD_SIZE[data[0]]
    if not pos:
        return False
    try:
        while size := _INTEGER_SIZE[data[pos]]:
            pos += size
    except IndexError:  # nothing but integers: every 0xf7 byte is inside one
        return True
    return data.find(_CBOR_UNDEFINED_BYTE, pos) == -1


class CBORSerializer(Serializer):
    """CBOR (RFC 8949) via cbor2: bytes as byte strings, no WAMP-defined tags.

    Map keys must be strings or bytes (cbor2's ``strict_hashable_types``), for the same reason
    as in MessagePack.

    One cbor2 encoder and one decoder per serializer, reused: building them is a good part of
    what ``cbor2.dumps``/``loads`` cost per call. The decoder reads from a reused in-memory
    file, whose position afterwards says where the data item ended: ``cbor2.loads`` cannot
    tell, and trailing bytes after the item must be refused (as the JSON and MessagePack
    decoders refuse them). After any failure both are built afresh, so no state of a bad
    payload carries over to the next one.
    """

    name = "cbor"
    rawsocket_id = 3
    binary = True
    __slots__ = ("_buffer", "_encoder", "_position", "_read_item")

    def __init__(self, *, batched: bool = False, max_size: int | None = DEFAULT_MAX_SIZE) -> None:
        super().__init__(batched=batched, max_size=max_size)
        self._encoder = cbor2.CBOREncoder(io.BytesIO())
        self._new_decoder()

    def _new_decoder(self) -> None:
        buffer = io.BytesIO()
        decoder = cbor2.CBORDecoder(
            buffer,
            max_depth=MAX_DEPTH,
            semantic_decoders=_CBOR_DECODERS,
            strict_hashable_types=True,
        )
        # Bound once: the decode path calls them for every message.
        self._buffer, self._read_item, self._position = buffer, decoder.decode, buffer.tell

    def _dumps(self, message: list[Any]) -> bytes:
        try:
            return self._encoder.encode_to_bytes(message)
        except (TypeError, ValueError, OverflowError, RecursionError, cbor2.CBOREncodeError) as exc:
            self._encoder = cbor2.CBOREncoder(io.BytesIO())
            raise LocalProtocolError(f"cannot serialize to CBOR: {exc}") from None

    def decode(self, data: bytes) -> list[list[Any]]:
        # The common case (one message, within the limit) without the base class's extra call.
        if len(data) > self._fast_limit:
            return Serializer.decode(self, data)
        # _decode_one's body, inline (a method call is a good part of a small message's cost).
        _reopen(self._buffer, data)
        try:
            obj = self._read_item()
        except Exception as exc:
            self._new_decoder()
            raise _undecodable("cbor", exc) from None
        if self._position() != len(data):
            self._new_decoder()
            raise _violation("CBOR payload is not exactly one complete data item")
        if type(obj) is not list:
            raise _not_a_list("cbor", obj)
        if 0xF7 in data and not _undefined_excluded(data):  # 0xf7: CBOR undefined
            _replace_undefined(obj)
        return [obj]

    def _decode_one(self, data: bytes) -> list[Any]:
        _reopen(self._buffer, data)
        try:
            obj = self._read_item()
        except Exception as exc:
            self._new_decoder()
            raise _undecodable("cbor", exc) from None
        if self._position() != len(data):
            self._new_decoder()
            raise _violation("CBOR payload is not exactly one complete data item")
        if type(obj) is not list:
            raise _not_a_list("cbor", obj)
        # memchr first (an int needle: a one-byte bytes needle costs several times more).
        if 0xF7 in data and not _undefined_excluded(data):  # 0xf7: CBOR undefined
            _replace_undefined(obj)
        return obj


# BytesIO.__init__ points an existing buffer at new bytes (sharing them, no copy), the cheapest
# way to hand the reused decoder its next payload.
_reopen = io.BytesIO.__init__


# --- lookup ----------------------------------------------------------------------------------

_BY_NAME: dict[str, type[Serializer]] = {
    cls.name: cls for cls in (JSONSerializer, MsgPackSerializer, CBORSerializer)
}
_BY_RAWSOCKET_ID: dict[int, type[Serializer]] = {
    cls.rawsocket_id: cls for cls in (JSONSerializer, MsgPackSerializer, CBORSerializer)
}

#: Every WebSocket subprotocol wampcore speaks, in its default order of preference.
SUBPROTOCOLS: tuple[str, ...] = (
    "wamp.2.msgpack",
    "wamp.2.cbor",
    "wamp.2.json",
    "wamp.2.msgpack.batched",
    "wamp.2.cbor.batched",
    "wamp.2.json.batched",
)


def get_serializer(
    name: str, *, batched: bool = False, max_size: int | None = DEFAULT_MAX_SIZE
) -> Serializer:
    """A serializer by short name (``json``, ``msgpack``, ``cbor``)."""
    try:
        cls = _BY_NAME[name]
    except KeyError:
        raise LocalProtocolError(f"unknown serializer {name!r}") from None
    return cls(batched=batched, max_size=max_size)


def serializer_for_rawsocket_id(
    serializer_id: int, *, max_size: int | None = DEFAULT_MAX_SIZE
) -> Serializer | None:
    """The serializer for a RawSocket handshake id (1, 2, 3), or None if unsupported."""
    cls = _BY_RAWSOCKET_ID.get(serializer_id)
    return None if cls is None else cls(max_size=max_size)


def serializer_for_subprotocol(
    subprotocol: str, *, max_size: int | None = DEFAULT_MAX_SIZE
) -> Serializer | None:
    """The serializer for a WebSocket subprotocol (``wamp.2.json`` ...), or None."""
    if not subprotocol.startswith("wamp.2."):
        return None
    rest = subprotocol[len("wamp.2.") :]
    batched = rest.endswith(".batched")
    if batched:
        rest = rest[: -len(".batched")]
    cls = _BY_NAME.get(rest)
    return None if cls is None else cls(batched=batched, max_size=max_size)
