"""The asyncio router server: moves bytes between sockets and one :class:`~wampcore.router.Router`.

It owns sockets, the event loop's clock and its timers, nothing else: every WAMP decision is the
router's. Each connection is an :class:`asyncio.Protocol`; a peer's queued bytes are taken from
the router only while its transport is writable (``pause_writing``/``resume_writing``), so the
router's per-peer outbound budget sees a slow reader as it really is.

Writes are coalesced: what the reads of one event-loop iteration made the router queue is
written once per peer, by one callback scheduled for the next iteration (``_after``), instead of
once per read -- ten publishers read in one iteration cost each subscriber one ``write``, not
ten. Until then the bytes wait in the router's queue, under its budget. On asyncio's own loop,
whose ready queue shows what the iteration still has to run, the read that is the last callback
of its iteration writes at once (``_flush_now``): a lone request (one call in flight) is not
held for another turn of the loop, while a busy iteration still writes each peer once.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
import os
import ssl as _ssl
import time
from collections.abc import AsyncIterator, Callable, Coroutine, Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar, cast

from wampcore.client import ClientPeer
from wampcore.router import HttpRequested, PeerId, Router

from .endpoints import (
    DEFAULT_SERIALIZERS,
    Endpoint,
    parse_url,
    remove_stale_socket,
)
from .endpoints import channel_id as tls_channel_id
from .http import HttpOptions, HttpService

if TYPE_CHECKING:
    from .local import LocalSession, _LocalLink

__all__ = ["ListenError", "Listener", "RouterServer", "event_loop_factory", "run", "serve"]

log = logging.getLogger("wampcore.adapters.asyncio")


class ListenError(OSError):
    """A listener could not be opened (port in use, permission denied, bad address)."""

    @classmethod
    def from_os_error(cls, url: str, exc: OSError) -> ListenError:
        """One readable line: the URL and the system's reason (asyncio's wrapping dropped)."""
        reason = os.strerror(exc.errno) if exc.errno else str(exc)
        error = cls(f"cannot listen on {url}: {reason[:1].lower()}{reason[1:]}")
        error.errno = exc.errno
        return error


@dataclass(frozen=True)
class Listener:
    """Where to accept connections: a URL (see :mod:`.endpoints`), TLS context, serializers.

    A ``ws://``/``wss://`` URL with a path also serves plain HTTP on its other paths: the
    status page, ``/health``, ``/metrics`` and ``static_dir`` (the ``[[listeners]]`` keys of
    the same names; rules in ``wampcore.config.ListenerConfig`` and docs/http.md).
    """

    url: str
    ssl: _ssl.SSLContext | None = None
    serializers: Sequence[str] = DEFAULT_SERIALIZERS
    #: Largest inbound message; None: the router configuration's ``limits.max_message_size``.
    max_message_size: int | None = None
    status_page: bool = True
    health: bool = True
    metrics: bool = True
    static_dir: str | None = None
    status_authrole: str | None = None

    @property
    def http_options(self) -> HttpOptions:
        return HttpOptions(
            status_page=self.status_page,
            health=self.health,
            metrics=self.metrics,
            static_dir=self.static_dir,
            status_authrole=self.status_authrole,
        )


def http_service(router: Router, endpoint: Endpoint, listener: Listener) -> HttpService | None:
    """The plain-HTTP service of a listener, or None if it serves none (RawSocket, a WebSocket
    URL without a path, everything switched off). Raises :class:`ListenError` for a
    ``static_dir`` that is not a directory."""
    options = listener.http_options
    if not endpoint.websocket or not endpoint.path or not options.serves_http:
        return None
    try:
        return HttpService(router, options, endpoint.path)
    except ValueError as exc:
        raise ListenError(f"cannot listen on {listener.url}: {exc}") from None


class _Connection(asyncio.Protocol):
    # One per connection, alive as long as it is: no per-instance dict.
    __slots__ = ("_endpoint", "_listener", "_server", "http", "peer", "transport", "writable")

    def __init__(
        self,
        server: RouterServer,
        endpoint: Endpoint,
        listener: Listener,
        http: HttpService | None = None,
    ) -> None:
        self._server = server
        self._endpoint = endpoint
        self._listener = listener
        self.http = http
        self.transport: asyncio.Transport | None = None
        self.peer: PeerId | None = None
        self.writable = True

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # A stream transport; uvloop's are not subclasses of asyncio.Transport.
        self.transport = cast(asyncio.Transport, transport)
        limit = self._listener.max_message_size or self._server.max_message_size
        framing = self._endpoint.server_framing(
            self._listener.serializers, max_message_size=limit, http=self.http is not None
        )
        info: dict[str, Any] = {
            "type": self._endpoint.transport,
            "protocol": self._endpoint.url.split("://", 1)[0],
            "peer": _peer_name(transport),
            "tls": transport.get_extra_info("sslcontext") is not None,
        }
        channel_id = tls_channel_id(transport)
        if channel_id is not None:
            info["channel_id"] = channel_id  # for cryptosign channel binding (wamp-spec §4.28)
        self._server.attach(self, framing, info)

    def data_received(self, data: bytes) -> None:
        self._server.received(self, data)

    def eof_received(self) -> bool:
        self._server.received(self, b"")
        # Keep the write side open: the router may still have a reply to flush.
        return True

    def connection_lost(self, exc: Exception | None) -> None:
        self._server.lost(self)

    def pause_writing(self) -> None:
        self.writable = False

    def resume_writing(self) -> None:
        self.writable = True
        self._server.flush()


def _peer_name(transport: asyncio.BaseTransport) -> str:
    addr = transport.get_extra_info("peername")
    if isinstance(addr, tuple) and len(addr) >= 2:
        return f"{'tcp6' if ':' in str(addr[0]) else 'tcp4'}:{addr[0]}:{addr[1]}"
    return "unix"


class RouterServer:
    """A :class:`Router` served on any mix of listeners; create with :func:`serve`."""

    def __init__(
        self,
        router: Router,
        *,
        max_message_size: int = 16 * 1024 * 1024,
        on_event: Callable[[Any], None] | None = None,
    ) -> None:
        self.router = router
        if router.wall_clock is None:
            router.wall_clock = time.time  # the meta API dates registrations and history
        #: The default inbound limit of each listener (use the RouterConfig's
        #: ``limits.max_message_size``).
        self.max_message_size = max_message_size
        self._on_event = on_event
        self._loop = asyncio.get_running_loop()
        self._connections: dict[PeerId, _Connection] = {}
        self._servers: list[asyncio.Server] = []
        self._timer: asyncio.TimerHandle | None = None
        self._timer_at: float | None = None
        self._closed = asyncio.Event()
        #: Embedded sessions (see :meth:`local_session`), pumped after every router step.
        self._locals: dict[_LocalLink, None] = {}
        self._pumping = False
        #: Connections touched since the last pass of ``_after_iteration`` (None: scheduled
        #: for no connection in particular); the pass is scheduled while this is not empty.
        self._touched: dict[_Connection | None, None] = {}
        #: The scheduled ``_after_iteration``, if any.
        self._pass: asyncio.Handle | None = None
        #: The callbacks the loop has still to run (asyncio's ``_ready``; None on a loop, like
        #: uvloop's, that does not show it: then every read waits for the scheduled pass).
        ready = getattr(self._loop, "_ready", None)
        self._ready: collections.deque[Any] | None = (
            ready if isinstance(ready, collections.deque) else None
        )
        #: The URLs actually listened on (with ephemeral ports filled in), in listener order.
        self.urls: list[str] = []

    async def listen(self, listener: Listener | str) -> str:
        """Start accepting on one more listener; returns its URL with the real port."""
        if isinstance(listener, str):
            listener = Listener(listener)
        endpoint = parse_url(listener.url)
        if endpoint.tls and listener.ssl is None:
            raise ListenError(f"{listener.url}: a TLS listener needs an ssl context")
        http = http_service(self.router, endpoint, listener)

        def factory() -> _Connection:
            return _Connection(self, endpoint, listener, http)

        try:
            if endpoint.unix_path is not None:
                remove_stale_socket(endpoint.unix_path)
                server = await self._loop.create_unix_server(
                    factory, endpoint.unix_path, ssl=listener.ssl
                )
                url = endpoint.url
            else:
                server = await self._loop.create_server(
                    factory, endpoint.host, endpoint.port, ssl=listener.ssl
                )
                url = endpoint.url_with_port(server.sockets[0].getsockname()[1])
        except OSError as exc:
            raise ListenError.from_os_error(listener.url, exc) from None
        self._servers.append(server)
        self.urls.append(url)
        return url

    # --- application decisions on joins (auth_events) ---------------------------------------

    def auth_welcome(self, peer: PeerId, authrole: str, **options: Any) -> bool:
        """Admit a pending join (an ``AuthenticationRequested`` event); see ``Router.auth_welcome``.
        False if it is no longer pending."""
        done = self.router.auth_welcome(peer, authrole, now=self._loop.time(), **options)
        self._after(self._connections.get(peer))
        return done

    def auth_challenge(
        self, peer: PeerId, method: str, extra: dict[str, Any] | None = None
    ) -> bool:
        """Answer a pending join with a CHALLENGE; see ``Router.auth_challenge``."""
        done = self.router.auth_challenge(peer, method, extra, now=self._loop.time())
        self._after(self._connections.get(peer))
        return done

    def auth_deny(
        self, peer: PeerId, reason: str = "wamp.error.not_authorized", message: str = ""
    ) -> bool:
        """Refuse a pending join with ABORT ``reason``; see ``Router.auth_deny``."""
        done = self.router.auth_deny(peer, reason, message, now=self._loop.time())
        self._after(self._connections.get(peer))
        return done

    # --- embedded sessions -----------------------------------------------------------------

    @contextlib.asynccontextmanager
    async def local_session(
        self,
        realm: str,
        *,
        authid: str | None = None,
        authrole: str | None = None,
        authextra: dict[str, Any] | None = None,
    ) -> AsyncIterator[LocalSession]:
        """An embedded session in ``realm``: the client Session API, no socket.

        It joins with ``authrole`` (default: the realm's ``embedded_authrole``, ``trusted``),
        is listed by the meta API, and leaves when the block ends. Raises
        :class:`SessionAborted` if the realm does not exist.
        """
        from .local import LocalSession

        session = LocalSession(self, realm, authid=authid, authrole=authrole, authextra=authextra)
        await session._open()
        try:
            yield session
        finally:
            await session.leave()

    async def open_local(self, realm: str, identity: dict[str, Any]) -> ClientPeer:
        peer = self.router.open_local_session(realm, **identity)
        return peer

    def attach_local(self, link: _LocalLink) -> None:
        self._locals[link] = None

    def detach_local(self, link: _LocalLink) -> None:
        self._locals.pop(link, None)

    def local_output(self) -> None:
        self._after(None)

    def _pump_locals(self) -> None:
        """Let embedded sessions handle what the router sent them, until all is quiet."""
        if self._pumping or not self._locals:
            return
        self._pumping = True
        try:
            moved = True
            while moved:
                moved = False
                for link in list(self._locals):
                    if link.pump_events():
                        moved = True
                self.flush()
        finally:
            self._pumping = False

    # --- called by connections -------------------------------------------------------------

    def attach(self, conn: _Connection, framing: Any, info: dict[str, Any]) -> None:
        conn.peer = self.router.accept(framing, info, now=self._loop.time())
        self._connections[conn.peer] = conn
        self._after(conn)

    def received(self, conn: _Connection, data: bytes) -> None:
        if conn.peer is not None:
            self.router.receive_data(conn.peer, data, now=self._loop.time())
            ready = self._ready
            if ready is not None and (not ready or (len(ready) == 1 and ready[0] is self._pass)):
                self._touched[conn] = None
                self._flush_now()
            else:
                self._after(conn)

    def lost(self, conn: _Connection) -> None:
        peer, conn.peer = conn.peer, None
        if peer is not None:
            self._connections.pop(peer, None)
            self.router.connection_lost(peer)
            self._after(None)
            if not self._connections and not self._servers:
                self._closed.set()

    # --- the pump ---------------------------------------------------------------------------

    def _after(self, conn: _Connection | None) -> None:
        """Once per event-loop iteration, after its reads (see the module docstring): flush
        every writable peer, close finished ones, let embedded sessions run, deliver events,
        rearm the timer."""
        if self._pass is None:
            self._pass = self._loop.call_soon(self._after_iteration)
        self._touched[conn] = None

    def _flush_now(self) -> None:
        """The part of ``_after_iteration`` that runs no application code, run by the last read
        of an iteration; the rest stays scheduled only if it has something to do."""
        touched = list(self._touched)
        self._touched.clear()
        self.flush()
        for conn in touched:
            if conn is not None and conn.peer is not None:
                self._maybe_close(conn)
        if self._locals or self.router.has_events():
            # Embedded sessions and the on_event callback run in their own callback, as before:
            # an exception there must not look like one of the connection's.
            if self._pass is None:
                self._pass = self._loop.call_soon(self._after_iteration)
            return
        if self._pass is not None:
            self._pass.cancel()
            self._pass = None
        self._rearm()

    def _after_iteration(self) -> None:
        self._pass = None
        touched = list(self._touched)
        self._touched.clear()
        self.flush()
        for conn in touched:
            if conn is not None and conn.peer is not None:
                self._maybe_close(conn)
        self._pump_locals()
        self._events()
        self._rearm()

    def flush(self) -> None:
        router = self.router
        for peer in router.peers_with_output():
            conn = self._connections.get(peer)
            if conn is None or conn.transport is None:
                continue
            if conn.writable:
                data = router.data_to_send(peer)
                if data:
                    conn.transport.write(data)
            self._maybe_close(conn)

    def _maybe_close(self, conn: _Connection) -> None:
        peer = conn.peer
        if peer is None or conn.transport is None or not self.router.should_close(peer):
            return
        data = self.router.data_to_send(peer)
        if data:
            conn.transport.write(data)
        # close() still writes what is buffered, then connection_lost runs the removal path.
        conn.transport.close()

    def _events(self) -> None:
        while (event := self.router.next_event()) is not None:
            if type(event) is HttpRequested:
                self._answer_http(event)
            if self._on_event is not None:
                self._on_event(event)
            elif log.isEnabledFor(logging.DEBUG):
                log.debug("%s", event)

    def _answer_http(self, event: HttpRequested) -> None:
        conn = self._connections.get(event.peer)
        if conn is None or conn.http is None:
            return
        status, headers, body = conn.http.answer(event.request, self._loop.time())
        if self.router.http_respond(event.peer, status, headers, body):
            self.flush()
            self._maybe_close(conn)

    def _rearm(self) -> None:
        deadline = self.router.next_deadline()
        if deadline == self._timer_at:
            return
        if self._timer is not None:
            self._timer.cancel()
        self._timer_at = deadline
        self._timer = None if deadline is None else self._loop.call_at(deadline, self._on_timer)

    def _on_timer(self) -> None:
        self._timer = self._timer_at = None
        self.router.handle_timeout(self._loop.time())
        self.flush()
        for conn in list(self._connections.values()):
            self._maybe_close(conn)
        self._pump_locals()
        self._events()
        self._rearm()

    # --- shutdown ---------------------------------------------------------------------------

    async def close(
        self,
        reason: str = "wamp.close.system_shutdown",
        message: str | None = None,
        *,
        timeout: float = 5.0,
    ) -> None:
        """Stop accepting, send every session GOODBYE ``reason``, flush, and close (graceful)."""
        for server in self._servers:
            server.close()
        self._servers.clear()
        if self._connections or self._locals:
            self.router.shutdown(reason, message)
            self.flush()
            self._pump_locals()
            for conn in list(self._connections.values()):
                self._maybe_close(conn)
            if self._connections:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._closed.wait(), timeout)
        for conn in list(self._connections.values()):
            if conn.transport is not None:
                conn.transport.abort()
        if self._timer is not None:
            self._timer.cancel()
        self._closed.set()

    async def wait_closed(self) -> None:
        await self._closed.wait()

    async def __aenter__(self) -> RouterServer:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()


async def serve(
    router: Router,
    listeners: Iterable[Listener | str],
    *,
    max_message_size: int = 16 * 1024 * 1024,
    on_event: Callable[[Any], None] | None = None,
) -> RouterServer:
    """Serve ``router`` on every listener; returns the running :class:`RouterServer`.

    Raises :class:`ListenError` (after closing any listener already opened) if one cannot open.
    """
    server = RouterServer(router, max_message_size=max_message_size, on_event=on_event)
    try:
        for listener in listeners:
            await server.listen(listener)
    except BaseException:
        await server.close()
        raise
    return server


T = TypeVar("T")

#: Set to ``0`` to run on asyncio's own event loop even where uvloop is installed.
UVLOOP_VARIABLE = "WAMPCORE_UVLOOP"


def event_loop_factory(
    use_uvloop: bool | None = None,
) -> Callable[[], asyncio.AbstractEventLoop]:
    """How to make the event loop a server runs on: uvloop's when it is installed (the
    ``wampcore[speed]`` extra) -- fewer objects per connection and cheaper reads and writes
    -- unless ``use_uvloop`` is False or the environment sets ``WAMPCORE_UVLOOP=0``;
    otherwise asyncio's. ``use_uvloop=True`` without uvloop raises ``ImportError``."""
    if use_uvloop is None:
        use_uvloop = os.environ.get(UVLOOP_VARIABLE, "1") != "0"
        if use_uvloop:
            try:
                import uvloop
            except ImportError:
                return asyncio.new_event_loop
            factory: Callable[[], asyncio.AbstractEventLoop] = uvloop.new_event_loop
            return factory
    if use_uvloop:
        import uvloop

        factory = uvloop.new_event_loop
        return factory
    return asyncio.new_event_loop


def run(main: Coroutine[Any, Any, T], *, use_uvloop: bool | None = None) -> T:
    """``asyncio.run(main)`` on the loop :func:`event_loop_factory` picks."""
    with asyncio.Runner(loop_factory=event_loop_factory(use_uvloop)) as runner:
        return runner.run(main)
