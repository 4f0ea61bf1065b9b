"""Application decisions on joins through the server adapters (wamp-spec.md §4.28).

A realm with ``auth_events`` reports each join as ``AuthenticationRequested``; the application
answers through the server (``auth_welcome``/``auth_challenge``/``auth_deny``), which also
writes the answer out. Real clients on 127.0.0.1.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from wampcore.adapters import threads
from wampcore.adapters.asyncio import SessionAborted, connect, serve

from wampcore.config import RealmConfig, RouterConfig
from wampcore.router import Router
from wampcore.router.events import AuthenticateReceived, AuthenticationRequested

pytestmark = pytest.mark.timeout(60)


def config() -> RouterConfig:
    realm = RealmConfig(name="app", allow_anonymous=False, auth_events=True)
    return RouterConfig(realms=[RealmConfig("realm1"), realm])


def test_asyncio_server_application_decides_wamp_spec_4_28() -> None:
    async def scenario() -> None:
        events: list[Any] = []
        server = await serve(Router(config()), ["rs://127.0.0.1:0"], on_event=events.append)

        def decide(event: Any) -> None:
            events.append(event)
            if isinstance(event, AuthenticationRequested):
                if event.authid == "alice":
                    server.auth_challenge(event.peer, "ticket")
                else:
                    server.auth_deny(event.peer, "wamp.error.not_authorized", "who are you")
            elif isinstance(event, AuthenticateReceived):
                if event.signature == "open-sesame":
                    server.auth_welcome(event.peer, "user", authextra={"hi": 1})
                else:
                    server.auth_deny(event.peer)

        server._on_event = decide  # the application's event handler
        url = server.urls[0]
        try:
            async with connect(url, "app", authid="alice", ticket="open-sesame") as s:
                assert (s.details.authid, s.details.authrole) == ("alice", "user")
                assert s.details.authprovider == "dynamic"
            with pytest.raises(SessionAborted) as refused:
                await connect(url, "app", authid="mallory", ticket="x")
            assert refused.value.reason == "wamp.error.not_authorized"
            with pytest.raises(SessionAborted) as refused:
                await connect(url, "app", authid="alice", ticket="wrong")
            assert refused.value.reason == "wamp.error.not_authorized"
        finally:
            await server.close()

    asyncio.run(asyncio.wait_for(scenario(), 30))


def test_threaded_server_application_decides_wamp_spec_4_28() -> None:
    def decide(event: Any) -> None:  # on the routing thread
        if isinstance(event, AuthenticationRequested):
            if event.authid == "bob":
                server.auth_welcome(event.peer, "user")
            else:
                server.auth_deny(event.peer, "wamp.error.not_authorized")

    server = threads.ThreadedRouterServer(Router(config()), ["rs://127.0.0.1:0"], on_event=decide)
    with server:
        assert server.auth_welcome(12345, "user") is False  # no such pending join: nothing
        with threads.connect(server.urls[0], "app", authid="bob", ticket="t") as s:
            assert s.details.authrole == "user"
        with pytest.raises(SessionAborted) as refused:
            threads.connect(server.urls[0], "app", authid="eve", ticket="t")
        assert refused.value.reason == "wamp.error.not_authorized"
