"""The facts of README "Server set-up", checked against @deepstream/server 7.0.2.

* the README's ws-text entry, added to the shipped config.yml, serves this client at
  /deepstream-v3 (next to the binary endpoint at /deepstream);
* the path must match exactly;
* heartbeatInterval: C|PI right after the upgrade and once per interval; a connection
  that sends nothing is closed after two to three intervals;
* maxMessageSize: a bigger message from a client closes the connection with 1009; the
  server sends each message in a frame of its own, so one too big for the client's
  max_message_size is skipped and the next one arrives (on both endpoints);
* unauthenticatedClientTimeout, maxAuthAttempts: the connection is closed, the client
  stays CLOSED (on both endpoints: CONNECTION AUTHENTICATION_TIMEOUT and AUTH
  TOO_MANY_AUTH_ATTEMPTS are numbers on binary, the same error names to the client).
"""
import base64
import os
import re
import socket
import time

import pytest

from support.dsserver import PATHS, URL_PATH, DeepstreamServer
from support.pyclient import pump_until

from deepstream import Client

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
HEARTBEAT = 500
MAX_MESSAGE = 4000
UNAUTH_TIMEOUT = 3000  # longer than the heartbeat test watches a silent connection
USERS = {"dev": {"password": "pw"}}


def readme_ws_text_entry():
    """The yaml block of README 'Server set-up' (connectionEndpoints: and its entry)."""
    with open(os.path.join(REPO, "README.md")) as f:
        readme = f.read()
    section = readme[readme.index("## Server set-up"):]
    block = re.search(r"```yaml\n(.*?)```", section, re.S).group(1)
    assert block.startswith("connectionEndpoints:\n  - type: ws-text\n"), block
    return block


class ReadmeConfigServer(DeepstreamServer):
    """The shipped config.yml with the README's ws-text entry added to its endpoints."""

    def _write_config(self):
        super()._write_config()
        with open(self.config_path) as f:
            text = f.read()
        entry = readme_ws_text_entry()[len("connectionEndpoints:\n"):]
        assert text.count("\nconnectionEndpoints:\n") == 1
        text = text.replace("\nconnectionEndpoints:\n", "\nconnectionEndpoints:\n" + entry, 1)
        with open(self.config_path, "w") as f:
            f.write(text)


def test_readme_entry_in_the_shipped_config():
    with ReadmeConfigServer(default_config=True) as srv:
        client = Client("ws://%s:%d/deepstream-v3" % (srv.host, srv.port))
        done = []
        client.login({"username": "dev"}, lambda ok, data: done.append(ok))
        assert pump_until(client, lambda: done) and done == [True]
        client.close()
        client.poll(20)
        sock = RawSocket(srv.port, "/deepstream")  # the binary endpoint is still there
        assert sock.status.startswith(b"HTTP/1.1 101")
        sock.close()


# ---- one ws-text server with small limits ---------------------------------------------------

class RawSocket:
    """A websocket client on a plain socket that says nothing unless told: frames
    received are kept as (seconds since the upgrade, opcode, payload)."""

    def __init__(self, port, path=URL_PATH):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=5)
        key = base64.b64encode(os.urandom(16)).decode()
        self.sock.sendall(("GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                           "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n\r\n" % (path, key)).encode())
        self.start = time.monotonic()
        self.buf = b""
        while b"\r\n\r\n" not in self.buf:
            chunk = self.sock.recv(4096)
            if not chunk:
                break
            self.buf += chunk
        head, _, self.buf = self.buf.partition(b"\r\n\r\n")
        self.status = head.split(b"\r\n", 1)[0]
        self.frames = []
        self.closed_at = None  # seconds since the upgrade: close frame or end of stream

    def send_text(self, text):
        payload, key = text.encode(), os.urandom(4)
        n = len(payload)
        head = bytes((0x81, 0x80 | n)) if n < 126 else bytes((0x81, 0x80 | 126, n >> 8, n & 255))
        self.sock.sendall(head + key + bytes(b ^ key[i & 3] for i, b in enumerate(payload)))

    def read(self, seconds):
        """Collect frames for `seconds` or until the server closes the TCP connection."""
        end = time.monotonic() + seconds
        while self.closed_at is None and time.monotonic() < end:
            self.sock.settimeout(max(0.01, end - time.monotonic()))
            try:
                chunk = self.sock.recv(65536)
            except socket.timeout:
                break
            if not chunk:
                self.closed_at = time.monotonic() - self.start
                break
            self.buf += chunk
            self._frames()
        return self.frames

    def _frames(self):
        while len(self.buf) >= 2:
            n, i = self.buf[1] & 0x7F, 2
            if n == 126:
                n, i = int.from_bytes(self.buf[2:4], "big"), 4
            if len(self.buf) < i + n:
                return
            frame = (time.monotonic() - self.start, self.buf[0] & 0x0F, self.buf[i:i + n])
            self.frames.append(frame)
            self.buf = self.buf[i + n:]
            if frame[1] == 8:
                self.closed_at = frame[0]

    def close(self):
        self.sock.close()


@pytest.fixture(scope="module")
def srv():
    options = {"heartbeatInterval": HEARTBEAT, "maxMessageSize": MAX_MESSAGE,
               "unauthenticatedClientTimeout": UNAUTH_TIMEOUT, "maxAuthAttempts": 3}
    server = DeepstreamServer(auth=USERS, extra_config={"connectionEndpoints": [
        {"type": "ws-" + protocol, "options": dict(options, urlPath=path)} for protocol, path in PATHS.items()]})
    server.start()
    yield server
    server.close()


def test_exact_path_only(srv):
    for path in (URL_PATH + "/", URL_PATH + "?x=1", URL_PATH.upper()):
        sock = RawSocket(srv.port, path)
        assert sock.status == b"" and sock.read(1) == [] and sock.closed_at is not None, path
        sock.close()


def test_heartbeat_pings_and_closes_a_silent_connection(srv):
    sock = RawSocket(srv.port)
    frames = sock.read(4 * HEARTBEAT / 1000)
    sock.close()
    texts = [(t, p) for t, op, p in frames if op == 1]
    # C|A and the first C|PI at once, each in a frame of its own, then one C|PI per interval
    # (measured from C|A: on a loaded machine the server may take a while to say anything)
    assert [p for _, p in texts[:2]] == [b"C\x1fA\x1e", b"C\x1fPI\x1e"] and texts[1][0] - texts[0][0] < 0.2, texts
    # one C|PI per interval until the close (2-3.5 intervals: below). Counted, not timed:
    # frames one read returns share its time, and on a busy machine (the tests run in
    # parallel) one read may hold every ping, so the gaps between them say nothing
    pings = [t for t, p in texts if p == b"C\x1fPI\x1e"]
    assert 2 <= len(pings) <= 4, texts
    assert frames[-1][1:] == (8, b""), frames  # the close frame, no deepstream message before it
    # the server's clock starts between our connect (0) and the read of its C|A: closed
    # no sooner than two intervals after the one, no later than 3.5 after the other
    assert 2 * HEARTBEAT <= sock.closed_at * 1000, sock.closed_at
    assert (sock.closed_at - texts[0][0]) * 1000 <= 3.5 * HEARTBEAT, (sock.closed_at, texts[0][0])


def test_a_message_over_max_message_size_closes_with_1009(srv):
    sock = RawSocket(srv.port)
    sock.read(0.1)
    sock.send_text("E\x1fEVT\x1fbig\x1fS" + "x" * MAX_MESSAGE + "\x1e")
    frames = sock.read(2)
    sock.close()
    closes = [p for _, op, p in frames if op == 8]
    assert closes and closes[0][:2] == (1009).to_bytes(2, "big"), frames
    assert sock.closed_at is not None


def test_each_message_in_its_own_frame_so_only_the_big_one_is_skipped(srv, protocol):
    receiver = Client(srv.url_for(protocol), max_message_size=1024, heartbeat_interval=HEARTBEAT)
    sender = Client(srv.url_for(protocol), heartbeat_interval=HEARTBEAT)
    errors, got, ok = [], [], []
    receiver.on("error", lambda msg, event, topic: errors.append(event))
    for c in (receiver, sender):
        c.login({"username": "dev", "password": "pw"}, lambda success, data: ok.append(success))
    receiver.event.subscribe("setup/size", got.append)

    def both():
        receiver.poll(10)
        sender.poll(10)
    assert pump_until(receiver, lambda: both() or len(ok) == 2) and ok == [True, True]
    pump_until(receiver, lambda: both() or False, 0.3)  # the subscription reaches the server
    sender.event.emit("setup/size", "x" * 2000)
    sender.event.emit("setup/size", "small")
    assert pump_until(receiver, lambda: both() or got)
    assert got == ["small"] and errors == ["MESSAGE_TOO_LARGE"]
    assert receiver.get_connection_state() == "OPEN"
    for c in (receiver, sender):
        c.close()
        c.poll(20)


def test_no_login_in_time_closes_for_good(srv, protocol):
    client = Client(srv.url_for(protocol), heartbeat_interval=HEARTBEAT)
    errors = []
    client.on("error", lambda msg, event, topic: errors.append(event))
    assert pump_until(client, lambda: client.get_connection_state() == "CLOSED", UNAUTH_TIMEOUT / 1000 + 3)
    assert errors == ["CONNECTION_AUTHENTICATION_TIMEOUT"]
    client.login({"username": "dev", "password": "pw"})
    assert errors[-1] == "IS_CLOSED" and client.get_connection_state() == "CLOSED"


def test_too_many_failed_logins_close_for_good(srv, protocol):
    client = Client(srv.url_for(protocol), heartbeat_interval=HEARTBEAT)
    results = []
    for attempt in range(3):
        client.login({"username": "dev", "password": "wrong"}, lambda ok, data: results.append((ok, data)))
        assert pump_until(client, lambda: len(results) > attempt)
    assert pump_until(client, lambda: client.get_connection_state() == "CLOSED")
    assert results and not any(ok for ok, _ in results), results
    errors = []
    client.on("error", lambda msg, event, topic: errors.append(event))
    client.login({"username": "dev", "password": "pw"})
    assert errors == ["IS_CLOSED"] and client.get_connection_state() == "CLOSED"
