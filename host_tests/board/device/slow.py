"""On the board: events of 1 KB through a slow link (test_board_faults.py): lwIP's
6,400-byte send buffer fills, send() takes part of a write, then raises EAGAIN.

    slow.py URL N
Counts what the socket did with each write (a wrapper around the transport's write);
lines: @open, @sent N MS FLUSHED, @writes TOTAL PARTIAL EAGAIN, @done.
"""
import sys
import time

from deepstream import Client

url, n = sys.argv[1], int(sys.argv[2])
client = Client(url, confirm_events=True)  # flush() returns once the server has them
client.on("error", lambda message, event, topic: print("@error", event, message))
client.login({"username": "board-slow"})
while client.get_connection_state() != "OPEN":
    client.poll(20)
print("@open")
counts = [0, 0, 0]  # writes, partial writes, EAGAIN (or nothing taken)
t = client._driver._t
write = t._write


def counting(data):
    counts[0] += 1
    try:
        m = write(data)
    except OSError as err:
        if err.args and err.args[0] == 11:
            counts[2] += 1
        raise
    if m is None:
        counts[2] += 1
    elif m < len(data):
        counts[1] += 1
    return m


t._write = counting
pad = "x" * 1000
start = time.ticks_ms()
for i in range(n):
    client.event.emit("board/slow", {"i": i, "pad": pad})
flushed = client.flush(60000)
print("@sent", n, time.ticks_diff(time.ticks_ms(), start), flushed)
print("@writes", counts[0], counts[1], counts[2])
client.close()
client.poll(50)
print("@done")
