"""Cryptosign with TLS channel binding through the asyncio adapters (wamp-spec.md §4.28).

The server adapter reports each TLS connection's ``tls-unique`` channel id (SHA-256 of it, as
Autobahn computes it) in the transport info; the client adapter gives its own to the ClientPeer.
A signature made for one TLS connection's binding fails on another (TLS 1.2: TLS 1.3 defines no
``tls-unique``).
"""

from __future__ import annotations

import asyncio
import random
import ssl

import pytest
from wampcore.adapters.asyncio import Listener, SessionAborted, connect, serve

from wampcore.auth.cryptosign import CryptosignClient, generate_cryptosign_keypair
from wampcore.config import PermissionConfig, PrincipalConfig, RealmConfig, RoleConfig, RouterConfig
from wampcore.router import Router

pytestmark = pytest.mark.timeout(60)

PRIVATE, PUBLIC = generate_cryptosign_keypair(random.Random(11))


def contexts() -> tuple[ssl.SSLContext, ssl.SSLContext]:
    trustme = pytest.importorskip("trustme")
    ca = trustme.CA()
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server.maximum_version = ssl.TLSVersion.TLSv1_2  # tls-unique exists up to TLS 1.2
    ca.issue_cert("127.0.0.1").configure_cert(server)
    client = ssl.create_default_context()
    client.maximum_version = ssl.TLSVersion.TLSv1_2
    ca.configure_trust(client)
    return server, client


def router() -> Router:
    realm = RealmConfig(
        name="authrealm",
        allow_anonymous=False,
        roles=[
            RoleConfig(
                name="user",
                permissions=[PermissionConfig(uri="", match="prefix", call=True, register=True)],
            )
        ],
        principals=[PrincipalConfig(authid="cs", role="user", cryptosign_keys=[PUBLIC])],
    )
    return Router(RouterConfig(realms=[RealmConfig("realm1"), realm]))


def test_cryptosign_bound_to_the_tls_channel_wamp_spec_4_28() -> None:
    server_ctx, client_ctx = contexts()

    async def scenario() -> None:
        server = await serve(router(), [Listener("rss://127.0.0.1:0", server_ctx)])
        try:
            url = server.urls[0]
            bound = CryptosignClient(PRIVATE, channel_binding="tls-unique")
            async with connect(url, "authrealm", authid="cs", auth=[bound], ssl=client_ctx) as s:
                assert s.details.authmethod == "cryptosign"
                await s.register("com.example.echo", lambda x: x)
                assert await s.call("com.example.echo", 5) == 5
            # Unbound still works; binding asked for on plain TCP fails.
            plain = await serve(router(), ["rs://127.0.0.1:0"])
            try:
                with pytest.raises(SessionAborted) as refused:
                    await connect(
                        plain.urls[0],
                        "authrealm",
                        authid="cs",
                        auth=[CryptosignClient(PRIVATE, channel_binding="tls-unique")],
                    )
                assert refused.value.reason == "wamp.error.authentication_failed"
                async with connect(plain.urls[0], "authrealm", authid="cs", private_key=PRIVATE):
                    pass
            finally:
                await plain.close()
        finally:
            await server.close()

    asyncio.run(asyncio.wait_for(scenario(), 30))
