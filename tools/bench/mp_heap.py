"""Heap probes on MicroPython (gc.mem_alloc() after gc.collect()).

    micropython tools/bench/mp_heap.py URL state
        mem_alloc at start, after importing everything the scenario loads
        (Client, the poll driver's modules, the URL's codec), and after Client() + login +
        10 event subscriptions (acks received); the library's modules then loaded.
    micropython tools/bench/mp_heap.py URL recv NAME WARMUP N
        bytes allocated per received event: logs in, subscribes to NAME and
        prints READY; the host then sends WARMUP + N events. When the WARMUP-th
        arrives (buffers have grown to their working size) the callback does
        gc.collect(), reads mem_alloc and gc.disable(); when the last arrives
        it reads mem_alloc again. With the collector off nothing is freed
        behind our back, so the delta is everything allocated while those N
        events were read, decoded, parsed and delivered, divided by N.
    micropython tools/bench/mp_heap.py URL send NAME
        bytes allocated per published message, collector off: 100 x
        client.event.emit(NAME, {"n": i, "v": 21.5}) (the dict included), then the
        poll(0) that frames and sends them; likewise 100 x record.set("n", i).
        Measured after 300 of each, so the buffers are at their working size.
    micropython tools/bench/mp_heap.py URL records PREFIX K
        heap held per open record: the host has written PREFIX/0 .. PREFIX/K-1
        with a 200-byte document; open all K, wait until ready, and report
        (mem_alloc with K open - mem_alloc before) / K.

The protocol is the URL's (the client's default). Prints one `BENCH {json}` line.
"""
import gc
import json
import sys
import time

gc.collect()
M_START = gc.mem_alloc()

from deepstream import Client  # noqa: E402
import deepstream.poll  # noqa: E402,F401  (loaded by the first poll() otherwise)

SUBSCRIPTIONS = 10


def mem():
    gc.collect()
    return gc.mem_alloc()


def pump(client, cond, timeout_ms=10000):
    start = time.ticks_ms()
    while not cond():
        if time.ticks_diff(time.ticks_ms(), start) > timeout_ms:
            return False
        client.poll(20)
    return True


def open_client(url, errors):
    client = Client(url)
    client.on("error", lambda msg, event, topic: errors.append("%s: %s" % (event, msg)))
    ok = []
    client.login({"username": "bench-heap"}, lambda success, data: ok.append(success))
    pump(client, lambda: ok)
    return client


def acks_done(client):
    return not client._acks.keys


def state(url):
    # the codec Client() chooses by the URL (options.choose_codec) is code too: imported here
    __import__("deepstream.text_codec" if url.endswith("/deepstream-v3") else "deepstream.binary_codec")
    m_import = mem()
    errors = []
    client = open_client(url, errors)
    for i in range(SUBSCRIPTIONS):
        client.event.subscribe("bench/heap/%d" % i, lambda data: None)
    pump(client, lambda: acks_done(client))
    client.poll(0)
    m_state = mem()
    return {"start": M_START, "import": m_import, "state": m_state, "errors": errors,
            "open": client.get_connection_state() == "OPEN",
            "modules": sorted(m for m in sys.modules if m.split(".")[0] == "deepstream")}


def recv(url, name, warmup, n):
    errors = []
    client = open_client(url, errors)
    box = [0, 0, 0]  # count, mem_alloc at the window's start, at its end

    def on_event(data):
        box[0] += 1
        if box[0] == warmup:
            gc.collect()
            box[1] = gc.mem_alloc()
            gc.disable()
        elif box[0] == warmup + n:
            box[2] = gc.mem_alloc()
            gc.enable()

    client.event.subscribe(name, on_event)
    pump(client, lambda: acks_done(client))
    print("READY")
    ok = pump(client, lambda: box[0] >= warmup + n, 60000)
    gc.enable()
    return {"count": box[0], "complete": ok, "bytes": box[2] - box[1],
            "per_event": (box[2] - box[1]) / n if ok else None, "errors": errors}


def window(fn):
    gc.collect()
    gc.disable()
    m0 = gc.mem_alloc()
    fn()
    m1 = gc.mem_alloc()
    gc.enable()
    return (m1 - m0) / 100


def send(url, name):
    errors = []
    client = open_client(url, errors)
    rec = client.record.get_record(name)
    pump(client, lambda: rec.is_ready)
    emit = client.event.emit
    base = [1]

    def emits():
        for i in range(100):
            emit(name, {"n": i, "v": 21.5})

    def sets():
        for i in range(base[0], base[0] + 100):
            rec.set("n", i)
        base[0] += 100

    def flush():
        client.poll(0)

    for _ in range(3):
        emits()
        flush()
        sets()
        flush()
    return {"emit": window(emits), "emit_flush": window(flush), "set": window(sets),
            "set_flush": window(flush), "errors": errors}


def records(url, prefix, k):
    errors = []
    client = open_client(url, errors)
    client.record  # the record handler and its modules are loaded before m0,
    client._conn.codec.patch  # and the codec's record half (text: text_more.py, loaded on first use)
    names = ["%s/%d" % (prefix, i) for i in range(k)]
    held = []
    m0 = mem()
    for nm in names:
        held.append(client.record.get_record(nm))
    pump(client, lambda: all(r.is_ready for r in held))
    client.poll(0)
    m1 = mem()
    size = len(json.dumps(held[0].get(), separators=(",", ":")))
    return {"doc_bytes": size, "k": k, "per_record": (m1 - m0) / k, "errors": errors}


def main():
    url, mode = sys.argv[1], sys.argv[2]
    if mode == "state":
        out = state(url)
    elif mode == "recv":
        out = recv(url, sys.argv[3], int(sys.argv[4]), int(sys.argv[5]))
    elif mode == "send":
        out = send(url, sys.argv[3])
    else:
        out = records(url, sys.argv[3], int(sys.argv[4]))
    print("BENCH " + json.dumps(out))


main()
