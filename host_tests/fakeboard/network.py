"""Fake `network`: a station interface whose access point the test switches on and off.

connect() takes "connect_ms" to get an IP when the control file says "wifi": true.
When "wifi" turns false the link is lost and stays down until the firmware calls
connect() again (the strict behaviour: a Pico W does not reliably rejoin on its own).
"""
import time

import fakeboard

STA_IF = 0
AP_IF = 1
STAT_IDLE = 0
STAT_CONNECTING = 1
STAT_WRONG_PASSWORD = -3
STAT_NO_AP_FOUND = -2
STAT_CONNECT_FAIL = -1
STAT_GOT_IP = 3

_hostname = "fakeboard"
_country = "XX"
_interfaces = {}


def hostname(name=None):
    global _hostname
    if name is None:
        return _hostname
    _hostname = name


def country(code=None):
    global _country
    if code is None:
        return _country
    _country = code
    fakeboard.report("country", code)


class WLAN:
    PM_NONE = 0
    PM_PERFORMANCE = 1
    PM_POWERSAVE = 2

    def __new__(cls, interface=STA_IF):
        if interface not in _interfaces:
            self = object.__new__(cls)
            self._interface = interface
            self._active = False
            self._status = STAT_IDLE
            self._since = 0
            self._ssid = None
            self._config = {"pm": 0}
            _interfaces[interface] = self
        return _interfaces[interface]

    def __init__(self, interface=STA_IF):
        pass

    def active(self, on=None):
        if on is None:
            return self._active
        self._active = bool(on)
        if not on:
            self._status = STAT_IDLE

    def connect(self, ssid=None, key=None, **kw):
        if not self._active:
            raise OSError("WLAN not active")
        self._ssid = ssid
        self._status = STAT_CONNECTING
        self._since = time.ticks_ms()
        fakeboard.report("wifi", "connect", ssid)

    def disconnect(self):
        self._status = STAT_IDLE

    def _update(self):
        s = fakeboard.state()
        if self._status == STAT_CONNECTING:
            if time.ticks_diff(time.ticks_ms(), self._since) >= s["connect_ms"]:
                if s["wifi"]:
                    self._status = STAT_GOT_IP
                    fakeboard.report("wifi", "up")
                else:
                    self._status = STAT_NO_AP_FOUND
        elif self._status == STAT_GOT_IP and not s["wifi"]:
            self._status = STAT_CONNECT_FAIL
            fakeboard.report("wifi", "lost")
        return s

    def status(self, param=None):
        s = self._update()
        if param is None:
            return self._status
        if param == "rssi":
            if self._status != STAT_GOT_IP:
                raise OSError("not connected")
            return s["rssi"]
        raise ValueError("unknown status param")

    def isconnected(self):
        self._update()
        return self._status == STAT_GOT_IP

    def config(self, *args, **kw):
        if args:
            if args[0] == "mac":
                return bytes.fromhex("28cdc1000001")
            if args[0] == "ssid":
                return self._ssid
            return self._config.get(args[0])
        for key in kw:
            self._config[key] = kw[key]
            fakeboard.report("wlan", "config", "%s=%s" % (key, kw[key]))

    def ifconfig(self, *args):
        if self._status == STAT_GOT_IP:
            return ("127.0.0.1", "255.0.0.0", "127.0.0.1", "127.0.0.1")
        return ("0.0.0.0", "0.0.0.0", "0.0.0.0", "0.0.0.0")
