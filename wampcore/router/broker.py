"""The broker of one realm: subscriptions and publication routing (wamp-spec.md §3.3).

Owns the realm's subscriptions and its kept events (:mod:`.store`). One subscription exists per
(topic, match policy) and is shared by every member subscribed to it, so its id is the same for
all of them (wamp-spec.md §2.1); it disappears with its last subscriber. Broker code sees only
realm members (:class:`~.member.Member`), never connections.

Implemented features (announced in WELCOME): publisher exclusion (the publisher never receives
its own event unless ``exclude_me=false``), subscriber black/white listing (``exclude``,
``exclude_authid``, ``exclude_authrole``, ``eligible``, ``eligible_authid``,
``eligible_authrole``), publisher identification (``disclose_me`` puts ``publisher``,
``publisher_authid`` and ``publisher_authrole`` in EVENT.Details), pattern-based
subscription (prefix and wildcard; EVENT.Details.topic carries the concrete topic), event
retention (``retain`` / ``get_retained``, EVENT.Details.retained), event history (configured
topics, read with ``wamp.subscription.get_events``), payload passthru (``ppt_*`` and Autobahn's
``enc_*`` options reach EVENT.Details unchanged; the payload is never decoded) and subscription
revocation (``remove_subscriber``: UNSUBSCRIBED with request id 0 to a subscriber that
announced it).

Errors: ``wamp.error.no_such_subscription`` for an UNSUBSCRIBE of a subscription the member
does not hold; ``wamp.error.invalid_uri`` for a PUBLISH to the reserved ``wamp.*`` namespace
by a network client (acknowledged publications only: an unacknowledged PUBLISH never gets an
answer, §3.3). Router-internal members may publish there (the meta API does).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..errors import INVALID_URI, NO_SUCH_SUBSCRIPTION
from ..ids import GlobalIds, RandomSource, RouterScopeIds
from ..messages import (
    PPT_KEYS,
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
from .hooks import Lifecycle
from .member import Kind, Member, Outlet
from .store import EventStore, Filters, Kept, eligible

__all__ = ["BROKER_FEATURES", "PASS_THROUGH", "Broker", "Subscription"]

#: The broker features WELCOME announces: exactly what this module (and the meta API) implement.
BROKER_FEATURES: dict[str, bool] = {
    "publisher_exclusion": True,
    "subscriber_blackwhite_listing": True,
    "publisher_identification": True,
    "pattern_based_subscription": True,
    "event_retention": True,
    "event_history": True,
    "payload_passthru_mode": True,
    "subscription_revocation": True,
    "session_meta_api": True,
    "subscription_meta_api": True,
}

#: Payload-transparency keys travel from PUBLISH/CALL/YIELD options to EVENT/INVOCATION/RESULT
#: details unchanged (wamp-spec.md §4.18), so an end-to-end encrypted payload stays decodable.
PASS_THROUGH = PPT_KEYS

_FILTER_KEYS = (
    ("eligible", "id", True),
    ("eligible_authid", "authid", True),
    ("eligible_authrole", "authrole", True),
    ("exclude", "id", False),
    ("exclude_authid", "authid", False),
    ("exclude_authrole", "authrole", False),
)


class Subscription:
    """One (topic, match) subscription and its subscribers, in subscription order.

    ``receivers`` are the subscribers that get EVENTs: all but the cluster's mirrors of other
    nodes' sessions (a publication crosses to their node once, not once per subscriber), so
    a publication's fan-out costs nothing per remote subscriber."""

    __slots__ = ("created", "id", "match", "receivers", "subscribers", "uri")

    def __init__(self, subscription_id: int, uri: str, match: str, created: str) -> None:
        self.id = subscription_id
        self.uri = uri
        self.match = match
        self.created = created
        self.subscribers: dict[int, Member] = {}
        self.receivers: dict[int, Member] = {}


class Broker:
    """Subscriptions, publication routing and kept events for one realm."""

    __slots__ = (
        "_by_id",
        "_clock",
        "_hooks",
        "_ids",
        "_outlet",
        "_publication_ids",
        "_realm",
        "_rng",
        "_subscriptions",
        "id_for",
        "relay",
        "store",
    )

    def __init__(
        self,
        realm: Any,
        outlet: Outlet,
        rng: RandomSource,
        hooks: Lifecycle,
        store: EventStore,
        clock: Callable[[], str],
    ) -> None:
        self._realm = realm
        self._outlet = outlet
        self._rng = rng
        self._publication_ids = GlobalIds(rng)
        self._hooks = hooks
        self._clock = clock
        self._ids = RouterScopeIds()
        self._subscriptions: PatternMap[Subscription] = PatternMap()
        self._by_id: dict[int, Subscription] = {}
        self.store = store
        #: The cluster backplane's hooks (wampcore.router.remote): hand each publication on
        #: to the other nodes that want it; derive subscription ids alike on every node.
        self.relay: Callable[[Member, Publish, int, list[Subscription], bool], None] | None = None
        self.id_for: Callable[[str, str, dict[int, Subscription]], int] | None = None

    # -- queries (meta API, tests) ---------------------------------------------------------------

    def subscription(self, subscription_id: int) -> Subscription | None:
        return self._by_id.get(subscription_id)

    def subscriptions(self) -> list[Subscription]:
        return list(self._by_id.values())

    def lookup(self, topic: str, match: str = "exact") -> Subscription | None:
        return self._subscriptions.get(topic, match)

    def matching(self, topic: str) -> list[Subscription]:
        """Every subscription a publication to ``topic`` would be delivered on."""
        return self._subscriptions.matches(topic)

    def has_subscribers(self, topic: str) -> bool:
        return bool(self._subscriptions.matches(topic))

    # -- requests --------------------------------------------------------------------------------

    def subscribe(self, member: Member, msg: Subscribe) -> None:
        match = msg.match
        sub = self._subscriptions.get(msg.topic, match)
        created = sub is None
        if sub is None:
            sub_id = (
                self._ids.next(self._by_id)
                if self.id_for is None
                else self.id_for(msg.topic, match, self._by_id)
            )
            sub = Subscription(sub_id, msg.topic, match, self._clock())
            self._subscriptions.set(msg.topic, match, sub)
            self._by_id[sub.id] = sub
        # A repeated SUBSCRIBE gets the existing id (wamp-spec.md §3.3); it is idempotent.
        again = member.id in sub.subscribers
        sub.subscribers[member.id] = member
        if not getattr(member, "mirror", False):
            sub.receivers[member.id] = member
        member.subscriptions[sub.id] = sub
        member.send(Subscribed(request_id=msg.request_id, subscription_id=sub.id), Kind.REPLY)
        if created:
            self._hooks.subscription_created(self._realm, member, sub)
        if not again:
            self._hooks.subscribed(self._realm, member, sub)
        if msg.options.get("get_retained") is True:
            self._send_retained(member, sub)

    def unsubscribe(self, member: Member, msg: Unsubscribe) -> None:
        sub = member.subscriptions.pop(msg.subscription_id, None)
        if sub is None:
            member.send(
                Error(
                    request_type=UNSUBSCRIBE,
                    request_id=msg.request_id,
                    error=NO_SUCH_SUBSCRIPTION,
                    args=[f"no subscription {msg.subscription_id} in this session"],
                ),
                Kind.REPLY,
            )
            return
        member.send(Unsubscribed(request_id=msg.request_id), Kind.REPLY)
        self._drop_subscriber(sub, member)

    def publish(
        self,
        member: Member,
        msg: Publish,
        *,
        disclose: bool = False,
        publication_id: int | None = None,
    ) -> None:
        """Route one PUBLISH; ``disclose`` (the authorization's verdict) discloses the
        publisher as if it had asked ``disclose_me``; ``publication_id`` is given for a
        publication another cluster node already numbered."""
        options = msg.options
        acknowledge = options.get("acknowledge") is True
        if msg.topic.startswith("wamp.") and not member.internal:
            if acknowledge:
                self.refuse(member, msg, INVALID_URI, "the wamp.* namespace is reserved")
            return
        if publication_id is None:
            publication_id = self._publication_ids.next()
        matches = self._subscriptions.matches(msg.topic)
        if self.relay is not None:
            self.relay(member, msg, publication_id, matches, disclose)
        store = self.store
        keep = options.get("retain") is True or store.keeps_history
        if matches or keep:
            self._deliver(member, msg, publication_id, matches, keep, disclose)
        if acknowledge:
            member.send(
                Published(request_id=msg.request_id, publication_id=publication_id), Kind.REPLY
            )

    def refuse(self, member: Member, msg: Publish | Subscribe, error: str, text: str) -> None:
        """Answer a PUBLISH (only if acknowledged) or SUBSCRIBE with an ERROR."""
        if isinstance(msg, Publish):
            if msg.options.get("acknowledge") is not True:
                return
            request_type = PUBLISH
        else:
            request_type = SUBSCRIBE
        member.send(
            Error(request_type=request_type, request_id=msg.request_id, error=error, args=[text]),
            Kind.REPLY,
        )

    # -- meta API actions ------------------------------------------------------------------------

    def remove_subscriber(self, sub: Subscription, member: Member, reason: str | None) -> None:
        """Revoke one member's subscription (wamp-spec.md §4.21)."""
        if member.subscriptions.pop(sub.id, None) is None:
            return
        if member.client_feature("subscriber", "subscription_revocation"):
            details: dict[str, Any] = {"subscription": sub.id}
            if reason:
                details["reason"] = reason
            member.send(Unsubscribed(request_id=0, details=details), Kind.REPLY)
        self._drop_subscriber(sub, member)

    # -- removal ---------------------------------------------------------------------------------

    def remove_session(self, member: Member) -> None:
        """Drop every subscription of a departing member."""
        subs, member.subscriptions = member.subscriptions, {}
        for sub in subs.values():
            self._drop_subscriber(sub, member)

    # -- internals -------------------------------------------------------------------------------

    def _drop_subscriber(self, sub: Subscription, member: Member) -> None:
        if sub.subscribers.pop(member.id, None) is None:
            return
        sub.receivers.pop(member.id, None)
        gone = not sub.subscribers
        if gone:
            self._subscriptions.remove(sub.uri, sub.match)
            del self._by_id[sub.id]
        self._hooks.unsubscribed(self._realm, member, sub)
        if gone:
            self._hooks.subscription_deleted(self._realm, member, sub)

    def _deliver(
        self,
        publisher: Member,
        msg: Publish,
        publication_id: int,
        matches: list[Subscription],
        keep: bool,
        disclose: bool,
    ) -> None:
        options = msg.options
        exclude_me = True
        filters: Filters = ()
        details: dict[str, Any] = {}
        if options or disclose:  # most publications carry no options: skip the lookups
            exclude_me = options.get("exclude_me", True) is not False
            filters = _filters(options)
            if disclose or options.get("disclose_me") is True:
                details["publisher"] = publisher.id
                details["publisher_authid"] = publisher.authid
                details["publisher_authrole"] = publisher.authrole
            for key in PASS_THROUGH:
                if key in options:
                    details[key] = options[key]

        for sub in matches:
            if not filters:
                recipients = [
                    s for s in sub.receivers.values() if s is not publisher or not exclude_me
                ]
            else:
                recipients = [
                    s
                    for s in sub.receivers.values()
                    if (s is not publisher or not exclude_me) and eligible(filters, s)
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

        if keep:
            kept = Kept(
                topic=msg.topic,
                publication_id=publication_id,
                details=details,
                args=msg.args,
                kwargs=msg.kwargs,
                payload=msg.payload,
                publisher_id=publisher.id,
                exclude_me=exclude_me,
                filters=filters,
                timestamp=self._clock(),
            )
            if options.get("retain") is True:
                self.store.retain(kept)
            self.store.record(kept)

    def _send_retained(self, member: Member, sub: Subscription) -> None:
        for kept in self.store.retained_for(sub.uri, sub.match, member):
            details = dict(kept.details)
            details["retained"] = True
            if sub.match != "exact":
                details["topic"] = kept.topic
            event = Event(
                subscription_id=sub.id,
                publication_id=kept.publication_id,
                details=details,
                args=kept.args,
                kwargs=kept.kwargs,
                payload=kept.payload,
            )
            self._outlet.fan_out(event, [member])


def _filters(options: dict[str, Any]) -> Filters:
    """Black/white-list filters of one PUBLISH (wamp-spec.md §4.13): all must pass."""
    checks: list[tuple[str, bool, frozenset[Any]]] = []
    for key, attribute, wanted in _FILTER_KEYS:
        values = options.get(key)
        if values is not None:
            checks.append((attribute, wanted, frozenset(values)))
    return tuple(checks)
