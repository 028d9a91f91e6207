"""Protocol constants of the deepstream text protocol (v3, as spoken by
deepstream.io-client-js 2.3.4 and served by @deepstream/server on ws-text).

Kept deliberately short: every module global costs heap on a board. Topic
and action codes are written as literals where messages are built (they are
the protocol's own one- to three-letter names: "E", "EVT", ...); the full
tables, and the error event names, are in docs/PROTOCOL.md.
"""

MESSAGE_SEPARATOR = "\x1e"
PART_SEPARATOR = "\x1f"

T_CONNECTION = "C"
T_AUTH = "A"

# every action code the reference client accepts in an incoming message; a tuple,
# not a set: the set costs a board 384 bytes of heap more, and the codes read from
# a message are interned strings on MicroPython (compared by address)
ACTIONS = (
    "PI", "PO", "A", "RED", "CH", "CHR", "R", "C", "U", "P", "D", "S", "US", "H",
    "HD", "SN", "I", "SP", "SR", "SH", "L", "UL", "LA", "LR", "PU", "Q", "CR", "CU",
    "EVT", "E", "REQ", "RES", "REJ", "PNJ", "PNL", "WA",
)

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
