"""QEMU's mps2-an385 (Arm Cortex-M3) with MicroPython's qemu port, LAN9118 Ethernet
and lwIP: the emulated board of the board tier (README "The emulated board",
tools/board.py). Not hardware: it stands for a board's network stack and heap.

Deployed as /board.py like the others. What the firmware gets from it:
- LED: bit 0 of the FPGA's LED register (MPS2 FPGAIO, 0x40028000), which QEMU models;
- sensors: none (the app then publishes its labelled simulated temperature);
- "wifi": network.LAN behind the few WLAN methods firmware/wifi.py uses. The link is a
  wire: config.json's wifi section is still needed to drive it, its ssid and password
  are not used, and there is no signal strength (status.rssi is null);
- watchdog: the board model has none; a software one feeds nothing and resets nothing,
  it records the longest gap between feeds and prints a line for a late feed;
- unique id: the Ethernet MAC address.
"""
import time

import machine
import network

NAME = "qemu"
EXPECTED_FREE_HEAP = 150000  # gc.mem_free() with the network up, measured on the emulated board
LED_PIN = 0  # bit of the LED register
LEDS = 0x40028000  # MPS2 FPGAIO LED0 register (two user LEDs, bits 0 and 1)


class Led:
    def __init__(self, bit):
        self.mask = 1 << bit

    def value(self, on=None):
        leds = machine.mem32[LEDS]
        if on is None:
            return 1 if leds & self.mask else 0
        machine.mem32[LEDS] = leds | self.mask if on else leds & ~self.mask


def led(pin=None):
    return Led(LED_PIN if pin is None else int(pin))


def sensors():
    return []


class Lan:
    """The Ethernet interface with the methods of a WLAN station that wifi.py calls."""

    def __init__(self):
        self.nic = network.LAN()

    def active(self, on=None):
        return self.nic.active() if on is None else self.nic.active(on)

    def connect(self, ssid=None, key=None, **kwargs):
        self.nic.active(True)
        self.nic.ipconfig(dhcp4=True)

    def disconnect(self):
        pass  # a wire: nothing to leave

    def isconnected(self):
        return self.nic.isconnected() and self.nic.ipconfig("addr4")[0] != "0.0.0.0"

    def status(self, what=None):
        if what is not None:
            raise ValueError("no %s on a wire" % what)
        return self.nic.status()


def wlan(country=None, power_save=False, hostname=None):
    if hostname:
        network.hostname(hostname)
    return Lan()


def unique_id():
    return network.LAN().config("mac")


class SoftWatchdog:
    def __init__(self, timeout_ms):
        self.timeout_ms = timeout_ms
        self.last = time.ticks_ms()
        self.longest = 0  # ms, the longest gap between two feeds

    def feed(self):
        now = time.ticks_ms()
        gap = time.ticks_diff(now, self.last)
        self.last = now
        if gap > self.longest:
            self.longest = gap
        if gap > self.timeout_ms:
            print("board: watchdog fed %d ms late: a hardware one would have reset the board" % gap)


def watchdog(timeout_ms):
    return SoftWatchdog(timeout_ms)


def reset():
    machine.reset()  # ends QEMU
