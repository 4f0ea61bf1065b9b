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

Batched variants (wamp-spec.md §5.3): JSON follows each message with 0x1E; MessagePack and CBOR
precede each message with a 4-byte big-endian length (the spec gives no CBOR framing; this is
Autobahn's, the only one in use).
"""

from __future__ import annotations

import base64
import binascii
import io
import json
import struct
from typing import Any, ClassVar

import cbor2
import msgpack

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


class Serializer:
    """Base class. Subclasses implement ``_dumps`` / ``_loads`` for one message."""

    #: Short name: "json", "msgpack" or "cbor".
    name: ClassVar[str]
    #: RawSocket serializer id (the handshake's low nibble).
    rawsocket_id: ClassVar[int]
    #: True if this serializer's payloads travel in binary WebSocket frames (JSON uses text).
    binary: ClassVar[bool]

    __slots__ = ("batched", "max_size")

    def __init__(self, *, batched: bool = False, max_size: int | None = DEFAULT_MAX_SIZE) -> None:
        self.batched = batched
        self.max_size = max_size

    @property
    def subprotocol(self) -> str:
        """The WebSocket subprotocol name, e.g. ``wamp.2.json`` or ``wamp.2.cbor.batched``."""
        return f"wamp.2.{self.name}.batched" if self.batched else f"wamp.2.{self.name}"

    def __repr__(self) -> str:
        return f"{type(self).__name__}(batched={self.batched}, max_size={self.max_size})"

    # -- public surface --------------------------------------------------------------------------

    def encode(self, message: list[Any]) -> bytes:
        """Serialize one WAMP message list into one transport payload."""
        data = self._dumps(message)
        if self.batched:
            return self._frame(data)
        return data

    def encode_batch(self, messages: list[list[Any]]) -> bytes:
        """Serialize several messages into one payload (batched variants only)."""
        if not self.batched:
            raise LocalProtocolError(f"{self.subprotocol} is not a batched serializer")
        if not messages:
            raise LocalProtocolError("a batch must hold at least one message")
        return b"".join(self._frame(self._dumps(m)) for m in messages)

    def decode(self, data: bytes) -> list[list[Any]]:
        """Deserialize one transport payload into its message lists."""
        if self.max_size is not None and len(data) > self.max_size:
            raise _violation(
                f"{self.name} payload of {len(data)} bytes exceeds the limit of {self.max_size}"
            )
        if not self.batched:
            return [self._decode_one(data)]
        parts = self._split(data)
        if not parts:
            raise _violation(f"batched {self.name} payload holds no message")
        return [self._decode_one(part) for part in parts]

    # -- helpers ---------------------------------------------------------------------------------

    def _decode_one(self, data: bytes) -> list[Any]:
        try:
            obj = self._loads(data)
        except RemoteProtocolError:
            raise
        except RecursionError:
            raise _violation(f"{self.name} payload is nested too deeply") from None
        except Exception as exc:  # every parser failure is the peer's fault
            raise _violation(f"undecodable {self.name} payload: {exc}") from None
        if type(obj) is not list:
            raise _violation(
                f"{self.name} payload must be a list (a WAMP message), got {type(obj).__name__}"
            )
        return obj

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

    def _dumps(self, message: list[Any]) -> bytes:
        raise NotImplementedError

    def _loads(self, data: bytes) -> Any:
        raise NotImplementedError


# --- JSON ------------------------------------------------------------------------------------


def _json_default(obj: Any) -> Any:
    if isinstance(obj, bytes | bytearray | memoryview):
        return "\x00" + base64.b64encode(bytes(obj)).decode("ascii")
    if isinstance(obj, tuple):
        return list(obj)
    raise TypeError(f"value of type {type(obj).__name__} cannot be serialized to JSON")


def _reject_constant(name: str) -> Any:
    raise ValueError(f"non-standard JSON constant {name}")


_JSON_ENCODER = json.JSONEncoder(
    separators=(",", ":"), ensure_ascii=False, allow_nan=False, default=_json_default
)
_JSON_DECODER = json.JSONDecoder(parse_constant=_reject_constant)


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


class JSONSerializer(Serializer):
    """JSON (RFC 8259), compact, UTF-8, text WebSocket frames, batched with 0x1E."""

    name = "json"
    rawsocket_id = 1
    binary = False
    __slots__ = ()

    def _dumps(self, message: list[Any]) -> bytes:
        try:
            return _JSON_ENCODER.encode(message).encode("utf-8")
        except (TypeError, ValueError, OverflowError, RecursionError) as exc:
            raise LocalProtocolError(f"cannot serialize to JSON: {exc}") from None

    def _loads(self, data: bytes) -> Any:
        try:
            text = bytes(data).decode("utf-8")
        except UnicodeDecodeError as exc:
            raise _violation(f"JSON payload is not valid UTF-8: {exc}") from None
        obj = _JSON_DECODER.decode(text)
        # A NUL can only appear escaped in JSON text, so this test skips the walk for the
        # (overwhelmingly common) payloads that carry no binary.
        if "\\u0000" in text and type(obj) is list:
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


# --- MessagePack -----------------------------------------------------------------------------


def _msgpack_ext(code: int, data: bytes) -> Any:
    raise ValueError(f"MessagePack extension type {code} is not used by WAMP")


class MsgPackSerializer(Serializer):
    """MessagePack (v5 str/bin distinction): bytes as bin, str as str."""

    name = "msgpack"
    rawsocket_id = 2
    binary = True
    __slots__ = ()

    def _dumps(self, message: list[Any]) -> bytes:
        try:
            return msgpack.packb(message, use_bin_type=True)  # type: ignore[no-any-return]
        except (TypeError, ValueError, OverflowError) as exc:
            raise LocalProtocolError(f"cannot serialize to MessagePack: {exc}") from None

    def _loads(self, data: bytes) -> Any:
        return msgpack.unpackb(
            data,
            raw=False,
            strict_map_key=False,
            ext_hook=_msgpack_ext,
        )


# --- CBOR ------------------------------------------------------------------------------------


def _cbor_default(encoder: Any, value: Any) -> None:
    raise TypeError(f"value of type {type(value).__name__} cannot be serialized to CBOR")


class CBORSerializer(Serializer):
    """CBOR (RFC 8949) via cbor2: bytes as byte strings, no WAMP-defined tags."""

    name = "cbor"
    rawsocket_id = 3
    binary = True
    __slots__ = ()

    def _dumps(self, message: list[Any]) -> bytes:
        try:
            return cbor2.dumps(message)
        except (TypeError, ValueError, OverflowError, cbor2.CBOREncodeError) as exc:
            raise LocalProtocolError(f"cannot serialize to CBOR: {exc}") from None

    def _loads(self, data: bytes) -> Any:
        fp = io.BytesIO(data)
        obj = cbor2.CBORDecoder(fp, max_depth=MAX_DEPTH).decode()
        if fp.tell() != len(data):
            raise _violation(f"CBOR payload has {len(data) - fp.tell()} bytes of trailing data")
        return obj


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
