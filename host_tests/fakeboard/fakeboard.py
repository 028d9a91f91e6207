"""Shared state of the fake board (test double for the MicroPython unix port).

The test controls the board through a JSON *control file* (path in the
FAKEBOARD environment variable, default ./fakeboard.json), which it replaces
atomically (write a temp file, then rename) whenever it wants a change:

    {"wifi": true,               # is the access point reachable?
     "rssi": -58,                # WLAN.status("rssi") while connected
     "connect_ms": 200,          # how long WLAN.connect() takes to get an IP
     "unique_id": "e66141040396472b",
     "adc": {"4": 14088},        # ADC.read_u16() per channel (4 = RP2040 temperature)
     "mcu_temperature": 41.0,    # esp32.mcu_temperature()
     "raw_temperature": 120,     # esp32.raw_temperature() (F)
     "esp32_api": ["mcu_temperature", "raw_temperature"]}   # read once, at import

The board reports what the firmware does to it as lines on stdout, each
starting with "@fake " (so the test can tell them from the firmware's log):

    @fake pin LED 1             # an output pin changed
    @fake wifi connect <ssid>   # WLAN.connect() called
    @fake wifi up / @fake wifi lost
    @fake wlan config pm=10555712
    @fake country GB
    @fake wdt start 8000        # machine.WDT(timeout=8000)
    @fake wdt gap 1002          # a new longest gap between two feeds (ms)
    @fake wdt fired 8100        # a feed came later than the timeout: a real board would have reset
    @fake reset                 # machine.reset(): the process exits with code 99
    @fake deepsleep 60000       # machine.deepsleep(60000): the process exits with code 98
"""
import json
import os
import sys
import time

RESET_EXIT_CODE = 99
DEEPSLEEP_EXIT_CODE = 98  # a wake from deep sleep is a new start: the test runs main.py again
DEFAULTS = {
    "wifi": True,
    "rssi": -58,
    "connect_ms": 200,
    "unique_id": "e66141040396472b",
    "adc": {"4": 14088},  # 25.0 C with the RP2040 formula
    "mcu_temperature": 41.0,
    "raw_temperature": 120,
    "esp32_api": ["mcu_temperature", "raw_temperature"],
}

_path = (os.getenv("FAKEBOARD") if hasattr(os, "getenv") else None) or "fakeboard.json"  # wasm port: no getenv
_state = dict(DEFAULTS)
_read_at = None


def state():
    """The control values, re-read from the control file at most every 50 ms."""
    global _read_at
    now = time.ticks_ms()
    if _read_at is None or time.ticks_diff(now, _read_at) >= 50:
        _read_at = now
        try:
            with open(_path) as f:
                values = json.load(f)
        except (OSError, ValueError):
            values = None
        if values is not None:
            _state.update(values)
    return _state


def report(*words):
    sys.stdout.write("@fake " + " ".join(str(w) for w in words) + "\n")


def reset():
    report("reset")
    raise SystemExit(RESET_EXIT_CODE)


def deepsleep(ms):
    report("deepsleep", ms)
    raise SystemExit(DEEPSLEEP_EXIT_CODE)
