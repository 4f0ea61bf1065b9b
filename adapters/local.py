"""Embedded sessions: the client :class:`~.asyncio_client.Session` API with no socket.

``Router.open_local_session`` (the core's pure verb) gives a ClientPeer joined over a DirectLink.
This module puts the asyncio ``Session`` on top of it -- the same ``register``, ``subscribe``,
``call``, ``publish``, ``unregister``, ``unsubscribe`` and ``leave``, the same handlers and
errors -- by swapping the socket connection (``_Link``) for :class:`_LocalLink`. Which thread
may touch the router is the *host*'s business (:class:`LocalHost`): the asyncio server routes at
once on its loop; the threaded server hands the work to its routing thread and wakes the session
when something arrived. Nothing here parses or builds WAMP messages.
"""

from __future__ import annotations

import asyncio
from typing import Any, Protocol

from wampcore import client as wc

from .asyncio_client import Session, _Link
from .client_api import ConnectionLost, RouterUnreachable

__all__ = ["LocalHost", "LocalSession"]


class LocalHost(Protocol):
    """What a router server offers its embedded sessions."""

    async def open_local(self, realm: str, identity: dict[str, Any]) -> wc.ClientPeer:
        """``router.open_local_session(realm, **identity)``, on the thread that owns the router."""
        ...

    def attach_local(self, link: _LocalLink) -> None:
        """Wake ``link`` (``link.pump()``) whenever the router may have sent it something."""
        ...

    def detach_local(self, link: _LocalLink) -> None: ...

    def local_output(self) -> None:
        """A local session sent something: let the router's output reach the sockets."""
        ...


class _LocalLink(_Link):
    """A session's connection to the router it lives in: a ClientPeer over a DirectLink."""

    def __init__(self, session: Session, peer: wc.ClientPeer, host: LocalHost) -> None:
        super().__init__(session, peer)
        self.host = host
        self.close_reason = "the router ended the session"

    def flush(self) -> None:
        # The ClientPeer's messages are already routed (or handed to the routing thread).
        self.host.local_output()

    async def drain(self) -> None:
        return None  # no transport buffer to wait for

    def has_input(self) -> bool:
        """Whether the router sent something not yet handled (safe from any thread)."""
        framing: Any = self.peer.framing
        return bool(framing.to_client) or bool(framing.closed)

    def pump(self) -> None:
        if self.pump_events():
            self.flush()

    def pump_events(self) -> bool:
        """Dispatch what the router sent; True if there was anything."""
        moved = False
        while (event := self.peer.next_event()) is not None:
            moved = True
            self.session._dispatch(self, event)
            if isinstance(event, wc.TransportClosed):
                self.host.detach_local(self)
                self._finish(ConnectionLost(self.close_reason))
        return moved


class LocalSession(Session):
    """An embedded session (see the module docstring); open it with a server's
    ``local_session(realm)``. It does not reconnect: it lives and dies with its router."""

    def __init__(
        self,
        host: LocalHost,
        realm: str,
        *,
        authid: str | None = None,
        authrole: str | None = None,
        authextra: dict[str, Any] | None = None,
        timeout: float = 10.0,
    ) -> None:
        super().__init__(f"local:{realm}", realm, timeout=timeout)
        self._host = host
        self._identity = {"authid": authid, "authrole": authrole, "authextra": authextra}

    async def _open(self) -> None:
        link: _LocalLink | None = None
        try:
            async with asyncio.timeout(self._timeout):
                peer = await self._host.open_local(self.realm, self._identity)
                link = _LocalLink(self, peer, self._host)
                self._host.attach_local(link)
                link.pump()
                await link.joined
        except TimeoutError:
            if link is not None:
                self._host.detach_local(link)
            raise RouterUnreachable(f"the router did not admit {self.url} in time") from None
        self._link = link
