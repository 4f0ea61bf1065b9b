"""The threaded router server: one routing thread owns the Router; I/O threads move bytes.

Every connection has a reader thread (``recv`` -> the routing thread's inbox) and a writer
thread (its outbox -> ``sendall``). Only the routing thread touches the router. It hands a
writer new bytes only after the writer reported the previous ones written, so a peer that reads
slowly leaves its bytes queued in the router, where its outbound budget applies.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import logging
import queue
import socket
import ssl as _ssl
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, Any

from wampcore.client import ClientPeer
from wampcore.router import HttpRequested, PeerId, Router

from .asyncio_server import Listener, ListenError, http_service
from .endpoints import Endpoint, parse_url, remove_stale_socket
from .http import HttpService

if TYPE_CHECKING:
    from .local import _LocalLink
    from .threads import LocalSession

__all__ = ["ThreadedRouterServer"]

log = logging.getLogger("wampcore.adapters.threads")

_CLOSE = b""  # in an outbox: close the socket after what came before


class _Conn:
    def __init__(
        self,
        sock: socket.socket,
        endpoint: Endpoint,
        listener: Listener,
        http: HttpService | None = None,
    ) -> None:
        self.sock = sock
        self.endpoint = endpoint
        self.listener = listener
        self.http = http
        self.peer: PeerId | None = None
        self.outbox: queue.SimpleQueue[bytes] = queue.SimpleQueue()
        self.busy = False  # the writer holds bytes it has not finished writing
        self.closing = False


class ThreadedRouterServer:
    """Serve ``router`` on ``listeners`` (URLs or :class:`Listener`) with threads.

    ``start()`` binds (raising :class:`ListenError`) and returns; ``close()`` sends every session
    GOODBYE ``wamp.close.system_shutdown``, flushes and stops. Usable as a context manager.
    """

    def __init__(
        self,
        router: Router,
        listeners: Iterable[Listener | str],
        *,
        max_message_size: int = 16 * 1024 * 1024,
        on_event: Callable[[Any], None] | None = None,
    ) -> None:
        """``on_event`` gets every router event, on the routing thread (it may answer a join
        with ``auth_welcome`` and friends right there)."""
        self.router = router
        self._on_event = on_event
        self._routing_thread: threading.Thread | None = None
        if router.wall_clock is None:
            router.wall_clock = time.time  # the meta API dates registrations and history
        self.max_message_size = max_message_size
        self._listeners = [Listener(x) if isinstance(x, str) else x for x in listeners]
        self._inbox: queue.SimpleQueue[tuple[str, Any]] = queue.SimpleQueue()
        self._sockets: list[socket.socket] = []
        self._threads: list[threading.Thread] = []
        self._conns: dict[PeerId, _Conn] = {}
        #: Every accepted socket until its writer closed it, with that writer (close() ends them).
        self._open: dict[_Conn, threading.Thread | None] = {}
        self._open_lock = threading.Lock()
        self._stopped = threading.Event()
        self._closing = False
        #: Embedded sessions: their link and the event loop that runs them.
        self._locals: dict[_LocalLink, asyncio.AbstractEventLoop] = {}
        self._locals_lock = threading.Lock()
        #: The URLs listened on, with ephemeral ports filled in.
        self.urls: list[str] = []

    def start(self) -> ThreadedRouterServer:
        for listener in self._listeners:
            endpoint = parse_url(listener.url)
            if endpoint.tls and listener.ssl is None:
                raise ListenError(f"{listener.url}: a TLS listener needs an ssl context")
            try:
                http = http_service(self.router, endpoint, listener)
            except ListenError:
                self._close_sockets()
                raise
            try:
                if endpoint.unix_path is not None:
                    remove_stale_socket(endpoint.unix_path)
                    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                    sock.bind(endpoint.unix_path)
                    url = endpoint.url
                else:
                    sock = socket.create_server((endpoint.host, endpoint.port))
                    url = endpoint.url_with_port(sock.getsockname()[1])
                sock.listen(128)
            except OSError as exc:
                self._close_sockets()
                raise ListenError.from_os_error(listener.url, exc) from None
            self._sockets.append(sock)
            self.urls.append(url)
            self._spawn(self._accept, sock, endpoint, listener, http)
        self._spawn(self._route)
        return self

    def _spawn(self, target: Any, *args: Any) -> None:
        thread = threading.Thread(target=target, args=args, daemon=True)
        thread.start()
        self._threads.append(thread)

    def _close_sockets(self) -> None:
        for sock in self._sockets:
            # shutdown() first: close() alone does not wake a thread blocked in accept().
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            with contextlib.suppress(OSError):
                sock.close()

    # --- application decisions on joins (auth_events) ---------------------------------------

    def auth_welcome(self, peer: PeerId, authrole: str, **options: Any) -> bool:
        """Admit a pending join (an ``AuthenticationRequested`` event); see ``Router.auth_welcome``.
        Runs on the routing thread; False if the join is no longer pending."""
        return self._on_router(lambda: self.router.auth_welcome(peer, authrole, **options))

    def auth_challenge(
        self, peer: PeerId, method: str, extra: dict[str, Any] | None = None
    ) -> bool:
        """Answer a pending join with a CHALLENGE; see ``Router.auth_challenge``."""
        return self._on_router(lambda: self.router.auth_challenge(peer, method, extra))

    def auth_deny(
        self, peer: PeerId, reason: str = "wamp.error.not_authorized", message: str = ""
    ) -> bool:
        """Refuse a pending join with ABORT ``reason``; see ``Router.auth_deny``."""
        return self._on_router(lambda: self.router.auth_deny(peer, reason, message))

    def _on_router(self, action: Callable[[], bool]) -> bool:
        if threading.current_thread() is self._routing_thread:
            return action()  # from on_event: already on the routing thread
        done: concurrent.futures.Future[bool] = concurrent.futures.Future()

        def run() -> None:
            try:
                done.set_result(action())
            except BaseException as exc:
                done.set_exception(exc)

        self._inbox.put(("local", run))
        return done.result(timeout=30)

    # --- embedded sessions -----------------------------------------------------------------

    @contextlib.contextmanager
    def local_session(
        self,
        realm: str,
        *,
        authid: str | None = None,
        authrole: str | None = None,
        authextra: dict[str, Any] | None = None,
    ) -> Iterator[LocalSession]:
        """An embedded session in ``realm`` with the blocking client API, no socket (see the
        asyncio server's ``local_session``). It leaves when the block ends."""
        from .threads import LocalSession

        session = LocalSession(self, realm, authid=authid, authrole=authrole, authextra=authextra)
        try:
            yield session
        finally:
            session.leave()

    async def open_local(self, realm: str, identity: dict[str, Any]) -> ClientPeer:
        """Runs on the session's loop: the routing thread opens it, the loop waits."""
        done: concurrent.futures.Future[ClientPeer] = concurrent.futures.Future()
        self._inbox.put(("open_local", (realm, identity, done)))
        return await asyncio.wrap_future(done)

    def attach_local(self, link: _LocalLink) -> None:
        with self._locals_lock:
            self._locals[link] = asyncio.get_running_loop()

    def detach_local(self, link: _LocalLink) -> None:
        with self._locals_lock:
            self._locals.pop(link, None)

    def local_output(self) -> None:
        pass  # the routing thread routes it (the link's output callback posted the work)

    def _open_local(self, realm: str, identity: dict[str, Any], done: Any) -> None:
        try:
            peer = self.router.open_local_session(realm, **identity)
        except Exception as exc:
            done.set_exception(exc)
            return
        link: Any = peer.framing
        route: Callable[[], None] = link.on_client_output
        # From now on the session's output is routed on this thread, not on its caller's.
        link.on_client_output = lambda: self._inbox.put(("local", route))
        done.set_result(peer)

    def _wake_locals(self) -> None:
        with self._locals_lock:
            waiting = [(link, loop) for link, loop in self._locals.items() if link.has_input()]
        for link, loop in waiting:
            with contextlib.suppress(RuntimeError):  # its loop is closed: it is going anyway
                loop.call_soon_threadsafe(link.pump)

    # --- I/O threads: bytes only ------------------------------------------------------------

    def _accept(
        self,
        listening: socket.socket,
        endpoint: Endpoint,
        listener: Listener,
        http: HttpService | None,
    ) -> None:
        while True:
            try:
                sock, _ = listening.accept()
            except OSError:
                return  # the listening socket was closed
            conn = _Conn(sock, endpoint, listener, http)
            with self._open_lock:
                if self._stopped.is_set():
                    sock.close()  # accepted as close() began: nobody would ever close it
                    return
                self._open[conn] = None
            threading.Thread(target=self._read, args=(conn,), daemon=True).start()

    def _read(self, conn: _Conn) -> None:
        try:
            if conn.listener.ssl is not None:
                conn.sock = conn.listener.ssl.wrap_socket(conn.sock, server_side=True)
        except (OSError, _ssl.SSLError):
            conn.sock.close()
            with self._open_lock:
                self._open.pop(conn, None)
            return
        writer = threading.Thread(target=self._write, args=(conn,), daemon=True)
        with self._open_lock:
            if self._stopped.is_set():  # close() came during the TLS handshake
                self._open.pop(conn, None)
                conn.sock.close()
                return
            self._open[conn] = writer
        self._inbox.put(("open", conn))
        writer.start()
        while True:
            try:
                data = conn.sock.recv(65536)
            except OSError:
                data = b""
            self._inbox.put(("data", (conn, data)))
            if not data:
                return

    def _write(self, conn: _Conn) -> None:
        while (data := conn.outbox.get()) is not _CLOSE:
            try:
                conn.sock.sendall(data)
            except OSError:
                break
            self._inbox.put(("written", conn))
        with contextlib.suppress(OSError):
            conn.sock.shutdown(socket.SHUT_RDWR)
        conn.sock.close()
        with self._open_lock:
            self._open.pop(conn, None)
        self._inbox.put(("lost", conn))

    # --- the routing thread: the only one that touches the router ---------------------------

    def _route(self) -> None:
        self._routing_thread = threading.current_thread()
        router = self.router
        while True:
            deadline = router.next_deadline()
            wait = None if deadline is None else max(0.0, deadline - time.monotonic())
            try:
                items = [self._inbox.get(timeout=wait)]
                while not self._inbox.empty():
                    items.append(self._inbox.get_nowait())
            except queue.Empty:
                items = []
            now = time.monotonic()
            touched: list[_Conn | None] = []
            for kind, value in items:
                if kind == "stop":
                    self._stopped.set()
                    return
                self._handle(kind, value, now, touched)
            if deadline is not None and now >= deadline:
                router.handle_timeout(now)
                touched.extend(self._conns.values())
            # Events first: the application's answers to them (auth_welcome ...) are output too.
            while (event := router.next_event()) is not None:
                if type(event) is HttpRequested:
                    self._answer_http(event, now)
                if self._on_event is not None:
                    try:
                        self._on_event(event)
                    except Exception:  # the application's handler: it must not stop routing
                        log.exception("on_event handler raised")
            for peer in router.peers_with_output():
                self._flush(self._conns.get(peer))
            for conn in touched:
                self._flush(conn)
            if self._locals:
                self._wake_locals()

    def _handle(self, kind: str, value: Any, now: float, touched: list[_Conn | None]) -> None:
        router = self.router
        if kind == "local":
            value()  # a local session's output: route it now, on this thread
            return
        if kind == "open_local":
            self._open_local(*value)
            return
        conn: _Conn | None = value[0] if kind == "data" else value
        touched.append(conn)
        if conn is None:
            if kind == "shutdown":
                router.shutdown()
                touched.extend(self._conns.values())
        elif kind == "open":
            framing = conn.endpoint.server_framing(
                conn.listener.serializers,
                max_message_size=conn.listener.max_message_size or self.max_message_size,
                http=conn.http is not None,
            )
            info = {"type": conn.endpoint.transport, "peer": str(conn.sock.getpeername())}
            conn.peer = router.accept(framing, info, now=now)
            self._conns[conn.peer] = conn
        elif kind == "data":
            if conn.peer is not None:
                router.receive_data(conn.peer, value[1], now=now)
        elif kind == "written":
            conn.busy = False
        elif kind == "lost" and conn.peer is not None:
            self._conns.pop(conn.peer, None)
            router.connection_lost(conn.peer)
            conn.peer = None

    def _answer_http(self, event: HttpRequested, now: float) -> None:
        conn = self._conns.get(event.peer)
        if conn is not None and conn.http is not None:
            status, headers, body = conn.http.answer(event.request, now)
            self.router.http_respond(event.peer, status, headers, body)

    def _flush(self, conn: _Conn | None) -> None:
        if conn is None or conn.peer is None or conn.closing:
            return
        if not conn.busy:
            data = self.router.data_to_send(conn.peer)
            if data:
                conn.busy = True
                conn.outbox.put(data)
        if self.router.should_close(conn.peer):
            conn.closing = True
            rest = self.router.data_to_send(conn.peer)
            if rest:
                conn.outbox.put(rest)
            conn.outbox.put(_CLOSE)

    # --- shutdown ---------------------------------------------------------------------------

    def close(self, timeout: float = 5.0) -> None:
        """Stop accepting, GOODBYE every session, wait for them to go (up to ``timeout``)."""
        if self._closing:
            return
        self._closing = True
        self._close_sockets()
        self._inbox.put(("shutdown", None))
        end = time.monotonic() + timeout
        while self._conns and time.monotonic() < end:
            time.sleep(0.01)
        self._inbox.put(("stop", None))
        self._stopped.wait(timeout)
        with self._open_lock:
            self._stopped.set()  # the accept threads close what they accept from now on
            left = list(self._open.items())
        # Whatever is still connected: wake its reader and writer, let the writer close it.
        for conn, writer in left:
            with contextlib.suppress(OSError):
                conn.sock.shutdown(socket.SHUT_RDWR)
            if writer is None:  # its reader is still in the TLS handshake: it closes it
                continue
            conn.outbox.put(_CLOSE)
        for _conn, writer in left:
            if writer is not None:
                writer.join(max(0.1, end - time.monotonic()))
        for thread in self._threads:
            thread.join(max(0.1, end - time.monotonic()))

    def __enter__(self) -> ThreadedRouterServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.close()
