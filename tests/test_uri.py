"""URI rules and pattern matching (wamp-spec §2.2, §4.8, §4.17).

PatternMap is checked against a brute-force reference written from the spec's text: every
pattern is tried against the URI, and the dealer's choice follows the four steps of §4.8
(exact, longest prefix, best wildcard by runs of literal components, nothing).
"""

from __future__ import annotations

import re
import sys

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from wampcore import LocalProtocolError, PatternMap, uri

SPEC_LOOSE = re.compile(r"^([^\s\.#]+\.)*([^\s\.#]+)$")


def test_whitespace_agrees_with_the_spec_regex_for_every_code_point() -> None:
    """wamp-spec §2.2: is_loose's whitespace test (str.split) and the spec regex's \\s agree on
    every Unicode code point, and so do the whole rules for a one-character component."""
    mismatches = [
        cp
        for cp in range(sys.maxunicode + 1)
        if uri.is_loose(f"a{chr(cp)}b") is not (SPEC_LOOSE.fullmatch(f"a{chr(cp)}b") is not None)
    ]
    assert mismatches == []


@pytest.mark.parametrize(
    "value",
    ["a", "a.b", "com.example.topic", "x_y-z.ÄÖ.中文", "a.b.c.d.e.f.g", "wamp.error.x"],
)
def test_is_loose_accepts(value: str) -> None:
    """wamp-spec §2.2: components of anything but '.', '#' and whitespace."""
    assert uri.is_loose(value) and uri.is_valid(value)


@pytest.mark.parametrize(
    "value", ["", ".", "..", "a.", ".a", "a..b", "a#b", "#", "a b", "a\tb", "a\u3000b", "a\x1cb"]
)
def test_is_loose_rejects(value: str) -> None:
    """wamp-spec §2.2: empty components, '#', and any whitespace (incl. Unicode) are refused."""
    assert not uri.is_loose(value) and not uri.is_valid(value)


def test_long_adversarial_uris_are_linear() -> None:
    """A peer choosing the URI must not make validation blow up (the pattern regexes have
    nested quantifiers): long near-misses finish (the suite's timeout would catch a blow-up)."""
    for value in ("a." * 20_000 + " ", "." * 40_000 + "#", "ab" * 20_000 + "\n"):
        for kw in (
            {},
            {"allow_empty": True},
            {"strict": True},
            {"strict": True, "allow_empty": True},
        ):
            assert not uri.is_valid(value, **kw)


def test_wildcard_matches() -> None:
    """wamp-spec §4.8: an empty component matches exactly one component; lengths must agree."""
    assert uri.wildcard_matches("com..update", "com.myapp.update")
    assert uri.wildcard_matches(".", "a.b")
    assert uri.wildcard_matches("..", "a.b.c")
    assert not uri.wildcard_matches("com..update", "com.myapp.other.update")
    assert not uri.wildcard_matches("com..update", "com.update")
    assert not uri.wildcard_matches("com..update", "org.myapp.update")


# --- PatternMap ---------------------------------------------------------------------------------


def test_exact_beats_prefix_beats_wildcard() -> None:
    """wamp-spec §4.8 steps 1-3: exact, then longest prefix, then the best wildcard."""
    pm: PatternMap[str] = PatternMap()
    pm.set("com.myapp..update", "wildcard", "W")
    assert pm.best("com.myapp.object1.update") == "W"
    pm.set("com.myapp", "prefix", "P-short")
    assert pm.best("com.myapp.object1.update") == "P-short"
    pm.set("com.myapp.object1", "prefix", "P-long")
    assert pm.best("com.myapp.object1.update") == "P-long"
    pm.set("com.myapp.object1.update", "exact", "E")
    assert pm.best("com.myapp.object1.update") == "E"
    assert pm.matches("com.myapp.object1.update") == ["E", "P-long", "P-short", "W"]


def test_prefix_is_a_string_prefix() -> None:
    """wamp-spec §4.8 (the spec's example): prefix com.myapp.myobject1 matches
    com.myapp.myobject1-mysubobject1 -- a string prefix, not a component prefix."""
    pm: PatternMap[int] = PatternMap()
    pm.set("com.myapp.myobject1", "prefix", 1)
    assert pm.best("com.myapp.myobject1-mysubobject1") == 1
    assert pm.best("com.myapp.myobject1") == 1
    assert pm.best("com.myapp.myobject") is None


def test_wildcard_precedence_by_literal_runs() -> None:
    """wamp-spec §4.8 step 3: compare the first run of literal components, then the next."""
    pm: PatternMap[str] = PatternMap()
    for pattern in ("a...d", "a.b..", ".b.c.d", "a..c.d"):
        pm.set(pattern, "wildcard", pattern)
    assert pm.best("a.b.c.d") == "a.b.."  # first run 2 beats 1 and 0
    pm.remove("a.b..", "wildcard")
    assert pm.best("a.b.c.d") == "a..c.d"  # runs (1, 2) beat (1, 1) of a...d
    pm.remove("a..c.d", "wildcard")
    assert pm.best("a.b.c.d") == "a...d"  # (1, 0, 1) beats (0, 3)
    assert set(pm.matches("a.b.c.d")) == {"a...d", ".b.c.d"}


def test_set_replace_get_remove_len_items() -> None:
    pm: PatternMap[int] = PatternMap()
    pm.set("a.b", "exact", 1)
    pm.set("a.b", "exact", 2)  # replaces
    pm.set("a.b", "prefix", 3)  # same pattern, other policy: separate entry
    pm.set("a..", "wildcard", 4)
    assert len(pm) == 3
    assert pm.get("a.b") == 2 and pm.get("a.b", "prefix") == 3 and pm.get("a..", "wildcard") == 4
    assert sorted(pm.items()) == [("a..", "wildcard", 4), ("a.b", "exact", 2), ("a.b", "prefix", 3)]
    assert pm.remove("a.b", "prefix") == 3
    assert pm.remove("a.b", "prefix") is None
    assert pm.remove("a..", "wildcard") == 4
    assert pm.matches("a.b.c") == [] and pm.best("a.x.y") is None
    assert len(pm) == 1


def test_unknown_match_policy_is_a_local_error() -> None:
    pm: PatternMap[int] = PatternMap()
    with pytest.raises(LocalProtocolError):
        pm.set("a.b", "regex", 1)
    with pytest.raises(LocalProtocolError):
        pm.get("a.b", "fuzzy")


def test_falsy_values_are_found() -> None:
    """Values are the caller's (ids, lists, 0 ...): a falsy value still counts as a match."""
    pm: PatternMap[int] = PatternMap()
    pm.set("a.b", "exact", 0)
    pm.set("a", "prefix", 0)
    assert pm.matches("a.b") == [0, 0]


# Reference implementation, straight from the spec's text.


def _runs(pattern: str) -> list[int]:
    """Lengths of the runs of literal components, in order (wamp-spec §4.8 step 3)."""
    runs, current = [], 0
    for comp in pattern.split("."):
        if comp:
            current += 1
        else:
            runs.append(current)
            current = 0
    runs.append(current)
    return runs


def _ref_matches(entries: dict[tuple[str, str], int], value: str) -> set[int]:
    found = set()
    for (pattern, match), v in entries.items():
        if match == "exact" and pattern == value:
            found.add(v)
        elif match == "prefix" and value.startswith(pattern):
            found.add(v)
        elif match == "wildcard" and uri.wildcard_matches(pattern, value):
            found.add(v)
    return found


def _ref_best(entries: dict[tuple[str, str], int], value: str) -> int | None:
    if (value, "exact") in entries:
        return entries[(value, "exact")]
    prefixes = [
        (len(p), v) for (p, mt), v in entries.items() if mt == "prefix" and value.startswith(p)
    ]
    if prefixes:
        return max(prefixes)[1]
    wild = [
        (_runs(p), v)
        for (p, mt), v in entries.items()
        if mt == "wildcard" and uri.wildcard_matches(p, value)
    ]
    if wild:
        return max(wild)[1]
    return None


_comp = st.sampled_from(["a", "b", "c", "ab"])
_pattern_uri = st.lists(st.one_of(_comp, st.just("")), min_size=1, max_size=4).map(".".join)
_concrete = st.lists(_comp, min_size=1, max_size=4).map(".".join)


@settings(max_examples=150, deadline=None)
@given(
    ops=st.lists(
        st.tuples(st.booleans(), _pattern_uri, st.sampled_from(["exact", "prefix", "wildcard"])),
        max_size=40,
    ),
    probes=st.lists(_concrete, min_size=1, max_size=10),
)
def test_pattern_map_agrees_with_the_spec_reference(
    ops: list[tuple[bool, str, str]], probes: list[str]
) -> None:
    """wamp-spec §4.8/§4.17: after any sequence of set/remove, matches() is every matching value
    and best() is the spec's choice, for many overlapping patterns."""
    pm: PatternMap[int] = PatternMap()
    entries: dict[tuple[str, str], int] = {}
    for i, (add, pattern, match) in enumerate(ops):
        if match == "exact" and "" in pattern.split("."):
            match = "wildcard"  # an exact pattern is a complete URI
        if add:
            pm.set(pattern, match, i)
            entries[(pattern, match)] = i
        else:
            assert pm.remove(pattern, match) == entries.pop((pattern, match), None)
    assert len(pm) == len(entries)
    for value in probes:
        assert sorted(pm.matches(value)) == sorted(_ref_matches(entries, value))
        assert pm.best(value) == _ref_best(entries, value)


def test_many_patterns() -> None:
    """Broker/dealer scale: thousands of patterns of each kind, each found exactly."""
    pm: PatternMap[str] = PatternMap()
    n = 3000
    for i in range(n):
        pm.set(f"com.app{i}.topic", "exact", f"e{i}")
        pm.set(f"com.app{i}.", "prefix", f"p{i}")
        pm.set(f"com.app{i}..x", "wildcard", f"w{i}")
    assert len(pm) == 3 * n
    for i in range(0, n, 97):
        assert pm.matches(f"com.app{i}.topic") == [f"e{i}", f"p{i}"]
        assert pm.best(f"com.app{i}.other.x") == f"p{i}"
        assert pm.matches(f"com.app{i}.other.x") == [f"p{i}", f"w{i}"]
        pm.remove(f"com.app{i}.", "prefix")
        assert pm.best(f"com.app{i}.other.x") == f"w{i}"
