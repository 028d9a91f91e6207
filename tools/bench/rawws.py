"""A lean raw websocket peer for the benchmark's host side (CPython only).

Used as the subscriber that counts what arrives (so that the subscriber is
never the bottleneck: one recv of up to 256 KB, frames cut by index, nothing
sliced out of a frame it counts) and as the sender of the events that the
MicroPython allocation probe receives. Not the library: nothing here is
shared with lib/deepstream. It speaks the URL's protocol: /deepstream-v3
text, any other path binary (pbmsg.py builds those messages).
"""
import base64
import os
import socket
import threading
import time

import pbmsg as pb

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
        self.binary = path != "/deepstream-v3"
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

    def send(self, message):
        """One message: a text one (str) in a frame of its own, or a binary payload (pbmsg.message)."""
        if self.binary:
            self.sock.sendall(frame(message, 2))
        else:
            self.send_text(message)

    def send_messages(self, messages, batch=100):
        """Send messages `batch` to a socket write: text ones (str, each ending
        in 0x1e) in one frame, binary ones in a frame each."""
        for i in range(0, len(messages), batch):
            if self.binary:
                self.sock.sendall(b"".join(frame(m, 2) for m in messages[i:i + batch]))
            else:
                self.send_text("".join(messages[i:i + batch]))

    def frames(self):
        """Yield (opcode, buffer, start, end) for each frame, its payload at
        buffer[start:end] (valid until the next step), forever; raises OSError
        on close/timeout."""
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
                start = pos + hl
                pos = start + b1
                if op == 9:
                    self.sock.sendall(frame(bytes(buf[start:pos]), 10))
                elif op == 8:
                    raise OSError("server closed the websocket")
                else:
                    yield op, buf, start, pos
            if pos:
                del buf[:pos]
            chunk = self.sock.recv(262144)
            if not chunk:
                raise OSError("connection closed")
            buf += chunk

    def messages(self):
        """Yield each deepstream message (bytes; text: without 0x1e); answers C|PI."""
        for op, buf, start, end in self.frames():
            if self.binary:
                yield bytes(buf[start:end])
                continue
            for msg in bytes(buf[start:end]).split(RS):
                if msg == b"C\x1fPI":
                    self.send_text("C\x1fPO\x1e")
                elif msg:
                    yield msg

    def wait_for(self, prefix):
        """The next message starting with `prefix` (text), or of kind
        `prefix` = (topic, action) (binary)."""
        for msg in self.messages():
            if msg.startswith(prefix) if not self.binary else pb.kind(msg) == prefix:
                return msg

    def login(self, username):
        auth = ('{"username":"%s"}' % username).encode()
        if self.binary:
            self.send(pb.message(pb.CONNECTION, 5))  # CHALLENGE
            self.wait_for((pb.CONNECTION, 4))  # ACCEPT
            self.send(pb.message(pb.AUTH, 2, pb.field(2, auth)))
            for msg in self.messages():
                if msg[2:3] == bytes((pb.AUTH,)):
                    if pb.kind(msg) != (pb.AUTH, 3):  # AUTH_SUCCESSFUL
                        raise OSError("login refused: %r" % msg)
                    return
        self.wait_for(b"C\x1fA")
        self.send_text(b"A\x1fREQ\x1f" + auth + b"\x1e")
        msg = self.wait_for(b"A\x1f")
        if not msg.startswith(b"A\x1fA"):
            raise OSError("login refused: %r" % msg)

    def emit(self, name, data_json):
        """An event message (str or binary payload) with JSON data; None: no data."""
        if self.binary:
            data = () if data_json is None else (pb.field(2, data_json.encode()),)
            return pb.message(pb.EVENT, 2, *data, pb.field(6, name.encode()))
        return "E\x1fEVT\x1f%s\x1f%s\x1e" % (name, "L" if data_json is None else "O" + data_json)

    def close(self):
        try:
            self.sock.sendall(frame(b"\x03\xe8", 8))
        except OSError:
            pass
        self.sock.close()


class Counter(threading.Thread):
    """Subscribe to the run's event name (mode "events") or open its record
    ("records"), then count the EMITs of that name or the PATCHes of that
    record in incoming frames until `n` have arrived; record perf_counter()
    of the frame that held the first and of the one that held the last, then
    emit `done_event` so the publisher knows it can stop. Text: a frame may
    hold many messages, counted with bytes.count; binary: one message per
    frame, its topic and action read at their place in a small frame and
    the name found in it (nothing is decoded further)."""

    def __init__(self, url, mode, name, n, done_event, timeout=120.0):
        super().__init__(daemon=True)
        ws = self.ws = RawWs(url)
        ws.login("bench-counter")
        key = name.encode()
        if ws.binary:
            sub = (pb.EVENT, 3) if mode == "events" else (pb.RECORD, 23)  # SUBSCRIBE, SUBSCRIBECREATEANDREAD
            ws.send(pb.message(sub[0], sub[1], pb.field(3, b"1"), pb.field(7, key)))
            ws.wait_for(sub if mode == "events" else (pb.RECORD, 4))  # the ack, the READ_RESPONSE
            self.kind = (pb.EVENT, 2) if mode == "events" else (pb.RECORD, 19)  # EMIT, PATCH
            self.marker = pb.field(6, key)
        elif mode == "events":
            ws.send_text("E\x1fS\x1f%s\x1e" % name)
            ws.wait_for(b"E\x1fA\x1fS")
            self.marker = b"EVT\x1f" + key + b"\x1f"
        else:
            ws.send_text("R\x1fCR\x1f%s\x1e" % name)
            ws.wait_for(b"R\x1fR\x1f")
            self.marker = b"R\x1fP\x1f" + key + b"\x1f"
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
            if ws.binary:
                topic, action = self.kind
                for op, buf, start, end in ws.frames():
                    # LEN 10 TOPIC 1a BODYLEN 08 ACTION: the lengths of a small message are one byte
                    if (buf[start + 2] == topic and buf[start + 6] == action and buf[start + 1] == 0x10
                            and buf.find(marker, start, end) >= 0 and self.counted(1)):
                        break
            else:
                for op, buf, start, end in ws.frames():
                    c = buf.count(marker, start, end)
                    if c and self.counted(c):
                        break
                    if not c and buf.find(b"C\x1fPI", start, end) >= 0:
                        ws.send_text("C\x1fPO\x1e")
            ws.send(ws.emit(self.done_event, None))
        except Exception as err:  # reported by the caller with the count reached
            self.error = err
        finally:
            self.finished.set()

    def counted(self, c):
        """c more arrived (now): True once all have."""
        now = time.perf_counter()
        if self.first is None:
            self.first = now
            self.first_count = c
        self.count += c
        if self.count >= self.n:
            self.last = now
            return True
        return False

    def rate(self):
        """Messages per second from the first to the last arrival (None if incomplete)."""
        if self.last is None or self.last <= self.first:
            return None
        return (self.n - self.first_count) / (self.last - self.first)

    def close(self):
        self.ws.close()
