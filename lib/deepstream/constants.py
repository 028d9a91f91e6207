"""The connection state names (the reference client's), shared by the core
and the drivers, and our own error event names that several modules raise.

Kept deliberately short: every module global costs heap on a board.
Protocol constants live with their codec (text_codec.py, binary_codec.py)
and, as numbers of the message model, in message.py; the error event names
are in errors.py and docs/PROTOCOL.md.
"""

# connection states (value = name, as in the reference client)
CLOSED = "CLOSED"
AWAITING_CONNECTION = "AWAITING_CONNECTION"
CHALLENGING = "CHALLENGING"
AWAITING_AUTHENTICATION = "AWAITING_AUTHENTICATION"
AUTHENTICATING = "AUTHENTICATING"
OPEN = "OPEN"
ERROR = "ERROR"
RECONNECTING = "RECONNECTING"

# error events of our own (the reference client's names are used as literals)
MESSAGE_TOO_LARGE = "MESSAGE_TOO_LARGE"
