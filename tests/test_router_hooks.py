"""Lifecycle hooks (DESIGN.md §3, "Lifecycle hooks"): what an embedder observes inside the router.

Joins, leaves, registrations and subscriptions are reported through ``Router.add_lifecycle_hook``
in a fixed order, after the operation's own reply was queued; the router's own service session
(the meta API, wamp-spec.md §4.25) is visible to hooks only as ``hidden``.
"""

from __future__ import annotations

from typing import Any

from netharness import Network

from wampcore.messages import Registered, Subscribed
from wampcore.router import Lifecycle


class Recorder(Lifecycle):
    def __init__(self, net: Network | None = None) -> None:
        self.seen: list[tuple[Any, ...]] = []
        self.net = net

    def _visible(self, session: Any) -> bool:
        return not getattr(session, "hidden", False)

    def session_joined(self, realm: Any, session: Any) -> None:
        if self._visible(session):
            self.seen.append(("joined", session.id))

    def session_left(self, realm: Any, session: Any, reason: str) -> None:
        if self._visible(session):
            self.seen.append(("left", session.id, reason))

    def registration_created(self, realm: Any, session: Any, reg: Any) -> None:
        self.seen.append(("reg_created", session.id, reg.uri))

    def registered(self, realm: Any, session: Any, reg: Any) -> None:
        if not reg.uri.startswith("wamp."):
            self.seen.append(("registered", session.id, reg.uri))

    def unregistered(self, realm: Any, session: Any, reg: Any) -> None:
        self.seen.append(("unregistered", session.id, reg.uri))

    def registration_deleted(self, realm: Any, session: Any, reg: Any) -> None:
        self.seen.append(("reg_deleted", session.id, reg.uri))

    def subscription_created(self, realm: Any, session: Any, sub: Any) -> None:
        self.seen.append(("sub_created", session.id, sub.uri))

    def subscribed(self, realm: Any, session: Any, sub: Any) -> None:
        self.seen.append(("subscribed", session.id, sub.uri))

    def unsubscribed(self, realm: Any, session: Any, sub: Any) -> None:
        self.seen.append(("unsubscribed", session.id, sub.uri))

    def subscription_deleted(self, realm: Any, session: Any, sub: Any) -> None:
        self.seen.append(("sub_deleted", session.id, sub.uri))


def test_hooks_report_in_order_and_on_the_one_removal_path_wamp_spec_4_25() -> None:
    net = Network()
    hooks = Recorder()
    net.router.add_lifecycle_hook(hooks)
    a, b = net.join(), net.join()
    a.subscribe("com.t")
    a.register("com.p", invoke="roundrobin")
    b.register("com.p", invoke="roundrobin")
    b.subscribe("com.t")
    net.pump()
    assert a.last(Subscribed) and a.last(Registered) and b.last(Registered)
    a.eof()
    net.pump()
    assert hooks.seen == [
        ("joined", a.session_id),
        ("joined", b.session_id),
        ("sub_created", a.session_id, "com.t"),
        ("subscribed", a.session_id, "com.t"),
        ("reg_created", a.session_id, "com.p"),
        ("registered", a.session_id, "com.p"),
        ("registered", b.session_id, "com.p"),
        ("subscribed", b.session_id, "com.t"),
        # a leaves: its subscriptions, then its registrations, then the leave itself
        ("unsubscribed", a.session_id, "com.t"),
        ("unregistered", a.session_id, "com.p"),
        ("left", a.session_id, "wamp.close.transport_lost"),
    ]
    net.check()


def test_last_member_out_deletes_and_repeat_subscribe_reports_nothing_wamp_spec_4_27() -> None:
    net = Network()
    hooks = Recorder()
    net.router.add_lifecycle_hook(hooks)
    a = net.join()
    sub = a.subscribe("com.t")
    net.pump()
    sub_id = a.last(Subscribed).subscription_id
    a.subscribe("com.t")  # the same subscription again: idempotent, nothing new to report
    net.pump()
    assert sub and a.last(Subscribed).subscription_id == sub_id
    a.unsubscribe(sub_id)
    net.pump()
    assert hooks.seen[1:] == [
        ("sub_created", a.session_id, "com.t"),
        ("subscribed", a.session_id, "com.t"),
        ("unsubscribed", a.session_id, "com.t"),
        ("sub_deleted", a.session_id, "com.t"),
    ]
    net.check()


def test_a_hook_sees_the_reply_already_queued_wamp_spec_4_26() -> None:
    """Hooks run after the operation was answered: the REGISTERED is queued when they fire."""
    net = Network()
    queued: list[int] = []

    class Probe(Lifecycle):
        def registered(self, realm: Any, session: Any, reg: Any) -> None:
            if not reg.uri.startswith("wamp."):
                queued.append(net.router.outbound_bytes(session.connection.id))

    net.router.add_lifecycle_hook(Probe())
    a = net.join()
    a.register("com.p")
    net.pump()
    assert len(queued) == 1 and queued[0] > 0
    net.check()
