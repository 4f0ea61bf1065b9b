"""A realm: its configuration, its sessions, and its broker and dealer.

Realms are isolated routing domains (wamp-spec.md §3.1): a publication or call never crosses
from one realm to another. A realm created on demand (``RouterConfig.auto_create_realms``) is
dropped again when its last session leaves, so HELLOs naming ever-new realms cannot grow the
router.
"""

from __future__ import annotations

from ..config import RealmConfig
from ..ids import RandomSource
from .broker import Broker
from .dealer import Dealer
from .session import Outlet, Session

__all__ = ["Realm"]


class Realm:
    """One realm's sessions, broker and dealer."""

    __slots__ = ("broker", "config", "dealer", "name", "on_demand", "sessions")

    def __init__(
        self,
        config: RealmConfig,
        outlet: Outlet,
        rng: RandomSource,
        *,
        max_pending_calls: int,
        on_demand: bool = False,
    ) -> None:
        self.name = config.name
        self.config = config
        #: Created for a HELLO rather than configured: dropped when empty.
        self.on_demand = on_demand
        self.sessions: dict[int, Session] = {}
        self.broker = Broker(outlet, rng)
        self.dealer = Dealer(outlet, max_pending_calls=max_pending_calls)

    def remove(self, session: Session) -> None:
        """The realm's half of the removal path: subscriptions, registrations, calls."""
        self.broker.remove_session(session)
        self.dealer.remove_session(session)
        self.sessions.pop(session.id, None)
