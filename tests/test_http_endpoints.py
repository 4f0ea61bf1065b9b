"""HTTP beside WebSocket (issue 12): each endpoint's status codes, content types and bodies,
against the real ``wampcore router`` command and the asyncio and threads adapters; the metrics
parsed with prometheus_client's text parser, their values matching what the test did."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from httpkit import ConfiguredRouter, Response, get
from prometheus_client.parser import text_string_to_metric_families
from wampcore.adapters import threads
from wampcore.adapters.asyncio import connect
from wampcore.adapters.asyncio_server import Listener, ListenError, serve
from wampcore.adapters.threads_server import ThreadedRouterServer

from wampcore.config import RealmConfig, RouterConfig
from wampcore.errors import ApplicationError
from wampcore.router import Router

pytestmark = pytest.mark.timeout(120)

METRICS_TYPE = "text/plain; version=0.0.4; charset=utf-8"


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of an exposition, by (name, sorted labels); parsed by prometheus_client."""
    out: dict[tuple[str, tuple[tuple[str, str], ...]], float] = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


def value(text: str, name: str, **labels: str) -> float:
    return samples(text).get((name, tuple(sorted(labels.items()))), 0.0)


# --- the real command -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def cli(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ConfiguredRouter]:
    with ConfiguredRouter(
        tmp_path_factory.mktemp("cli"), ['url = "ws://127.0.0.1:0/ws"', 'url = "rs://127.0.0.1:0"']
    ) as r:
        yield r


def test_cli_health_is_200_json_while_serving(cli: ConfiguredRouter) -> None:
    """issue 12: /health answers 200 with a small JSON body while the router serves."""
    r = get(cli.urls[0], "/health")
    assert r.status == 200
    assert r.headers["content-type"] == "application/json"
    assert json.loads(r.body)["status"] == "ok"
    assert r.headers["connection"] == "close"


def test_cli_metrics_count_what_was_done(cli: ConfiguredRouter) -> None:
    """issue 12: N calls -> wampcore_calls_total N (success), messages by type, sessions gauge,
    duration histogram; parsed by prometheus_client's text parser."""
    ws = cli.urls[0]
    before = get(ws, "/metrics").text
    calls = 7
    with threads.connect(ws, "realm1", timeout=10) as callee:
        callee.register("com.example.twice", lambda x: 2 * x)

        def fail() -> None:
            raise ApplicationError("com.example.oops")

        callee.register("com.example.fail", fail)
        with threads.connect(cli.urls[1], "realm1", timeout=10) as caller:
            for i in range(calls):
                assert caller.call("com.example.twice", i) == 2 * i
            with pytest.raises(ApplicationError):
                caller.call("com.example.fail")
            with pytest.raises(ApplicationError):
                caller.call("com.example.nobody")
            during = get(ws, "/metrics")
    assert during.status == 200
    assert during.headers["content-type"] == METRICS_TYPE
    text = during.text
    # Two sessions joined (callee over WebSocket, caller over RawSocket).
    assert value(text, "wampcore_sessions", realm="realm1") == 2

    def delta(name: str, **labels: str) -> float:
        return value(text, name, **labels) - value(before, name, **labels)

    assert delta("wampcore_calls_total", realm="realm1", outcome="success") == calls
    assert delta("wampcore_calls_total", realm="realm1", outcome="error") == 1
    assert delta("wampcore_calls_total", realm="realm1", outcome="refused") == 1
    assert delta("wampcore_messages_received_total", type="CALL") == calls + 2
    assert delta("wampcore_messages_received_total", type="YIELD") == calls
    assert delta("wampcore_messages_received_total", type="HELLO") == 2
    assert delta("wampcore_messages_sent_total", type="INVOCATION") == calls + 1
    assert delta("wampcore_messages_sent_total", type="RESULT") == calls
    assert delta("wampcore_messages_sent_total", type="WELCOME") == 2
    assert delta("wampcore_call_duration_seconds_count") == calls + 1
    assert delta("wampcore_call_duration_seconds_bucket", le="+Inf") == calls + 1
    assert delta("wampcore_call_duration_seconds_sum") >= 0
    assert value(text, "wampcore_outbound_queue_bytes") >= 0
    after = get(ws, "/metrics").text
    assert value(after, "wampcore_sessions", realm="realm1") == 0


def test_cli_status_page_is_self_contained_html(cli: ConfiguredRouter) -> None:
    """issue 12: the status page is one HTML page with no external assets (works offline)."""
    r = get(cli.urls[0], "/")
    assert r.status == 200
    assert r.headers["content-type"] == "text/html; charset=utf-8"
    page = r.text
    assert page.startswith("<!DOCTYPE html>")
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", page)
    assert "http://" not in page and "https://" not in page
    assert "<script src" not in page and "<link" not in page
    config = re.search(r"const CONFIG = (\{.*?\}) \|\|", page)
    assert config is not None
    settings = json.loads(config.group(1))
    assert settings["wsPath"] == "/ws" and settings["realm"] == "realm1"
    assert settings["grant"] is None  # no status_authrole: the page joins anonymously
    for procedure in ("wamp.session.list", "wamp.session.get", "wamp.subscription.list"):
        assert procedure in page
    assert "wamp.registration.get" in page and "wamp.session.on_join" in page


def test_cli_unknown_paths_and_the_wamp_path_keep_their_answers(cli: ConfiguredRouter) -> None:
    ws = cli.urls[0]
    assert get(ws, "/nothing/here").status == 404
    assert get(ws, "/ws").status == 426  # plain GET on the WAMP path: still "use WebSocket"
    head = get(ws, "/health", method="HEAD")
    assert head.status == 200 and head.body == b""
    assert int(head.headers["content-length"]) > 0


def test_switched_off_endpoints_are_404(tmp_path: Path) -> None:
    """issue 12: each endpoint can be switched off in the config."""
    body = 'url = "ws://127.0.0.1:0/ws"\nstatus_page = false\nhealth = false\nmetrics = false'
    with ConfiguredRouter(tmp_path, [body]) as r:
        for path in ("/", "/status", "/health", "/metrics"):
            assert get(r.urls[0], path).status == 404, path
        with threads.connect(r.urls[0], "realm1", timeout=10) as s:
            assert s.call("wamp.session.count") == 1


def test_unknown_listener_key_is_a_config_error(tmp_path: Path) -> None:
    from wampcore.config import ConfigFileError, read_config_file

    config = tmp_path / "r.toml"
    config.write_text('[[listeners]]\nurl = "ws://127.0.0.1:0/ws"\nstatus_pages = true\n')
    with pytest.raises(ConfigFileError, match="status_pages"):
        read_config_file(config)
    config.write_text('[[listeners]]\nurl = "ws://127.0.0.1:0/ws"\nhealth = "yes"\n')
    with pytest.raises(ConfigFileError, match="health"):
        read_config_file(config)


def test_static_dir_serves_files_and_moves_the_status_page(tmp_path: Path) -> None:
    """issue 12: a static directory under / (index.html for directories); the status page
    moves to /status; /health and /metrics stay."""
    web = tmp_path / "web"
    (web / "app").mkdir(parents=True)
    (web / "index.html").write_text("<p>home</p>")
    (web / "app" / "index.html").write_text("<p>app</p>")
    (web / "app" / "main.js").write_text("console.log(1)")
    (web / "data.bin").write_bytes(bytes(range(256)))
    body = 'url = "ws://127.0.0.1:0/ws"\nstatic_dir = "web"'  # relative to the config file
    with ConfiguredRouter(tmp_path, [body]) as r:
        ws = r.urls[0]
        home = get(ws, "/")
        assert (home.status, home.body) == (200, b"<p>home</p>")
        assert home.headers["content-type"] == "text/html; charset=utf-8"
        assert get(ws, "/app/").body == b"<p>app</p>"
        moved = get(ws, "/app")
        assert moved.status == 301 and moved.headers["location"] == "/app/"
        js = get(ws, "/app/main.js")
        assert js.status == 200 and "javascript" in js.headers["content-type"]
        assert get(ws, "/data.bin").body == bytes(range(256))
        assert get(ws, "/status").headers["content-type"] == "text/html; charset=utf-8"
        assert "wampcore status" in get(ws, "/status").text
        assert get(ws, "/health").status == 200
        assert get(ws, "/metrics").status == 200
        assert get(ws, "/missing.txt").status == 404


def test_a_static_dir_that_is_not_a_directory_fails_at_start(tmp_path: Path) -> None:
    async def main() -> None:
        with pytest.raises(ListenError, match="not a directory"):
            await serve(Router(), [Listener("ws://127.0.0.1:0/ws", static_dir=str(tmp_path / "x"))])

    asyncio.run(main())


# --- the asyncio adapter (embedding users) --------------------------------------------------


def test_asyncio_adapter_serves_the_endpoints_and_health_turns_503_on_shutdown() -> None:
    """issue 12: the same endpoints through adapters.asyncio_server; /health is 503 once the
    router's shutdown began."""

    async def fetch(url: str, path: str) -> Response:
        return await asyncio.to_thread(get, url, path)

    async def main() -> None:
        router = Router(RouterConfig(realms=[RealmConfig("realm1")]))
        server = await serve(router, [Listener("ws://127.0.0.1:0/ws")])
        try:
            url = server.urls[0]
            got = asyncio.Event()
            async with connect(url, "realm1") as session, connect(url, "realm1") as other:
                await session.subscribe("com.example.topic", lambda *a: got.set())
                await other.publish("com.example.topic", 1, acknowledge=True)
                await asyncio.wait_for(got.wait(), 10)
                metrics = await fetch(url, "/metrics")
                assert metrics.headers["content-type"] == METRICS_TYPE
                assert value(metrics.text, "wampcore_sessions", realm="realm1") == 2
                assert value(metrics.text, "wampcore_messages_received_total", type="PUBLISH") == 1
                assert value(metrics.text, "wampcore_messages_sent_total", type="EVENT") == 1
                assert (await fetch(url, "/health")).status == 200
                assert (await fetch(url, "/")).status == 200
                router.shutdown()
                health = await fetch(url, "/health")
                assert health.status == 503
                assert json.loads(health.body)["status"] == "shutting_down"
        finally:
            await server.close()

    asyncio.run(main())


def test_asyncio_listener_switches(tmp_path: Path) -> None:
    async def main() -> None:
        router = Router()
        listener = Listener("ws://127.0.0.1:0/ws", metrics=False, status_page=False)
        async with await serve(router, [listener]) as server:
            url = server.urls[0]
            assert (await asyncio.to_thread(get, url, "/metrics")).status == 404
            assert (await asyncio.to_thread(get, url, "/")).status == 404
            assert (await asyncio.to_thread(get, url, "/health")).status == 200

    asyncio.run(main())


def test_threads_server_serves_the_same_endpoints() -> None:
    router = Router()
    with ThreadedRouterServer(router, ["ws://127.0.0.1:0/ws"]) as server:
        url = server.urls[0]
        with threads.connect(url, "realm1", timeout=10) as s:
            s.register("com.example.one", lambda: 1)
            assert s.call("com.example.one") == 1
            text = get(url, "/metrics").text
        assert value(text, "wampcore_calls_total", realm="realm1", outcome="success") == 1
        assert get(url, "/health").status == 200
        assert get(url, "/").headers["content-type"] == "text/html; charset=utf-8"


def test_label_values_are_escaped_per_the_exposition_format() -> None:
    """Prometheus text format: backslash, double quote and newline in label values escaped."""
    from wampcore.adapters.http import render_metrics

    router = Router(RouterConfig(auto_create_realms=True))
    router.metrics.auth_failed('a"b\\c\nd', "ticket")
    text = render_metrics(router.metrics_snapshot())
    assert 'realm="a\\"b\\\\c\\nd"' in text
    assert value(text, "wampcore_auth_failures_total", realm='a"b\\c\nd', method="ticket") == 1


def test_auth_failures_are_counted_by_realm_and_method(tmp_path: Path) -> None:
    """issue 12: wampcore_auth_failures_total{realm, method} after a wrong ticket."""
    extra = (
        '[[realms]]\nname = "realm1"\nauth_methods = ["ticket"]\nallow_anonymous = false\n'
        '[[realms.principals]]\nauthid = "joe"\nrole = "user"\nticket = "right"\n'
    )
    with ConfiguredRouter(tmp_path, ['url = "ws://127.0.0.1:0/ws"'], extra=extra) as r:
        url = r.urls[0]
        for _ in range(2):
            with pytest.raises(Exception, match="authentication"):
                threads.connect(url, "realm1", authid="joe", ticket="wrong", timeout=10)
        text = get(url, "/metrics").text
        assert value(text, "wampcore_auth_failures_total", realm="realm1", method="ticket") == 2
