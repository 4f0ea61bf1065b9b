"""The broker of one realm: subscriptions and publication routing (wamp-spec.md §3.3).

Owns the realm's subscriptions. One subscription exists per (topic, match policy) and is shared
by every session subscribed to it, so its id is the same for all of them (wamp-spec.md §2.1);
it disappears with its last subscriber.

Implemented features (announced in WELCOME): publisher exclusion (the publisher never receives
its own event unless ``exclude_me=false``), subscriber black/white listing (``exclude``,
``exclude_authid``, ``exclude_authrole``, ``eligible``, ``eligible_authid``,
``eligible_authrole``), publisher identification (``disclose_me`` puts ``publisher``,
``publisher_authid`` and ``publisher_authrole`` in EVENT.Details) and pattern-based
subscription (prefix and wildcard; EVENT.Details.topic carries the concrete topic).

Errors: ``wamp.error.no_such_subscription`` for an UNSUBSCRIBE of a subscription the session
does not hold; ``wamp.error.invalid_uri`` for a PUBLISH to the reserved ``wamp.*`` namespace
(acknowledged publications only: an unacknowledged PUBLISH never gets an answer, §3.3).
"""

from __future__ import annotations

from typing import Any

from ..errors import INVALID_URI, NO_SUCH_SUBSCRIPTION
from ..ids import RandomSource, RouterScopeIds, global_id
from ..messages import (
    PUBLISH,
    SUBSCRIBE,
    UNSUBSCRIBE,
    Error,
    Event,
    Publish,
    Published,
    Subscribe,
    Subscribed,
    Unsubscribe,
    Unsubscribed,
)
from ..uri import PatternMap
from .session import Outlet, Session

__all__ = ["BROKER_FEATURES", "Broker", "Subscription"]

#: The broker features WELCOME announces: exactly what this module implements.
BROKER_FEATURES: dict[str, bool] = {
    "publisher_exclusion": True,
    "subscriber_blackwhite_listing": True,
    "publisher_identification": True,
    "pattern_based_subscription": True,
}

# Payload-transparency keys travel from PUBLISH.Options to EVENT.Details unchanged, so an
# end-to-end encrypted payload stays decodable by its subscribers.
_PASS_THROUGH = (
    "enc_algo",
    "enc_serializer",
    "enc_key",
    "ppt_scheme",
    "ppt_serializer",
    "ppt_cipher",
    "ppt_keyid",
)


class Subscription:
    """One (topic, match) subscription and its subscribers, in subscription order."""

    __slots__ = ("id", "match", "subscribers", "uri")

    def __init__(self, subscription_id: int, uri: str, match: str) -> None:
        self.id = subscription_id
        self.uri = uri
        self.match = match
        self.subscribers: dict[int, Session] = {}


class Broker:
    """Subscriptions and publication routing for one realm."""

    __slots__ = ("_by_id", "_ids", "_outlet", "_rng", "_subscriptions")

    def __init__(self, outlet: Outlet, rng: RandomSource) -> None:
        self._outlet = outlet
        self._rng = rng
        self._ids = RouterScopeIds()
        self._subscriptions: PatternMap[Subscription] = PatternMap()
        self._by_id: dict[int, Subscription] = {}

    # -- queries (tests, meta information) --------------------------------------------------------

    def subscription(self, subscription_id: int) -> Subscription | None:
        return self._by_id.get(subscription_id)

    def subscriptions(self) -> list[Subscription]:
        return list(self._by_id.values())

    # -- requests --------------------------------------------------------------------------------

    def subscribe(self, session: Session, msg: Subscribe) -> None:
        match = msg.match
        sub = self._subscriptions.get(msg.topic, match)
        if sub is None:
            sub = Subscription(self._ids.next(self._by_id), msg.topic, match)
            self._subscriptions.set(msg.topic, match, sub)
            self._by_id[sub.id] = sub
        # A repeated SUBSCRIBE gets the existing id (wamp-spec.md §3.3); it is idempotent.
        sub.subscribers[session.id] = session
        session.subscriptions[sub.id] = sub
        self._outlet.reply(session, Subscribed(request_id=msg.request_id, subscription_id=sub.id))

    def unsubscribe(self, session: Session, msg: Unsubscribe) -> None:
        sub = session.subscriptions.pop(msg.subscription_id, None)
        if sub is None:
            self._outlet.reply(
                session,
                Error(
                    request_type=UNSUBSCRIBE,
                    request_id=msg.request_id,
                    error=NO_SUCH_SUBSCRIPTION,
                    args=[f"no subscription {msg.subscription_id} in this session"],
                ),
            )
            return
        self._drop_subscriber(sub, session)
        self._outlet.reply(session, Unsubscribed(request_id=msg.request_id))

    def publish(self, session: Session, msg: Publish) -> None:
        options = msg.options
        acknowledge = options.get("acknowledge") is True
        if msg.topic.startswith("wamp."):
            if acknowledge:
                self.refuse(session, msg, INVALID_URI, "the wamp.* namespace is reserved")
            return
        publication_id = global_id(self._rng)
        matches = self._subscriptions.matches(msg.topic)
        if matches:
            self._deliver(session, msg, publication_id, matches)
        if acknowledge:
            self._outlet.reply(
                session, Published(request_id=msg.request_id, publication_id=publication_id)
            )

    def refuse(self, session: Session, msg: Publish | Subscribe, error: str, text: str) -> None:
        """Answer a PUBLISH (only if acknowledged) or SUBSCRIBE with an ERROR."""
        if isinstance(msg, Publish):
            if msg.options.get("acknowledge") is not True:
                return
            request_type = PUBLISH
        else:
            request_type = SUBSCRIBE
        self._outlet.reply(
            session,
            Error(request_type=request_type, request_id=msg.request_id, error=error, args=[text]),
        )

    # -- removal ---------------------------------------------------------------------------------

    def remove_session(self, session: Session) -> None:
        """Drop every subscription of a departing session."""
        subs, session.subscriptions = session.subscriptions, {}
        for sub in subs.values():
            self._drop_subscriber(sub, session)

    # -- internals -------------------------------------------------------------------------------

    def _drop_subscriber(self, sub: Subscription, session: Session) -> None:
        sub.subscribers.pop(session.id, None)
        if not sub.subscribers:
            self._subscriptions.remove(sub.uri, sub.match)
            del self._by_id[sub.id]

    def _deliver(
        self, publisher: Session, msg: Publish, publication_id: int, matches: list[Subscription]
    ) -> None:
        options = msg.options
        exclude_me = True
        eligible = None
        details: dict[str, Any] = {}
        if options:  # most publications carry no options: skip the lookups
            exclude_me = options.get("exclude_me", True)
            eligible = _filters(options)
            if options.get("disclose_me") is True:
                details["publisher"] = publisher.id
                details["publisher_authid"] = publisher.authid
                details["publisher_authrole"] = publisher.authrole
            for key in _PASS_THROUGH:
                if key in options:
                    details[key] = options[key]

        for sub in matches:
            if eligible is None:
                recipients = [
                    s for s in sub.subscribers.values() if s is not publisher or not exclude_me
                ]
            else:
                recipients = [
                    s
                    for s in sub.subscribers.values()
                    if (s is not publisher or not exclude_me) and eligible(s)
                ]
            if not recipients:
                continue
            if sub.match == "exact":
                event_details = details
            else:
                event_details = dict(details)
                event_details["topic"] = msg.topic
            event = Event(
                subscription_id=sub.id,
                publication_id=publication_id,
                details=event_details,
                args=msg.args,
                kwargs=msg.kwargs,
                payload=msg.payload,
            )
            self._outlet.fan_out(event, recipients)


class _Eligibility:
    """Black/white-list filters of one PUBLISH (wamp-spec.md §4.13): all must pass."""

    __slots__ = ("checks",)

    def __init__(self, checks: list[tuple[str, bool, frozenset[Any]]]) -> None:
        self.checks = checks

    def __call__(self, session: Session) -> bool:
        for attribute, wanted, values in self.checks:
            value = session.id if attribute == "id" else getattr(session, attribute)
            if (value in values) is not wanted:
                return False
        return True


def _filters(options: dict[str, Any]) -> _Eligibility | None:
    checks: list[tuple[str, bool, frozenset[Any]]] = []
    for key, attribute, wanted in (
        ("eligible", "id", True),
        ("eligible_authid", "authid", True),
        ("eligible_authrole", "authrole", True),
        ("exclude", "id", False),
        ("exclude_authid", "authid", False),
        ("exclude_authrole", "authrole", False),
    ):
        values = options.get(key)
        if values is not None:
            checks.append((attribute, wanted, frozenset(values)))
    return _Eligibility(checks) if checks else None
