"""``DirectLink``: message objects between a client peer and a router in the same process.

A router-internal session (the meta API's service session, a callee embedded in the router
process) is a :class:`~wampcore.client.ClientPeer` like any other, but there are no bytes and no
socket between it and the router: each side hands the other whole, already validated
:class:`~wampcore.messages.Message` objects. Both sides still run the shared state table, so an
internal session is held to the same rules as a network one.

The link is two queues and a closed flag. The client side puts with ``client_send`` and takes
with ``client_receive``; the router side with ``router_send`` / ``router_receive``. The router
sets ``on_client_output`` to learn, without polling, that the client queued a message or closed
the link. Nothing here routes or decides; it only carries.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable

from ..messages import Message

__all__ = ["DirectLink"]


class DirectLink:
    """Two message queues between a ClientPeer and the router (see the module docstring)."""

    __slots__ = ("closed", "on_client_output", "to_client", "to_router")

    #: Output keeps message boundaries (like the identity framing).
    message_oriented = True

    def __init__(self) -> None:
        self.to_client: deque[Message] = deque()
        self.to_router: deque[Message] = deque()
        #: True once either side closed the link; what is queued may still be taken.
        self.closed = False
        #: Called (by the client side) after it queued a message or closed the link.
        self.on_client_output: Callable[[], None] | None = None

    # -- the client's side -----------------------------------------------------------------------

    def client_send(self, msg: Message) -> None:
        self.to_router.append(msg)
        if self.on_client_output is not None:
            self.on_client_output()

    def client_receive(self) -> Message | None:
        return self.to_client.popleft() if self.to_client else None

    def client_close(self) -> None:
        if not self.closed:
            self.closed = True
            if self.on_client_output is not None:
                self.on_client_output()

    # -- the router's side -----------------------------------------------------------------------

    def router_send(self, msg: Message) -> None:
        self.to_client.append(msg)

    def router_receive(self) -> Message | None:
        return self.to_router.popleft() if self.to_router else None

    def router_close(self) -> None:
        self.closed = True
