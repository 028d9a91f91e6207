"""The floor: a minimal hand-written websocket client, no library.

    micropython tools/bench/mp_floor.py URL events NAME N DONE_EVENT
    micropython tools/bench/mp_floor.py URL records NAME N DONE_EVENT
    micropython tools/bench/mp_floor.py URL rpc NAME N

A blocking socket, the HTTP upgrade (the Sec-WebSocket-Accept check is
skipped: it is outside the timed part anyway), C|A, A|REQ and A|A. Then,
timed, the same messages our client sends, each encoded straight into one
4 KiB bytearray; when the next does not fit, the frame is masked in place
(a big-int XOR with a random key) and written, as a fast hand-written
publisher would. Event data is JSON-encoded per event, as our client must
do for a dict. Records: R|CR first (to learn the version), then N path sets
`R|P|NAME|version|n|N<i>` for i = 1..N. When all is written it reads until
DONE_EVENT arrives (the counting subscriber saw the last message) and
prints one `BENCH {json}` line.

rpc: 20 warm-up calls, then N sequential calls `P|REQ|NAME|<id>|N<i>`, each
sent in its own frame when the previous response `P|RES` has arrived
(the provider's `P|A` ack is read and skipped); per-call latency p50/p99.
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

# a board without os.urandom (the emulated board: tools/bench_board.py) masks with random's bits
urandom = getattr(os, "urandom", None)
if urandom is None:
    import random

    def urandom(n):
        return bytes(random.getrandbits(8) for _ in range(n))

FRAME = 4096
HEAD = 8  # room for the header (2 or 4 bytes) and the mask key before the payload


class Out:
    """The one output buffer: payload from HEAD on, written as it fills."""

    def __init__(self, sock):
        self.sock = sock
        self.buf = bytearray(HEAD + FRAME)
        self.n = 0

    def add(self, data):
        n = len(data)
        if self.n + n > FRAME:
            self.flush()
        self.buf[HEAD + self.n:HEAD + self.n + n] = data
        self.n += n

    def flush(self):
        n = self.n
        if not n:
            return
        buf = self.buf
        key = urandom(4)
        if n < 126:
            h = HEAD - 6
            buf[h] = 0x81
            buf[h + 1] = 0x80 | n
        else:
            h = HEAD - 8
            buf[h] = 0x81
            buf[h + 1] = 0x80 | 126
            buf[h + 2] = n >> 8
            buf[h + 3] = n & 0xFF
        buf[HEAD - 4:HEAD] = key
        k = int.from_bytes((key * ((n >> 2) + 1))[:n], "big")
        buf[HEAD:HEAD + n] = (int.from_bytes(buf[HEAD:HEAD + n], "big") ^ k).to_bytes(n, "big")
        self.sock.write(memoryview(buf)[h:HEAD + n])
        self.n = 0


class Reader:
    """Just enough frame reading for the handshake phase, the done event and RPC answers."""

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


def connect(url):
    rest = url.split("://", 1)[1]
    i = rest.find("/")
    hostport, path = rest[:i], rest[i:]
    host, port = hostport.split(":")
    sock = socket.socket()
    sock.connect(socket.getaddrinfo(host, int(port))[0][-1])
    if not hasattr(sock, "write"):  # CPython
        sock.write = sock.sendall
    try:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    except (AttributeError, OSError):
        pass
    sock.write(("GET %s HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
                % (path, hostport)).encode())
    resp = b""
    while b"\r\n\r\n" not in resp:
        resp += sock.recv(1024)
    head, rest = resp.split(b"\r\n\r\n", 1)
    r = Reader(sock, rest)
    out = Out(sock)
    while not r.message().startswith(b"C\x1fA"):
        pass
    out.add(b'A\x1fREQ\x1f{"username":"bench-floor"}\x1e')
    out.flush()
    while not r.message().startswith(b"A\x1fA"):
        pass
    return sock, r, out


def publish(url, mode, name, n, done):
    sock, r, out = connect(url)
    out.add(("E\x1fS\x1f%s\x1e" % done).encode())
    out.flush()
    dumps = json.dumps
    if mode == "records":
        out.add(("R\x1fCR\x1f%s\x1e" % name).encode())
        out.flush()
        while True:
            m = r.message()
            if m.startswith(b"R\x1fR\x1f"):
                version = int(m.split(b"\x1f")[3])
                break
        prefix = "R\x1fP\x1f" + name + "\x1f"
        t0 = ticks_us()
        for j in range(1, n + 1):
            version += 1
            out.add((prefix + str(version) + "\x1fn\x1fN" + str(j) + "\x1e").encode())
        out.flush()
        t1 = ticks_us()
    else:
        prefix = "E\x1fEVT\x1f" + name + "\x1fO"
        t0 = ticks_us()
        for j in range(n):
            out.add((prefix + dumps({"n": j, "v": 21.5}, separators=(",", ":")) + "\x1e").encode())
        out.flush()
        t1 = ticks_us()
    marker = ("EVT\x1f" + done).encode()
    got = False
    while not got:
        got = marker in r.message()
    t2 = ticks_us()
    sock.close()
    return {"send_us": ticks_diff(t1, t0), "done_us": ticks_diff(t2, t0)}


def rpc(url, name, n):
    sock, r, out = connect(url)
    lat = []
    t0 = 0
    for i in range(-20, n):
        if i == 0:
            t0 = ticks_us()
        t = ticks_us()
        cid = "f" + str(i + 20)
        out.add(("P\x1fREQ\x1f%s\x1f%s\x1fN%d\x1e" % (name, cid, i)).encode())
        out.flush()
        want = ("P\x1fRES\x1f%s\x1f%s\x1f" % (name, cid)).encode()
        while want not in r.message():
            pass
        if i >= 0:
            lat.append(ticks_diff(ticks_us(), t))
    total = ticks_diff(ticks_us(), t0)
    lat.sort()
    sock.close()
    return {"n": n, "total_us": total, "p50_us": lat[n // 2], "p99_us": lat[(n * 99) // 100 - 1],
            "failed": 0, "first_error": None}


def main():
    url, mode, name, n = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    res = rpc(url, name, n) if mode == "rpc" else publish(url, mode, name, n, sys.argv[5])
    print("BENCH " + json.dumps(res))


main()
