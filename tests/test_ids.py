"""Identifier generation (wamp-spec §2.1): global random ids from an injected source,
router-scope ids, per-direction request ids; all within [1, 2^53] and wrapping after 2^53."""

from __future__ import annotations

import random
import secrets

from hypothesis import given, settings
from hypothesis import strategies as st

from wampcore import ids
from wampcore.ids import MAX_ID, RandomSource


class Scripted:
    """A RandomSource replaying chosen values, recording what it was asked for."""

    def __init__(self, values: list[int]) -> None:
        self.values = list(values)
        self.asked: list[tuple[int, int]] = []

    def randint(self, a: int, b: int, /) -> int:
        self.asked.append((a, b))
        return self.values.pop(0)

    def getrandbits(self, k: int, /) -> int:
        return 0


def test_max_id_is_2_to_the_53() -> None:
    """wamp-spec §2.1: 2^53 = 9007199254740992, the largest integer a double holds exactly."""
    assert MAX_ID == 9007199254740992 == 2**53
    assert float(MAX_ID) == MAX_ID and float(MAX_ID + 1) != MAX_ID + 1


def test_global_id_asks_the_injected_source_for_1_to_2_53() -> None:
    """wamp-spec §2.1: global ids are uniform over [1, 2^53]; the draw is delegated whole."""
    rng = Scripted([1, MAX_ID, 12345])
    assert [ids.global_id(rng) for _ in range(3)] == [1, MAX_ID, 12345]
    assert rng.asked == [(1, MAX_ID)] * 3


def test_sources_that_satisfy_random_source() -> None:
    """random.Random (seeded, for tests) and secrets.SystemRandom (the default) both work."""
    sources: list[RandomSource] = [random.Random(1), secrets.SystemRandom(), ids.default_random()]
    for rng in sources:
        assert 1 <= ids.global_id(rng) <= MAX_ID
    assert isinstance(ids.default_random(), secrets.SystemRandom)
    assert [ids.global_id(random.Random(5)) for _ in range(2)] == [
        ids.global_id(random.Random(5)) for _ in range(2)
    ]


@settings(max_examples=50, deadline=None)
@given(seed=st.integers(0, 2**32))
def test_global_ids_in_range_for_any_seed(seed: int) -> None:
    rng = random.Random(seed)
    assert all(1 <= ids.global_id(rng) <= MAX_ID for _ in range(20))


def test_request_ids_count_and_wrap() -> None:
    """wamp-spec §2.1: 1, 2, 3, ... 2^53, then 1 again; expected() previews, accept() checks."""
    req = ids.RequestIds()
    assert req.expected() == 1
    assert [req.next() for _ in range(3)] == [1, 2, 3]
    req.last = MAX_ID - 1
    assert req.next() == MAX_ID
    assert req.expected() == 1
    assert req.next() == 1


def test_request_ids_accept_only_the_next() -> None:
    req = ids.RequestIds()
    assert not req.accept(2)
    assert req.last == 0
    assert req.accept(1) and req.accept(2)
    assert not req.accept(2) and not req.accept(4)
    req.last = MAX_ID
    assert not req.accept(MAX_ID + 1)
    assert req.accept(1)


def test_router_scope_ids_sequential_skip_in_use_and_wrap() -> None:
    """wamp-spec §2.1: router-scope ids are the router's choice; ours are sequential, never 0,
    skip those still in use, and wrap after 2^53."""
    gen = ids.RouterScopeIds()
    assert [gen.next() for _ in range(3)] == [1, 2, 3]
    assert gen.next(in_use={4, 5}) == 6
    gen = ids.RouterScopeIds(start=MAX_ID - 1)
    assert gen.next() == MAX_ID
    assert gen.next(in_use={1}) == 2
