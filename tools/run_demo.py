"""`make run`: the real deepstream server, a device on the MicroPython unix
port publishing simulated readings, and a host subscriber (our client on
CPython) printing what arrives. Ctrl-C stops all three."""
import os
import subprocess
import sys

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path[:0] = [os.path.join(REPO, "lib"), os.path.join(REPO, "host_tests", "support")]

from deepstream import Client  # noqa: E402
from dsserver import DeepstreamServer  # noqa: E402
from mp import mp_lib  # noqa: E402

MICROPYTHON = os.environ.get("MICROPYTHON", os.path.join(REPO, ".venv", "bin", "micropython"))


def main():
    with DeepstreamServer() as srv:
        print("deepstream server %s (log: server output is kept in a temp dir)" % srv.url)
        # the device gets the library as .mpy, as a board does, and a board-sized heap
        env = dict(os.environ, MICROPYPATH=mp_lib() + ":.frozen")
        device = subprocess.Popen([MICROPYTHON, "-X", "heapsize=96K", "tools/demo_device.py", srv.url, "demo-1"],
                                  cwd=REPO, env=env)
        client = Client(srv.url)
        client.on("error", lambda msg, event, topic: print("host error %s: %s" % (event, msg)))
        client.on("connectionStateChanged", lambda state: print("host connection:", state))
        client.login({"username": "host-subscriber"})
        client.event.subscribe("devices/demo-1/temperature",
                               lambda data: print("reading from demo-1:", data))
        print("Ctrl-C to stop")
        try:
            while device.poll() is None:
                client.poll(200)
            print("device process ended with code", device.returncode)
        except KeyboardInterrupt:
            print("\nstopping")
        finally:
            client.close()
            client.poll(100)
            if device.poll() is None:
                device.terminate()
                device.wait(5)


if __name__ == "__main__":
    main()
