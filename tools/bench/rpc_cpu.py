"""The client's own CPU per RPC call: the poll driver and the core on a fake socket.

    micropython tools/bench/rpc_cpu.py [text|binary] [split]

No network and no server, so no waiting and no scheduler in the figure: a
user loop (`rpc.make(...)`, then `poll(100)` until the callback ran, as
ds_rpc.py does) against a socket double that answers every request at once
with the provider's accept and response, in one read (or, with `split`, the
response one poll turn later, as the real server often sends them). The
double's own time is measured and taken out. Best of 10 batches of 2,000
calls (the machine is noisy; the best batch is the code's cost). The
protocol is text unless `binary` is given (then the double speaks the
binary protocol: pbmsg.py).
Prints one `BENCH {json}` line: us per call.
"""
import json
import sys

try:
    from time import ticks_us, ticks_diff
except ImportError:  # CPython
    from time import perf_counter

    def ticks_us():
        return int(perf_counter() * 1000000)

    def ticks_diff(a, b):
        return a - b

from deepstream import Client
from deepstream.poll import PollDriver
from deepstream.transport import Transport

import pbmsg as pb

NAME = "bench/rpc/cpu"
SPLIT = "split" in sys.argv
BINARY = "binary" in sys.argv


def text_frame(text):
    data = text.encode()
    return bytes((0x81, len(data))) + data


def binary_frame(payload):
    return bytes((0x82, len(payload))) + payload


def unmasked(data):
    """The payloads of the (small, masked) client frames in data."""
    out = []
    i = 0
    while i < len(data):
        n = data[i + 1] & 0x7F
        key = data[i + 2:i + 6]
        out.append(bytes(data[i + 6 + j] ^ key[j & 3] for j in range(n)))
        i += 6 + n
    return out


def replies(data):
    """The provider's accept and response to each request in data."""
    if not BINARY:
        cid = unmasked(data)[0].decode().split("\x1f")[3]
        return (text_frame("P\x1fA\x1fREQ\x1f%s\x1f%s\x1e" % (NAME, cid)),
                text_frame("P\x1fRES\x1f%s\x1f%s\x1fSok\x1e" % (NAME, cid)))
    for payload in unmasked(data):
        if pb.kind(payload) == (pb.RPC, 2):  # REQUEST {data, cid, name}
            cid = pb.field(3, pb.find_field(payload, 0x1A))
            name = pb.field(7, NAME.encode())
            return (binary_frame(pb.message(pb.RPC, 4, cid, name)),
                    binary_frame(pb.message(pb.RPC, 5, pb.field(2, b'"ok"'), cid, name)))
    return b"", b""


class AnsweringSocket:
    """Unmasks each request frame and queues the provider's two replies."""

    def __init__(self):
        self.inbox = bytearray()
        self.later = None
        self.spent = 0  # us spent in here: not the client's
        self.answering = False

    def send(self, data):
        t = ticks_us()
        if self.answering:
            accept, response = replies(bytes(data))
            self.inbox += accept
            if SPLIT:
                self.later = response
            else:
                self.inbox += response
        self.spent += ticks_diff(ticks_us(), t)
        return len(data)

    def recv_into(self, buf):
        t = ticks_us()
        n = min(len(self.inbox), len(buf))
        if n:
            buf[:n] = self.inbox[:n]
            self.inbox = self.inbox[n:]
        self.spent += ticks_diff(ticks_us(), t)
        if not n:
            raise OSError(11)  # EAGAIN
        return n

    # the driver's poller is this object too
    def register(self, *args):
        pass

    def unregister(self, *args):
        pass

    def poll(self, ms):
        t = ticks_us()
        if not self.inbox and self.later is not None:
            self.inbox += self.later
            self.later = None
        ready = [(self, 1)] if self.inbox else []
        self.spent += ticks_diff(ticks_us(), t)
        return ready

    def close(self):
        pass


def logged_in_client(sock):
    client = Client("ws://127.0.0.1:1/deepstream" if BINARY else "ws://127.0.0.1:1/deepstream-v3")
    conn = client._conn
    conn.take_open_request()
    driver = client._driver = PollDriver(conn)
    t = Transport(conn.url)
    t.sock = sock
    t._readinto = sock.recv_into
    t._write = sock.send
    driver._t, driver._send_timeout, driver._poller = t, 2000, sock
    conn.write_through = driver._write_through
    conn.socket_opened()
    client.poll(0)
    if BINARY:  # CHALLENGE sent: ACCEPT
        conn.receive_binary(pb.message(pb.CONNECTION, 4))
    else:
        conn.receive_text("C\x1fA\x1e")
    client.login({"username": "cpu"})
    client.poll(0)
    if BINARY:
        conn.receive_binary(pb.message(pb.AUTH, 3))
    else:
        conn.receive_text("A\x1fA\x1e")
    client.poll(0)
    return client


def main():
    sock = AnsweringSocket()
    client = logged_in_client(sock)
    sock.answering = True
    answered = [0]

    def done(error, result):
        answered[0] += 1
    make = client.rpc.make
    poll = client.poll
    best = None
    for batch in range(11):  # the first is a warm-up
        sock.spent = 0
        t0 = ticks_us()
        for i in range(2000):
            k = answered[0]
            make(NAME, i, done)
            while answered[0] == k:
                poll(100)
        us = (ticks_diff(ticks_us(), t0) - sock.spent) / 2000
        if batch and (best is None or us < best):
            best = us
    print("BENCH " + json.dumps({"us_per_call": best, "split": SPLIT, "answered": answered[0],
                                 "error": client.last_error}))


main()
