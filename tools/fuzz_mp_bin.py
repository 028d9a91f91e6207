"""The `binary` target of tools/fuzz_mp.py: binary-protocol frames into a
client logged in over binary (see fuzz_mp.py for the runs and the report).

    micropython -X heapsize=240K tools/fuzz_mp.py binary SEED COUNT

Needs host_tests/unit/binary_helpers.py (BinaryLink) and, next to it,
binary_frames.txt on the path (host_tests/test_fuzz_micropython.py has the
heap sizes). The frames:
  documented  the frames observed between 7.0.2 and JS 7.0.5, as they are or
              mutated (fuzz_mp_ws.ws_mutate: bits flipped, bytes replaced,
              inserted, deleted, the frame cut short)
  built       at random: any topic (unknown ones too), a length prefix that is
              right, short, long, huge or missing, bytes after the message;
              topic messages with any action and fields of every wire type
              (the invalid 3, 4, 6, 7 too), field numbers of one- and two-byte
              keys, varints of 1 to 11 bytes (ten-byte negatives, truncated
              ones), lengths past the end and huge ones, map entries, and the
              names, ids and JSON (or not) data the client's state is about;
              sometimes mutated as well
  garbage     random bytes
The client holds event subscriptions and a listen, a provided RPC and a call
in flight, a subscribed record and a record listen, presence subscriptions
and a query.

Checks for every input: nothing escapes Connection.receive_binary() or the
timers; error events carry text; a frame the decoder refuses is an error
event, unless the codec's hot path (an event, a reply to our call, a pong)
took it in place; the link stays OPEN unless the frame was a REJECT,
REDIRECT or AUTHENTICATION_TIMEOUT (then a fresh client, counted as a
reset); every 64 inputs a valid event still reaches its subscriber. At the
end the heap must be within HEAP_SLACK bytes of what it was after the first
WARM inputs (MicroPython: gc.mem_alloc(); CPython: tracemalloc), after a
collection.
"""
import gc

from fuzz_mp import Rng, fail, report
from fuzz_mp_ws import ws_mutate

WARM = 2000
HEAP_SLACK = 4096
NAMES = ("fz/a", "fz/b", "fz/.*", "fz/rec", "fz/rpc", "fz/call", "alice", "", "\u00e4/\U0001f600", "cfg.x[1]")
DATA = (b"1", b"-2.5e3", b"\"s\"", b"{\"a\":1}", b"[1,{\"b\":[null]}]", b"null", b"true", b"{not json", b"", b"U",
        b"\xff\xfe", b"[[[[[[[[[[", b"1e999", b"\"\\ud800\"")
WIRE_TYPES = (0, 0, 2, 2, 2, 2, 1, 5, 3, 4, 6, 7)
CLOSERS = (6, 7, 100)  # CONNECTION REJECT, REDIRECT, AUTHENTICATION_TIMEOUT: the link may close


def _varint(n):
    from deepstream.binary_codec import _put_int32
    buf = bytearray(16)
    return bytes(buf[:_put_int32(buf, 0, n)])


def number(rng, valid=False):
    """A varint's bytes: small, large, a negative int32 (ten bytes), or (unless
    valid) not a valid one."""
    k = rng.below(12 if valid else 16)
    if k < 8:
        return _varint(rng.below(130))
    if k < 10:
        return _varint(rng.below(1 << 21) + 128)
    if k < 12:
        return _varint(-1 - rng.below(1 << rng.pick((3, 16, 31))))
    if k == 12:
        return _varint((1 << 31) + rng.below(1 << 20))  # five bytes, past int32
    if k == 13:
        return b"\xff" * 10 + b"\x01"  # eleven bytes
    return b"\x80" * (1 + rng.below(10))  # truncated: every byte says another follows


class Corpus:
    """The documented frames, packed into one buffer: as a list of small bytes
    objects they would be spread all over the heap, and a new client's 1 KB
    frame buffer could find no room."""

    def __init__(self):
        from binary_helpers import documented_frames
        n = size = 0
        for _, payload, _, _, _ in documented_frames():
            n += 1
            size += len(payload)
        gc.collect()
        self.buf = bytearray(size)
        self.ends = [0] * (n + 1)
        i = 0
        for k, (_, payload, _, _, _) in enumerate(documented_frames()):
            self.buf[i:i + len(payload)] = payload
            i += len(payload)
            self.ends[k + 1] = i

    def pick(self, rng):
        k = rng.below(len(self.ends) - 1)
        return bytes(self.buf[self.ends[k]:self.ends[k + 1]])


class Frames:
    """The inputs: documented, built at random, garbage (see the module doc)."""

    def __init__(self, rng, corpus):
        self.rng = rng
        self.corpus = corpus
        self.cids = [b"0", b"1"]  # correlation ids the client waits on (set by Core)
        self.clean = False  # the frame being built is well-formed, only its values are random

    def next(self):
        rng = self.rng
        k = rng.below(20)
        if k < 8:
            frame = self.corpus.pick(rng)
            return ws_mutate(rng, frame) if k < 6 else frame
        if k < 18:
            frame = self.wrapper()
            return ws_mutate(rng, frame) if k == 17 else frame
        return bytes(rng.below(256) for _ in range(rng.below(40)))

    def text(self):
        rng = self.rng
        k = rng.below(10)
        if k < 5:
            return rng.pick(NAMES).encode()
        if k < 7:
            return rng.pick(self.cids)
        if k < 9:
            return rng.pick(DATA)
        return bytes(rng.below(256) for _ in range(rng.below(12)))

    def field(self, topic):
        rng = self.rng
        n = 1 + rng.below(15) if rng.below(8) or self.clean else 16 + rng.below(8)  # keys of one or two bytes
        wt = rng.pick(WIRE_TYPES[:6] if self.clean else WIRE_TYPES)
        key = _varint(n << 3 | wt)
        if wt == 0:
            return key + number(rng, self.clean)
        if wt == 1 or wt == 5:
            return key + bytes(rng.below(256) for _ in range(rng.below(9 if wt == 1 else 5)))
        if wt != 2:
            return key + bytes(rng.below(256) for _ in range(rng.below(4)))
        if topic == 5 and n == 14 and rng.below(2):  # an entry of HEAD_RESPONSE_BULK's map
            name = self.text()
            value = b"\x0a" + _varint(len(name)) + name + b"\x10" + number(rng, self.clean)
        else:
            value = self.text()
        return key + self.length(len(value)) + value

    def length(self, n):
        """The length of n bytes: mostly right, else short, past the end, huge."""
        rng = self.rng
        k = rng.below(12)
        if k < 9 or self.clean:
            return _varint(n)
        if k == 9:
            return _varint(n + 1 + rng.below(300))
        if k == 10:
            return _varint(rng.below(n + 1))
        return rng.pick((b"\xff\xff\xff\xff\x0f", b"\x80\x80\x80\x80\x80\x80\x80\x80\x80\x01", b"\xff"))

    def body(self, topic):
        rng = self.rng
        action = _varint(rng.below(16) if rng.below(4) else rng.pick((100, 101, 102, 103, 107, 115, 118)))
        out = b"" if rng.below(12) == 0 else b"\x08" + (action if rng.below(6) else number(rng, self.clean))
        for _ in range(rng.below(7)):
            out += self.field(topic)
        return out

    def wrapper(self):
        rng = self.rng
        self.clean = rng.below(2) == 0
        k = rng.below(16)
        topic = 1 + rng.below(7) if k < 12 or self.clean else rng.pick((0, 8, 9, 12, 50, 100, 1 << 20))
        body = self.body(topic)
        msg = b"\x10" + _varint(topic) + b"\x1a" + self.length(len(body)) + body
        if rng.below(8) == 0:
            msg = self.field(topic) + msg if rng.below(2) else msg + self.field(topic)
        frame = msg if rng.below(16) == 0 and not self.clean else self.length(len(msg)) + msg
        if rng.below(16) == 0:
            frame += self.corpus.pick(rng)  # a second message, which must be ignored
        return frame


def ignore(*args):
    pass


class Core:
    """A client logged in over binary, with state of every topic."""

    def __init__(self):
        from binary_helpers import open_binary_link
        self.link = link = open_binary_link(subscription_timeout=200, rpc_ack_timeout=300,
                                            rpc_response_timeout=500, record_read_timeout=500,
                                            record_read_ack_timeout=500, heartbeat_interval=1000000)
        self.got = []
        c = link.client
        c.event.subscribe("fz/a", self.got.append)
        c.event.subscribe("fz/b", ignore)
        c.event.listen("fz/.*", self._on_listen)
        c.rpc.provide("fz/rpc", self._on_rpc)
        self.cid = c.rpc.make("fz/call", 1, ignore).encode()
        c.record.get_record("fz/rec").subscribe("b", ignore)
        c.record.listen("fz/.*", self._on_listen)
        c.presence.subscribe(ignore)
        c.presence.subscribe("alice", ignore)
        c.presence.get_all(ignore)
        link.sent()

    def _on_listen(self, name, is_subscribed, response):
        if response is not None:
            response.accept() if len(name) & 1 else response.reject()

    def _on_rpc(self, data, response):
        response.send(data) if data != 0 else response.error("zero")

    def alive(self):
        conn = self.link.conn
        return conn.state == "OPEN" and conn._socket_open

    def check(self, n):
        """A valid event must reach its subscriber."""
        from binary_helpers import encode, payload_of
        del self.got[:]
        value = "check-%d" % n
        self.link.receive(payload_of(encode(4, 2, {"name": "fz/a", "data": value})))
        if self.got != [value]:
            return "valid event not delivered: %r" % (self.got,)
        return None


def refused(frame):
    """True if the decoder cannot read frame as a message."""
    from deepstream.binary_codec import ParseError, _decode
    try:
        _decode(frame, 0, len(frame))
    except (ParseError, ValueError, IndexError):  # UnicodeError is a ValueError
        return True
    return False


def hot(frame):
    """For the codec's hot path (an event, a reply to a call, a pong): read in
    place, not decoded whole, so what the full decode refuses may pass."""
    return (len(frame) > 6 and frame[0] < 0x80 and frame[0] + 1 == len(frame) and frame[1] == 0x10
            and frame[3] == 0x1A and frame[4] < 0x80 and 5 + frame[4] <= len(frame) and frame[5] == 0x08
            and (frame[2], frame[6]) in ((4, 2), (6, 4), (6, 5), (2, 3)))


def closer(frame):
    """A CONNECTION message that may take the link down."""
    if refused(frame):
        return False
    from deepstream.binary_codec import _decode
    m = _decode(frame, 0, len(frame))
    return m.topic == 2 and m.action in CLOSERS


def heap():
    """Bytes in use, with the modules that come and go unloaded (the
    handshake's: a stray CONNECTION message loads it, the next login drops
    it). CPython: what tracemalloc sees, imports aside (json loads a codec
    module the first time it meets UTF-16 or UTF-32 text)."""
    from deepstream import _unload
    _unload("handshake")
    gc.collect()
    try:
        return gc.mem_alloc()
    except AttributeError:
        import tracemalloc
        imports = (tracemalloc.Filter(False, "<frozen importlib*"), tracemalloc.Filter(False, "*/encodings/*"))
        return sum(t.size for t in tracemalloc.take_snapshot().filter_traces(imports).traces)


def run_binary(seed, count):
    try:
        import tracemalloc
        tracemalloc.start()
    except ImportError:
        pass
    rng = Rng(seed)
    frames = Frames(rng, Corpus())
    core = Core()
    frames.cids[1] = core.cid
    errors = resets = 0
    base = None
    heap()  # once before it counts: CPython caches what its first call makes (the filters' patterns)
    for n in range(count):
        if n == WARM:
            base = heap()
        frame = frames.next()
        link = core.link
        try:
            link.receive(frame)
            if rng.below(16) == 0:
                link.advance(rng.below(700))  # ack, RPC and read timeouts fire
        except Exception as err:  # the client let an exception out: a bug
            return fail("binary", seed, n, frame, "%s: %s" % (type(err).__name__, err))
        for event, msg, topic in link.errors:
            if not (isinstance(event, str) and isinstance(msg, str) and isinstance(topic, str)):
                return fail("binary", seed, n, frame, "error event with non-text fields %r" % ((event, msg, topic),))
        if not link.errors and refused(frame) and not hot(frame):
            return fail("binary", seed, n, frame, "refused by the decoder, but no error event")
        errors += len(link.errors)
        del link.errors[:]
        del link.frames[:]
        if not core.alive():
            if not closer(frame):
                return fail("binary", seed, n, frame, "the link left OPEN (%s)" % link.conn.state)
            resets += 1
            core = link = None  # the old client is garbage before the new one is made
            core = Core()
            frames.cids[1] = core.cid
        elif n % 64 == 63:
            problem = core.check(n)
            if problem:
                return fail("binary", seed, n, frame, problem)
    if base is not None:
        grown = heap() - base
        print("heap after %d inputs: %d bytes, %+d since input %d" % (count, base + grown, grown, WARM))
        if grown > HEAP_SLACK:
            return fail("binary", seed, count, b"", "the heap grew by %d bytes" % grown)
    return report("binary", seed, count, errors, resets)
