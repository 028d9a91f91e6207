"""On the board: calls that promise never to raise keep that promise on an exhausted
heap (issue 22, defect 1; test_board_memory.py).

    memory.py PATH URL [RESERVE]

The heap is filled until nothing is left but a small reserve (fill()), then PATH runs:
  connect  client.poll() while connection attempts fail (the proxy refuses them); then
           the heap is given back ("@released"), the host lets the proxy through and the
           client must reach OPEN ("@open")
  lost     the link is lost on a full heap (the host cuts it once "@filled" is printed and
           says "go"): client.poll() loads the reconnect code; then as for connect
  error    an error with no `error` listener, which prints it (client.login(42))
  emit     emit() while offline, past what the frame buffer holds (the send queue)
Lines: @filled <free bytes>, @raised <text> (a call raised: the defect), @error EVENT
message, @state STATE, @released, @open, @done.
"""
import gc
import sys

from deepstream import Client

PATH, URL = sys.argv[1], sys.argv[2]
# bytes left free: small allocations succeed (strings, tuples, the call frames MicroPython
# takes from the heap), loading a module does not
RESERVE = int(sys.argv[3]) if len(sys.argv) > 3 else 2048


def fill(reserve):
    """Allocate everything but `reserve` bytes; returns what holds it (give it to release())."""
    gc.collect()
    room = bytearray(reserve)  # noqa: F841 (kept until the heap is full, then freed: the only free block)
    held = None
    size = 8192
    while size >= 16:
        try:
            held = [bytearray(size - 8), held]
        except MemoryError:
            size //= 2
    room = None
    gc.collect()
    print("@filled", gc.mem_free())
    return held


def release(held):
    """Unlink every piece: a stale pointer the collector finds on the stack (it is
    conservative) then keeps one small node alive, not the whole heap."""
    while held is not None:
        nxt = held[1]
        held[0] = held[1] = None
        held = nxt
    gc.collect()
    print("@released", gc.mem_free())


def attempt(what, fn):
    try:
        fn()
    except MemoryError as err:
        print("@raised", what, "MemoryError:", err)
        sys.print_exception(err, sys.stdout)


def on_error(message, event, topic):
    print("@error", event, message)


STATES = []


def on_state(state):
    STATES.append(state)
    print("@state", state)


def until_open(client):
    """poll() until the state changes to OPEN (a state left OPEN while the heap was too
    full to change it does not count)."""
    since = len(STATES)
    for _ in range(400):
        attempt("poll", lambda: client.poll(20))
        if "OPEN" in STATES[since:]:
            return True
    return False


if PATH in ("connect", "lost"):
    client = Client(URL, reconnect_interval_increment=100, max_reconnect_interval=200,
                    max_reconnect_attempts=1000, connect_timeout=2000)
    client.on("error", on_error)
    client.on("connectionStateChanged", on_state)
    client.login({"username": "board-memory"})
    if PATH == "lost":
        if until_open(client):
            print("@open")
    else:
        client.poll(50)  # the driver is loaded; the first attempt fails
    held = fill(RESERVE)
    if PATH == "lost":
        sys.stdin.readline()  # the host has cut the link
    for _ in range(120):  # the link found lost, several failed attempts
        attempt("poll", lambda: client.poll(20))
    release(held)
    sys.stdin.readline()  # the host has let the proxy through
    if until_open(client):
        print("@open")
elif PATH == "error":
    client = Client(URL)  # no "error" listener: errors are printed
    held = fill(RESERVE)
    attempt("login", lambda: client.login(42))
    release(held)
    client.login(42)
elif PATH == "emit":
    client = Client(URL)  # never polled: offline, everything waits
    client.on("error", on_error)
    held = fill(RESERVE)
    for i in range(60):  # about 2 KB: past the 1 KB frame buffer
        attempt("emit", lambda: client.event.emit("board/memory", i))
    release(held)
    for i in range(60):
        attempt("emit", lambda: client.event.emit("board/memory", i))
    print("@queued", client._conn.pending())
print("@done")
