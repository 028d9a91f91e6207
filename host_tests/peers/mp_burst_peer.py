"""Burst peer for test_e2e_burst.py: a tight loop of public calls with no
poll() in between, then one flush() (or, with asyncio, await drain()).

    micropython host_tests/peers/mp_burst_peer.py URL events NAME N
    micropython host_tests/peers/mp_burst_peer.py URL records NAME N
    micropython host_tests/peers/mp_burst_peer.py URL aio NAME N

events:  emit(NAME, i) for i in 0..N-1, then flush()
records: record NAME: set("n", i) for i in 1..N, then flush()
aio:     client.start(), login, emit(NAME, i) for i in 0..N-1, await drain()
         after every 200 (an asyncio loop must let the writer run before more than
         max_queued_bytes wait)
aio-over: the same without the drain() every 200: the writer cannot run during
         the loop, so beyond max_queued_bytes the oldest are dropped
Prints one line `RESULT {json}`: flushed, errors, heap before/after (MicroPython).
Runs on CPython too.
"""
import gc
import json
import sys

from deepstream import Client

url, mode, name, n = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
errors = []


def heap():
    gc.collect()
    return gc.mem_alloc() if hasattr(gc, "mem_alloc") else None


def report(flushed, before):
    print("RESULT " + json.dumps({"flushed": flushed, "errors": errors[:10], "before": before,
                                  "after": heap()}))


def polled(client):
    client.on("error", lambda msg, event, topic: errors.append("%s: %s" % (event, msg)))
    ok = []
    client.login({"username": "burst-" + mode}, lambda success, data: ok.append(success))
    for _ in range(500):
        if ok:
            break
        client.poll(20)
    if mode == "records":
        rec = client.record.get_record(name)
        for _ in range(500):
            if rec.is_ready:
                break
            client.poll(20)
        before = heap()
        for i in range(1, n + 1):
            rec.set("n", i)
    else:
        before = heap()
        emit = client.event.emit
        for i in range(n):
            emit(name, i)
    report(client.flush(30000), before)
    client.close()
    client.poll(50)


async def with_asyncio(client):
    client.on("error", lambda msg, event, topic: errors.append("%s: %s" % (event, msg)))
    client.start()
    await client.login_async({"username": "burst-aio"})
    before = heap()
    emit = client.event.emit
    for i in range(n):
        emit(name, i)
        if i % 200 == 199 and mode == "aio":  # 200 of these are 4 KB: well within the queue
            await client.drain()  # backpressure: the writer catches up
    await client.drain()
    report(True, before)
    client.close()
    await client.drain()


if mode.startswith("aio"):
    import asyncio
    asyncio.run(with_asyncio(Client(url)))
else:
    polled(Client(url))
