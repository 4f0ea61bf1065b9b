"""An embedded callee: a procedure served from inside the router process, with no socket.

python examples/embedded_callee.py      # starts its own router on an ephemeral port

The router is served on a loopback WebSocket listener; an embedded session
(``server.local_session``, authrole ``trusted``) registers a procedure and subscribes to a topic
right in the router's process; then an ordinary network client calls, publishes, and asks the
meta API (wamp-spec.md §4.25) how many sessions the realm has -- the embedded one is listed too.
"""

import asyncio

from wampcore.adapters.asyncio import connect, serve

from wampcore.router import Router


async def main() -> None:
    # Port 0: the operating system picks a free port; server.urls has the real URL.
    server = await serve(Router(), ["ws://127.0.0.1:0/ws"])
    url = server.urls[0]
    try:
        # The embedded session speaks the same Session API as a network client.
        async with server.local_session("realm1") as embedded:
            visits: asyncio.Queue[str] = asyncio.Queue()

            def greet(name: str) -> str:
                return f"hello, {name} (from the router process)"

            await embedded.register("com.example.greet", greet)
            await embedded.subscribe("com.example.visits", visits.put_nowait)

            # A network client: it cannot tell an embedded callee from a remote one.
            async with connect(url, "realm1") as client:
                print(await client.call("com.example.greet", "network client"))
                await client.publish("com.example.visits", "client was here", acknowledge=True)
                print("embedded subscriber got:", await asyncio.wait_for(visits.get(), 10))
                # Clients may call the router's wamp.* meta procedures (but not register or
                # publish there): the embedded session counts as a session of realm1.
                print("sessions in realm1:", await client.call("wamp.session.count"))
    finally:
        await server.close()


if __name__ == "__main__":
    asyncio.run(main())
