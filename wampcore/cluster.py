"""The cluster protocol: what router nodes say to each other over NATS, and how it is checked.

Owns the wire format of the cluster backplane (docs/cluster.md) and nothing that moves bytes:
the message schema and its version, the NATS subjects, the validation every incoming cluster
message passes before anything acts on it, the ids that all nodes derive alike, and the
registration claims kept in a JetStream key/value bucket (the race-free decision of which node
may hold a URI). The node's routing side is :mod:`wampcore.router.remote`; the NATS connection
is :mod:`wampcore.adapters.cluster`.

**Messages** are MessagePack maps (bytes and big integers survive, unlike JSON). Every one has
``v`` (the protocol version), ``t`` (its type), ``n`` (the sending node's name) and ``e`` (the
sender's epoch: a number that grows whenever the node starts or reconnects, so a receiver can
tell a new incarnation from an old one). :func:`decode` returns a checked :class:`Message` or
raises :class:`BadMessage` with a short reason: garbage is dropped and counted by the caller,
never acted on.

**Batches** (protocol version 2): what a node sends to one subject within one event-loop
iteration travels as one NATS message, a ``batch`` map whose header is that of a message and
whose ``m`` is the list of *items* -- maps with ``t`` and the type's fields, in the order they
were sent; the header's node and epoch apply to every item, and its ``q`` numbers the node's
frames (on every subject), so a receiver restores their order where its two subscriptions
delivered them out of order. :class:`Writer` encodes items once
(a publication crossing to two nodes is packed once) and frames them without re-encoding;
:func:`decode_frame` unpacks a whole frame in one MessagePack call and checks each item on its
own: a bad header drops the frame, a bad item drops only that item (good items beside it are
kept, in order).

**Subjects** are built from this module's fixed prefix and validated node names only; a URI
never becomes a subject token (a topic such as ``a.*.>`` or one with spaces cannot widen a
subscription or split a subject). Claim keys and derived ids are SHA-256 digests of the URI.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import msgpack

from .ids import MAX_ID
from .uri import MATCH_POLICIES

__all__ = [
    "BROADCAST_SUBJECT",
    "KV_BUCKET",
    "PROTOCOL_VERSION",
    "SUBJECT_PREFIX",
    "BadMessage",
    "Claims",
    "Frame",
    "Message",
    "Writer",
    "claim_key",
    "decode",
    "decode_frame",
    "encode",
    "node_subject",
    "scoped_id",
    "valid_node_name",
]

#: The cluster protocol version; a node that speaks another one is refused (and logged).
#: 2: batch frames (a version-1 node would drop them as an unknown type, silently).
PROTOCOL_VERSION = 2
SUBJECT_PREFIX = "wampcore.cluster"
#: Announcements every node hears: hello, heartbeat, bye, sessions, subscriptions, ...
BROADCAST_SUBJECT = f"{SUBJECT_PREFIX}.all"
#: The JetStream key/value bucket holding registration claims.
KV_BUCKET = "wampcore_registrations"
#: Largest cluster message accepted (NATS' default max_payload is 1 MiB).
MAX_MESSAGE = 8 * 1024 * 1024
#: Most items one batch frame may carry.
MAX_ITEMS = 65536
#: Bytes a frame adds around its items (map, header fields, array header), at most.
FRAME_OVERHEAD = 128

_NODE_NAME = re.compile(r"[A-Za-z0-9_-]{1,64}")
_INVOKE = ("single", "roundrobin", "random", "first", "last")
_CANCEL_MODES = ("skip", "kill", "killnowait")
_SCOPES = ("destroyed", "detached")


class BadMessage(ValueError):
    """An incoming cluster message that is not one: ``reason`` says why (it is counted)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def valid_node_name(name: object) -> bool:
    return isinstance(name, str) and _NODE_NAME.fullmatch(name) is not None


def node_subject(node: str) -> str:
    """The subject only ``node`` listens on (for publications, calls and replies to it)."""
    if not valid_node_name(node):
        raise ValueError(f"not a valid node name: {node!r:.80}")
    return f"{SUBJECT_PREFIX}.node.{node}"


def claim_key(realm: str, uri: str, match: str) -> str:
    """The KV key of a registration: a digest, so no URI character reaches NATS."""
    digest = hashlib.sha256(f"{realm}\0{match}\0{uri}".encode()).hexdigest()
    return f"r{digest[:40]}"


def scoped_id(kind: str, realm: str, uri: str, match: str, in_use: Any = ()) -> int:
    """A subscription or registration id every node derives alike from (realm, uri, match),
    so the meta API answers with the same ids on every node. A collision with an id still in
    use (astronomically rare) takes the next free one."""
    digest = hashlib.sha256(f"{kind}\0{realm}\0{match}\0{uri}".encode()).digest()
    candidate = int.from_bytes(digest[:8], "big") % MAX_ID + 1
    while candidate in in_use:
        candidate = candidate % MAX_ID + 1
    return candidate


# -- messages ------------------------------------------------------------------------------------


def encode(t: str, node: str, epoch: int, **fields: Any) -> bytes:
    """One cluster message (raises ValueError/TypeError/OverflowError for values MessagePack
    cannot carry, e.g. an integer beyond 64 bits)."""
    body = {"v": PROTOCOL_VERSION, "t": t, "n": node, "e": epoch}
    body.update(fields)
    data: bytes = msgpack.packb(body, use_bin_type=True)
    return data


class Writer:
    """Encodes one node's items and frames them into batches (one per node: it owns a reusable
    MessagePack packer, so it is not shared between threads)."""

    def __init__(self, node: str, epoch: int) -> None:
        self._packer = msgpack.Packer(use_bin_type=True)
        self.node = node
        self.epoch = epoch
        #: The ``q`` of the last frame made.
        self.sequence = 0

    def item(self, t: str, **fields: Any) -> bytes:
        """One item (raises ValueError/TypeError/OverflowError for values MessagePack cannot
        carry, e.g. an integer beyond 64 bits)."""
        return self.pack(t, fields)

    def pack(self, t: str, fields: dict[str, Any]) -> bytes:
        """:meth:`item` of a dict, which it takes over (``t`` is added to it)."""
        fields["t"] = t
        data: bytes = self._packer.pack(fields)
        return data

    def frames(self, items: list[bytes], max_size: int) -> list[bytes]:
        """``items`` (each at most ``max_size - FRAME_OVERHEAD`` bytes) in as few frames of at
        most ``max_size`` bytes as they fit, in order."""
        frames: list[bytes] = []
        limit = max(1, max_size - FRAME_OVERHEAD)
        start, size = 0, 0
        for i, data in enumerate(items):
            if i > start and (size + len(data) > limit or i - start >= MAX_ITEMS):
                frames.append(self._frame(items[start:i]))
                start, size = i, 0
            size += len(data)
        if start < len(items):
            frames.append(self._frame(items[start:]))
        return frames

    def _frame(self, items: list[bytes]) -> bytes:
        # A MessagePack map whose "m" is an array header followed by the items' own bytes:
        # each item is a complete MessagePack value, so they are framed, not encoded again.
        pack = self._packer.pack
        self.sequence += 1
        head = [
            self._packer.pack_map_header(6),
            pack("v"),
            pack(PROTOCOL_VERSION),
            pack("t"),
            pack("batch"),
            pack("n"),
            pack(self.node),
            pack("e"),
            pack(self.epoch),
            pack("q"),
            pack(self.sequence),
            pack("m"),
            self._packer.pack_array_header(len(items)),
        ]
        return b"".join(head + items)


@dataclass(frozen=True, slots=True)
class Frame:
    """A decoded NATS message: its sender, the sender's epoch, the frame's sequence number (0
    for a single message) and its items: checked messages, or what each bad one earned."""

    node: str
    epoch: int
    sequence: int
    items: list[Message | BadMessage]


@dataclass(slots=True)
class Message:
    """A checked cluster message: its type, sender, sender's epoch, version and fields (not
    frozen: a frozen dataclass's ``__init__`` costs four times as much, once per item)."""

    t: str
    node: str
    epoch: int
    version: int
    fields: dict[str, Any]

    def __getitem__(self, name: str) -> Any:
        return self.fields[name]


def _id(value: Any) -> bool:
    return type(value) is int and 1 <= value <= MAX_ID


def _str(value: Any) -> bool:
    return type(value) is str and 0 < len(value) <= 4096


def _opt_str(value: Any) -> bool:
    return value is None or _str(value)


def _bool(value: Any) -> bool:
    return type(value) is bool


def _dict(value: Any) -> bool:
    return type(value) is dict and all(type(k) is str for k in value)


def _opt_list(value: Any) -> bool:
    return value is None or type(value) is list


def _opt_dict(value: Any) -> bool:
    return value is None or _dict(value)


def _payload(value: Any) -> bool:
    return value is None or type(value) in (bytes, str)


def _match(value: Any) -> bool:
    return value in MATCH_POLICIES


def _identity(value: Any) -> bool:
    return (
        _dict(value)
        and _id(value.get("id"))
        and type(value.get("authid")) is str
        and type(value.get("authrole")) is str
    )


def _session(value: Any) -> bool:
    if not _identity(value):
        return False
    features = value.get("features")
    return (
        type(value.get("authmethod")) is str
        and type(value.get("authprovider")) is str
        and _dict(value.get("authextra"))
        and _dict(value.get("transport"))
        and type(features) is list
        and len(features) == 4
        and all(type(f) is bool for f in features)
    )


def _number(value: Any) -> bool:
    return type(value) in (int, float) and 0 < value < 86400


def _stamp(value: Any) -> bool:
    return type(value) is int and 0 <= value < 2**63


_REALM = {"realm": _str}
_HOLDING = {**_REALM, "s": _id, "uri": _str, "match": _match}
_VALUES = {"args": _opt_list, "kwargs": _opt_dict, "payload": _payload}

#: Every message type and the fields it must carry (extra fields are ignored).
SCHEMA: dict[str, dict[str, Any]] = {
    "hello": {"hb": _number, "reply": _bool},
    "hb": {},
    "bye": {},
    "join": {**_REALM, "s": _session},
    "leave": {**_REALM, "s": _id, "reason": _str},
    "sub": _HOLDING,
    "unsub": _HOLDING,
    "reg": {
        **_HOLDING,
        "invoke": lambda v: v in _INVOKE,
        "dc": _bool,
        "ft": _bool,
        "stamp": _stamp,
    },
    "unreg": _HOLDING,
    "revoke": {**_HOLDING, "kind": lambda v: v in ("reg", "sub"), "reason": _opt_str},
    "testament": {
        **_REALM,
        "s": _id,
        "scope": lambda v: v in _SCOPES,
        "topic": _str,
        "args": lambda v: type(v) is list,
        "kwargs": _dict,
        "options": _dict,
    },
    "flush": {**_REALM, "s": _id, "scope": lambda v: v in _SCOPES},
    "kill": {**_REALM, "s": _id, "reason": _str, "message": _opt_str, "quiet": _bool},
    "pub": {
        **_REALM,
        "p": _identity,
        "topic": _str,
        "pid": _id,
        "opts": _dict,
        "dis": _bool,
        **_VALUES,
    },
    "call": {
        **_REALM,
        "k": _id,
        "callee": _id,
        "caller": _identity,
        "uri": _str,
        "match": _match,
        "proc": _str,
        "opts": _dict,
        "dis": _bool,
        **_VALUES,
    },
    "res": {**_REALM, "k": _id, "prog": _bool, "details": _dict, **_VALUES},
    "err": {**_REALM, "k": _id, "error": _str, "details": _dict, **_VALUES},
    "cancel": {**_REALM, "k": _id, "mode": lambda v: v in _CANCEL_MODES},
}


def _body(data: bytes) -> tuple[dict[str, Any], str, int, int]:
    """Unpack a message or frame and check its header: (body, node, epoch, version)."""
    if len(data) > MAX_MESSAGE:
        raise BadMessage("too_large")
    try:
        body = msgpack.unpackb(data, raw=False, strict_map_key=True, use_list=True)
    except Exception:  # msgpack raises several unrelated types for junk
        raise BadMessage("undecodable") from None
    if type(body) is not dict:
        raise BadMessage("not_a_map")
    version = body.get("v")
    node = body.get("n")
    epoch = body.get("e")
    if type(version) is not int or type(node) is not str or type(epoch) is not int:
        raise BadMessage("bad_header")
    if not valid_node_name(node):
        raise BadMessage("bad_header")
    return body, node, epoch, version


def _str_keys(value: dict[Any, Any]) -> bool:
    for key in value:
        if type(key) is not str:
            return False
    return True


def _fast_values(b: dict[str, Any]) -> bool:
    args, kwargs, payload = b.get("args"), b.get("kwargs"), b.get("payload")
    return (
        (args is None or type(args) is list)
        and (kwargs is None or (type(kwargs) is dict and _str_keys(kwargs)))
        and (payload is None or type(payload) is bytes or type(payload) is str)
    )


def _fast_head(b: dict[str, Any], dict_field: str) -> bool:
    realm, d, k = b.get("realm"), b.get(dict_field), b.get("k")
    return (
        type(realm) is str
        and 0 < len(realm) <= 4096
        and type(k) is int
        and 1 <= k <= MAX_ID
        and type(d) is dict
        and _str_keys(d)
        and _fast_values(b)
    )


def _fast_pub(b: dict[str, Any]) -> bool:
    realm, p, topic, pid, opts = (
        b.get("realm"),
        b.get("p"),
        b.get("topic"),
        b.get("pid"),
        b.get("opts"),
    )
    if not (type(p) is dict and _str_keys(p)):
        return False
    publisher = p.get("id")
    return (
        type(realm) is str
        and 0 < len(realm) <= 4096
        and type(publisher) is int
        and 1 <= publisher <= MAX_ID
        and type(p.get("authid")) is str
        and type(p.get("authrole")) is str
        and type(topic) is str
        and 0 < len(topic) <= 4096
        and type(pid) is int
        and 1 <= pid <= MAX_ID
        and type(opts) is dict
        and _str_keys(opts)
        and type(b.get("dis")) is bool
        and _fast_values(b)
    )


def _fast_call(b: dict[str, Any]) -> bool:
    callee, caller, uri, proc = b.get("callee"), b.get("caller"), b.get("uri"), b.get("proc")
    if not (type(caller) is dict and _str_keys(caller)):
        return False
    caller_id = caller.get("id")
    return (
        type(callee) is int
        and 1 <= callee <= MAX_ID
        and type(caller_id) is int
        and 1 <= caller_id <= MAX_ID
        and type(caller.get("authid")) is str
        and type(caller.get("authrole")) is str
        and type(uri) is str
        and 0 < len(uri) <= 4096
        and type(proc) is str
        and 0 < len(proc) <= 4096
        and b.get("match") in MATCH_POLICIES
        and type(b.get("dis")) is bool
        and _fast_head(b, "opts")
    )


def _fast_res(b: dict[str, Any]) -> bool:
    return type(b.get("prog")) is bool and _fast_head(b, "details")


def _fast_err(b: dict[str, Any]) -> bool:
    error = b.get("error")
    return type(error) is str and 0 < len(error) <= 4096 and _fast_head(b, "details")


#: Inline checks of the most frequent types, equivalent to their SCHEMA entry (a test holds
#: them to it); a body they refuse goes through the SCHEMA loop, which names the bad field.
_FAST: dict[str, Callable[[dict[str, Any]], bool]] = {
    "pub": _fast_pub,
    "call": _fast_call,
    "res": _fast_res,
    "err": _fast_err,
}


def _checked(body: Any, node: str, epoch: int) -> Message:
    if type(body) is not dict:
        raise BadMessage("not_a_map")
    t = body.get("t")
    if type(t) is not str or t not in SCHEMA:
        raise BadMessage("unknown_type")
    fast = _FAST.get(t)
    if fast is None or not fast(body):
        for name, check in SCHEMA[t].items():
            if not check(body.get(name)):
                raise BadMessage(f"bad_{t}_{name}")
    return Message(t, node, epoch, PROTOCOL_VERSION, body)


def decode(data: bytes) -> Message:
    """Check one incoming cluster message (not a batch); raise :class:`BadMessage` if it is
    none. A message of another protocol version keeps only its header (the caller refuses
    the node and logs why)."""
    body, node, epoch, version = _body(data)
    if version != PROTOCOL_VERSION:
        return Message(str(body.get("t")), node, epoch, version, {})
    return _checked(body, node, epoch)


def decode_frame(data: bytes) -> Frame:
    """Check one incoming NATS message: a batch frame, or a single message (a frame of one).

    Raises :class:`BadMessage` when the frame itself is bad (nothing of it is acted on).
    Otherwise each item is a checked :class:`Message` with the frame's node and epoch, or the
    :class:`BadMessage` that item earned (the caller counts it and goes on with the next).
    A frame of another protocol version holds one header-only :class:`Message`.
    """
    body, node, epoch, version = _body(data)
    if version != PROTOCOL_VERSION:
        return Frame(node, epoch, 0, [Message(str(body.get("t")), node, epoch, version, {})])
    if body.get("t") != "batch":
        return Frame(node, epoch, 0, [_checked(body, node, epoch)])
    sequence = body.get("q")
    if type(sequence) is not int or not 0 < sequence < 2**63:
        raise BadMessage("bad_batch_q")
    items = body.get("m")
    if type(items) is not list or not 0 < len(items) <= MAX_ITEMS:
        raise BadMessage("bad_batch_m")
    out: list[Message | BadMessage] = []
    for item in items:
        try:
            out.append(_checked(item, node, epoch))
        except BadMessage as exc:
            out.append(exc)
    return Frame(node, epoch, sequence, out)


# -- registration claims (JetStream KV values) ---------------------------------------------------


class Claims:
    """The value of one claim key: the registration's invoke policy and its callees, as
    ``[node, epoch, session]`` entries in the order they were admitted.

    Each function takes the current value (None: no key) and returns what to write (None:
    delete the key) with a verdict; the adapter writes it with compare-and-set on the
    revision it read and starts over if another node wrote first, so concurrent claims from
    several nodes are decided by JetStream's ordering, never by a race between nodes.
    """

    @staticmethod
    def load(data: bytes | None) -> dict[str, Any] | None:
        if not data:
            return None
        try:
            value = msgpack.unpackb(data, raw=False)
        except Exception:
            return None  # an unreadable value is treated as no claim (and overwritten)
        if (
            type(value) is not dict
            or value.get("invoke") not in _INVOKE
            or type(value.get("callees")) is not list
        ):
            return None
        callees = [
            c
            for c in value["callees"]
            if type(c) is list
            and len(c) == 3
            and valid_node_name(c[0])
            and type(c[1]) is int
            and _id(c[2])
        ]
        return {"invoke": value["invoke"], "callees": callees}

    @staticmethod
    def dump(value: dict[str, Any]) -> bytes:
        data: bytes = msgpack.packb(value, use_bin_type=True)
        return data

    @staticmethod
    def claim(
        current: dict[str, Any] | None, node: str, epoch: int, sessions: list[int], invoke: str
    ) -> tuple[dict[str, Any] | None, bool]:
        """Admit ``sessions`` of ``node`` as callees: (value to write or None for no write,
        admitted). Entries of ``node`` from an older epoch are stale and dropped."""
        callees = [] if current is None else current["callees"]
        live = [c for c in callees if not (c[0] == node and c[1] < epoch)]
        if live and current is not None:
            others = [c for c in live if c[0] != node or c[2] not in sessions]
            if others and (invoke == "single" or current["invoke"] != invoke):
                return None, False
        present = {(c[0], c[2]) for c in live}
        added = [[node, epoch, s] for s in sessions if (node, s) not in present]
        if not added and len(live) == len(callees) and current is not None:
            return None, True  # already admitted: nothing to write
        return {"invoke": invoke, "callees": live + added}, True

    @staticmethod
    def release(
        current: dict[str, Any] | None, node: str, sessions: list[int] | None = None, epoch: int = 0
    ) -> tuple[dict[str, Any] | None, bool]:
        """Remove callees of ``node``: the given sessions, or (``sessions`` None) every entry
        of an epoch up to ``epoch`` (a failed node). Returns (new value or None to delete,
        changed)."""
        if current is None:
            return None, False
        if sessions is None:
            kept = [c for c in current["callees"] if not (c[0] == node and c[1] <= epoch)]
        else:
            kept = [c for c in current["callees"] if not (c[0] == node and c[2] in sessions)]
        if len(kept) == len(current["callees"]):
            return current, False
        if not kept:
            return None, True
        return {"invoke": current["invoke"], "callees": kept}, True
