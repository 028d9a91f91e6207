"""protocol="auto" test support: a FakeLink whose endpoint speaks either protocol.

    link = AutoLink(BINARY_GUESS)       # the URL guesses binary
    link.client.event.emit("t", 1)      # encoded as binary, queued
    link.open_text()                    # the endpoint says C|A: the client speaks text
    link.login()                        # (a binary endpoint: open_binary(), login_binary())
    text_messages(link.sent())          # ["E|EVT|t|N1"]

sent() gives text frames in the documentation notation (FakeLink's) and
binary messages as their payloads; binary_messages() reads those as
(topic, action, fields) with binary_helpers, which a test that calls it
imports itself (mptest.py finds test modules only while it imports the test
file). Nothing here keeps the binary codec: after a switch to text it is
unloaded, as on a board, not kept by the test.
"""
import os

from deepstream.connection import HEADROOM
from deepstream.testing import FakeLink, to_text, to_wire

TEXT_GUESS = "localhost:6020/deepstream-v3"
BINARY_GUESS = "localhost:6020"  # a bare host:port gets /deepstream: binary
OUTBOX = "/tmp/ds-test-auto-%d.bin" % os.getpid() if hasattr(os, "getpid") else "/tmp/ds-test-auto.bin"


def nop(*args):
    pass


class AutoLink(FakeLink):
    def __init__(self, url, **options):
        options["protocol"] = "auto"
        options.setdefault("reconnect_jitter", 0)
        options.setdefault("max_queued_bytes", 2048)  # (the MicroPython unit runs' heap)
        FakeLink.__init__(self, url, **options)

    def open_text(self):
        FakeLink.open(self)  # the endpoint says C|A

    def open_binary(self, accept=True):
        FakeLink.open(self, accept=False)
        self.advance(500)  # silence: the client challenges as binary
        if accept:
            self.receive(payload(2, 4))  # CONNECTION ACCEPT

    def login_binary(self):
        FakeLink.login(self, reply=auth_ok())

    def receive(self, frame):
        if isinstance(frame, str):
            self.conn.receive_text(to_wire(frame))
        else:
            self.conn.receive_binary(frame)
        self.pump()

    def pump(self):
        conn = self.conn
        while True:
            n = conn.take_payload()
            if not n:
                break
            data = bytes(conn.frame[HEADROOM:HEADROOM + n])
            self.frames += _payloads(data) if data[:1] == b"\x82" else [to_text(data.decode())]
        if conn.want_close:
            conn.socket_closed(None)

    def reconnect(self):
        self.advance(0)  # the first reconnect waits 0 ms


def _payloads(data):
    """The payloads of the binary messages (frames with empty mask keys) in data."""
    from deepstream.binary_codec import _frame_at
    out = []
    i = 0
    while i < len(data):
        start, n = _frame_at(data, i)
        out.append(data[start:start + n])
        i = start + n
    return out


def payload(topic, action, **fields):
    """A binary message from the endpoint: its payload (fields as binary_codec.encode takes them)."""
    from deepstream.binary_codec import encode
    return _payloads(bytes(encode(topic, action, **fields)))[0]


def auth_ok():
    """AUTH AUTH_SUCCESSFUL."""
    return payload(3, 3)


def text_messages(frames):
    """The text messages in frames, without the login (A|REQ)."""
    return [m for f in frames if isinstance(f, str) for m in f.split("+") if m and not m.startswith("A|")]


def binary_messages(frames, handshake=False):
    """The binary messages in frames as (topic, action, fields), without the
    handshake and the login unless asked."""
    from binary_helpers import decode, fields_of
    out = []
    for f in frames:
        if not isinstance(f, str):
            m = decode(f)
            if handshake or m.topic > 3:
                out.append((m.topic, m.action, fields_of(m)))
    return out


def failing(name, after):
    """Patch convert.<name> to run `after` times, then raise MemoryError; returns an undo."""
    from deepstream import convert
    real = getattr(convert, name)
    calls = []

    def fn(*args):
        calls.append(1)
        if len(calls) > after:
            raise MemoryError("memory allocation failed")
        return real(*args)
    setattr(convert, name, fn)
    return lambda: setattr(convert, name, real)


def fresh_outbox():
    """OUTBOX's path, the file removed (a run before may have left it)."""
    from deepstream.outbox import Outbox
    Outbox(OUTBOX, 0).clear()
    return OUTBOX
