"""What the asyncio and threads client APIs share: typed errors, results, handles, policies,
and the object API's pieces that do not depend on how a call is made (the ``procedure`` and
``topic`` decorators, finding an object's decorated methods, the proxy's URI rule, ``Event``).

Nothing here does I/O; :mod:`.asyncio_client` and :mod:`.threads` re-export these names.
"""

from __future__ import annotations

import inspect
import random
from collections.abc import Callable, Generator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, TypeVar

from wampcore.uri import is_valid

if TYPE_CHECKING:
    from wampcore import client as wc

    from .asyncio_client import Session

__all__ = [
    "CallResult",
    "ConnectionFailed",
    "ConnectionLost",
    "ConnectionRefused",
    "Event",
    "HandshakeFailed",
    "Reconnect",
    "Registration",
    "RouterUnreachable",
    "SessionAborted",
    "Subscription",
    "TLSFailed",
    "handler_args",
    "outgoing",
    "pack",
    "pack_ppt",
    "procedure",
    "topic",
    "unpack",
    "wants_details",
]


# --- errors -----------------------------------------------------------------------------------


class ConnectionFailed(OSError):
    """The session could not be established or was lost; ``str()`` says what happened."""


class RouterUnreachable(ConnectionFailed):
    """No route, unknown host or no answer in time."""


class ConnectionRefused(ConnectionFailed, ConnectionRefusedError):
    """Nothing listens at the address."""


class TLSFailed(ConnectionFailed):
    """The TLS handshake failed (certificate not trusted, wrong host name, not TLS)."""


class HandshakeFailed(ConnectionFailed):
    """The transport handshake (WebSocket upgrade, RawSocket) was refused or broken."""


class SessionAborted(ConnectionFailed):
    """The router answered HELLO (or a running session) with ABORT; ``reason`` is its URI."""

    def __init__(self, reason: str, message: str | None = None) -> None:
        super().__init__(
            f"router aborted the session: {reason}" + (f" ({message})" if message else "")
        )
        self.reason = reason
        self.message = message


class ConnectionLost(ConnectionFailed):
    """The connection closed while a request was outstanding (or the session is not joined)."""


# --- results and handles ----------------------------------------------------------------------


@dataclass(frozen=True)
class CallResult:
    """A result that is not one plain value: several positional results, or keyword results,
    or a result with payload passthru options (wamp-spec.md §4.18).

    ``ppt``: the ``ppt_*`` / ``enc_*`` options of the RESULT (what ``call`` returns), or those a
    handler returns with its result (they become the YIELD's options). With ``enc_algo`` set, a
    single bytes (or str) positional result and no keyword results goes out as Autobahn's raw
    payload, in place of the args list; a raw payload received comes back as ``args[0]``.
    """

    args: list[Any] = field(default_factory=list)
    kwargs: dict[str, Any] = field(default_factory=dict)
    ppt: dict[str, Any] = field(default_factory=dict)


def unpack(
    args: Sequence[Any] | None,
    kwargs: dict[str, Any] | None,
    ppt: Mapping[str, Any] | None = None,
    payload: bytes | str | None = None,
) -> Any:
    """A result as the API returns it: None, the one value, or a :class:`CallResult`.

    A result with payload passthru options (``ppt``) is always a :class:`CallResult`, so the
    caller sees how to decode it; a raw ``payload`` is its ``args[0]``.
    """
    if payload is not None:
        args = [payload]
    if ppt:
        return CallResult(list(args or ()), dict(kwargs or {}), dict(ppt))
    if not kwargs:
        if not args:
            return None
        if len(args) == 1:
            return args[0]
    return CallResult(list(args or ()), dict(kwargs or {}))


def pack(value: Any) -> tuple[list[Any] | None, dict[str, Any] | None]:
    """A handler's return value as (args, kwargs): the inverse of :func:`unpack`."""
    if value is None:
        return None, None
    if isinstance(value, CallResult):
        return list(value.args), dict(value.kwargs)
    return [value], None


def outgoing(
    args: list[Any] | None, kwargs: dict[str, Any] | None, ppt: Mapping[str, Any] | None
) -> tuple[list[Any] | None, dict[str, Any] | None, bytes | str | None]:
    """(args, kwargs, payload) to send: with ``ppt["enc_algo"]`` set, one bytes (or str)
    positional value and no keyword values is Autobahn's raw payload (wamp-spec.md §4.18)."""
    if (
        ppt
        and ppt.get("enc_algo") is not None
        and not kwargs
        and args is not None
        and len(args) == 1
        and isinstance(args[0], bytes | str)
    ):
        return None, None, args[0]
    return args, kwargs, None


def pack_ppt(
    value: Any,
) -> tuple[list[Any] | None, dict[str, Any] | None, dict[str, Any] | None, bytes | str | None]:
    """A handler's return value as (args, kwargs, ppt, payload) for ``yield_result``."""
    args, kwargs = pack(value)
    ppt = dict(value.ppt) if isinstance(value, CallResult) and value.ppt else None
    args, kwargs, payload = outgoing(args, kwargs, ppt)
    return args, kwargs, ppt, payload


def handler_args(ev: wc.PublicationReceived | wc.InvocationReceived) -> tuple[Any, ...]:
    """The positional arguments a handler gets: the args, or a raw payload as the one argument
    (its ``ppt`` options are in ``details.ppt`` for a handler that takes ``details``)."""
    if ev.payload is not None:
        return (ev.payload,)
    return tuple(ev.args or ())


@dataclass(eq=False)
class Subscription:
    """A subscription; re-established (with a new ``id``) after each reconnection."""

    topic: str
    handler: Callable[..., Any]
    match: str | None = None
    id: int | None = None
    session: Session | None = field(default=None, repr=False)
    #: Ask for the retained event on subscribing (and on each resubscription after a
    #: reconnection; wamp-spec.md §4.20).
    get_retained: bool | None = None
    #: Told when the subscription ends other than by ``unsubscribe`` (None: the session left or
    #: the router revoked it; else the error that ended the session for good).
    on_end: Callable[[BaseException | None], None] | None = field(default=None, repr=False)
    wants_details: bool = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.wants_details = wants_details(self.handler)

    async def unsubscribe(self) -> None:
        if self.session is not None:
            await self.session.unsubscribe(self)


@dataclass(eq=False)
class Registration:
    """A registration; re-established (with a new ``id``) after each reconnection."""

    procedure: str
    handler: Callable[..., Any]
    match: str | None = None
    invoke: str | None = None
    id: int | None = None
    session: Session | None = field(default=None, repr=False)
    #: The handler takes the call's arguments as a stream of parts (progressive call
    #: invocations, wamp-spec.md §4.3); a client-side intent, not a REGISTER option.
    receive_progress: bool = False
    wants_details: bool = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.wants_details = wants_details(self.handler)

    async def unregister(self) -> None:
        if self.session is not None:
            await self.session.unregister(self)


@dataclass(frozen=True)
class Reconnect:
    """Reconnection policy: capped exponential backoff with jitter."""

    initial_delay: float = 0.5
    max_delay: float = 30.0
    factor: float = 2.0
    #: Give up after this many failed attempts in a row (None: never).
    max_attempts: int | None = None

    def delays(self) -> Generator[float, None, None]:
        delay, attempts = self.initial_delay, 0
        while self.max_attempts is None or attempts < self.max_attempts:
            attempts += 1
            yield delay * (0.5 + random.random() / 2)
            delay = min(self.max_delay, delay * self.factor)


def wants_details(handler: Callable[..., Any]) -> bool:
    """Whether a handler takes a ``details`` parameter (then it gets the event or invocation)."""
    try:
        return "details" in inspect.signature(handler).parameters
    except (TypeError, ValueError):
        return False


# --- events as values (``session.events``) --------------------------------------------------


@dataclass(frozen=True, slots=True)
class Event:
    """One event, as ``session.events(topic)`` yields it.

    ``args`` and ``kwargs`` are never None (a raw payload is ``args[0]``, as for handlers);
    ``details`` is the :class:`wampcore.client.PublicationReceived` with everything else
    (``publisher``, ``retained``, ``ppt``, ...).
    """

    args: list[Any]
    kwargs: dict[str, Any]
    topic: str
    publication_id: int
    details: wc.PublicationReceived = field(repr=False)

    @classmethod
    def of(cls, ev: wc.PublicationReceived) -> Event:
        return cls(list(handler_args(ev)), dict(ev.kwargs or {}), ev.topic, ev.publication_id, ev)


#: What ``session.events`` does with an event that arrives while its buffer is full.
Overflow = Literal["drop_oldest", "drop_newest", "raise"]
OVERFLOW_POLICIES: tuple[str, ...] = ("drop_oldest", "drop_newest", "raise")


class EventOverflow(Exception):
    """``events(..., overflow="raise")``: more events arrived than the buffer holds; the
    iterator raises this once its buffered events are read, and is closed."""


def check_events_options(
    topic: str, maxsize: int, overflow: str, options: Mapping[str, Any]
) -> None:
    """TypeError/ValueError for ``session.events`` arguments, before anything is sent."""
    if not isinstance(topic, str):
        raise TypeError(f"events(): the topic must be a str, got {topic!r}")
    unknown = sorted(set(options) - SUBSCRIBE_OPTIONS)
    if unknown:
        raise TypeError(
            f"events(): unknown option(s) {', '.join(unknown)}; "
            f"it takes {', '.join(sorted(SUBSCRIBE_OPTIONS))}, maxsize and overflow"
        )
    if isinstance(maxsize, bool) or not isinstance(maxsize, int) or maxsize < 1:
        raise ValueError(f"events(): maxsize must be a positive int, got {maxsize!r}")
    if overflow not in OVERFLOW_POLICIES:
        raise ValueError(
            f"events(): overflow must be one of {', '.join(OVERFLOW_POLICIES)}, got {overflow!r}"
        )


# --- the object API: decorators ---------------------------------------------------------------

_F = TypeVar("_F", bound=Callable[..., Any])
_MARK = "__wampcore_uri__"
#: The keyword options each decorator takes: those of ``register`` and ``subscribe``.
REGISTER_OPTIONS = frozenset({"match", "invoke", "receive_progress"})
SUBSCRIBE_OPTIONS = frozenset({"match", "get_retained"})


@dataclass(frozen=True)
class Marker:
    """What ``@procedure`` / ``@topic`` put on a function: what to register or subscribe."""

    kind: Literal["procedure", "topic"]
    uri: str
    options: Mapping[str, Any]


def _decorator(
    kind: Literal["procedure", "topic"], uri: str, options: dict[str, Any], allowed: frozenset[str]
) -> Callable[[_F], _F]:
    unknown = sorted(set(options) - allowed)
    if unknown:
        raise TypeError(
            f"@{kind}({uri!r}): unknown option(s) {', '.join(unknown)}; "
            f"it takes {', '.join(sorted(allowed))}"
        )
    pattern = options.get("match") in ("prefix", "wildcard")
    if not isinstance(uri, str) or not is_valid(uri, allow_empty=pattern):
        raise ValueError(f"@{kind}: {uri!r} is not a valid URI")
    marker = Marker(kind, uri, dict(options))

    def mark(func: _F) -> _F:
        target = getattr(func, "__func__", func)  # under @staticmethod / @classmethod too
        if getattr(target, _MARK, None) is not None:
            raise TypeError(f"{func!r} is already decorated with @procedure or @topic")
        setattr(target, _MARK, marker)
        return func

    return mark


def procedure(uri: str, **register_options: Any) -> Callable[[_F], _F]:
    """Mark a method for ``session.register_object``: it is registered as ``uri`` with these
    options (``match``, ``invoke``, ``receive_progress``, as ``session.register`` takes them).
    ``session.proxy`` calls ``uri`` for this method. The function itself is unchanged."""
    return _decorator("procedure", uri, register_options, REGISTER_OPTIONS)


def topic(uri: str, **subscribe_options: Any) -> Callable[[_F], _F]:
    """Mark a method for ``session.register_object``: it is subscribed to ``uri`` with these
    options (``match``, ``get_retained``, as ``session.subscribe`` takes them)."""
    return _decorator("topic", uri, subscribe_options, SUBSCRIBE_OPTIONS)


def marker_of(attr: Any) -> Marker | None:
    mark = getattr(attr, _MARK, None)
    if mark is None:
        mark = getattr(getattr(attr, "__func__", None), _MARK, None)
    return mark if isinstance(mark, Marker) else None


def _names(klass: type) -> list[str]:
    """Attribute names of a class in definition order, base classes first."""
    seen: dict[str, None] = {}
    for base in reversed(klass.__mro__):
        if base is not object:
            seen.update(dict.fromkeys(vars(base)))
    return list(seen)


def decorated_members(obj: object) -> list[tuple[Marker, Callable[..., Any]]]:
    """The ``@procedure`` / ``@topic`` methods of ``obj``, bound, in definition order (base
    classes first). The decorator counts on the method the object actually has: an override
    without it is not registered. Attributes are inspected statically (no property runs)."""
    found: list[tuple[Marker, Callable[..., Any]]] = []
    for name in _names(type(obj)):
        try:
            raw = inspect.getattr_static(obj, name)
        except AttributeError:
            continue
        mark = marker_of(raw)
        if mark is not None:
            found.append((mark, getattr(obj, name)))
    if not found:
        raise TypeError(f"{obj!r} has no methods decorated with @procedure or @topic")
    return found


# --- the object API: proxies ------------------------------------------------------------------


@dataclass(frozen=True)
class ProxyMethod:
    """How a proxy calls one method: its URI, the signature to check the arguments against,
    and whether its one argument is a stream of parts (``receive_progress``)."""

    name: str
    uri: str
    signature: inspect.Signature
    streaming: bool


def proxy_plan(
    cls: type, prefix: str | None, *, coroutines: bool
) -> tuple[dict[str, ProxyMethod], dict[str, str]]:
    """Which methods of ``cls`` a proxy offers, and why the others are not offered.

    The rule: every public plain method (``def`` or ``async def`` in the class body, not
    ``_private``, not a static or class method) is proxied. One decorated with
    ``@procedure(uri)`` calls ``uri`` (a pattern registration, ``match="prefix"`` or
    ``"wildcard"``, has no one URI to call and is not proxied); any other calls ``prefix`` +
    its name, or is not proxied when there is no ``prefix``. ``@topic`` methods are not
    proxied. ``coroutines``: the asyncio proxy needs ``async def`` methods (so their type says
    they return awaitables), the blocking proxy plain ``def`` ones.
    """
    if prefix is not None and (not isinstance(prefix, str) or not prefix):
        raise TypeError(f"prefix must be a non-empty str, got {prefix!r}")
    methods: dict[str, ProxyMethod] = {}
    skipped: dict[str, str] = {}
    for name in _names(cls):
        if name.startswith("_"):
            continue
        raw = inspect.getattr_static(cls, name)
        if not inspect.isfunction(raw):
            continue
        mark = marker_of(raw)
        if mark is not None and mark.kind == "topic":
            skipped[name] = f"it is a @topic handler ({mark.uri})"
            continue
        if mark is not None:
            if mark.options.get("match") not in (None, "exact"):
                skipped[name] = f"it is registered by pattern ({mark.uri!r}, no one URI to call)"
                continue
            uri = mark.uri
        elif prefix is None:
            skipped[name] = "it has no @procedure and the proxy has no prefix"
            continue
        else:
            uri = prefix + name
            if not is_valid(uri):
                raise ValueError(f"proxy of {cls.__name__}.{name}: {uri!r} is not a valid URI")
        if inspect.iscoroutinefunction(raw) != coroutines:
            want = "async def" if coroutines else "a plain def"
            api = "asyncio" if coroutines else "blocking (threads)"
            raise TypeError(
                f"{cls.__name__}.{name}: the {api} proxy needs {want} methods, so that their "
                "types say what calling them returns"
            )
        params = list(inspect.signature(raw).parameters.values())[1:]  # without self
        params = [p for p in params if p.name != "details"]  # the callee's, never sent
        streaming = bool(mark is not None and mark.options.get("receive_progress"))
        methods[name] = ProxyMethod(
            name,
            uri,
            inspect.Signature(params, return_annotation=inspect.Signature.empty),
            streaming,
        )
    if not methods:
        raise TypeError(
            f"{cls.__name__} has no methods to proxy: decorate them with @procedure or pass prefix="
        )
    return methods, skipped


class Proxy:
    """What ``session.proxy(cls)`` returns (typed as ``cls``): each method of the plan issues a
    call through ``invoke(method, args, kwargs)``, after checking the arguments against the
    method's signature (a TypeError, nothing sent, when they do not fit)."""

    def __init__(
        self,
        cls: type,
        methods: dict[str, ProxyMethod],
        skipped: dict[str, str],
        invoke: Callable[[ProxyMethod, tuple[Any, ...], dict[str, Any]], Any],
    ) -> None:
        self._cls = cls
        self._methods = methods
        self._skipped = skipped
        self._invoke = invoke

    def __getattr__(self, name: str) -> Callable[..., Any]:
        method = self.__dict__.get("_methods", {}).get(name)
        if method is None:
            why = self.__dict__.get("_skipped", {}).get(name)
            cls = self.__dict__.get("_cls", type(self))
            raise AttributeError(
                f"proxy of {cls.__name__} has no method {name!r}" + (f": {why}" if why else "")
            )

        def call(*args: Any, **kwargs: Any) -> Any:
            try:
                method.signature.bind(*args, **kwargs)
            except TypeError as exc:
                raise TypeError(f"{self._cls.__name__}.{name}(): {exc}") from None
            return self._invoke(method, args, kwargs)

        call.__name__ = name
        call.__qualname__ = f"{self._cls.__name__}.{name}"
        return call

    def __dir__(self) -> list[str]:
        return sorted(self._methods)

    def __repr__(self) -> str:
        calls = ", ".join(f"{m.name}->{m.uri}" for m in self._methods.values())
        return f"<proxy of {self._cls.__name__}: {calls}>"
