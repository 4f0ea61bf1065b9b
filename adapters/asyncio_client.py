"""The asyncio client: ``connect(url, realm)`` gives a :class:`Session` over a ClientPeer.

Each connection is one :class:`asyncio.Protocol` feeding a :class:`wampcore.client.ClientPeer`;
the peer decides everything WAMP (request ids, state, progress, cancel), this module only turns
its events into awaited results and handler calls. A :class:`Session` survives reconnections
(``reconnect=True``): subscriptions and registrations are objects it re-establishes, with their
handlers, on every new connection.

It also owns the object API's asyncio half (``register_object``, ``proxy``, ``events``: see
docs/client-api.md) and progressive call invocations both ways: ``call(...,
progress_args=parts)`` streams a call's arguments, a handler registered with
``receive_progress=True`` reads them as an async iterator (wamp-spec.md §4.3).
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
import ssl as _ssl
from collections import deque
from collections.abc import (
    AsyncIterable,
    AsyncIterator,
    Awaitable,
    Callable,
    Generator,
    Iterable,
    Mapping,
    Sequence,
)
from typing import Any, TypeVar, cast

from wampcore import client as wc
from wampcore.errors import ApplicationError, LocalProtocolError, MessageTooLargeError

from .client_api import (
    CallResult,
    ConnectionFailed,
    ConnectionLost,
    ConnectionRefused,
    Event,
    EventOverflow,
    HandshakeFailed,
    Overflow,
    Proxy,
    ProxyMethod,
    Reconnect,
    Registration,
    RouterUnreachable,
    SessionAborted,
    Subscription,
    TLSFailed,
    check_events_options,
    decorated_members,
    handler_args,
    outgoing,
    pack,
    pack_ppt,
    procedure,
    proxy_plan,
    topic,
    unpack,
)
from .endpoints import DEFAULT_SERIALIZERS, Endpoint, channel_id, parse_url

__all__ = [
    "CallResult",
    "ConnectionFailed",
    "ConnectionLost",
    "ConnectionRefused",
    "Event",
    "EventOverflow",
    "EventStream",
    "HandshakeFailed",
    "Reconnect",
    "Registration",
    "RouterUnreachable",
    "Session",
    "SessionAborted",
    "Subscription",
    "TLSFailed",
    "connect",
    "procedure",
    "topic",
]

log = logging.getLogger("wampcore.adapters.asyncio")

#: The error URI sent when a handler raises something other than ApplicationError.
RUNTIME_ERROR = "wamp.error.runtime_error"
_CANCELED = "wamp.error.canceled"
_TIMEOUT = "wamp.error.timeout"
_NOT_STREAMING = "wamp.error.feature_not_supported"
#: The error a streaming invocation gets when its handler falls PARTS_BUFFER parts behind.
TOO_MANY_PARTS = "wampcore.error.too_many_parts"
#: How many received parts of a progressive call invocation may wait for the handler to read
#: them; one more, and the invocation is cancelled and answered with TOO_MANY_PARTS.
PARTS_BUFFER = 1024

_T = TypeVar("_T")


# --- one connection ---------------------------------------------------------------------------


class _Link(asyncio.Protocol):
    """One transport connection and its ClientPeer; reports everything to its Session."""

    def __init__(self, session: Session, peer: wc.ClientPeer) -> None:
        self.session = session
        self.peer = peer
        self.transport: asyncio.Transport | None = None
        self.joined: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.lost: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.pending: dict[int, asyncio.Future[Any]] = {}
        self.progress: dict[int, asyncio.Queue[Any]] = {}
        self.invocations: dict[int, asyncio.Task[None]] = {}
        #: INVOCATION request id -> the parts a ``receive_progress`` handler is reading.
        self.parts: dict[int, _Parts] = {}
        #: SUBSCRIBE request id -> its Subscription, until SUBSCRIBED (retained events follow it).
        self.subscribing: dict[int, Subscription] = {}
        self._writable: asyncio.Event = asyncio.Event()
        self._writable.set()
        self.close_reason: str = "the router closed the connection"

    # asyncio.Protocol
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports are not asyncio.Transport subclasses, but have its interface.
        self.transport = cast(asyncio.Transport, transport)
        self.peer.channel_id = channel_id(transport)  # cryptosign channel binding (§4.28)
        self.flush()

    def data_received(self, data: bytes) -> None:
        self.peer.receive_data(data)
        self.pump()

    def eof_received(self) -> bool:
        self.peer.receive_data(b"")
        self.pump()
        return False

    def connection_lost(self, exc: Exception | None) -> None:
        with contextlib.suppress(Exception):
            self.peer.receive_data(b"")
            self.pump()
        self._finish(
            ConnectionLost(self.close_reason if exc is None else f"{self.close_reason}: {exc}")
        )

    def pause_writing(self) -> None:
        self._writable.clear()

    def resume_writing(self) -> None:
        self._writable.set()

    async def drain(self) -> None:
        await self._writable.wait()

    # moving bytes
    def flush(self) -> None:
        if self.transport is None or self.transport.is_closing():
            return
        data = self.peer.data_to_send()
        if data:
            self.transport.write(data)
        if self.peer.closed:
            self.transport.close()

    def pump(self) -> None:
        while (event := self.peer.next_event()) is not None:
            self.session._dispatch(self, event)
        self.flush()

    def request(self, request_id: int) -> asyncio.Future[Any]:
        fut: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self.pending[request_id] = fut
        self.flush()
        return fut

    def _finish(self, error: ConnectionFailed) -> None:
        _resolve(self.lost, None)
        for fut in (self.joined, *self.pending.values()):
            if not fut.done():
                fut.set_exception(error)
        if not self.joined.cancelled():
            self.joined.exception()  # mark it retrieved: nobody awaits `joined` after the join
        for queue in self.progress.values():
            queue.put_nowait(error)
        for task in self.invocations.values():
            task.cancel()
        for parts in self.parts.values():
            parts.end(error)
        self.pending.clear()
        self.progress.clear()
        self.invocations.clear()
        self.parts.clear()
        self.subscribing.clear()
        self.session._link_lost(self, error)


# --- the session ------------------------------------------------------------------------------

Handler = Callable[..., Any]


class Session:
    """A WAMP session for application code; create with :func:`connect`.

    With ``reconnect`` set, a lost connection is re-established in the background and every
    subscription and registration is restored; ``on_join``/``on_leave`` observe each round.
    Requests made while disconnected raise :class:`ConnectionLost`.
    """

    def __init__(
        self,
        url: str,
        realm: str,
        *,
        serializers: Sequence[str] | None = None,
        ssl: _ssl.SSLContext | None = None,
        timeout: float = 10.0,
        reconnect: bool | Reconnect = False,
        max_message_size: int = 16 * 1024 * 1024,
        on_join: Callable[[Session], Any] | None = None,
        on_leave: Callable[[Session, str], Any] | None = None,
        **peer_options: Any,
    ) -> None:
        self.url = url
        self.realm = realm
        # "local:<realm>" names a router-internal session (see .local); it has no endpoint.
        self._endpoint: Endpoint | None = None if url.startswith("local:") else parse_url(url)
        self._serializers = tuple(serializers or DEFAULT_SERIALIZERS)
        self._ssl = ssl
        if self._endpoint is not None and self._endpoint.tls and ssl is None:
            self._ssl = _ssl.create_default_context()
        self._timeout = timeout
        self._reconnect = Reconnect() if reconnect is True else (reconnect or None)
        self._max_message_size = max_message_size
        self._on_join = on_join
        self._on_leave = on_leave
        # Lenient about the router's INVOCATION ids by default: Crossbar.io's are not per-session
        # sequential. Pass strict_request_ids=True to hold routers to wamp-spec §3.6.
        self._peer_options = {"strict_request_ids": False, **peer_options}
        self._link: _Link | None = None
        self._subscriptions: dict[int, list[Subscription]] = {}
        self._registrations: dict[int, Registration] = {}
        self._leaving = False
        self._closed = asyncio.Event()
        self._reconnector: asyncio.Task[None] | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        #: The current WAMP session id (None while disconnected).
        self.session_id: int | None = None
        #: The WELCOME as a :class:`wampcore.client.Joined` event (authid, router roles, ...).
        self.details: Any = None
        #: Why the last connection ended (None while it is up).
        self.close_reason: str | None = None

    # --- lifecycle ----------------------------------------------------------------------------

    @property
    def is_joined(self) -> bool:
        return self.session_id is not None

    async def _open(self) -> None:
        ep = self._endpoint
        if ep is None:
            raise ConnectionFailed(f"{self.url}: not a transport URL")
        peer = wc.ClientPeer(
            self.realm,
            ep.client_framing(self._serializers, max_message_size=self._max_message_size),
            **self._peer_options,
        )
        link = _Link(self, peer)
        where = ep.unix_path or f"{ep.host}:{ep.port}"
        try:
            await self._connect(link, ep, where)
        except BaseException:
            # Not joined (refused, aborted, timed out, cancelled): the connection is not kept.
            if link.transport is not None:
                link.transport.abort()
            raise
        self._link = link
        await self._restore(link)
        if self._on_join is not None:
            await _maybe_await(self._on_join(self))

    async def _connect(self, link: _Link, ep: Endpoint, where: str) -> None:
        loop = asyncio.get_running_loop()
        try:
            async with asyncio.timeout(self._timeout):
                if ep.unix_path is not None:
                    await loop.create_unix_connection(lambda: link, ep.unix_path, ssl=self._ssl)
                else:
                    hostname = ep.host if self._ssl is not None else None
                    await loop.create_connection(
                        lambda: link, ep.host, ep.port, ssl=self._ssl, server_hostname=hostname
                    )
                await link.joined
        except TimeoutError:
            raise RouterUnreachable(f"no answer from {self.url} within {self._timeout} s") from None
        except _ssl.SSLError as exc:
            raise TLSFailed(f"TLS handshake with {where} failed: {exc.reason or exc}") from None
        except ConnectionRefusedError:
            raise ConnectionRefused(
                f"connection to {where} refused (is a router running?)"
            ) from None
        except ConnectionFailed:
            raise
        except OSError as exc:
            raise RouterUnreachable(f"cannot reach {where}: {exc.strerror or exc}") from None

    async def _restore(self, link: _Link) -> None:
        subs = [sub for group in self._subscriptions.values() for sub in group]
        self._subscriptions = {}
        regs, self._registrations = list(self._registrations.values()), {}
        for sub in subs:
            await self._subscribe(sub)
        for reg in regs:
            await self._register(reg)

    def _link_lost(self, link: _Link, error: ConnectionFailed) -> None:
        if link is not self._link:
            return  # a connection that never joined: _open reports that failure itself
        self._link = None
        self.session_id = None
        self.close_reason = str(error)
        if self._on_leave is not None:
            self._spawn(_maybe_await(self._on_leave(self, str(error))))
        if self._reconnect is not None and not self._leaving and self._reconnector is None:
            self._reconnector = asyncio.get_running_loop().create_task(self._reconnect_loop())
        elif self._reconnector is None:
            self._over(None if self._leaving else error)

    async def _reconnect_loop(self) -> None:
        assert self._reconnect is not None
        try:
            for delay in self._reconnect.delays():
                await asyncio.sleep(delay)
                if self._leaving:
                    return
                try:
                    await self._open()
                    return
                except ConnectionFailed as exc:
                    log.info("reconnecting to %s failed: %s", self.url, exc)
            self._over(ConnectionLost(f"gave up reconnecting to {self.url}"))
        finally:
            self._reconnector = None

    async def leave(
        self, reason: str = "wamp.close.close_realm", message: str | None = None
    ) -> None:
        """Say GOODBYE, wait for the reply (bounded by ``timeout``) and close the connection."""
        self._leaving = True
        if self._reconnector is not None:
            self._reconnector.cancel()
        link = self._link
        if link is not None:
            with contextlib.suppress(Exception):
                link.peer.leave(reason=reason, message=message)
                link.flush()
                async with asyncio.timeout(self._timeout):
                    await link.lost
            if link.transport is not None:
                link.transport.abort()
        self._over(None)

    def _over(self, error: ConnectionFailed | None) -> None:
        """The session is over for good (``error`` None: it left): ``events`` iterators end."""
        self._closed.set()
        for group in list(self._subscriptions.values()):
            for sub in group:
                if sub.on_end is not None:
                    sub.on_end(error)

    async def wait_closed(self) -> None:
        """Return once the session is over for good (left, or lost without reconnection)."""
        await self._closed.wait()

    async def __aenter__(self) -> Session:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.leave()

    # --- requests -----------------------------------------------------------------------------

    def _current(self) -> _Link:
        if self._link is None or self.session_id is None:
            raise ConnectionLost(f"not connected to {self.url}")
        return self._link

    async def _send(self, link: _Link, request_id: int) -> Any:
        fut = link.request(request_id)
        await link.drain()
        return await fut

    async def call(
        self,
        procedure: str,
        *args: Any,
        timeout: float | None = None,
        ppt: Mapping[str, Any] | None = None,
        progress_args: AsyncIterable[Any] | Iterable[Any] | None = None,
        **kwargs: Any,
    ) -> Any:
        """Call ``procedure``; returns its one result, None, or a :class:`CallResult`.

        Raises :class:`ApplicationError` on an ERROR. ``timeout`` (seconds) sets the CALL's
        timeout option and a local deadline. Cancelling the awaiting task sends CANCEL.

        ``ppt``: payload passthru options (``ppt_*`` / ``enc_*``, wamp-spec.md §4.18) for the
        CALL; with ``enc_algo`` set, one bytes argument is sent as Autobahn's raw payload. The
        wampcore peer never encodes or decrypts anything: the arguments are what you pass. A
        result that carries ppt options is returned as a :class:`CallResult` with ``ppt`` set.

        ``progress_args``: stream the call's arguments (progressive call invocations,
        wamp-spec.md §4.3) from an async iterable (or a plain one). Each item is one part, one
        CALL: a value is its one argument, a :class:`CallResult` its args and kwargs, None no
        arguments. The first CALL goes out with the first item; a last CALL with no arguments
        ends the stream once the iterable is exhausted (an empty iterable: one plain CALL with
        no arguments). No ``*args``/``**kwargs`` then. If the iterable raises, the call is
        cancelled and ``call`` raises that exception; if the callee answers first, the rest of
        the iterable is not read.
        """
        return await self._call(procedure, args, kwargs, timeout, ppt, progress_args)

    async def _call(
        self,
        procedure: str,
        args: Sequence[Any],
        kwargs: Mapping[str, Any],
        timeout: float | None = None,
        ppt: Mapping[str, Any] | None = None,
        progress_args: AsyncIterable[Any] | Iterable[Any] | None = None,
    ) -> Any:
        """``call`` with its arguments as a list and a dict (what a proxy has)."""
        link = self._current()
        parts = _parts_source(progress_args, args, kwargs)
        request_id: int | None = None
        feeder: asyncio.Task[None] | None = None
        try:
            async with asyncio.timeout(timeout):
                if parts is None:
                    request_id = self._first_call(link, procedure, args, kwargs, timeout, ppt)
                else:
                    request_id, feeder = await self._open_stream(
                        link, procedure, parts, timeout, ppt, receive_progress=False
                    )
                return await self._send(link, request_id)
        except TimeoutError:
            if request_id is not None:
                self._cancel(link, request_id)
            raise ApplicationError(_TIMEOUT, f"no result within {timeout} s") from None
        except asyncio.CancelledError:
            if request_id is not None:
                self._cancel(link, request_id)
            raise
        finally:
            if feeder is not None:
                feeder.cancel()

    def _first_call(
        self,
        link: _Link,
        procedure: str,
        args: Sequence[Any] | None,
        kwargs: Mapping[str, Any] | None,
        timeout: float | None,
        ppt: Mapping[str, Any] | None,
        *,
        receive_progress: bool = False,
        progress: bool = False,
    ) -> int:
        call_args, call_kwargs, payload = outgoing(
            list(args or ()) or None, dict(kwargs or {}) or None, ppt
        )
        return link.peer.call(
            procedure,
            call_args,
            call_kwargs,
            receive_progress=receive_progress,
            progress=progress,
            timeout=None if timeout is None else int(timeout * 1000),
            ppt=ppt,
            payload=payload,
        )

    async def _open_stream(
        self,
        link: _Link,
        procedure: str,
        parts: AsyncIterator[Any],
        timeout: float | None,
        ppt: Mapping[str, Any] | None,
        *,
        receive_progress: bool,
    ) -> tuple[int, asyncio.Task[None] | None]:
        """Send the first CALL of a progressive call invocation (wamp-spec.md §4.3) with the
        first part, and start the task that sends the others; no parts: one plain CALL."""
        try:
            try:
                first = await anext(parts)
            except StopAsyncIteration:
                await _aclose(parts)
                rid = self._first_call(
                    link, procedure, None, None, timeout, ppt, receive_progress=receive_progress
                )
                return rid, None
            first_args, first_kwargs = pack(first)
            rid = self._first_call(
                link,
                procedure,
                first_args,
                first_kwargs,
                timeout,
                ppt,
                receive_progress=receive_progress,
                progress=True,
            )
        except BaseException:
            await _aclose(parts)
            raise
        # The caller files the request (future or queue) before this task first runs.
        return rid, self._spawn(self._feed(link, rid, parts, ppt))

    async def _feed(
        self, link: _Link, request_id: int, parts: AsyncIterator[Any], ppt: Mapping[str, Any] | None
    ) -> None:
        """Send the remaining parts of a streaming call, then the CALL that ends it."""
        try:
            async for part in parts:
                if request_id not in link.pending and request_id not in link.progress:
                    return  # answered (or given up) already: the rest is not wanted
                part_args, part_kwargs, payload = outgoing(*pack(part), ppt)
                link.peer.continue_call(
                    request_id, part_args, part_kwargs, ppt=ppt, payload=payload
                )
                link.flush()
                await link.drain()
            link.peer.continue_call(request_id, progress=False)
            link.flush()
        except Exception as exc:
            # The source failed (or a part cannot be sent): the call fails with that error.
            fut, queue = link.pending.get(request_id), link.progress.get(request_id)
            self._cancel(link, request_id)
            if fut is not None and not fut.done():
                fut.set_exception(exc)
            if queue is not None:
                queue.put_nowait(exc)
        finally:
            await _aclose(parts)

    async def call_progressive(
        self,
        procedure: str,
        *args: Any,
        timeout: float | None = None,
        ppt: Mapping[str, Any] | None = None,
        progress_args: AsyncIterable[Any] | Iterable[Any] | None = None,
        **kwargs: Any,
    ) -> AsyncIterator[Any]:
        """Call with ``receive_progress``: yields each progressive result, then the final one
        (unless the final result is empty). Leaving the loop early cancels the call.
        ``ppt`` as for :meth:`call`; ``progress_args`` too, which streams both ways: the
        results come while the parts are still being sent."""
        link = self._current()
        parts = _parts_source(progress_args, args, kwargs)
        queue: asyncio.Queue[Any] = asyncio.Queue()
        request_id: int | None = None
        feeder: asyncio.Task[None] | None = None
        done = False
        try:
            async with asyncio.timeout(timeout):
                if parts is None:
                    request_id = self._first_call(
                        link, procedure, args, kwargs, timeout, ppt, receive_progress=True
                    )
                else:
                    request_id, feeder = await self._open_stream(
                        link, procedure, parts, timeout, ppt, receive_progress=True
                    )
                link.progress[request_id] = queue
                link.flush()
                while True:
                    item = await queue.get()
                    if isinstance(item, BaseException):
                        done = True
                        raise item
                    value, final = item
                    if final:
                        done = True
                        if value is not _EMPTY:
                            yield value
                        return
                    yield value
        except TimeoutError:
            raise ApplicationError(_TIMEOUT, f"no result within {timeout} s") from None
        finally:
            if feeder is not None:
                feeder.cancel()
            if request_id is not None:
                link.progress.pop(request_id, None)
                if not done:
                    self._cancel(link, request_id)

    def _cancel(self, link: _Link, request_id: int) -> None:
        link.pending.pop(request_id, None)
        with contextlib.suppress(Exception):
            link.peer.cancel(request_id, mode="kill")
            link.flush()

    async def publish(
        self,
        topic: str,
        *args: Any,
        acknowledge: bool = False,
        exclude_me: bool | None = None,
        retain: bool | None = None,
        ppt: Mapping[str, Any] | None = None,
        options: Mapping[str, Any] | None = None,
        **kwargs: Any,
    ) -> int | None:
        """Publish an event; with ``acknowledge`` wait for PUBLISHED and return its id.

        ``retain=True``: the broker keeps it for ``subscribe(..., get_retained=True)``
        (wamp-spec.md §4.20). ``ppt`` as for :meth:`call`. ``options``: further PUBLISH
        options as a dict (e.g. ``{"eligible": [...]}``), as ``ClientPeer.publish`` takes them.
        """
        link = self._current()
        pub_args, pub_kwargs, payload = outgoing(list(args) or None, kwargs or None, ppt)
        request_id = link.peer.publish(
            topic,
            pub_args,
            pub_kwargs,
            acknowledge=acknowledge,
            exclude_me=exclude_me,
            retain=retain,
            ppt=ppt,
            payload=payload,
            options=options,
        )
        if acknowledge:
            result: int = await self._send(link, request_id)
            return result
        link.flush()
        await link.drain()
        return None

    async def subscribe(
        self,
        topic: str,
        handler: Handler,
        *,
        match: str | None = None,
        get_retained: bool | None = None,
    ) -> Subscription:
        """Subscribe ``handler`` (plain or async; called with the event's args and kwargs).

        A handler with a ``details`` parameter gets the event there (a
        :class:`wampcore.client.PublicationReceived`): ``details.retained``, ``details.ppt``
        (payload passthru options), ``details.payload``.
        An event whose raw payload (Autobahn's form, wamp-spec.md §4.18) replaced the args list
        calls the handler with that payload (bytes) as its one positional argument.

        ``get_retained=True``: the broker sends the retained event at once, if there is one
        (``details.retained`` is True; wamp-spec.md §4.20). It goes to this handler only, not to
        other handlers of the same topic; after a reconnection it is asked for again.
        """
        sub = Subscription(topic, handler, match, session=self, get_retained=get_retained)
        return await self._subscribe(sub)

    async def _subscribe(self, sub: Subscription) -> Subscription:
        link = self._current()
        request_id = link.peer.subscribe(sub.topic, match=sub.match, get_retained=sub.get_retained)
        # _dispatch files it on SUBSCRIBED, before the retained events that follow it.
        link.subscribing[request_id] = sub
        try:
            await self._send(link, request_id)
        finally:
            link.subscribing.pop(request_id, None)
        return sub

    async def unsubscribe(self, subscription: Subscription) -> None:
        """Remove this handler; the last one for a subscription id sends UNSUBSCRIBE."""
        group = self._subscriptions.get(subscription.id or 0, [])
        if subscription not in group:
            return
        group.remove(subscription)
        if group or subscription.id is None:
            return
        del self._subscriptions[subscription.id]
        link = self._current()
        await self._send(link, link.peer.unsubscribe(subscription.id))

    async def register(
        self,
        procedure: str,
        handler: Handler,
        *,
        match: str | None = None,
        invoke: str | None = None,
        receive_progress: bool = False,
    ) -> Registration:
        """Register ``handler``: a plain or async function, or an async generator whose yields
        are progressive results. Raising ApplicationError answers with that ERROR.

        ``receive_progress=True``: the handler takes the call's arguments as a stream (progressive
        call invocations, wamp-spec.md §4.3): it is called with one positional argument, an async
        iterator of the parts (each one value, None, or a :class:`CallResult` for several
        args or kwargs, as ``call`` returns results; an empty final part is not one), and
        ``details`` (the first INVOCATION) if it asks. A plain call to it gives one part (or
        none, without arguments). At most ``PARTS_BUFFER`` parts wait unread; one more cancels
        the invocation with ``wampcore.error.too_many_parts``. Without ``receive_progress``, a
        streaming call is refused with ``wamp.error.feature_not_supported``.

        A handler with a ``details`` parameter gets the :class:`wampcore.client.InvocationReceived`
        (``details.ppt``: the CALL's payload passthru options, ``details.payload``). A raw-payload
        INVOCATION calls it with the payload as its one positional argument. Returning (or
        yielding) ``CallResult(args, kwargs, ppt={...})`` sends those ppt options with the result;
        with ``enc_algo`` in them, one bytes arg goes out as the raw payload (wamp-spec.md §4.18).
        Errors (ApplicationError) carry no ppt options.
        """
        if not isinstance(receive_progress, bool):
            raise TypeError(f"receive_progress must be a bool, got {receive_progress!r}")
        reg = Registration(
            procedure, handler, match, invoke, session=self, receive_progress=receive_progress
        )
        return await self._register(reg)

    async def _register(self, reg: Registration) -> Registration:
        link = self._current()
        request_id = link.peer.register(reg.procedure, match=reg.match, invoke=reg.invoke)
        reg.id = await self._send(link, request_id)
        self._registrations[reg.id] = reg
        return reg

    async def unregister(self, registration: Registration) -> None:
        if registration.id is None or self._registrations.pop(registration.id, None) is None:
            return
        link = self._current()
        await self._send(link, link.peer.unregister(registration.id))

    # --- the object API (docs/client-api.md) --------------------------------------------------

    async def register_object(self, obj: object) -> list[Registration | Subscription]:
        """Register every ``@procedure`` method of ``obj`` and subscribe every ``@topic`` one,
        with the decorators' options; returns the handles in definition order (base classes
        first). If one fails (e.g. ``wamp.error.procedure_already_exists``), those already
        made are undone and the error is raised. TypeError if ``obj`` has no decorated method.
        """
        handles: list[Registration | Subscription] = []
        try:
            for mark, method in decorated_members(obj):
                if mark.kind == "procedure":
                    handles.append(await self.register(mark.uri, method, **mark.options))
                else:
                    handles.append(await self.subscribe(mark.uri, method, **mark.options))
        except BaseException:
            for handle in reversed(handles):
                with contextlib.suppress(Exception):
                    if isinstance(handle, Registration):
                        await self.unregister(handle)
                    else:
                        await self.unsubscribe(handle)
            raise
        return handles

    def proxy(
        self, cls: type[_T], *, prefix: str | None = None, timeout: float | None = None
    ) -> _T:
        """A caller typed as ``cls``: each of its ``async def`` methods calls a procedure with
        the same arguments (positional ones as args, keyword ones as kwargs) and returns what
        :meth:`call` returns. A method decorated with ``@procedure(uri)`` calls ``uri``; any
        other public method calls ``prefix`` + its name (none without ``prefix``). A
        ``receive_progress`` procedure takes one argument, the parts to stream (as
        ``progress_args``). Arguments that do not fit the method's signature raise TypeError
        before anything is sent; ``timeout`` applies to every call. See docs/client-api.md.
        """
        methods, skipped = proxy_plan(cls, prefix, coroutines=True)

        def invoke(method: ProxyMethod, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
            if method.streaming:
                (parts,) = args or tuple(kwargs.values())
                return self._call(method.uri, (), {}, timeout, None, parts)
            return self._call(method.uri, args, kwargs, timeout)

        return cast(_T, Proxy(cls, methods, skipped, invoke))

    def events(
        self,
        topic: str,
        *,
        maxsize: int = 256,
        overflow: Overflow = "drop_oldest",
        **subscribe_options: Any,
    ) -> EventStream:
        """The events of ``topic`` as an async iterator (an :class:`EventStream` of
        :class:`Event`), subscribed with ``subscribe_options`` (``match``, ``get_retained``);
        closing it unsubscribes. ``maxsize`` and ``overflow``: its bounded buffer."""
        check_events_options(topic, maxsize, overflow, subscribe_options)
        return EventStream(self, topic, maxsize, overflow, subscribe_options)

    # --- events from the peer -----------------------------------------------------------------

    def _spawn(self, coro: Awaitable[Any]) -> asyncio.Task[Any]:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    def _dispatch(self, link: _Link, ev: wc.ClientEvent) -> None:
        kind = type(ev)
        if kind is wc.PublicationReceived:
            assert isinstance(ev, wc.PublicationReceived)
            group = self._subscriptions.get(ev.subscription_id, [])
            if ev.retained:
                # Retained events follow the SUBSCRIBED just filed (wamp-spec.md §4.20): they
                # are for that handler, if it asked, not for others sharing the subscription.
                group = group[-1:] if group and group[-1].get_retained else []
            for sub in group:
                self._deliver(sub, ev)
        elif kind is wc.CallResult:
            assert isinstance(ev, wc.CallResult)
            queue = link.progress.get(ev.request_id)
            value = unpack(ev.args, ev.kwargs, ev.ppt, ev.payload)
            if queue is not None:
                empty = not ev.args and not ev.kwargs and ev.payload is None
                queue.put_nowait((_EMPTY if empty and not ev.progress else value, not ev.progress))
            elif not ev.progress:
                _resolve(link.pending.pop(ev.request_id, None), value)
        elif kind is wc.InvocationReceived:
            assert isinstance(ev, wc.InvocationReceived)
            if ev.continuation:
                parts = link.parts.get(ev.request_id)
                if parts is not None and not parts.push(ev):
                    # The handler fell PARTS_BUFFER parts behind: answer now (its task may not
                    # even have started) and stop it.
                    link.peer.yield_error(
                        ev.request_id, TOO_MANY_PARTS, [f"more than {parts.limit} parts unread"]
                    )
                    link.parts.pop(ev.request_id, None)
                    if (task := link.invocations.pop(ev.request_id, None)) is not None:
                        task.cancel()
                return
            reg = self._registrations.get(ev.registration_id)
            if reg is None:
                return
            if reg.receive_progress:
                link.parts[ev.request_id] = _Parts(PARTS_BUFFER)
                link.parts[ev.request_id].push(ev)
            elif ev.progress:
                link.peer.yield_error(
                    ev.request_id,
                    _NOT_STREAMING,
                    [f"{ev.procedure} does not take progressive call invocations"],
                )
                return
            link.invocations[ev.request_id] = self._spawn(self._invoke(link, reg, ev))
        elif kind is wc.RequestError:
            assert isinstance(ev, wc.RequestError)
            error: BaseException = ev.to_exception()
            if ev.local:
                error = ConnectionLost(f"the session ended before the reply ({ev.error})")
            if (queue := link.progress.get(ev.request_id)) is not None:
                queue.put_nowait(error)
            elif (fut := link.pending.pop(ev.request_id, None)) is not None and not fut.done():
                fut.set_exception(error)
        elif kind is wc.InterruptReceived:
            assert isinstance(ev, wc.InterruptReceived)
            if (task := link.invocations.pop(ev.request_id, None)) is not None:
                task.cancel()
            if (parts := link.parts.pop(ev.request_id, None)) is not None:
                parts.end(ApplicationError(_CANCELED, "the call was canceled"))
        elif kind in (wc.PublishAcknowledged, wc.SubscriptionCreated, wc.RegistrationCreated):
            assert isinstance(
                ev, wc.PublishAcknowledged | wc.SubscriptionCreated | wc.RegistrationCreated
            )
            if kind is wc.SubscriptionCreated:
                assert isinstance(ev, wc.SubscriptionCreated)
                filed = link.subscribing.pop(ev.request_id, None)
                if filed is not None:
                    filed.id = ev.subscription_id
                    # The router answers a repeated SUBSCRIBE with the same id: handlers share it.
                    self._subscriptions.setdefault(filed.id, []).append(filed)
            ident = getattr(ev, "publication_id", None) or getattr(ev, "subscription_id", None)
            _resolve(link.pending.pop(ev.request_id, None), ident or ev.registration_id)  # type: ignore[union-attr]
        elif kind in (wc.SubscriptionEnded, wc.RegistrationEnded):
            assert isinstance(ev, wc.SubscriptionEnded | wc.RegistrationEnded)
            if ev.request_id is not None:
                _resolve(link.pending.pop(ev.request_id, None), None)
            elif isinstance(ev, wc.SubscriptionEnded):
                for sub in self._subscriptions.pop(ev.subscription_id, []):
                    if sub.on_end is not None:
                        sub.on_end(None)  # revoked by the router (wamp-spec.md §4.9)
            else:
                self._registrations.pop(ev.registration_id, None)
        elif kind is wc.Joined:
            assert isinstance(ev, wc.Joined)
            self.session_id, self.details = ev.session_id, ev
            _resolve(link.joined, None)
        elif kind is wc.Aborted or kind is wc.Left or kind is wc.ProtocolViolation:
            reason = getattr(ev, "reason", None) or "protocol violation"
            message = getattr(ev, "message", None)
            link.close_reason = f"session closed ({reason}{': ' + message if message else ''})"
            if not link.joined.done():
                link.joined.set_exception(SessionAborted(reason, message))
            link.peer.close()
        elif kind is wc.TransportClosed:
            assert isinstance(ev, wc.TransportClosed)
            if not link.joined.done():
                link.joined.set_exception(HandshakeFailed(f"{self.url}: {ev.reason}"))
            link.close_reason = link.close_reason or ev.reason

    def _deliver(self, sub: Subscription, ev: wc.PublicationReceived) -> None:
        kwargs = dict(ev.kwargs or {})
        if sub.wants_details:
            kwargs["details"] = ev
        try:
            result = sub.handler(*handler_args(ev), **kwargs)
            if inspect.isawaitable(result):
                self._spawn(_logged(result, f"event handler for {sub.topic}"))
        except Exception:
            log.exception("event handler for %s raised", sub.topic)

    async def _invoke(self, link: _Link, reg: Registration, ev: wc.InvocationReceived) -> None:
        peer, rid = link.peer, ev.request_id
        parts = link.parts.get(rid)
        args: tuple[Any, ...] = (parts,) if parts is not None else handler_args(ev)
        kwargs = dict(ev.kwargs or {}) if parts is None else {}
        if reg.wants_details:
            kwargs["details"] = ev
        try:
            try:
                if inspect.isasyncgenfunction(reg.handler):
                    last: Any = None
                    async for item in reg.handler(*args, **kwargs):
                        if ev.receive_progress:
                            _yield(peer, rid, item, progress=True)
                            link.flush()
                            await link.drain()
                        else:
                            last = item
                    _yield(peer, rid, last)
                else:
                    result = await _maybe_await(reg.handler(*args, **kwargs))
                    _yield(peer, rid, result)
            except asyncio.CancelledError:
                if parts is None or not parts.overflowed:  # else it is answered already
                    peer.yield_error(rid, _CANCELED)
            except ApplicationError as exc:
                peer.yield_error(rid, exc.error, exc.args_list or None, exc.kwargs or None)
            except MessageTooLargeError as exc:
                peer.yield_error(rid, exc.reason, [exc.message])
            except LocalProtocolError:
                raise  # not the handler's failure: the session is gone or the answer unsendable
            except Exception as exc:
                log.exception("procedure %s raised", ev.procedure)
                peer.yield_error(rid, RUNTIME_ERROR, [f"{type(exc).__name__}: {exc}"])
        except LocalProtocolError as exc:
            # The session is gone, or the handler's error payload cannot be sent as given.
            if peer.is_joined:
                with contextlib.suppress(LocalProtocolError):
                    peer.yield_error(rid, RUNTIME_ERROR, [exc.message])
        finally:
            link.invocations.pop(rid, None)
            if parts is not None:
                link.parts.pop(rid, None)
                parts.end(ApplicationError(_CANCELED, "the invocation is over"))
            link.flush()


class _Parts:
    """The parts of a progressive call invocation, as its ``receive_progress`` handler reads
    them (an async iterator); the session pushes each INVOCATION chunk as it arrives."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.overflowed = False
        self._items: deque[Any] = deque()
        self._ended = False
        self._error: BaseException | None = None
        self._waiter: asyncio.Future[None] | None = None

    def push(self, ev: wc.InvocationReceived) -> bool:
        """Take one chunk; False if that is one more than ``limit`` waiting unread."""
        if self._ended:
            return True
        empty = not ev.args and not ev.kwargs and ev.payload is None
        if not (empty and not ev.progress):  # an empty final chunk only ends the stream
            if len(self._items) >= self.limit:
                self.overflowed = True
                self.end(None)
                return False
            self._items.append(unpack(ev.args, ev.kwargs, ev.ppt, ev.payload))
        if not ev.progress:
            self.end(None)
        self._wake()
        return True

    def end(self, error: BaseException | None) -> None:
        """No more parts; readers get ``error`` (if any) once the buffered parts are read."""
        if not self._ended:
            self._ended, self._error = True, error
        self._wake()

    def _wake(self) -> None:
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)

    def __aiter__(self) -> _Parts:
        return self

    async def __anext__(self) -> Any:
        while not self._items:
            if self._ended:
                if self._error is not None:
                    raise self._error
                raise StopAsyncIteration
            self._waiter = asyncio.get_running_loop().create_future()
            try:
                await self._waiter
            finally:
                self._waiter = None
        return self._items.popleft()


def _parts_source(
    progress_args: AsyncIterable[Any] | Iterable[Any] | None,
    args: Sequence[Any],
    kwargs: Mapping[str, Any],
) -> AsyncIterator[Any] | None:
    """``progress_args`` as an async iterator (None: not a streaming call); TypeError for
    anything that is not a source of parts, before anything is sent."""
    if progress_args is None:
        return None
    if args or kwargs:
        raise TypeError(
            "progress_args carries all of a streaming call's arguments: "
            "no positional or keyword arguments with it"
        )
    if isinstance(progress_args, AsyncIterable):
        return aiter(progress_args)
    if isinstance(progress_args, str | bytes | bytearray | Mapping) or not isinstance(
        progress_args, Iterable
    ):
        raise TypeError(
            "progress_args must be an async iterable (or an iterable) of parts, "
            f"not {type(progress_args).__name__}"
        )
    return _from_iterable(progress_args)


async def _from_iterable(items: Iterable[Any]) -> AsyncIterator[Any]:
    iterator = iter(items)
    try:
        for item in iterator:
            yield item
    finally:
        close = getattr(iterator, "close", None)
        if close is not None:
            close()


async def _aclose(iterator: AsyncIterator[Any]) -> None:
    """Finish a parts source early (an async generator's cleanup runs now, not at GC)."""
    close = getattr(iterator, "aclose", None)
    if close is not None:
        with contextlib.suppress(Exception):
            await close()


class EventStream:
    """``session.events(topic)``: the events of one subscription as an async iterator.

    ``async with session.events(t) as events: async for ev in events: ...`` -- or ``async for``
    directly, or ``events = await session.events(t)``. Awaiting it, entering it, or the first
    read subscribes; :meth:`aclose` (or leaving the ``async with``) unsubscribes, and so ends the
    iteration. Leaving an ``async for`` with ``break`` does not close it: close it then.

    Buffering: up to ``maxsize`` events wait unread. When one more arrives, ``overflow`` says
    what happens: ``"drop_oldest"`` (the default) drops the oldest waiting event,
    ``"drop_newest"`` drops the new one (``dropped`` counts both), ``"raise"`` ends the stream:
    the waiting events are still read, then the iterator raises :class:`EventOverflow` and is
    closed (unsubscribed).

    The iteration ends when the session leaves or the router revokes the subscription; if the
    connection is lost for good (no reconnection), it raises :class:`ConnectionLost` once the
    waiting events are read. With ``reconnect`` the subscription is restored and events go on.
    """

    def __init__(
        self,
        session: Session,
        topic: str,
        maxsize: int,
        overflow: Overflow,
        options: Mapping[str, Any],
    ) -> None:
        self.topic = topic
        self.maxsize = maxsize
        self.overflow = overflow
        #: Events dropped because the buffer was full.
        self.dropped = 0
        #: The subscription, once subscribed.
        self.subscription: Subscription | None = None
        self._session = session
        self._options = dict(options)
        self._buffer: deque[Event] = deque()
        self._waiter: asyncio.Future[None] | None = None
        self._starting: asyncio.Future[Subscription] | None = None
        self._closed = False  # closed by us: nothing more is read
        self._ended = False  # no more events will come (``_error`` says why)
        self._error: BaseException | None = None

    @property
    def closed(self) -> bool:
        return self._closed

    async def start(self) -> EventStream:
        """Subscribe, if not yet done (idempotent); returns the stream."""
        if self._closed or self._ended:
            return self
        if self._starting is None:
            self._starting = asyncio.ensure_future(
                self._session.subscribe(self.topic, self._push, **self._options)
            )
        # Several readers may start it at once; a cancelled reader does not cancel the others.
        sub = await asyncio.shield(self._starting)
        if self.subscription is None:
            self.subscription = sub
            sub.on_end = self._end
        return self

    def __await__(self) -> Generator[Any, None, EventStream]:
        return self.start().__await__()

    async def __aenter__(self) -> EventStream:
        return await self.start()

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    def __aiter__(self) -> EventStream:
        return self

    async def __anext__(self) -> Event:
        await self.start()
        while not self._buffer:
            if self._closed:
                raise StopAsyncIteration
            if self._ended:
                error = self._error
                if isinstance(error, EventOverflow):
                    await self.aclose()
                if error is not None:
                    self._error = None  # raised once; then the iteration just ends
                    raise error
                raise StopAsyncIteration
            self._waiter = asyncio.get_running_loop().create_future()
            try:
                await self._waiter
            finally:
                self._waiter = None
        return self._buffer.popleft()

    async def get(self, timeout: float | None = None) -> Event | None:
        """The next event, or None once the stream is over; TimeoutError if none comes in
        ``timeout`` seconds (no event is lost then)."""
        try:
            async with asyncio.timeout(timeout):
                return await self.__anext__()
        except StopAsyncIteration:
            return None

    async def aclose(self) -> None:
        """Unsubscribe and end the iteration (idempotent; waiting events are dropped)."""
        if self._closed:
            return
        self._closed = True
        self._buffer.clear()
        self._wake()
        sub = self.subscription
        if sub is None and self._starting is not None:
            with contextlib.suppress(Exception):
                sub = await asyncio.shield(self._starting)
        if sub is not None:
            sub.on_end = None
            with contextlib.suppress(ConnectionLost):  # the session is gone: nothing to undo
                await self._session.unsubscribe(sub)

    def _push(self, *args: Any, details: wc.PublicationReceived, **kwargs: Any) -> None:
        if self._closed or self._ended:
            return
        if len(self._buffer) >= self.maxsize:
            if self.overflow == "raise":
                self._end(EventOverflow(f"more than {self.maxsize} events waiting on {self.topic}"))
                return
            self.dropped += 1
            if self.overflow == "drop_newest":
                return
            self._buffer.popleft()
        self._buffer.append(Event.of(details))
        self._wake()

    def _end(self, error: BaseException | None) -> None:
        if not self._ended:
            self._ended, self._error = True, error
            self._wake()

    def _wake(self) -> None:
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)


class _Empty:
    pass


def _yield(peer: wc.ClientPeer, request_id: int, value: Any, *, progress: bool = False) -> None:
    args, kwargs, ppt, payload = pack_ppt(value)
    peer.yield_result(request_id, args, kwargs, progress=progress, ppt=ppt, payload=payload)


def _resolve(fut: asyncio.Future[Any] | None, value: Any) -> None:
    if fut is not None and not fut.done():
        fut.set_result(value)


async def _logged(aw: Awaitable[Any], what: str) -> None:
    try:
        await aw
    except Exception:
        log.exception("%s raised", what)


_EMPTY: Any = _Empty()


async def _maybe_await(value: Any) -> Any:
    if inspect.isawaitable(value):
        return await value
    return value


class _Connector:
    """What :func:`connect` returns: await it, or use it as ``async with``."""

    def __init__(self, session: Session) -> None:
        self._session = session

    def __await__(self) -> Generator[Any, None, Session]:
        return self._connect().__await__()

    async def _connect(self) -> Session:
        await self._session._open()
        return self._session

    async def __aenter__(self) -> Session:
        return await self._connect()

    async def __aexit__(self, *exc_info: object) -> None:
        await self._session.leave()


def connect(url: str, realm: str, **options: Any) -> _Connector:
    """Connect to the router at ``url`` and join ``realm``.

    ``await connect(...)`` gives a joined :class:`Session`; ``async with connect(...) as s``
    also leaves at the end. Options: ``serializers`` (preference list), ``ssl`` (an
    SSLContext for wss:// and rss://), ``timeout`` (connect and join, seconds),
    ``reconnect`` (True or a :class:`Reconnect`), ``on_join``/``on_leave`` callbacks,
    ``max_message_size``, and the ClientPeer's options (``strict_request_ids``, False by
    default here for interop with Crossbar.io, ``roles``, ``agent``, ...).

    Authentication (wamp-spec.md §4.28; see :class:`wampcore.client.ClientPeer`): ``authid``,
    ``authrole``, ``authextra``, and the credentials ``ticket`` (ticket), ``secret`` (WAMP-CRA),
    ``private_key`` (cryptosign: the Ed25519 seed as 64 hex digits or 32 bytes) and
    ``password`` (SCRAM), or ``credentials=wampcore.client.Credentials(...)``; ``authmethods``
    to choose (and order) what HELLO offers, ``"anonymous"`` included; ``auth`` (method
    client objects) and ``responder`` for anything else. Every (re)connection gets fresh method
    clients (a new SCRAM nonce). A join the router refuses, or that we abort (the router chose a
    method we did not offer, its WELCOME failed the SCRAM check), raises
    :class:`SessionAborted` whose ``reason`` is the ABORT's URI, e.g.
    ``wamp.error.authentication_failed`` or ``wamp.error.no_matching_auth_method``. Bad
    credentials raise ``wampcore.auth.CredentialError`` (a ``LocalProtocolError``); cryptosign
    without the ``wampcore[crypto]`` extra raises ``wampcore.auth.MissingExtra``.
    """
    return _Connector(Session(url, realm, **options))
