"""The smallest complete adapter: a single-threaded RawSocket router server on ``selectors``.

It is the worked example of wiring the sans-I/O core to sockets (README.md walks through it):
the Router decides everything; this loop only accepts connections, reads bytes into the router,
writes the router's bytes out when a socket can take them, closes the sockets the router is done
with, and keeps the router's clock.
"""

from __future__ import annotations

import selectors
import socket
import time
from collections.abc import Callable

from wampcore.router import PeerId, Router
from wampcore.transports import RawSocketServer

__all__ = ["serve"]


def serve(
    router: Router,
    host: str = "127.0.0.1",
    port: int = 8081,
    *,
    ready: Callable[[int], None] | None = None,
    stop: Callable[[], bool] = lambda: False,
) -> None:
    """Serve ``router`` over RawSocket on ``host:port`` until ``stop()`` returns True.

    ``ready(port)`` is called once listening (useful with ``port=0``). On stop, every session
    gets GOODBYE ``wamp.close.system_shutdown`` and the loop runs until they are gone (at most
    ``limits.handshake_timeout``, which the router enforces).
    """
    selector = selectors.DefaultSelector()
    listener = socket.create_server((host, port))
    listener.setblocking(False)
    selector.register(listener, selectors.EVENT_READ)
    sockets: dict[PeerId, socket.socket] = {}
    unsent: dict[PeerId, bytes] = {}  # bytes the socket has not taken yet: backpressure
    if ready is not None:
        ready(listener.getsockname()[1])

    def flush(peer: PeerId) -> None:
        sock = sockets[peer]
        if not unsent[peer]:  # only take more from the router once the socket took the last
            unsent[peer] = router.data_to_send(peer)
        try:
            sent = sock.send(unsent[peer]) if unsent[peer] else 0
        except BlockingIOError:
            sent = 0
        except OSError:  # the peer is gone; the router hears it below
            unsent[peer], sent = b"", 0
            router.receive_data(peer, b"")
        unsent[peer] = unsent[peer][sent:]
        if router.should_close(peer) and not unsent[peer]:
            selector.unregister(sock)
            sock.close()
            del sockets[peer], unsent[peer]
            router.connection_lost(peer)
        else:
            writing = selectors.EVENT_WRITE if unsent[peer] else 0
            selector.modify(sock, selectors.EVENT_READ | writing, peer)

    stopping = False
    while sockets or not stopping:
        if not stopping and stop():
            stopping = True
            selector.unregister(listener)
            listener.close()
            router.shutdown()
        deadline = router.next_deadline()
        timeout = 0.2 if deadline is None else min(0.2, max(0.0, deadline - time.monotonic()))
        touched: set[PeerId] = set()
        for key, _events in selector.select(timeout):
            now = time.monotonic()
            if key.data is None:  # the listening socket: a new connection
                sock, address = listener.accept()
                sock.setblocking(False)
                peer = router.accept(RawSocketServer(), {"peer": str(address)}, now=now)
                sockets[peer], unsent[peer] = sock, b""
                selector.register(sock, selectors.EVENT_READ, peer)
            else:
                peer = key.data
                try:
                    data = key.fileobj.recv(65536)  # type: ignore[union-attr]
                except BlockingIOError:
                    continue
                except OSError:
                    data = b""
                router.receive_data(peer, data, now=now)  # b"" is EOF
            touched.add(peer)
        if deadline is not None and time.monotonic() >= deadline:
            router.handle_timeout(time.monotonic())
            touched.update(sockets)
        for peer in touched.union(router.peers_with_output()):
            if peer in sockets:
                flush(peer)
        while router.next_event() is not None:  # nothing to decide here; drop them
            pass
    selector.close()
