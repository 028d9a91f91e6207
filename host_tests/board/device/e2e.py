"""On the board: the library against the real server and the official JS client
(test_board_e2e.py). One client on the poll driver; NAME keeps the topics apart.

    e2e.py URL NAME

Subscribes board/NAME/in, provides the RPC board/NAME/double, holds the record
board/NAME/rec (subscribed to its path "in"), subscribes to the presence of js-NAME.
The event board/NAME/ctl drives it: "burst N" emits N events board/NAME/burst with no
poll() in between, then flush(); "rpc X" makes the RPC board/NAME/add with X; "set X"
sets the record's path "out" to X; "quit" ends it.
Lines: @heap import|login FREE, @ready, @in V, @rpc V, @rec V, @presence USER BOOL,
@result ERROR RESULT, @burst N SECONDS_MS LOWEST_FREE FLUSHED, @done.
"""
import gc
import json
import sys
import time

gc.collect()
from deepstream import Client  # noqa: E402
import deepstream.poll  # noqa: E402,F401 (the driver, loaded before the figure)

gc.collect()
print("@heap import", gc.mem_free())

url, name = sys.argv[1], sys.argv[2]
client = Client(url)
client.on("error", lambda message, event, topic: print("@error", event, message))
commands = []
client.event.subscribe("board/%s/ctl" % name, commands.append)
client.event.subscribe("board/%s/in" % name, lambda v: print("@in", json.dumps(v)))


def double(data, response):
    print("@rpc", json.dumps(data))
    response.send(data * 2)


client.rpc.provide("board/%s/double" % name, double)
record = client.record.get_record("board/%s/rec" % name)
record.subscribe("in", lambda v: print("@rec", json.dumps(v)))
client.presence.subscribe("js-" + name, lambda user, online: print("@presence", user, online))
client.login({"username": "board-" + name})
while client.get_connection_state() != "OPEN" or client._acks.keys:
    client.poll(20)
gc.collect()
print("@heap login", gc.mem_free())
print("@ready")


def burst(n):
    topic = "board/%s/burst" % name
    lowest = gc.mem_free()
    start = time.ticks_ms()
    for i in range(n):
        client.event.emit(topic, i)
        if i % 500 == 0:
            gc.collect()
            lowest = min(lowest, gc.mem_free())
    flushed = client.flush(60000)
    print("@burst", n, time.ticks_diff(time.ticks_ms(), start), lowest, flushed)


while True:
    client.poll(50)
    if not commands:
        continue
    what, _, arg = commands.pop(0).partition(" ")
    if what == "quit":
        break
    if what == "burst":
        burst(int(arg))
    elif what == "rpc":
        client.rpc.make("board/%s/add" % name, json.loads(arg),
                        lambda error, result: print("@result", json.dumps(error), json.dumps(result)))
    elif what == "set":
        record.set("out", json.loads(arg))
client.close()
client.poll(50)
print("@done")
