"""Authorization: may this session call, register, publish or subscribe on this URI? (pure)

A realm's static permissions are its roles (``RealmConfig.roles``): per role, URI rules
(``PermissionConfig``: exact, prefix or wildcard) each saying which actions it allows. For one
action on one URI, the *most specific* matching rule of the session's role decides, with the
precedence of pattern-based registrations (wamp-spec §4.8): the exact rule first, then the
longest matching prefix, then the best wildcard (literal components earlier win). A URI no rule
matches is denied. So a broad prefix rule can be narrowed: ``com.example.public.`` (prefix, call)
with ``com.example.public.admin`` (exact, nothing) denies calling ``com.example.public.admin``.

* A realm that declares no roles allows everything (the default: an open realm).
* A realm that declares roles denies everything to an authrole it does not declare.
* Meta URIs (``wamp.session.count`` ...) are authorized like any other URI.
* An embedder may add a hook, consulted first: it returns a :class:`Decision`, a bool (allow
  or deny, not disclosed, not cacheable) or None (the static rules decide).

``Decision.disclose`` says whether the router discloses the caller (for ``call``) or the
publisher (for ``publish``) to the receivers, as if the client had asked ``disclose_me``; it is
False for ``register`` and ``subscribe``. ``Decision.cache`` says whether the router may reuse
the decision for the same (authrole, action, URI): static rules always may.

Nothing here knows sessions or messages; the router calls :meth:`Authorizer.authorize`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from ..errors import LocalProtocolError
from ..uri import PatternMap

if TYPE_CHECKING:
    from ..config import PermissionConfig, RealmConfig, RoleConfig

__all__ = [
    "ACTIONS",
    "ALLOW",
    "DENY",
    "Action",
    "AuthorizationHook",
    "Authorizer",
    "Decision",
    "RolePermissions",
]

#: What a session asks to do on a URI.
Action = Literal["call", "register", "publish", "subscribe"]
ACTIONS: tuple[Action, ...] = ("call", "register", "publish", "subscribe")


@dataclass(frozen=True, slots=True)
class Decision:
    """The answer for one (session, action, URI)."""

    #: Whether the action is allowed.
    allow: bool
    #: Whether the router discloses the caller (call) or publisher (publish) to the receivers.
    disclose: bool = False
    #: Whether the router may reuse this decision for the same authrole, action and URI.
    cache: bool = True


ALLOW = Decision(allow=True)
DENY = Decision(allow=False)

#: An embedder's authorizer: ``hook(session_details, uri, action, options)``. Returns a Decision,
#: a bool (allow/deny; not disclosed, not cacheable), or None to let the static rules decide.
#: ``session_details`` holds at least ``authrole`` (the router passes the session's details:
#: ``session``, ``authid``, ``authrole``, ``authmethod``, ``authprovider``, ``authextra``...),
#: ``options`` the request's Options (empty when there are none). A hook that raises is the
#: embedder's bug: the exception propagates (the router contains it; nothing is allowed).
AuthorizationHook = Callable[
    [Mapping[str, Any], str, Action, Mapping[str, Any]], "Decision | bool | None"
]

_EMPTY: Mapping[str, Any] = {}


def _check_action(action: str) -> None:
    if action not in ACTIONS:
        raise LocalProtocolError(f"unknown action {action!r} (one of {', '.join(ACTIONS)})")


def _rule_decisions(rule: PermissionConfig) -> dict[str, Decision]:
    return {
        "call": Decision(rule.call, rule.call and rule.disclose_caller),
        "register": ALLOW if rule.register else DENY,
        "publish": Decision(rule.publish, rule.publish and rule.disclose_publisher),
        "subscribe": ALLOW if rule.subscribe else DENY,
    }


class RolePermissions:
    """One role's rules, compiled for fast lookup: :meth:`decide` is a PatternMap lookup."""

    __slots__ = ("_rules", "name")

    def __init__(self, role: RoleConfig) -> None:
        role.validate("role")
        self.name = role.name
        #: Each rule's (rule, decision per action), under its (uri, match).
        self._rules: PatternMap[tuple[PermissionConfig, dict[str, Decision]]] = PatternMap()
        for rule in role.permissions:
            self._rules.set(rule.uri, rule.match, (rule, _rule_decisions(rule)))

    def rule_for(self, uri: str) -> PermissionConfig | None:
        """The rule that decides for ``uri`` (the most specific match), or None."""
        found = self._rules.best(uri)
        return found[0] if found is not None else None

    def decide(self, action: Action, uri: str) -> Decision:
        """The decision of the most specific rule matching ``uri``; no rule: deny."""
        _check_action(action)
        found = self._rules.best(uri)
        return found[1][action] if found is not None else DENY


class Authorizer:
    """A realm's authorization: static role permissions, and an optional embedder hook."""

    __slots__ = ("_hook", "_roles")

    def __init__(
        self, roles: Iterable[RoleConfig] = (), *, hook: AuthorizationHook | None = None
    ) -> None:
        compiled: dict[str, RolePermissions] = {}
        for role in roles:
            if role.name in compiled:
                raise LocalProtocolError(f"duplicate role {role.name!r}")
            compiled[role.name] = RolePermissions(role)
        self._roles = compiled
        self._hook = hook

    @classmethod
    def for_realm(cls, realm: RealmConfig, *, hook: AuthorizationHook | None = None) -> Authorizer:
        """The authorizer of a (validated) realm configuration."""
        return cls(realm.roles, hook=hook)

    @property
    def restricted(self) -> bool:
        """Whether roles are declared (False: every session may do everything)."""
        return bool(self._roles)

    def role(self, authrole: str) -> RolePermissions | None:
        """The compiled permissions of a declared role."""
        return self._roles.get(authrole)

    def authorize(
        self,
        authrole: str,
        action: Action,
        uri: str,
        *,
        session: Mapping[str, Any] | None = None,
        options: Mapping[str, Any] | None = None,
    ) -> Decision:
        """May a session with ``authrole`` perform ``action`` on ``uri``?

        ``session`` (the session's details) and ``options`` (the request's) are passed to the
        hook only; without ``session`` the hook sees ``{"authrole": authrole}``.
        """
        _check_action(action)
        if self._hook is not None:
            details = session if session is not None else {"authrole": authrole}
            verdict = self._hook(details, uri, action, options if options is not None else _EMPTY)
            if isinstance(verdict, Decision):
                return verdict
            if isinstance(verdict, bool):
                return Decision(verdict, False, cache=False)
            if verdict is not None:
                raise LocalProtocolError(
                    f"authorization hook returned {type(verdict).__name__}, "
                    "expected Decision, bool or None"
                )
        if not self._roles:
            return ALLOW
        permissions = self._roles.get(authrole)
        if permissions is None:
            return DENY
        return permissions.decide(action, uri)
