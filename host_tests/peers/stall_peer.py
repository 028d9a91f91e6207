"""Stall peer for test_faults.py: a tight emit loop into a link that takes nothing.

    micropython host_tests/peers/stall_peer.py URL NAME SEND_TIMEOUT_MS

Logs in, prints `@open`, waits for a line on stdin (the test stalls the proxy
and refuses new connections meanwhile), then emits [i, PAD] for i = 0, 1, ...
with no poll() until the write-through gives up (`connectionError` "send
timed out"), and 10 more. Then flush(500), which cannot succeed (no link):
prints `@early <its result>` and waits for another line (the test lets
connections through again); then flush(15000) and one line `@result {json}`:
flushed, the i whose emit hit the timeout, the count, the longest single
emit() in ms, the error texts. Runs on CPython too.
"""
import json
import sys

try:
    from time import ticks_diff, ticks_ms
except ImportError:
    from deepstream.compat import ticks_diff, ticks_ms

from deepstream import Client

url, name, send_timeout = sys.argv[1], sys.argv[2], int(sys.argv[3])
PAD = "x" * 200  # fills the stalled link's buffers in fewer calls
errors = []
timed_out = []
client = Client(url, send_timeout=send_timeout, heartbeat_interval=60000, reconnect_interval_increment=100,
                max_reconnect_interval=200, connect_timeout=2000)


def on_error(msg, event, topic):
    errors.append("%s: %s" % (event, msg))
    if "send timed out" in msg:
        timed_out.append(True)


client.on("error", on_error)
ok = []
client.login({"username": "stall-" + name}, lambda success, data: ok.append(success))
for _ in range(500):
    if ok:
        break
    client.poll(20)
print("@open")
sys.stdin.readline()

emit = client.event.emit
i = 0
longest = 0
at = None
extra = 10  # x 215 bytes: fits even a send queue halved on a scattered heap (docs/MEMORY.md)
while extra and i < 200000:
    t0 = ticks_ms()
    emit(name, [i, PAD])
    longest = max(longest, ticks_diff(ticks_ms(), t0))
    if timed_out and at is None:
        at = i
    if at is not None:
        extra -= 1
    i += 1
print("@early %s" % client.flush(500))
sys.stdin.readline()
flushed = client.flush(15000)
print("@result " + json.dumps({"flushed": flushed, "at": at, "n": i, "longest_ms": longest,
                               "state": client.get_connection_state(), "errors": errors[:10]}))
client.close()
client.poll(50)
