"""The send path's memory: a burst of any length, with no poll() in between,
costs the frame buffer and nothing more; offline, the queue's heap is the
ring it was given. Runs under pytest (tracemalloc) and under MicroPython
(tools/mptest.py: gc.mem_alloc() after gc.collect()).

The driver here is a write-through sink that takes every frame at once, as
the polling driver does when the frame buffer is full (poll.py); the real
drivers under a burst are tested against the server (test_e2e_burst.py)."""
import gc

from deepstream.testing import open_link, ready_record

try:
    gc.mem_alloc

    def start():
        pass

    def used():
        gc.collect()
        return gc.mem_alloc()

    def stop():
        pass
except AttributeError:  # CPython
    import tracemalloc

    def start():
        tracemalloc.start()

    def used():
        gc.collect()
        return tracemalloc.get_traced_memory()[0]

    def stop():
        tracemalloc.stop()

BURST = 20000
SLACK = 3072  # bytes: the collector's and tracemalloc's own noise, not per message


def sink_link(**options):
    link = open_link(**options)
    link.client.off("error")  # no list growing with the burst's error events
    written = [0, 0]  # bytes, frames

    def write_through(n):
        written[0] += n
        written[1] += 1
        return True
    link.conn.write_through = write_through
    return link, written


def test_a_burst_of_emits_keeps_the_heap_flat():
    start()
    try:
        link, written = sink_link()
        emit = link.client.event.emit
        for i in range(100):  # warm-up: interned names, grown dicts
            emit("burst/ev", {"n": i, "v": 21.5})
        base = used()
        for i in range(BURST):
            emit("burst/ev", {"n": i, "v": 21.5})
        growth = used() - base
    finally:
        stop()
    assert growth < SLACK, growth
    assert written[1] > BURST * 30 // 1024  # written as the frames filled, ~1 KB each
    assert link.conn.pending()  # the last, partly filled frame waits for the next poll


def test_a_burst_of_record_path_sets_keeps_the_heap_flat():
    start()
    try:
        link, written = sink_link()
        rec = ready_record(link, "burst/rec", 1, '{"n":0}')
        for i in range(1, 101):
            rec.set("n", i)
        base = used()
        for i in range(101, BURST + 101):
            rec.set("n", i)
        growth = used() - base
    finally:
        stop()
    assert growth < SLACK, growth
    assert rec.get("n") == BURST + 100 and written[1] > 0


def test_a_burst_of_rpc_calls_keeps_the_heap_flat():
    start()
    try:
        link, written = sink_link()
        refused = [0]

        def done(error, result):
            if error == "TOO_MANY_PENDING":
                refused[0] += 1
        make = link.client.rpc.make
        for i in range(20):  # fills max_pending_rpcs (16): the rest are refused at once
            make("burst/rpc", i, done)
        base = used()
        for i in range(BURST):
            make("burst/rpc", i, done)
        growth = used() - base
    finally:
        stop()
    assert growth < SLACK, growth
    assert refused[0] == BURST + 4


def test_offline_the_queue_costs_its_ring_and_no_more():
    start()
    try:
        link, written = sink_link(max_queued_bytes=4096)
        link.drop()  # offline: nothing can be written, the queue overflows
        import deepstream.offline  # noqa: F401  (their code is not the queue's cost)
        import deepstream.ring  # noqa: F401
        base = used()
        for i in range(BURST):
            link.client.event.emit("burst/ev", {"n": i, "v": 21.5})
        growth = used() - base
    finally:
        stop()
    assert link.conn._ring.size == 4096
    assert growth < 4096 + 1024, growth
    assert link.conn.dropped > BURST - 200  # the oldest went, counted
