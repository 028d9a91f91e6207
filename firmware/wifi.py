"""WiFi station link with retries and backoff, driven by the app loop.

    link = WiFi(board.wlan(country="GB"), "ssid", "password")
    while True:
        up = link.poll()        # never blocks: starts/abandons attempts as due
        ...

Each attempt gets `timeout_ms` to reach "got IP"; after a failure the next
attempt waits 1 s, 2 s, 4 s ... up to `retry_max_ms`. When an established
link drops, the first reconnect attempt starts at once. The link needs no
asyncio and no sleeping, so the app loop can keep feeding the watchdog.
"""
import time

import network

BACKOFF_START = 1000  # ms before the second attempt; doubles per failure
# statuses that end an attempt early (the values differ per port)
_FAILED = tuple(getattr(network, n) for n in ("STAT_WRONG_PASSWORD", "STAT_NO_AP_FOUND", "STAT_CONNECT_FAIL")
                if hasattr(network, n))


class WiFi:
    def __init__(self, wlan, ssid, password="", timeout_ms=20000, retry_max_ms=60000, log=None):
        self.wlan = wlan
        self.ssid = ssid
        self.password = password
        self.timeout_ms = timeout_ms
        self.retry_max_ms = retry_max_ms
        self.log = log
        self.up = False
        self.attempts = 0  # connect() calls since the link was last up
        self.reconnects = 0  # times the link came back after being up
        self.drops = 0
        self._was_up = False
        self._started = None  # ticks of the running attempt
        self._next = None  # ticks of the next attempt (None: now)
        self._backoff = BACKOFF_START

    def _say(self, text):
        if self.log:
            self.log(text)

    def poll(self):
        """Check the link, start or abandon an attempt when due; True when up."""
        now = time.ticks_ms()
        if self.wlan.isconnected():
            if not self.up:
                self.up = True
                self._started = None
                self._backoff = BACKOFF_START
                if self._was_up:
                    self.reconnects += 1
                self._was_up = True
                self.attempts = 0
                self._say("wifi: connected to %s" % self.ssid)
            return True
        if self.up:  # the link dropped
            self.up = False
            self.drops += 1
            self._next = None
            self._say("wifi: link lost")
        if self._started is not None:
            if time.ticks_diff(now, self._started) < self.timeout_ms:
                if self.wlan.status() not in _FAILED:  # still joining: keep waiting
                    return False
            self._say("wifi: attempt %d failed (status %s), retry in %d ms"
                      % (self.attempts, self.wlan.status(), self._backoff))
            self._started = None
            self._next = time.ticks_add(now, self._backoff)
            self._backoff = min(self._backoff * 2, self.retry_max_ms)
            try:
                self.wlan.disconnect()
            except OSError:
                pass
            return False
        if self._next is None or time.ticks_diff(now, self._next) >= 0:
            self.attempts += 1
            self._started = now
            self._say("wifi: connecting to %s (attempt %d)" % (self.ssid, self.attempts))
            self.wlan.connect(self.ssid, self.password)
        return False

    def rssi(self):
        try:
            return self.wlan.status("rssi")
        except (OSError, ValueError, TypeError):
            return None
