"""The protocol-free message model: what a message is, whichever codec
carried it, and the values it carries.

Both wire protocols translate to and from this one model, as deepstream's
own server does (its text endpoint turns frames into the same message
objects its binary endpoint decodes): text_codec.py speaks the legacy text
protocol (`E|EVT|name|N21.5+`), binary_codec.py the protobuf one. The
handlers (event.py, rpc.py, record.py, presence.py, handshake.py) see only
this model.

A message is a topic, an action and the fields it carries. Topics and
actions are the numbers of the binary protocol (the server's model). Every
module names the ones it uses as private `const()`s, `_<TOPIC>_<ACTION>`:
MicroPython folds those into the bytecode, so they cost a board no heap;
host_tests/unit/test_model.py checks each module's against the table here.
"""
from .compat import const, json_dumps

# ---- topics ------------------------------------------------------------------
_PARSER = const(1)
_CONNECTION = const(2)
_AUTH = const(3)
_EVENT = const(4)
_RECORD = const(5)
_RPC = const(6)
_PRESENCE = const(7)

# ---- actions, by topic (errors are the numbers >= 100) ------------------------
_CONNECTION_ERROR = const(1)
_CONNECTION_PING = const(2)
_CONNECTION_PONG = const(3)
_CONNECTION_ACCEPT = const(4)
_CONNECTION_CHALLENGE = const(5)
_CONNECTION_REJECT = const(6)
_CONNECTION_REDIRECT = const(7)
_CONNECTION_AUTHENTICATION_TIMEOUT = const(100)
_CONNECTION_INVALID_MESSAGE = const(101)

_AUTH_ERROR = const(1)
_AUTH_REQUEST = const(2)
_AUTH_AUTH_SUCCESSFUL = const(3)
_AUTH_AUTH_UNSUCCESSFUL = const(4)
_AUTH_TOO_MANY_AUTH_ATTEMPTS = const(100)
_AUTH_INVALID_MESSAGE = const(101)
_AUTH_INVALID_MESSAGE_DATA = const(102)

_EVENT_ERROR = const(1)
_EVENT_EMIT = const(2)
_EVENT_SUBSCRIBE = const(3)
_EVENT_UNSUBSCRIBE = const(4)
_EVENT_LISTEN = const(5)
_EVENT_UNLISTEN = const(6)
_EVENT_LISTEN_ACCEPT = const(7)
_EVENT_LISTEN_REJECT = const(8)
_EVENT_SUBSCRIPTION_FOR_PATTERN_FOUND = const(11)
_EVENT_SUBSCRIPTION_FOR_PATTERN_REMOVED = const(12)
_EVENT_NOT_SUBSCRIBED = const(107)

_RECORD_ERROR = const(1)
_RECORD_NOTIFY = const(2)
_RECORD_READ = const(3)
_RECORD_READ_RESPONSE = const(4)
_RECORD_HEAD = const(5)
_RECORD_HEAD_RESPONSE = const(6)
_RECORD_HEAD_RESPONSE_BULK = const(8)
_RECORD_DELETE = const(9)
_RECORD_DELETE_SUCCESS = const(10)
_RECORD_DELETED = const(13)
_RECORD_WRITE_ACKNOWLEDGEMENT = const(14)
_RECORD_CREATEANDUPDATE = const(16)
_RECORD_CREATEANDPATCH = const(17)
_RECORD_UPDATE = const(18)
_RECORD_PATCH = const(19)
_RECORD_ERASE = const(20)
_RECORD_SUBSCRIBEANDHEAD = const(21)
_RECORD_SUBSCRIBECREATEANDREAD = const(23)
_RECORD_UNSUBSCRIBE = const(26)
_RECORD_LISTEN = const(27)
_RECORD_UNLISTEN = const(28)
_RECORD_LISTEN_ACCEPT = const(29)
_RECORD_LISTEN_REJECT = const(30)
_RECORD_SUBSCRIPTION_HAS_PROVIDER = const(31)
_RECORD_SUBSCRIPTION_HAS_NO_PROVIDER = const(32)
_RECORD_SUBSCRIPTION_FOR_PATTERN_FOUND = const(33)
_RECORD_SUBSCRIPTION_FOR_PATTERN_REMOVED = const(34)
_RECORD_PATCH_MULTI = const(35)  # servers >= 10.1 only
_RECORD_VERSION_EXISTS = const(102)
_RECORD_RECORD_NOT_FOUND = const(107)
_RECORD_INVALID_VERSION = const(108)
_RECORD_MESSAGE_DENIED = const(115)
_RECORD_NOT_SUBSCRIBED = const(118)

_RPC_ERROR = const(1)
_RPC_REQUEST = const(2)
_RPC_ACCEPT = const(4)
_RPC_RESPONSE = const(5)
_RPC_REJECT = const(6)
_RPC_REQUEST_ERROR = const(7)
_RPC_PROVIDE = const(8)
_RPC_UNPROVIDE = const(9)
_RPC_NO_RPC_PROVIDER = const(100)
_RPC_ACCEPT_TIMEOUT = const(101)
_RPC_MULTIPLE_ACCEPT = const(102)
_RPC_INVALID_RPC_CORRELATION_ID = const(103)
_RPC_RESPONSE_TIMEOUT = const(104)
_RPC_MULTIPLE_RESPONSE = const(105)
_RPC_MESSAGE_PERMISSION_ERROR = const(106)
_RPC_MESSAGE_DENIED = const(107)
_RPC_NOT_PROVIDED = const(110)

_PRESENCE_ERROR = const(1)
_PRESENCE_QUERY_ALL = const(2)
_PRESENCE_QUERY_ALL_RESPONSE = const(3)
_PRESENCE_QUERY = const(4)
_PRESENCE_QUERY_RESPONSE = const(5)
_PRESENCE_PRESENCE_JOIN = const(6)
_PRESENCE_PRESENCE_JOIN_ALL = const(7)
_PRESENCE_PRESENCE_LEAVE = const(8)
_PRESENCE_PRESENCE_LEAVE_ALL = const(9)
_PRESENCE_SUBSCRIBE = const(10)
_PRESENCE_UNSUBSCRIBE = const(11)
_PRESENCE_SUBSCRIBE_ALL = const(12)
_PRESENCE_UNSUBSCRIBE_ALL = const(13)

_PARSER_UNKNOWN_TOPIC = const(1)

# The messages a reconnect makes again from the handlers' state, as topic * 256
# + action: EVENT (un)subscribe and (un)listen, RPC (un)provide, RECORD
# read-and-subscribe, unsubscribe, subscribe-and-head and (un)listen, PRESENCE
# (un)subscribe (one user's and everyone's). Copies queued during an outage
# are dropped then (offline.py), so nothing is subscribed twice.
RESTORED = (0x403, 0x404, 0x405, 0x406, 0x608, 0x609, 0x517, 0x51A, 0x515, 0x51B, 0x51C,
            0x70A, 0x70B, 0x70C, 0x70D)

# The letter each topic is reported under in error events (`topic` of
# `error(message, event, topic)`): the text protocol's, on both protocols.
TOPIC_LETTERS = "?XCAERPU"  # index = topic number; X: the parser (a message nobody could read)

# type tuples made once: written inline, isinstance(x, (a, b)) builds a
# tuple on every call on MicroPython (32 bytes of garbage each time)
CONTAINERS = (dict, list, tuple)
SEQUENCES = (list, tuple)
NUMBERS = (int, float)
DOCUMENTS = (dict, list)


class ParseError(Exception):
    """A malformed message or value; str(err) says what was wrong."""


class _Undefined:
    """JavaScript's `undefined`: absent, unlike None (null). As message data:
    no data at all (an event emitted without data, a record path erased)."""

    def __repr__(self):
        return "UNDEFINED"

    def __bool__(self):
        return False


UNDEFINED = _Undefined()


class Message:
    """One incoming message that is not read in place (the hot paths, an
    event or a reply to our RPC call, never become one). Class attributes
    are the defaults: an instance holds only the fields its message has
    (MicroPython has no __slots__, an instance's dict grows per field).

    data is the decoded value (UNDEFINED: none). A value that did not
    decode is kept as the text `bad` says, and data is UNDEFINED: the
    handler decides (an RPC request is answered with an error, a record
    update is dropped)."""

    name = None  # the one name the message is about
    names = None  # a list of names (bulk subscriptions, acks of them, query answers)
    data = UNDEFINED
    bad = None  # why data did not decode, or None
    cid = None  # correlation id
    version = None  # record version (int)
    path = None  # record path
    subscription = None  # the name a listen match is about (name: the pattern)
    versions = None  # {name: version} of HEAD_RESPONSE_BULK; a text write ack: [version, ...]
    original = None  # the action an error refers to
    code = None  # an error's name as the text protocol sent it (binary: from codes.py)
    text = None  # a human-readable error text from the server
    url = None  # REDIRECT target
    is_ack = False
    is_write_ack = False
    raw = None  # the message as it came (text protocol), for error texts

    def __init__(self, topic, action):
        self.topic = topic
        self.action = action

    def error_name(self):
        """The error event name of this message: the text protocol's code
        (which both protocols report), e.g. MESSAGE_DENIED."""
        if self.code is None:
            from .codes import name
            self.code = name(self.topic, self.action)
        return self.code

    def action_text(self):
        """The action as it came, for error texts: PNJ (text) or 6 (binary)."""
        if self.raw is not None:
            return self.raw.split("\x1f", 2)[1] if "\x1f" in self.raw else self.raw
        return str(self.action)

    def describe(self):
        """The message for an error text: as it came (text), or its fields."""
        if self.raw is not None:
            return self.raw.replace("\x1f", "|").replace("\x1e", "+")
        out = "%s %d" % (TOPIC_LETTERS[self.topic] if self.topic < 8 else "?", self.action)
        for field in ("name", "names", "cid", "version", "path", "subscription"):
            value = getattr(self, field)
            if value is not None:
                out += " %s=%s" % (field, value)
        return out


def check_name(name, what="name"):
    """Refuse names the server cannot take: non-strings, empty, or holding a
    text-protocol separator (an empty name crashes @deepstream/server 7.0.2;
    a separator would split the message on a text endpoint)."""
    if not isinstance(name, str):
        raise TypeError("%s must be a string, got %s" % (what, type(name).__name__))
    if not name:
        raise ValueError("%s must not be empty" % what)
    if "\x1e" in name or "\x1f" in name:
        raise ValueError("%s must not contain the protocol separators 0x1e/0x1f" % what)
    return name


def check_json(value):
    """Encode value to compact JSON, refusing what JSON cannot carry."""
    try:
        text = json_dumps(value)
    except (TypeError, ValueError) as err:
        raise TypeError("value is not JSON-serialisable: %s" % err)
    if "na" in text or "nf" in text or "NaN" in text:
        # json writes NaN/Infinity bare (CPython) or as nan/inf (MicroPython):
        # not JSON, and it crashes the server; only then walk the value
        if _has_non_finite(value):
            raise ValueError("NaN and Infinity cannot be sent as JSON")
    return text


def _has_non_finite(value):
    if isinstance(value, float):
        return value != value or value in (float("inf"), float("-inf"))
    if isinstance(value, dict):
        for v in value.values():
            if _has_non_finite(v):
                return True
    elif isinstance(value, SEQUENCES):
        for v in value:
            if _has_non_finite(v):
                return True
    return False
