"""Flood peer for test_flood.py (MicroPython, small heap, library as .mpy).

    micropython -X heapsize=64K -m mp_flood_peer fake N
    micropython -X heapsize=..K -m mp_flood_peer socket N URL

fake:   N incoming events through deepstream.testing.FakeLink (the core
        alone), in frames of 1, 7 and 50 messages.
socket: a real client (poll driver) logs in to the test's sender, subscribes,
        emits `ready` and counts N events from the socket, then `flood/end`.
Prints `flood MODE events=N before=B after=A peak=P` where before/after are
gc.mem_alloc() after gc.collect() just before the first and after the last
event, and peak the highest such reading taken every 10,000 events.
"""
import gc
import sys
import time

mode, n = sys.argv[1], int(sys.argv[2])
got = [0]
done = []
readings = []  # heap every 10,000 events


def on_flood(value):
    got[0] += 1


def measure():
    gc.collect()
    return gc.mem_alloc()


def load(names):
    # one module at a time, collecting between: at 64K a burst of imports
    # can fail on fragmentation alone (a board imports at boot the same way)
    for name in names:
        gc.collect()
        __import__("deepstream." + name)
    gc.collect()


CORE = ("compat", "constants", "message", "timers", "options", "listener", "event", "connection", "client")
if mode == "fake":
    load(CORE + ("testing",))
    from deepstream.testing import FakeLink
    link = FakeLink()
    link.open()
    link.login()
    link.client.event.subscribe("flood", on_flood)
    link.receive("E|A|S|flood+")
    link.sent()
    receive = link.conn.receive_text
    one = "E\x1fEVT\x1fflood\x1fN%d\x1e"
    # warm-up with the same shapes, so one-time allocations (interned
    # strings, grown lists) are not counted as the flood's
    receive(one % 1)
    receive((one % 2) * 7)
    got[0] = 0
    before = measure()
    peak = before
    i = 0
    while i < n:
        size = (1, 7, 50)[(i // 50) % 3]
        size = min(size, n - i)
        frame = "".join([one % (i + j) for j in range(size)])
        receive(frame)
        frame = None
        i += size
        if i % 10000 < size:
            readings.append(measure())
            peak = max(peak, readings[-1])
    link.sent()
    after = measure()
else:
    load(CORE + ("ws", "transport", "poll"))
    from deepstream.client import Client
    url = sys.argv[3]
    client = Client(url, heartbeat_interval=600000, max_message_size=8192, protocol="text")  # the test's sender speaks text
    state = {"before": None}
    client.on("error", lambda msg, event, topic: print("error", event, msg))
    client.event.subscribe("flood", on_flood)
    client.event.subscribe("flood/end", lambda v: done.append(v))
    logged_in = []
    client.login({"username": "flood"}, lambda ok, data: logged_in.append(ok))
    while not logged_in:
        client.poll(20)
    for _ in range(5):
        client.poll(10)
    before = measure()
    peak = before
    client.event.emit("ready")
    last = 0
    end = time.ticks_add(time.ticks_ms(), 60000)
    while not done and time.ticks_diff(end, time.ticks_ms()) > 0:
        client.poll(50)
        if got[0] - last >= 10000:
            last = got[0]
            readings.append(measure())
            peak = max(peak, readings[-1])
    for _ in range(3):
        client.poll(10)
    after = measure()  # still connected, like `before`
    client.close()
    client.poll(20)
print("readings", readings)
print("flood %s events=%d before=%d after=%d peak=%d" % (mode, got[0], before, after, peak))
