"""The text protocol beyond what an events-only device uses, loaded on first
use (text_codec.more()): every message that text_codec neither reads in
place nor translates itself, translated into the model (message.Message)
the way deepstream's server translates its text endpoint into the objects
its binary endpoint decodes; building records', RPCs' and presence's
messages; reading the replies to our RPC calls in place; looking into the
send queue.

    E|A|S|news      -> EVENT SUBSCRIBE, is_ack, names ["news"]
    R|P|rec|5|a.b|N1 -> RECORD PATCH, name rec, version 5, path a.b, data 1
    P|E|NO_RPC_PROVIDER|name|cid -> RPC NO_RPC_PROVIDER, name, cid

Errors (`T|E|CODE|...`) keep CODE as `code`, which is what the user's error
event is named; the ones a handler acts on get their number (_ERRORS), the
others the topic's generic ERROR.
"""
from .compat import const, json_loads
from .message import UNDEFINED, Message, ParseError
from .compat import json_dumps
from .message import check_json
from .text_codec import BASIC, LETTERS, MS, PS, build, parse_typed, typed, value_at

_CONNECTION = const(2)
_AUTH = const(3)
_EVENT = const(4)
_RECORD = const(5)
_RPC = const(6)
_PRESENCE = const(7)
_PARSER = const(1)
_RECORD_CREATEANDUPDATE = const(16)
_RECORD_CREATEANDPATCH = const(17)
_RECORD_UPDATE = const(18)
_RECORD_ERASE = const(20)
_RPC_REQUEST = const(2)
_RPC_ACCEPT = const(4)
_RPC_RESPONSE = const(5)
_RPC_REQUEST_ERROR = const(7)
_PRESENCE_SUBSCRIBE = const(10)


# the text action code of each model action, per topic (index: action number;
# "" none); text_codec.BASIC is the first rows
OUT = BASIC + (
    ("", "E", "", "SN", "R", "HD", "HD", "", "", "D", "", "", "", "", "WA", "", "CU", "CU", "U", "P", "P",
     "", "", "CR", "", "S", "US", "L", "UL", "LA", "LR", "SH", "SH", "SP", "SR"),
    ("", "E", "REQ", "", "A", "RES", "REJ", "E", "S", "US"),
    ("", "E", "Q", "Q", "Q", "Q", "PNJ", "", "PNL", "", "S", "US", "S", "US"),
)
WRITE_ACK = '{"writeSuccess":true}'  # 7.0.2 compares these exact bytes
NO_ACK = "{}"


def action_number(topic, code):
    """The model action a text action code stands for on `topic` (0: none)."""
    actions = OUT[topic]
    for i in range(len(actions)):
        if actions[i] == code:
            return i
    return 0


def _version(text):
    """An integer version from the wire, or None."""
    if text and (text.isdigit() or (text[0] == "-" and text[1:].isdigit())):
        return int(text)
    return None


def _typed_into(m, field):
    try:
        m.data = parse_typed(field)
    except ParseError as err:
        m.bad = str(err)


def _json_into(m, field):
    try:
        m.data = json_loads(field)
    except ValueError as err:
        m.bad = "%s: %s(%s)" % (type(err).__name__, err, field[:40])


# the error codes a handler acts on, by topic: (topic, code, action number)
_ERRORS = (
    (_EVENT, "NOT_SUBSCRIBED", 107), (_EVENT, "MESSAGE_DENIED", 104),
    (_RECORD, "VERSION_EXISTS", 102), (_RECORD, "RECORD_NOT_FOUND", 107), (_RECORD, "INVALID_VERSION", 108),
    (_RECORD, "MESSAGE_DENIED", 115), (_RECORD, "NOT_SUBSCRIBED", 118),
    (_RPC, "NO_RPC_PROVIDER", 100), (_RPC, "ACCEPT_TIMEOUT", 101), (_RPC, "MULTIPLE_ACCEPT", 102),
    (_RPC, "INVALID_RPC_CORRELATION_ID", 103), (_RPC, "RESPONSE_TIMEOUT", 104), (_RPC, "MULTIPLE_RESPONSE", 105),
    (_RPC, "MESSAGE_PERMISSION_ERROR", 106), (_RPC, "MESSAGE_DENIED", 107), (_RPC, "INVALID_MESSAGE_DATA", 108),
    (_AUTH, "TOO_MANY_AUTH_ATTEMPTS", 100), (_PRESENCE, "MESSAGE_DENIED", 102),
)


def _error_number(topic, code):
    """The action of error `code` on `topic` (1, the topic's generic ERROR,
    for one no handler tells apart: its code still names the error event)."""
    for t, name, number in _ERRORS:
        if t == topic and name == code:
            return number
    return 1


def into(topic, code, data):
    """The Message for text message TOPIC|code|data... (topic as a number)."""
    if code == "E":
        return _error(topic, data)
    if code == "A" and topic != _CONNECTION and topic != _AUTH:
        return _ack(topic, data)
    if topic == _RECORD:
        return _record(code, data)
    if topic == _RPC:
        return _rpc(code, data)
    if topic == _PRESENCE:
        return _presence(code, data)
    if code == "SP" or code == "SR":  # EVENT: listen matches
        m = Message(topic, 11 if code == "SP" else 12)
        _match(m, data)
        return m
    m = Message(topic, action_number(topic, code))
    if code == "RED":
        if data and data[0]:
            m.url = data[0]
        else:
            m.bad = "redirect without a url"
    elif topic == _EVENT and code == "SH":
        m.action = 9  # SUBSCRIPTION_HAS_PROVIDER: not for event subscribers, ignored
    if data:
        m.name = data[0]
    m.code = code if m.action == 0 else None
    return m


def _match(m, data):
    """SP/SR|pattern|name: a subscription that matches a listen pattern."""
    m.name = data[0] if data else None
    m.subscription = data[1] if len(data) > 1 else ""


def _ack(topic, data):
    """T|A|<action>|name...: the server acknowledges one of our messages."""
    if topic == _RPC and data and data[0] == "REQ":  # P|A|REQ|name|cid: a provider accepted our call
        m = Message(_RPC, 4)
        m.name = data[1] if len(data) > 1 else None
        m.cid = data[2] if len(data) > 2 and data[2] else None
        return m
    code = data[0] if data else ""
    if topic == _RECORD and code == "S":
        action = 23  # SUBSCRIBECREATEANDREAD
    elif topic == _RECORD and code == "D":
        action = 10  # DELETE_SUCCESS (7.0.2 sends R|A|D to every holder)
    elif topic == _PRESENCE and len(data) > 1 and data[1] == code:
        action = 12 if code == "S" else 13  # U|A|S|S: everyone's
    else:
        action = action_number(topic, code)
        if topic == _PRESENCE:
            action = 10 if code == "S" else 11
    m = Message(topic, action)
    m.is_ack = True
    m.code = code
    if len(data) > 1:
        if topic == _PRESENCE:
            m.cid = data[1]
        else:
            m.name = data[1]
            m.names = (data[1],)
    return m


def _error(topic, data):
    """T|E|CODE|name|...: an error about one of our messages."""
    code = data[0] if data else ""
    m = Message(topic, _error_number(topic, code) if topic != _PARSER else 6)
    m.code = code
    m.text = data[1] if len(data) > 1 else code
    if len(data) > 1:
        m.name = data[1]
    if code == "MESSAGE_DENIED" and len(data) > 2:  # T|E|MESSAGE_DENIED|name|<the refused action>
        m.original = action_number(topic, data[2])
    if topic == _CONNECTION:
        if code == "CONNECTION_AUTHENTICATION_TIMEOUT":
            m.action = 100
        m.name = None
    elif topic == _AUTH:
        if code == "INVALID_AUTH_DATA":
            m.action = 4  # AUTH_UNSUCCESSFUL
        elif code == "INVALID_AUTH_MSG":
            m.action = 102  # INVALID_MESSAGE_DATA
        m.name = None
        if len(data) > 1:
            _typed_into(m, data[1])
    elif topic == _RECORD:
        _record_error(m, code, data)
    elif topic == _RPC:
        _rpc_error(m, code, data)
    return m


def _record_error(m, code, data):
    if code == "VERSION_EXISTS":  # R|E|VERSION_EXISTS|name|v|<json>[|config]
        m.version = _version(data[2]) if len(data) > 3 else None
        if m.version is None:
            m.bad = "bad VERSION_EXISTS message for '%s'" % (m.name or "")
        else:
            _json_into(m, data[3])
        m.is_write_ack = len(data) > 4 and data[4] == '{"writeSuccess":true}'
    elif code in ("SN", "HD", "H") and len(data) > 2:  # v3: R|E|SN|name|RECORD_NOT_FOUND
        m.code = data[2]
        m.action = _error_number(_RECORD, data[2])
        m.original = 3 if code == "SN" else 5  # READ, HEAD
    elif code == "MESSAGE_DENIED" and len(data) > 2:  # R|E|MESSAGE_DENIED|name|<refused action>[|version]
        m.original = action_number(_RECORD, data[2])
        if data[2] == "S" or data[2] == "R":
            m.original = 23  # SUBSCRIBECREATEANDREAD: a read of ours refused
        if len(data) > 3 and _version(data[3]) is not None:
            # 7.0.2 adds a refused write's version: its write-ack callback, if it has one, gets the error
            m.cid = data[3]
            m.is_write_ack = True
    elif code == "RECORD_NOT_FOUND":
        m.original = 3  # 7.0.2's answer to R|SN of a missing record


_SERVER_CODES = ("NO_RPC_PROVIDER", "ACCEPT_TIMEOUT", "ACK_TIMEOUT", "RESPONSE_TIMEOUT",
                 "MESSAGE_DENIED", "MESSAGE_PERMISSION_ERROR", "INVALID_MESSAGE_DATA",
                 "MULTIPLE_ACCEPT", "MULTIPLE_RESPONSE", "INVALID_RPC_CORRELATION_ID")


def _rpc_error(m, code, data):
    if code == "MESSAGE_DENIED" and len(data) > 3 and data[2] == "REQ":  # P|E|MESSAGE_DENIED|name|REQ|cid
        m.cid = data[3]
        m.original = 2
    elif len(data) >= 3 and code not in ("MESSAGE_DENIED", "MESSAGE_PERMISSION_ERROR"):
        m.cid = data[2]  # P|E|CODE|name|cid
        if code == "ACK_TIMEOUT":  # a v3 server's name for it
            m.action = 101
        elif code not in _SERVER_CODES:
            # a provider's error text: 7.0.2 forwards it as a typed string (`Soops`)
            m.action = 7  # REQUEST_ERROR
            m.code = None
            m.data = code[1:] if code[:1] == "S" else code
    elif code == "NOT_SUBSCRIBED":
        m.action = 110  # NOT_PROVIDED: an unprovide of a name we did not provide


def _record(code, data):
    m = Message(_RECORD, action_number(_RECORD, code))
    m.name = data[0] if data else ""
    if code == "R" or code == "U" or code == "P":
        m.version = _version(data[1]) if len(data) >= (4 if code == "P" else 3) else None
        if m.version is None:
            m.bad = "invalid version or missing field in R|%s for record '%s'" % (code, m.name)
        elif code == "P":
            m.path = data[2]
            _typed_into(m, data[3])
        else:
            _json_into(m, data[2])
    elif code == "WA":  # R|WA|name|[versions]|typed error
        try:
            m.versions = json_loads(data[1])
            if len(data) > 2:
                m.data = parse_typed(data[2])
            if not isinstance(m.versions, list):
                raise ValueError("version list expected")
        except (ValueError, ParseError, IndexError) as err:
            m.bad = "bad write acknowledgement for '%s': %s" % (m.name, err)
    elif code == "SH":  # R|SH|name|T/F
        m.action = 31 if len(data) > 1 and data[1] == "T" else 32
    elif code == "HD":  # 7.0.2: R|HD|name|v|null; missing: v -1
        m.action = 6  # HEAD_RESPONSE
        m.version = _version(data[1]) if len(data) > 1 else None
        if m.version is None:
            m.bad = "bad version in R|HD for '%s'" % m.name
    elif code == "H":  # v3: R|H|name|T/F, a has() answer without a version
        m.action = 6
        m.data = len(data) > 1 and data[1] == "T"
    elif code == "SP" or code == "SR":
        m.action = 33 if code == "SP" else 34
        _match(m, data)
    if m.action == 0:
        m.code = code
    return m


def _rpc(code, data):
    m = Message(_RPC, action_number(_RPC, code))
    m.name = data[0] if data else None
    m.cid = data[1] if len(data) > 1 and data[1] else None
    if len(data) > 2 and data[2] and (code == "REQ" or code == "RES"):
        _typed_into(m, data[2])
        if m.data is UNDEFINED:
            m.data = None
    if m.action == 0:
        m.code = code
    return m


def _presence(code, data):
    if code == "Q":
        if len(data) == 2 and data[1][:1] == "{":  # U|Q|<id>|{"a":true}: a query for users
            m = Message(_PRESENCE, 5)  # QUERY_RESPONSE
            m.cid = data[0]
            _json_into(m, data[1])
            if m.bad is not None or not isinstance(m.data, dict):
                m.bad = data[1][:60]  # not a JSON object: shown as it came
            return m
        m = Message(_PRESENCE, 3)  # QUERY_ALL_RESPONSE: U|Q|alice|bob, U|Q (nobody)
        m.names = data
        if len(data) == 2:
            m.cid = data[0]  # or a broken answer to query <id>: the handler can tell
        return m
    m = Message(_PRESENCE, action_number(_PRESENCE, code))
    if data:
        m.name = data[0]
    if m.action == 0:
        m.code = code
    return m


# ---- encoding what text_codec.encode() leaves to us -------------------------------------

def encode(topic, action, name, data, cid, names, path, version, write_ack, sub):
    code = OUT[topic][action]
    letter = LETTERS[topic]
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
        return _rpc_answer(code, action, name, cid, data).encode()
    if sub is not None:
        return build(letter, code, name, sub).encode()  # listen accept/reject
    return build(letter, code, name).encode()


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


def _rpc_answer(code, action, name, cid, data):
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


# ---- replies to our RPC calls, read in place (text_codec.receive) -----------------------

_RES = "P\x1fRES\x1f"
_ACCEPT = "P\x1fA\x1fREQ\x1f"


def reply(calls, frame, start, end):
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


# ---- looking into the send queue (offline.py) -------------------------------------

def kind(msg):
    """(topic, action) of an encoded message (bytes), for the queue's
    filters; (0, 0) for one it cannot tell."""
    i = msg.find(b"\x1f")
    j = msg.find(b"\x1f", i + 1)
    if i != 1:
        return 0, 0
    if j < 0:
        j = msg.find(b"\x1e")
    topic = LETTERS.find(chr(msg[0]), 2)
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


# ---- the rest of the codec's interface (text_codec.__getattr__) -------------------------

def patch(conn, rec, path, data):
    """R|P of record rec at its next version, without a write ack: the update
    a device sends most."""
    conn.push(_patch(rec, path, typed(data)), _RECORD)


def _patch(rec, path, payload):
    return ("R\x1fP\x1f%s\x1f%d\x1f%s\x1f%s\x1e" % (rec.name, rec.version + 1, path, payload)).encode()


def request(conn, name, cid, data):
    """P|REQ|name|cid|typed: an RPC call of ours. Returns cid_key(cid)."""
    conn.push(("P\x1fREQ\x1f%s\x1f%s\x1f%s\x1e" % (name, cid, typed(data))).encode(), _RPC)
    return cid


def cid_key(cid):
    """A correlation id as receive() compares it in place (a text frame is a str)."""
    return cid


def check(value):
    """Raise TypeError/ValueError for a value a typed field cannot carry."""
    typed(value)


def matches(msg, topic, action, key):
    """Whether encoded message msg is (topic, action) about key (its name or
    its id; None: any)."""
    return kind(msg) == (topic, action) and (key is None or key_of(msg) == key)
