"""Fake `rp2`: only country() (the WiFi regulatory domain), which the Pico W board module sets."""
import fakeboard

_country = "XX"


def country(code=None):
    global _country
    if code is None:
        return _country
    _country = code
    fakeboard.report("country", code)
