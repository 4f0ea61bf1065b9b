"""Authorization rules (wampcore.router.authorization): static role permissions and the hook.

The most specific matching rule of the session's role decides, with the precedence of
pattern-based registrations (wamp-spec §4.8): exact, then the longest prefix, then the best
wildcard (literal components earlier win); no matching rule denies. The matcher is checked
against a brute-force reference written from that sentence.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, get_args

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from wampcore import ConfigError, LocalProtocolError
from wampcore.config import PermissionConfig, RealmConfig, RoleConfig
from wampcore.router.authorization import (
    ACTIONS,
    ALLOW,
    DENY,
    Action,
    Authorizer,
    Decision,
    RolePermissions,
)

MATCHES = ("exact", "prefix", "wildcard")
#: A pattern and a URI it covers, per match policy.
PATTERNS = {
    "exact": ("com.example.proc", "com.example.proc"),
    "prefix": ("com.example.", "com.example.proc"),
    "wildcard": ("com..proc", "com.example.proc"),
}


def test_actions_are_the_four_verbs() -> None:
    assert ACTIONS == ("call", "register", "publish", "subscribe") == get_args(Action)
    assert Decision(True) == Decision(allow=True, disclose=False, cache=True) == ALLOW
    assert DENY == Decision(False, False, True)
    with pytest.raises(AttributeError):
        ALLOW.allow = False  # type: ignore[misc]


@pytest.mark.parametrize("match", MATCHES)
@pytest.mark.parametrize("action", ACTIONS)
@pytest.mark.parametrize("allowed", [True, False], ids=["allowed", "denied"])
def test_matrix(action: Action, match: Any, allowed: bool) -> None:
    """Each action, under each kind of rule: the rule's flag for that action decides, and only
    that flag (the other three are set the other way)."""
    pattern, uri = PATTERNS[match]
    flags = {name: (name == action) == allowed for name in ACTIONS}
    role = RoleConfig("r", [PermissionConfig(pattern, match, **flags)])
    permissions = RolePermissions(role)
    assert permissions.decide(action, uri) == Decision(allowed, False)
    for other in ACTIONS:
        if other != action:
            assert permissions.decide(other, uri).allow is not allowed
    # A URI the rule does not cover: denied, whatever the flags.
    assert permissions.decide(action, "org.other.proc") == DENY
    assert Authorizer([role]).authorize("r", action, uri).allow is allowed


def test_no_rule_denies_and_an_empty_role_may_do_nothing() -> None:
    permissions = RolePermissions(RoleConfig("nobody"))
    for action in ACTIONS:
        assert permissions.decide(action, "com.example.x") == DENY
    assert permissions.rule_for("com.example.x") is None


def test_the_empty_prefix_covers_everything() -> None:
    permissions = RolePermissions(RoleConfig("all", [PermissionConfig("", "prefix", call=True)]))
    for uri in ("a", "com.example.x", "wamp.session.count", "x.y.z.w"):
        assert permissions.decide("call", uri).allow
        assert not permissions.decide("publish", uri).allow


READER = RoleConfig(
    "reader",
    [
        PermissionConfig("com.example.public.", "prefix", call=True, subscribe=True),
        PermissionConfig("com.example.public.admin", "exact"),  # all false: denies
    ],
)


def test_the_reader_example_an_exact_rule_narrows_a_prefix() -> None:
    reader = RolePermissions(READER)
    assert reader.decide("call", "com.example.public.news").allow
    assert reader.decide("subscribe", "com.example.public.news").allow
    assert not reader.decide("publish", "com.example.public.news").allow
    assert not reader.decide("register", "com.example.public.news").allow
    for action in ACTIONS:
        assert reader.decide(action, "com.example.public.admin") == DENY
    # The exact rule covers that URI only: below it, the prefix rule decides again.
    assert reader.decide("call", "com.example.public.admin.users").allow
    assert reader.decide("call", "com.example.public.administrator").allow  # string prefix
    assert not reader.decide("call", "com.example.private").allow
    assert reader.rule_for("com.example.public.admin") == READER.permissions[1]
    assert reader.rule_for("com.example.public.x") == READER.permissions[0]


def test_most_specific_rule_wins() -> None:
    role = RoleConfig(
        "r",
        [
            PermissionConfig("com.", "prefix", call=True),
            PermissionConfig("com.a.", "prefix"),  # longer prefix: denies
            PermissionConfig("com.a.b.", "prefix", call=True),  # longer still: allows
            PermissionConfig("com.a.b.c", "exact"),  # exact: denies
            PermissionConfig("com..x", "wildcard", publish=True),  # loses to every prefix
            PermissionConfig("org..x", "wildcard", publish=True),
            PermissionConfig("org.a.", "wildcard", subscribe=True),  # literal earlier: wins
            PermissionConfig("org..", "wildcard", register=True),
        ],
    )
    p = RolePermissions(role)
    assert p.decide("call", "com.x").allow
    assert not p.decide("call", "com.a.x").allow
    assert p.decide("call", "com.a.b.x").allow
    assert not p.decide("call", "com.a.b.c").allow
    assert p.decide("call", "com.a.b.cd").allow
    # A prefix beats a wildcard even when the wildcard has more literal components.
    assert not p.decide("publish", "com.y.x").allow and p.decide("call", "com.y.x").allow
    # Among wildcards, a literal component earlier wins: org.a. over org..x over org..
    assert p.decide("subscribe", "org.a.x") == ALLOW and not p.decide("publish", "org.a.x").allow
    assert p.decide("publish", "org.b.x").allow and not p.decide("subscribe", "org.b.x").allow
    assert p.decide("register", "org.b.y").allow and not p.decide("publish", "org.b.y").allow
    assert p.decide("call", "org.b.x.y") == DENY  # no rule of that length


@pytest.mark.parametrize("match", MATCHES)
def test_disclose_flags(match: Any) -> None:
    pattern, uri = PATTERNS[match]
    everything = dict.fromkeys(ACTIONS, True)
    both = PermissionConfig(
        pattern, match, **everything, disclose_caller=True, disclose_publisher=True
    )
    p = RolePermissions(RoleConfig("r", [both]))
    assert p.decide("call", uri) == Decision(True, True)
    assert p.decide("publish", uri) == Decision(True, True)
    assert p.decide("register", uri) == Decision(True, False)  # never disclosed
    assert p.decide("subscribe", uri) == Decision(True, False)
    caller_only = PermissionConfig(pattern, match, **everything, disclose_caller=True)
    p = RolePermissions(RoleConfig("r", [caller_only]))
    assert p.decide("call", uri).disclose and not p.decide("publish", uri).disclose
    publisher_only = PermissionConfig(pattern, match, **everything, disclose_publisher=True)
    p = RolePermissions(RoleConfig("r", [publisher_only]))
    assert not p.decide("call", uri).disclose and p.decide("publish", uri).disclose
    # A denied action is never disclosed, whatever the flag says.
    denied = PermissionConfig(pattern, match, disclose_caller=True, disclose_publisher=True)
    p = RolePermissions(RoleConfig("r", [denied]))
    assert p.decide("call", uri) == DENY and p.decide("publish", uri) == DENY


def test_a_realm_without_roles_allows_everything() -> None:
    authorizer = Authorizer.for_realm(RealmConfig("realm1"))
    assert not authorizer.restricted
    for action in ACTIONS:
        for role in ("anonymous", "anything", "trusted"):
            assert authorizer.authorize(role, action, "com.example.x") == ALLOW
    assert Authorizer().authorize("x", "publish", "wamp.session.on_join") == ALLOW


def test_a_realm_with_roles_denies_undeclared_roles_everything() -> None:
    frontend = RoleConfig(
        "frontend", [PermissionConfig("", "prefix", **dict.fromkeys(ACTIONS, True))]
    )
    authorizer = Authorizer([frontend, READER])
    assert authorizer.restricted and authorizer.role("reader") is not None
    assert authorizer.role("admin") is None
    for action in ACTIONS:
        assert authorizer.authorize("frontend", action, "com.example.x").allow
        assert authorizer.authorize("admin", action, "com.example.x") == DENY
        assert authorizer.authorize("anonymous", action, "com.example.public.x") == DENY
    assert authorizer.authorize("reader", "call", "com.example.public.x") == ALLOW
    assert authorizer.authorize("reader", "call", "com.example.public.admin") == DENY


def test_meta_uris_are_authorized_like_any_other() -> None:
    authorizer = Authorizer(
        [READER, RoleConfig("monitor", [PermissionConfig("wamp.session.", "prefix", call=True)])]
    )
    assert authorizer.authorize("reader", "call", "wamp.session.count") == DENY
    assert authorizer.authorize("monitor", "call", "wamp.session.count") == ALLOW
    assert authorizer.authorize("monitor", "call", "wamp.registration.list") == DENY
    assert authorizer.authorize("monitor", "subscribe", "wamp.session.on_join") == DENY


def test_the_hook_is_consulted_first() -> None:
    seen: list[tuple[Mapping[str, Any], str, str, Mapping[str, Any]]] = []
    answers: dict[str, Decision | bool | None] = {
        "com.example.public.hooked": False,  # overrides the prefix's allow
        "com.example.private.yes": True,  # overrides "no rule"
        "com.example.private.decision": Decision(True, True, cache=True),
    }

    def hook(
        session: Mapping[str, Any], uri: str, action: Action, options: Mapping[str, Any]
    ) -> Decision | bool | None:
        seen.append((session, uri, action, options))
        return answers.get(uri)

    authorizer = Authorizer([READER], hook=hook)
    assert authorizer.authorize("reader", "call", "com.example.public.hooked") == Decision(
        False, False, cache=False
    )
    assert authorizer.authorize("reader", "call", "com.example.private.yes") == Decision(
        True, False, cache=False
    )
    assert authorizer.authorize("reader", "publish", "com.example.private.decision") == Decision(
        True, True
    )
    # None: the static rules decide (and their decision is cacheable).
    assert authorizer.authorize("reader", "call", "com.example.public.x") == ALLOW
    assert authorizer.authorize("reader", "call", "com.example.private.x") == DENY
    assert seen[0] == ({"authrole": "reader"}, "com.example.public.hooked", "call", {})
    details = {"session": 1, "authid": "joe", "authrole": "reader"}
    options = {"match": "prefix"}
    authorizer.authorize("reader", "subscribe", "com.example.x", session=details, options=options)
    assert seen[-1] == (details, "com.example.x", "subscribe", options)


def test_the_hook_applies_to_open_realms_too_and_must_answer_properly() -> None:
    closed = Authorizer(hook=lambda s, uri, a, o: uri != "com.secret")
    assert closed.authorize("anonymous", "call", "com.secret") == Decision(False, cache=False)
    assert closed.authorize("anonymous", "call", "com.open") == Decision(True, cache=False)
    bad = Authorizer(hook=lambda s, uri, a, o: "yes")  # type: ignore[arg-type,return-value]
    with pytest.raises(LocalProtocolError, match="returned str"):
        bad.authorize("anonymous", "call", "com.x")

    def broken(s: Mapping[str, Any], uri: str, a: Action, o: Mapping[str, Any]) -> bool:
        raise RuntimeError("embedder bug")

    with pytest.raises(RuntimeError):
        Authorizer(hook=broken).authorize("anonymous", "call", "com.x")


def test_bad_input_is_refused() -> None:
    with pytest.raises(LocalProtocolError, match="unknown action"):
        Authorizer().authorize("r", "invoke", "com.x")  # type: ignore[arg-type]
    with pytest.raises(LocalProtocolError, match="unknown action"):
        RolePermissions(READER).decide("read", "com.x")  # type: ignore[arg-type]
    with pytest.raises(LocalProtocolError, match="duplicate role"):
        Authorizer([READER, READER])
    with pytest.raises(ConfigError) as info:
        RolePermissions(RoleConfig("r", [PermissionConfig("a..b")]))
    assert info.value.field == "role.permissions[0].uri"


def test_from_a_loaded_realm_config(tmp_path: Any) -> None:
    from wampcore.config import load_config

    path = tmp_path / "r.toml"
    path.write_text(
        '[[realms]]\nname = "r"\nallow_anonymous = false\n'
        '[[realms.roles]]\nname = "reader"\npermissions = [\n'
        '  { uri = "com.example.public.", match = "prefix", call = true, subscribe = true },\n'
        '  { uri = "com.example.public.admin", match = "exact" },\n'
        "]\n"
    )
    authorizer = Authorizer.for_realm(load_config(path).realms[0])
    assert authorizer.authorize("reader", "call", "com.example.public.x") == ALLOW
    assert authorizer.authorize("reader", "call", "com.example.public.admin") == DENY


# --- The matcher against a brute-force reference -------------------------------------------------

#: Few, short components: so that rules overlap and compete often.
COMPONENTS = ("a", "b", "ab")


def covers(rule: PermissionConfig, uri: str) -> bool:
    if rule.match == "exact":
        return rule.uri == uri
    if rule.match == "prefix":
        return uri[: len(rule.uri)] == rule.uri
    parts, uri_parts = rule.uri.split("."), uri.split(".")
    if len(parts) != len(uri_parts):
        return False
    return all(p in ("", u) for p, u in zip(parts, uri_parts, strict=True))


def specificity(rule: PermissionConfig) -> tuple[Any, ...]:
    """Exact above every prefix, longer prefixes above shorter, any prefix above a wildcard,
    and wildcards by where their literal components are (earlier is more specific)."""
    if rule.match == "exact":
        return (2,)
    if rule.match == "prefix":
        return (1, len(rule.uri))
    return (0, tuple(part != "" for part in rule.uri.split(".")))


def reference(rules: list[PermissionConfig], action: Action, uri: str) -> Decision:
    matching = [r for r in rules if covers(r, uri)]
    if not matching:
        return DENY
    best = max(matching, key=specificity)
    assert [specificity(r) for r in matching].count(specificity(best)) == 1
    allow = bool(getattr(best, action))
    disclose = allow and (
        (action == "call" and best.disclose_caller)
        or (action == "publish" and best.disclose_publisher)
    )
    return Decision(allow, disclose)


uris = st.lists(st.sampled_from(COMPONENTS), min_size=1, max_size=3).map(".".join)
wildcards = st.lists(st.sampled_from((*COMPONENTS, "")), min_size=1, max_size=3).map(".".join)
wildcards = wildcards.filter(lambda p: p != "")
prefixes = st.builds(lambda u, n: u[:n], uris, st.integers(0, 8))


#: Wildcard patterns of one length over two literals: many overlap for any one URI.
three_wide = st.lists(st.sampled_from(("a", "b", "")), min_size=3, max_size=3).map(".".join)


@st.composite
def rules(
    draw: st.DrawFn,
    matches: tuple[str, ...] = ("exact", "prefix", "wildcard", "wildcard"),
    patterns: st.SearchStrategy[str] = wildcards,
) -> PermissionConfig:
    match = draw(st.sampled_from(matches))
    pattern = draw({"exact": uris, "prefix": prefixes, "wildcard": patterns}[match])
    flags = draw(st.lists(st.booleans(), min_size=6, max_size=6))
    names = (*ACTIONS, "disclose_caller", "disclose_publisher")
    return PermissionConfig(pattern, match, **dict(zip(names, flags, strict=True)))  # type: ignore[arg-type]


def instance(rule: PermissionConfig, fill: list[str]) -> str:
    """A URI ``rule`` covers: its wildcards (or the tail after its prefix) filled from ``fill``."""
    if rule.match == "exact":
        return rule.uri
    if rule.match == "prefix":
        return rule.uri + ".".join(fill) if rule.uri else ".".join(fill) or "a"
    parts = iter(fill)
    return ".".join(p or next(parts, "a") for p in rule.uri.split("."))


def queries(data: st.DataObject, rule_list: list[PermissionConfig]) -> list[tuple[Action, str]]:
    """Actions on random URIs and on URIs some rule covers (so that rules compete)."""
    fill = st.lists(st.sampled_from(COMPONENTS), min_size=1, max_size=3)
    covered = (st.builds(instance, st.sampled_from(rule_list), fill) if rule_list else uris).filter(
        lambda u: u.split(".") == [c for c in u.split(".") if c]
    )
    return data.draw(
        st.lists(st.tuples(st.sampled_from(ACTIONS), uris | covered), min_size=1, max_size=10)
    )


@settings(max_examples=200, deadline=None)
@given(st.lists(rules(), max_size=12, unique_by=lambda r: (r.uri, r.match)), st.data())
def test_matcher_agrees_with_the_reference(
    rule_list: list[PermissionConfig], data: st.DataObject
) -> None:
    check_against_reference(rule_list, queries(data, rule_list))


@settings(max_examples=100, deadline=None)
@given(
    st.lists(rules(("wildcard",), three_wide), max_size=12, unique_by=lambda r: r.uri), st.data()
)
def test_wildcard_ranking_agrees_with_the_reference(
    rule_list: list[PermissionConfig], data: st.DataObject
) -> None:
    """Wildcards alone (prefixes would win most contests): the literal-first ranking."""
    check_against_reference(rule_list, queries(data, rule_list))


def check_against_reference(
    rule_list: list[PermissionConfig], queries: list[tuple[Action, str]]
) -> None:
    role = RoleConfig("r", rule_list)
    role.validate()
    permissions = RolePermissions(role)
    authorizer = Authorizer([role])
    for action, uri in queries:
        expected = reference(rule_list, action, uri)
        assert permissions.decide(action, uri) == expected, (action, uri)
        assert authorizer.authorize("r", action, uri) == expected
        assert authorizer.authorize("other", action, uri) == DENY
