"""The event loop's own cost on a board: an idle client.poll(0) turn while connected,
and a minimal loop's turn (select.poll(0) on the same socket, the clock read) measured
in the same run (tools/bench_board.py; any MicroPython).

    board_loop.py URL N
Prints one `BENCH {json}` line: client_us and floor_us, the mean of N turns each.
"""
import json
import select
import sys
import time

from deepstream import Client

url, n = sys.argv[1], int(sys.argv[2])
client = Client(url)
client.login({"username": "bench-loop"})
while client.get_connection_state() != "OPEN":
    client.poll(20)
for _ in range(100):  # what login left to do
    client.poll(0)
t0 = time.ticks_us()
for _ in range(n):
    client.poll(0)
client_us = time.ticks_diff(time.ticks_us(), t0) / n
p = select.poll()
p.register(client._driver._t.sock, select.POLLIN)
deadline = time.ticks_ms()
t0 = time.ticks_us()
for _ in range(n):  # the least a loop on this socket does per turn
    if p.poll(0):
        pass
    time.ticks_diff(time.ticks_ms(), deadline)
floor_us = time.ticks_diff(time.ticks_us(), t0) / n
client.close()
client.poll(50)
print("BENCH " + json.dumps({"client_us": client_us, "floor_us": floor_us, "n": n}))
