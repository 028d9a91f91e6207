"""The floor: a minimal hand-written websocket publisher, no library.

    micropython tools/bench/mp_floor.py URL events NAME N DONE_EVENT
    micropython tools/bench/mp_floor.py URL records NAME N DONE_EVENT

A blocking socket, the HTTP upgrade (the Sec-WebSocket-Accept check is
skipped: it is outside the timed part anyway), C|A, A|REQ and A|A, a
subscription to DONE_EVENT, and then (timed) the same messages our client
sends, joined 100 to a frame as our client batches them, each frame masked
with a random key (one big-int XOR, as lib/deepstream/ws.py does) and
written in one call. Event data is JSON-encoded per event, as our client
must do for a dict. Records: R|CR first (to learn the version), then N path
sets `R|P|NAME|version|n|N<i>` for i = 1..N.
When all is written it reads until DONE_EVENT arrives (the counting
subscriber saw the last message) and prints one `BENCH {json}` line.
"""
import json
import os
import socket
import sys

try:
    from time import ticks_us, ticks_diff
except ImportError:  # CPython
    from time import perf_counter

    def ticks_us():
        return int(perf_counter() * 1000000)

    def ticks_diff(a, b):
        return a - b

BATCH = 100


def mask(payload, key):
    n = len(payload)
    k = (key * ((n >> 2) + 1))[:n]
    return (int.from_bytes(payload, "big") ^ int.from_bytes(k, "big")).to_bytes(n, "big")


def send_frame(sock, payload):
    n = len(payload)
    if n < 126:
        head = bytes((0x81, 0x80 | n))
    else:
        head = bytes((0x81, 0x80 | 126, n >> 8, n & 0xFF))
    key = os.urandom(4)
    sock.write(head + key + mask(payload, key))


class Reader:
    """Just enough frame reading for the handshake phase and the done event."""

    def __init__(self, sock, rest):
        self.sock = sock
        self.buf = rest

    def message(self):
        while True:
            buf = self.buf
            if len(buf) >= 2:
                n = buf[1] & 0x7F
                hl = 2
                if n == 126 and len(buf) >= 4:
                    n = (buf[2] << 8) | buf[3]
                    hl = 4
                if n < 126 and len(buf) >= hl + n:
                    payload = buf[hl:hl + n]
                    self.buf = buf[hl + n:]
                    if payload:
                        return payload
                    continue
            self.buf += self.sock.recv(4096)


def main():
    url, mode, name, n, done = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5]
    rest = url.split("://", 1)[1]
    i = rest.find("/")
    hostport, path = rest[:i], rest[i:]
    host, port = hostport.split(":")
    sock = socket.socket()
    sock.connect(socket.getaddrinfo(host, int(port))[0][-1])
    if not hasattr(sock, "write"):  # CPython
        sock.write = sock.sendall
    sock.write(("GET %s HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
                % (path, hostport)).encode())
    resp = b""
    while b"\r\n\r\n" not in resp:
        resp += sock.recv(1024)
    head, rest = resp.split(b"\r\n\r\n", 1)
    r = Reader(sock, rest)
    while not r.message().startswith(b"C\x1fA"):
        pass
    send_frame(sock, b'A\x1fREQ\x1f{"username":"bench-floor"}\x1e')
    while not r.message().startswith(b"A\x1fA"):
        pass
    send_frame(sock, ("E\x1fS\x1f%s\x1e" % done).encode())
    dumps = json.dumps
    if mode == "records":
        send_frame(sock, ("R\x1fCR\x1f%s\x1e" % name).encode())
        while True:
            m = r.message()
            if m.startswith(b"R\x1fR\x1f"):
                version = int(m.split(b"\x1f")[3])
                break
        prefix = "R\x1fP\x1f" + name + "\x1f"
        t0 = ticks_us()
        i = 1
        while i <= n:
            parts = []
            for j in range(i, min(i + BATCH, n + 1)):
                version += 1
                parts.append(prefix + str(version) + "\x1fn\x1fN" + str(j) + "\x1e")
            send_frame(sock, "".join(parts).encode())
            i += BATCH
        t1 = ticks_us()
    else:
        prefix = "E\x1fEVT\x1f" + name + "\x1fO"
        t0 = ticks_us()
        i = 0
        while i < n:
            parts = []
            for j in range(i, min(i + BATCH, n)):
                parts.append(prefix + dumps({"n": j, "v": 21.5}, separators=(",", ":")) + "\x1e")
            send_frame(sock, "".join(parts).encode())
            i += BATCH
        t1 = ticks_us()
    marker = ("EVT\x1f" + done).encode()
    got = False
    while not got:
        got = marker in r.message()
    t2 = ticks_us()
    print("BENCH " + json.dumps({"send_us": ticks_diff(t1, t0), "done_us": ticks_diff(t2, t0)}))
    sock.close()


main()
