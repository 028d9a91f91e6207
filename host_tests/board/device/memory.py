"""On the board: calls that promise never to raise keep that promise on an exhausted
heap (issue 22, defect 1; test_board_memory.py).

    memory.py PATH URL

The heap is filled until nothing is left but a small reserve (fill()), then PATH runs:
  connect  client.poll() while connection attempts fail (the proxy refuses them); then
           the heap is given back ("@released"), the host lets the proxy through and the
           client must reach OPEN ("@open")
  error    an error with no `error` listener, which prints it (client.login(42))
  emit     emit() while offline, past what the frame buffer holds (the send queue)
Lines: @filled <free bytes>, @raised <text> (a call raised: the defect), @error EVENT
message, @released, @open, @done.
"""
import gc
import sys

from deepstream import Client

PATH, URL = sys.argv[1], sys.argv[2]
RESERVE = 512  # bytes left free: small allocations succeed, loading a module does not


def fill(reserve):
    """Allocate everything but `reserve` bytes; returns what holds it (drop it to give back)."""
    gc.collect()
    room = bytearray(reserve)  # freed last: the only free block
    held = None
    size = 8192
    while size >= 16:
        try:
            held = (bytearray(size - 8), held)
        except MemoryError:
            size //= 2
    room = None
    gc.collect()
    print("@filled", gc.mem_free())
    return held


def attempt(what, fn):
    try:
        fn()
    except MemoryError as err:
        print("@raised", what, "MemoryError:", err)


def on_error(message, event, topic):
    print("@error", event, message)


if PATH == "connect":
    client = Client(URL, reconnect_interval_increment=100, max_reconnect_interval=200,
                    max_reconnect_attempts=1000, connect_timeout=2000)
    client.on("error", on_error)
    client.login({"username": "board-memory"})
    client.poll(50)  # the driver is loaded; the first attempt fails
    held = fill(RESERVE)
    for _ in range(40):  # several failed attempts
        attempt("poll", lambda: client.poll(20))
    held = None
    gc.collect()
    print("@released")
    sys.stdin.readline()  # the host has let the proxy through
    for _ in range(400):
        attempt("poll", lambda: client.poll(20))
        if client.get_connection_state() == "OPEN":
            print("@open")
            break
elif PATH == "error":
    client = Client(URL)  # no "error" listener: errors are printed
    held = fill(RESERVE)
    attempt("login", lambda: client.login(42))
    held = None
    gc.collect()
    print("@released")
    client.login(42)
elif PATH == "emit":
    client = Client(URL)  # never polled: offline, everything waits
    client.on("error", on_error)
    held = fill(RESERVE)
    for i in range(60):  # about 2 KB: past the 1 KB frame buffer
        attempt("emit", lambda: client.event.emit("board/memory", i))
    held = None
    gc.collect()
    print("@released")
    for i in range(60):
        attempt("emit", lambda: client.event.emit("board/memory", i))
    print("@queued", client._conn.pending())
print("@done")
