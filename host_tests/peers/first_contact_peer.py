"""First-contact peer, run by test_first_contact.py on CPython or on the MicroPython unix port.

    python|micropython first_contact_peer.py URL poll|aio listen|print MS [OPTIONS_JSON]

URL may be a JSON list of URLs (cluster nodes, tried in turn). Creates a client for URL, logs in, and drives it with the polling or the asyncio driver
until it is OPEN or CLOSED, or MS milliseconds passed. `listen`: error events go to a
listener; `print`: there is none (the client prints them itself). The last line is JSON:
{"states": [...], "errors": [[event, message, topic], ...]}.
"""
import json
import sys

from deepstream import Client
from deepstream.compat import ticks_diff, ticks_ms

url, driver, mode, ms = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
if url.startswith("["):
    url = json.loads(url)
options = json.loads(sys.argv[5]) if len(sys.argv) > 5 else {}
client = Client(url, **options)
states, errors = [], []
client.on("connectionStateChanged", states.append)
if mode == "listen":
    client.on("error", lambda msg, event, topic: errors.append([event, msg, topic]))
client.login({"username": "first-contact"})


def done():  # CLOSED is also the state before the first connection
    return bool(states) and states[-1] in ("OPEN", "CLOSED")


start = ticks_ms()
if driver == "poll":
    while not done() and ticks_diff(ticks_ms(), start) < ms:
        client.poll(20)
else:
    import asyncio

    async def main():
        task = client.start()
        while not done() and ticks_diff(ticks_ms(), start) < ms:
            await asyncio.sleep(0.02)
        client.close()
        await task
    asyncio.run(main())
client.close()
print(json.dumps({"states": states, "errors": errors}))
