"""The ``wampcore`` command, driven as a user would: subprocesses on loopback, hard timeouts."""

from __future__ import annotations

import json
import signal
import socket
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest
from adapterkit import WAMPCORE, Proc, Router, free_port, port_is_free, run
from wampcore.adapters import threads
from wampcore.adapters.asyncio import CallResult, SessionAborted
from wampcore.adapters.cli import parse_value

from wampcore.errors import ApplicationError, MessageTooLargeError

pytestmark = pytest.mark.timeout(120)


def test_arguments_parse_as_json_where_valid_else_as_strings() -> None:
    assert parse_value("5") == 5
    assert parse_value('"5"') == "5"
    assert parse_value("hello") == "hello"
    assert parse_value('{"a": [1, true, null]}') == {"a": [1, True, None]}
    assert parse_value("") == ""


@pytest.mark.skipif(
    not (port_is_free(8080) and port_is_free(8081)), reason="ports 8080/8081 are in use here"
)
def test_router_with_no_arguments_serves_realm1_to_anonymous_on_the_default_urls() -> None:
    """DESIGN §4: ``wampcore router`` alone: realm1, anonymous, ws :8080/ws and rs :8081."""
    proc = Proc([*WAMPCORE, "router"])
    try:
        proc.expect("ws://127.0.0.1:8080/ws")
        proc.expect("rs://127.0.0.1:8081")
        for url in ("ws://127.0.0.1:8080/ws", "rs://127.0.0.1:8081"):
            with threads.connect(url, "realm1") as s:
                reg = s.register("com.example.echo", lambda x: x)
                assert s.call("com.example.echo", url) == url
                assert isinstance(s.publish("com.example.t", 1, acknowledge=True), int)
                s.unregister(reg)
    finally:
        proc.signal(signal.SIGINT)
        try:
            assert proc.wait(15) == 0
        finally:
            proc.close()


def test_listen_and_realm_replace_the_defaults_and_unknown_realms_are_aborted() -> None:
    """wamp-spec §3.1: a HELLO for a realm that does not exist gets ABORT no_such_realm."""
    with Router("--realm", "com.example.one", "--realm", "two") as router:
        for url in router.urls.values():
            with threads.connect(url, "com.example.one") as s:
                assert s.session_id is not None
            with threads.connect(url, "two") as s:
                assert s.session_id is not None
            with pytest.raises(SessionAborted) as info:
                threads.connect(url, "realm1")
            assert info.value.reason == "wamp.error.no_such_realm"


def test_port_in_use_prints_one_line_and_exits_non_zero() -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = run([*WAMPCORE, "router", "--listen", f"rs://127.0.0.1:{port}"])
        assert result.returncode != 0
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1, result.stderr
        assert f"rs://127.0.0.1:{port}" in lines[0] and "in use" in lines[0]
        assert "Traceback" not in result.stderr
        debug = run(
            [*WAMPCORE, "router", "--log-level", "debug", "--listen", f"rs://127.0.0.1:{port}"]
        )
        assert debug.returncode != 0 and "Traceback" in debug.stderr


@pytest.mark.parametrize(
    ("body", "line", "key"),
    [
        ("[limits]\nmax_mesage_size = 5\n", 2, "limits.max_mesage_size"),
        (
            'outbound_policy = "drop"\n[limits]\nmax_message_size = "big"\n',
            3,
            "limits.max_message_size",
        ),
        ('[[realms]]\nname = "ok"\n\n[[realms]]\nname = "bad realm"\n', 5, "realms[1].name"),
        ("[limits\n", 1, ""),
    ],
)
def test_a_bad_config_names_file_line_and_key(
    tmp_path: Path, body: str, line: int, key: str
) -> None:
    path = tmp_path / "router.toml"
    path.write_text(body)
    result = run([*WAMPCORE, "router", "--config", str(path)])
    assert result.returncode != 0
    message = result.stderr.strip()
    assert len(message.splitlines()) == 1 and "Traceback" not in message
    assert f"{path}:{line}:" in message
    assert key in message


def test_config_file_declares_realms_and_listeners(tmp_path: Path) -> None:
    port = free_port()
    path = tmp_path / "router.toml"
    path.write_text(
        textwrap.dedent(
            f"""
            outbound_policy = "disconnect"

            [limits]
            max_message_size = 65536

            [[realms]]
            name = "com.example.realm"

            [[listeners]]
            url = "rs://127.0.0.1:{port}"
            serializers = ["cbor"]
            """
        )
    )
    proc = Proc([*WAMPCORE, "router", "--config", str(path)])
    try:
        proc.expect(f"rs://127.0.0.1:{port}")
        with threads.connect(
            f"rs://127.0.0.1:{port}", "com.example.realm", serializers=["cbor"]
        ) as s:
            s.register("com.example.echo", lambda x: x)
            assert s.call("com.example.echo", "x" * 100) == "x" * 100
            with pytest.raises(MessageTooLargeError):
                s.call("com.example.echo", "x" * 100_000)  # over the limit the router announced
    finally:
        proc.signal(signal.SIGTERM)
        try:
            assert proc.wait(15) == 0
        finally:
            proc.close()


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_signals_shut_down_gracefully_with_system_shutdown(sig: int) -> None:
    """wamp-spec §3.2: connected sessions get GOODBYE wamp.close.system_shutdown."""
    reasons: list[str] = []
    with Router() as router:
        s = threads.connect(
            router.urls["ws"], "realm1", on_leave=lambda _s, why: reasons.append(why)
        )
        router.proc.signal(sig)
        assert router.proc.wait(15) == 0
        s.leave()
    assert any("wamp.close.system_shutdown" in r for r in reasons), reasons


def test_client_subcommands_call_publish_subscribe_register() -> None:
    """Issue 6: call prints JSON, publish is acknowledged, subscribe prints JSON lines."""
    with Router() as router:
        url = router.urls["rs"]
        with threads.connect(router.urls["ws"], "realm1") as s:
            s.register("com.example.echo", lambda *a, **k: CallResult(list(a), k))
            s.register("com.example.add", lambda a, b: a + b)

            def fail(*a: Any, **k: Any) -> None:
                raise ApplicationError("com.example.failed", "why", kwargs={"code": 7})

            s.register("com.example.fail", fail)

            out = run([*WAMPCORE, "call", url, "realm1", "com.example.add", "2", "3"])
            assert (out.returncode, out.stdout.strip()) == (0, "5"), out.stderr
            out = run(
                [
                    *WAMPCORE,
                    "call",
                    url,
                    "realm1",
                    "com.example.echo",
                    "1",
                    '"x"',
                    "abc",
                    '{"a": [1]}',
                    "--kw",
                    "k=2",
                    "--kw",
                    "s=text",
                ]
            )
            assert out.returncode == 0, out.stderr
            assert json.loads(out.stdout) == {
                "args": [1, "x", "abc", {"a": [1]}],
                "kwargs": {"k": 2, "s": "text"},
            }
            out = run([*WAMPCORE, "call", url, "realm1", "com.example.fail"])
            assert out.returncode != 0 and out.stdout == ""
            assert "com.example.failed" in out.stderr and "why" in out.stderr
            assert '"code": 7' in out.stderr

            sub = Proc([*WAMPCORE, "subscribe", url, "realm1", "com.example.news"])
            try:
                sub.expect("subscribed", stream="err")
                out = run(
                    [
                        *WAMPCORE,
                        "publish",
                        router.urls["ws"],
                        "realm1",
                        "com.example.news",
                        "1",
                        "two",
                        "--kw",
                        "k=3",
                    ]
                )
                assert out.returncode == 0, out.stderr
                line = sub.expect("args")
                assert json.loads(line) == {"args": [1, "two"], "kwargs": {"k": 3}}
            finally:
                sub.signal(signal.SIGINT)
                try:
                    assert sub.wait(15) == 0
                finally:
                    sub.close()

        script = "import sys, json; print(json.dumps([a.upper() for a in sys.argv[1:]]))"
        reg = Proc(
            [
                *WAMPCORE,
                "register",
                url,
                "realm1",
                "com.example.upper",
                "--",
                sys.executable,
                "-c",
                script,
            ]
        )
        try:
            reg.expect("registered", stream="err")
            out = run(
                [*WAMPCORE, "call", router.urls["ws"], "realm1", "com.example.upper", "ab", "cd"]
            )
            assert (out.returncode, json.loads(out.stdout)) == (0, ["AB", "CD"]), out.stderr
        finally:
            reg.signal(signal.SIGTERM)
            try:
                assert reg.wait(15) == 0
            finally:
                reg.close()


def test_client_subcommand_failures_print_one_line() -> None:
    port = free_port()
    out = run([*WAMPCORE, "call", f"rs://127.0.0.1:{port}", "realm1", "com.example.x"])
    assert out.returncode != 0
    assert len(out.stderr.strip().splitlines()) == 1 and "refused" in out.stderr
    out = run([*WAMPCORE, "call", "http://127.0.0.1:1", "realm1", "com.example.x"])
    assert out.returncode != 0 and "Traceback" not in out.stderr
    with Router() as router:
        out = run([*WAMPCORE, "publish", router.urls["ws"], "no.such.realm", "com.example.t"])
        assert out.returncode != 0 and "wamp.error.no_such_realm" in out.stderr


def test_tls_listeners_from_certificate_files(tmp_path: Path) -> None:
    """``wss://`` and ``rss://`` listeners with --tls-cert/--tls-key; clients verify the CA."""
    trustme = pytest.importorskip("trustme")
    import ssl

    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1")
    cert_file, key_file = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert.cert_chain_pems[0].write_to_path(str(cert_file))
    cert.private_key_pem.write_to_path(str(key_file))
    context = ssl.create_default_context()
    ca.configure_trust(context)
    listen = ("wss://127.0.0.1:0/ws", "rss://127.0.0.1:0")
    with Router("--tls-cert", str(cert_file), "--tls-key", str(key_file), listen=listen) as router:
        for url in router.urls.values():
            with threads.connect(url, "realm1", ssl=context) as s:
                s.register("com.example.secure", lambda: "yes")
                assert s.call("com.example.secure") == "yes"
    out = run([*WAMPCORE, "router", "--listen", "wss://127.0.0.1:0/ws"])
    assert out.returncode != 0 and "--tls-cert" in out.stderr


def test_a_router_that_dies_mid_call_is_a_typed_connection_lost() -> None:
    """The client's pending call fails with ConnectionLost when the router process is killed."""
    import threading

    from wampcore.adapters.threads import ConnectionLost

    with Router() as router:
        started, release = threading.Event(), threading.Event()
        callee = threads.connect(router.urls["rs"], "realm1")

        def slow() -> None:
            started.set()
            release.wait(30)

        callee.register("com.example.slow", slow)
        caller = threads.connect(router.urls["ws"], "realm1")
        failure: list[BaseException] = []

        def call() -> None:
            try:
                caller.call("com.example.slow")
            except BaseException as exc:
                failure.append(exc)

        worker = threading.Thread(target=call)
        worker.start()
        assert started.wait(10)
        router.proc.popen.kill()
        worker.join(20)
        assert failure and isinstance(failure[0], ConnectionLost), failure
        assert "lost" in str(failure[0]) or "closed" in str(failure[0])
        release.set()
        caller.leave()
        callee.leave()


def test_dropped_events_are_logged_as_a_periodic_summary(caplog: pytest.LogCaptureFixture) -> None:
    """DESIGN §5: no per-message logging: a burst of EventsDropped is one summary line."""
    from wampcore.adapters.cli import _EventLog

    from wampcore.router import EventsDropped, PeerId

    events = _EventLog(every=3600)
    with caplog.at_level("WARNING", logger="wampcore.cli"):
        for i in range(1000):
            events(EventsDropped(PeerId(i % 3), i % 3, "outbound_queue_full", 2, i))
        events.flush()
    warnings = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert len(warnings) <= 2
    assert warnings[-1].startswith("dropped") and "3 slow session" in warnings[-1]
    assert sum(int(w.split()[1]) for w in warnings) == 2000
