"""Binary-protocol test support: a FakeLink that speaks it, the model fields
of a decoded message, and the documented frames of binary_frames.txt.

    link = open_binary_link()             # CHALLENGE, ACCEPT, AUTH, AUTH_SUCCESSFUL done
    link.client.event.emit("a", 1)
    [payload] = link.sent()               # websocket payloads (bytes), one per message
    fields_of(decode(payload))            # {"data": 1, "name": "a"}
    link.receive("0610021a020803")        # a payload, as bytes or hex

deepstream.testing.FakeLink speaks the text protocol only; BinaryLink drives
the same Connection, but takes what a driver would write (take_frame():
framed and masked) and checks each websocket frame on the way: binary,
final, masked. Used by the binary unit tests (both runtimes), the binary
fuzzer (tools/fuzz_mp_bin.py) and host_tests/test_binary_server_safety.py.
"""
import json

from deepstream import binary_codec
from deepstream.message import UNDEFINED
from deepstream.testing import FakeLink, open_link
from deepstream.ws import mask_in_place

ACCEPT = bytes.fromhex("0610021a020804")  # CONNECTION ACCEPT
AUTH_OK = bytes.fromhex("0610031a020803")  # AUTH AUTH_SUCCESSFUL

# the model's fields that fields_of() reports (data and bad apart)
FIELDS = ("name", "names", "cid", "version", "path", "subscription", "versions", "original", "url",
          "is_ack", "is_write_ack")


class BinaryLink(FakeLink):
    """FakeLink over the binary protocol: frames are websocket payloads (bytes)."""

    def __init__(self, url="localhost:6020", **options):
        options["protocol"] = "binary"
        FakeLink.__init__(self, url, **options)

    def open(self, accept=True):
        FakeLink.open(self, accept=False)  # the socket is up: the client challenges
        if accept:
            self.receive(ACCEPT)

    def login(self, auth=None, reply=AUTH_OK):
        FakeLink.login(self, auth, reply)

    def receive(self, payload):
        self.conn.receive_binary(bytes.fromhex(payload) if isinstance(payload, str) else payload)
        self.pump()

    def pump(self):
        conn = self.conn
        while True:
            n = conn.take_frame()
            if not n:
                break
            self.frames += unframe(conn.frame[conn.frame_start:conn.frame_start + n])
        if conn.want_close:
            conn.socket_closed(None)


def unframe(data):
    """The payloads of the client's websocket frames in `data`, unmasked.
    AssertionError for a frame a client must not write."""
    buf = bytearray(data)
    out = []
    i = 0
    while i < len(buf):
        assert buf[i] == 0x82, "not a final binary frame: %02x" % buf[i]
        assert buf[i + 1] & 0x80, "not masked"
        start, n = binary_codec._frame_at(buf, i)
        assert start + n <= len(buf), "frame cut short"
        mask_in_place(buf, start, n)
        out.append(bytes(buf[start:start + n]))
        i = start + n
    return out


def open_binary_link(**options):
    """A BinaryLink that is connected and logged in, what it sent so far cleared."""
    return open_link(BinaryLink, **options)


def decode(payload):
    """A websocket payload as a Message of the model (ParseError if it is none)."""
    return binary_codec._decode(payload, 0, len(payload))


def payload_of(encoded):
    """The payload of an encoded message (a whole frame with an empty mask key)."""
    start, n = binary_codec._frame_at(encoded, 0)
    return bytes(encoded[start:start + n])


def fields_of(m):
    """The fields message m carries, as a dict: its model fields other than
    None/False, data when it has a value, bad: True when its data was not JSON."""
    out = {}
    for name in FIELDS:
        value = getattr(m, name)
        if value is not None and value is not False:
            out[name] = value
    if m.data is not UNDEFINED:
        out["data"] = m.data
    if m.bad is not None:
        out["bad"] = True
    return out


def encode(topic, action, fields):
    """binary_codec.encode() of a message with these fields (as fields_of gives them)."""
    get = fields.get
    return binary_codec.encode(topic, action, get("name"), get("data", UNDEFINED), get("cid"), get("names"),
                               get("path"), get("version"), get("is_write_ack", False), get("subscription"))


def _here():
    path = __file__
    i = path.rfind("/")
    return path[:i + 1] if i >= 0 else ""


FRAMES = _here() + "binary_frames.txt"


def documented_frames(path=FRAMES):
    """The frames of binary_frames.txt, one at a time: (kind, payload, topic,
    action, fields); topic, action and fields are None for kind X."""
    with open(path) as f:
        for line in f:
            line = line.strip()
            if not line or line[0] == "#":
                continue
            parts = line.split(" ", 4)
            payload = b"" if parts[1] == "-" else bytes.fromhex(parts[1])
            if parts[0] == "X":
                yield "X", payload, None, None, None
            else:
                yield parts[0], payload, int(parts[2]), int(parts[3]), json.loads(parts[4])
