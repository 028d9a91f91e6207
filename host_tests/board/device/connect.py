"""On the board: connection attempts that must not block the loop (test_board_connect.py).

    connect.py DRIVER CASES_JSON

DRIVER is "poll" (client.poll(50) in a plain loop) or "aio" (client.start() next to a
task that ticks every 10 ms). CASES_JSON: a list of {"name", "url", "seconds",
"options", "dns"}: "dns" (optional) is the resolver the interface is given
(network.ipconfig(dns=...)) before the case; "until_open" ends the case at OPEN.
Per case one line:
  @case {"name", "longest_ms" (longest poll(50), or longest gap between two ticks),
         "errors": [[event, message], ...], "states": [...], "opened_ms" (or null)}
"""
import gc
import json
import sys
import time

import network
from deepstream import Client

DRIVER = sys.argv[1]
CASES = json.loads(sys.argv[2])


def new_client(case, errors, states, start):
    client = Client(case["url"], **case.get("options", {}))
    client.on("error", lambda message, event, topic: errors.append([event, message]))

    def on_state(state):
        states.append(state)
        if state == "OPEN" and case.get("opened_ms") is None:
            case["opened_ms"] = time.ticks_diff(time.ticks_ms(), start)
    client.on("connectionStateChanged", on_state)
    client.login({"username": "board-" + case["name"]})
    return client


def done(case, states, start):
    if case.get("until_open") and "OPEN" in states:
        return True
    return time.ticks_diff(time.ticks_ms(), start) >= case["seconds"] * 1000


def run_poll(case, errors, states):
    start = time.ticks_ms()
    client = new_client(case, errors, states, start)
    longest = 0
    while not done(case, states, start):
        t0 = time.ticks_ms()
        client.poll(50)
        longest = max(longest, time.ticks_diff(time.ticks_ms(), t0))
    client.close()
    client.poll(50)
    return longest


def run_aio(case, errors, states):
    import asyncio

    async def main():
        start = time.ticks_ms()
        client = new_client(case, errors, states, start)
        task = client.start()
        longest = 0
        last = time.ticks_ms()
        while not done(case, states, start):
            await asyncio.sleep_ms(10)
            now = time.ticks_ms()
            longest = max(longest, time.ticks_diff(now, last))
            last = now
        client.close()
        await asyncio.sleep_ms(50)
        task.cancel()
        return longest
    return asyncio.run(main())


for case in CASES:
    if case.get("dns"):
        network.ipconfig(dns=case["dns"])
    errors, states = [], []
    case["opened_ms"] = None
    try:
        longest = (run_poll if DRIVER == "poll" else run_aio)(case, errors, states)
    except Exception as err:  # the library must never raise out of its calls
        sys.print_exception(err)
        longest = None
        errors.append(["RAISED", "%s: %s" % (type(err).__name__, err)])
    gc.collect()
    print("@case", json.dumps({"name": case["name"], "longest_ms": longest, "errors": errors,
                               "states": states, "opened_ms": case["opened_ms"]}))
