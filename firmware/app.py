"""The device application: sensor readings, device record, LED and reboot RPCs.

    import board, settings, app
    app.main(settings.load("config.json"), board)

Everything hardware-specific comes in through the board module (LED, sensors,
WiFi interface, watchdog, unique id, reset); the library never imports it.

One asyncio task (the app loop) does the device's housekeeping at least every
LOOP_MS: feed the watchdog, check WiFi (retry with backoff), start or drop the
deepstream client, publish readings when due, update the status when due.
The client runs in its own task (client.start(), the asyncio driver).

On deepstream:
  events  devices/<id>/<sensor>   one reading (a number) every `interval` s
  record  devices/<id>            {"config": {"interval": 5, "status_interval": 30},
                                   "status": {"uptime": ..., "free_heap": ..., ...}}
          config is applied live when someone changes it; status is ours
  RPCs    devices/<id>/led        data "on" | "off" | "toggle" (or true/false/null)
                                  -> answers the new state, "on" or "off"
          devices/<id>/reboot     answers "rebooting", resets the board 1 s later
"""
import asyncio
import gc
import sys
import time

from deepstream import UNDEFINED
from wifi import WiFi

VERSION = "0.1.0"
LOOP_MS = 250  # longest sleep of the app loop
CLIENT_RETRY_MS = 5000  # wait before a new client when the last one gave up
CLOSE_GRACE_MS = 3000  # time a closing client gets to finish before it is cancelled
REBOOT_DELAY_MS = 1000  # lets the reboot RPC's answer leave before the reset
PUBLISH_MIN = 0.05  # s, as settings.PUBLISH_MIN
SIMULATED = "simulated_temperature"
# the client's reconnect policy on a device: keep trying, but not too often
CLIENT_DEFAULTS = {
    "max_reconnect_attempts": 1 << 30,
    "reconnect_interval_increment": 2000,
    "max_reconnect_interval": 30000,
}


def simulated_sensor():
    """A labelled stand-in for boards without a sensor: 20..25 "C", 10-minute triangle."""
    start = time.ticks_ms()

    def read():
        t = time.ticks_diff(time.ticks_ms(), start) // 1000 % 600
        return round(20 + 5 * abs(300 - t) / 300, 2)

    return (SIMULATED, read, "C", "SIMULATED: no built-in sensor on this board")


def hexlify(data):
    return "".join("%02x" % b for b in data)


class App:
    def __init__(self, cfg, board, log=print):
        self.cfg = cfg
        self.board = board
        self.log = log
        self.device_id = cfg["device_id"] or hexlify(board.unique_id())
        self.prefix = "devices/" + self.device_id
        self.interval_ms = int(cfg["interval"] * 1000)
        self.status_ms = int(cfg["status_interval"] * 1000)
        self.led = board.led(cfg["led_pin"])
        self.led.value(0)
        self.sensors = board.sensors() or [simulated_sensor()]
        # event names built once: publishing allocates nothing but the message
        self.events = [self.prefix + "/" + s[0] for s in self.sensors]
        self.wdt = None
        self.wifi = None
        self.client = None
        self.task = None
        self.record = None
        self.closing = None  # (task, since) of a client being closed
        self.client_retry_at = None
        self.reboot_at = None
        self.config_error = None
        self.ds_state = "CLOSED"
        self.ds_opened = 0  # times the deepstream connection reached OPEN
        self.published = 0
        self.skipped = 0  # readings not sent (no WiFi / not connected)
        self.uptime_ms = 0
        self.heap_used = 0  # live heap: gc.mem_alloc() right after gc.collect()
        self.heap_peak = 0  # the largest heap_used sampled (at every status update)
        self.last_error = None
        self.next_pub = self.next_status = self.last = time.ticks_ms()

    # ---- the app loop -------------------------------------------------

    async def run(self):
        cfg = self.cfg
        self.log("app: device %s, firmware %s, board %s, sensors %s"
                 % (self.device_id, VERSION, self.board.NAME, ", ".join(s[0] for s in self.sensors)))
        if cfg["watchdog_ms"]:
            self.wdt = self.board.watchdog(cfg["watchdog_ms"])
        else:
            self.log("app: watchdog disabled (watchdog_ms is 0)")
        w = cfg["wifi"]
        if w is not None:
            wlan = self.board.wlan(w["country"], w["power_save"], w["hostname"])
            self.wifi = WiFi(wlan, w["ssid"], w["password"], int(w["connect_timeout"] * 1000),
                             int(w["retry_max"] * 1000), self.log)
        while True:
            self.step()
            now = time.ticks_ms()
            wait = min(LOOP_MS, time.ticks_diff(self.next_pub, now), time.ticks_diff(self.next_status, now))
            await asyncio.sleep_ms(wait if wait > 0 else 0)

    def step(self):
        now = time.ticks_ms()
        self.uptime_ms += time.ticks_diff(now, self.last)
        self.last = now
        if self.wdt is not None:
            self.wdt.feed()
        if self.reboot_at is not None and time.ticks_diff(now, self.reboot_at) >= 0:
            self.log("app: rebooting")
            self.board.reset()
        online = self.wifi.poll() if self.wifi is not None else True
        if self.client is not None:
            if not online:
                self.stop_client("wifi down")
            elif self.task.done():  # the client gave up (auth refused, attempts used up)
                self.stop_client("client closed")
                self.client_retry_at = time.ticks_add(now, CLIENT_RETRY_MS)
        elif online and self.may_start_client(now):
            self.start_client()
        if time.ticks_diff(now, self.next_pub) >= 0:
            self.next_pub = time.ticks_add(self.next_pub, self.interval_ms)
            if time.ticks_diff(now, self.next_pub) >= 0:  # fell behind: no burst to catch up
                self.next_pub = time.ticks_add(now, self.interval_ms)
            self.publish()
        if time.ticks_diff(now, self.next_status) >= 0:
            self.next_status = time.ticks_add(now, self.status_ms)
            self.sample_heap()
            self.update_status()

    def sample_heap(self):
        """Live heap after a collection (mem_alloc() alone would count garbage)."""
        gc.collect()
        self.heap_used = gc.mem_alloc()
        if self.heap_used > self.heap_peak:
            self.heap_peak = self.heap_used

    # ---- deepstream client ------------------------------------------

    def may_start_client(self, now):
        if self.closing is not None:
            task, since = self.closing
            if not task.done():
                if time.ticks_diff(now, since) < CLOSE_GRACE_MS:
                    return False
                task.cancel()
            self.closing = None
        if self.client_retry_at is not None:
            if time.ticks_diff(now, self.client_retry_at) < 0:
                return False
            self.client_retry_at = None
        return True

    def start_client(self):
        from deepstream import Client

        server = self.cfg["server"]
        options = dict(CLIENT_DEFAULTS)
        if server["options"]:
            options.update(server["options"])
        if server["ca_file"]:
            options["ca_file"] = server["ca_file"]
        gc.collect()
        c = Client(server["url"], **options)
        c.on("error", self.on_error)
        c.on("connectionStateChanged", self.on_state)
        c.login(server["auth"] or {}, self.on_login)
        rec = c.record.get_record(self.prefix)
        rec.subscribe("config", self.on_config)
        rec.when_ready(self.on_record_ready)
        c.rpc.provide(self.prefix + "/led", self.rpc_led)
        c.rpc.provide(self.prefix + "/reboot", self.rpc_reboot)
        self.client = c
        self.record = rec
        self.task = c.start()
        self.log("app: connecting to %s" % server["url"])

    def stop_client(self, why):
        self.log("app: dropping the deepstream client (%s)" % why)
        c = self.client
        self.client = None
        self.record = None
        c.close()
        if not self.task.done():
            self.closing = (self.task, time.ticks_ms())
        self.task = None
        self.ds_state = "CLOSED"

    def on_state(self, state):
        self.ds_state = state
        if state == "OPEN":
            self.ds_opened += 1
        self.log("app: deepstream %s" % state)

    def on_login(self, success, data):
        if not success:
            self.log("app: login refused: %r" % (data,))

    def on_error(self, message, event, topic):
        self.last_error = "%s: %s" % (event, message)
        self.log("app: deepstream error %s" % self.last_error)

    # ---- readings ---------------------------------------------------

    def publish(self):
        c = self.client
        if c is None or self.ds_state != "OPEN":
            self.skipped += len(self.sensors)
            return
        emit = c.event.emit
        for i in range(len(self.sensors)):
            try:
                value = self.sensors[i][1]()
            except Exception as err:  # a flaky sensor must not stop the device
                self.last_error = "sensor %s: %r" % (self.sensors[i][0], err)
                continue
            emit(self.events[i], value)
            self.published += 1

    # ---- device record --------------------------------------------------

    def on_record_ready(self, rec):
        config = rec.get("config")
        if isinstance(config, dict):
            self.apply_config(config)
        mine = {"interval": self.interval_ms / 1000, "status_interval": self.status_ms // 1000}
        if not isinstance(config, dict) or "interval" not in config or "status_interval" not in config:
            if isinstance(config, dict):
                mine.update(config)
            rec.set("config", mine)  # make the settings visible and editable
        self.update_status()

    def on_config(self, config):
        if isinstance(config, dict):
            self.apply_config(config)

    def apply_config(self, config):
        """Apply the record's config part; a bad value is reported in status.config_error."""
        error = None
        interval = config.get("interval")
        if interval is not None:
            if isinstance(interval, (int, float)) and not isinstance(interval, bool) and interval >= PUBLISH_MIN:
                ms = int(interval * 1000)
                if ms != self.interval_ms:
                    self.interval_ms = ms
                    self.next_pub = time.ticks_add(time.ticks_ms(), ms)
                    self.log("app: interval %s s" % interval)
            else:
                error = "config.interval must be a number >= %s, got %r" % (PUBLISH_MIN, interval)
        status_interval = config.get("status_interval")
        if status_interval is not None:
            if isinstance(status_interval, (int, float)) and not isinstance(status_interval, bool) \
                    and status_interval >= 1:
                ms = int(status_interval * 1000)
                if ms != self.status_ms:
                    self.status_ms = ms
                    self.next_status = time.ticks_add(time.ticks_ms(), ms)
            else:
                error = "config.status_interval must be a number >= 1, got %r" % (status_interval,)
        if error is not None:
            self.log("app: " + error)
        if error != self.config_error:
            self.config_error = error
            self.update_status()

    def status(self):
        return {
            "firmware": VERSION,
            "board": self.board.NAME,
            "uptime": self.uptime_ms // 1000,
            "heap_used": self.heap_used,
            "heap_peak": self.heap_peak,
            "free_heap": gc.mem_free(),
            "rssi": self.wifi.rssi() if self.wifi is not None else None,
            "wifi_reconnects": self.wifi.reconnects if self.wifi is not None else 0,
            "ds_connects": self.ds_opened,
            "interval": self.interval_ms / 1000,
            "published": self.published,
            "skipped": self.skipped,
            "led": "on" if self.led.value() else "off",
            "sensors": dict((s[0], s[3]) for s in self.sensors),
            "watchdog_ms": self.cfg["watchdog_ms"] if self.wdt is not None else 0,
            "config_error": self.config_error,
            "last_error": self.last_error,
        }

    def update_status(self):
        if self.record is not None and self.ds_state == "OPEN":
            self.record.set("status", self.status())

    # ---- RPCs -----------------------------------------------------------

    def rpc_led(self, data, response):
        if data in ("on", True, 1):
            self.led.value(1)
        elif data in ("off", False, 0):
            self.led.value(0)
        elif data in ("toggle", None) or data is UNDEFINED:
            self.led.value(not self.led.value())
        else:
            response.error("led: expected \"on\", \"off\" or \"toggle\", got %r" % (data,))
            return
        response.send("on" if self.led.value() else "off")

    def rpc_reboot(self, data, response):
        response.send("rebooting")
        self.reboot_at = time.ticks_add(time.ticks_ms(), REBOOT_DELAY_MS)
        self.log("app: reboot requested")


def main(cfg, board, log=print):
    """Run the app forever. An unexpected error is printed; with the watchdog on the
    board then resets (after 10 s, so the message can be read), otherwise it stops."""
    app = App(cfg, board, log)
    try:
        asyncio.run(app.run())
    except KeyboardInterrupt:
        log("app: stopped (Ctrl-C)%s" % (
            "; the watchdog is still running and will reset the board" if app.wdt else ""))
    except Exception as err:
        sys.print_exception(err)
        if app.wdt is not None:
            log("app: crashed, resetting in 10 s")
            time.sleep(10)
            board.reset()
        raise
    return app
