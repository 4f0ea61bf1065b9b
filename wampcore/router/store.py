"""One realm's kept events: retained events (wamp-spec.md §4.20) and event history (§4.19).

Owned by the realm's broker, which records every publication here after routing it.

**Retention.** A PUBLISH with ``retain=true`` is kept for its topic. A SUBSCRIBE with
``get_retained=true`` then gets, per topic its subscription covers, the most recent retained
event the new subscriber would have been eligible for (publisher exclusion and the
black/white lists apply as they did at publication time). An unfiltered retained event replaces
every older one of its topic; a filtered one is kept beside at most ``RETAINED_PER_TOPIC - 1``
older ones, so a subscriber excluded from the newest still finds the one meant for it. At most
``RETAINED_TOPICS`` topics are kept per realm (the oldest topic goes first): retention is best
effort, as the spec allows.

**History.** Topics configured per realm (``RealmConfig.history``: uri, match exact/prefix,
limit) keep their last ``limit`` publications. ``wamp.subscription.get_events`` reads them for
a subscription with the same (uri, match). As the spec asks, publications filtered by session id
(``exclude``, ``eligible``) are not stored, and those filtered by authid/authrole are filtered
again against the session asking.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..config import HistoryConfig
from ..uri import pattern_matches

if TYPE_CHECKING:
    from .member import Member

__all__ = ["RETAINED_PER_TOPIC", "RETAINED_TOPICS", "EventStore", "Filters", "Kept"]

RETAINED_PER_TOPIC = 8
RETAINED_TOPICS = 10_000

#: (member attribute, wanted, values): every check must pass for a member to be eligible.
Filters = tuple[tuple[str, bool, frozenset[Any]], ...]


@dataclass(frozen=True, slots=True)
class Kept:
    """One publication as the store keeps it."""

    topic: str
    publication_id: int
    #: EVENT.Details it was delivered with (publisher disclosure, pass-through keys).
    details: dict[str, Any]
    args: list[Any] | None
    kwargs: dict[str, Any] | None
    payload: bytes | str | None
    publisher_id: int
    exclude_me: bool
    filters: Filters
    timestamp: str

    def eligible(self, member: Member) -> bool:
        """Whether ``member`` would have received this publication."""
        if self.exclude_me and member.id == self.publisher_id:
            return False
        return eligible(self.filters, member)


def eligible(filters: Filters, member: Member) -> bool:
    for attribute, wanted, values in filters:
        value = member.id if attribute == "id" else getattr(member, attribute)
        if (value in values) is not wanted:
            return False
    return True


class _History:
    __slots__ = ("config", "events")

    def __init__(self, config: HistoryConfig) -> None:
        self.config = config
        self.events: deque[Kept] = deque(maxlen=config.limit)


class EventStore:
    """Retained events and configured histories of one realm."""

    __slots__ = ("_histories", "_retained")

    def __init__(self, history: list[HistoryConfig] | None = None) -> None:
        self._retained: dict[str, list[Kept]] = {}
        self._histories = [_History(h) for h in history or ()]

    @property
    def keeps_history(self) -> bool:
        return bool(self._histories)

    # -- writing -------------------------------------------------------------------------------

    def retain(self, kept: Kept) -> None:
        retained = self._retained
        events = retained.pop(kept.topic, None)  # re-inserted last: the newest topic
        if events is None or not kept.filters:
            events = [kept]
        else:
            events.append(kept)
            del events[:-RETAINED_PER_TOPIC]
        retained[kept.topic] = events
        while len(retained) > RETAINED_TOPICS:
            del retained[next(iter(retained))]

    def record(self, kept: Kept) -> None:
        """Add a publication to every history whose topic pattern covers it."""
        if any(attribute == "id" for attribute, _, _ in kept.filters):
            return  # session-id filtered publications are not stored (wamp-spec.md §4.19)
        for history in self._histories:
            config = history.config
            if pattern_matches(config.uri, config.match, kept.topic):
                history.events.append(kept)

    # -- reading -------------------------------------------------------------------------------

    def retained_for(self, uri: str, match: str, member: Member) -> list[Kept]:
        """Per covered topic, the newest retained event ``member`` is eligible for."""
        if match == "exact":
            candidates = [self._retained.get(uri, [])]
        else:
            candidates = [
                events
                for topic, events in self._retained.items()
                if pattern_matches(uri, match, topic)
            ]
        found: list[Kept] = []
        for events in candidates:
            for kept in reversed(events):
                if kept.eligible(member):
                    found.append(kept)
                    break
        return found

    def history(self, uri: str, match: str) -> list[Kept] | None:
        """The stored publications for (uri, match), oldest first; None if not configured."""
        for history in self._histories:
            if history.config.uri == uri and history.config.match == match:
                return list(history.events)
        return None
