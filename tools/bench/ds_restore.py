"""Our client holding records through a lost link (MicroPython poll driver, or CPython).

    micropython tools/bench/ds_restore.py URL PREFIX N MARKER NAME...

Logs in, opens PREFIX/0 .. PREFIX/N-1, polls until every one is ready and prints
READY. The bench then cuts the link (a TCP proxy between us and the server), has
another client write MARKER into the `note` of the records NAME..., and lets us
back in. We poll until the link was lost and is open again, each of NAME... holds
MARKER, and every record the restore asked the server about has its answer
(`client.record.restore_stats`: binary only, text restores without asking), then
print one `BENCH {json}` line and poll on until the bench ends us (it counts at the
proxy what the server sent, and may still be waiting for text's documents).

The protocol is the URL's (the client's default: /deepstream-v3 is text, any
other path binary).
"""
import json
import sys
import time

from deepstream import Client

TIMEOUT = 30  # s, for each wait


def pump(client, cond):
    end = time.time() + TIMEOUT
    while not cond():
        if time.time() > end:
            return False
        client.poll(20)
    return True


def main():
    url, prefix, n, marker, changed = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4], sys.argv[5:]
    # back as soon as the proxy lets us: attempts 0.1 s apart, growing by 0.1 s
    client = Client(url, reconnect_interval_increment=100, max_reconnect_attempts=100)
    errors = []
    client.on("error", lambda msg, event, topic: errors.append("%s: %s" % (event, msg)))
    client.login({"username": "bench-restore"})
    recs = {}
    for i in range(n):
        name = "%s/%d" % (prefix, i)
        recs[name] = client.record.get_record(name)
    if not pump(client, lambda: all(r.is_ready for r in recs.values())):
        print("BENCH " + json.dumps({"error": "records not ready", "errors": errors[:5]}))
        return
    print("READY")
    stats = client.record.restore_stats
    lost = pump(client, lambda: client.get_connection_state() != "OPEN")
    back = lost and pump(client, lambda: client.get_connection_state() == "OPEN" and all(
        recs[name].get("note") == marker for name in changed) and stats["records"] == (
        stats["unchanged"] + stats["reread"] + stats["recreated"]))
    print("BENCH " + json.dumps({"lost": lost, "restored": back, "stats": stats, "errors": errors[:5],
                                 "notes": [recs[name].get("note") for name in changed]}))
    pump(client, lambda: False)  # until the bench has counted and ends us (or TIMEOUT)
    client.close()


main()
