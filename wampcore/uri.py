"""URI rules and URI pattern matching (wamp-spec.md §2.2, §4.8, §4.17).

Validation: the spec's loose rules (a component is non-empty and holds no ``.``, ``#`` or
whitespace) and strict rules (components of ``[0-9a-z_]``), each with or without empty
components (empty components are allowed only in pattern-based SUBSCRIBE and REGISTER, where
they are wildcards).

Matching: ``PatternMap`` holds values under (pattern, match-policy) keys and answers two
questions fast, for many patterns:

* ``matches(uri)`` -- every value whose pattern matches (the broker: an event goes out on every
  matching subscription);
* ``best(uri)`` -- the one value the spec's precedence picks (the dealer): an exact match first,
  then the longest matching prefix, then the best wildcard, where the wildcard whose first
  literal components run longest wins (compared component by component).

Prefix matching is a plain string prefix, as the spec's example has it
(``com.myapp.myobject1`` matches ``com.myapp.myobject1-mysubobject1``).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Generic, TypeVar

from .errors import LocalProtocolError

__all__ = [
    "MATCH_POLICIES",
    "PatternMap",
    "is_loose",
    "is_valid",
    "pattern_matches",
    "wildcard_matches",
]

T = TypeVar("T")

_LOOSE_EMPTY = re.compile(r"(([^\s.#]+\.)|\.)*([^\s.#]+)?")
_STRICT = re.compile(r"([0-9a-z_]+\.)*[0-9a-z_]+")
_STRICT_EMPTY = re.compile(r"(([0-9a-z_]+\.)|\.)*([0-9a-z_]+)?")

MATCH_POLICIES = ("exact", "prefix", "wildcard")


def is_loose(uri: str) -> bool:
    """Whether the string ``uri`` follows the loose rules with no empty component.

    The check every incoming message makes, so it avoids the regular expression: no ``#``, no
    empty component (no ``..``, no leading or trailing ``.``), and no whitespace -- ``str.split``
    and the regex ``\\s`` agree on what whitespace is for every code point (tests/test_uri.py).
    """
    return (
        uri != ""
        and "#" not in uri
        and ".." not in uri
        and uri[0] != "."
        and uri[-1] != "."
        and uri.split() == [uri]
    )


def is_valid(uri: str, *, strict: bool = False, allow_empty: bool = False) -> bool:
    """Whether ``uri`` follows the loose (default) or strict rules.

    ``allow_empty`` admits empty components (pattern-based subscriptions and registrations).
    The empty string is never a valid URI.
    """
    if not uri:
        return False
    if not strict and not allow_empty:
        return is_loose(uri)
    if strict:
        pattern = _STRICT_EMPTY if allow_empty else _STRICT
    else:
        pattern = _LOOSE_EMPTY
    return pattern.fullmatch(uri) is not None


def wildcard_matches(pattern: str, uri: str) -> bool:
    """Whether ``uri`` matches a wildcard pattern (empty components match any one component)."""
    p_parts = pattern.split(".")
    u_parts = uri.split(".")
    if len(p_parts) != len(u_parts):
        return False
    return all(p == "" or p == u for p, u in zip(p_parts, u_parts, strict=True))


def pattern_matches(pattern: str, match: str, uri: str) -> bool:
    """Whether a (pattern, match policy) subscription or registration covers ``uri``."""
    if match == "exact":
        return pattern == uri
    if match == "prefix":
        return uri.startswith(pattern)
    if match == "wildcard":
        return wildcard_matches(pattern, uri)
    raise LocalProtocolError(f"unknown match policy {match!r}")


class _Node(Generic[T]):
    """A wildcard trie node: literal children, one wildcard child, a value at a leaf."""

    __slots__ = ("any", "has_value", "literal", "value")

    def __init__(self) -> None:
        self.literal: dict[str, _Node[T]] = {}
        self.any: _Node[T] | None = None
        self.has_value = False
        self.value: T | None = None


class PatternMap(Generic[T]):
    """Values keyed by (pattern, match policy), with fast matching of concrete URIs."""

    __slots__ = ("_exact", "_prefix", "_prefix_lengths", "_wildcard", "_wildcard_roots")

    def __init__(self) -> None:
        self._exact: dict[str, T] = {}
        self._prefix: dict[str, T] = {}
        # Distinct prefix lengths, longest first, with how many prefixes have each length:
        # a lookup probes one dict entry per distinct length instead of scanning every prefix.
        self._prefix_lengths: dict[int, int] = {}
        self._wildcard: dict[str, T] = {}
        # One trie per component count: a wildcard pattern only matches URIs of its length.
        self._wildcard_roots: dict[int, _Node[T]] = {}

    def __len__(self) -> int:
        return len(self._exact) + len(self._prefix) + len(self._wildcard)

    def get(self, pattern: str, match: str = "exact") -> T | None:
        """The value stored under exactly this pattern and policy."""
        return self._table(match).get(pattern)

    def set(self, pattern: str, match: str, value: T) -> None:
        """Store ``value`` under (pattern, match), replacing any previous value."""
        table = self._table(match)
        is_new = pattern not in table
        table[pattern] = value
        if match == "prefix" and is_new:
            n = len(pattern)
            self._prefix_lengths[n] = self._prefix_lengths.get(n, 0) + 1
            self._prefix_lengths = dict(sorted(self._prefix_lengths.items(), reverse=True))
        elif match == "wildcard":
            parts = pattern.split(".")
            node = self._wildcard_roots.setdefault(len(parts), _Node())
            for part in parts:
                if part == "":
                    if node.any is None:
                        node.any = _Node()
                    node = node.any
                else:
                    node = node.literal.setdefault(part, _Node())
            node.has_value = True
            node.value = value

    def remove(self, pattern: str, match: str = "exact") -> T | None:
        """Remove and return the value under (pattern, match), or None if absent."""
        table = self._table(match)
        if pattern not in table:
            return None
        value = table.pop(pattern)
        if match == "prefix":
            n = len(pattern)
            self._prefix_lengths[n] -= 1
            if not self._prefix_lengths[n]:
                del self._prefix_lengths[n]
        elif match == "wildcard":
            self._wildcard_remove(pattern)
        return value

    def items(self) -> Iterator[tuple[str, str, T]]:
        """Every (pattern, match, value)."""
        for match in MATCH_POLICIES:
            for pattern, value in self._table(match).items():
                yield pattern, match, value

    def matches(self, uri: str) -> list[T]:
        """Every value whose pattern matches ``uri``: exact, then prefixes, then wildcards."""
        found: list[T] = []
        exact = self._exact.get(uri)
        if exact is not None:
            found.append(exact)
        if self._prefix:
            for n in self._prefix_lengths:
                if n <= len(uri):
                    value = self._prefix.get(uri[:n])
                    if value is not None:
                        found.append(value)
        if self._wildcard:
            found.extend(value for _, value in self._wildcard_walk(uri))
        return found

    def best(self, uri: str) -> T | None:
        """The value the spec's precedence picks for ``uri`` (exact, longest prefix, wildcard)."""
        exact = self._exact.get(uri)
        if exact is not None:
            return exact
        if self._prefix:
            for n in self._prefix_lengths:  # longest first
                if n <= len(uri):
                    value = self._prefix.get(uri[:n])
                    if value is not None:
                        return value
        if self._wildcard:
            candidates = self._wildcard_walk(uri)
            if candidates:
                # Rank: literal components before wildcards, compared left to right.
                return max(candidates, key=lambda c: c[0])[1]
        return None

    # -- internals -------------------------------------------------------------------------------

    def _table(self, match: str) -> dict[str, T]:
        if match == "exact":
            return self._exact
        if match == "prefix":
            return self._prefix
        if match == "wildcard":
            return self._wildcard
        raise LocalProtocolError(f"unknown match policy {match!r}")

    def _wildcard_walk(self, uri: str) -> list[tuple[tuple[int, ...], T]]:
        parts = uri.split(".")
        root = self._wildcard_roots.get(len(parts))
        if root is None:
            return []
        out: list[tuple[tuple[int, ...], T]] = []
        # Depth-first; each entry carries the literal/wildcard shape of the path so far.
        stack: list[tuple[_Node[T], int, tuple[int, ...]]] = [(root, 0, ())]
        while stack:
            node, depth, shape = stack.pop()
            if depth == len(parts):
                if node.has_value:
                    out.append((shape, node.value))  # type: ignore[arg-type]
                continue
            child = node.literal.get(parts[depth])
            if child is not None:
                stack.append((child, depth + 1, (*shape, 1)))
            if node.any is not None:
                stack.append((node.any, depth + 1, (*shape, 0)))
        return out

    def _wildcard_remove(self, pattern: str) -> None:
        parts = pattern.split(".")
        root = self._wildcard_roots.get(len(parts))
        if root is None:
            return
        path: list[tuple[_Node[T], str]] = []
        node = root
        for part in parts:
            path.append((node, part))
            child = node.any if part == "" else node.literal.get(part)
            if child is None:
                return
            node = child
        node.has_value = False
        node.value = None
        # Prune branches that no longer lead to any value.
        for parent, part in reversed(path):
            sub = parent.any if part == "" else parent.literal[part]
            assert sub is not None
            if sub.has_value or sub.literal or sub.any is not None:
                break
            if part == "":
                parent.any = None
            else:
                del parent.literal[part]
        if not (root.literal or root.any is not None):
            del self._wildcard_roots[len(parts)]
