"""wss:// peer for test_tls.py: runs under MicroPython and CPython alike.

    <python> host_tests/peers/mp_tls_peer.py URL poll|aio ROUNDS OPTIONS_JSON

Logs in (auth carries a password, so test_secrets-style checks can look at
the output), subscribes `tls/in`, and per round r (1..ROUNDS) emits
`tls/out` {"round": r} every 100 ms while OPEN until a `tls/in` event
arrives, then emits `tls/got` {"round": r}. Between rounds the test cuts
the link; the client reconnects by itself. Ends after the last round, when
the state is CLOSED (refused certificate with max_reconnect_attempts=0), or
after 20 s. The last line of output is a JSON summary:
{"rounds": n, "states": [...], "errors": [[event, text], ...]}.
"""
import json
import sys

from deepstream import Client
from deepstream.compat import ticks_add, ticks_diff, ticks_ms

url, mode, rounds = sys.argv[1], sys.argv[2], int(sys.argv[3])
options = json.loads(sys.argv[4])
client = Client(url, **options)
errors = []
states = []
got = []
client.on("error", lambda msg, event, topic: errors.append([event, msg]))
client.on("connectionStateChanged", states.append)
client.login({"username": "tls-peer", "password": "tls-peer-password"})
client.event.subscribe("tls/in", got.append)

deadline = ticks_add(ticks_ms(), 20000)
state = {"round": 1, "next": ticks_ms()}


def step():
    """One look at the world; True when the peer is finished."""
    if states and client.get_connection_state() == "CLOSED":
        return True  # gave up (refused certificate)
    if got:
        got.pop()
        client.event.emit("tls/got", {"round": state["round"]})
        state["round"] += 1
        if state["round"] > rounds:
            return True
    if client.get_connection_state() == "OPEN" and ticks_diff(ticks_ms(), state["next"]) >= 0:
        client.event.emit("tls/out", {"round": state["round"]})
        state["next"] = ticks_add(ticks_ms(), 100)
    return ticks_diff(deadline, ticks_ms()) <= 0


def report():
    print(json.dumps({"rounds": state["round"] - 1, "states": states, "errors": errors}))


if mode == "poll":
    while not step():
        client.poll(20)
    for _ in range(5):
        client.poll(10)  # let tls/got go out
    client.close()
    client.poll(50)
else:
    import asyncio

    async def main():
        task = client.start()
        while not step():
            await asyncio.sleep(0.02)
        await asyncio.sleep(0.05)
        client.close()
        await task

    asyncio.run(main())
report()
