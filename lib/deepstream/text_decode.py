"""Text protocol, receiving side: typed values, and every message that is
not read in place (text_codec.receive) translated into the model
(message.Message), the way deepstream's server translates its text
endpoint into the objects its binary endpoint decodes.

    E|A|S|news      -> EVENT SUBSCRIBE, is_ack, names ["news"]
    R|P|rec|5|a.b|N1 -> RECORD PATCH, name rec, version 5, path a.b, data 1
    P|E|NO_RPC_PROVIDER|name|cid -> RPC NO_RPC_PROVIDER, name, cid

Errors (`T|E|CODE|...`) become the topic's error action (codes.py: number)
and keep CODE as `code`, which is what the user's error event is named.
"""
from .compat import const, json_loads
from .message import UNDEFINED, Message, ParseError

_CONNECTION = const(2)
_AUTH = const(3)
_EVENT = const(4)
_RECORD = const(5)
_RPC = const(6)
_PRESENCE = const(7)
_PARSER = const(1)

MS = "\x1e"
PS = "\x1f"


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


# model action of each text action code, per topic (index: action number); "" = none.
# text_codec.encode uses it the other way round.
OUT = (
    None,
    ("", "", "", "", "", "", "E"),
    ("", "E", "PI", "PO", "A", "CHR", "REJ", "RED"),
    ("", "E", "REQ"),
    ("", "E", "EVT", "S", "US", "L", "UL", "LA", "LR", "SH"),
    ("", "E", "", "SN", "R", "HD", "HD", "", "", "D", "", "", "", "", "WA", "", "CU", "CU", "U", "P", "P",
     "", "", "CR", "", "S", "US", "L", "UL", "LA", "LR", "SH", "SH", "SP", "SR"),
    ("", "E", "REQ", "", "A", "RES", "REJ", "E", "S", "US"),
    ("", "E", "Q", "Q", "Q", "Q", "PNJ", "", "PNL", "", "S", "US", "S", "US"),
)


def action_number(topic, code):
    """The model action a text action code stands for on `topic` (0: none)."""
    actions = OUT[topic]
    for i in range(len(actions)):
        if actions[i] == code:
            return i
    return 0


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
    if code == "A" and topic == _AUTH:
        m.action = 3  # AUTH_SUCCESSFUL
    elif code == "CH" and topic == _CONNECTION:
        m.action = 5  # CHALLENGE: the server asks for our URL (we answer C|CHR)
    elif code == "RED":
        if data and data[0]:
            m.url = data[0]
        else:
            m.bad = "redirect without a url"
    elif topic == _EVENT and code == "SH":
        m.action = 9  # SUBSCRIPTION_HAS_PROVIDER: not for event subscribers, ignored
    if topic == _AUTH and data:
        _typed_into(m, data[0])  # the client data of a login
    elif data:
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
    from .codes import number
    m = Message(topic, number(topic, code) if topic != _PARSER else 6)
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
        from .codes import number
        m.code = data[2]
        m.action = number(_RECORD, data[2])
        m.original = 3 if code == "SN" else 5  # READ, HEAD
    elif code == "MESSAGE_DENIED" and len(data) > 2:  # R|E|MESSAGE_DENIED|name|<refused action>
        m.original = action_number(_RECORD, data[2])
        if data[2] == "S" or data[2] == "R":
            m.original = 23  # SUBSCRIBECREATEANDREAD: a read of ours refused
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
