"""Flood: 100,000 incoming events into MicroPython with a small heap.

* core (FakeLink), -X heapsize=CORE_HEAP (76K): no MemoryError, every event delivered,
  gc.mem_alloc() after gc.collect() back within 1 KB of its level before.
* real socket from a local sender (a minimal websocket server thread here),
  poll driver: same checks. The whole stack (core + ws + transport + poll,
  ~62 KB as .mpy on the unix port) does not leave room at 64K, so this one
  runs at SOCKET_HEAP (see docs/RESILIENCE.md for the figures).
The library is compiled to .mpy first (support/mpybuild.py), as on a board.
"""
import base64
import hashlib
import os
import re
import socket
import subprocess
import threading

import pytest

from support.mp import micropython_path
from support.mpybuild import build_mpy

N = 100000
# 80K before the codecs (docs/MEMORY.md) and the non-blocking connect, which keeps about
# 1.3 KB more code resident on this 64-bit port and loads 1.5 KB more while connecting
SOCKET_HEAP = "88K"
LINE = re.compile(r"^flood (\w+) events=(\d+) before=(\d+) after=(\d+) peak=(\d+)$")


@pytest.fixture(scope="module")
def mpy_dir(tmp_path_factory):
    return build_mpy(tmp_path_factory.mktemp("mpy"), extra=["host_tests/peers/mp_flood_peer.py"])


def run_peer(mpy_dir, heap, *args):
    env = dict(os.environ, MICROPYPATH=mpy_dir + ":.frozen")
    p = subprocess.run([micropython_path(), "-X", "heapsize=" + heap, "-m", "mp_flood_peer"] + list(args),
                       capture_output=True, text=True, timeout=90, env=env, cwd="/")
    out = p.stdout + p.stderr
    assert p.returncode == 0, out[-3000:]
    assert "MemoryError" not in out, out[-3000:]
    m = LINE.match(out.strip().splitlines()[-1])
    assert m, out[-3000:]
    events, before, after, peak = (int(x) for x in m.groups()[1:])
    return events, before, after, peak


CORE_HEAP = "76K"  # 64K until the message model and the codec seam (docs/MEMORY.md)


def test_flood_core(mpy_dir):
    events, before, after, peak = run_peer(mpy_dir, CORE_HEAP, "fake", str(N))
    print("core flood at " + CORE_HEAP + ": %d events, heap before %d, after %d (delta %+d), peak %d"
          % (events, before, after, after - before, peak))
    assert events == N
    assert abs(after - before) <= 1024


# ---- a local sender: just enough of a deepstream server over a websocket ----

def ws_frame(text):
    data = text.encode()
    n = len(data)
    if n < 126:
        head = bytes((0x81, n))
    elif n < 65536:
        head = bytes((0x81, 126)) + n.to_bytes(2, "big")
    else:
        head = bytes((0x81, 127)) + n.to_bytes(8, "big")
    return head + data


class Sender:
    """Accepts one client: C|A, A|A on A|REQ, acks E|S, and on `E|EVT|ready`
    sends N events (frames of 50 messages) and then `flood/end`."""

    def __init__(self, n):
        self.n = n
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(1)
        self.sock.settimeout(60)
        self.port = self.sock.getsockname()[1]
        self.error = None
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        try:
            conn, _ = self.sock.accept()
            with conn:
                conn.settimeout(60)
                self._serve(conn)
        except Exception as err:  # reported by the test
            self.error = err
        finally:
            self.sock.close()

    def _serve(self, conn):
        buf = b""
        while b"\r\n\r\n" not in buf:
            buf += conn.recv(4096)
        head, buf = buf.split(b"\r\n\r\n", 1)
        key = re.search(rb"Sec-WebSocket-Key: *(\S+)", head, re.I).group(1)
        accept = base64.b64encode(hashlib.sha1(key + b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11").digest())
        conn.sendall(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                     b"Sec-WebSocket-Accept: " + accept + b"\r\n\r\n")
        conn.sendall(ws_frame("C\x1fA\x1e"))
        while True:
            while True:  # one masked client frame
                frame = _client_frame(buf)
                if frame is not None:
                    break
                chunk = conn.recv(65536)
                if not chunk:
                    return
                buf += chunk
            op, payload, buf = frame
            if op == 8:
                return
            for msg in payload.decode().split("\x1e"):
                parts = msg.split("\x1f")
                if parts[:2] == ["A", "REQ"]:
                    conn.sendall(ws_frame("A\x1fA\x1e"))
                    # warm-up: 40 frames of the flood's shape for an event nobody
                    # holds, so the receive buffer has its working size under a
                    # burst (it grows once, by design, up to max_message_size)
                    # before the client takes its baseline; without this the
                    # delta is about +1.2 KB, flat from the first 10,000 events on
                    for _ in range(40):
                        conn.sendall(ws_frame("".join("E\x1fEVT\x1fwarmup\x1fN%d\x1e" % i for i in range(50))))
                elif parts[:2] == ["E", "S"]:
                    conn.sendall(ws_frame("E\x1fA\x1fS\x1f%s\x1e" % parts[2]))
                elif parts[:3] == ["E", "EVT", "ready"]:
                    self._flood(conn)

    def _flood(self, conn):
        per = 50
        for start in range(0, self.n, per):
            conn.sendall(ws_frame("".join("E\x1fEVT\x1fflood\x1fN%d\x1e" % i
                                          for i in range(start, min(self.n, start + per)))))
        conn.sendall(ws_frame("E\x1fEVT\x1fflood/end\x1fL\x1e"))


def _client_frame(buf):
    if len(buf) < 2:
        return None
    n = buf[1] & 0x7F
    i = 2
    if n == 126:
        if len(buf) < 4:
            return None
        n, i = int.from_bytes(buf[2:4], "big"), 4
    elif n == 127:
        if len(buf) < 10:
            return None
        n, i = int.from_bytes(buf[2:10], "big"), 10
    if len(buf) < i + 4 + n:
        return None
    key = buf[i:i + 4]
    payload = bytes(b ^ key[k % 4] for k, b in enumerate(buf[i + 4:i + 4 + n]))
    return buf[0] & 0x0F, payload, buf[i + 4 + n:]


def test_flood_real_socket(mpy_dir):
    sender = Sender(N)
    events, before, after, peak = run_peer(mpy_dir, SOCKET_HEAP, "socket", str(N),
                                           "ws://127.0.0.1:%d/deepstream" % sender.port)
    sender.thread.join(10)
    assert sender.error is None, sender.error
    print("socket flood at %s: %d events, heap before %d, after %d (delta %+d), peak %d"
          % (SOCKET_HEAP, events, before, after, after - before, peak))
    assert events == N
    assert abs(after - before) <= 1024
