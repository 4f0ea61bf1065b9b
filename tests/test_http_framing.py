"""The core's side of HTTP beside WebSocket (issue 12), with no I/O: a ``WebSocketServer(http=
True)`` turns a plain GET/HEAD for another path into an ``HttpRequest`` the layer above answers
with ``respond``; the router passes it up as ``HttpRequested`` and back with ``http_respond``;
the counters of ``wampcore.router.metrics``."""

from __future__ import annotations

import pytest

from wampcore.errors import LocalProtocolError
from wampcore.router import HandshakeTimedOut, HttpRequested, Router
from wampcore.router.metrics import CALL_OUTCOMES, DURATION_BUCKETS, MAX_LABELLED_REALMS, Metrics
from wampcore.transports import Closed, HttpRequest, WebSocketServer

GET = b"GET /metrics?x=1 HTTP/1.1\r\nHost: h\r\nAccept: */*\r\n\r\n"
UPGRADE_ELSEWHERE = (
    b"GET /elsewhere HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
    b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
    b"Sec-WebSocket-Protocol: wamp.2.json\r\n\r\n"
)


def status(data: bytes) -> int:
    return int(data.split(b" ", 2)[1])


def test_a_plain_get_for_another_path_is_an_http_request_event() -> None:
    ws = WebSocketServer(http=True)
    ws.receive_data(GET)
    event = ws.next_event()
    assert isinstance(event, HttpRequest)
    assert (event.method, event.path, event.query, event.target) == (
        "GET",
        "/metrics",
        "x=1",
        "/metrics?x=1",
    )
    assert event.get_header("ACCEPT") == "*/*"
    assert ws.next_event() is None and not ws.closed
    ws.respond(200, [("Content-Type", "text/plain")], b"hello")
    assert ws.data_to_send() == (
        b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nConnection: close\r\n"
        b"Content-Type: text/plain\r\n\r\nhello"
    )
    closed = ws.next_event()
    assert isinstance(closed, Closed) and closed.error is None and closed.code == 200
    assert ws.closed


def test_the_request_is_the_same_however_the_bytes_are_split() -> None:
    ws = WebSocketServer(http=True)
    event = None
    for i in range(len(GET)):
        ws.receive_data(GET[i : i + 1])
        event = ws.next_event() or event
    assert isinstance(event, HttpRequest) and event.path == "/metrics"


def test_without_http_the_refusals_are_unchanged() -> None:
    """The default framing keeps answering every non-upgrade request itself (404 here)."""
    ws = WebSocketServer()
    ws.receive_data(GET)
    assert isinstance(ws.next_event(), Closed)
    assert status(ws.data_to_send()) == 404


@pytest.mark.parametrize(
    ("request_bytes", "code"),
    [
        (b"GET /ws HTTP/1.1\r\nHost: x\r\n\r\n", 426),  # the WAMP path wants WebSocket
        (UPGRADE_ELSEWHERE, 404),  # an upgrade elsewhere is still refused
        (b"POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n", 405),
        (b"GET /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc", 400),
        (b"GET / HTTP/1.1\r\nHost: x\r\nX: " + b"y" * 20000 + b"\r\n\r\n", 431),
        (b"NOT HTTP AT ALL\r\n\r\n", 400),
    ],
)
def test_what_is_still_refused_with_http_on(request_bytes: bytes, code: int) -> None:
    ws = WebSocketServer(http=True)
    ws.receive_data(request_bytes)
    event = ws.next_event()
    assert isinstance(event, Closed), event
    assert status(ws.data_to_send()) == code


def test_head_gets_the_length_but_no_body() -> None:
    ws = WebSocketServer(http=True)
    ws.receive_data(b"HEAD /health HTTP/1.0\r\n\r\n")
    assert isinstance(ws.next_event(), HttpRequest)
    ws.respond(200, [], b"0123456789")
    out = ws.data_to_send()
    assert out.endswith(b"Content-Length: 10\r\nConnection: close\r\n\r\n")


def test_bytes_after_the_request_are_discarded_and_eof_does_not_cancel_the_answer() -> None:
    ws = WebSocketServer(http=True)
    ws.receive_data(GET + GET + b"x" * 1_000_000)
    assert isinstance(ws.next_event(), HttpRequest)
    ws.receive_data(b"y" * 1_000_000)
    ws.receive_data(b"")
    assert ws.next_event() is None and not ws.closed
    ws.respond(204)
    assert status(ws.data_to_send()) == 204


@pytest.mark.parametrize(
    "header",
    [("X-Bad", "a\r\nSet-Cookie: evil"), ("Bad Name", "v"), ("Content-Length", "9"), ("", "v")],
)
def test_respond_refuses_headers_that_would_break_the_response(header: tuple[str, str]) -> None:
    ws = WebSocketServer(http=True)
    ws.receive_data(GET)
    ws.next_event()
    with pytest.raises(LocalProtocolError):
        ws.respond(200, [header], b"")
    with pytest.raises(LocalProtocolError):
        ws.respond(1000)
    ws.respond(200)  # still answerable after the refused attempts
    with pytest.raises(LocalProtocolError):
        ws.respond(200)


def test_the_router_passes_the_request_up_and_the_answer_back() -> None:
    router = Router()
    peer = router.accept(WebSocketServer(http=True), now=0.0)
    router.receive_data(peer, GET, now=0.0)
    event = router.next_event()
    assert isinstance(event, HttpRequested) and event.peer == peer
    assert event.request.path == "/metrics"
    assert router.http_respond(peer, 200, [("Content-Type", "text/plain")], b"ok")
    assert router.data_to_send(peer).endswith(b"\r\n\r\nok")
    assert router.should_close(peer)
    assert not router.http_respond(peer, 200)  # answered already
    assert router.next_event() is None  # no violation, no session: nothing to report


def test_an_unanswered_request_is_closed_at_the_handshake_deadline() -> None:
    router = Router()
    peer = router.accept(WebSocketServer(http=True), now=0.0)
    router.receive_data(peer, GET, now=0.0)
    assert isinstance(router.next_event(), HttpRequested)
    deadline = router.next_deadline()
    assert deadline == router.config.limits.handshake_timeout
    router.handle_timeout(deadline)
    assert router.should_close(peer)
    assert isinstance(router.next_event(), HandshakeTimedOut)
    assert not router.http_respond(peer, 200)


def test_join_grants_are_validated() -> None:
    router = Router()
    with pytest.raises(LocalProtocolError):
        router.grant_join("short", "monitor", expires=1.0)
    with pytest.raises(LocalProtocolError):
        router.grant_join("x" * 32, "", expires=1.0)


def test_the_duration_histogram_is_cumulative() -> None:
    now = [0.0]
    metrics = Metrics(lambda: now[0])
    counters = metrics.call_counters("r")
    for started, took in ((0.0, 0.0002), (1.0, 0.003), (2.0, 100.0)):
        now[0] = started + took
        metrics.call_answered(counters, started, None)
    now[0] = 5.0
    metrics.call_answered(counters, 5.0, "wamp.error.timeout")
    snap = metrics.snapshot()
    assert snap.duration_count == 4
    assert snap.duration_buckets[0] == 2  # 0.0002 and 0.0 are below 0.0005
    assert snap.duration_buckets[DURATION_BUCKETS.index(0.005)] == 3
    assert snap.duration_buckets[-2] == 3 and snap.duration_buckets[-1] == 4  # 100 s: +Inf
    assert snap.calls[("r", "success")] == 3 and snap.calls[("r", "timeout")] == 1
    assert set(o for _, o in snap.calls) == set(CALL_OUTCOMES)


def test_realm_labels_are_bounded() -> None:
    metrics = Metrics()
    for i in range(MAX_LABELLED_REALMS + 50):
        metrics.event_dropped(f"realm{i}")
        metrics.call_counters(f"realm{i}")
    snap = metrics.snapshot()
    assert len(snap.events_dropped) == MAX_LABELLED_REALMS + 1
    assert snap.events_dropped["(other)"] == 50
    assert len({r for r, _ in snap.calls}) == MAX_LABELLED_REALMS + 1
