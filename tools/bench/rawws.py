"""A lean raw websocket peer for the benchmark's host side (CPython only).

Used as the subscriber that counts what arrives (so that the subscriber is
never the bottleneck: one recv of up to 256 KB, frames cut by index, messages
counted with bytes.count) and as the sender of the events that the
MicroPython allocation probe receives. Not the library: nothing here is
shared with lib/deepstream.
"""
import base64
import os
import socket
import threading
import time

US, RS = b"\x1f", b"\x1e"


def parse_url(url):
    rest = url.split("://", 1)[1]
    hostport, _, path = rest.partition("/")
    host, _, port = hostport.partition(":")
    return host, int(port or 80), "/" + path


def mask(payload, key):
    n = len(payload)
    k = (key * (n // 4 + 1))[:n]
    return (int.from_bytes(payload, "big") ^ int.from_bytes(k, "big")).to_bytes(n, "big")


def frame(payload, op=1):
    n = len(payload)
    if n < 126:
        head = bytes((0x80 | op, 0x80 | n))
    elif n < 65536:
        head = bytes((0x80 | op, 0x80 | 126)) + n.to_bytes(2, "big")
    else:
        head = bytes((0x80 | op, 0x80 | 127)) + n.to_bytes(8, "big")
    key = os.urandom(4)
    return head + key + mask(payload, key)


class RawWs:
    def __init__(self, url, timeout=10.0):
        host, port, path = parse_url(url)
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        key = base64.b64encode(os.urandom(16)).decode()
        self.sock.sendall((
            "GET %s HTTP/1.1\r\nHost: %s:%d\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n\r\n" % (path, host, port, key)
        ).encode())
        buf = b""
        while b"\r\n\r\n" not in buf:
            chunk = self.sock.recv(4096)
            if not chunk:
                raise OSError("closed during handshake")
            buf += chunk
        head, _, rest = buf.partition(b"\r\n\r\n")
        if b" 101 " not in head.split(b"\r\n", 1)[0]:
            raise OSError("no 101: %r" % head[:80])
        self.buf = bytearray(rest)

    def send_text(self, text):
        self.sock.sendall(frame(text.encode() if isinstance(text, str) else text))

    def send_messages(self, messages, batch=100):
        """Send deepstream messages (str, each ending in 0x1e) batched into frames."""
        for i in range(0, len(messages), batch):
            self.send_text("".join(messages[i:i + batch]))

    def frames(self):
        """Yield (opcode, payload bytes) forever; raises OSError on close/timeout."""
        buf = self.buf
        while True:
            pos = 0
            while True:
                avail = len(buf) - pos
                if avail < 2:
                    break
                b1 = buf[pos + 1] & 0x7F
                hl = 2
                if b1 == 126:
                    hl = 4
                    if avail < 4:
                        break
                    b1 = int.from_bytes(buf[pos + 2:pos + 4], "big")
                elif b1 == 127:
                    hl = 10
                    if avail < 10:
                        break
                    b1 = int.from_bytes(buf[pos + 2:pos + 10], "big")
                if avail < hl + b1:
                    break
                op = buf[pos] & 0x0F
                payload = bytes(buf[pos + hl:pos + hl + b1])
                pos += hl + b1
                if op == 9:
                    self.sock.sendall(frame(payload, 10))
                elif op == 8:
                    raise OSError("server closed the websocket")
                else:
                    yield op, payload
            if pos:
                del buf[:pos]
            chunk = self.sock.recv(262144)
            if not chunk:
                raise OSError("connection closed")
            buf += chunk

    def messages(self):
        """Yield each deepstream message (bytes, without 0x1e); answers C|PI."""
        for op, payload in self.frames():
            for msg in payload.split(RS):
                if msg == b"C\x1fPI":
                    self.send_text("C\x1fPO\x1e")
                elif msg:
                    yield msg

    def wait_for(self, prefix):
        for msg in self.messages():
            if msg.startswith(prefix):
                return msg

    def login(self, username):
        self.wait_for(b"C\x1fA")
        self.send_text('A\x1fREQ\x1f{"username":"%s"}\x1e' % username)
        msg = self.wait_for(b"A\x1f")
        if not msg.startswith(b"A\x1fA"):
            raise OSError("login refused: %r" % msg)

    def close(self):
        try:
            self.sock.sendall(frame(b"\x03\xe8", 8))
        except OSError:
            pass
        self.sock.close()


class Counter(threading.Thread):
    """Subscribe (events: E|S, records: R|CR), then count `marker` occurrences in
    incoming frames until `n` have arrived; record perf_counter() of the frame that
    held the first and of the one that held the last, then emit `done_event` so the
    publisher knows it can stop."""

    def __init__(self, url, subscribe, ack_prefix, marker, n, done_event, timeout=120.0):
        super().__init__(daemon=True)
        self.ws = RawWs(url)
        self.ws.login("bench-counter")
        self.ws.send_text(subscribe)
        self.ws.wait_for(ack_prefix)
        self.marker = marker
        self.n = n
        self.done_event = done_event
        self.timeout = timeout
        self.count = 0
        self.first = self.last = None
        self.first_count = 0
        self.error = None
        self.finished = threading.Event()

    def run(self):
        ws = self.ws
        marker = self.marker
        ws.sock.settimeout(self.timeout)
        try:
            for op, payload in ws.frames():
                c = payload.count(marker)
                if c:
                    now = time.perf_counter()
                    if self.first is None:
                        self.first = now
                        self.first_count = c
                    self.count += c
                    if self.count >= self.n:
                        self.last = now
                        break
                elif b"C\x1fPI" in payload:
                    ws.send_text("C\x1fPO\x1e")
            ws.send_text("E\x1fEVT\x1f%s\x1fL\x1e" % self.done_event)
        except Exception as err:  # reported by the caller with the count reached
            self.error = err
        finally:
            self.finished.set()

    def rate(self):
        """Messages per second from the first to the last arrival (None if incomplete)."""
        if self.last is None or self.last <= self.first:
            return None
        return (self.n - self.first_count) / (self.last - self.first)

    def close(self):
        self.ws.close()
