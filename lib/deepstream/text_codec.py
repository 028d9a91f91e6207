"""The text protocol codec ("v3": `ws-text`, `/deepstream-v3`): frames to
messages of the model (message.py) and back.

Wire: TOPIC 0x1f ACTION (0x1f FIELD)* 0x1e, several messages to a websocket
text frame. Values are typed fields (S, N, T, F, L, U, O): typed() and
parse_typed(). docs/PROTOCOL.md has the message table.

Where a frame becomes a message: receive(). The hot paths (an event, the
accept and response of our RPC call, a ping) are read in place from the
frame with find(); every other message is split and translated into a
Message (translate()). Where a message becomes bytes: encode(), and
emit()/patch()/request() for the messages a device sends most.

The profile below is what the text protocol does differently, apart from
encoding: the server speaks first and pings, names are acked one by one,
and 7.0.2's text parser needs a few workarounds.
"""
from .compat import const, json_dumps, json_loads
from .message import CONTAINERS, UNDEFINED, Message, ParseError, check_json

_CONNECTION = const(2)
_AUTH = const(3)
_EVENT = const(4)
_RECORD = const(5)
_RPC = const(6)
_PRESENCE = const(7)
_PARSER = const(1)

MS = "\x1e"
PS = "\x1f"

# ---- profile: what differs from the binary protocol besides encoding -----------------

NAME = "text"
CLIENT_CHALLENGES = False  # the server speaks first (C|A, or C|CH to be answered)
CLIENT_PINGS = False  # the server pings (C|PI), the client answers; a silent server is dead
BULK = False  # one name per (un)subscription message, acked by name
FALSY_PATH_SET = False  # 7.0.2 refuses a path set of 0, false or "": sent as a whole update
REJECT_FALSY_CRASHES = True  # 7.0.2 dies rerouting a rejected request whose data is falsy
RESTORE_BY_HEAD = False  # held records are read again after a reconnect (R|CR)
PRESENCE_KINDS = False  # U|PNJ does not say which subscription (everyone, a user) it is for
NOTIFY = False  # no R|NOTIFY in the text protocol
PING = b"C\x1fPI\x1e"
PONG = b"C\x1fPO\x1e"

# the topic letters of the wire (index: topic number)
LETTERS = "XXCAERPU"


# the text action code of each model action (index: action number; "" none),
# for the topics an events-only device uses; text_more.OUT has them all
BASIC = (
    None,
    ("", "", "", "", "", "", "E"),
    ("", "E", "PI", "PO", "A", "CHR", "REJ", "RED"),
    ("", "E", "REQ"),
    ("", "E", "EVT", "S", "US", "L", "UL", "LA", "LR", "SH"),
)


# ---- typed values ---------------------------------------------------------------------

_INF = float("inf")


def number_text(value):
    if isinstance(value, int):  # the common case: no float work (boxed floats allocate)
        return str(value)
    if value != value:
        return "NaN"
    if value == _INF or value == -_INF:
        return "Infinity" if value > 0 else "-Infinity"
    if isinstance(value, float) and value == int(value) and abs(value) < 1e16:
        return str(int(value))  # JS writes 3.0 as 3
    return repr(value)


def typed(value):
    """Encode a value as a typed field (S, N, T, F, L, U, O)."""
    if isinstance(value, str):
        return "S" + value
    if isinstance(value, CONTAINERS):
        return "O" + check_json(value)
    if value is None:
        return "L"
    if value is True:
        return "T"
    if value is False:
        return "F"
    if isinstance(value, int):  # bools are caught above
        return "N%d" % value  # one string, not two
    if isinstance(value, float):
        return "N" + number_text(value)
    if value is UNDEFINED:
        return "U"
    raise TypeError("can't serialize type %s" % type(value).__name__)


def parse_number(text):
    try:
        if text in ("NaN", "Infinity", "-Infinity"):
            return float(text.replace("Infinity", "inf"))
        for ch in ".eE":
            if ch in text:
                return float(text)
        return int(text)
    except ValueError:
        raise ParseError("invalid number (N%s)" % text)


def _json(field, i, end):
    try:
        return json_loads(field[i + 1:end])
    except ValueError as err:
        raise ParseError("%s: %s(%s)" % (type(err).__name__, err, field[i:end]))


def parse_typed(field, i=0, end=None):
    """Decode the typed field field[i:end] (default: all of it) without
    slicing more than the value needs. Raises ParseError with the
    reference texts."""
    if end is None:
        end = len(field)
    if i >= end:
        raise ParseError("UNKNOWN_TYPE ()")
    if field.startswith("S", i):
        return field[i + 1:end]
    if field.startswith("O", i):
        return _json(field, i, end)
    if field.startswith("N", i):
        return parse_number(field[i + 1:end])
    if end - i == 1:
        if field.startswith("T", i):
            return True
        if field.startswith("F", i):
            return False
        if field.startswith("L", i):
            return None
        if field.startswith("U", i):
            return UNDEFINED
    raise ParseError("UNKNOWN_TYPE (%s)" % field[i:end])


def value_at(frame, start, end):
    """The typed value in frame[start:end] as a callback gets it: None for no
    value or U; a field after it is ignored. Raises ParseError."""
    if start >= end:
        return None
    i = frame.find(PS, start, end)
    value = parse_typed(frame, start, end if i < 0 else i)
    return None if value is UNDEFINED else value


def split(msg):
    """Split one message into (topic, action, data list).

    Raises ParseError with the reference client's text when it has fewer
    than two parts.
    """
    i = msg.find(PS)
    if i < 0:
        raise ParseError("Insufficiant message parts")
    j = msg.find(PS, i + 1)
    if j < 0:
        return msg[:i], msg[i + 1:], []
    return msg[:i], msg[i + 1:j], msg[j + 1:].split(PS)



def build(topic, action, *fields):
    """One message, with its trailing separator, as text.

    One join and one concatenation: chaining `+` made an intermediate
    string per part (measured 3x slower on MicroPython, tools/bench.py)."""
    return PS.join((topic, action) + fields) + MS


# ---- encoding: the model to bytes -------------------------------------------------------

def emit(conn, name, data):
    """E|EVT|name|typed: one format is the quickest way to the message
    (tools/bench.py). Data it cannot carry raises before anything is sent."""
    conn.push(("E\x1fEVT\x1f%s\x1f%s\x1e" % (name, typed(data))).encode(), _EVENT, True)


def attach(conn):
    """The codec's state on a new connection: the text protocol keeps none."""


def bulk(conn, topic, action, name):
    """An (un)subscription of one name: one message each, at once (the text
    protocol acks names one by one)."""
    conn.send(topic, action, name=name)


def encode(topic, action, name=None, data=UNDEFINED, cid=None, names=None, path=None, version=None,
           write_ack=False, sub=None):
    """Any message of the model, as bytes (one text message per name of a
    bulk (un)subscription: the text protocol acks names one by one). What
    an events-only device sends is built here, the rest by text_more.py."""
    if topic > _EVENT or sub is not None:
        return more().encode(topic, action, name, data, cid, names, path, version, write_ack, sub)
    code = BASIC[topic][action]
    letter = LETTERS[topic]
    if names is not None:
        return "".join([build(letter, code, n) for n in names]).encode()
    if topic == _AUTH:
        return build(letter, code, json_dumps(data)).encode()  # raw JSON: auth data is never typed
    if name is not None:
        return build(letter, code, name).encode()  # C|CHR|<url>, E|L|pattern, ...
    return build(letter, code).encode()


# ---- framing ----------------------------------------------------------------------------------

def seal(buf, start, n):
    """Frame the payload buf[start:start + n] (all messages in one text
    frame) in place; returns where the frame starts. That is ws.seal_frame
    (a text frame unless told): ws is the drivers' (a FakeLink never
    seals), imported by the first call, which leaves seal_frame in this
    function's place. Every later frame is one call, no import. (Imported
    at the top, as binary_codec does, ws cost the FakeLink-only runs, the
    core flood at 76K and the fuzzers, more heap than they have.)"""
    global seal
    from .ws import seal_frame
    seal = seal_frame
    return seal_frame(buf, start, n)


def unseal(buf, start, n):
    """Undo seal()'s masking: the payload is intact again."""
    from .ws import mask_in_place
    mask_in_place(buf, start, n)


def message_end(buf, i, end):
    """Where the encoded message starting at buf[i] ends (after its 0x1e)."""
    return buf.find(b"\x1e", i, end) + 1 or end


def restorable(buf, start, end):
    """Whether the messages in buf[start:end] hold one a reconnect makes again
    (message.RESTORED: an (un)subscription, a listen, a record read), by its
    action code; a match inside data only takes the longer way. No queue
    code is loaded for this (connection._on_open)."""
    for mark in (b"\x1fS\x1f", b"\x1fUS\x1f", b"\x1fL\x1f", b"\x1fUL\x1f", b"\x1fCR\x1f"):
        if buf.find(mark, start, end) >= 0:
            return True
    return False


def count(buf, start, end):
    """How many messages buf[start:end] holds (for drop counts)."""
    return buf.count(b"\x1e", start, end)


# ---- decoding: frames to the model ----------------------------------------------------

EVT = "E\x1fEVT\x1f"


def receive(conn, frame):
    """One websocket text frame: each message in it in turn.

    Messages are found with find() and never sliced out as a whole when
    they can be read in place (events, the accept and response of our RPC
    calls: the hot paths). Pieces shorter than 3 characters are dropped, as
    the reference client and the server do (this also drops the empty
    tail); a frame ending without 0x1e is taken as complete
    (docs/PROTOCOL.md)."""
    start = 0
    size = len(frame)
    client = conn.client
    while start < size:
        end = frame.find(MS, start)
        if end < 0:
            end = size
        if end - start > 2:
            try:
                if frame.startswith(EVT, start):
                    _event(client, frame, start + 6, end)
                elif frame.startswith("P", start) and conn.rpc_in is not None and (_more or more()).reply(
                        conn.rpc_in, frame, start, end):
                    pass  # a reply to one of our calls, read in place (text_more.py: loaded with RPCs)
                else:
                    conn.dispatch(translate(frame[start:end]))
            except MemoryError:
                client._error("out of memory handling a message (dropped)", "MESSAGE_PARSE_ERROR", "X")
            except ParseError as err:  # the data of an event: reported here, not in a try of its own
                client._error(str(err), "MESSAGE_PARSE_ERROR", "X")
            except Exception as err:  # a user callback or a bug: never kill the client
                client._error("%s: %s" % (type(err).__name__, err), "CALLBACK_ERROR", frame[start])
        start = end + 1


def _event(client, frame, i, end):
    """E|EVT|name|data read in place: frame[i:end] is "name|data"; only the
    name and the value are sliced out. Bad data raises ParseError (the
    caller reports it)."""
    j = frame.find(PS, i, end)
    if j < 0:
        j = end
    if j == i:
        client._error("event message without a name", "MESSAGE_PARSE_ERROR", "E")
        return
    end = value_at(frame, j + 1, end)  # now the value: no new local (test_frames.py)
    # an event for a name we no longer hold is a normal race: drop it
    client.event._notify(frame[i:j], end)


# Text action codes every topic may carry (the reference client's list); a
# tuple, not a set: the set costs a board 384 bytes of heap more, and the
# codes read from a message are interned strings on MicroPython.
ACTIONS = (
    "PI", "PO", "A", "RED", "CH", "CHR", "R", "C", "U", "P", "D", "S", "US", "H",
    "HD", "SN", "I", "SP", "SR", "SH", "L", "UL", "LA", "LR", "PU", "Q", "CR", "CU",
    "EVT", "E", "REQ", "RES", "REJ", "PNJ", "PNL", "WA",
)


def translate(msg):
    """One text message (without its 0x1e) as a Message of the model.
    Raises ParseError for one that is not a message; an unknown topic is a
    Message of topic 0 (the dispatcher reports it). What an events-only
    device gets is translated here; everything else by text_more.py,
    loaded on the first such message."""
    topic, action, data = split(msg)
    if action not in ACTIONS:
        raise ParseError("Unknown action " + action)
    number = LETTERS.find(topic, 1) if len(topic) == 1 else -1
    if number < 1 or (number == _PARSER and action != "E"):
        m = Message(0, 0)
        m.code = topic
    elif number == _CONNECTION and action in ("PI", "PO", "A", "CH"):
        m = Message(_CONNECTION, ("", "", "PI", "PO", "A", "CH").index(action))
    elif number == _AUTH and action == "A":  # A|A[|typed client data]: logged in
        m = Message(_AUTH, 3)
        if data:
            try:
                m.data = parse_typed(data[0])
            except ParseError as err:
                m.bad = str(err)
    elif number == _EVENT and action == "A" and len(data) == 2 and (data[0] == "S" or data[0] == "US"):
        m = Message(_EVENT, 3 if data[0] == "S" else 4)  # E|A|S|name: (un)subscription acked
        m.is_ack = True
        m.name = data[1]
        m.names = (data[1],)
    else:
        m = more().into(number, action, data)
    m.raw = msg
    return m


_more = None  # text_more.py, once something needed it


def more():
    """text_more.py: the text protocol beyond what an events-only device uses
    (records, RPCs, presence, errors, the send queue's filters), loaded on
    first use."""
    global _more
    if _more is None:
        from . import text_more
        _more = text_more
    return _more


def __getattr__(name):
    # the rest of the codec's interface (patch, request, check, kind, ...) is
    # text_more's: loaded when first asked for, then found here directly
    value = getattr(more(), name)
    globals()[name] = value
    return value
