"""Raspberry Pi Pico 2 W (RP2350 + Infineon CYW43439 WiFi).

Deployed to the board as /board.py; the firmware imports it and passes what it
gives (LED, sensors, WiFi interface, watchdog) to the app. Nothing in lib/
imports it.

Targets MicroPython v1.23 or later (the .mpy files we build are mpy v6.3;
developed against v1.29). Free heap right after boot should be about 450-480 KB
(EXPECTED_FREE_HEAP; a figure from the port's memory layout, not measured by
us on hardware): the app adds roughly 30-50 KB on top (see docs/FIRMWARE.md;
its status reports free and peak heap).
"""
import machine
import network
import rp2

NAME = "pico2_w"
EXPECTED_FREE_HEAP = 450000  # bytes after boot, before the app (not measured by us)
LED_PIN = "LED"  # wired to the CYW43 chip (WL_GPIO0), not to an RP2350 GPIO
WDT_MAX_MS = 8388  # kept at the RP2040 limit: MicroPython accepts it on both chips
PM_NO_POWERSAVE = 0xA11140  # CYW43 power management off: steady latency, fewer drops


def led(pin=None):
    return machine.Pin(LED_PIN if pin is None else pin, machine.Pin.OUT)


def sensors():
    """[(name, read, unit, description)]: the RP2350 internal temperature sensor (ADC.CORE_TEMP)."""
    adc = machine.ADC(getattr(machine.ADC, "CORE_TEMP", 4))

    def temperature():
        volts = adc.read_u16() * 3.3 / 65535
        return round(27 - (volts - 0.706) / 0.001721, 2)

    return [("temperature", temperature, "C", "RP2350 internal sensor (ADC.CORE_TEMP)")]


def wlan(country=None, power_save=False, hostname=None):
    """The station interface, set up before connect(): country first, then power saving."""
    if country:
        rp2.country(country)
    if hostname:
        network.hostname(hostname)
    sta = network.WLAN(network.STA_IF)
    sta.active(True)
    if not power_save:
        sta.config(pm=PM_NO_POWERSAVE)
    return sta


def unique_id():
    return machine.unique_id()


def watchdog(timeout_ms):
    return machine.WDT(timeout=min(timeout_ms, WDT_MAX_MS))


def reset():
    machine.reset()
