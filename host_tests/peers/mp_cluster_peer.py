"""A device on a deepstream cluster, for test_cluster.py and tools/bench_cluster.py:
the same script under MicroPython and CPython, public API only.

    <python> host_tests/peers/mp_cluster_peer.py URLS_JSON NAME OPTIONS_JSON

Logs in as `dev-NAME` (so it shows in presence), provides the RPC
`cluster/rpc/NAME` (answers {"node": <url in use>, "echo": data}), holds the
record `cluster/rec/NAME` and publishes `cluster/out/NAME` {"i": i, "n": k}
at `_hz` events per second (default 100) from its first login on; k is the
index in URLS of the node the client uses or tries at the emit (an event
with k = the new node can only reach a subscriber through the new node). Its own record
path is `dev`: whenever the link leaves OPEN it writes `dev` = "dev-<outage>",
an edit made during the failover; its merge strategy keeps its `dev` on top of
the server's data, so edits on both sides survive. Listens to
`cluster/ctl/NAME`: "stop" ends publishing (an end marker {"end": last i}
follows), "quit" ends the process.

Lines (all start with @): @start (before the first poll), @open URL (each time OPEN is reached), @state S,
@error EVENT text, @rpc data, @ready <record as JSON> (once it is loaded),
@rec <record as JSON> (each change), @stopped N, @done {...}.
"""
import json
import sys

from deepstream import Client
from deepstream.compat import ticks_add, ticks_diff, ticks_ms

urls, name = json.loads(sys.argv[1]), sys.argv[2]
options = json.loads(sys.argv[3]) if len(sys.argv) > 3 else {}
period = 1000 // options.pop("_hz", 100)  # ms between events
deadline_ms = options.pop("_deadline_ms", 300000)
client = Client(urls, **options)
ctl = []
outages = [0]
state_now = [None]


def on_state(state):
    was_open = state_now[0] == "OPEN"
    state_now[0] = state
    print("@state", state)
    if state == "OPEN":
        print("@open", client.get_url())
    elif was_open and "quit" not in ctl:
        outages[0] += 1
        record.set("dev", "dev-%d" % outages[0])  # an edit made while between nodes


def on_rpc(data, response):
    print("@rpc", json.dumps(data))
    response.send({"node": client.get_url(), "echo": data})


def keep_dev(rec, remote, remote_version, done):
    """Merge: the server's data, with our own path `dev` on top."""
    merged = dict(remote) if isinstance(remote, dict) else {}
    merged["dev"] = rec.get("dev")
    done(None, merged)


client.on("connectionStateChanged", on_state)
client.on("error", lambda msg, event, topic: print("@error", event, msg))
client.event.subscribe("cluster/ctl/" + name, ctl.append)
client.rpc.provide("cluster/rpc/" + name, on_rpc)
record = client.record.get_record("cluster/rec/" + name)
record.set_merge_strategy(keep_dev)
record.subscribe(None, lambda data: print("@rec", json.dumps(data)))
record.when_ready(lambda rec: print("@ready", json.dumps(rec.get())))
client.login({"username": "dev-" + name})

topic = "cluster/out/" + name
i = 0
publishing = True
next_at = None
end = ticks_add(ticks_ms(), deadline_ms)
print("@start")  # the first poll() connects
while "quit" not in ctl and ticks_diff(end, ticks_ms()) > 0:
    now = ticks_ms()
    if next_at is None and state_now[0] == "OPEN":
        next_at = now  # publishing starts with the first login
    wait = 10
    if publishing and next_at is not None:
        wait = max(0, min(wait, ticks_diff(next_at, now)))
    client.poll(wait)
    if "stop" in ctl and publishing:
        publishing = False
        client.event.emit(topic, {"end": i - 1})
        print("@stopped", i)
    if publishing and next_at is not None and ticks_diff(ticks_ms(), next_at) >= 0:
        url = client.get_url()
        client.event.emit(topic, {"i": i, "n": urls.index(url) if url in urls else -1})
        i += 1
        next_at = ticks_add(next_at, period)
        if ticks_diff(ticks_ms(), next_at) > 100:  # blocked (a connect): no burst to catch up
            next_at = ticks_ms()
for _ in range(10):
    client.poll(10)
client.close()
client.poll(20)
print("@done", json.dumps({"sent": i, "outages": outages[0]}))
