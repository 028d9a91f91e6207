"""On the board: a client on the poll driver that prints what happens to its connection,
until it has reached OPEN a number of times (the host makes the faults meanwhile).

    states.py URL OPTIONS_JSON OPENS
Lines: @state STATE, @error EVENT message, @done.
"""
import json
import sys
import time

from deepstream import Client

url, options, opens = sys.argv[1], json.loads(sys.argv[2]), int(sys.argv[3])
seen = []


def on_state(state):
    seen.append(state)
    print("@state", state)


client = Client(url, **options)
client.on("connectionStateChanged", on_state)
client.on("error", lambda message, event, topic: print("@error", event, message))
client.login({"username": "board-states"})
start = time.ticks_ms()
while seen.count("OPEN") < opens and time.ticks_diff(time.ticks_ms(), start) < 60000:
    client.poll(50)
client.close()
client.poll(50)
print("@done")
