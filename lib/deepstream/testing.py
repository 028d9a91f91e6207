"""Test helpers for code that uses the client: no sockets, no waiting.

    from deepstream.testing import FakeLink
    link = FakeLink(subscription_timeout=100)
    link.open()                       # socket up, C|A from the "server"
    link.client.login({"username": "t"})
    link.receive("A|A+")
    link.client.event.emit("temp", 21)
    assert link.sent() == ["E|EVT|temp|N21+"]   # one entry per frame

Messages use the documentation notation: `|` for 0x1f and `+` for 0x1e.
"""
from .client import Client
from .connection import HEADROOM


def to_wire(text):
    return text.replace("|", "\x1f").replace("+", "\x1e")


def to_text(wire):
    return wire.replace("\x1f", "|").replace("\x1e", "+")


class FakeClock:
    def __init__(self, now=1000):
        self.now = now

    def __call__(self):
        return self.now


class FakeLink:
    """A Client whose driver is the test: frames sent are collected, time is a FakeClock."""

    def __init__(self, url="localhost:6020", **options):
        options.setdefault("protocol", "text")  # the notation above is the text protocol's
        self.clock = FakeClock()
        self.client = Client(url, clock=self.clock, **options)
        self.conn = self.client._conn
        self.frames = []  # every frame the client sent, as text
        self.errors = []
        self.opened = []  # urls the client asked to connect to
        self.client.on("error", lambda msg, event, topic: self.errors.append((event, msg, topic)))

    def open(self, accept=True):
        """Give the client the socket it asked for (and, by default, C|A)."""
        url = self.conn.take_open_request()
        if url is not None:
            self.opened.append(url)
        self.conn.socket_opened()
        if accept:
            self.receive("C|A+")
        self.pump()

    def receive(self, text):
        self.conn.receive_text(to_wire(text))
        self.pump()

    def advance(self, ms):
        """Let `ms` milliseconds pass, firing due timers on the way."""
        end = self.clock.now + ms
        while True:
            deadline = self.conn.next_deadline()
            if deadline is None or deadline > end:
                break
            self.clock.now = max(self.clock.now, deadline)
            self.conn.tick()
            self.pump()
        self.clock.now = end
        self.conn.tick()
        self.pump()

    def pump(self):
        """What a driver does after every input: send ready frames, honour close."""
        conn = self.conn
        while True:
            n = conn.take_payload()  # what the server reads: no masking to undo
            if not n:
                break
            self.frames.append(to_text(bytes(conn.frame[HEADROOM:HEADROOM + n]).decode()))
        if conn.want_close:
            conn.socket_closed(None)

    def drop(self):
        """The socket dies without a close handshake."""
        self.conn.socket_closed("connection lost")
        self.pump()

    def sent(self):
        """Frames sent since the last call (sending what is queued first)."""
        self.pump()
        out = self.frames
        self.frames = []
        return out

    def login(self, auth=None, reply="A|A+"):
        self.client.login(auth or {"username": "test"})
        self.pump()
        self.receive(reply)


def open_link(link_class=FakeLink, **options):
    """A FakeLink (or link_class, a subclass) that is connected and logged in,
    with what it sent so far cleared."""
    link = link_class(**options)
    link.open()
    link.login()
    link.sent()
    return link


def ready_record(link, name="rec", version=1, data='{"a":1}'):
    """get_record(name) on `link`, answered by the "server" with `version` and `data` (JSON)."""
    rec = link.client.record.get_record(name)
    link.receive("R|A|S|%s+" % name)
    link.receive("R|R|%s|%d|%s+" % (name, version, data))
    link.sent()
    return rec
