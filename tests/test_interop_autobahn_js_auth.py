"""Interop: autobahn-js (npm ``autobahn``, pinned in tests/js/package-lock.json) authenticates to
``wampcore router --config`` with ticket, WAMP-CRA, salted WAMP-CRA and cryptosign.

One router subprocess per module (a TOML file written here; ephemeral loopback ports); one
Node.js process (tests/js/auth.js) per transport and serializer runs every case in order and
reports JSON lines; the assertions are made here. Each method joins with the right credential
(WELCOME authid/authrole/authmethod/authprovider; a call whose callee sees the caller, the
role's ``disclose_caller``; a call and a registration the role denies) and is refused with a
wrong one. Every wrong attempt is followed by a right one, which forgives the failure (the
router slows repeated failures from one address down). Without Node.js, npm or ``npm ci
--prefix tests/js`` these tests skip with the reasons of tests/test_interop_autobahn_js.py.

What autobahn-js 26.3.1 does, as found here:

* ``autobahn.auth_cra.sign(key, challenge)`` and ``derive_key(secret, salt, iterations,
  keylen)`` (crypto-js PBKDF2-HMAC-SHA256 of the UTF-8 text; the base64 text is the HMAC key)
  agree with wampcore's ``derive_cra_key``, non-ASCII secrets included; the client derives the
  key from the CHALLENGE's salt, iterations and keylen (autobahn-js has no defaults there).
* ``autobahn.auth_cryptosign`` signs with tweetnacl, a dependency of autobahn itself (no extra
  npm package); the HELLO authextra its ``create_connection`` helper builds carries
  ``trustroot``, ``challenge`` and ``channel_binding`` as null, which the router accepts.
* It has no WAMP-SCRAM implementation.
* An ABORT before WELCOME reaches ``Connection.onclose`` as reason ``"closed"`` (the transport
  closed cleanly) with ``details.reason`` the ABORT's URI and ``details.message`` its message.
"""

from __future__ import annotations

import json
import secrets
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from adapterkit import Router
from test_interop_autobahn_js import JS, NODE_TIMEOUT, node_command, parse

from wampcore.auth.cryptosign import generate_cryptosign_keypair
from wampcore.ids import default_random

pytestmark = pytest.mark.timeout(120)

REALM = "com.auth.js"
API = "com.auth.js.api"

RNG = default_random()
BACKEND_TICKET = secrets.token_urlsafe(16)
TICKET = secrets.token_urlsafe(16)
CRA_SECRET = secrets.token_urlsafe(16)
PASSWORD = "pässword-" + secrets.token_hex(6)  # non-ASCII: UTF-8 on both sides
SALT, ITERATIONS, KEYLEN = secrets.token_hex(8), 100, 32
CS_PRIVATE, CS_PUBLIC = generate_cryptosign_keypair(RNG)
STRANGER_PRIVATE, _ = generate_cryptosign_keypair(RNG)  # nobody's key

#: name -> (HELLO authmethod, the right case, the wrong credential, WELCOME authid)
METHODS: dict[str, tuple[str, dict[str, Any], dict[str, Any], str]] = {
    "ticket": ("ticket", {"authid": "ticketuser", "ticket": TICKET}, {"ticket": "x"}, "ticketuser"),
    "wampcra": ("wampcra", {"authid": "crauser", "secret": CRA_SECRET}, {"secret": "x"}, "crauser"),
    "wampcra_salted": (
        "wampcra",
        {"authid": "crasalted", "password": PASSWORD},
        {"password": "x" + PASSWORD},
        "crasalted",
    ),
    "cryptosign": (
        "cryptosign",
        {"authid": "csuser", "seed": CS_PRIVATE},
        {"seed": STRANGER_PRIVATE},
        "csuser",
    ),
}
#: Without an authid the router finds the principal by the public key (a wrong key without an
#: authid is the test at the end).
KEY_ONLY = {"name": "cryptosign_keyonly.ok", "realm": REALM, "method": "cryptosign"}
KEY_ONLY["seed"] = CS_PRIVATE

SUITES = [
    pytest.param("websocket", "json", id="ws-json"),
    pytest.param("websocket", "msgpack", id="ws-msgpack"),
    pytest.param("websocket", "cbor", id="ws-cbor"),
    pytest.param("rawsocket", "json", id="rs-json"),
]


def config_text() -> str:
    lines = [
        '[[realms]]\nname = "realm1"\n',
        f'[[realms]]\nname = "{REALM}"\nallow_anonymous = false\n',
        '[[realms.roles]]\nname = "backend"\npermissions = [{ uri = "", match = "prefix", '
        "call = true, register = true, publish = true, subscribe = true }]\n",
        '[[realms.roles]]\nname = "frontend"\npermissions = [\n'
        f'  {{ uri = "{API}.", match = "prefix", call = true, disclose_caller = true }},\n'
        f'  {{ uri = "{API}.admin.", match = "prefix" }},\n]\n',
    ]
    principals: list[dict[str, Any]] = [
        {"authid": "backend", "role": "backend", "ticket": BACKEND_TICKET},
        {"authid": "ticketuser", "role": "frontend", "ticket": TICKET},
        {"authid": "crauser", "role": "frontend", "secret": CRA_SECRET},
        {
            "authid": "crasalted",
            "role": "frontend",
            "secret": PASSWORD,  # the router derives the key with the salt, as Crossbar does
            "salt": SALT,
            "iterations": ITERATIONS,
            "keylen": KEYLEN,
        },
        {"authid": "csuser", "role": "frontend", "cryptosign_keys": [CS_PUBLIC]},
    ]
    for principal in principals:
        body = "".join(f"{k} = {json.dumps(v, ensure_ascii=False)}\n" for k, v in principal.items())
        lines.append(f"[[realms.principals]]\n{body}")
    return "\n".join(lines)


@pytest.fixture(scope="module")
def node() -> list[str]:
    command = node_command()
    if isinstance(command, str):
        pytest.skip(command)
    return command


@pytest.fixture(scope="module")
def router(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Router]:
    config = Path(tmp_path_factory.mktemp("autobahn-js-auth")) / "router.toml"
    config.write_text(config_text(), encoding="utf-8")
    with Router("--config", str(config)) as router:  # its __exit__ reaps it and closes its pipes
        yield router


def cases() -> list[dict[str, Any]]:
    """Every method right, wrong, right again: each failure is forgiven before the next."""
    out = []
    for name, (method, right, wrong, _) in METHODS.items():
        base = {"realm": REALM, "method": method, **right}
        out.append({"name": f"{name}.ok", **base})
        out.append({"name": f"{name}.wrong", **base, **wrong})
        out.append({"name": f"{name}.again", **base})
    out.append({"name": "unknown.wrong", "realm": REALM, "method": "ticket", "authid": "nobody"})
    out[-1]["ticket"] = TICKET
    out.append(
        {"name": "unknown.again", "realm": REALM, "method": "ticket", **METHODS["ticket"][1]}
    )
    out.append(KEY_ONLY)
    return out


def js_config(router: Router, transport: str, serializer: str, run: list[Any]) -> dict[str, Any]:
    if transport == "rawsocket":
        parts = urlsplit(router.urls["rs"])
        where: dict[str, Any] = {"host": parts.hostname, "port": parts.port}
    else:
        where = {"url": router.urls["ws"]}
    return {
        "transport": transport,
        "serializer": serializer,
        **where,
        "prefix": f"{API}.{transport}.{serializer}",
        "denied": f"{API}.admin.{transport}.{serializer}",
        "backend": {"realm": REALM, "authid": "backend", "ticket": BACKEND_TICKET},
        "cases": run,
    }


def run_auth_js(node: list[str], config: dict[str, Any]) -> dict[str, Any]:
    try:
        done = subprocess.run(
            [*node, str(JS / "auth.js"), json.dumps(config)],
            capture_output=True,
            text=True,
            timeout=NODE_TIMEOUT,
            stdin=subprocess.DEVNULL,
        )
    except subprocess.TimeoutExpired as exc:  # subprocess.run has killed it
        raise AssertionError(f"auth.js timed out: out={exc.stdout!r} err={exc.stderr!r}") from None
    records = parse(done.stdout)
    assert done.returncode == 0 and records.get("done") is True, (
        f"auth.js failed ({done.returncode}): out={done.stdout} err={done.stderr[-3000:]}"
    )
    return records


@pytest.mark.interop(
    peer="autobahn-js-node",
    transport="{transport}",
    serializer="{serializer}",
    features=[
        "auth-ticket",
        "auth-wampcra",
        "auth-wampcra-salted",
        "auth-cryptosign",
        "authorization",
        "disclosure",
    ],
)
@pytest.mark.parametrize(("transport", "serializer"), SUITES)
def test_autobahn_js_authenticates_with_every_method_it_has(
    node: list[str], router: Router, transport: str, serializer: str
) -> None:
    """wamp-spec §4.28 (ticket, WAMP-CRA, salted WAMP-CRA, cryptosign; ABORT on a wrong
    credential) and §10 (authorization and caller disclosure by role)."""
    got = run_auth_js(node, js_config(router, transport, serializer, cases()))

    welcomes = [
        (f"{name}.{when}", m, authid)
        for name, (m, _, _, authid) in METHODS.items()
        for when in ("ok", "again")
    ]
    welcomes += [
        ("unknown.again", "ticket", "ticketuser"),
        (KEY_ONLY["name"], "cryptosign", "csuser"),
    ]
    for key, method, authid in welcomes:
        assert f"{key}.welcome" in got, f"{key} refused: {got.get(f'{key}.refused')}"
        welcome = got[f"{key}.welcome"]
        details = welcome["details"]
        assert details["realm"] == REALM
        assert (details["authid"], details["authrole"]) == (authid, "frontend")
        assert (details["authmethod"], details["authprovider"]) == (method, "static")
        (challenge,) = welcome["challenges"]
        assert challenge["method"] == method
        if key.startswith("wampcra_salted."):
            assert challenge["keys"] == ["challenge", "iterations", "keylen", "salt"]
            salted = (challenge["salt"], challenge["iterations"], challenge["keylen"])
            assert salted == (SALT, ITERATIONS, KEYLEN)
        # The role's disclose_caller: the callee sees who called.
        assert welcome["whoami"] == {
            "caller": welcome["session"],
            "caller_authid": authid,
            "caller_authrole": "frontend",
        }
        assert welcome["admin"]["$error"]["error"] == "wamp.error.not_authorized"
        assert welcome["register"]["$error"]["error"] == "wamp.error.not_authorized"
        assert got[f"{key}.closed"]["details"]["reason"] == "wamp.close.goodbye_and_out"

    for name, (method, _, _, _) in [*METHODS.items(), ("unknown", ("ticket", {}, {}, ""))]:
        refused = got.get(f"{name}.wrong.refused")
        assert refused is not None, f"{name}.wrong joined: {got.get(f'{name}.wrong.welcome')}"
        assert refused["closed"] == {
            "reason": "closed",
            "details": {
                "reason": "wamp.error.authentication_failed",
                "message": "authentication failed",
            },
        }
        # A key no principal has is refused at HELLO; a wrong secret (and an unknown authid:
        # challenged like a known one) after the CHALLENGE.
        expected = [] if method == "cryptosign" else [method]
        assert [c["method"] for c in refused["challenges"]] == expected
    assert got["backend.closed"]["details"]["reason"] == "wamp.close.goodbye_and_out"


@pytest.mark.interop(
    peer="autobahn-js-node",
    transport="websocket",
    serializer="json",
    features=["auth-cryptosign"],
)
def test_autobahn_js_unknown_cryptosign_key_without_authid(node: list[str], router: Router) -> None:
    """A cryptosign key no principal has, without an authid: a failed attempt like any other
    (ABORT wamp.error.authentication_failed), not 'no method available'."""
    wrong = {**KEY_ONLY, "name": "keyonly.wrong", "seed": STRANGER_PRIVATE}
    got = run_auth_js(node, js_config(router, "websocket", "json", [wrong, KEY_ONLY]))
    assert f"{KEY_ONLY['name']}.welcome" in got  # the failure is forgiven either way
    closed = got["keyonly.wrong.refused"]["closed"]
    assert closed["details"] == {
        "reason": "wamp.error.authentication_failed",
        "message": "authentication failed",
    }
