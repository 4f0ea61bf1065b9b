"""A realm: its configuration, its members, its broker and dealer, its kept events.

Realms are isolated routing domains (wamp-spec.md §3.1): a publication or call never crosses
from one realm to another. A realm created on demand (``RouterConfig.auto_create_realms``) is
dropped again when its last session leaves (the router's own service session does not count),
so HELLOs naming ever-new realms cannot grow the router.
"""

from __future__ import annotations

from collections.abc import Callable

from ..config import RealmConfig
from ..ids import RandomSource
from .authorization import Authorizer
from .broker import Broker
from .dealer import Dealer
from .hooks import Lifecycle
from .member import Member, Outlet
from .store import EventStore

__all__ = ["Realm"]


class Realm:
    """One realm's members, broker, dealer and event store."""

    __slots__ = (
        "authorizer",
        "broker",
        "config",
        "counted",
        "dealer",
        "members",
        "name",
        "on_demand",
        "open_access",
        "service",
        "visible",
    )

    def __init__(
        self,
        config: RealmConfig,
        outlet: Outlet,
        rng: RandomSource,
        hooks: Lifecycle,
        clock: Callable[[], str],
        *,
        max_pending_calls: int,
        on_demand: bool = False,
    ) -> None:
        self.name = config.name
        self.config = config
        #: Created for a HELLO rather than configured: dropped when no visible member is left.
        self.on_demand = on_demand
        #: Every joined member, by session id (the service session included).
        self.members: dict[int, Member] = {}
        #: How many members the meta API lists (all but the router's own service session).
        self.visible = 0
        #: How many count against ``max_sessions_per_realm`` (network sessions only).
        self.counted = 0
        #: The router's service session in this realm (meta API), once it has joined.
        self.service: Member | None = None
        #: What each of the realm's roles may do (wamp-spec.md §10).
        self.authorizer = Authorizer.for_realm(config)
        #: No roles, no authorizer procedure, no hook: everyone may do everything (fast path).
        self.open_access = not config.roles and config.authorizer is None
        store = EventStore(config.history)
        self.broker = Broker(self, outlet, rng, hooks, store, clock)
        self.dealer = Dealer(self, outlet, hooks, clock, max_pending_calls=max_pending_calls)

    def set_authorizer(self, authorizer: Authorizer, *, hooked: bool) -> None:
        self.authorizer = authorizer
        self.open_access = not self.config.roles and self.config.authorizer is None and not hooked

    def remove(self, member: Member) -> None:
        """The routing half of the removal path: subscriptions, registrations, calls (the
        membership itself is the session layer's to drop)."""
        self.broker.remove_session(member)
        self.dealer.remove_session(member)
