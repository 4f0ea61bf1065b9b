"""``GlobalIds``: global-scope ids drawn in blocks (wamp-spec.md §2.1 "IDs"; issue 11).

The spec: global-scope ids (sessions, publications) "MUST be drawn randomly from a uniform
distribution over the complete range [1, 2^53]". Drawing 64 of them from one ``getrandbits``
call must keep that: every id is 1 plus 53 bits of the source, nothing else.
"""

from __future__ import annotations

import random

from wampcore.ids import MAX_ID, GlobalIds


class _Bits:
    """A source that hands out fixed bit patterns and counts the draws."""

    def __init__(self, value: int) -> None:
        self.value = value
        self.draws: list[int] = []

    def randint(self, a: int, b: int, /) -> int:
        raise AssertionError("GlobalIds draws bits, not integers")

    def getrandbits(self, k: int, /) -> int:
        self.draws.append(k)
        return self.value & ((1 << k) - 1)


def test_extremes_of_the_range_are_reached_spec_2_1() -> None:
    assert GlobalIds(_Bits(0)).next() == 1
    assert GlobalIds(_Bits(-1)).next() == MAX_ID  # all ones: 2^53 - 1 + 1


def test_one_draw_serves_64_ids_and_each_id_is_its_own_53_bits_spec_2_1() -> None:
    # Block i carries the value i + 1000 in its 53 bits: each id must be exactly that, + 1.
    pattern = sum((i + 1000) << (53 * i) for i in range(64))
    source = _Bits(pattern)
    ids = GlobalIds(source)
    got = [ids.next() for _ in range(64)]
    assert source.draws == [53 * 64]
    assert sorted(got) == [i + 1001 for i in range(64)]
    ids.next()
    assert source.draws == [53 * 64, 53 * 64]  # the 65th id starts a new block


def test_ids_are_uniform_over_the_whole_range_spec_2_1() -> None:
    ids = GlobalIds(random.Random(7))
    values = [ids.next() for _ in range(20_000)]
    assert all(1 <= v <= MAX_ID for v in values)
    assert len(set(values)) == len(values)
    # Each of the 53 bits (of v - 1) is set about half of the time, the top one included.
    for bit in (0, 1, 26, 51, 52):
        share = sum(((v - 1) >> bit) & 1 for v in values) / len(values)
        assert 0.47 < share < 0.53, (bit, share)
    mean = sum(values) / len(values)
    assert abs(mean / (MAX_ID / 2) - 1) < 0.02


def test_a_seeded_source_gives_a_reproducible_sequence() -> None:
    a, b = GlobalIds(random.Random(3)), GlobalIds(random.Random(3))
    assert [a.next() for _ in range(100)] == [b.next() for _ in range(100)]
