"""The one description of every WAMP message wampcore speaks (wamp-spec.md §1.2, §1.4).

Pure data, no behaviour. ``tools/gen_messages.py`` turns it into ``wampcore/messages.py`` (the
classes, parsers and error texts); the spec tests, the hypothesis strategies and the router's
URI positions read it directly. Anything that knows the shape of a message asks this table.

A message is a ``MessageSpec``: code, spec name, class name, and its wire elements after the
code as ``Field`` entries, in wire order. A field's ``kind`` says what it holds:

``id``        an id, integer in [1, 2^53] (bool is not an int)
``uri``       a loose URI (``pattern``: empty components allowed with match=prefix|wildcard)
``str``       any string
``type``      ERROR's request type: one of ``ERROR_REQUEST_TYPES``
``options``   an Options/Details dict with string keys whose known keys (``KNOWN_KEYS[table]``)
              must hold values of their kind; unknown keys are kept and ignored
``extra``     a free-form dict with string keys (CHALLENGE/AUTHENTICATE Extra)

The application payload (Arguments|list, ArgumentsKw|dict) is not a field: ``payload_at`` is
the wire position where it may start (None: the message has none), ``container`` the field
whose ``enc_algo`` a transparent payload requires (None: no transparent payload, ABORT).

The irregular cases are named ``hooks`` that the generator (and the strategies) implement:

``roles``       HELLO/WELCOME: Details.roles is required, every role a dict (``roles_need``
                says what the error text asks for)
``pattern``     SUBSCRIBE/REGISTER: the URI may have empty components for pattern matches
``revocable``   UNSUBSCRIBED/UNREGISTERED: ``[code, Request|id]``, or ``[code, 0, Details]``
                naming ``Details.<revokes>`` (the revocation form); Details left out on the
                wire when empty

``properties`` are the read-only conveniences a class offers, by name (see the generator).
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "ERROR_REQUEST_TYPES",
    "KNOWN_KEYS",
    "MESSAGES",
    "PPT_KEYS",
    "Field",
    "MessageSpec",
    "OneOf",
    "by_code",
    "uri_answer_positions",
]


@dataclass(frozen=True, slots=True)
class OneOf:
    """A known key whose value must be one of these strings (None: the key may hold null)."""

    values: tuple[str | None, ...]


#: The value kinds of known Options/Details keys: a string naming the kind, or a ``OneOf``.
#: ``bool``/``str`` exact type; ``id`` in [1, 2^53]; ``count`` integer >= 0; ``uri`` loose
#: URI; ``str_dict`` dict with string keys; ``id_list``/``str_list``/``dict_list`` lists of those.
ValueKind = str | OneOf

VALUE_KINDS = (
    "bool",
    "str",
    "id",
    "count",
    "uri",
    "str_dict",
    "id_list",
    "str_list",
    "dict_list",
)


@dataclass(frozen=True, slots=True)
class Field:
    """One wire element after the message code."""

    #: Attribute name on the message class.
    name: str
    #: The spec's name, as error texts use it after the message name (``PUBLISHED.Publication``).
    wire: str
    #: ``id``, ``uri``, ``str``, ``type``, ``options`` or ``extra`` (see the module docs).
    kind: str
    #: For ``options``: the ``KNOWN_KEYS`` table.
    known: str | None = None
    #: For dict kinds: whether the constructor defaults it to ``{}``.
    optional: bool = False


@dataclass(frozen=True, slots=True)
class MessageSpec:
    code: int
    #: Upper-case spec name (``EVENT_RECEIVED``); also the code constant's name.
    name: str
    #: Class name in ``wampcore.messages``.
    cls: str
    #: The class docstring (its first line: the wire form).
    doc: str
    fields: tuple[Field, ...]
    #: Wire position where Arguments may start, or None.
    payload_at: int | None = None
    #: Field whose ``enc_algo`` a transparent payload requires; None: no transparent payload.
    container: str | None = None
    hooks: tuple[str, ...] = ()
    #: ``roles`` hook: what Details.roles must announce (for the error text).
    roles_need: str = ""
    #: ``revocable`` hook: the Details key naming what a revocation revokes.
    revokes: str = ""
    #: Named read-only properties (``roles``, ``match``, ``invoke``, ``progress``,
    #: ``is_revocation``).
    properties: tuple[str, ...] = ()
    #: Whether a malformed URI (and nothing else) is answered with ``wamp.error.invalid_uri``
    #: instead of a protocol violation (wamp-spec.md §2.2): requests a router answers.
    uri_answerable: bool = False

    @property
    def min_len(self) -> int:
        """Shortest legal wire length, code included."""
        if "revocable" in self.hooks:
            return 2
        return 1 + len(self.fields)

    @property
    def max_len(self) -> int:
        """Longest legal wire length, code included."""
        if self.payload_at is not None:
            return self.payload_at + 2
        return 1 + len(self.fields)

    def position(self, name: str) -> int:
        """The wire position of field ``name``."""
        for i, f in enumerate(self.fields, start=1):
            if f.name == name:
                return i
        raise KeyError(name)

    def positions(self, kind: str) -> list[int]:
        """The wire positions of every field of ``kind``."""
        return [i for i, f in enumerate(self.fields, start=1) if f.kind == kind]


#: Payload passthru keys (wamp-spec.md §4.18, and Autobahn's ``enc_*``): they travel unchanged
#: from CALL/PUBLISH/YIELD options to INVOCATION/EVENT/RESULT details.
PPT_KEYS = (
    "ppt_scheme",
    "ppt_serializer",
    "ppt_cipher",
    "ppt_keyid",
    "enc_algo",
    "enc_serializer",
    "enc_key",
)

_ENC: dict[str, ValueKind] = {
    "enc_algo": OneOf((None, "cryptobox", "mqtt", "xbr")),
    "enc_serializer": OneOf(("json", "msgpack", "cbor", "ubjson", "opaque", "flatbuffers")),
    "enc_key": "str",
    "ppt_scheme": "str",
    "ppt_serializer": "str",
    "ppt_cipher": "str",
    "ppt_keyid": "str",
    "forward_for": "dict_list",
    "transaction_hash": "str",
}
MATCH = OneOf(("exact", "prefix", "wildcard"))
CANCEL_MODE = OneOf(("skip", "kill", "killnowait"))

#: Known Options/Details keys and their value kinds (wamp-spec.md §1.4; Autobahn's too, whose
#: behaviour the spec's vectors follow). Anything else is kept and ignored.
KNOWN_KEYS: dict[str, dict[str, ValueKind]] = {
    "hello": {
        "roles": "str_dict",
        "agent": "str",
        "authmethods": "str_list",
        "authid": "str",
        "authrole": "str",
        "authextra": "str_dict",
    },
    "welcome": {
        "roles": "str_dict",
        "agent": "str",
        "authid": "str",
        "authrole": "str",
        "authmethod": "str",
        "authprovider": "str",
        "authextra": "str_dict",
    },
    "close": {"message": "str"},
    "publish": {
        "acknowledge": "bool",
        "exclude_me": "bool",
        "exclude": "id_list",
        "exclude_authid": "str_list",
        "exclude_authrole": "str_list",
        "eligible": "id_list",
        "eligible_authid": "str_list",
        "eligible_authrole": "str_list",
        "disclose_me": "bool",
        "retain": "bool",
        "rkey": "str",
        **_ENC,
    },
    "subscribe": {
        "match": MATCH,
        "get_retained": "bool",
        "nkey": "str",
        "forward_for": "dict_list",
    },
    "event": {
        "publisher": "id",
        "publisher_authid": "str",
        "publisher_authrole": "str",
        "trustlevel": "count",
        "topic": "uri",
        "retained": "bool",
        "x_acknowledged_delivery": "bool",
        **_ENC,
    },
    "call": {
        "receive_progress": "bool",
        "progress": "bool",
        "timeout": "count",
        "disclose_me": "bool",
        "runmode": "str",
        "rkey": "str",
        "caller": "id",
        "caller_authid": "str",
        "caller_authrole": "str",
        **_ENC,
    },
    "cancel": {"mode": CANCEL_MODE},
    "interrupt": {"mode": CANCEL_MODE, "reason": "str"},
    "register": {
        "match": MATCH,
        "invoke": OneOf(("single", "roundrobin", "random", "first", "last")),
        "disclose_caller": "bool",
        "forward_timeout": "bool",
        "concurrency": "count",
        "force_reregister": "bool",
        "forward_for": "dict_list",
    },
    "invocation": {
        "caller": "id",
        "caller_authid": "str",
        "caller_authrole": "str",
        "procedure": "uri",
        "receive_progress": "bool",
        "progress": "bool",
        "trustlevel": "count",
        "timeout": "count",
        **_ENC,
    },
    # RESULT.Details and YIELD.Options.
    "result": {
        "progress": "bool",
        "callee": "id",
        "callee_authid": "str",
        "callee_authrole": "str",
        **_ENC,
    },
    "error": {
        "callee": "id",
        "callee_authid": "str",
        "callee_authrole": "str",
        **_ENC,
    },
    # The Details of UNSUBSCRIBED/UNREGISTERED (both forms).
    "revocation": {"reason": "str", "subscription": "id", "registration": "id"},
}

#: The request types an ERROR may answer (wamp-spec.md §1.2 notes).
ERROR_REQUEST_TYPES = frozenset({16, 32, 34, 48, 64, 66, 68})


def _opts(name: str, wire: str, known: str) -> Field:
    return Field(name, wire, "options", known=known, optional=True)


_REQUEST = Field("request_id", "Request", "id")

MESSAGES: tuple[MessageSpec, ...] = (
    MessageSpec(
        1,
        "HELLO",
        "Hello",
        "``[1, Realm|uri, Details|dict]``: a client asks to join a realm.",
        (Field("realm", "Realm", "uri"), Field("details", "Details", "options", known="hello")),
        hooks=("roles",),
        roles_need="at least one role",
        properties=("roles",),
        uri_answerable=True,
    ),
    MessageSpec(
        2,
        "WELCOME",
        "Welcome",
        "``[2, Session|id, Details|dict]``: the router accepts a session.",
        (Field("session_id", "Session", "id"), Field("details", "Details", "options", "welcome")),
        hooks=("roles",),
        roles_need="a router role",
        properties=("roles",),
    ),
    MessageSpec(
        3,
        "ABORT",
        "Abort",
        "``[3, Details|dict, Reason|uri, (Arguments|list, (ArgumentsKw|dict))]``.",
        (_opts("details", "Details", "close"), Field("reason", "Reason", "uri")),
        payload_at=3,
    ),
    MessageSpec(
        4,
        "CHALLENGE",
        "Challenge",
        "``[4, AuthMethod|string, Extra|dict]``.",
        (Field("method", "AuthMethod", "str"), Field("extra", "Extra", "extra", optional=True)),
    ),
    MessageSpec(
        5,
        "AUTHENTICATE",
        "Authenticate",
        "``[5, Signature|string, Extra|dict]``.",
        (
            Field("signature", "Signature", "str"),
            Field("extra", "Extra", "extra", optional=True),
        ),
    ),
    MessageSpec(
        6,
        "GOODBYE",
        "Goodbye",
        "``[6, Details|dict, Reason|uri]``.",
        (_opts("details", "Details", "close"), Field("reason", "Reason", "uri")),
    ),
    MessageSpec(
        8,
        "ERROR",
        "Error",
        "``[8, REQUEST.Type|int, REQUEST.Request|id, Details|dict, Error|uri, (Args, (Kwargs))]``.",
        (
            Field("request_type", "REQUEST.Type", "type"),
            Field("request_id", "REQUEST.Request", "id"),
            _opts("details", "Details", "error"),
            Field("error", "Error", "uri"),
        ),
        payload_at=5,
        container="details",
    ),
    MessageSpec(
        16,
        "PUBLISH",
        "Publish",
        "``[16, Request|id, Options|dict, Topic|uri, (Arguments|list, (ArgumentsKw|dict))]``.",
        (_REQUEST, _opts("options", "Options", "publish"), Field("topic", "Topic", "uri")),
        payload_at=4,
        container="options",
        uri_answerable=True,
    ),
    MessageSpec(
        17,
        "PUBLISHED",
        "Published",
        "``[17, PUBLISH.Request|id, Publication|id]``.",
        (
            Field("request_id", "PUBLISH.Request", "id"),
            Field("publication_id", "Publication", "id"),
        ),
    ),
    MessageSpec(
        32,
        "SUBSCRIBE",
        "Subscribe",
        "``[32, Request|id, Options|dict, Topic|uri]``; empty components only for patterns.",
        (_REQUEST, _opts("options", "Options", "subscribe"), Field("topic", "Topic", "uri")),
        hooks=("pattern",),
        properties=("match",),
        uri_answerable=True,
    ),
    MessageSpec(
        33,
        "SUBSCRIBED",
        "Subscribed",
        "``[33, SUBSCRIBE.Request|id, Subscription|id]``.",
        (
            Field("request_id", "SUBSCRIBE.Request", "id"),
            Field("subscription_id", "Subscription", "id"),
        ),
    ),
    MessageSpec(
        34,
        "UNSUBSCRIBE",
        "Unsubscribe",
        "``[34, Request|id, SUBSCRIBED.Subscription|id]``.",
        (_REQUEST, Field("subscription_id", "SUBSCRIBED.Subscription", "id")),
    ),
    MessageSpec(
        35,
        "UNSUBSCRIBED",
        "Unsubscribed",
        "``[35, UNSUBSCRIBE.Request|id]``, or the revocation form ``[35, 0, Details|dict]``.",
        (_REQUEST, _opts("details", "Details", "revocation")),
        hooks=("revocable",),
        revokes="subscription",
        properties=("is_revocation",),
    ),
    MessageSpec(
        36,
        "EVENT",
        "Event",
        "``[36, Subscription|id, Publication|id, Details|dict, (Arguments, (ArgumentsKw))]``.",
        (
            Field("subscription_id", "SUBSCRIBED.Subscription", "id"),
            Field("publication_id", "PUBLISHED.Publication", "id"),
            _opts("details", "Details", "event"),
        ),
        payload_at=4,
        container="details",
    ),
    MessageSpec(
        337,
        "EVENT_RECEIVED",
        "EventReceived",
        "``[337, EVENT.Publication|id]``: acknowledged event delivery (implementation-specific).",
        (Field("publication_id", "EVENT.Publication", "id"),),
    ),
    MessageSpec(
        48,
        "CALL",
        "Call",
        "``[48, Request|id, Options|dict, Procedure|uri, (Arguments|list, (ArgumentsKw|dict))]``.",
        (_REQUEST, _opts("options", "Options", "call"), Field("procedure", "Procedure", "uri")),
        payload_at=4,
        container="options",
        uri_answerable=True,
    ),
    MessageSpec(
        49,
        "CANCEL",
        "Cancel",
        "``[49, CALL.Request|id, Options|dict]``.",
        (Field("request_id", "CALL.Request", "id"), _opts("options", "Options", "cancel")),
    ),
    MessageSpec(
        50,
        "RESULT",
        "Result",
        "``[50, CALL.Request|id, Details|dict, "
        "(YIELD.Arguments|list, (YIELD.ArgumentsKw|dict))]``.",
        (Field("request_id", "CALL.Request", "id"), _opts("details", "Details", "result")),
        payload_at=3,
        container="details",
        properties=("progress",),
    ),
    MessageSpec(
        64,
        "REGISTER",
        "Register",
        "``[64, Request|id, Options|dict, Procedure|uri]``; empty components only for patterns.",
        (
            _REQUEST,
            _opts("options", "Options", "register"),
            Field("procedure", "Procedure", "uri"),
        ),
        hooks=("pattern",),
        properties=("match", "invoke"),
        uri_answerable=True,
    ),
    MessageSpec(
        65,
        "REGISTERED",
        "Registered",
        "``[65, REGISTER.Request|id, Registration|id]``.",
        (
            Field("request_id", "REGISTER.Request", "id"),
            Field("registration_id", "Registration", "id"),
        ),
    ),
    MessageSpec(
        66,
        "UNREGISTER",
        "Unregister",
        "``[66, Request|id, REGISTERED.Registration|id]``.",
        (_REQUEST, Field("registration_id", "REGISTERED.Registration", "id")),
    ),
    MessageSpec(
        67,
        "UNREGISTERED",
        "Unregistered",
        "``[67, UNREGISTER.Request|id]``, or the revocation form ``[67, 0, Details|dict]``.",
        (_REQUEST, _opts("details", "Details", "revocation")),
        hooks=("revocable",),
        revokes="registration",
        properties=("is_revocation",),
    ),
    MessageSpec(
        68,
        "INVOCATION",
        "Invocation",
        "``[68, Request|id, Registration|id, Details|dict, (Arguments, (ArgumentsKw))]``.",
        (
            _REQUEST,
            Field("registration_id", "REGISTERED.Registration", "id"),
            _opts("details", "Details", "invocation"),
        ),
        payload_at=4,
        container="details",
    ),
    MessageSpec(
        69,
        "INTERRUPT",
        "Interrupt",
        "``[69, INVOCATION.Request|id, Options|dict]``.",
        (
            Field("request_id", "INVOCATION.Request", "id"),
            _opts("options", "Options", "interrupt"),
        ),
    ),
    MessageSpec(
        70,
        "YIELD",
        "Yield",
        "``[70, INVOCATION.Request|id, Options|dict, (Arguments|list, (ArgumentsKw|dict))]``.",
        (Field("request_id", "INVOCATION.Request", "id"), _opts("options", "Options", "result")),
        payload_at=3,
        container="options",
        properties=("progress",),
    ),
)

_BY_CODE = {spec.code: spec for spec in MESSAGES}


def by_code(code: int) -> MessageSpec:
    """The spec of message ``code`` (KeyError if wampcore does not speak it)."""
    return _BY_CODE[code]


def uri_answer_positions() -> dict[int, int]:
    """Code -> wire position of the URI, for the messages a router answers with
    ``wamp.error.invalid_uri`` when that URI is their only defect (wamp-spec.md §2.2)."""
    return {spec.code: spec.positions("uri")[0] for spec in MESSAGES if spec.uri_answerable}
