"""Our client as the publisher (MicroPython poll driver, or CPython).

    micropython tools/bench/ds_publish.py URL events NAME N DONE_EVENT
    micropython tools/bench/ds_publish.py URL records NAME N DONE_EVENT

Logs in, subscribes to DONE_EVENT, then (timed) publishes N messages the way
an application would: `client.event.emit(NAME, {"n": i, "v": 21.5})` (about
40 bytes on the wire), or `record.set("n", i)` for i = 1..N on an open
record, calling `client.poll(0)` after every 100 so that each poll sends
one frame of 100 messages (the client's max_messages_per_packet). Then
polls until DONE_EVENT arrives (the counting subscriber saw the last one)
and prints one `BENCH {json}` line.
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

BATCH = 100


def pump(client, cond, timeout_us):
    start = ticks_us()
    while not cond():
        if ticks_diff(ticks_us(), start) > timeout_us:
            return False
        client.poll(20)
    return True


def main():
    url, mode, name, n, done_name = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5]
    client = Client(url)
    errors = []
    client.on("error", lambda msg, event, topic: errors.append("%s: %s" % (event, msg)))
    ok = []
    client.login({"username": "bench-publisher"}, lambda success, data: ok.append(success))
    done = []
    client.event.subscribe(done_name, done.append)
    if not pump(client, lambda: ok, 10000000):
        print("BENCH " + json.dumps({"error": "no login", "errors": errors}))
        return
    poll = client.poll
    if mode == "records":
        rec = client.record.get_record(name)
        pump(client, lambda: rec.is_ready, 10000000)
        t0 = ticks_us()
        for i in range(1, n + 1):
            rec.set("n", i)
            if i % BATCH == 0:
                poll(0)
        poll(0)
        t1 = ticks_us()
    else:
        emit = client.event.emit
        t0 = ticks_us()
        for i in range(n):
            emit(name, {"n": i, "v": 21.5})
            if i % BATCH == BATCH - 1:
                poll(0)
        poll(0)
        t1 = ticks_us()
    # an error (e.g. MemoryError -> connectionError) means the last may never arrive
    got = pump(client, lambda: done, 5000000 if errors else 120000000)
    t2 = ticks_us()
    print("BENCH " + json.dumps({"send_us": ticks_diff(t1, t0), "done_us": ticks_diff(t2, t0),
                                 "done": got, "errors": errors[:5]}))
    client.close()
    client.poll(50)


main()
