"""What the asyncio and threads client APIs share: typed errors, results, handles, policies.

Nothing here does I/O; :mod:`.asyncio_client` and :mod:`.threads` re-export these names.
"""

from __future__ import annotations

import inspect
import random
from collections.abc import Callable, Generator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from wampcore import client as wc

    from .asyncio_client import Session

__all__ = [
    "CallResult",
    "ConnectionFailed",
    "ConnectionLost",
    "ConnectionRefused",
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
