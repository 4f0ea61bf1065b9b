"""Plain HTTP beside WebSocket: what a listener answers on paths other than its WAMP path.

The core decides (a ``WebSocketServer(http=True)`` turns a plain GET/HEAD into an
``HttpRequested`` router event); this module renders the answer, and the server adapters hand it
back with ``Router.http_respond``. :class:`HttpService` serves one listener:

* ``/health``: 200 ``{"status": "ok", "realms": N, "sessions": N}`` while serving, 503
  ``{"status": "shutting_down"}`` once the router's shutdown began;
* ``/metrics``: the router's counters (:mod:`wampcore.router.metrics`) in the Prometheus text
  exposition format 0.0.4 (:func:`render_metrics`);
* the status page (``status_page.html``, shipped beside this module): at ``/``, or at
  ``/status`` when a static directory is served;
* files of ``static_dir`` under ``/`` (``index.html`` for a directory).

A switched-off endpoint is 404, like any unknown path. Static paths are judged segment by
segment before any decoding can join them: a segment that decodes to ``.``, ``..``, something
with a slash, a backslash or NUL, or that starts with a dot, is 404; the resolved file (symlinks
followed) must lie inside the directory's resolved path and be a regular file of at most
``MAX_STATIC_FILE`` bytes. Files are read whole, on the serving thread.

The status page joins the router over WebSocket as a real WAMP client. With
``status_authrole`` set, every page served carries a fresh single-use grant
(``Router.grant_join``) that admits its session as that role; see docs/http.md for what that
means for security.
"""

from __future__ import annotations

import json
import mimetypes
import os
import secrets
import stat
from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources
from typing import Any
from urllib.parse import parse_qs, unquote

from wampcore.router import Router, Snapshot
from wampcore.router.metrics import DURATION_BUCKETS
from wampcore.transports import HttpRequest

__all__ = [
    "CONTENT_TYPE_METRICS",
    "MAX_STATIC_FILE",
    "HttpOptions",
    "HttpService",
    "render_metrics",
    "status_page_template",
]

CONTENT_TYPE_METRICS = "text/plain; version=0.0.4; charset=utf-8"
#: Larger files in a static directory are not served (403): a response is held whole.
MAX_STATIC_FILE = 32 * 1024 * 1024
#: How long a status page's grant stays usable after the page was served (seconds).
GRANT_LIFETIME = 60.0
_STATUS_AUTHID = "wampcore-status-page"
_PLACEHOLDER = "/*WAMPCORE_STATUS_CONFIG*/null"


@dataclass(frozen=True, slots=True, kw_only=True)
class HttpOptions:
    """What one listener serves beside WebSocket (the ``[[listeners]]`` keys of the same
    names; see ``wampcore.config.ListenerConfig`` for the rules)."""

    status_page: bool = True
    health: bool = True
    metrics: bool = True
    static_dir: str | None = None
    status_authrole: str | None = None

    @property
    def serves_http(self) -> bool:
        return self.status_page or self.health or self.metrics or self.static_dir is not None


def status_page_template() -> str:
    """The status page's HTML, as shipped (its config placeholder not yet filled in)."""
    return (
        resources.files(__package__ or "wampcore.adapters")
        .joinpath("status_page.html")
        .read_text("utf-8")
    )


Response = tuple[int, list[tuple[str, str]], bytes]


class HttpService:
    """Answers the plain HTTP requests of one listener (see the module docstring)."""

    def __init__(
        self,
        router: Router,
        options: HttpOptions,
        ws_path: str,
        *,
        shutting_down: Callable[[], bool] | None = None,
    ) -> None:
        self.router = router
        self.options = options
        self.ws_path = ws_path
        self._shutting_down = shutting_down or (lambda: router.shutting_down)
        self._root: str | None = None
        if options.static_dir is not None:
            self._root = os.path.realpath(options.static_dir)
            if not os.path.isdir(self._root):
                raise ValueError(f"static_dir {options.static_dir!r} is not a directory")
        self.status_path = "/status" if self._root is not None else "/"
        self._template = status_page_template() if options.status_page else ""

    def answer(self, request: HttpRequest, now: float) -> Response:
        """The response to one request (``now``: the router's clock, for the page's grant)."""
        try:
            return self._answer(request, now)
        except Exception:  # a bug here must cost one request, not the server
            return _text(500, "internal error")

    def _answer(self, request: HttpRequest, now: float) -> Response:
        path = request.path
        if not path.startswith("/"):
            return _text(400, "the request target must be a path")
        if path == "/health" and self.options.health:
            return self._health()
        if path == "/metrics" and self.options.metrics:
            body = render_metrics(self.router.metrics_snapshot()).encode("utf-8")
            return 200, [("Content-Type", CONTENT_TYPE_METRICS), _NO_STORE], body
        if path == self.status_path and self.options.status_page:
            return self._status_page(request, now)
        if self._root is not None:
            return self._static(path)
        return _text(404, "not found")

    # -- endpoints -------------------------------------------------------------------------------

    def _health(self) -> Response:
        router = self.router
        body: dict[str, Any]
        if self._shutting_down():
            body = {"status": "shutting_down"}
            status = 503
        else:
            body = {
                "status": "ok",
                "realms": len(router.realms),
                "sessions": router.session_count(),
            }
            status = 200
        data = json.dumps(body).encode("utf-8")
        return status, [("Content-Type", "application/json"), _NO_STORE], data

    def _status_page(self, request: HttpRequest, now: float) -> Response:
        realms = self.router.realms
        wanted = parse_qs(request.query).get("realm", [""])[0]
        realm = wanted if wanted in realms else (realms[0] if realms else "")
        grant = None
        role = self.options.status_authrole
        if role is not None:
            grant = secrets.token_urlsafe(24)
            self.router.grant_join(grant, role, expires=now + GRANT_LIFETIME, authid=_STATUS_AUTHID)
        config = {
            "wsPath": self.ws_path,
            "realm": realm,
            "realms": realms,
            "grant": grant,
            "metricsPath": "/metrics" if self.options.metrics else None,
            "authrole": role,
        }
        # Inside a <script>: "<" escaped so no value can close the element.
        blob = json.dumps(config).replace("<", "\\u003c")
        html = self._template.replace(_PLACEHOLDER, blob, 1)
        headers = [
            ("Content-Type", "text/html; charset=utf-8"),
            _NO_STORE,
            # Everything is inline; the page talks only to its own origin.
            (
                "Content-Security-Policy",
                "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; "
                "connect-src 'self' ws: wss:; img-src 'self' data:; base-uri 'none'; "
                "frame-ancestors 'none'",
            ),
            ("X-Content-Type-Options", "nosniff"),
            ("Referrer-Policy", "no-referrer"),
        ]
        return 200, headers, html.encode("utf-8")

    def _static(self, path: str) -> Response:
        root = self._root
        assert root is not None
        parts: list[str] = []
        for raw in path.split("/")[1:]:
            if raw == "":
                continue  # "//" and a trailing "/" name the same directory
            try:
                segment = unquote(raw, errors="strict") if "%" in raw else raw
            except UnicodeDecodeError:
                return _text(404, "not found")
            if (
                segment.startswith(".")
                or "/" in segment
                or "\\" in segment
                or "\0" in segment
                or segment == ""
            ):
                return _text(404, "not found")
            parts.append(segment)
        candidate = os.path.realpath(os.path.join(root, *parts))
        if os.path.commonpath([root, candidate]) != root:
            return _text(404, "not found")  # a symlink out of the directory
        try:
            info = os.stat(candidate)
            if stat.S_ISDIR(info.st_mode):
                if not path.endswith("/"):
                    return 301, [("Location", path + "/")], b""
                candidate = os.path.realpath(os.path.join(candidate, "index.html"))
                if os.path.commonpath([root, candidate]) != root:
                    return _text(404, "not found")
                info = os.stat(candidate)
            if not stat.S_ISREG(info.st_mode):
                return _text(404, "not found")
            if info.st_size > MAX_STATIC_FILE:
                return _text(403, "file too large to serve")
            with open(candidate, "rb") as f:
                data = f.read(MAX_STATIC_FILE + 1)
        except (OSError, ValueError):
            return _text(404, "not found")
        if len(data) > MAX_STATIC_FILE:
            return _text(403, "file too large to serve")
        kind, encoding = mimetypes.guess_type(candidate)
        if kind is None or encoding is not None:
            kind = "application/octet-stream"
        elif kind.startswith("text/") or kind in ("application/javascript", "application/json"):
            kind += "; charset=utf-8"
        headers = [
            ("Content-Type", kind),
            ("Cache-Control", "no-cache"),
            ("X-Content-Type-Options", "nosniff"),
        ]
        return 200, headers, data


_NO_STORE = ("Cache-Control", "no-store")


def _text(status: int, message: str) -> Response:
    return status, [("Content-Type", "text/plain; charset=utf-8")], (message + "\n").encode()


# -- the Prometheus text exposition format (0.0.4) -------------------------------------------------


def _label(value: str) -> str:
    """A label value, escaped as the exposition format requires (backslash, quote, newline)."""
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _number(value: float) -> str:
    if isinstance(value, int):
        return str(value)
    return repr(float(value))


def render_metrics(snap: Snapshot) -> str:
    """The snapshot as Prometheus text (one family per metric, HELP and TYPE first)."""
    out: list[str] = []

    def family(name: str, kind: str, help_text: str, samples: list[tuple[str, Any]]) -> None:
        out.append(f"# HELP {name} {help_text}")
        out.append(f"# TYPE {name} {kind}")
        for labels_and_suffix, value in samples:
            out.append(f"{labels_and_suffix} {_number(value)}")

    def labelled(name: str, labels: dict[str, str]) -> str:
        if not labels:
            return name
        inner = ",".join(f'{k}="{_label(v)}"' for k, v in labels.items())
        return f"{name}{{{inner}}}"

    family(
        "wampcore_sessions",
        "gauge",
        "Joined sessions per realm (the router's own service sessions not counted).",
        [
            (labelled("wampcore_sessions", {"realm": r}), n)
            for r, n in sorted(snap.sessions.items())
        ],
    )
    for direction, counts in (("received", snap.received), ("sent", snap.sent)):
        name = f"wampcore_messages_{direction}_total"
        family(
            name,
            "counter",
            f"WAMP messages {direction} over network transports, by message type.",
            [(labelled(name, {"type": t}), n) for t, n in counts.items()],
        )
    family(
        "wampcore_events_dropped_total",
        "counter",
        "EVENTs not delivered to a subscriber (outbound queue full under policy drop, too "
        "large, or unencodable for its serializer), per realm.",
        [
            (labelled("wampcore_events_dropped_total", {"realm": r}), n)
            for r, n in sorted(snap.events_dropped.items())
        ],
    )
    family(
        "wampcore_calls_total",
        "counter",
        "Calls routed by the dealer, per realm and outcome "
        "(success, error, canceled, timeout, refused).",
        [
            (labelled("wampcore_calls_total", {"realm": r, "outcome": o}), n)
            for (r, o), n in sorted(snap.calls.items())
        ],
    )
    name = "wampcore_call_duration_seconds"
    bounds = [*(repr(float(b)) for b in DURATION_BUCKETS), "+Inf"]
    samples: list[tuple[str, Any]] = [
        (labelled(f"{name}_bucket", {"le": le}), n)
        for le, n in zip(bounds, snap.duration_buckets, strict=True)
    ]
    samples.append((f"{name}_sum", float(snap.duration_sum)))
    samples.append((f"{name}_count", snap.duration_count))
    family(name, "histogram", "Time from a routed CALL to its final answer.", samples)
    family(
        "wampcore_auth_failures_total",
        "counter",
        "Failed authentication attempts, per realm and authmethod.",
        [
            (labelled("wampcore_auth_failures_total", {"realm": r, "method": m}), n)
            for (r, m), n in sorted(snap.auth_failures.items())
        ],
    )
    family(
        "wampcore_outbound_queue_bytes",
        "gauge",
        "Bytes queued for network peers and not yet written.",
        [("wampcore_outbound_queue_bytes", snap.outbound_queue_bytes)],
    )
    family(
        "wampcore_connections",
        "gauge",
        "Network connections the router holds.",
        [("wampcore_connections", snap.connections)],
    )
    family(
        "wampcore_router_events_lost_total",
        "counter",
        "Router events discarded because the adapter did not read them.",
        [("wampcore_router_events_lost_total", snap.events_lost)],
    )
    return "\n".join(out) + "\n"
