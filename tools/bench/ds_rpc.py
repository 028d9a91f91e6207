"""Our client making sequential RPC calls (MicroPython poll driver, or CPython).

    micropython tools/bench/ds_rpc.py URL NAME N

Logs in, makes 20 warm-up calls, then N calls one after the other:
`client.rpc.make(NAME, i, cb)` and `client.poll(100)` until cb ran (poll
returns as soon as the socket is readable). Each call's latency is taken
from just before make() to the end of the poll() that ran the callback.
Prints one `BENCH {json}` line: p50/p99 latency (us), total time, errors.
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

WARMUP = 20


def main():
    url, name, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
    client = Client(url)
    errors = []
    client.on("error", lambda msg, event, topic: errors.append("%s: %s" % (event, msg)))
    ok = []
    client.login({"username": "bench-rpc-caller"}, lambda success, data: ok.append(success))
    start = ticks_us()
    while not ok and ticks_diff(ticks_us(), start) < 10000000:
        client.poll(20)
    res = []
    failed = []

    def done(error, result):
        res.append(result)
        if error is not None:
            failed.append(error)

    make = client.rpc.make
    poll = client.poll
    lat = []
    t0 = 0
    for i in range(-WARMUP, n):
        if i == 0:
            t0 = ticks_us()
        res.clear()
        t = ticks_us()
        make(name, i, done)
        while not res:
            poll(100)
        if i >= 0:
            lat.append(ticks_diff(ticks_us(), t))
    total = ticks_diff(ticks_us(), t0)
    lat.sort()
    print("BENCH " + json.dumps({"n": n, "total_us": total, "p50_us": lat[n // 2],
                                 "p99_us": lat[(n * 99) // 100 - 1], "failed": len(failed),
                                 "first_error": failed[0] if failed else None, "errors": errors[:5]}))
    client.close()
    client.poll(50)


main()
