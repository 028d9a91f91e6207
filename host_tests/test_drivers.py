"""Both drivers (poll.py, aio.py) on both runtimes against a small websocket
server (the `websockets` package) with a fake core: see drivers_scenario.py."""
import asyncio
import json
import os
import shutil
import subprocess
import sys
import threading

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path[:0] = [os.path.join(ROOT, "lib"), HERE]

import drivers_scenario  # noqa: E402

websockets = pytest.importorskip("websockets")
from websockets.asyncio.server import serve  # noqa: E402


async def _handler(ws):
    async for msg in ws:
        if msg == "big":
            await ws.send("x" * 20000)
            await ws.send("after")
        elif msg == "frag":
            await ws.send(["ab", "cd"])
        elif msg == "ping-me":
            await (await ws.ping(b"hi"))
            await ws.send("pong-ok")
        elif msg == "empty":
            await ws.send("")
            await ws.send("after-empty")
        elif msg == "close-me":
            await ws.close(1000, "bye")
        else:
            await ws.send("echo:" + msg)
    Server.close_codes.append(ws.close_code)


def _process_request(connection, request):
    if request.path != "/echo":
        return connection.respond(404, "no such path\n")
    return None


class Server:
    """The websocket server in a thread of its own, on a free port."""

    close_codes = []

    def __init__(self):
        self.loop = asyncio.new_event_loop()
        self.ready = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()
        assert self.ready.wait(10)

    def _run(self):
        asyncio.set_event_loop(self.loop)
        self.loop.run_until_complete(self._main())

    async def _main(self):
        self.stop = asyncio.Event()
        async with serve(_handler, "127.0.0.1", 0, process_request=_process_request,
                         compression=None) as server:
            self.port = server.sockets[0].getsockname()[1]
            self.ready.set()
            await self.stop.wait()

    def close(self):
        self.loop.call_soon_threadsafe(self.stop.set)
        self.thread.join(10)


@pytest.fixture(scope="module")
def server():
    s = Server()
    yield s
    s.close()


def check(res):
    main = res["main"]
    assert main["got"] == ["echo:hello", "echo:reply:x", "echo:re:x", "after", "abcd",
                           "pong-ok", "after-empty"]
    log = main["log"]
    assert log[0] == ["opened"]
    assert log[1][:2] == ["report", "MESSAGE_TOO_LARGE"] and "20000" in log[1][2]
    assert log[-1] == ["closed", None]
    assert len(log) == 3
    assert res["server_close"]["log"] == [["opened"], ["closed", "closed by the server"]]
    for name, text in (("not_101", "404"), ("refused", "cannot connect")):
        log = res[name]["log"]
        assert len(log) == 2 and log[0][0] == "error" and log[1] == ["closed", None], log
        assert text in log[0][1], log


def test_poll_driver_cpython(server):
    del Server.close_codes[:]
    check(drivers_scenario.run_poll("ws://127.0.0.1:%d" % server.port))
    assert 1000 in Server.close_codes  # our close handshake reached the server


def test_aio_driver_cpython(server):
    del Server.close_codes[:]
    check(drivers_scenario.run_aio("ws://127.0.0.1:%d" % server.port))
    assert 1000 in Server.close_codes


def micropython():
    for path in (os.environ.get("MICROPYTHON"), os.path.join(ROOT, ".venv/bin/micropython"),
                 shutil.which("micropython"), "/tmp/mpv/bin/micropython"):
        if path and os.path.exists(path):
            return path
    pytest.skip("no micropython binary")


def run_mp(mode, port):
    # run the scenario script under MicroPython while the server thread serves it
    proc = subprocess.run([micropython(), os.path.join(HERE, "drivers_scenario.py"), mode,
                           "ws://127.0.0.1:%d" % port], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_poll_driver_micropython(server):
    check(run_mp("poll", server.port))


def test_aio_driver_micropython(server):
    check(run_mp("aio", server.port))
