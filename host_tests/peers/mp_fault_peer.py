"""Fault-injection peer for test_faults.py: the same script under MicroPython
and CPython, talking to the real server through support/tcpproxy.py.

    <python> host_tests/peers/mp_fault_peer.py URL NAME K OPTIONS_JSON

Subscribes `fault/in/NAME`, provides the RPC `fault/rpc/NAME`, holds the
record `fault/rec/NAME` (subscribed to its path `in`), logs in (auth data
carries a password). Phase 0 starts before the first login;
phase p > 0 starts whenever the connection leaves OPEN. At the start of each
phase the peer emits K events `fault/out/NAME` {"p": p, "i": i} - while
offline, so they are queued - sets the record path `offline` to p (a
record write made offline) and prints `@offline p`. Once OPEN again it
makes a round trip (a fresh subscription whose ack it waits for: the server
has then processed the resubscriptions sent before it), prints `@synced p`
and emits the end marker {"p": p, "end": true}. The event `fault/ctl/NAME`
"quit" ends it; the last line is `@done <json summary>` (with "flushed": what
the last flush() returned, True once everything went out and, with
confirm_events, was confirmed).

With the option `_stream_ms` (test_faults.py runs it with confirm_events)
the peer also emits `fault/stream/NAME` {"s": seq} every that many ms,
online or not, and whenever the connection leaves OPEN it prints which of
them were still unconfirmed at that moment (white box: the events the send
queue keeps for confirm_events) as `@unconfirmed first last` (or
`@unconfirmed none`): only those may arrive twice.

Lines (all start with @, one per happening): @state S, @error EVENT text,
@offline p, @synced p, @in value, @rec value, @rpc value, @unconfirmed a b,
@done {...}.
"""
import json
import sys

from deepstream import Client
from deepstream.compat import ticks_add, ticks_diff, ticks_ms

url, name, k = sys.argv[1], sys.argv[2], int(sys.argv[3])
options = json.loads(sys.argv[4]) if len(sys.argv) > 4 else {}
deadline_ms = options.pop("_deadline_ms", 120000)
stream_ms = options.pop("_stream_ms", 0)
if options.pop("_local_wins", False):  # records: our data beats the server's on a conflict
    from deepstream.record import LOCAL_WINS
    options["merge_strategy"] = LOCAL_WINS
client = Client(url, **options)
received = []
errors = []
quit_ = []
left_open = []  # set by the state listener: the connection left OPEN


def unconfirmed():
    """The stream events the send queue still keeps for confirm_events. Either
    protocol carries an event's data as JSON text ({"s": seq}): read from there."""
    ring = client._conn._ring
    first = last = None  # no list: this runs where the heap is tightest
    if ring is not None:
        for msg, queued in ring.messages():
            if not queued and b"fault/stream/" in msg:
                i = msg.find(b":", msg.find(b'{"s"')) + 1
                last = int(msg[i:msg.find(b"}", i)])
                if first is None:
                    first = last
    return "none" if first is None else "%d %d" % (first, last)


def on_state(state):
    print("@state", state)
    if state != "OPEN" and phase["was_open"]:
        left_open.append(state)
        if stream_ms:
            print("@unconfirmed", unconfirmed())
    phase["was_open"] = state == "OPEN"


def on_error(msg, event, topic):
    errors.append(event)
    print("@error", event, msg)


def on_in(value):
    received.append(value)
    print("@in", json.dumps(value))


def on_rpc(data, response):
    print("@rpc", json.dumps(data))
    response.send({"peer": name, "echo": data})


phase = {"p": 0, "was_open": False, "sync": None}
client.on("connectionStateChanged", on_state)
client.on("error", on_error)
client.event.subscribe("fault/in/" + name, on_in)
client.event.subscribe("fault/ctl/" + name, quit_.append)
client.rpc.provide("fault/rpc/" + name, on_rpc)
record = client.record.get_record("fault/rec/" + name)
record.subscribe("in", lambda value: print("@rec", json.dumps(value)))
client.login({"username": "fault-" + name, "password": "fault-peer-password"})


def start_phase():
    p = phase["p"]
    for i in range(k):
        client.event.emit("fault/out/" + name, {"p": p, "i": i})
    record.set("offline", p)
    phase["sync"] = "start"
    print("@offline", p)


start_phase()
deadline = ticks_add(ticks_ms(), deadline_ms)
seq = 0
next_stream = ticks_ms()
while not quit_ and ticks_diff(deadline, ticks_ms()) > 0:
    client.poll(min(10, stream_ms) if stream_ms else 10)
    while stream_ms and ticks_diff(ticks_ms(), next_stream) >= 0:
        client.event.emit("fault/stream/" + name, {"s": seq})
        seq += 1
        next_stream = ticks_add(next_stream, stream_ms)
    if left_open:
        del left_open[:]
        phase["p"] += 1
        start_phase()
    state = client.get_connection_state()
    if state == "OPEN" and phase["sync"] == "start":
        client.event.subscribe("fault/sync/%s/%d" % (name, phase["p"]), lambda v: None)
        phase["sync"] = "wait"
    elif state == "OPEN" and phase["sync"] == "wait" and not client._acks.keys:
        phase["sync"] = None
        print("@synced", phase["p"])
        client.event.emit("fault/out/" + name, {"p": phase["p"], "end": True})
flushed = client.flush(5000)  # everything handed over (with confirm_events: and confirmed)
client.close()
client.poll(20)
print("@done", json.dumps({"phases": phase["p"], "received": received, "errors": errors,
                           "quit": bool(quit_), "streamed": seq, "flushed": flushed}))
