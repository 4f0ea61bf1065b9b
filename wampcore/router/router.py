"""``Router``: the object an adapter drives (API skeleton; the implementation is landing).

Adapter loop, per connection: ``peer = router.accept(framing, info, now=t)``; on each read,
``router.receive_data(peer, data, now=t)`` (``b""`` at EOF); then for every peer in
``router.peers_with_output()`` write ``router.data_to_send(peer)`` (``payloads_to_send`` for a
``MessageFraming``); when ``router.should_close(peer)``, write what is left, close the socket and
call ``router.connection_lost(peer)``. Arm a timer for ``router.next_deadline()`` and call
``router.handle_timeout(now)`` when it fires. Drain ``router.next_event()`` for logging.
"""

from __future__ import annotations

from typing import Any

from ..config import RouterConfig
from ..errors import CLOSE_SYSTEM_SHUTDOWN
from ..ids import RandomSource
from ..transports.base import Framing
from .events import PeerId, RouterEvent

__all__ = ["Router"]


class Router:
    """Many peers, realms, broker and dealer; bytes in, bytes out, no I/O."""

    def __init__(self, config: RouterConfig | None = None, *, rng: RandomSource | None = None):
        raise NotImplementedError

    def accept(
        self,
        framing: Framing,
        transport_info: dict[str, Any] | None = None,
        *,
        now: float | None = None,
    ) -> PeerId:
        """Take over a new connection's (server-role) framing; returns its peer id."""
        raise NotImplementedError

    def receive_data(self, peer: PeerId, data: bytes, *, now: float | None = None) -> None:
        """Feed bytes read from ``peer`` (``b""`` = EOF). Never raises because of their content."""
        raise NotImplementedError

    def data_to_send(self, peer: PeerId, max_bytes: int | None = None) -> bytes:
        """Move queued payloads into the framing and return the bytes to write."""
        raise NotImplementedError

    def payloads_to_send(self, peer: PeerId, max_bytes: int | None = None) -> list[bytes]:
        """Like ``data_to_send`` for a message-oriented (identity) framing."""
        raise NotImplementedError

    def peers_with_output(self) -> list[PeerId]:
        """Peers that have something to write."""
        raise NotImplementedError

    def should_close(self, peer: PeerId) -> bool:
        """True once the connection is finished (write what is left, then close the socket)."""
        raise NotImplementedError

    def connection_lost(self, peer: PeerId) -> None:
        """The socket is gone (idempotent); runs the session removal path."""
        raise NotImplementedError

    def next_event(self) -> RouterEvent | None:
        """The next application-facing event, or None."""
        raise NotImplementedError

    def next_deadline(self) -> float | None:
        """The earliest pending deadline (handshake, GOODBYE reply, call timeout), or None."""
        raise NotImplementedError

    def handle_timeout(self, now: float) -> None:
        """Act on every deadline at or before ``now``."""
        raise NotImplementedError

    def shutdown(self, reason: str = CLOSE_SYSTEM_SHUTDOWN, message: str | None = None) -> None:
        """GOODBYE to every session; each peer then closes after its reply (or the deadline)."""
        raise NotImplementedError

    def kill_session(
        self, session_id: int, reason: str = "wamp.close.killed", message: str | None = None
    ) -> bool:
        """End one session with a router GOODBYE; False if no such session."""
        raise NotImplementedError

    def session_count(self, realm: str | None = None) -> int:
        """Sessions in ``realm`` (all realms if None)."""
        raise NotImplementedError

    @property
    def realms(self) -> list[str]:
        """The names of the realms that exist now."""
        raise NotImplementedError
