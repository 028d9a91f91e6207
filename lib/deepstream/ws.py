"""Sans-IO RFC 6455 websocket client codec.

Bytes in (``receive_handshake``, ``receive_data``), events out
(``next_event``), bytes to send out (``handshake_request``, ``send_*``).
No socket, no clock: the drivers in poll.py / aio.py own those.
"""
from .compat import const, urandom

OP_CONT = const(0)
OP_TEXT = const(1)
OP_BINARY = const(2)
OP_CLOSE = const(8)
OP_PING = const(9)
OP_PONG = const(10)


class WebSocketError(Exception):
    """Handshake or protocol failure: the connection must be dropped."""


class MessageTooLarge(WebSocketError):
    """A message over ``max_message_size`` was skipped; the connection is still usable."""


_CHUNK = const(256)  # bytes masked per big-int step (a multiple of 4: the key stays aligned)


def mask_in_place(buf, start, n):
    """XOR buf[start:start + n] with the 4-byte key stored just before it
    (buf[start - 4:start]); doing it twice restores the payload.

    A big-int XOR per 256-byte step: ~7x faster than a per-byte loop on
    MicroPython and ~30x on CPython, while the temporaries stay a few
    hundred bytes whatever the frame size (needs long ints, which every
    mainstream MicroPython port has). A frame of one step (most of them)
    is masked without the loop."""
    if n > _CHUNK:
        _mask_steps(buf, start, n)
    elif n > 0:
        key = _key(buf, start, n)
        buf[start:start + n] = (int.from_bytes(memoryview(buf)[start:start + n], "big") ^ key).to_bytes(n, "big")


def _key(buf, start, m):
    # the key repeated over m bytes, as an int
    words = (m + 3) >> 2
    return int.from_bytes(bytes(buf[start - 4:start]) * words, "big") >> (8 * ((words << 2) - m))


def _mask_steps(buf, start, n):
    key = _key(buf, start, _CHUNK)
    mv = memoryview(buf)
    i = start
    end = start + n
    while i < end:
        m = min(_CHUNK, end - i)
        k = key if m == _CHUNK else key >> (8 * (_CHUNK - m))
        buf[i:i + m] = (int.from_bytes(mv[i:i + m], "big") ^ k).to_bytes(m, "big")
        i += m


_keys = bytearray(64)  # fresh mask keys, drawn 16 at a time: one urandom() call per 16 frames
_next = [64]


def frame_in_place(buf, start, n, op=1):
    """Turn the payload buf[start:start + n] into a masked client frame
    (seal_frame()). Returns a memoryview of the frame."""
    return memoryview(buf)[seal_frame(buf, start, n, op):start + n]


def seal_frame(buf, start, n, op=1):
    """Turn the payload buf[start:start + n] into a masked client frame:
    header and a fresh key are written right before it (start >= 14) and
    the payload is masked in place. Returns where the frame starts (no
    memoryview made: the text codec's seal() on every frame it sends)."""
    if n < 126:  # the common small frame: its two header bytes written in place
        h = start - 6
        buf[h] = 0x80 | op
        buf[h + 1] = 0x80 | n
    else:
        head = frame_header(op, n)
        h = start - 4 - len(head)
        buf[h:start - 4] = head
    _fresh_key(buf, start)
    mask_in_place(buf, start, n)
    return h


def _fresh_key(buf, start):
    # the next fresh 4-byte key, right before the payload
    i = _next[0]
    if i >= 64:
        _keys[:] = urandom(64)
        i = 0
    buf[start - 4:start] = memoryview(_keys)[i:i + 4]
    _next[0] = i + 4


class WebSocket:
    def __init__(self, max_message_size=16384, initial_buffer=1024):
        self.max_message_size = max_message_size
        self._key = None
        self._hs = b""  # handshake response bytes received so far
        self.open = False
        self.close_sent = False
        self.close_received = False
        # receive buffer: valid bytes are _buf[_start:_end]
        self._buf = bytearray(initial_buffer)
        self._mv = memoryview(self._buf)
        self._start = 0
        self._end = 0
        self._skip = 0  # payload bytes of a refused frame still to drop
        self._discard = False  # rest of a refused fragmented message follows
        self._frag_op = 0  # opcode of the message being reassembled, 0: none
        self._frags = None

    # -- opening handshake: ws_handshake.py, loaded only while connecting --

    def handshake_request(self, host, port, path="/", key=None, secure=False):
        from .ws_handshake import request
        return request(self, host, port, path, key, secure)

    def receive_handshake(self, data):
        """Feed response bytes: None = need more, True = open. Raises WebSocketError."""
        from .ws_handshake import receive, release
        done = True  # finished or failed: the module is not needed any more
        try:
            rest = receive(self, data)
            done = rest is not None
        finally:
            if done:
                release()
        if rest is None:
            return None
        self.open = True
        if rest:  # the server may send frames right behind the headers
            self.receive_data(rest)
        return True

    # -- receiving --------------------------------------------------------

    def receive_data(self, data):
        """Buffer received bytes (any chunking); call next_event() until None."""
        n = len(data)
        i = 0
        if self._skip:  # buffer is empty while skipping: drop without copying
            i = min(self._skip, n)
            self._skip -= i
            if i == n:
                return
        m = n - i
        if self._end + m > len(self._buf):
            self._make_room(m)
        if i:
            data = memoryview(data)[i:]
        self._buf[self._end:self._end + m] = data
        self._end += m

    def read_view(self):
        """The free space at the end of the receive buffer, for a driver to
        read into directly, then commit(n): no second buffer, no copy."""
        if self._end == len(self._buf):
            self._make_room(256)
        return self._mv[self._end:]

    def commit(self, n):
        """n bytes were read into the view that read_view() gave."""
        if self._skip:  # the buffer is empty while skipping: drop the refused frame's bytes
            i = min(self._skip, n)
            self._skip -= i
            if i < n:
                end = self._end
                self._buf[end:end + n - i] = bytes(self._mv[end + i:end + n])
                self._end += n - i
            return
        self._end += n

    def _make_room(self, m):
        used = self._end - self._start
        size = len(self._buf)
        if size < used + m:
            # grow geometrically, but not far past one maximal frame
            size = max(used + m, min(2 * size, self.max_message_size + 16))
            buf = bytearray(size)
            buf[:used] = self._mv[self._start:self._end]
            self._buf = buf
            self._mv = memoryview(buf)
        elif used:
            self._buf[:used] = bytes(self._mv[self._start:self._end])  # regions overlap
        self._start = 0
        self._end = used

    def next_event(self):
        """Next decoded event, or None when more bytes are needed.

        Events: ("text", str), ("binary", bytes), ("ping", bytes),
        ("pong", bytes), ("close", code or None, reason str).
        Raises MessageTooLarge (recoverable) or WebSocketError (fatal).
        """
        if self._end - self._start < 2:  # the usual last call: nothing buffered (a small frame)
            return None
        return self._decode()

    def _decode(self):
        while True:  # one frame per turn: a fragment or a refused frame gives no event
            buf = self._buf
            s = self._start
            avail = self._end - s
            if avail < 2:
                return None
            b0 = buf[s]
            b1 = buf[s + 1]
            n = b1 & 0x7F
            hl = 2
            if n == 126:
                hl = 4
                if avail < hl:
                    return None
                n = (buf[s + 2] << 8) | buf[s + 3]
            elif n == 127:
                hl = 10
                if avail < hl:
                    return None
                n = int.from_bytes(self._mv[s + 2:s + 10], "big")
            op = b0 & 0x0F
            fin = b0 & 0x80
            if b1 & 0x80:
                raise WebSocketError("protocol error: masked frame from server")
            if b0 & 0x70:
                raise WebSocketError("protocol error: reserved bits set")
            if op >= OP_CLOSE:
                if not fin or n > 125 or op > OP_PONG:
                    raise WebSocketError("protocol error: bad control frame")
            elif op > OP_BINARY:
                raise WebSocketError("protocol error: unknown opcode %d" % op)
            elif self._discard:  # rest of a refused message: drop silently
                if op != OP_CONT:
                    raise WebSocketError("protocol error: new message inside a fragmented one")
                self._refuse(hl, n, fin, 0)
                continue
            else:
                total = n + (len(self._frags) if self._frag_op and op == OP_CONT else 0)
                if total > self.max_message_size:
                    self._refuse(hl, n, fin, total)
                    continue
            if avail < hl + n:
                return None
            p = self._mv[s + hl:s + hl + n]
            self._start = s + hl + n
            if self._start == self._end:
                self._start = self._end = 0
            if op >= OP_CLOSE:
                return self._control(op, p)
            if op == OP_CONT:
                if not self._frag_op:
                    raise WebSocketError("protocol error: continuation without a message")
                self._frags += p
                if not fin:
                    continue
                op, p = self._frag_op, self._frags
                self._frag_op = 0
                self._frags = None
            elif self._frag_op:
                raise WebSocketError("protocol error: new message inside a fragmented one")
            elif not fin:
                self._frag_op = op
                self._frags = bytearray(p)
                continue
            if op == OP_BINARY:
                return ("binary", bytes(p))
            try:
                return ("text", str(p, "utf-8"))
            except UnicodeError:
                raise WebSocketError("protocol error: invalid UTF-8 in text message")

    def _refuse(self, hl, n, fin, total):
        # drop the payload as it arrives instead of buffering it (raises for
        # the first frame of a refused message)
        report = not self._discard
        self._frag_op = 0
        self._frags = None
        self._discard = not fin
        have = min(self._end - self._start - hl, n)  # payload bytes already here
        self._start += hl + have
        self._skip = n - have  # > 0 only when the buffer is now empty
        if self._start == self._end:
            self._start = self._end = 0
        if report:
            raise MessageTooLarge(
                "message of %d bytes exceeds max_message_size %d" % (total, self.max_message_size)
            )

    def _control(self, op, p):
        if op == OP_PING:
            return ("ping", bytes(p))
        if op == OP_PONG:
            return ("pong", bytes(p))
        self.close_received = True
        if len(p) < 2:
            return ("close", None, "")
        try:
            reason = str(p[2:], "utf-8")
        except UnicodeError:
            reason = ""
        return ("close", (p[0] << 8) | p[1], reason)

    def reply(self, event):
        """Bytes to send in answer to an event (pong for ping, close for close), or None."""
        if event[0] == "ping":
            return self._frame(OP_PONG, event[1])
        if event[0] == "close" and not self.close_sent:
            return self.send_close(event[1])
        return None

    # -- sending: messages are framed in place by seal_frame (the codecs' seal) -----

    def send_close(self, code=1000, reason=""):
        """Close frame (once: b"" if already sent). code None: no status code."""
        if self.close_sent:
            return b""
        self.close_sent = True
        payload = b"" if code is None else bytes((code >> 8, code & 0xFF)) + reason.encode()
        return self._frame(OP_CLOSE, payload)

    def _frame(self, op, payload):
        n = len(payload)
        buf = bytearray(14 + n)
        buf[14:] = payload
        return bytes(frame_in_place(buf, 14, n, op))


def frame_header(op, n, masked=True):
    """FIN frame header for a payload of n bytes (without the mask key)."""
    m = 0x80 if masked else 0
    if n < 126:
        return bytes((0x80 | op, m | n))
    if n < 65536:
        return bytes((0x80 | op, m | 126, n >> 8, n & 0xFF))
    return bytes((0x80 | op, m | 127)) + n.to_bytes(8, "big")
