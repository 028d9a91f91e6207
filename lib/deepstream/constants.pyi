"""The connection state names and our own error event names (constants.py)."""
from typing import Final, Literal

from typing_extensions import TypeAlias

# connection states: what get_connection_state() and "connectionStateChanged" give
CLOSED: Final = "CLOSED"
AWAITING_CONNECTION: Final = "AWAITING_CONNECTION"
CHALLENGING: Final = "CHALLENGING"
AWAITING_AUTHENTICATION: Final = "AWAITING_AUTHENTICATION"
AUTHENTICATING: Final = "AUTHENTICATING"
OPEN: Final = "OPEN"
ERROR: Final = "ERROR"
RECONNECTING: Final = "RECONNECTING"

MESSAGE_TOO_LARGE: Final = "MESSAGE_TOO_LARGE"

# stub only (no runtime name): any connection state
ConnectionState: TypeAlias = Literal[
    "CLOSED", "AWAITING_CONNECTION", "CHALLENGING", "AWAITING_AUTHENTICATION",
    "AUTHENTICATING", "OPEN", "ERROR", "RECONNECTING",
]
