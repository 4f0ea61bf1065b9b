"""Identifier generation (wamp-spec.md §2.1).

* Global scope (sessions, publications): drawn uniformly from [1, 2^53] by an injectable random
  source. The default source is ``secrets.SystemRandom`` (a CSPRNG); tests inject a seeded
  ``random.Random`` for reproducibility. The core never touches the module-level ``random``.
  ``GlobalIds`` draws them in blocks (one ``getrandbits`` call for 64 ids): with the default
  source a publication id then costs a slice of one ``os.urandom`` read instead of a read (or
  two, with randint's rejection sampling) of its own, and every id is still uniform over the
  whole range and as unpredictable as the source.
* Router scope (subscriptions, registrations): ``RouterScopeIds`` hands out sequential ids that
  skip any still in use and wrap after 2^53.
* Session scope (requests): ``RequestIds`` counts 1, 2, 3, ... per direction and wraps back to 1
  after 2^53.
"""

from __future__ import annotations

import secrets
from collections.abc import Container
from typing import Protocol

__all__ = [
    "MAX_ID",
    "GlobalIds",
    "RandomSource",
    "RequestIds",
    "RouterScopeIds",
    "default_random",
    "global_id",
]

MAX_ID = 2**53


class RandomSource(Protocol):
    """What wampcore needs of a random generator (``random.Random`` and friends qualify)."""

    def randint(self, a: int, b: int, /) -> int: ...

    def getrandbits(self, k: int, /) -> int: ...


def default_random() -> RandomSource:
    """A fresh CSPRNG-backed source."""
    return secrets.SystemRandom()


def global_id(rng: RandomSource) -> int:
    """A global-scope id: uniform over [1, 2^53]."""
    return rng.randint(1, MAX_ID)


_ID_BITS = 53  # MAX_ID == 2**53: an id is 1 + a uniform 53-bit integer
_ID_MASK = MAX_ID - 1
_BLOCK = 64


class GlobalIds:
    """Global-scope ids uniform over [1, 2^53], drawn from ``rng`` 64 at a time.

    Each id is 1 plus 53 fresh bits of one ``rng.getrandbits(53 * 64)`` draw, so the ids are
    exactly as uniform and independent as the source's bits.
    """

    __slots__ = ("_ready", "_rng")

    def __init__(self, rng: RandomSource) -> None:
        self._rng = rng
        self._ready: list[int] = []

    def next(self) -> int:
        ready = self._ready
        if not ready:
            bits = self._rng.getrandbits(_ID_BITS * _BLOCK)
            ready.extend(((bits >> (_ID_BITS * i)) & _ID_MASK) + 1 for i in range(_BLOCK))
        return ready.pop()


class RouterScopeIds:
    """Router-scope ids: sequential, skipping ids still in use, wrapping after 2^53."""

    __slots__ = ("_last",)

    def __init__(self, start: int = 0) -> None:
        self._last = start

    def next(self, in_use: Container[int] = ()) -> int:
        candidate = self._last
        while True:
            candidate = candidate + 1 if candidate < MAX_ID else 1
            if candidate not in in_use:
                self._last = candidate
                return candidate


class RequestIds:
    """Session-scope request ids for one direction: 1, 2, ... 2^53, then 1 again."""

    __slots__ = ("last",)

    def __init__(self) -> None:
        #: The most recently issued (or accepted) id; 0 before the first.
        self.last = 0

    def next(self) -> int:
        """Issue the next id."""
        self.last = self.last + 1 if self.last < MAX_ID else 1
        return self.last

    def expected(self) -> int:
        """The id the next new request must carry."""
        return self.last + 1 if self.last < MAX_ID else 1

    def accept(self, request_id: int) -> bool:
        """Check an incoming new-request id; advance and return True only if it is the next."""
        if request_id != self.expected():
            return False
        self.last = request_id
        return True
