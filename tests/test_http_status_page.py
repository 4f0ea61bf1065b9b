"""The status page's own WAMP session (issue 12): with ``status_authrole`` it joins through a
single-use grant as that role and sees only what the role may see; the meta API gives it what
it shows (authmethod, transport, serializer, age). Driven as the page drives it: fetch the page,
take its grant, open ``/ws?status_grant=...`` with wamp.2.json, HELLO, CALL."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from httpkit import ConfiguredRouter, get
from wampcore.adapters import threads
from websockets.sync.client import connect as ws_connect

pytestmark = pytest.mark.timeout(120)

ROLES = """
[[realms]]
name = "realm1"
anonymous_role = "nobody"
[[realms.roles]]
name = "monitor"
permissions = [
  { uri = "wamp.session.", match = "prefix", call = true, subscribe = true },
]
[[realms.roles]]
name = "nobody"
permissions = []
[[realms.roles]]
name = "app"
permissions = [ { uri = "", match = "prefix", call = true, register = true } ]
"""


def page_config(url: str, path: str = "/") -> dict[str, Any]:
    page = get(url, path).text
    found = re.search(r"const CONFIG = (\{.*?\}) \|\|", page)
    assert found is not None
    config: dict[str, Any] = json.loads(found.group(1))
    return config


class PageSession:
    """What the page's inline client does, over a real WebSocket."""

    def __init__(self, url: str, grant: str | None, realm: str = "realm1") -> None:
        target = url + (f"?status_grant={grant}" if grant else "")
        # Entered as a context manager (websockets wants that), left in close().
        self._conn = ws_connect(target, subprotocols=["wamp.2.json"], open_timeout=10, proxy=None)
        self.ws = self._conn.__enter__()
        self.ws.send(
            json.dumps([1, realm, {"roles": {"caller": {}}, "authmethods": ["anonymous"]}])
        )
        self.welcome = json.loads(self.ws.recv(10))
        self.request = 0

    def call(self, procedure: str, *args: Any) -> list[Any]:
        self.request += 1
        self.ws.send(json.dumps([48, self.request, {}, procedure, list(args)]))
        reply: list[Any] = json.loads(self.ws.recv(10))
        return reply

    def close(self) -> None:
        self._conn.__exit__(None, None, None)


def test_the_page_joins_as_the_configured_role_and_sees_only_what_it_may(tmp_path: Path) -> None:
    """issue 12: with authorization on, the page joins as ``status_authrole`` and sees only what
    that role may see (here: the session meta API, not registrations)."""
    listener = 'url = "ws://127.0.0.1:0/ws"\nstatus_authrole = "monitor"'
    with ConfiguredRouter(tmp_path, [listener], extra=ROLES) as r:
        url = r.urls[0]
        config = page_config(url)
        assert config["authrole"] == "monitor" and len(config["grant"]) >= 16
        page = PageSession(url, config["grant"])
        try:
            code, session_id, details = page.welcome
            assert code == 2
            assert details["authrole"] == "monitor"
            assert details["authmethod"] == "status_grant"
            listed = page.call("wamp.session.list")
            assert listed[0] == 50 and session_id in listed[3][0]
            got = page.call("wamp.session.get", session_id)
            assert got[0] == 50
            me = got[3][0]
            assert me["transport"]["serializer"] == "json"
            assert me["transport"]["type"] == "websocket"
            assert me["authmethod"] == "status_grant"
            assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", me["joined"])
            denied = page.call("wamp.registration.list")
            assert denied[0] == 8 and denied[4] == "wamp.error.not_authorized"
        finally:
            page.close()


def test_a_grant_is_single_use_and_a_made_up_one_is_refused(tmp_path: Path) -> None:
    listener = 'url = "ws://127.0.0.1:0/ws"\nstatus_authrole = "monitor"'
    with ConfiguredRouter(tmp_path, [listener], extra=ROLES) as r:
        url = r.urls[0]
        grant = page_config(url)["grant"]
        first = PageSession(url, grant)
        assert first.welcome[0] == 2
        first.close()
        again = PageSession(url, grant)
        assert again.welcome[0] == 3 and again.welcome[2] == "wamp.error.not_authorized"
        again.close()
        forged = PageSession(url, "A" * 32)
        assert forged.welcome[0] == 3
        forged.close()
        # Without a grant the same URL is an ordinary anonymous join (role "nobody").
        plain = PageSession(url, None)
        assert plain.welcome[0] == 2 and plain.welcome[2]["authrole"] == "nobody"
        assert plain.call("wamp.session.list")[0] == 8
        plain.close()


def test_without_status_authrole_the_page_joins_anonymously(tmp_path: Path) -> None:
    with ConfiguredRouter(tmp_path, ['url = "ws://127.0.0.1:0/ws"']) as r:
        url = r.urls[0]
        config = page_config(url)
        assert config["grant"] is None
        page = PageSession(url, None)
        try:
            assert page.welcome[2]["authrole"] == "anonymous"
            with threads.connect(url, "realm1", timeout=10) as other:
                other.register("com.example.x", lambda: None)
                regs = page.call("wamp.registration.list")
                assert regs[0] == 50 and len(regs[3][0]["exact"]) == 1
                (reg_id,) = regs[3][0]["exact"]
                got = page.call("wamp.registration.get", reg_id)
                assert got[3][0]["uri"] == "com.example.x" and got[3][0]["match"] == "exact"
                assert page.call("wamp.registration.count_callees", reg_id)[3] == [1]
        finally:
            page.close()


def test_the_page_can_pick_its_realm(tmp_path: Path) -> None:
    extra = '[[realms]]\nname = "one"\n[[realms]]\nname = "two"\n'
    with ConfiguredRouter(tmp_path, ['url = "ws://127.0.0.1:0/ws"'], extra=extra) as r:
        assert page_config(r.urls[0])["realms"] == ["one", "two"]
        assert page_config(r.urls[0])["realm"] == "one"
        assert page_config(r.urls[0], "/?realm=two")["realm"] == "two"
        assert page_config(r.urls[0], "/?realm=%3Cscript%3E")["realm"] == "one"


def test_the_page_itself_runs_in_a_browser_and_shows_the_router_state(tmp_path: Path) -> None:
    """issue 12: the page is a real WAMP client -- headless chromium loads it from the router,
    its inline client joins, and the rendered DOM lists a Python session's registration and
    subscription, and its own session."""
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        pytest.skip("chromium is not installed (Debian package chromium)")
    with ConfiguredRouter(tmp_path, ['url = "ws://127.0.0.1:0/ws"']) as r:
        url = r.urls[0]
        with threads.connect(url, "realm1", timeout=10) as python:
            python.register("com.example.from_python", lambda: None)
            python.subscribe("com.example.news_for_the_page", lambda *a: None)
            host, port = url.split("//", 1)[1].split("/", 1)[0].split(":")
            dom = subprocess.run(
                [
                    chromium,
                    "--headless=new",
                    "--no-sandbox",
                    "--disable-gpu",
                    f"--user-data-dir={tmp_path / 'profile'}",
                    "--virtual-time-budget=8000",
                    "--dump-dom",
                    f"http://{host}:{port}/",
                ],
                capture_output=True,
                text=True,
                timeout=60,
                check=True,
            ).stdout
    assert 'data-ready="true"' in dom, dom[-2000:]
    assert "com.example.from_python" in dom
    assert "com.example.news_for_the_page" in dom
    session = re.search(r'data-session="(\d+)"', dom)
    assert session is not None and session.group(1) in dom.split("<tbody", 1)[1]
