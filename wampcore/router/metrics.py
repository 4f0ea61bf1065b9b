"""The router's counters: what happened, counted where it happens, read by whoever renders them.

One :class:`Metrics` per :class:`~wampcore.router.Router` (``router.metrics``). The connection
layer counts messages received and sent (network connections only) and EVENTs dropped; the
dealer counts calls by outcome and observes their duration (from the CALL to the final answer,
on the ``now`` the adapter passes in); authentication counts failures. Every update is an
integer increment on a dict or list that already holds the key, so counting allocates nothing
on the message path.

Gauges that are a sum over current state (sessions per realm, bytes in outbound queues) are not
kept here: :meth:`Router.metrics_snapshot` computes them when asked. The adapters render a
:class:`Snapshot` (Prometheus text on ``/metrics``, the status page); this module formats
nothing.

Call outcomes: ``success`` (final RESULT), ``error`` (the callee's ERROR, or a RESULT the
caller could not take), ``canceled`` (CANCEL, or the callee left), ``timeout`` (the call's
timeout passed), ``refused`` (no callee, not authorized, too many calls in flight, ...:
answered by the router without an INVOCATION).
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Callable
from dataclasses import dataclass, field

from ..errors import CANCELED, TIMEOUT
from ..messages import Message

__all__ = [
    "CALL_OUTCOMES",
    "DURATION_BUCKETS",
    "MESSAGE_NAMES",
    "Metrics",
    "Snapshot",
]

#: Upper bounds (seconds) of the call-duration histogram's buckets; +Inf is implied.
DURATION_BUCKETS: tuple[float, ...] = (
    0.0005,
    0.001,
    0.0025,
    0.005,
    0.01,
    0.025,
    0.05,
    0.1,
    0.25,
    0.5,
    1.0,
    2.5,
    5.0,
    10.0,
    30.0,
    60.0,
)
CALL_OUTCOMES: tuple[str, ...] = ("success", "error", "canceled", "timeout", "refused")
SUCCESS, ERROR, CANCELED_OUTCOME, TIMEOUT_OUTCOME, REFUSED = range(5)
#: More distinct realms than this share one set of labels, ``realm="(other)"``: realms created
#: on demand by clients must not grow the exposition without bound.
MAX_LABELLED_REALMS = 1000
OTHER_REALM = "(other)"
#: Distinct auth methods named in failure counters (a client picks the name it offers).
_KNOWN_METHODS = ("anonymous", "ticket", "wampcra", "scram", "cryptosign", "status_grant")


def _message_names() -> dict[int, str]:
    names: dict[int, str] = {}
    todo: list[type[Message]] = [Message]
    while todo:
        cls = todo.pop()
        todo.extend(cls.__subclasses__())
        code = getattr(cls, "TYPE", None)
        if isinstance(code, int):
            names[code] = cls.NAME
    return dict(sorted(names.items()))


#: Every message code the codec knows, and its name (upper case, as the spec writes it).
MESSAGE_NAMES: dict[int, str] = _message_names()


@dataclass(frozen=True, slots=True)
class Snapshot:
    """Every counter and gauge at one instant (copies: the router may move on)."""

    #: Message name -> count, for network connections.
    received: dict[str, int]
    sent: dict[str, int]
    #: Realm -> EVENTs not delivered (outbound policy "drop", too large, unencodable).
    events_dropped: dict[str, int]
    #: (realm, outcome) -> calls.
    calls: dict[tuple[str, str], int]
    #: (realm, authmethod) -> failed authentication attempts.
    auth_failures: dict[tuple[str, str], int]
    #: Cumulative counts per bucket bound in DURATION_BUCKETS, then +Inf; sum; count.
    duration_buckets: tuple[int, ...]
    duration_sum: float
    duration_count: int
    #: Realm -> joined sessions (the router's own service sessions not counted).
    sessions: dict[str, int] = field(default_factory=dict)
    #: Bytes queued for network peers and not yet moved to their framings.
    outbound_queue_bytes: int = 0
    #: Network connections the router holds (sessions or not).
    connections: int = 0
    #: Router events discarded because nobody read them.
    events_lost: int = 0


class Metrics:
    """The counters (see the module docstring); update methods are the only writers."""

    __slots__ = (
        "_auth_failures",
        "_calls",
        "_clock",
        "_dropped",
        "_durations",
        "duration_count",
        "duration_sum",
        "received",
        "sent",
    )

    def __init__(self, clock: Callable[[], float] | None = None) -> None:
        #: Message code -> count: the connection layer increments ``received[msg.TYPE]``.
        self.received: dict[int, int] = dict.fromkeys(MESSAGE_NAMES, 0)
        self.sent: dict[int, int] = dict.fromkeys(MESSAGE_NAMES, 0)
        self._dropped: dict[str, int] = {}
        self._calls: dict[str, list[int]] = {}
        self._auth_failures: dict[tuple[str, str], int] = {}
        self._durations = [0] * (len(DURATION_BUCKETS) + 1)
        self.duration_sum = 0.0
        self.duration_count = 0
        self._clock = clock if clock is not None else (lambda: 0.0)

    def now(self) -> float:
        """The router's current ``now`` (what the adapter last passed in)."""
        return self._clock()

    # -- updates ---------------------------------------------------------------------------------

    def call_counters(self, realm: str) -> list[int]:
        """The per-outcome call counters of ``realm`` (indexed as CALL_OUTCOMES), for the
        realm's dealer to keep and increment directly."""
        counters = self._calls.get(realm)
        if counters is None:
            if len(self._calls) >= MAX_LABELLED_REALMS:
                realm = OTHER_REALM
                counters = self._calls.get(realm)
            if counters is None:
                counters = self._calls[realm] = [0] * len(CALL_OUTCOMES)
        return counters

    def call_answered(self, counters: list[int], started: float, answer_error: str | None) -> None:
        """A routed call got its final answer (``answer_error``: the ERROR's URI, or None for a
        RESULT)."""
        if answer_error is None:
            counters[SUCCESS] += 1
        elif answer_error == CANCELED:
            counters[CANCELED_OUTCOME] += 1
        elif answer_error == TIMEOUT:
            counters[TIMEOUT_OUTCOME] += 1
        else:
            counters[ERROR] += 1
        elapsed = self._clock() - started
        if elapsed < 0.0:
            elapsed = 0.0
        self._durations[bisect_left(DURATION_BUCKETS, elapsed)] += 1
        self.duration_sum += elapsed
        self.duration_count += 1

    def event_dropped(self, realm: str) -> None:
        dropped = self._dropped
        if realm in dropped:
            dropped[realm] += 1
        elif len(dropped) < MAX_LABELLED_REALMS:
            dropped[realm] = 1
        else:
            dropped[OTHER_REALM] = dropped.get(OTHER_REALM, 0) + 1

    def auth_failed(self, realm: str, method: str) -> None:
        if method not in _KNOWN_METHODS:
            method = "other"
        if len(self._auth_failures) >= MAX_LABELLED_REALMS * len(_KNOWN_METHODS):
            realm = OTHER_REALM
        key = (realm, method)
        self._auth_failures[key] = self._auth_failures.get(key, 0) + 1

    # -- reading ---------------------------------------------------------------------------------

    def snapshot(
        self,
        *,
        sessions: dict[str, int] | None = None,
        outbound_queue_bytes: int = 0,
        connections: int = 0,
        events_lost: int = 0,
    ) -> Snapshot:
        """Copies of every counter, with the gauges the caller computed."""
        cumulative: list[int] = []
        total = 0
        for count in self._durations:
            total += count
            cumulative.append(total)
        return Snapshot(
            received={MESSAGE_NAMES[k]: v for k, v in self.received.items()},
            sent={MESSAGE_NAMES[k]: v for k, v in self.sent.items()},
            events_dropped=dict(self._dropped),
            calls={
                (realm, outcome): counters[i]
                for realm, counters in self._calls.items()
                for i, outcome in enumerate(CALL_OUTCOMES)
            },
            auth_failures=dict(self._auth_failures),
            duration_buckets=tuple(cumulative),
            duration_sum=self.duration_sum,
            duration_count=self.duration_count,
            sessions=dict(sessions or {}),
            outbound_queue_bytes=outbound_queue_bytes,
            connections=connections,
            events_lost=events_lost,
        )
