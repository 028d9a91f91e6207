"""The floor: a minimal hand-written websocket client, no library.

    micropython tools/bench/mp_floor.py URL events NAME N DONE_EVENT [TEXT]
    micropython tools/bench/mp_floor.py URL records NAME N DONE_EVENT
    micropython tools/bench/mp_floor.py URL rpc NAME N

A blocking socket, the HTTP upgrade (the Sec-WebSocket-Accept check is
skipped: it is outside the timed part anyway), the login: text C|A, A|REQ,
A|A; binary (any path but /deepstream-v3) CHALLENGE, ACCEPT, AUTH REQUEST,
AUTH_SUCCESSFUL (pbmsg.py). Then, timed, the same messages our client sends,
each encoded straight into one 4 KiB bytearray, as a fast hand-written
publisher would. Text: the messages of one frame; when the next does not
fit, the frame is masked in place (a big-int XOR with a random key) and
written. Binary: one frame per message (the protocol's rule), each masked
in place as it is added, the frames written together when the next does
not fit. Event data is JSON-encoded per event, as our client must do for a
dict (or, with TEXT, every event carries that string: text `S<TEXT>`,
binary its JSON). Records: the record opened first (text R|CR, binary
SUBSCRIBECREATEANDREAD) to learn the version, then N path sets of "n" to
i = 1..N (text `R|P|NAME|version|n|N<i>`, binary PATCH {data, name, path,
version}). When all is written it reads until DONE_EVENT arrives (the
counting subscriber saw the last message) and prints one `BENCH {json}` line.

rpc: 20 warm-up calls, then N sequential calls (text `P|REQ|NAME|<id>|N<i>`,
binary REQUEST {data, cid, name}), each sent in its own frame when the
previous response has arrived (the provider's accept is read and skipped);
per-call latency p50/p99.
"""
import json
import os
import socket
import sys

try:
    import pbmsg as pb  # the binary messages; a board running the text floor may not have it
except ImportError:
    pb = None

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


def mask(buf, i, n):
    """A fresh mask key at buf[i - 4:i], and buf[i:i + n] masked with it in
    place (one big-int XOR)."""
    key = urandom(4)
    buf[i - 4:i] = key
    k = int.from_bytes((key * ((n >> 2) + 1))[:n], "big")
    buf[i:i + n] = (int.from_bytes(buf[i:i + n], "big") ^ k).to_bytes(n, "big")


class Out:
    """Text: the one output buffer, messages copied in from HEAD on; framed,
    masked and written when the next would not fit."""

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
        mask(buf, HEAD, n)
        self.sock.write(memoryview(buf)[h:HEAD + n])
        self.n = 0


class BinOut(Out):
    """Binary: one frame per message, masked as it is added; the frames are
    written together when the next would not fit."""

    def add(self, data):
        n = len(data)
        i = self.n
        if i + n + 8 > FRAME:
            self.flush()
            i = 0
        buf = self.buf
        buf[i] = 0x82
        if n < 126:
            buf[i + 1] = 0x80 | n
            i += 6
        else:
            buf[i + 1] = 0x80 | 126
            buf[i + 2] = n >> 8
            buf[i + 3] = n & 0xFF
            i += 8
        buf[i:i + n] = data
        mask(buf, i, n)
        self.n = i + n

    def flush(self):
        if self.n:
            self.sock.write(memoryview(self.buf)[:self.n])
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
                if n == 126:  # 16-bit length (the peers send no 64-bit one)
                    n = (buf[2] << 8) | buf[3] if len(buf) >= 4 else len(buf)
                    hl = 4
                if len(buf) >= hl + n:
                    payload = buf[hl:hl + n]
                    self.buf = buf[hl + n:]
                    if payload:
                        return payload
                    continue
            self.buf += self.sock.recv(4096)


def connect(url):
    """Upgrade and log in; (sock, reader, out, binary). The protocol is the
    URL's: /deepstream-v3 text, any other path binary."""
    rest = url.split("://", 1)[1]
    i = rest.find("/")
    hostport, path = rest[:i], rest[i:]
    host, port = hostport.split(":")
    binary = path != "/deepstream-v3"
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
    if binary:  # the client speaks first: CHALLENGE, ACCEPT, AUTH REQUEST, AUTH_SUCCESSFUL
        out = BinOut(sock)
        out.add(pb.message(pb.CONNECTION, 5))
        out.flush()
        while pb.kind(r.message()) != (pb.CONNECTION, 4):
            pass
        out.add(pb.message(pb.AUTH, 2, pb.field(2, b'{"username":"bench-floor"}')))
        out.flush()
        while pb.kind(r.message()) != (pb.AUTH, 3):
            pass
        return sock, r, out, True
    out = Out(sock)
    while not r.message().startswith(b"C\x1fA"):
        pass
    out.add(b'A\x1fREQ\x1f{"username":"bench-floor"}\x1e')
    out.flush()
    while not r.message().startswith(b"A\x1fA"):
        pass
    return sock, r, out, False


def small(topic, body):
    """A binary payload whose topic message `body` is under 124 bytes (every
    message timed here): its two lengths are one byte each."""
    return bytes((len(body) + 4, 0x10, topic, 0x1A, len(body))) + body


def publish(url, mode, name, n, done, payload):
    sock, r, out, binary = connect(url)
    if binary:
        out.add(pb.message(pb.EVENT, 3, pb.field(3, b"0"), pb.field(7, done.encode())))  # SUBSCRIBE
    else:
        out.add(("E\x1fS\x1f%s\x1e" % done).encode())
    out.flush()
    dumps = json.dumps
    if mode == "records" and binary:
        out.add(pb.message(pb.RECORD, 23, pb.field(3, b"1"), pb.field(7, name.encode())))  # SUBSCRIBECREATEANDREAD
        out.flush()
        while True:
            m = r.message()
            if pb.kind(m) == (pb.RECORD, 4):  # READ_RESPONSE
                version = pb.find_field(m, 0x68)
                break
        fields = pb.field(6, name.encode()) + pb.field(12, b"n") + b"\x68"  # name, path, version's key
        varint = pb.varint
        t0 = ticks_us()
        for j in range(1, n + 1):  # PATCH {data, name, path, version}
            version += 1
            d = str(j).encode()
            out.add(small(pb.RECORD, b"\x08\x13\x12" + bytes((len(d),)) + d + fields + varint(version)))
        out.flush()
        t1 = ticks_us()
    elif mode == "records":
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
    elif binary:
        name_field = pb.field(6, name.encode())
        t0 = ticks_us()
        for j in range(n):  # EMIT {data, name}
            d = dumps(payload if payload is not None else {"n": j, "v": 21.5}, separators=(",", ":")).encode()
            out.add(small(pb.EVENT, b"\x08\x02\x12" + bytes((len(d),)) + d + name_field))
        out.flush()
        t1 = ticks_us()
    elif payload is not None:
        prefix = "E\x1fEVT\x1f" + name + "\x1fS"
        t0 = ticks_us()
        for j in range(n):
            out.add((prefix + payload + "\x1e").encode())
        out.flush()
        t1 = ticks_us()
    else:
        prefix = "E\x1fEVT\x1f" + name + "\x1fO"
        t0 = ticks_us()
        for j in range(n):
            out.add((prefix + dumps({"n": j, "v": 21.5}, separators=(",", ":")) + "\x1e").encode())
        out.flush()
        t1 = ticks_us()
    if binary:
        done_field = pb.field(6, done.encode())
        m = b""
        while not (pb.kind(m) == (pb.EVENT, 2) and m.endswith(done_field)):
            m = r.message()
    else:
        marker = ("EVT\x1f" + done).encode()
        while marker not in r.message():
            pass
    t2 = ticks_us()
    sock.close()
    return {"send_us": ticks_diff(t1, t0), "done_us": ticks_diff(t2, t0)}


def rpc(url, name, n):
    sock, r, out, binary = connect(url)
    name_field = pb.field(7, name.encode())
    lat = []
    t0 = 0
    for i in range(-20, n):
        if i == 0:
            t0 = ticks_us()
        t = ticks_us()
        cid = "f" + str(i + 20)
        if binary:  # REQUEST {data, cid, name}; the RESPONSE names the cid
            want = pb.field(3, cid.encode())
            d = str(i).encode()
            out.add(small(pb.RPC, b"\x08\x02\x12" + bytes((len(d),)) + d + want + name_field))
        else:
            out.add(("P\x1fREQ\x1f%s\x1f%s\x1fN%d\x1e" % (name, cid, i)).encode())
            want = ("P\x1fRES\x1f%s\x1f%s\x1f" % (name, cid)).encode()
        out.flush()
        if binary:
            m = b""
            while not (pb.kind(m) == (pb.RPC, 5) and want in m):
                m = r.message()
        else:
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
    if mode == "rpc":
        res = rpc(url, name, n)
    else:  # a 6th argument: the payload of every event, a string (else a dict per event)
        res = publish(url, mode, name, n, sys.argv[5], sys.argv[6] if len(sys.argv) > 6 else None)
    print("BENCH " + json.dumps(res))


main()
