"""A small device for `make run`: runs on the MicroPython unix port, logs in
and publishes a simulated temperature every second as the event
`devices/<id>/temperature`, driven by the poll driver. Several URLs
(comma-separated: the nodes of a cluster) make it move to the next node when
its node goes; it then confirms its events (confirm_events), so that none is
lost in the move.

    micropython tools/demo_device.py ws://127.0.0.1:6020/deepstream demo-1
    micropython tools/demo_device.py ws://127.0.0.1:6020/deepstream,ws://127.0.0.1:6021/deepstream demo-1

The URL's path chooses the protocol: /deepstream-v3 text, any other binary.
"""
import math
import sys
import time

from deepstream import Client  # on MICROPYPATH: lib/ (make run gives it as .mpy)


def main(urls, device_id):
    urls = urls.split(",")
    client = Client(urls, confirm_events=len(urls) > 1)
    client.on("error", lambda msg, event, topic: sys.stderr.write("device error %s: %s\n" % (event, msg)))
    client.on("connectionStateChanged",
              lambda state: state == "OPEN" and print("device %s connected to %s" % (device_id, client.get_url())))
    client.login({"username": device_id})
    topic = "devices/%s/temperature" % device_id
    n = 0
    next_at = time.ticks_ms()
    while True:
        client.poll(50)
        if time.ticks_diff(time.ticks_ms(), next_at) >= 0:
            next_at = time.ticks_add(next_at, 1000)
            reading = round(21.0 + 2.0 * math.sin(n / 10), 2)  # simulated sensor
            client.event.emit(topic, {"n": n, "celsius": reading})
            n += 1


try:
    main(sys.argv[1], sys.argv[2] if len(sys.argv) > 2 else "demo-1")
except KeyboardInterrupt:  # Ctrl-C reaches the whole process group: stop quietly
    pass
