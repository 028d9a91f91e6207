"""The device firmware on a 32-bit MicroPython VM: the official WebAssembly port under node
(tools/mp32/device.mjs, tools/mp32_device.py), against the real deepstream server,
observed with the official JS client.

The board's .mpy build (tools/deploy.py mpy) runs unchanged with the fake board; only what
the port lacks is replaced: the network (tools/mp32/wasm_net.py over node's net),
hashlib.sha1 (tools/mp32/wasm_sha1.py) and an empty socket module. ROMFS at a 96 KB heap
(the bytecode stays outside the heap, as in a board's ROMFS partition) and .mpy files
copied into the VM's filesystem (loaded into the heap) at FILES_HEAP. The heap figures
are printed (pytest -s shows them); asserted is only what is robust: the GC never had to
grow its heap past the initial area, and the live heap stays below the heap size.

Readings, the LED RPC and the heap (both modes) and the WiFi drop run on both protocols
(the config's URL names the endpoint, the observer is the JS client of its protocol);
the live config change on text.
"""

import json
import os
import shutil
import sys
import time

import pytest

from support.mp import REPO
from test_firmware import (check_rate_follows_config, count_events, observer, subscribe, wait_status,  # noqa: F401
                           wire, write_control)

sys.path.insert(0, os.path.join(REPO, "tools"))
sys.path.insert(0, os.path.join(REPO, "tools", "mp32"))
import mp32  # noqa: E402
import mp32_device  # noqa: E402
import wasm_sha1  # noqa: E402

INSTALLED = os.path.exists(os.path.join(mp32.MP32, "node_modules", mp32.PACKAGE, "micropython.mjs"))


NO_NODE = "node is not installed (the 32-bit VM runs under node)"
NO_VM = "tools/mp32/node_modules is missing and npm is not installed to get it"


def needs_vm(test):
    test = pytest.mark.skipif(not mp32.node_path(), reason=NO_NODE)(test)
    return pytest.mark.skipif(not INSTALLED and not shutil.which("npm"), reason=NO_VM)(test)


ROMFS_HEAP = "96K"
# .mpy files are loaded into the heap: the app's live heap is ~82-95 KB there and 120K was
# the smallest that never grew (docs/FIRMWARE.md); the test leaves room for a loaded machine,
# where one asyncio step may carry more work (this VM collects only between steps)
FILES_HEAP = "144K"
MODES = [pytest.param(True, ROMFS_HEAP, id="romfs-96K"), pytest.param(False, FILES_HEAP, id="files-144K")]


# ---------------------------------------------------------------- the sha1 stand-in

@pytest.mark.parametrize("n", [0, 1, 3, 36, 55, 56, 63, 64, 65, 119, 120, 128, 1000])
def test_sha1_stand_in_matches_cpython(n):
    import hashlib

    data = bytes((i * 7 + n) & 0xFF for i in range(n))
    assert wasm_sha1.sha1(data).digest() == hashlib.sha1(data).digest()
    h = wasm_sha1.sha1(data[:n // 3])
    h.update(data[n // 3:])
    assert h.hexdigest() == hashlib.sha1(data).hexdigest()
    assert h.copy().digest() == h.digest()


def test_sha1_stand_in_on_micropython(run_micropython):
    """The same on MicroPython (the unix port), with the websocket handshake's own input."""
    import hashlib

    with open(os.path.join(mp32.MP32, "wasm_sha1.py")) as f:
        src = f.read()
    key = b"dGhlIHNhbXBsZSBub25jZQ==258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
    rc, out, err = run_micropython(src + "\nprint(sha1(%r).hexdigest())\n" % key)
    assert rc == 0, err
    assert out.strip() == hashlib.sha1(key).hexdigest()


# ---------------------------------------------------------------- the firmware on the VM

@pytest.fixture(scope="module")
def build(tmp_path_factory):
    root = tmp_path_factory.mktemp("mp32dev")
    return (mp32_device.build_tree(str(root / "tree")),
            mp32_device.build_fakeboard(str(root / "fakeboard")))


@pytest.fixture
def wasm_device(build, ds_server, tmp_path, wire):
    devices = []

    def make(romfs, heapsize, control=None, **config):
        tree, fake = build
        cfg = {"wifi": {"ssid": "test-net", "password": "pw", "country": "GB",
                        "connect_timeout": 2, "retry_max": 2},
               "server": {"url": ds_server.url_for(wire)},
               "interval": 0.1, "status_interval": 1, "watchdog_ms": 4000}
        cfg.update(config)
        uid = os.urandom(8).hex()  # the server keeps device records between tests
        control_file = str(tmp_path / ("fakeboard-%d.json" % len(devices)))
        with open(control_file, "w") as f:
            json.dump(dict({"unique_id": uid}, **(control or {})), f)
        d = mp32_device.WasmDevice(tree, fake, cfg, control_file, heapsize=heapsize, romfs=romfs)
        d.name = "devices/" + uid
        devices.append(d)
        return d

    yield make
    for d in devices:
        d.stop()


def check_heap(dev, what):
    """Print the figures; assert the GC never grew its heap and the live heap fits."""
    h = dev.heap()
    print("\n32-bit %s, %dK heap: live heap max %d B (min %d, last %d; without the fake board and "
          "shims %d), %d samples, GC area %d B, grew: %s; stand-ins %r"
          % (what, h["heapsize"] // 1024, h["max_used"], h["min_used"], h["last_used"],
             h["max_without_doubles"], h["samples"], h["gc_total"], h["grew"], h["sizes"]))
    assert dev.ready and dev.ready["maxsize"] == 2 ** 31 - 1  # a 32-bit VM
    assert h["samples"] >= 3, dev.output()[-3000:]
    assert not h["grew"], "the GC had to grow the heap past %d B (max total %d)" % (
        h["gc_total"], h["max_total"])
    assert h["max_used"] < h["heapsize"]
    assert not dev.errors(), dev.errors()
    return h


@needs_vm
@pytest.mark.parametrize("romfs,heapsize", MODES)
def test_readings_led_rpc_and_heap(protocol, wasm_device, observer, romfs, heapsize):
    dev = wasm_device(romfs, heapsize, control={"adc": {"4": 14088}})  # 25.0 C
    topic = subscribe(observer, dev.name + "/temperature")  # before the device starts: all arrive
    dev.start()
    dev.wait_line(r"^app: deepstream OPEN$", timeout=20)
    assert abs(observer.wait_event(topic, timeout=10) - 25.0) < 0.1

    # the LED RPC (provided once the record is ready: wait for the status)
    wait_status(observer, dev, lambda d: isinstance(d, dict) and "status" in d)
    name = dev.name + "/led"
    assert observer.rpc_make(name, "toggle") == (None, "on")
    dev.wait_line(r"^@fake pin LED 1$", timeout=2)
    assert observer.rpc_make(name, "off") == (None, "off")
    dev.wait_line(r"^@fake pin LED 0$", timeout=2)
    error, _ = observer.rpc_make(name, "blink")
    assert error and "toggle" in error

    time.sleep(6)  # readings at 10 Hz, heap sampled every second
    dev.stop()
    published = dev.samples[-1]["published"]
    time.sleep(0.5)
    received = len([n for n in observer.history if n["kind"] == "event" and n["name"] == topic])
    print("\nreadings published %d, received %d" % (published, received))
    assert published >= 40
    # the last few may still be on their way when the VM stops; none is lost before
    assert published - 3 <= received <= published
    check_heap(dev, "%s, %s" % ("ROMFS" if romfs else "files", protocol))


@needs_vm
@pytest.mark.parametrize("romfs,heapsize", MODES)
def test_config_interval_changes_the_rate(wasm_device, observer, romfs, heapsize):
    dev = wasm_device(romfs, heapsize, interval=1)
    topic = subscribe(observer, dev.name + "/temperature")
    dev.start()
    check_rate_follows_config(observer, dev, topic)
    dev.stop()
    check_heap(dev, "ROMFS" if romfs else "files")


def control(dev, **changes):
    """Change the fake board (device.mjs copies the file into the VM)."""
    with open(dev.control_file) as f:
        values = json.load(f)
    values.update(changes)
    write_control(dev.control_file, values)


@needs_vm
def test_wifi_drop_and_return_and_the_watchdog_at_96k_romfs(protocol, wasm_device, observer):
    """The WiFi drop drops the client (a new one, with its record and RPCs, after the
    return): the most heap the app ever needs at once. All within the 96K heap."""
    dev = wasm_device(True, ROMFS_HEAP, interval=0.2)
    topic = subscribe(observer, dev.name + "/temperature")
    dev.start()
    observer.wait_event(topic, timeout=20)
    control(dev, wifi=False)
    dev.wait_line(r"^@fake wifi lost$", timeout=3)
    dev.wait_line(r"dropping the deepstream client \(wifi down\)", timeout=3)
    time.sleep(0.5)  # readings still on their way are not what we test
    assert count_events(observer, topic, 2.0) == 0  # no network, no readings
    back = time.monotonic()
    control(dev, wifi=True)
    dev.wait_line(r"^@fake wifi up$", timeout=10, after=back)
    observer.wait_event(topic, timeout=10)
    assert observer.rpc_make(dev.name + "/led", "on") == (None, "on")
    wait_status(observer, dev, lambda d: d["status"]["wifi_reconnects"] == 1
                and d["status"]["ds_connects"] == 2)
    dev.stop()
    # the watchdog (4 s) was fed all along: never late, longest gap well inside it
    assert not dev.matching(r"^@fake wdt fired"), dev.output()[-3000:]
    gaps = [int(t.split()[-1]) for t in dev.matching(r"^@fake wdt gap ")]
    assert gaps and max(gaps) < 4000 / 2, gaps
    check_heap(dev, "ROMFS, WiFi drop and return, " + protocol)
