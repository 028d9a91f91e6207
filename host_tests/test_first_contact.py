"""First contact with a server that is not set up for this client, end to end.

@deepstream/server 7.0.2 in the configuration its npm package ships (DeepstreamServer
(default_config=True): only httpServer's host/port changed) serves the binary protocol at
/deepstream and no text endpoint. What it does, and what the client must say:
* a bare host:port URL gets the path /deepstream: the server upgrades, then stays silent
  (it waits for a binary-protocol client): the handshake timer gives a connectionError
  that names the binary endpoint and README 'Server set-up';
* /deepstream-v3: the server closes the TCP connection without any HTTP answer (as for
  every path it does not serve, also in the ws-text configuration we test with).
7.0.2 sends no binary frame to a client that says nothing, nor an HTTP status other
than 101 to a valid upgrade: those two cases are played by a scripted server here.
Every case runs on CPython and MicroPython, with the polling and the asyncio driver.
"""
import base64
import hashlib
import json
import os
import socket
import subprocess
import sys
import threading

import pytest

from support.dsserver import DeepstreamServer
from support.mp import mp_lib, micropython_path

HERE = os.path.dirname(os.path.abspath(__file__))
PEER = os.path.join(HERE, "peers", "first_contact_peer.py")
LIB = os.path.join(os.path.dirname(HERE), "lib")
SETUP = "this client needs the server's ws-text endpoint, see README 'Server set-up'"
# one failed attempt, one reconnect at once (attempt 0 waits 0 ms), then CLOSED
OPTIONS = {"handshake_timeout": 300, "max_reconnect_attempts": 1, "reconnect_jitter": 0}
RUNS = [(runtime, driver) for runtime in ("cpython", "micropython") for driver in ("poll", "aio")]


def run_peer(runtime, driver, url, mode="listen", ms=8000, options=OPTIONS):
    """(printed lines, {"states": ..., "errors": ...}) of one peer run."""
    if runtime == "micropython":
        cmd = [micropython_path(), "-X", "heapsize=256K", PEER]
    else:
        cmd = [sys.executable, PEER]
    env = dict(os.environ, MICROPYPATH=mp_lib() + ":.frozen", PYTHONPATH=LIB)
    proc = subprocess.run(cmd + [url, driver, mode, str(ms), json.dumps(options)], env=env,
                          capture_output=True, text=True, timeout=60)
    lines = proc.stdout.strip().splitlines()
    assert proc.returncode == 0 and lines, (proc.returncode, proc.stdout, proc.stderr)
    return lines[:-1], json.loads(lines[-1])


@pytest.fixture(scope="module")
def shipped_server():
    srv = DeepstreamServer(default_config=True)
    srv.start()
    yield srv
    srv.close()


def base(srv):
    return "ws://%s:%d" % (srv.host, srv.port)


@pytest.mark.parametrize("runtime,driver", RUNS)
def test_bare_url_reaches_the_binary_endpoint_and_says_so(shipped_server, runtime, driver):
    _, got = run_peer(runtime, driver, base(shipped_server))
    url = base(shipped_server) + "/deepstream"
    assert [e[0] for e in got["errors"]] == ["connectionError", "connectionError",
                                             "MAX_RECONNECTION_ATTEMPTS_REACHED"], got
    text = got["errors"][0][1]
    assert text.startswith(url + ": no deepstream message within 300 ms of the websocket upgrade"), text
    assert "binary endpoint" in text and text.endswith(SETUP), text
    assert got["states"] == ["AWAITING_CONNECTION", "ERROR", "RECONNECTING", "AWAITING_CONNECTION", "ERROR",
                             "CLOSED"], got


@pytest.mark.parametrize("runtime,driver", RUNS)
def test_text_path_on_the_shipped_config_is_closed_unanswered(shipped_server, runtime, driver):
    url = base(shipped_server) + "/deepstream-v3"
    _, got = run_peer(runtime, driver, url)
    text = got["errors"][0][1]
    assert got["errors"][0][0] == "connectionError", got
    assert text.startswith("cannot connect to %s: the server closed the connection without answering "
                           "the websocket upgrade of /deepstream-v3: no websocket endpoint at this path?" % url), text
    assert text.endswith(SETUP), text
    assert got["states"][-1] == "CLOSED", got


@pytest.mark.parametrize("runtime", ["cpython", "micropython"])
def test_without_a_listener_the_error_is_printed(shipped_server, runtime):
    printed, got = run_peer(runtime, "poll", base(shipped_server), mode="print")
    assert len(printed) == 3, printed  # the second connectionError is a repeat, printed with its count
    assert printed[0].startswith("deepstream: connectionError (C): %s/deepstream: no deepstream message"
                                 % base(shipped_server)), printed
    assert printed[1].endswith("(seen 2 times)"), printed
    assert printed[2] == "deepstream: MAX_RECONNECTION_ATTEMPTS_REACHED (C): gave up after 1 reconnection attempts"


@pytest.mark.parametrize("runtime,driver", RUNS)
def test_the_configuration_we_test_with(ds_server, runtime, driver):
    """Next to it, the configuration we test with (ws-text at /deepstream-v3, ws-binary at
    /deepstream): the text path works, a path no endpoint serves is closed."""
    _, got = run_peer(runtime, driver, ds_server.url)
    assert got == {"states": ["AWAITING_CONNECTION", "AWAITING_AUTHENTICATION", "AUTHENTICATING", "OPEN",
                              "CLOSED"], "errors": []}, got  # CLOSED: the peer's close() at the end
    _, got = run_peer(runtime, driver, "ws://%s:%d/deepstream-v2" % (ds_server.host, ds_server.port))
    assert "without answering the websocket upgrade of /deepstream-v2:" in got["errors"][0][1], got


# ---- what 7.0.2 never does: a scripted server ------------------------------------------------

class CannedServer:
    """Answers every connection with `answer(request)` (bytes) and keeps it open a while."""

    def __init__(self, answer):
        self.answer = answer
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.port = self.sock.getsockname()[1]
        self.conns = []
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.conns.append(conn)
            request = b""
            while b"\r\n\r\n" not in request:
                chunk = conn.recv(4096)
                if not chunk:
                    break
                request += chunk
            conn.sendall(self.answer(request))

    def close(self):
        self.sock.close()
        for conn in self.conns:
            conn.close()


def upgrade_then_binary(request):
    key = [line.split(b":", 1)[1].strip() for line in request.split(b"\r\n")
           if line.lower().startswith(b"sec-websocket-key:")][0]
    accept = base64.b64encode(hashlib.sha1(key + b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11").digest())
    return (b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            b"Sec-WebSocket-Accept: " + accept + b"\r\n\r\n" + bytes((0x82, 3)) + b"\x00\x01\x02")


@pytest.mark.parametrize("runtime,driver", RUNS)
def test_binary_frame_names_the_binary_protocol(runtime, driver):
    srv = CannedServer(upgrade_then_binary)
    try:
        url = "ws://127.0.0.1:%d/deepstream" % srv.port
        _, got = run_peer(runtime, driver, url, options=dict(OPTIONS, handshake_timeout=60000))
    finally:
        srv.close()
    assert got["errors"][0] == ["connectionError", url + ": this endpoint speaks deepstream's binary protocol; "
                                + SETUP, "C"], got
    assert got["states"][:2] == ["AWAITING_CONNECTION", "ERROR"] and got["states"][-1] == "CLOSED", got


@pytest.mark.parametrize("runtime,driver", RUNS)
def test_http_status_other_than_101(runtime, driver):
    srv = CannedServer(lambda request: b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n")
    try:
        url = "ws://127.0.0.1:%d/deepstream-v3" % srv.port
        _, got = run_peer(runtime, driver, url)
    finally:
        srv.close()
    text = got["errors"][0][1]
    assert text.startswith("cannot connect to %s: the server answered the websocket upgrade of /deepstream-v3 "
                           "with 'HTTP/1.1 404 Not Found', not 101 Switching Protocols" % url), text
    assert text.endswith(SETUP), text
