"""On the board: a device that only emits, its heap, and a burst (test_board_heap.py,
tools/bench_board.py).

    burst.py URL N
Logs in, emits N events board/burst/out with no poll() in between, flush()es, then
waits for the host's event board/burst/ack (sent once all N arrived: QEMU is stopped
when the script ends, and bytes in flight would be lost).
Lines: @heap import FREE, @heap login FREE, @burst N MS LOWEST_FREE FLUSHED, @acked, @done.
"""
import gc
import sys
import time

gc.collect()
from deepstream import Client  # noqa: E402
import deepstream.poll  # noqa: E402,F401

gc.collect()
print("@heap import", gc.mem_free())
url, n = sys.argv[1], int(sys.argv[2])
client = Client(url)
client.on("error", lambda message, event, topic: print("@error", event, message))
acked = []
client.event.subscribe("board/burst/ack", acked.append)
client.login({"username": "board-burst"})
while client.get_connection_state() != "OPEN" or client._acks.keys:
    client.poll(20)
gc.collect()
print("@heap login", gc.mem_free())
lowest = gc.mem_free()
start = time.ticks_ms()
for i in range(n):
    client.event.emit("board/burst/out", i)
    if i % 500 == 499:
        gc.collect()
        lowest = min(lowest, gc.mem_free())
flushed = client.flush(60000)
print("@burst", n, time.ticks_diff(time.ticks_ms(), start), lowest, flushed)
start = time.ticks_ms()
while not acked and time.ticks_diff(time.ticks_ms(), start) < 30000:
    client.poll(50)
print("@acked" if acked else "@no-ack")
client.close()
client.poll(50)
print("@done")
