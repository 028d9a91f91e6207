"""Our client as the publisher (MicroPython poll driver, or CPython).

    micropython tools/bench/ds_publish.py URL events NAME N DONE_EVENT
    micropython tools/bench/ds_publish.py URL records NAME N DONE_EVENT

Logs in, subscribes to DONE_EVENT, then (timed) publishes N messages the way
an application in a tight loop would: `client.event.emit(NAME, {"n": i,
"v": 21.5})` (about 40 bytes on the wire), or `record.set("n", i)` for
i = 1..N on an open record, with no poll() in between (the polling driver
writes each frame as it fills), and one `client.flush()` at the end. Then
polls until DONE_EVENT arrives (the counting subscriber saw the last one)
and prints one `BENCH {json}` line.

    ... URL events NAME N DONE_EVENT heap    the same emits, but sampling the
        live heap (gc.collect(); gc.mem_alloc()) every 500 emits: peak minus
        the level after login, untimed (MicroPython only)
    ... URL events NAME N DONE_EVENT TEXT    `emit(NAME, TEXT)`: the same string
        every time instead of a dict

The protocol is the URL's (the client's default: /deepstream-v3 is text,
any other path binary).
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
    flushed = True
    heap = None
    if mode == "records":
        rec = client.record.get_record(name)
        pump(client, lambda: rec.is_ready, 10000000)
        t0 = ticks_us()
        for i in range(1, n + 1):
            rec.set("n", i)
        flushed = client.flush(60000)
        t1 = ticks_us()
    elif len(sys.argv) > 6 and sys.argv[6] != "heap":
        emit = client.event.emit
        text = sys.argv[6]
        t0 = ticks_us()
        for i in range(n):
            emit(name, text)
        flushed = client.flush(60000)
        t1 = ticks_us()
    elif len(sys.argv) > 6:
        import gc
        emit = client.event.emit
        client.flush(1000)
        gc.collect()
        base = peak = gc.mem_alloc()
        t0 = ticks_us()
        for i in range(n):
            emit(name, {"n": i, "v": 21.5})
            if i % 500 == 0:
                gc.collect()
                peak = max(peak, gc.mem_alloc())
        flushed = client.flush(60000)
        t1 = ticks_us()
        heap = {"after_login": base, "peak_growth": peak - base}
    else:
        emit = client.event.emit
        t0 = ticks_us()
        for i in range(n):
            emit(name, {"n": i, "v": 21.5})
        flushed = client.flush(60000)
        t1 = ticks_us()
    if not flushed:
        errors.append("flush() timed out")
    # an error (e.g. MemoryError -> connectionError) means the last may never arrive
    got = pump(client, lambda: done, 5000000 if errors else 120000000)
    t2 = ticks_us()
    print("BENCH " + json.dumps({"send_us": ticks_diff(t1, t0), "done_us": ticks_diff(t2, t0),
                                 "done": got, "errors": errors[:5], "heap": heap}))
    client.close()
    client.poll(50)


main()
