"""wampcore: a sans-I/O WAMP v2 implementation (client peer, router, codecs, framings).

Public names only; each lives in the module that owns it.
"""

from .config import Limits, RealmConfig, RouterConfig
from .errors import (
    ApplicationError,
    ConfigError,
    LocalProtocolError,
    MessageTooLargeError,
    ProtocolError,
    RemoteProtocolError,
)
from .ids import RandomSource
from .messages import (
    Abort,
    Authenticate,
    Call,
    Cancel,
    Challenge,
    Error,
    Event,
    EventReceived,
    Goodbye,
    Hello,
    Interrupt,
    Invocation,
    Message,
    Publish,
    Published,
    Register,
    Registered,
    Result,
    Subscribe,
    Subscribed,
    Unregister,
    Unregistered,
    Unsubscribe,
    Unsubscribed,
    Welcome,
    Yield,
    from_wire,
)
from .router import PeerId, Router
from .serializers import (
    Serializer,
    get_serializer,
    serializer_for_rawsocket_id,
    serializer_for_subprotocol,
)
from .uri import PatternMap

__version__ = "0.1.0"

__all__ = [
    "Abort",
    "ApplicationError",
    "Authenticate",
    "Call",
    "Cancel",
    "Challenge",
    "ConfigError",
    "Error",
    "Event",
    "EventReceived",
    "Goodbye",
    "Hello",
    "Interrupt",
    "Invocation",
    "Limits",
    "LocalProtocolError",
    "Message",
    "MessageTooLargeError",
    "PatternMap",
    "PeerId",
    "ProtocolError",
    "Publish",
    "Published",
    "RandomSource",
    "RealmConfig",
    "Register",
    "Registered",
    "RemoteProtocolError",
    "Result",
    "Router",
    "RouterConfig",
    "Serializer",
    "Subscribe",
    "Subscribed",
    "Unregister",
    "Unregistered",
    "Unsubscribe",
    "Unsubscribed",
    "Welcome",
    "Yield",
    "from_wire",
    "get_serializer",
    "serializer_for_rawsocket_id",
    "serializer_for_subprotocol",
]
