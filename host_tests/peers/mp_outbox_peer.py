"""Durable-outbox peer for test_outbox.py, on the MicroPython unix port.

    micropython mp_outbox_peer.py store URL OUTBOX N   emit N readings while the server
        is unreachable (they go to the outbox file), print "stored N", then keep polling
        until the test kills the process (a power loss, as far as the file is concerned)
    micropython mp_outbox_peer.py send URL OUTBOX      log in; the outbox is replayed after
        login; print "sent" once the file is gone, and every error event on its own line
    PROTOCOL=auto (environment): the client's option protocol="auto"
"""
import os
import sys

from deepstream import Client


def exists(path):
    try:
        os.stat(path)
        return True
    except OSError:
        return False


mode, url, outbox = sys.argv[1], sys.argv[2], sys.argv[3]
client = Client(url, outbox_file=outbox, reconnect_interval_increment=100, max_reconnect_attempts=1000,
                protocol=os.getenv("PROTOCOL"))
client.on("error", lambda msg, event, topic: print("error", event, msg))
client.login({"username": "outbox-peer"})

if mode == "store":
    n = int(sys.argv[4])
    client.poll(0)  # tries to connect: refused, so the client is offline
    for i in range(n):
        client.event.emit("outbox/readings", {"i": i})
    print("stored", n)
    while True:
        client.poll(100)
else:
    while client.get_connection_state() != "OPEN" or exists(outbox):
        client.poll(20)
    for _ in range(10):
        client.poll(20)  # the frame is on its way
    print("sent")
    client.close()
    client.poll(100)
