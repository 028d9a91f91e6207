"""Espressif ESP32 boards (ESP32-WROOM/WROVER DevKits; also runs on S2/S3/C3).

Deployed to the board as /board.py; the firmware imports it and passes what it
gives (LED, sensors, WiFi interface, watchdog) to the app. Nothing in lib/
imports it.

Targets MicroPython v1.23 or later (the .mpy files we build are mpy v6.3 plain
bytecode, so the same files load on every ESP32 variant; developed against
v1.29). Free heap right after boot should be about 110-160 KB on a plain
ESP32 without PSRAM, and megabytes with PSRAM (EXPECTED_FREE_HEAP; from the
port's memory layout, not measured by us on hardware): the app adds roughly
30-50 KB on top (see docs/FIRMWARE.md; its status reports free and peak heap).

LED: most DevKitC boards have only a power LED; many clones (and the old
DevKit v1) have a blue LED on GPIO 2, which is the default here. Set "led_pin"
in config.json for other boards (e.g. an S3 board's plain LED pin).

Sensor: esp32.mcu_temperature() (degrees C) where the port has it (S2, S3,
C3, C6); on the original ESP32 the uncalibrated esp32.raw_temperature()
(degrees F, converted). The chip die runs well above room temperature, so
read it as a trend, not a thermometer. With neither, the app falls back to a
simulated sensor.
"""
import machine
import network

try:
    import esp32
except ImportError:
    esp32 = None

NAME = "esp32"
EXPECTED_FREE_HEAP = 110000  # bytes after boot without PSRAM (not measured by us)
LED_PIN = 2
WDT_MAX_MS = 0  # no practical limit on ESP32


def led(pin=None):
    return machine.Pin(LED_PIN if pin is None else pin, machine.Pin.OUT)


def sensors():
    """[(name, read, unit, description)]: the chip's internal temperature sensor, if any."""
    if esp32 is not None and hasattr(esp32, "mcu_temperature"):
        def temperature():
            return esp32.mcu_temperature()
        return [("temperature", temperature, "C", "ESP32 internal sensor (esp32.mcu_temperature)")]
    if esp32 is not None and hasattr(esp32, "raw_temperature"):
        def temperature():
            return round((esp32.raw_temperature() - 32) / 1.8, 1)
        return [("temperature", temperature, "C",
                 "ESP32 internal sensor, uncalibrated (esp32.raw_temperature, F converted)")]
    return []


def wlan(country=None, power_save=False, hostname=None):
    """The station interface, set up before connect()."""
    if country and hasattr(network, "country"):
        network.country(country)
    if hostname and hasattr(network, "hostname"):
        network.hostname(hostname)
    sta = network.WLAN(network.STA_IF)
    sta.active(True)
    if not power_save and hasattr(sta, "PM_NONE"):
        sta.config(pm=sta.PM_NONE)
    return sta


def unique_id():
    return machine.unique_id()


def watchdog(timeout_ms):
    return machine.WDT(timeout=timeout_ms)


def reset():
    machine.reset()
