"""Client-side helpers for meta events whose shape differs between routers (wamp-spec.md §4.25).

``wamp.session.on_leave`` is ``[session, authid, authrole]`` in the spec (and in wampcore's
router) but ``[session]`` in Crossbar.io (docs/crossbar-meta.md): clients accept both.
"""

from __future__ import annotations

from typing import Any

import pytest

from wampcore.client import parse_on_leave
from wampcore.errors import LocalProtocolError


def test_on_leave_spec_shape_wamp_spec_4_25() -> None:
    assert parse_on_leave([12, "alice", "user"]) == (12, "alice", "user")


def test_on_leave_crossbar_shape_wamp_spec_4_25() -> None:
    assert parse_on_leave([12]) == (12, None, None)
    assert parse_on_leave((12,)) == (12, None, None)


@pytest.mark.parametrize(
    "bad",
    [None, [], ["12"], [True], [0], [12, 5], [12, "a", 7], [12, "a", "b", "c"], [1.5]],
)
def test_on_leave_junk_is_refused_wamp_spec_4_25(bad: Any) -> None:
    with pytest.raises(LocalProtocolError):
        parse_on_leave(bad)
