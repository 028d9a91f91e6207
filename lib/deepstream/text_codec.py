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
from .compat import const, json_dumps
from .message import CONTAINERS, UNDEFINED, Message, check_json
from .text_decode import OUT, ParseError, action_number, into, parse_typed, split, value_at  # noqa: F401 (codec API)
from .ws import frame_in_place, mask_in_place

_CONNECTION = const(2)
_AUTH = const(3)
_EVENT = const(4)
_RECORD = const(5)
_RPC = const(6)
_PRESENCE = const(7)
_PARSER = const(1)
_CONNECTION_CHALLENGE = const(5)
_AUTH_REQUEST = const(2)
_EVENT_EMIT = const(2)
_RECORD_UPDATE = const(18)
_RECORD_PATCH = const(19)
_RECORD_ERASE = const(20)
_RECORD_CREATEANDUPDATE = const(16)
_RECORD_CREATEANDPATCH = const(17)
_RPC_REQUEST = const(2)
_RPC_ACCEPT = const(4)
_RPC_RESPONSE = const(5)
_RPC_REQUEST_ERROR = const(7)
_PRESENCE_QUERY = const(4)
_PRESENCE_SUBSCRIBE = const(10)
_PRESENCE_UNSUBSCRIBE = const(11)

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
WRITE_ACK = '{"writeSuccess":true}'  # 7.0.2 compares these exact bytes
NO_ACK = "{}"

# the topic letters of the wire (index: topic number)
_LETTERS = "XXCAERPU"


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


def patch(conn, name, version, path, data):
    """R|P without a write ack: the update a device sends most."""
    conn.push(("R\x1fP\x1f%s\x1f%d\x1f%s\x1f%s\x1e" % (name, version, path, typed(data))).encode(), _RECORD)


def request(conn, name, cid, data):
    """P|REQ|name|cid|typed: an RPC call of ours."""
    conn.push(("P\x1fREQ\x1f%s\x1f%s\x1f%s\x1e" % (name, cid, typed(data))).encode(), _RPC)


def cid_key(cid):
    """A correlation id as receive() compares it in place (a text frame is a str)."""
    return cid


def encode(topic, action, name=None, data=UNDEFINED, cid=None, names=None, path=None, version=None,
           write_ack=False, sub=None):
    """Any message of the model, as bytes (one text message per name of a
    bulk (un)subscription: the text protocol acks names one by one)."""
    code = OUT[topic][action]
    letter = _LETTERS[topic]
    if topic == _PRESENCE:
        if action >= _PRESENCE_SUBSCRIBE and cid is None:  # everyone's: U|S|S, U|US|US
            return build(letter, code, code).encode()
        if names is not None:  # U|S|<id>|["a","b"], U|Q|<id>|[...]
            return build(letter, code, cid, check_json(names)).encode()
        return build(letter, code, code).encode()  # U|Q|Q
    if names is not None:
        return "".join([build(letter, code, n) for n in names]).encode()
    if topic == _RECORD and _RECORD_CREATEANDUPDATE <= action <= _RECORD_ERASE:
        return _record_write(code, action, name, data, path, version, write_ack).encode()
    if topic == _RPC and _RPC_REQUEST <= action <= _RPC_REQUEST_ERROR:
        return _rpc(code, action, name, cid, data).encode()
    if topic == _AUTH:
        return build(letter, code, json_dumps(data)).encode()  # raw JSON: auth data is never typed
    if topic == _CONNECTION and action == _CONNECTION_CHALLENGE:
        return build(letter, code, name).encode()  # C|CHR|<url>
    if sub is not None:
        return build(letter, code, name, sub).encode()  # listen accept/reject
    if name is not None:
        return build(letter, code, name).encode()
    return build(letter, code).encode()


def _record_write(code, action, name, data, path, version, write_ack):
    config = WRITE_ACK if write_ack else None
    if action <= _RECORD_CREATEANDPATCH:
        config = config or NO_ACK  # R|CU always carries it: 7.0.2 tells the two forms apart by count
        version = -1
    if action == _RECORD_UPDATE or action == _RECORD_CREATEANDUPDATE:
        fields = (name, str(version), check_json(data))
    else:
        fields = (name, str(version), path, "U" if action == _RECORD_ERASE else typed(data))
    if config is not None:
        fields += (config,)
    return build("R", code, *fields)


def _rpc(code, action, name, cid, data):
    if action == _RPC_ACCEPT:
        return build("P", "A", "REQ", name, cid)
    if action == _RPC_REQUEST_ERROR:  # P|E|<text>|name|cid: the error is a text here
        return build("P", "E", _error_text(data), name, cid)
    if action == _RPC_REQUEST or action == _RPC_RESPONSE:
        return build("P", code, name, cid, typed(data))
    return build("P", code, name, cid)  # REJ


def _error_text(value):
    """An RPC error as the text protocol carries it: a text in one field."""
    text = value if isinstance(value, str) else json_dumps(value)
    return text.replace(MS, " ").replace(PS, " ")[:100]


# ---- framing ----------------------------------------------------------------------------------

def seal(buf, start, n):
    """Frame the payload buf[start:start + n] (all messages in one text
    frame) in place; returns where the frame starts."""
    return start + n - len(frame_in_place(buf, start, n, 1))


def unseal(buf, start, n):
    """Undo seal()'s masking: the payload is intact again."""
    mask_in_place(buf, start, n)


def message_end(buf, i, end):
    """Where the encoded message starting at buf[i] ends (after its 0x1e)."""
    return buf.find(b"\x1e", i, end) + 1 or end


def check(value):
    """Raise TypeError/ValueError for a value a typed field cannot carry."""
    typed(value)


def count(buf, start, end):
    """How many messages buf[start:end] holds (for drop counts)."""
    return buf.count(b"\x1e", start, end)


def kind(msg):
    """(topic, action) of an encoded message (bytes), for the queue's
    filters; (0, 0) for one it cannot tell."""
    i = msg.find(b"\x1f")
    j = msg.find(b"\x1f", i + 1)
    if i != 1:
        return 0, 0
    if j < 0:
        j = msg.find(b"\x1e")
    topic = _LETTERS.find(chr(msg[0]), 2)
    if topic < 0:
        return 0, 0
    code = str(msg[2:j], "utf-8")
    if topic == _PRESENCE:  # U|Q|Q, U|S|S, U|US|US: everyone's; U|Q|<id>|[...]: some users'
        everyone = msg[j + 1:j + 1 + len(code)] == msg[2:j] and msg[j + 1 + len(code)] == 0x1E
        return topic, {"Q": 2 if everyone else 4, "S": 12 if everyone else 10, "US": 13 if everyone else 11}.get(code, 0)
    return topic, action_number(topic, code)


def key_of(msg):
    """The name (or, for presence, the id) an encoded message is about."""
    parts = str(msg, "utf-8").rstrip(MS).split(PS)
    if parts[1] == "A":  # P|A|REQ|name|cid
        return parts[4] if len(parts) > 4 else ""
    if parts[0] == "P" and len(parts) > 3:
        return parts[3]  # the cid of a request
    return parts[2] if len(parts) > 2 else ""


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
                elif frame.startswith("P", start) and conn.rpc_in is not None and _reply(conn.rpc_in, frame, start, end):
                    pass  # a reply to one of our calls, read in place
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


_RES = "P\x1fRES\x1f"
_ACCEPT = "P\x1fA\x1fREQ\x1f"


def _reply(calls, frame, start, end):
    """The hot path of a caller: P|A|REQ|name|cid and P|RES|name|cid|typed
    about a pending call, read in place (no split, no field list). False for
    anything else, which translate() then parses and checks."""
    if frame.startswith(_RES, start):
        start = frame.find(PS, start + 6, end)  # name | cid
        return _response_in(calls, frame, start, end)
    if frame.startswith(_ACCEPT, start):
        start = frame.find(PS, start + 8, end)  # name | cid
        start = _cid_at(calls, frame, start + 1, end) if start >= 0 else None
        if start is None:
            return False
        calls.accepted(start)
        return True
    return False


_BAD = object()


def _response_in(calls, frame, i, end):
    # frame[i:end] is "|cid|typed"
    j = frame.find(PS, i + 1, end) if i >= 0 else -1  # cid | typed
    if j < 0 or frame.find(PS, j + 1, end) >= 0:
        return False
    i = _cid_at(calls, frame, i + 1, j)  # i, j reused (cid, value): a frame of 11 words
    if i is None:
        return False
    j = _value(frame, j + 1, end)
    if j is _BAD:
        return False  # the general path reports it and ends the call
    calls.complete(i, None, j)
    return True


def _value(frame, start, end):
    """The typed value in frame[start:end] (None for none or U), or _BAD."""
    try:
        return value_at(frame, start, end)
    except ParseError:
        return _BAD


def _cid_at(calls, frame, i, end):
    """The pending call's id that frame[i:end] holds, or None. Each new
    string costs MicroPython a search of its interned strings, so the id
    of the latest call (a device's usual one) is compared in place."""
    cid = calls.latest_key
    if end - i != len(cid) or not frame.startswith(cid, i):
        cid = frame[i:end]  # another call's reply: its id sliced out
    return cid if cid in calls.pending else None


# Text action codes every topic may carry (the reference client's list); a
# tuple, not a set: the set costs a board 384 bytes of heap more, and the
# codes read from a message are interned strings on MicroPython.
ACTIONS = (
    "PI", "PO", "A", "RED", "CH", "CHR", "R", "C", "U", "P", "D", "S", "US", "H",
    "HD", "SN", "I", "SP", "SR", "SH", "L", "UL", "LA", "LR", "PU", "Q", "CR", "CU",
    "EVT", "E", "REQ", "RES", "REJ", "PNJ", "PNL", "WA",
)


def translate(msg):
    """One text message (without its 0x1e) as a Message of the model
    (text_translate.py). Raises ParseError for one that is not a message;
    an unknown topic is a Message of topic 0 (the dispatcher reports it)."""
    topic, action, data = split(msg)
    if action not in ACTIONS:
        raise ParseError("Unknown action " + action)
    number = _LETTERS.find(topic, 1) if len(topic) == 1 else -1
    if number < 1 or (number == _PARSER and action != "E"):
        m = Message(0, 0)
        m.code = topic
    else:
        m = into(number, action, data)
    m.raw = msg
    return m
