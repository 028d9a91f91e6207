"""Event interop peer, run on the MicroPython unix port by test_e2e_events.py.

Logs in, subscribes to `interop/to-mp`, and emits `interop/from-mp` every
100 ms until a `to-mp` event arrives; then emits `interop/got` with what it
received, flushes and exits 0. Prints one line per step for the test log.
    micropython host_tests/peers/mp_event_peer.py URL
"""
import sys
import time

from deepstream import Client

url = sys.argv[1]
client = Client(url)
errors = []
client.on("error", lambda msg, event, topic: errors.append((event, msg)))
received = []
logged_in = []
client.login({"username": "mp-peer"}, lambda ok, data: logged_in.append(ok))
client.event.subscribe("interop/to-mp", received.append)

deadline = time.ticks_add(time.ticks_ms(), 15000)
next_emit = time.ticks_ms()
n = 0
while not received and time.ticks_diff(deadline, time.ticks_ms()) > 0:
    client.poll(20)
    if logged_in and time.ticks_diff(time.ticks_ms(), next_emit) >= 0:
        client.event.emit("interop/from-mp", {"n": n, "runtime": "micropython"})
        n += 1
        next_emit = time.ticks_add(next_emit, 100)
if not received:
    print("no event received; errors:", errors)
    sys.exit(2)
client.event.emit("interop/got", received[0])
for _ in range(10):
    client.poll(20)
print("done", received[0], "errors:", errors)
client.close()
client.poll(50)
