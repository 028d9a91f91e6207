"""Fake `machine` for the unix port: Pin, ADC, WDT, unique_id, reset (see fakeboard.py)."""
import time

import fakeboard

PWRON_RESET = 1
HARD_RESET = 2
WDT_RESET = 3
DEEPSLEEP_RESET = 4
SOFT_RESET = 5


class Pin:
    IN = 0
    OUT = 1
    OPEN_DRAIN = 2
    PULL_UP = 1
    PULL_DOWN = 2

    def __init__(self, id, mode=-1, pull=-1, value=None):
        self.id = id
        self._value = 0
        if value is not None:
            self.value(value)

    def value(self, v=None):
        if v is None:
            return self._value
        v = 1 if v else 0
        if v != self._value:
            self._value = v
            fakeboard.report("pin", self.id, v)

    __call__ = value

    def on(self):
        self.value(1)

    def off(self):
        self.value(0)

    def toggle(self):
        self.value(not self._value)


class ADC:
    CORE_TEMP = 4

    def __init__(self, channel):
        self.channel = channel.id if isinstance(channel, Pin) else channel

    def read_u16(self):
        return int(fakeboard.state()["adc"].get(str(self.channel), 0))


class WDT:
    def __init__(self, id=0, timeout=5000):
        self.timeout = timeout
        self._fed = time.ticks_ms()
        self._max_gap = 0
        fakeboard.report("wdt", "start", timeout)

    def feed(self):
        now = time.ticks_ms()
        gap = time.ticks_diff(now, self._fed)
        self._fed = now
        if gap > self.timeout:
            fakeboard.report("wdt", "fired", gap)
        elif gap > self._max_gap:
            self._max_gap = gap
            fakeboard.report("wdt", "gap", gap)


def unique_id():
    return bytes.fromhex(fakeboard.state()["unique_id"])


def reset():
    fakeboard.reset()


soft_reset = reset


def deepsleep(ms=0):
    fakeboard.deepsleep(ms)


def reset_cause():
    return PWRON_RESET


def freq(hz=None):
    return 133000000


def idle():
    time.sleep_ms(1)
