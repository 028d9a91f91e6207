"""The binary protocol codec (`ws-binary`, deepstream v4 and later; what a
stock @deepstream/server serves at /deepstream): websocket binary frames to
messages of the model (message.py) and back.

Wire (docs/PROTOCOL.md, "Binary protocol"): one message per websocket
frame, each a length-delimited protobuf `Message {topic = 2, message = 3}`
whose field 3 holds the topic's own message (action = 1, data = 2, ...;
the field numbers differ per topic: _FIELDS). Values are JSON text in the
string field `data`; no data field means no value.

Where a frame becomes a message: receive(). An event, the accept and the
response of our RPC call, and a pong are read in place; every other
message is decoded into a Message (_decode). Where a message becomes bytes:
encode(), and emit()/patch()/request(), which write straight into the
connection's frame buffer when it has room. An encoded message, here and in
the send queue, is a whole websocket frame with an empty mask key
(`82 LEN 00000000 payload`): seal() fills the keys and masks in place.

What 7.0.2 cannot take and we therefore never send: a `data` that is not
JSON (an empty one included: the server process dies parsing it), a field
present but empty, a text frame, several messages in one frame, anything
but CHALLENGE, AUTH and PING before the login is answered.
"""
from .compat import const, json_dumps, json_loads
from .message import RESTORED, UNDEFINED, Message, ParseError, check_json
from .ws import _fresh_key, mask_in_place

_PARSER = const(1)
_CONNECTION = const(2)
_AUTH = const(3)
_EVENT = const(4)
_RECORD = const(5)
_RPC = const(6)
_PRESENCE = const(7)
_CONNECTION_PONG = const(3)
_CONNECTION_CHALLENGE = const(5)
_EVENT_EMIT = const(2)
_RECORD_PATCH = const(19)
_RECORD_ERASE = const(20)
_RECORD_HEAD_RESPONSE_BULK = const(8)
_RPC_REQUEST = const(2)
_RPC_ACCEPT = const(4)
_RPC_RESPONSE = const(5)
_BULK_NAMES = const(50)  # names in one bulk (un)subscription: a message that fits a frame

# ---- profile: what differs from the text protocol besides encoding -----------------

NAME = "binary"
CLIENT_CHALLENGES = True  # the server is silent until the client sends CHALLENGE
CLIENT_PINGS = True  # the client pings every heartbeat_interval; any frame is a sign of life
BULK = True  # the names of one tick in one (un)subscription, acked by correlation id
FALSY_PATH_SET = True  # values are JSON: a path set of 0, false or "" is a path set
REJECT_FALSY_CRASHES = False  # data is rerouted as it came: nothing to crash on
RESTORE_BY_HEAD = True  # held records are re-read after a reconnect only if their version moved
PRESENCE_KINDS = True  # JOIN_ALL/LEAVE_ALL (subscribed to everyone) apart from JOIN/LEAVE (to a user)
NOTIFY = True
# PING and PONG as encoded messages: a masked frame's header, an empty mask key, the payload
PING = b"\x82\x87\x00\x00\x00\x00\x06\x10\x02\x1a\x02\x08\x02"
PONG = b"\x82\x87\x00\x00\x00\x00\x06\x10\x02\x1a\x02\x08\x03"

# Field numbers of the model's fields, per topic (index: topic number; 0: the
# topic has no such field), in the order they go on the wire (ascending).
# Columns: data, cid, name, names, subscription, isWriteAck, path, version.
_FIELDS = (
    None,
    None,
    b"\x02\x00\x05\x00\x00\x00\x00\x00",  # CONNECTION: data 2; url 5 (carried as `name`)
    b"\x02\x00\x00\x00\x00\x00\x00\x00",  # AUTH
    b"\x02\x03\x06\x07\x08\x00\x00\x00",  # EVENT
    b"\x02\x03\x06\x07\x09\x0b\x0c\x0d",  # RECORD
    b"\x02\x03\x07\x06\x00\x00\x00\x00",  # RPC: names 6, name 7 (EVENT's the other way round)
    b"\x04\x05\x08\x09\x00\x00\x00\x00",  # PRESENCE
)

# Receiving: what each field number of a topic is (index: field number), as
# the letter of a Message field: a action, d data, c cid, e isError, k isAck,
# n name, N names, s subscription, w isWriteAck, p path, v version, V versions,
# o originalAction, u url; "." a field we skip.
_SLOTS = (
    "",
    ".a.......o",  # PARSER: originalAction 9
    ".adeku",  # CONNECTION
    ".adek",  # AUTH
    ".adceknNs..o",  # EVENT
    ".adceknN.sowpvV",  # RECORD
    ".adcekNn.o",  # RPC
    ".a.odceknN",  # PRESENCE: data 4, cid 5, name 8, names 9
)


# ---- varints ----------------------------------------------------------------------------

def _vlen(n):
    """Bytes of the varint of n >= 0."""
    if n < 0x80:
        return 1
    if n < 0x4000:
        return 2
    if n < 0x200000:
        return 3
    return 4 if n < 0x10000000 else 5


def _put_varint(buf, i, n):
    """Write the varint of n >= 0 at buf[i]; returns the index after it."""
    while n >= 0x80:
        buf[i] = (n & 0x7F) | 0x80
        n >>= 7
        i += 1
    buf[i] = n
    return i + 1


def _put_int32(buf, i, n):
    """An int32 as protobuf writes it: a negative one sign-extended to 64 bits,
    ten bytes (no long ints: Python's >> keeps the sign)."""
    if n >= 0:
        return _put_varint(buf, i, n)
    for _ in range(9):
        buf[i] = (n & 0x7F) | 0x80
        n >>= 7
        i += 1
    buf[i] = 1
    return i + 1


def _int32_len(n):
    return _vlen(n) if n >= 0 else 10


def _varint(buf, i, end):
    """The varint at buf[i:end]: (value, index after it). A ten-byte varint
    is a negative int32: its low 31 bits are read inverted, so that -1 and
    other small negatives need no long int on a 32-bit board (the
    value is -1 - inverted). Bits 28 and up are added last, once the
    length is known: a ten-byte varint's would make a long int there."""
    value = 0
    shift = 0
    start = i
    while True:
        if i >= end:
            raise ParseError("truncated varint")
        b = buf[i]
        i += 1
        if shift < 28:
            value |= (b & 0x7F) << shift
        if b < 0x80:
            break
        shift += 7
        if shift > 63:
            raise ParseError("varint longer than 10 bytes")
    if i - start < 5:
        return value, i
    if i - start < 10:
        return value | ((buf[start + 4] & 0x7F) << 28), i
    inverted = 0
    shift = 0
    for k in range(start, start + 4):  # the low 28 bits, then bits 28-30
        inverted |= (~buf[k] & 0x7F) << shift
        shift += 7
    return -1 - (inverted | ((~buf[start + 4] & 0x07) << 28)), i


# ---- encoding: the model to bytes ----------------------------------------------------
#
# A message is written in one pass, sizes first: the topic message's length
# (`body`) gives the wrapper's, which gives the payload's and the frame's.
# The hot encoders (emit, patch, request) keep their frames on the C stack
# (host_tests/test_frames.py) and take the short way for a small message,
# whose lengths are one byte each (most of them).

_SMALL = const(120)  # the largest body of a small message: payload body + 5 < 126, one-byte lengths


def _size(body):
    """Bytes of the whole encoded frame (header, mask key, payload) of a topic
    message of `body` bytes."""
    body += 3 + _vlen(body)  # the wrapper: 10 TOPIC 1a BODYLEN body
    body += _vlen(body)  # the payload: its length, the wrapper
    return body + (6 if body < 126 else 8 if body < 0x10000 else 14)


def _open(conn, topic, action, body):
    """Start a message whose topic message is `body` bytes: in the frame
    buffer when it has room now (conn.reserve), else in the connection's
    spare buffer (conn.enc tells which). Writes the frame header, an empty
    mask key, the wrapper's head and the action; returns where the fields go."""
    conn.enc_size = body + 11 if body <= _SMALL else _size(body)
    i = conn.reserve(conn.enc_size)  # where, in conn.out; -1: no room now
    if i < 0:
        conn.enc = _spare(conn, conn.enc_size)
        i = 0
    else:
        conn.enc = conn.out
    i = _header(conn.enc, i, topic, body)
    conn.enc[i] = 0x08
    conn.enc[i + 1] = action
    return i + 2


def _header(buf, i, topic, body):
    """Write the frame header, an empty mask key and the wrapper's head (its
    length, the topic, the tag of the topic message and its length) for a
    topic message of `body` bytes at buf[i]; returns where that message starts."""
    if body <= _SMALL:  # 82 LEN 00000000 LEN 10 TOPIC 1a BODYLEN
        buf[i:i + 7] = b"\x82\x00\x00\x00\x00\x00\x00"
        buf[i + 1] = 0x85 + body  # masked, as every client frame
        buf[i + 6] = body + 4
        buf[i + 7] = 0x10
        buf[i + 8] = topic
        buf[i + 9] = 0x1A
        buf[i + 10] = body
        return i + 11
    wrapper = 3 + _vlen(body) + body
    payload = _vlen(wrapper) + wrapper
    buf[i] = 0x82  # FIN, binary
    if payload < 126:
        buf[i + 1] = 0x80 | payload
        i += 2
    elif payload < 0x10000:
        buf[i + 1] = 0xFE  # masked, 16-bit length
        buf[i + 2:i + 4] = payload.to_bytes(2, "big")
        i += 4
    else:
        buf[i + 1] = 0xFF  # masked, 64-bit length
        buf[i + 2:i + 10] = payload.to_bytes(8, "big")
        i += 10
    buf[i:i + 4] = b"\x00\x00\x00\x00"
    i = _put_varint(buf, i + 4, wrapper)
    buf[i] = 0x10
    buf[i + 1] = topic
    buf[i + 2] = 0x1A
    return _put_varint(buf, i + 3, body)


def _close(conn, topic, event):
    """The message is written: queue it if it went into the spare buffer."""
    if conn.enc is not conn.out:
        conn.push(memoryview(conn.enc)[:conn.enc_size], topic, event)


def _bytes_field(buf, i, key, data):
    n = len(data)
    buf[i] = key
    if n < 0x80:
        buf[i + 1] = n
        i += 2
    else:
        i = _put_varint(buf, i + 1, n)
    buf[i:i + n] = data
    return i + n


def _blen(data):
    """Bytes of a length-delimited field holding data (one-byte key); 0 for None."""
    if data is None:
        return 0
    return len(data) + (2 if len(data) < 0x80 else 1 + _vlen(len(data)))


def _data(value):
    """The `data` field's bytes: the JSON of value (None: no data field). A
    string, an int, a bool or None is written at once: its JSON cannot fail
    and holds no NaN (check_json's try and walk cost a small value twice
    what its JSON does), an int as its digits (a third of json.dumps)."""
    if value is UNDEFINED:
        return None
    if type(value) is int:  # a counter, a reading, a path set's number: its digits
        return b"%d" % value
    if value is None or isinstance(value, (str, int)):
        return json_dumps(value).encode()
    return check_json(value).encode()


def emit(conn, name, data):
    """EVENT EMIT {data, name}: written straight into the frame buffer when
    it has room, else queued. Data JSON cannot carry raises before anything
    is sent. (The hot encoders keep to small frames: test_frames.py.)"""
    data = _data(data)
    name = name.encode()
    i = _open(conn, _EVENT, _EVENT_EMIT, 2 + _blen(data) + _blen(name))
    if data is not None:
        i = _bytes_field(conn.enc, i, 0x12, data)
    _bytes_field(conn.enc, i, 0x32, name)
    _close(conn, _EVENT, True)


def patch(conn, rec, path, data):
    """RECORD PATCH {data, name, path, version} of record rec at its next
    version (ERASE, without data, for UNDEFINED)."""
    data = _data(data)
    path = path.encode()
    i = 3 + _blen(data) + _blen(rec.name.encode()) + _blen(path) + _int32_len(rec.version + 1)  # 08 ACTION, 68 VERSION
    i = _open(conn, _RECORD, _RECORD_PATCH if data is not None else _RECORD_ERASE, i)
    if data is not None:
        i = _bytes_field(conn.enc, i, 0x12, data)
    i = _bytes_field(conn.enc, i, 0x32, rec.name.encode())
    i = _bytes_field(conn.enc, i, 0x62, path)
    conn.enc[i] = 0x68
    _put_int32(conn.enc, i + 1, rec.version + 1)
    _close(conn, _RECORD, False)


def request(conn, name, cid, data):
    """RPC REQUEST {data, cid, name}: an RPC call of ours. Returns cid_key(cid)."""
    data = _data(None if data is UNDEFINED else data)
    name = name.encode()
    cid = cid.encode()
    i = 2 + _blen(data) + _blen(cid) + _blen(name)
    i = _open(conn, _RPC, _RPC_REQUEST, i)
    i = _bytes_field(conn.enc, i, 0x12, data)
    i = _bytes_field(conn.enc, i, 0x1A, cid)
    _bytes_field(conn.enc, i, 0x3A, name)
    _close(conn, _RPC, False)
    return cid


def attach(conn):
    """The codec's state on a connection: the bulk message of this tick, the
    correlation ids of bulk messages until their acks, the encoding buffer."""
    conn.bulk_now = None  # (topic, action, [names]): (un)subscriptions of this tick
    conn.bulk_cids = 0
    conn.acked_names = {}  # chr(topic) + correlation id -> names, until the server acks them
    conn.enc = None  # the buffer a message is being encoded into (_open), and its size
    conn.enc_size = 0
    # _spare(): for what the frame buffer has no room for; made now, so that the first
    # full frame of a burst costs no heap. 128 bytes hold a sensor's event; it grows,
    # once, for a bigger message (256 added 128 bytes to the firmware's peak that a
    # device which never bursts does not use: docs/MEMORY.md)
    conn.enc_spare = bytearray(128)


def bulk(conn, topic, action, name):
    """An (un)subscription of one name: consecutive ones of the same kind go
    out as one message of names at the end of the tick (call_soon), as the
    reference client batches them; the ack names them by correlation id."""
    b = conn.bulk_now
    if b is not None and b[0] == topic and b[1] == action and len(b[2]) < _BULK_NAMES:
        b[2].append(name)
        return
    flush_bulk(conn)
    conn.bulk_now = (topic, action, [name])
    conn.call_soon(lambda: flush_bulk(conn))


def flush_bulk(conn):
    b = conn.bulk_now
    if b is not None:
        conn.bulk_now = None
        conn.send(b[0], b[1], names=b[2], cid=bulk_cid(conn, b[0], b[2]))


def bulk_cid(conn, topic, names):
    """A correlation id for a message of names, remembered until its ack
    (keyed with the topic: presence numbers its own ids)."""
    cid = str(conn.bulk_cids)
    conn.bulk_cids += 1
    conn.acked_names[chr(topic) + cid] = names
    return cid


def _spare(conn, n):
    """A buffer of at least n bytes for a message the frame buffer has no
    room for now (push() then copies it): kept for the next one while it
    is frame-sized."""
    buf = conn.enc_spare
    if len(buf) < n:
        buf = bytearray(n)
        if n <= 1024:
            conn.enc_spare = buf
    return buf


def cid_key(cid):
    """A correlation id as receive() compares it in place (a binary frame is bytes)."""
    return cid.encode()


def check(value):
    """Raise TypeError/ValueError for a value JSON cannot carry."""
    check_json(value)


def encode(topic, action, name=None, data=UNDEFINED, cid=None, names=None, path=None, version=None,
           write_ack=False, sub=None):
    """Any message of the model, as bytes (one frame)."""
    fields = _FIELDS[topic]
    parts = []  # (field number, bytes, int or a list of bytes), in field order
    if data is not UNDEFINED:
        parts.append((fields[0], check_json(data).encode()))
    if cid is not None:
        parts.append((fields[1], cid.encode()))
    if topic == _CONNECTION and action == _CONNECTION_CHALLENGE:
        # url, protocolVersion, sdkVersion, sdkType: the server keeps the last two for statistics
        from . import __version__  # here: a module global less (the globals' table of a codec is heap)

        parts += [(5, name.encode()), (6, b"0.1a"), (7, __version__.encode()), (8, b"micropython")]
        name = None
    if name is not None:
        parts.append((fields[2], name.encode()))
    if names is not None:  # one part: MicroPython's sort() would not keep the names in order
        parts.append((fields[3], [n.encode() for n in names]))
    if sub is not None:
        parts.append((fields[4], sub.encode()))
    if write_ack:
        parts.append((fields[5], 1))
    if path is not None:
        parts.append((fields[6], path.encode()))
    if version is not None:
        parts.append((fields[7], version))
    parts.sort(key=lambda part: part[0])  # field order, as protobufjs writes them
    body = bytearray(b"\x08")
    body.append(action)
    for number, value in parts:
        if isinstance(value, int):
            tmp = bytearray(11)
            tmp[0] = number << 3
            body += tmp[:_put_int32(tmp, 1, value)]
            continue
        for item in value if isinstance(value, list) else (value,):
            tmp = bytearray(1 + _vlen(len(item)))
            tmp[0] = (number << 3) | 2
            _put_varint(tmp, 1, len(item))
            body += tmp
            body += item
    buf = bytearray(_size(len(body)))
    i = _header(buf, 0, topic, len(body))
    buf[i:] = body
    return buf


# ---- framing --------------------------------------------------------------------------

def _frame_at(buf, i):
    """(index of the payload, its length) of the frame at buf[i]."""
    n = buf[i + 1] & 0x7F
    if n == 126:
        return i + 8, (buf[i + 2] << 8) | buf[i + 3]
    if n == 127:
        return i + 14, int.from_bytes(bytes(buf[i + 2:i + 10]), "big")
    return i + 6, n


def message_end(buf, i, end):
    """Where the encoded message (a whole frame) starting at buf[i] ends."""
    start, n = _frame_at(buf, i)
    return min(start + n, end)


def seal(buf, start, n):
    """Give every frame in buf[start:start + n] a fresh mask key and mask its
    payload in place; returns where the bytes to write start."""
    i = start
    end = start + n
    while i < end:
        m = buf[i + 1] & 0x7F
        if m < 126:  # most frames: no call to read the length
            i += 6
        else:
            i, m = _frame_at(buf, i)
        _fresh_key(buf, i)
        mask_in_place(buf, i, m)
        i += m
    return start


def unseal(buf, start, n):
    """Undo seal(): every payload unmasked again (the keys stay, harmless)."""
    i = start
    end = start + n
    while i < end:
        j, m = _frame_at(buf, i)
        mask_in_place(buf, j, m)
        i = j + m


def restorable(buf, start, end):
    """Whether the messages in buf[start:end] hold one a reconnect makes again
    (message.RESTORED: an (un)subscription, a listen, a record read)."""
    while start < end:
        stop = message_end(buf, start, end)
        topic, action = kind(bytes(buf[start:stop]))
        if topic * 256 + action in RESTORED:
            return True
        start = stop
    return False


def count(buf, start, end):
    """How many messages (frames) buf[start:end] holds."""
    n = 0
    while start < end:
        start = message_end(buf, start, end)
        n += 1
    return n


def kind(msg):
    """(topic, action) of an encoded message, for the queue's filters;
    (0, 0) for one it cannot tell."""
    try:
        m = _decode(msg, _frame_at(msg, 0)[0], len(msg))
    except (ParseError, IndexError):
        return 0, 0
    return (0, 0) if m is None else (m.topic, m.action)


def matches(msg, topic, action, key):
    """Whether encoded message msg is (topic, action) about key (its name, one
    of its names, or its id; None: any)."""
    try:
        m = _decode(msg, _frame_at(msg, 0)[0], len(msg))
    except (ParseError, IndexError):
        return False
    return m.topic == topic and m.action == action and (
        key is None or m.name == key or m.cid == key or (m.names is not None and key in m.names))


# ---- decoding: frames to the model ----------------------------------------------------------

def receive(conn, frame):
    """One websocket binary frame: one message. Never raises: a frame that
    does not decode is an error event, and the connection carries on."""
    conn.heard = True
    client = conn.client
    try:
        m = _dispatch_hot(conn, frame)
        if m is not None:
            if m.is_ack and m.cid is not None:  # our bulk message's: its names, by correlation id
                names = conn.acked_names.pop(chr(m.topic) + m.cid, None)
                if m.names is None:
                    m.names = names
            elif m.is_ack and m.names is None and m.name is not None:  # a (un)listen's: its pattern
                m.names = [m.name]
            conn.dispatch(m)
    except MemoryError:
        client._error("out of memory handling a message (dropped)", "MESSAGE_PARSE_ERROR", "X")
    except (ParseError, ValueError, IndexError, UnicodeError) as err:
        client._error(_why(err, frame), "MESSAGE_PARSE_ERROR", "X")
    except Exception as err:  # a user callback or a bug: never kill the client
        client._error(_why(err, None), "CALLBACK_ERROR", "X")


def _why(err, frame):
    """The text of an error event about err (and the frame it came with):
    the error's name alone when the heap has no room for more."""
    try:
        text = "%s: %s" % (type(err).__name__, err)
        return text if frame is None else "%s (frame %s)" % (text, _hex(frame))
    except Exception:  # MemoryError, or a __str__ that raises
        return type(err).__name__


def _hex(frame):
    return "".join("%02x" % b for b in frame[:40])


def _dispatch_hot(conn, frame):
    """The hot paths read in place; anything else comes back as a Message
    (None: nothing to do)."""
    if len(frame) > 6 and frame[1] == 0x10 and frame[3] == 0x1A and frame[0] < 0x80 and frame[4] < 0x80:
        # the common small frame: LEN 10 TOPIC 1a BODYLEN 08 ACTION ...
        end = 5 + frame[4]
        if frame[0] + 1 != len(frame) or end > len(frame) or frame[5] != 0x08:
            return _decode(frame, 0, len(frame))
        topic = frame[2]
        action = frame[6]
        if topic == _EVENT and action == _EVENT_EMIT:
            _event(conn.client, frame, 7, end)
            return None
        if topic == _RPC and conn.rpc_in is not None and (action == _RPC_RESPONSE or action == _RPC_ACCEPT):
            if _reply(conn.rpc_in, frame, action, end):
                return None
        elif topic == _CONNECTION and action == _CONNECTION_PONG and end == 7:
            conn.pong()
            return None
    return _decode(frame, 0, len(frame))


def _find(frame, i, end, key):
    """Index of the length of the first field with this key in frame[i:end]
    (a length-delimited field), or -1."""
    while i < end:
        k = frame[i]
        if k == key:
            return i + 1
        i = _skip(frame, i + 1, end, k)
    return -1


def _skip(frame, i, end, key):
    """The index after the value of a field whose key (one byte) was just read."""
    wt = key & 7
    if key & 0x80:  # a field number of 16 or more: the key goes on
        i = _varint(frame, i, end)[1]
    if wt == 0:
        return _varint(frame, i, end)[1]
    if wt == 2:
        n = frame[i] if i < end else 0x80
        if n < 0x80:  # a short field (a varint of one byte): no call, no tuple
            i += 1
        else:
            n, i = _varint(frame, i, end)
        if i + n > end:
            raise ParseError("field longer than its message")
        return i + n
    if wt == 1:
        return i + 8
    if wt == 5:
        return i + 4
    raise ParseError("wire type %d" % wt)


def _text(frame, j):
    """The string whose length is at frame[j] (short: one length byte)."""
    n = frame[j]
    if n < 0x80:
        return str(frame[j + 1:j + 1 + n], "utf-8")
    n, j = _varint(frame, j, len(frame))
    return str(frame[j:j + n], "utf-8")


def _json(frame, j):
    n = frame[j]
    if n >= 0x80:
        n, j = _varint(frame, j, len(frame))
        return json_loads(frame[j:j + n])
    return json_loads(frame[j + 1:j + 1 + n])


def _event(client, frame, i, end):
    """EVENT EMIT {data, name} read in place: only the name and the value
    are sliced out. Data that is not JSON is an error event."""
    j = _find(frame, i, end, 0x32)
    if j < 0:
        client._error("event message without a name", "MESSAGE_PARSE_ERROR", "E")
        return
    i = _find(frame, i, end, 0x12)  # i, j reused: a frame of 11 words (test_frames.py)
    i = None if i < 0 else _json(frame, i)
    client.event._notify(_text(frame, j), i)


def _reply(calls, frame, action, end):
    """RPC ACCEPT/RESPONSE {data, cid, name} about our pending call, read in
    place. False for anything else, which _decode() then reads and checks."""
    cid = _find(frame, 7, end, 0x1A)
    cid = _cid_at(calls, frame, cid)
    if cid is None:
        return False
    if action == _RPC_ACCEPT:
        calls.accepted(cid)
        return True
    end = _find(frame, 7, end, 0x12)  # end reused: the data's length byte
    _respond(calls, cid, frame, end)
    return True


def _respond(calls, cid, frame, j):
    calls.complete(cid, None, None if j < 0 else _json(frame, j))


def _cid_at(calls, frame, j):
    """The pending call's id whose length is at frame[j], or None. Each new
    string costs MicroPython a search of its interned strings, so the id of
    the latest call (a device's usual one) is compared in place."""
    if j < 0 or frame[j] >= 0x80:
        return None
    cid = calls.latest_key
    if frame[j] == len(cid) and frame.startswith(cid, j + 1):
        cid = calls.latest  # the latest call's reply: no new string
    else:
        cid = str(frame[j + 1:j + 1 + frame[j]], "utf-8")
    return cid if cid in calls.pending else None


def _decode(frame, i, end):
    """The delimited Message at frame[i:end] as a Message of the model."""
    n, i = _varint(frame, i, end)
    if i + n > end:
        raise ParseError("message of %d bytes in a frame of %d" % (n, end - i))
    end = i + n  # anything after the first message is ignored, as the server does
    topic = 0
    body = body_end = -1
    while i < end:
        key = frame[i]
        if key == 0x10:
            topic, i = _varint(frame, i + 1, end)
        elif key == 0x1A:
            n, i = _varint(frame, i + 1, end)
            body, body_end = i, i + n
            i += n
        else:
            i = _skip(frame, i + 1, end, key)
    if body < 0 or body_end > end:
        raise ParseError("no message in the frame")
    if not 1 <= topic < len(_SLOTS):
        raise ParseError("unknown topic %d" % topic)
    return _fields(topic, frame, body, body_end)


def _fields(topic, frame, i, end):
    slots = _SLOTS[topic]
    m = Message(topic, 0)
    while i < end:
        key = frame[i]
        i += 1
        number = key >> 3
        slot = slots[number] if number < len(slots) and not key & 0x80 else "."
        if slot == ".":
            i = _skip(frame, i, end, key)
            continue
        if key & 7 == 0:
            value, i = _varint(frame, i, end)
            _scalar(m, slot, value)
        elif key & 7 == 2:
            n, i = _varint(frame, i, end)
            if i + n > end:
                raise ParseError("field longer than its message")
            _bytes(m, slot, frame, i, i + n)
            i += n
        else:
            i = _skip(frame, i, end, key)
    return m


def _scalar(m, slot, value):
    if slot == "a":
        m.action = value
    elif slot == "k":
        m.is_ack = bool(value)
    elif slot == "w":
        m.is_write_ack = bool(value)
    elif slot == "v":
        m.version = value
    elif slot == "o":
        m.original = value


def _bytes(m, slot, frame, i, end):
    if slot == "d":
        try:
            m.data = json_loads(frame[i:end])
        except ValueError as err:
            m.bad = "data is not JSON (%s): %s" % (err, str(frame[i:i + 40], "utf-8"))
        return
    if slot == "V":
        _version_entry(m, frame, i, end)
        return
    text = str(frame[i:end], "utf-8")
    if slot == "n":
        m.name = text
    elif slot == "N":
        if m.names is None:
            m.names = []
        m.names.append(text)
    elif slot == "c":
        m.cid = text
    elif slot == "p":
        m.path = text
    elif slot == "s":
        m.subscription = text
    elif slot == "u":
        m.url = text


def _version_entry(m, frame, i, end):
    """One entry of HEAD_RESPONSE_BULK's map<string, int32>: {1: name, 2: version}."""
    name = None
    version = 0
    while i < end:
        key = frame[i]
        if key == 0x0A:
            n, i = _varint(frame, i + 1, end)
            name = str(frame[i:i + n], "utf-8")
            i += n
        elif key == 0x10:
            version, i = _varint(frame, i + 1, end)
        else:
            i = _skip(frame, i + 1, end, key)
    if name is not None:
        if m.versions is None:
            m.versions = {}
        m.versions[name] = version
