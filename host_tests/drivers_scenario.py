"""Driver scenarios against the websocket server of test_drivers.py, with a
fake core. Runs in-process under CPython (imported by test_drivers.py) and as
a script under MicroPython:

    micropython host_tests/drivers_scenario.py poll|aio ws://127.0.0.1:PORT text|binary [insecure|CA_FILE]

prints one JSON line with what the fake core saw. The protocol says which kind of
websocket frame the fake core sends and expects (text, or binary as the binary
protocol's are); the echo server answers in kind.
"""
import json
import sys

if __name__ == "__main__":
    sys.path.insert(0, __file__.rsplit("/", 2)[0] + "/lib" if "/" in __file__ else "../lib")

from deepstream.compat import ticks_diff, ticks_ms  # noqa: E402
from deepstream.connection import HEADROOM  # noqa: E402
from deepstream.ws import frame_in_place  # noqa: E402


class FakeConn:
    """The core's driver interface (docs/ARCHITECTURE.md), recording calls."""

    def __init__(self, url, protocol="text", **options):
        self.options = {"max_message_size": 16384, "connect_timeout": 3000}
        self.options.update(options)
        self.opcode = 2 if protocol == "binary" else 1
        self.clock = ticks_ms
        self.state = "CLOSED"
        self.want_close = False
        self.link_dead = False
        self.on_output = None
        self.write_through = None
        self.out = self.frame = bytearray(HEADROOM + 32768)
        self.frame_start = 0
        self._open = url
        self.frames = []
        self.got = []  # text messages received
        self.log = []  # driver calls other than receive_text

    # -- driver interface --
    def take_open_request(self):
        url, self._open = self._open, None
        return url

    def socket_opened(self):
        self.state = "OPEN"
        self.log.append(["opened"])

    def receive_text(self, text):
        self._received(text if self.opcode == 1 else "text frame: " + text)  # the wrong kind shows

    def receive_binary(self, data):
        self._received(str(data, "utf-8") if self.opcode == 2 else "binary frame")

    def _received(self, text):
        self.got.append(text)
        if text.startswith("echo:reply:"):  # answered from inside the callback
            self.send("re:" + text[11:])

    def socket_closed(self, reason):
        self.state = "CLOSED"
        self.want_close = False
        self.log.append(["closed", reason])

    def socket_error(self, text):
        self.log.append(["error", text])

    def report_error(self, event, message, topic="C"):
        self.log.append(["report", event, message, topic])

    def tick(self):
        pass

    def take_frame(self):
        if self.state == "OPEN" and self.frames:
            data = self.frames.pop(0).encode()
            self.out[HEADROOM:HEADROOM + len(data)] = data
            framed = len(frame_in_place(self.out, HEADROOM, len(data), self.opcode))
            self.frame_start = HEADROOM + len(data) - framed
            return framed
        return 0

    def frame_unsent(self, n, intact=True):
        self.log.append(["unsent", n, intact])

    def pending(self):
        return bool(self.frames)

    def stopped(self):
        return self.state == "CLOSED" and self._open is None

    def next_deadline(self):
        return None

    # -- what the real core does on user actions --
    def send(self, text):
        self.frames.append(text)
        if self.on_output:
            self.on_output()

    def close(self):
        self.want_close = True
        if self.on_output:
            self.on_output()

    def closed(self):
        return bool(self.log) and self.log[-1][0] == "closed"

    def result(self):
        return {"got": self.got, "log": self.log}


# steps: (message to send, message whose arrival ends the step)
STEPS = (
    ("hello", "echo:hello"),
    ("reply:x", "echo:re:x"),  # a frame queued inside receive_text goes out
    ("big", "after"),  # 20000 chars: refused, then the next message arrives
    ("frag", "abcd"),  # fragmented message from the server
    ("ping-me", "pong-ok"),  # server ping answered by the driver
    ("empty", "after-empty"),  # a zero-length text frame is not handed on
)


def scenarios(base, protocol, **opts):
    """Generator: yields (conn, condition) and resumes once the condition holds;
    finally yields ("done", results)."""
    out = {}
    conn = FakeConn(base + "/echo", protocol, **opts)
    for msg, expect in STEPS:
        yield conn, lambda: conn.state == "OPEN"
        conn.send(msg)
        yield conn, lambda: expect in conn.got
    conn.close()
    yield conn, conn.closed
    out["main"] = conn.result()

    conn = FakeConn(base + "/echo", protocol, **opts)
    yield conn, lambda: conn.state == "OPEN"
    conn.send("close-me")
    yield conn, conn.closed
    out["server_close"] = conn.result()

    conn = FakeConn(base + "/nope", **opts)
    yield conn, conn.closed
    out["not_101"] = conn.result()

    conn = FakeConn(base.rsplit(":", 1)[0] + ":1/echo", **opts)
    yield conn, conn.closed
    out["refused"] = conn.result()
    yield "done", out


def _timeout(conn):
    return AssertionError("timed out; log=%r got=%r" % (conn.log, conn.got))


def run_poll(base, protocol="text", timeout_ms=5000, **opts):
    from deepstream.poll import PollDriver

    drivers = {}
    for conn, cond in scenarios(base, protocol, **opts):
        if conn == "done":
            return cond
        # keyed by the object, not id(): a finished conn's id can come back for the next one
        d = drivers.setdefault(conn, PollDriver(conn))
        start = ticks_ms()
        while not cond():
            if ticks_diff(ticks_ms(), start) > timeout_ms:
                raise _timeout(conn)
            d.poll(20)


def run_aio(base, protocol="text", timeout_ms=5000, **opts):
    import asyncio
    from deepstream.aio import run
    from deepstream.compat import wait_for_ms

    async def main():
        tasks = {}
        for conn, cond in scenarios(base, protocol, **opts):
            if conn == "done":
                for t in tasks.values():  # run() must have ended by itself
                    await wait_for_ms(t, 2000)
                return cond
            if conn not in tasks:  # the object, not id(): ids of finished conns come back
                tasks[conn] = asyncio.create_task(run(conn))
            start = ticks_ms()
            while not cond():
                if ticks_diff(ticks_ms(), start) > timeout_ms:
                    raise _timeout(conn)
                await asyncio.sleep(0.005)

    return asyncio.run(main())


def run_aio_no_memory(base, timeout_ms=5000):
    """The read buffer cannot grow (MemoryError as on a full heap): the session must
    end with an error the core sees, not leave a dead task and a hung connection."""
    import asyncio
    import deepstream.aio as aio
    from deepstream.ws import WebSocket

    def no_room(self):
        raise MemoryError("memory allocation failed, allocating 2048 bytes")
    WebSocket.read_view = no_room  # MicroPython's reader reads into the websocket's buffer
    conn = FakeConn(base + "/echo")

    async def main():
        task = asyncio.create_task(aio.run(conn))
        start = ticks_ms()
        while not conn.closed():
            if ticks_diff(ticks_ms(), start) > timeout_ms:
                raise _timeout(conn)
            await asyncio.sleep(0.005)
        conn.close()  # the fake core does not reconnect: run() must end by itself
        await asyncio.wait_for(task, 2)
        return conn.result()

    return asyncio.run(main())


if __name__ == "__main__" and sys.argv[1] == "aio-no-memory":
    print(json.dumps(run_aio_no_memory(sys.argv[2])))
elif __name__ == "__main__":
    mode, base, protocol = sys.argv[1], sys.argv[2], sys.argv[3]
    opts = {}
    if len(sys.argv) > 4:
        opts = {"verify": False} if sys.argv[4] == "insecure" else {"ca_file": sys.argv[4]}
    res = (run_poll if mode == "poll" else run_aio)(base, protocol, **opts)
    print(json.dumps(res))
