"""Fake `esp32`: the internal temperature sensor functions listed in the control file's
"esp32_api" at import time (a classic ESP32 has only raw_temperature, S2/S3/C3 have
mcu_temperature), with values the test controls."""
import fakeboard

_api = fakeboard.state()["esp32_api"]

if "mcu_temperature" in _api:
    def mcu_temperature():
        return fakeboard.state()["mcu_temperature"]

if "raw_temperature" in _api:
    def raw_temperature():
        return fakeboard.state()["raw_temperature"]
