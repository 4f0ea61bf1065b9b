"""Lifecycle hooks: what happened to sessions, registrations and subscriptions, as it happens.

The realm layer, the broker and the dealer report every change through one :class:`Lifecycle`
object per router, always *after* the operation's own reply was queued. The meta API is one
listener (it turns these into ``wamp.session.on_join``, ``wamp.registration.on_create`` ...
events, published once the current step is over, never re-entrantly); an embedder may add its
own with ``Router.add_lifecycle_hook``. A hook must not route anything itself: it records, and
acts later.

Order, for one session joining, registering and leaving: ``session_joined``;
``registration_created`` then ``registered`` (the first callee of a URI), ``registered`` alone
(a further callee of a shared registration); on leave, for each subscription ``unsubscribed``
then ``subscription_deleted`` (if it was the last subscriber), then the same for each
registration (``unregistered``, ``registration_deleted``), and ``session_left`` last.
``testament_added`` / ``testaments_flushed`` follow ``wamp.session.add_testament`` /
``flush_testaments`` (the cluster backplane keeps other nodes' testaments with them). A hook
that raises is the embedder's bug; the router contains it to the session being handled.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .broker import Subscription
    from .dealer import Registration
    from .member import Member
    from .realm import Realm
    from .testament import Testament

__all__ = ["Lifecycle", "LifecycleHooks"]


class Lifecycle:
    """A listener; every method is a no-op here, override what you need."""

    def session_joined(self, realm: Realm, session: Member) -> None:
        pass

    def session_left(self, realm: Realm, session: Member, reason: str) -> None:
        pass

    def registration_created(self, realm: Realm, session: Member, reg: Registration) -> None:
        pass

    def registered(self, realm: Realm, session: Member, reg: Registration) -> None:
        pass

    def unregistered(self, realm: Realm, session: Member, reg: Registration) -> None:
        pass

    def registration_deleted(self, realm: Realm, session: Member, reg: Registration) -> None:
        pass

    def subscription_created(self, realm: Realm, session: Member, sub: Subscription) -> None:
        pass

    def subscribed(self, realm: Realm, session: Member, sub: Subscription) -> None:
        pass

    def unsubscribed(self, realm: Realm, session: Member, sub: Subscription) -> None:
        pass

    def subscription_deleted(self, realm: Realm, session: Member, sub: Subscription) -> None:
        pass

    def testament_added(self, realm: Realm, session: Member, testament: Testament) -> None:
        pass

    def testaments_flushed(self, realm: Realm, session: Member, scope: str) -> None:
        pass


class LifecycleHooks(Lifecycle):
    """Several listeners behind one: each call goes to every listener, in the order added."""

    def __init__(self) -> None:
        self.listeners: list[Lifecycle] = []

    def add(self, listener: Lifecycle) -> None:
        self.listeners.append(listener)

    def remove(self, listener: Lifecycle) -> None:
        self.listeners.remove(listener)

    def _each(self, name: str, *args: Any) -> None:
        for listener in self.listeners:
            getattr(listener, name)(*args)

    def session_joined(self, realm: Realm, session: Member) -> None:
        self._each("session_joined", realm, session)

    def session_left(self, realm: Realm, session: Member, reason: str) -> None:
        self._each("session_left", realm, session, reason)

    def registration_created(self, realm: Realm, session: Member, reg: Registration) -> None:
        self._each("registration_created", realm, session, reg)

    def registered(self, realm: Realm, session: Member, reg: Registration) -> None:
        self._each("registered", realm, session, reg)

    def unregistered(self, realm: Realm, session: Member, reg: Registration) -> None:
        self._each("unregistered", realm, session, reg)

    def registration_deleted(self, realm: Realm, session: Member, reg: Registration) -> None:
        self._each("registration_deleted", realm, session, reg)

    def subscription_created(self, realm: Realm, session: Member, sub: Subscription) -> None:
        self._each("subscription_created", realm, session, sub)

    def subscribed(self, realm: Realm, session: Member, sub: Subscription) -> None:
        self._each("subscribed", realm, session, sub)

    def unsubscribed(self, realm: Realm, session: Member, sub: Subscription) -> None:
        self._each("unsubscribed", realm, session, sub)

    def subscription_deleted(self, realm: Realm, session: Member, sub: Subscription) -> None:
        self._each("subscription_deleted", realm, session, sub)

    def testament_added(self, realm: Realm, session: Member, testament: Testament) -> None:
        self._each("testament_added", realm, session, testament)

    def testaments_flushed(self, realm: Realm, session: Member, scope: str) -> None:
        self._each("testaments_flushed", realm, session, scope)
