"""Embedding: a wampcore Router mounted on an aiohttp WebSocket endpoint, next to ordinary routes.

aiohttp does the HTTP upgrade and hands over whole WebSocket messages, so the router gets an
identity framing (``MessageFraming``) per connection instead of a byte-stream framing. Each
connection has a writer task that sends the router's payloads when woken, so a slow browser
only ever waits on its own socket.

    python examples/aiohttp_embedding.py          # then connect to ws://127.0.0.1:8080/ws
"""

from __future__ import annotations

import asyncio
from typing import Any

from aiohttp import WSMsgType, web

from wampcore.router import Router
from wampcore.transports import MessageFraming

SUBPROTOCOLS = ("wamp.2.json", "wamp.2.msgpack", "wamp.2.cbor")
ROUTER: web.AppKey[Router] = web.AppKey("router", Router)
WAKE: web.AppKey[dict[Any, asyncio.Event]] = web.AppKey("wake", dict)


def wake_writers(app: web.Application) -> None:
    router, wake = app[ROUTER], app[WAKE]
    for peer in router.peers_with_output():
        if peer in wake:
            wake[peer].set()


async def writer(ws: web.WebSocketResponse, router: Router, peer: Any, wake: asyncio.Event) -> None:
    binary = not ws.ws_protocol or not ws.ws_protocol.endswith("json")
    while True:
        await wake.wait()
        wake.clear()
        for payload in router.payloads_to_send(peer):
            await (ws.send_bytes(payload) if binary else ws.send_str(payload.decode()))
        if router.should_close(peer):
            await ws.close()
            return


async def wamp_endpoint(request: web.Request) -> web.WebSocketResponse:
    app = request.app
    router, loop = app[ROUTER], asyncio.get_running_loop()
    ws = web.WebSocketResponse(protocols=SUBPROTOCOLS)
    await ws.prepare(request)
    if ws.ws_protocol is None:
        await ws.close(code=1002, message=b"no WAMP subprotocol offered")
        return ws
    peer = router.accept(
        MessageFraming(ws.ws_protocol),
        {"type": "websocket", "peer": request.remote},
        now=loop.time(),
    )
    app[WAKE][peer] = wake = asyncio.Event()
    task = asyncio.create_task(writer(ws, router, peer, wake))
    wake_writers(app)
    try:
        async for msg in ws:
            if msg.type in (WSMsgType.TEXT, WSMsgType.BINARY):
                data = msg.data.encode() if msg.type == WSMsgType.TEXT else msg.data
                router.receive_data(peer, data, now=loop.time())
                wake_writers(app)
    finally:
        router.connection_lost(peer)
        del app[WAKE][peer]
        task.cancel()
        wake_writers(app)
    return ws


async def timers(app: web.Application) -> Any:
    """Keep the router's clock: handshake and call deadlines."""
    router, loop = app[ROUTER], asyncio.get_running_loop()

    async def tick() -> None:
        while True:
            deadline = router.next_deadline()
            await asyncio.sleep(0.5 if deadline is None else max(0.0, deadline - loop.time()))
            router.handle_timeout(loop.time())
            wake_writers(app)
            while router.next_event() is not None:
                pass

    task = asyncio.create_task(tick())
    yield
    task.cancel()


async def goodbye_everyone(app: web.Application) -> None:
    """On shutdown: GOODBYE wamp.close.system_shutdown to every session; writers close."""
    app[ROUTER].shutdown()
    wake_writers(app)


async def hello(_request: web.Request) -> web.Response:
    return web.Response(text="WAMP at /ws\n")


def make_app(router: Router | None = None) -> web.Application:
    app = web.Application()
    app[ROUTER] = router or Router()
    app[WAKE] = {}
    app.router.add_get("/ws", wamp_endpoint)
    app.router.add_get("/", hello)
    app.cleanup_ctx.append(timers)
    app.on_shutdown.append(goodbye_everyone)
    return app


if __name__ == "__main__":
    web.run_app(make_app(), host="127.0.0.1", port=8080)
