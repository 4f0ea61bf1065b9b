"""The asyncio client: ``connect(url, realm)`` gives a :class:`Session` over a ClientPeer.

Each connection is one :class:`asyncio.Protocol` feeding a :class:`wampcore.client.ClientPeer`;
the peer decides everything WAMP (request ids, state, progress, cancel), this module only turns
its events into awaited results and handler calls. A :class:`Session` survives reconnections
(``reconnect=True``): subscriptions and registrations are objects it re-establishes, with their
handlers, on every new connection.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
import ssl as _ssl
from collections.abc import AsyncIterator, Awaitable, Callable, Generator, Mapping, Sequence
from typing import Any

from wampcore import client as wc
from wampcore.errors import ApplicationError, LocalProtocolError, MessageTooLargeError

from .client_api import (
    CallResult,
    ConnectionFailed,
    ConnectionLost,
    ConnectionRefused,
    HandshakeFailed,
    Reconnect,
    Registration,
    RouterUnreachable,
    SessionAborted,
    Subscription,
    TLSFailed,
    handler_args,
    outgoing,
    pack_ppt,
    unpack,
)
from .endpoints import DEFAULT_SERIALIZERS, Endpoint, channel_id, parse_url

__all__ = [
    "CallResult",
    "ConnectionFailed",
    "ConnectionLost",
    "ConnectionRefused",
    "HandshakeFailed",
    "Reconnect",
    "Registration",
    "RouterUnreachable",
    "Session",
    "SessionAborted",
    "Subscription",
    "TLSFailed",
    "connect",
]

log = logging.getLogger("wampcore.adapters.asyncio")

#: The error URI sent when a handler raises something other than ApplicationError.
RUNTIME_ERROR = "wamp.error.runtime_error"
_CANCELED = "wamp.error.canceled"
_TIMEOUT = "wamp.error.timeout"


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
        #: SUBSCRIBE request id -> its Subscription, until SUBSCRIBED (retained events follow it).
        self.subscribing: dict[int, Subscription] = {}
        self._writable: asyncio.Event = asyncio.Event()
        self._writable.set()
        self.close_reason: str = "the router closed the connection"

    # asyncio.Protocol
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
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
        self.pending.clear()
        self.progress.clear()
        self.invocations.clear()
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
            self._closed.set()

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
            self._closed.set()
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
        self._closed.set()

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
        **kwargs: Any,
    ) -> Any:
        """Call ``procedure``; returns its one result, None, or a :class:`CallResult`.

        Raises :class:`ApplicationError` on an ERROR. ``timeout`` (seconds) sets the CALL's
        timeout option and a local deadline. Cancelling the awaiting task sends CANCEL.

        ``ppt``: payload passthru options (``ppt_*`` / ``enc_*``, wamp-spec.md §4.18) for the
        CALL; with ``enc_algo`` set, one bytes argument is sent as Autobahn's raw payload. The
        wampcore peer never encodes or decrypts anything: the arguments are what you pass. A
        result that carries ppt options is returned as a :class:`CallResult` with ``ppt`` set.
        """
        link = self._current()
        call_args, call_kwargs, payload = outgoing(list(args) or None, kwargs or None, ppt)
        request_id = link.peer.call(
            procedure,
            call_args,
            call_kwargs,
            timeout=None if timeout is None else int(timeout * 1000),
            ppt=ppt,
            payload=payload,
        )
        try:
            async with asyncio.timeout(timeout):
                return await self._send(link, request_id)
        except TimeoutError:
            self._cancel(link, request_id)
            raise ApplicationError(_TIMEOUT, f"no result within {timeout} s") from None
        except asyncio.CancelledError:
            self._cancel(link, request_id)
            raise

    async def call_progressive(
        self,
        procedure: str,
        *args: Any,
        timeout: float | None = None,
        ppt: Mapping[str, Any] | None = None,
        **kwargs: Any,
    ) -> AsyncIterator[Any]:
        """Call with ``receive_progress``: yields each progressive result, then the final one
        (unless the final result is empty). Leaving the loop early cancels the call.
        ``ppt`` as for :meth:`call`."""
        link = self._current()
        call_args, call_kwargs, payload = outgoing(list(args) or None, kwargs or None, ppt)
        request_id = link.peer.call(
            procedure,
            call_args,
            call_kwargs,
            receive_progress=True,
            timeout=None if timeout is None else int(timeout * 1000),
            ppt=ppt,
            payload=payload,
        )
        queue: asyncio.Queue[Any] = asyncio.Queue()
        link.progress[request_id] = queue
        link.flush()
        done = False
        try:
            async with asyncio.timeout(timeout):
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
    ) -> Registration:
        """Register ``handler``: a plain or async function, or an async generator whose yields
        are progressive results. Raising ApplicationError answers with that ERROR.

        A handler with a ``details`` parameter gets the :class:`wampcore.client.InvocationReceived`
        (``details.ppt``: the CALL's payload passthru options, ``details.payload``). A raw-payload
        INVOCATION calls it with the payload as its one positional argument. Returning (or
        yielding) ``CallResult(args, kwargs, ppt={...})`` sends those ppt options with the result;
        with ``enc_algo`` in them, one bytes arg goes out as the raw payload (wamp-spec.md §4.18).
        Errors (ApplicationError) carry no ppt options.
        """
        return await self._register(Registration(procedure, handler, match, invoke, session=self))

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
            reg = self._registrations.get(ev.registration_id)
            if reg is not None and not ev.continuation:
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
                self._subscriptions.pop(ev.subscription_id, None)
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
        kwargs = dict(ev.kwargs or {})
        if reg.wants_details:
            kwargs["details"] = ev
        try:
            try:
                if inspect.isasyncgenfunction(reg.handler):
                    last: Any = None
                    async for item in reg.handler(*handler_args(ev), **kwargs):
                        if ev.receive_progress:
                            _yield(peer, rid, item, progress=True)
                            link.flush()
                            await link.drain()
                        else:
                            last = item
                    _yield(peer, rid, last)
                else:
                    result = await _maybe_await(reg.handler(*handler_args(ev), **kwargs))
                    _yield(peer, rid, result)
            except asyncio.CancelledError:
                peer.yield_error(rid, _CANCELED)
            except ApplicationError as exc:
                peer.yield_error(rid, exc.error, exc.args_list or None, exc.kwargs or None)
            except MessageTooLargeError as exc:
                peer.yield_error(rid, exc.reason, [exc.message])
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
            link.flush()


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
