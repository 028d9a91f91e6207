"""A battery device: wake, connect, publish, flush, deep sleep.

Copy it to the board as main.py, next to a config.json of the firmware's
format (wifi.ssid, wifi.password, server.url, server.auth, device_id) and
the library. Every wake sends one reading and sleeps again; a reading that
could not be sent (no WiFi, no server) waits in a file on flash and goes out
with the next one, oldest first.

Why these options: confirm_events makes flush() return only once the server
has confirmed the events (otherwise a link that dies right after the write
would lose them silently); outbox_file keeps what was emitted before the
link was up in flash, which survives deep sleep, where RAM does not.
"""
import json
import time

import machine
import network

from deepstream import Client

SLEEP_MS = 60000
WIFI_MS = 10000  # what one wake spends on WiFi at most
SEND_MS = 10000  # and on connecting, logging in and sending


def reading():
    # RP2040's internal temperature sensor; replace with your sensor
    volts = machine.ADC(4).read_u16() * 3.3 / 65535
    return round(27 - (volts - 0.706) / 0.001721, 1)


def main():
    with open("config.json") as f:
        cfg = json.load(f)
    wlan = network.WLAN(network.STA_IF)
    wlan.active(True)
    wlan.connect(cfg["wifi"]["ssid"], cfg["wifi"]["password"])
    client = Client(cfg["server"]["url"], confirm_events=True, outbox_file="outbox.bin",
                    connect_timeout=5000, max_reconnect_attempts=3)
    client.login(cfg["server"].get("auth") or {})
    # not connected yet: the reading goes into the outbox file at once
    client.event.emit("devices/%s/temperature" % cfg["device_id"], reading())
    start = time.ticks_ms()
    while not wlan.isconnected() and time.ticks_diff(time.ticks_ms(), start) < WIFI_MS:
        time.sleep_ms(50)
    if wlan.isconnected() and client.flush(SEND_MS):
        print("sent")
    else:
        print("kept for the next wake:", client.last_error)
    client.close()
    client.poll(100)  # the close frame
    wlan.active(False)
    machine.deepsleep(SLEEP_MS)


main()
