"""Testaments (wamp-spec.md §4.23): events a session leaves behind for when it is gone.

``wamp.session.add_testament(topic, args, kwargs, publish_options=..., scope=...)`` stores one on
the calling session; ``wamp.session.flush_testaments(scope=...)`` drops those of a scope. When
the session ends (GOODBYE, ABORT, EOF, violation, kill) the router publishes them, in the order
they were added, ``detached`` before ``destroyed`` (this router has no session resumption), from
its own service session, once the removal has been done. ``kill_all`` ends sessions without
their testaments, as the spec says. Everything is validated at ``add_testament`` time, so a
testament cannot fail when it is finally published.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..errors import LocalProtocolError
from ..messages import Publish
from ..uri import is_valid

__all__ = ["PUBLISH_OPTIONS", "SCOPES", "Testament", "TestamentError", "make_testament"]

SCOPES = ("destroyed", "detached")
#: The PUBLISH options a testament may carry (as a PUBLISH would: black/white lists, exclusion,
#: retention). ``acknowledge`` and ``disclose_me`` are accepted and dropped; anything else is
#: refused. The values are then checked as a PUBLISH's are (e.g. ``exclude`` holds session ids).
PUBLISH_OPTIONS = {
    "exclude": list,
    "exclude_authid": list,
    "exclude_authrole": list,
    "eligible": list,
    "eligible_authid": list,
    "eligible_authrole": list,
    "exclude_me": bool,
    "retain": bool,
}


class TestamentError(ValueError):
    """A testament that cannot be accepted; ``str()`` says why."""


@dataclass(frozen=True, slots=True)
class Testament:
    topic: str
    args: list[Any]
    kwargs: dict[str, Any]
    options: dict[str, Any]
    scope: str


def make_testament(
    topic: Any, args: Any, kwargs: Any, publish_options: Any, scope: Any
) -> Testament:
    """Validate the arguments of ``wamp.session.add_testament``; raises TestamentError."""
    if type(topic) is not str or not is_valid(topic):
        raise TestamentError(f"the testament topic must be a valid URI, got {topic!r:.80}")
    if topic.startswith("wamp."):
        raise TestamentError("a testament cannot be published to the reserved wamp.* namespace")
    if args is None:
        args = []
    if type(args) is not list:
        raise TestamentError(f"testament args must be a list, got {type(args).__name__}")
    if kwargs is None:
        kwargs = {}
    if type(kwargs) is not dict or not all(type(k) is str for k in kwargs):
        raise TestamentError("testament kwargs must be a dict with string keys")
    if scope is None:
        scope = "destroyed"
    if scope not in SCOPES:
        raise TestamentError(
            f"testament scope must be 'destroyed' or 'detached', got {scope!r:.80}"
        )
    options: dict[str, Any] = {}
    if publish_options is not None:
        if type(publish_options) is not dict:
            raise TestamentError("publish_options must be a dict")
        for key, value in publish_options.items():
            expected = PUBLISH_OPTIONS.get(key)
            if expected is None:
                if key in ("acknowledge", "disclose_me"):
                    continue  # nobody is left to acknowledge to, or to disclose
                raise TestamentError(f"publish option {key!r:.40} is not allowed in a testament")
            if type(value) is not expected:
                raise TestamentError(f"publish option {key} must be a {expected.__name__}")
            options[key] = value
    try:  # the PUBLISH it will become must be valid now, not fail when the session is gone
        Publish(request_id=1, options=options, topic=topic, args=args, kwargs=kwargs)
    except LocalProtocolError as exc:
        raise TestamentError(f"the testament is no valid publication: {exc}") from None
    return Testament(topic=topic, args=args, kwargs=kwargs, options=options, scope=scope)
