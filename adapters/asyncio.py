"""asyncio adapter: the client API (:func:`connect`) and the router server (:func:`serve`).

Client::

    async with connect("ws://127.0.0.1:8080/ws", realm="realm1") as session:
        await session.register("com.example.add", add)
        print(await session.call("com.example.add", 2, 3))

Server::

    server = await serve(Router(), ["ws://127.0.0.1:8080/ws", "rs://127.0.0.1:8081"])
    ...
    await server.close()        # GOODBYE wamp.close.system_shutdown to everyone, flush, close

The object API (``procedure``/``topic`` decorators, ``session.register_object``,
``session.proxy``, ``session.events``) and streaming calls: docs/client-api.md.
"""

from .asyncio_client import (
    CallResult,
    ConnectionFailed,
    ConnectionLost,
    ConnectionRefused,
    Event,
    EventOverflow,
    EventStream,
    HandshakeFailed,
    Reconnect,
    Registration,
    RouterUnreachable,
    Session,
    SessionAborted,
    Subscription,
    TLSFailed,
    connect,
    procedure,
    topic,
)
from .asyncio_server import Listener, ListenError, RouterServer, serve

__all__ = [
    "CallResult",
    "ConnectionFailed",
    "ConnectionLost",
    "ConnectionRefused",
    "Event",
    "EventOverflow",
    "EventStream",
    "HandshakeFailed",
    "ListenError",
    "Listener",
    "Reconnect",
    "Registration",
    "RouterServer",
    "RouterUnreachable",
    "Session",
    "SessionAborted",
    "Subscription",
    "TLSFailed",
    "connect",
    "procedure",
    "serve",
    "topic",
]
