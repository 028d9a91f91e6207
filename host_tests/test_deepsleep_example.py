"""examples/deepsleep.py (docs/FIRMWARE.md, "A battery device") on the
MicroPython unix port with the fake board, against the real server and the
official JS client: every wake sends its reading before machine.deepsleep();
a reading taken while the server is away waits in the outbox file and goes
out, first, at the next wake. Both protocols: the URL in config.json names
the endpoint, the JS client is the one of its protocol."""
import json
import os
import shutil
import subprocess

from support.dsserver import DeepstreamServer
from support.mp import mp_lib

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
EXAMPLE = os.path.join(REPO, "examples", "deepsleep.py")
FAKEBOARD = os.path.join(HERE, "fakeboard")
DEEPSLEEP_EXIT = 98


def wake(micropython, workdir, adc):
    """One wake of the device: main.py from its start to machine.deepsleep()."""
    with open(os.path.join(workdir, "fakeboard.json"), "w") as f:
        json.dump({"adc": {"4": adc}}, f)
    env = dict(os.environ, FAKEBOARD=os.path.join(workdir, "fakeboard.json"),
               MICROPYPATH=os.pathsep.join([FAKEBOARD, mp_lib(), ".frozen"]))
    p = subprocess.run([micropython, "-X", "heapsize=128K", "main.py"], cwd=workdir, env=env,
                       capture_output=True, text=True, timeout=60)
    assert p.returncode == DEEPSLEEP_EXIT and "@fake deepsleep 60000" in p.stdout, p.stdout + p.stderr
    return p.stdout


def test_each_wake_sends_its_reading_and_a_missed_one_goes_out_next_time(protocol, tmp_path, js_client,
                                                                         micropython):
    work = str(tmp_path)
    shutil.copy(EXAMPLE, os.path.join(work, "main.py"))
    with DeepstreamServer() as srv:
        url = srv.url_for(protocol)
        with open(os.path.join(work, "config.json"), "w") as f:
            json.dump({"wifi": {"ssid": "net", "password": "pw"}, "device_id": "sleepy",
                       "server": {"url": url, "auth": {"username": "sleepy"}}}, f)
        js = js_client(url)
        assert js.login({"username": "js-sleep"})[0]
        js.event_subscribe("devices/sleepy/temperature")
        js.sync()
        assert "sent" in wake(micropython, work, 14088).splitlines()  # 25.0 C
        assert js.wait_event("devices/sleepy/temperature", timeout=10) == 25.0
        assert not os.path.exists(os.path.join(work, "outbox.bin"))  # nothing left behind

        srv.stop()  # the next wake finds no server
        out = wake(micropython, work, 13800)
        assert "kept for the next wake" in out, out
        assert os.path.getsize(os.path.join(work, "outbox.bin")) > 0

        srv.start()
        js.close()
        js = js_client(url)
        assert js.login({"username": "js-sleep"})[0]
        js.event_subscribe("devices/sleepy/temperature")
        js.sync()
        assert "sent" in wake(micropython, work, 14500).splitlines()
        first = js.wait_event("devices/sleepy/temperature", timeout=10)
        second = js.wait_event("devices/sleepy/temperature", timeout=10)
        assert (first, second) == (33.5, 13.0)  # the missed reading first, then this wake's
        assert not os.path.exists(os.path.join(work, "outbox.bin"))
