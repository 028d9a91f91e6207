"""The firmware app (firmware/, unchanged) on the emulated board with boards/qemu/board.py,
against the real server, observed with the official JS client: it connects over the
board's Ethernet, publishes readings, keeps its device record and answers its RPCs."""
import os
import time

import pytest

from support.board import PROTOCOLS, REPO, BoardRun, board_url, build_firmware

WATCHDOG_MS = 8000


def config(url, device_id):
    return {"wifi": {"ssid": "lan"}, "server": {"url": url}, "device_id": device_id,
            "interval": 0.5, "status_interval": 1, "watchdog_ms": WATCHDOG_MS}


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_the_firmware_on_the_board(ds_server, js_client, protocol):
    device = "qemu-" + os.urandom(4).hex()
    files = build_firmware(config(board_url(ds_server, protocol), device),
                           os.path.join(REPO, "build", "board", "firmware"))
    js = js_client(login={"username": "js-firmware"})
    topic = "devices/%s/simulated_temperature" % device
    js.event_subscribe(topic)
    js.sync()
    run = BoardRun(os.path.join(files[0], "main.py"), files=files, timeout=120).start()
    try:
        value = js.wait_event(topic, timeout=60)
        assert 20 <= value <= 25
        js.record_subscribe("devices/" + device)
        deadline = time.monotonic() + 20
        while True:
            data = js.record_get("devices/" + device)
            status = data.get("status") if isinstance(data, dict) else None
            if status and status.get("published", 0) > 0:
                break
            assert time.monotonic() < deadline, data
            time.sleep(0.5)
        assert status["board"] == "qemu" and status["rssi"] is None
        assert status["watchdog_ms"] == WATCHDOG_MS and 0 < status["heap_used"] <= status["heap_peak"]
        assert status["sensors"]["simulated_temperature"].startswith("SIMULATED")
        led = "devices/%s/led" % device
        assert js.rpc_make(led, "on", timeout=10) == (None, "on")
        assert js.rpc_make(led, "toggle", timeout=10) == (None, "off")
        assert js.rpc_make(led, "toggle", timeout=10) == (None, "on")
        error, _ = js.rpc_make(led, "blink", timeout=10)
        assert error and "toggle" in error
        assert not run.matching(r"watchdog fed .* late"), run.output()
        print("firmware on the board: status %r" % status)
    finally:
        run.kill()
    assert "Traceback" not in run.output(), run.output()
