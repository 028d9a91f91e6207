"""Both drivers (poll.py, aio.py) on both runtimes against a small websocket
server (the `websockets` package) with a fake core: see drivers_scenario.py. The
fake core speaks in text frames, or (protocol "binary") in binary ones, as the two
codecs do; the server answers in kind."""
import asyncio
import json
import os
import re
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
        binary = isinstance(msg, bytes)  # answered in kind: binary frames with binary ones

        def frame(text):
            return text.encode() if binary else text
        msg = msg.decode() if binary else msg
        if msg == "big":
            await ws.send(frame("x" * 20000))
            await ws.send(frame("after"))
        elif msg == "frag":
            await ws.send([frame("ab"), frame("cd")])
        elif msg == "ping-me":
            await (await ws.ping(b"hi"))
            await ws.send(frame("pong-ok"))
        elif msg == "empty":
            await ws.send(frame(""))
            await ws.send(frame("after-empty"))
        elif msg == "close-me":
            await ws.close(1000, "bye")
        else:
            await ws.send(frame("echo:" + msg))
    Server.close_codes.append(ws.close_code)


def _process_request(connection, request):
    if request.path != "/echo":
        return connection.respond(404, "no such path\n")
    return None


class Server:
    """The websocket server in a thread of its own, on a free port."""

    close_codes = []

    def __init__(self, ssl_context=None):
        self.ssl_context = ssl_context
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
                         compression=None, ssl=self.ssl_context) as server:
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


@pytest.fixture(scope="module")
def tls_server(tmp_path_factory):
    """wss server with a self-signed certificate for 127.0.0.1 (also the CA file)."""
    import ssl

    if not shutil.which("openssl"):
        pytest.skip("no openssl command to make a test certificate")
    d = tmp_path_factory.mktemp("tls")
    cert, key = str(d / "cert.pem"), str(d / "key.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                    "-keyout", key, "-out", cert, "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1"], check=True, capture_output=True)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    s = Server(ctx)
    s.cert = cert
    yield s
    s.close()


# what the fake core got: a zero-length text frame is not handed on (7.0.2 sends them
# with nothing in them); a binary one is, for the binary codec to judge
GOT = {"text": ["echo:hello", "echo:reply:x", "echo:re:x", "after", "abcd", "pong-ok", "after-empty"],
       "binary": ["echo:hello", "echo:reply:x", "echo:re:x", "after", "abcd", "pong-ok", "", "after-empty"]}


def check(res, insecure=False, protocol="text"):
    if insecure:  # verify=False: one INSECURE_CONNECTION report right after each open
        for part in res.values():
            log = part["log"]
            if log and log[0] == ["opened"]:
                assert log[1][:2] == ["report", "INSECURE_CONNECTION"], log
                del log[1]
    main = res["main"]
    assert main["got"] == GOT[protocol]
    log = main["log"]
    assert log[0] == ["opened"]
    assert log[1][:2] == ["report", "MESSAGE_TOO_LARGE"] and "20000" in log[1][2]
    assert log[-1] == ["closed", None]
    assert len(log) == 3
    assert res["server_close"]["log"] == [["opened"], ["closed", "closed by the server"]]
    # a refused connection gets the reference client's text, other failures their own
    for name, pattern in (("not_101", r"cannot connect to wss?://127\.0\.0\.1:\d+/nope: .*404"),
                          ("refused", r"Can't connect! Deepstream server unreachable on wss?://127\.0\.0\.1:1/echo\Z")):
        log = res[name]["log"]
        assert len(log) == 2 and log[0][0] == "error" and log[1] == ["closed", None], log
        assert re.match(pattern, log[0][1]), log


def test_poll_driver_cpython(server, protocol):
    del Server.close_codes[:]
    check(drivers_scenario.run_poll("ws://127.0.0.1:%d" % server.port, protocol), protocol=protocol)
    assert 1000 in Server.close_codes  # our close handshake reached the server


def test_aio_driver_cpython(server, protocol):
    del Server.close_codes[:]
    check(drivers_scenario.run_aio("ws://127.0.0.1:%d" % server.port, protocol), protocol=protocol)
    assert 1000 in Server.close_codes


def micropython():
    for path in (os.environ.get("MICROPYTHON"), os.path.join(ROOT, ".venv/bin/micropython"),
                 shutil.which("micropython"), "/tmp/mpv/bin/micropython"):
        if path and os.path.exists(path):
            return path
    pytest.skip("no micropython binary")


def run_mp(mode, port, scheme="ws", protocol="text", *args):
    # run the scenario script under MicroPython while the server thread serves it
    proc = subprocess.run([micropython(), os.path.join(HERE, "drivers_scenario.py"), mode,
                           "%s://127.0.0.1:%d" % (scheme, port), protocol] + list(args),
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_poll_driver_micropython(server, protocol):
    check(run_mp("poll", server.port, "ws", protocol), protocol=protocol)


def test_aio_driver_micropython(server, protocol):
    check(run_mp("aio", server.port, "ws", protocol), protocol=protocol)


def test_aio_driver_survives_no_memory_for_its_read_buffer_micropython(server):
    # MicroPython reads into the websocket's buffer (CPython's streams have no readinto)
    res = run_mp("aio-no-memory", server.port)
    log = res["log"]
    assert log[0] == ["opened"], log
    assert log[1][0] == "error" and ("MemoryError" in log[1][1] or "memory" in log[1][1]), log
    assert log[2] == ["closed", None], log


# wss with verify=False: encrypted, not verified, reported (transport.py); the
# certificate checks themselves are in test_tls.py

def test_poll_driver_wss_cpython(tls_server):
    check(drivers_scenario.run_poll("wss://127.0.0.1:%d" % tls_server.port, verify=False), True)


def test_aio_driver_wss_cpython(tls_server):
    check(drivers_scenario.run_aio("wss://127.0.0.1:%d" % tls_server.port, verify=False), True)


def test_wss_verified_with_ca_file_cpython(tls_server):
    url = "wss://127.0.0.1:%d" % tls_server.port
    check(drivers_scenario.run_poll(url, ca_file=tls_server.cert))
    check(drivers_scenario.run_aio(url, ca_file=tls_server.cert))


def test_wss_verification_failure_is_reported(tls_server):
    # verify=True with the system CAs: the self-signed certificate is refused
    from deepstream.poll import PollDriver

    conn = drivers_scenario.FakeConn("wss://127.0.0.1:%d/echo" % tls_server.port, verify=True)
    PollDriver(conn).poll(0)
    assert conn.log[0][0] == "error" and "cannot connect" in conn.log[0][1], conn.log
    assert conn.log[1:] == [["closed", None]]


def test_poll_driver_wss_micropython(tls_server):
    check(run_mp("poll", tls_server.port, "wss", "text", "insecure"), True)


def test_aio_driver_wss_micropython(tls_server):
    check(run_mp("aio", tls_server.port, "wss", "text", "insecure"), True)


def test_wss_verified_with_ca_file_micropython(tls_server):
    check(run_mp("poll", tls_server.port, "wss", "text", tls_server.cert))
    check(run_mp("aio", tls_server.port, "wss", "text", tls_server.cert))
