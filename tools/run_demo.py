"""`make run`: the real deepstream server, a device on the MicroPython unix
port publishing simulated readings, and a host subscriber (our client on
CPython) printing what arrives. Ctrl-C stops them all (or --seconds).

The server runs the configuration its npm package ships (a new user's
server: the binary protocol at /deepstream), and both clients speak binary
to it. `make run PROTOCOL=text` (--protocol text): the server with the
tests' generated configuration, and both clients on its text endpoint
(/deepstream-v3).

`make run NODES=2` (--nodes 2): the same on a two-node cluster sharing one
Redis (host_tests/support/dscluster.py; its nodes serve both protocols).
The device is given both nodes' URLs and starts on node 1, the subscriber
sits on node 2. Halfway through (--seconds, default 20) node 1 is killed
with SIGKILL: the device moves to node 2 by itself and the readings go on;
then everything stops.

`make run BOARD=qemu` (--board qemu): instead of the small demo device, the firmware app
(firmware/, boards/qemu/board.py) on the emulated board (tools/board.py, the firmware from
BOARD_FIRMWARE); the host subscriber prints its readings and its status record, and
toggles its LED by RPC every few seconds."""
import argparse
import os
import subprocess
import sys
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path[:0] = [os.path.join(REPO, "lib"), os.path.join(REPO, "host_tests", "support")]

from deepstream import Client  # noqa: E402
from dscluster import DeepstreamCluster  # noqa: E402
from dsserver import DeepstreamServer  # noqa: E402
from mp import mp_lib  # noqa: E402

MICROPYTHON = os.environ.get("MICROPYTHON", os.path.join(REPO, ".venv", "bin", "micropython"))


def start_device(urls):
    # the device gets the library as .mpy, as a board does, and a board-sized heap (96K until
    # issue 22: connecting without blocking needs more while connecting on this 64-bit port)
    env = dict(os.environ, MICROPYPATH=mp_lib() + ":.frozen")
    return subprocess.Popen([MICROPYTHON, "-X", "heapsize=104K", "tools/demo_device.py", ",".join(urls), "demo-1"],
                            cwd=REPO, env=env)


def subscribe(urls, names, device="demo-1"):
    """The host subscriber, logged in and subscribed before the device starts."""
    client = Client(urls)
    client.on("error", lambda msg, event, topic: print("host error %s: %s" % (event, msg)))
    client.on("connectionStateChanged", lambda state: print("host connection:", state))
    client.login({"username": "host-subscriber"})
    topic = "temperature" if device == "demo-1" else "simulated_temperature"
    client.event.subscribe("devices/%s/%s" % (device, topic),
                           lambda data: print("reading from %s (host on %s):" % (device, names[client.get_url()]), data))
    deadline = time.monotonic() + 10
    while client.get_connection_state() != "OPEN" and time.monotonic() < deadline:
        client.poll(50)
    for _ in range(5):  # the subscription reaches the server
        client.poll(20)
    return client


def run(device, client, until=None, on_half=None):
    half = None if until is None or on_half is None else time.monotonic() + (until - time.monotonic()) / 2
    while device.poll() is None and (until is None or time.monotonic() < until):
        client.poll(200)
        if half is not None and time.monotonic() >= half:
            half = None
            on_half()
    if device.poll() is not None:
        print("device process ended with code", device.returncode)


def stop(device, client):
    client.close()
    client.poll(100)
    if device.poll() is None:
        device.terminate()
        device.wait(5)


def run_board(srv, protocol):
    """The firmware on the emulated board, with the host subscriber beside it."""
    import tempfile
    sys.path.insert(0, os.path.join(REPO, "host_tests"))
    from support.board import BoardRun, board_url, build_firmware, firmware
    if firmware() is None:
        raise SystemExit("make run BOARD=qemu: set BOARD_FIRMWARE to the emulated board's firmware "
                         "(README 'The emulated board')")
    device = "qemu-demo"
    files = build_firmware({"wifi": {"ssid": "lan"}, "server": {"url": board_url(srv, protocol)}, "device_id": device,
                            "interval": 1, "status_interval": 5, "watchdog_ms": 8000},
                           os.path.join(tempfile.mkdtemp(prefix="demo-"), "firmware"))
    url = srv.url_for(protocol)
    client = subscribe(url, {url: "the server"}, device)
    rec = client.record.get_record("devices/" + device)
    rec.subscribe("status", lambda st: print("status from %s: heap %s B (peak %s), uptime %s s, led %s"
                                             % (device, st.get("heap_used"), st.get("heap_peak"),
                                                st.get("uptime"), st.get("led"))))
    board = BoardRun(os.path.join(files[0], "main.py"), files=files, timeout=24 * 3600)
    board.read_lines = lambda: None  # its output goes to our stdout as it comes
    board.proc = board.popen(stdin=subprocess.DEVNULL)
    print("the firmware runs on the emulated board (QEMU); Ctrl-C to stop")
    next_rpc = time.monotonic() + 5
    try:
        while board.proc.poll() is None:
            client.poll(200)
            if time.monotonic() >= next_rpc:
                next_rpc += 5
                client.rpc.make("devices/%s/led" % device, "toggle",
                                lambda error, result: print("LED RPC:", error or result))
    except KeyboardInterrupt:
        print("\nstopping")
    finally:
        client.close()
        client.poll(100)
        board.stop()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--nodes", type=int, default=1, help="1: one server; 2 or more: a cluster")
    ap.add_argument("--protocol", choices=("binary", "text"), default="binary",
                    help="binary: the server's shipped configuration (default); text: its text endpoint")
    ap.add_argument("--board", choices=["unix", "qemu"], default="unix",
                    help="the device: the demo device on the unix port, or the firmware on the emulated board")
    ap.add_argument("--seconds", type=float, default=None,
                    help="how long the demo runs (default: until Ctrl-C; a cluster: 20, a node dies halfway)")
    args = ap.parse_args()
    if args.board == "qemu":
        with DeepstreamServer(default_config=args.protocol == "binary") as srv:
            print("deepstream server %s" % srv.url_for(args.protocol))
            run_board(srv, args.protocol)
        return
    if args.nodes <= 1:
        # binary: the server as its package ships it; text: the tests' config, with ws-text
        with DeepstreamServer(default_config=args.protocol == "binary") as srv:
            url = srv.url_for(args.protocol)
            print("deepstream server %s, %s configuration (its output is kept in a temp dir)"
                  % (url, "the shipped" if srv.default_config else "the tests' generated"))
            client = subscribe(url, {url: "the server"})
            device = start_device([url])
            print("Ctrl-C to stop")
            try:
                run(device, client, until=None if args.seconds is None else time.monotonic() + args.seconds)
            except KeyboardInterrupt:
                print("\nstopping")
            finally:
                stop(device, client)
        return
    if args.seconds is None:
        args.seconds = 20.0
    with DeepstreamCluster(nodes=args.nodes) as cluster:
        names = {url: "node %d" % (i + 1) for i, url in enumerate(cluster.urls_for(args.protocol))}
        print("redis on 127.0.0.1:%d" % cluster.redis.port)
        for url, name in names.items():
            print("deepstream %s: %s" % (name, url))
        urls = list(names)
        client = subscribe(urls[1:] + urls[:1], names)  # on node 2
        device = start_device(urls)  # starts on node 1, the others in turn

        def kill_first():
            print("\n*** killing node 1 (SIGKILL): the device should move on by itself ***\n")
            cluster.kill(0)

        print("running for %.0f s, node 1 dies halfway; Ctrl-C to stop" % args.seconds)
        try:
            run(device, client, until=time.monotonic() + args.seconds, on_half=kill_first)
        except KeyboardInterrupt:
            print("\nstopping")
        finally:
            stop(device, client)


if __name__ == "__main__":
    main()
