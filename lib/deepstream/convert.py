"""protocol="auto" after a wrong guess: until it knows, the client encodes by
the URL's guess (options.choose_codec); when the endpoint turns out to
speak the other protocol (handshake.py), what waits is re-encoded here.
Loaded only then, and unloaded after.

Each waiting message is decoded with the old codec into the model
(message.py) and encoded with the new one, in order: the events
confirm_events keeps (kept again), the frame buffer's, the ring's queued
ones; outbox records of the other protocol as they are replayed (outbox.py).
Binary messages decode as the server's do (binary_codec's field table). Our
own text messages are read by own_text(), which is not how the server's are
read: E|S|name is our subscribe, the server's ack of it is E|A|S|name.

A message the new protocol cannot carry (NOTIFY in text, NaN in binary) is
counted and reported as MESSAGE_DROPPED. Dropped without a word: the link's
own messages (a ping or pong of a dead link), and, after an outage, the
(un)subscriptions the reconnect makes again from the handlers' state (as
offline.restore drops them).
"""
from . import _unload
from .compat import const, json_loads
from .connection import FRAME_BYTES, HEADROOM
from .message import RESTORED, UNDEFINED, Message, ParseError

_EVENT = const(4)
_RECORD = const(5)
_RPC = const(6)
_PRESENCE = const(7)
_EVENT_EMIT = const(2)
_RECORD_CREATEANDPATCH = const(17)
_RECORD_ERASE = const(20)
_RPC_REQUEST = const(2)
_RPC_ACCEPT = const(4)
_RPC_REJECT = const(6)
_RPC_REQUEST_ERROR = const(7)
_PRESENCE_QUERY_ALL = const(2)
_PRESENCE_QUERY = const(4)

# (un)subscriptions binary sends as a message of names with a correlation id
# (text: one name each): EVENT and RECORD, RPC provide
_BULK = (0x403, 0x404, 0x517, 0x51A, 0x608, 0x609)


def switch(conn, codec):
    """From now on conn speaks codec's protocol: what waits is re-encoded.
    Then this module and the old codec are unloaded: nothing refers to them."""
    old = conn.codec
    try:
        _switch(conn, old, codec)
    finally:
        _unload("convert")
        if conn.codec is codec:
            _unload(old.NAME + "_codec")
            if old.NAME == "text":
                _unload("text_more")


def _switch(conn, old, codec):
    # what may fail for want of heap comes first: a MemoryError leaves the old codec in
    # use, and the driver drops the link (the next one is asked again)
    codec.attach(conn)
    rpc = conn.rpc_in
    key = codec.cid_key(rpc.latest) if rpc is not None else None  # replies are read in the frame's type
    if conn._lent:
        conn._reclaim()
    conn.codec = codec
    if rpc is not None:
        rpc.latest_key = key
    ring = conn._ring
    total = old.count(conn.out, HEADROOM, HEADROOM + conn._fill) + (_count(ring) if ring is not None else 0)
    try:
        kept, waiting = _take(conn, old)
    except MemoryError:  # no room for a copy: the old protocol's messages go, never sent
        conn._fill = 0
        if ring is not None:
            _clear(ring, codec.NAME == "binary")
        kept = waiting = ()
    lost = total - _requeue(conn, old, kept, waiting)
    if lost:
        _dropped(conn, "out of memory re-encoding the send queue for the %s protocol" % codec.NAME)
        conn.dropped += lost - 1
    if conn._replay_after:
        # the outbox is being replayed, after what the ring held then: counted in the new
        # bytes (the old count, were it larger, would hold the outbox back for good)
        conn._replay_after = conn._ring.queued()
    if conn._replay is not None:  # an outbox replay cut short: its next record was read for the old link
        _reread(conn._replay, codec.NAME == "binary")


# ---- the ring's and the outbox reader's state (ring.py, outbox.py): helpers of
# theirs kept here, so that a client that never converts never loads them

def _count(ring):
    """How many messages the ring holds."""
    n = 0
    i = ring.head
    left = ring.used
    while left > 0:
        size = ring._length(i)
        left -= size
        i = (i + size) % ring.size
        n += 1
    return n


def _clear(ring, framed):
    """Forget every message in the ring; from now on they are framed (binary) or not."""
    ring.framed = framed
    ring.head = ring.used = ring.kept = 0


def _reread(reader, framed):
    """The outbox reader's current record, read again for a link of the other protocol."""
    reader.close()
    reader.framed = framed
    reader._size = 0
    reader._msg = None
    reader.reopen()


def _take(conn, old):
    """Empty the queue: (the ring's kept events, the frame buffer's messages
    and then the ring's queued ones), each a bytes. The ring stays, for the
    new protocol: a copy of what waits costs a board less than a second ring.
    Nothing is emptied if there is no room for the copy (MemoryError)."""
    out = conn.out
    i = HEADROOM
    end = HEADROOM + conn._fill
    kept = []
    waiting = []
    while i < end:
        stop = old.message_end(out, i, end)
        waiting.append(bytes(out[i:stop]))
        i = stop
    ring = conn._ring
    if ring is not None:
        for msg, queued in ring.messages():
            (waiting if queued else kept).append(msg)
        _clear(ring, conn.codec.NAME == "binary")
    conn._fill = 0
    if len(out) != HEADROOM + FRAME_BYTES:  # it grew for one big message
        conn.out = conn.frame = bytearray(HEADROOM + FRAME_BYTES)
    return kept, waiting


def _requeue(conn, old, kept, waiting):
    """Queue the messages again, re-encoded, in order: the kept events first
    (kept again), then the others. Returns how many were dealt with: all,
    unless the heap ran out (the rest is lost then)."""
    done = 0
    try:
        if kept:
            from .offline import keep_sent
        for msg in kept:
            msg = _convert(conn, old, msg)
            if msg:
                keep_sent(conn, msg)
            done += 1
        for msg in waiting:
            msg = _convert(conn, old, msg)
            if msg:
                conn._send(msg, 0, False)  # offline: into the frame buffer or behind it, never the outbox
            done += 1
    except MemoryError:
        pass
    return done


def _convert(conn, old, msg):
    """msg as conn.codec encodes it; None or b"" when it is dropped (reported
    if it was one the new protocol cannot carry)."""
    new = message(msg, conn.codec, conn)
    if new is None:
        _dropped(conn, "protocol 'auto' found a %s endpoint: a queued %s message has no %s form"
                 % (conn.codec.NAME, old.NAME, conn.codec.NAME))
    return new


def _dropped(conn, why):
    """A message lost: counted, reported once per outage, as offline.note_dropped
    does (not imported from there: the first loss may be for want of heap)."""
    if not conn.dropped:
        conn.client._error(why, "MESSAGE_DROPPED", "C")
    conn.dropped += 1


def message(msg, codec, conn=None):
    """msg (bytes), encoded in the other protocol than codec's, as codec
    encodes it (bytes: a text one may become several messages). b"" for one
    no later link needs, None for one codec's protocol cannot carry. conn
    (None for an outbox record, always an event) gives binary's (un)subscriptions
    their correlation ids, and tells whether a reconnect will remake them."""
    try:
        m = _decode(msg, codec.NAME == "text")
        if m is None or conn is not None and conn._was_reconnecting and m.topic * 256 + m.action in RESTORED:
            return b""
        return _text(m) if codec.NAME == "text" else _binary(m, conn)
    except (ParseError, ValueError, UnicodeError, TypeError, IndexError):
        return None


def _decode(msg, binary):
    """An encoded message as a Message; None for the link's own (CONNECTION, AUTH)."""
    if binary:
        from .binary_codec import _decode, _frame_at
        m = _decode(msg, _frame_at(msg, 0)[0], len(msg))
        return m if m.topic >= _EVENT else None
    return own_text(msg)


def _codes(topic):
    """The text action code of each of topic's actions (index: action number):
    text_codec's for events, so that an events-only device never loads text_more."""
    from .text_codec import BASIC, more
    return BASIC[topic] if topic <= _EVENT else more().OUT[topic]


def _text(m):
    from .text_codec import encode, typed
    topic = m.topic
    action = m.action
    codes = _codes(topic)
    if action >= len(codes) or not codes[action]:
        raise ValueError("no text form")  # NOTIFY, SUBSCRIBEANDHEAD: binary only
    if topic == _EVENT and action == _EVENT_EMIT:  # (text_codec.encode leaves an event's data to emit())
        return ("E\x1fEVT\x1f%s\x1f%s\x1e" % (m.name, typed(m.data))).encode()
    data = m.data
    if topic == _RPC and action == _RPC_REJECT:
        # 7.0.2's text endpoint dies rerouting a request whose data is falsy (rpc.py),
        # and the request's data is not known here: refused as rpc.py refuses those
        action = _RPC_REQUEST_ERROR
        data = "REJECTED"
    return encode(topic, action, m.name, data, m.cid, m.names, m.path, m.version, m.is_write_ack, m.subscription)


def _binary(m, conn):
    from . import binary_codec
    name = m.name
    names = m.names
    cid = m.cid
    if m.topic * 256 + m.action in _BULK:
        names = [name]
        name = None
        cid = binary_codec.bulk_cid(conn, m.topic, names)  # its ack names them by this id
    return binary_codec.encode(m.topic, m.action, name, m.data, cid, names, m.path, m.version, m.is_write_ack,
                               m.subscription)


# ---- our own text messages to the model (text_codec.encode, text_more.encode, the hot encoders) ----

def own_text(msg):
    """One text message our codec encoded (bytes, with its 0x1e) as a
    Message; None for the link's own (C, A). ValueError for none of ours."""
    text = str(msg, "utf-8")
    f = (text[:-1] if text[-1:] == "\x1e" else text).split("\x1f")
    topic = "ERPU".find(f[0]) + _EVENT if len(f[0]) == 1 else 0
    if topic < _EVENT or len(f) < 3:
        if f[0] in ("C", "A"):
            return None
        raise ValueError("not a message of ours")
    code = f[1]
    if topic == _PRESENCE:
        return _presence(code, f)
    if topic == _RPC and (code == "A" or code == "E"):  # P|A|REQ|name|cid, P|E|<error text>|name|cid
        m = Message(_RPC, _RPC_ACCEPT if code == "A" else _RPC_REQUEST_ERROR)
        if code == "E":
            m.data = f[2]
        m.name = f[3]
        m.cid = f[4]
        return m
    m = Message(topic, _codes(topic).index(code))  # ValueError for a code we never send
    m.name = f[2]
    if topic == _RPC and len(f) > 3:  # P|REQ|name|cid|typed, P|RES|.., P|REJ|name|cid
        m.cid = f[3]
        if len(f) > 4:
            m.data = _typed(f[4])
            if m.data is UNDEFINED and m.action == _RPC_REQUEST:
                m.data = None  # a binary request always carries its data
    elif code == "EVT":
        m.data = _typed(f[3])
    elif code == "LA" or code == "LR":  # listen accept/reject: pattern | the subscription
        m.subscription = f[3]
    elif topic == _RECORD and len(f) > 4:
        _write(m, code, f[3:])
    return m


def _typed(field):
    from .text_codec import parse_typed
    return parse_typed(field)


def _write(m, code, rest):
    """R|U|name|v|json, R|P|name|v|path|typed, R|CU|name|-1|...: a record
    write, with a write-ack config at its end if asked (R|CU: always one)."""
    from .text_more import WRITE_ACK  # (records: loaded already)
    m.version = int(rest[0])
    fields = rest[1:]
    if code == "CU" or len(fields) == (2 if code == "U" else 3):
        if fields.pop() == WRITE_ACK:
            m.is_write_ack = True
            m.cid = rest[0]  # binary acks a write by its version as correlation id
    if len(fields) == 1:  # UPDATE, CREATEANDUPDATE
        m.data = json_loads(fields[0])
        return
    m.path = fields[0]
    m.data = _typed(fields[1])
    if code == "CU":
        m.action = _RECORD_CREATEANDPATCH
    elif m.data is UNDEFINED:
        m.action = _RECORD_ERASE


def _presence(code, f):
    """U|Q|Q, U|S|S, U|US|US: everyone's; U|Q|<id>|[names], U|S|.., U|US|..: some users'."""
    everyone = len(f) == 3 and f[2] == code
    if code == "Q":
        m = Message(_PRESENCE, _PRESENCE_QUERY_ALL if everyone else _PRESENCE_QUERY)
    elif code == "S" or code == "US":
        m = Message(_PRESENCE, _codes(_PRESENCE).index(code) + (2 if everyone else 0))  # (UN)SUBSCRIBE(_ALL)
    else:
        raise ValueError("unknown action " + code)
    if not everyone:
        m.cid = f[2]
        m.names = json_loads(f[3])
    return m


def record(conn, payload, framed):
    """An outbox record of the other protocol for a link of this one (framed:
    binary); None, counted and reported, when it has no form in it."""
    if framed:
        from . import binary_codec as codec
    else:
        from . import text_codec as codec
    payload = message(payload, codec)
    if not payload:
        _dropped(conn, "outbox file %s: a stored event has no %s form" % (conn._outbox.path, codec.NAME))
    return payload
