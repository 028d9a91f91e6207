"""First contact, end to end: which protocol a URL gets, and what the client says when
the endpoint speaks the other one (the texts: lib/deepstream/first_contact.py).

@deepstream/server 7.0.2 in the configuration its npm package ships (the stock_server
fixture: only httpServer's host/port changed) serves the binary protocol at
/deepstream and no text endpoint. What it does, and what the client must do:
* a bare host:port URL gets the path /deepstream, which means the binary protocol: it logs in;
* a text client there (protocol="text") meets silence (the server waits for a binary
  CHALLENGE): the handshake timer gives a connectionError naming protocol='binary';
* /deepstream-v3: the server closes the TCP connection without any HTTP answer (as for
  every path it does not serve, also in the two-endpoint configuration we test with).
On the configuration we test with (ws-text at /deepstream-v3, ws-binary at /deepstream):
each path by its own protocol, protocol="auto" on both, and a binary client on the text
endpoint, which the server's C|A (a text frame) gives away.
What 7.0.2 never does is played by a scripted server: a binary frame to a text client,
a socket closed in answer to our CHALLENGE, silence after it, an HTTP status other than 101.
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

from support.mp import mp_lib, micropython_path

HERE = os.path.dirname(os.path.abspath(__file__))
PEER = os.path.join(HERE, "peers", "first_contact_peer.py")
LIB = os.path.join(os.path.dirname(HERE), "lib")
TEXT_SETUP = "the text protocol needs the server's ws-text endpoint, see README 'Server set-up'"
USE_TEXT = "use protocol='text', or the path /deepstream-v3, which chooses it"
# one failed attempt, one reconnect at once (attempt 0 waits 0 ms), then CLOSED
OPTIONS = {"handshake_timeout": 300, "max_reconnect_attempts": 1, "reconnect_jitter": 0}
RUNS = [(runtime, driver) for runtime in ("cpython", "micropython") for driver in ("poll", "aio")]
# a login as the client reports it, and the peer's close() at the end
OPENED = {"text": ["AWAITING_CONNECTION", "AWAITING_AUTHENTICATION", "AUTHENTICATING", "OPEN", "CLOSED"],
          "binary": ["AWAITING_CONNECTION", "CHALLENGING", "AWAITING_AUTHENTICATION", "AUTHENTICATING", "OPEN",
                     "CLOSED"]}
# two failed attempts: each ERROR (the socket is closed by the client) and then the reconnect rules
FAILED_TWICE = ["AWAITING_CONNECTION", "ERROR", "RECONNECTING", "AWAITING_CONNECTION", "ERROR", "CLOSED"]


def run_peer(runtime, driver, url, mode="listen", ms=8000, options=None):
    """(printed lines, {"states": ..., "errors": ...}) of one peer run. url: one, or a list."""
    if runtime == "micropython":
        cmd = [micropython_path(), "-X", "heapsize=256K", PEER]
    else:
        cmd = [sys.executable, PEER]
    env = dict(os.environ, MICROPYPATH=mp_lib() + ":.frozen", PYTHONPATH=LIB)
    options = dict(OPTIONS, **(options or {}))
    url = url if isinstance(url, str) else json.dumps(url)
    proc = subprocess.run(cmd + [url, driver, mode, str(ms), json.dumps(options)], env=env,
                          capture_output=True, text=True, timeout=60)
    lines = proc.stdout.strip().splitlines()
    assert proc.returncode == 0 and lines, (proc.returncode, proc.stdout, proc.stderr)
    return lines[:-1], json.loads(lines[-1])


def base(srv):
    return "ws://%s:%d" % (srv.host, srv.port)


# ---- the shipped configuration ---------------------------------------------------------------

@pytest.mark.parametrize("runtime,driver", RUNS)
def test_bare_url_logs_in_to_the_shipped_config(stock_server, runtime, driver):
    _, got = run_peer(runtime, driver, base(stock_server))
    assert got == {"states": OPENED["binary"], "errors": []}, got


@pytest.mark.parametrize("runtime,driver", RUNS)
def test_text_client_on_the_binary_endpoint_is_told_to_use_binary(stock_server, runtime, driver):
    _, got = run_peer(runtime, driver, base(stock_server), options={"protocol": "text"})
    url = base(stock_server) + "/deepstream"
    assert [e[0] for e in got["errors"]] == ["connectionError", "connectionError",
                                             "MAX_RECONNECTION_ATTEMPTS_REACHED"], got
    text = got["errors"][0][1]
    assert text.startswith(url + ": no deepstream message within 300 ms of the websocket upgrade "
                           "(option handshake_timeout)"), text
    assert "binary endpoint" in text and "use protocol='binary'" in text and text.endswith(TEXT_SETUP), text
    assert got["states"] == FAILED_TWICE, got


@pytest.mark.parametrize("runtime,driver", RUNS)
def test_text_path_on_the_shipped_config_is_closed_unanswered(stock_server, runtime, driver):
    url = base(stock_server) + "/deepstream-v3"
    _, got = run_peer(runtime, driver, url)
    text = got["errors"][0][1]
    assert got["errors"][0][0] == "connectionError", got
    assert text.startswith("cannot connect to %s: the server closed the connection without answering "
                           "the websocket upgrade of /deepstream-v3: no websocket endpoint at this path?" % url), text
    assert "its default configuration serves the binary protocol at /deepstream" in text, text
    assert text.endswith(TEXT_SETUP + ")"), text
    assert got["states"][-1] == "CLOSED", got


@pytest.mark.parametrize("runtime", ["cpython", "micropython"])
def test_without_a_listener_the_error_is_printed(stock_server, runtime):
    printed, got = run_peer(runtime, "poll", base(stock_server), mode="print", options={"protocol": "text"})
    assert len(printed) == 3, printed  # the second connectionError is a repeat, printed with its count
    assert printed[0].startswith("deepstream: connectionError (C): %s/deepstream: no deepstream message"
                                 % base(stock_server)), printed
    assert printed[1].endswith("(seen 2 times)"), printed
    assert printed[2] == "deepstream: MAX_RECONNECTION_ATTEMPTS_REACHED (C): gave up after 1 reconnection attempts"


# ---- the configuration we test with: both endpoints on one port ------------------------------

@pytest.mark.parametrize("runtime,driver", RUNS)
def test_each_endpoint_by_its_path_and_by_auto(ds_server, protocol, runtime, driver):
    """The path chooses the protocol; protocol="auto" starts as text and, when the
    endpoint stays silent for 500 ms, challenges as binary: it logs in to either."""
    for options in ({}, {"protocol": "auto"}):
        _, got = run_peer(runtime, driver, ds_server.url_for(protocol), options=options)
        assert got == {"states": OPENED[protocol], "errors": []}, (options, got)


@pytest.mark.parametrize("runtime,driver", RUNS)
def test_a_path_no_endpoint_serves_is_closed_unanswered(ds_server, runtime, driver):
    _, got = run_peer(runtime, driver, "ws://%s:%d/deepstream-v2" % (ds_server.host, ds_server.port))
    assert "without answering the websocket upgrade of /deepstream-v2:" in got["errors"][0][1], got


@pytest.mark.parametrize("runtime,driver", RUNS)
def test_binary_client_on_the_text_endpoint_is_told_to_use_text(ds_server, runtime, driver):
    url = ds_server.url_for("text")
    _, got = run_peer(runtime, driver, url, options={"protocol": "binary"})
    assert [e[0] for e in got["errors"]] == ["connectionError", "connectionError",
                                             "MAX_RECONNECTION_ATTEMPTS_REACHED"], got
    # the server's C|A (a text frame) comes first; were our CHALLENGE first, the server
    # would close the socket in answer: the other text, the same advice
    text = got["errors"][0][1]
    assert text.startswith(url + ": this endpoint speaks deepstream's text protocol ("), text
    assert text.endswith(USE_TEXT), text


@pytest.mark.parametrize("runtime,driver", RUNS)
def test_a_list_of_urls_is_tried_in_turn(ds_server, protocol, runtime, driver):
    dead = "ws://127.0.0.1:1" + ds_server.url_for(protocol)[len(base(ds_server)):]
    _, got = run_peer(runtime, driver, [dead, ds_server.url_for(protocol)])
    assert got["errors"] == [["connectionError", "Can't connect! Deepstream server unreachable on " + dead, "C"]], got
    assert got["states"] == ["ERROR", "RECONNECTING"] + OPENED[protocol], got


# ---- what 7.0.2 never does: a scripted server ------------------------------------------------

class CannedServer:
    """Answers every connection's upgrade request with `answer(request)` (bytes); then,
    with close_on_data, closes the connection when the client sends anything, else
    keeps it open (and says nothing more)."""

    def __init__(self, answer, close_on_data=False):
        self.answer = answer
        self.close_on_data = close_on_data
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
            if self.close_on_data:
                conn.recv(4096)  # a handful of bytes: the CHALLENGE
                conn.close()

    def url(self, path):
        return "ws://127.0.0.1:%d%s" % (self.port, path)

    def close(self):
        self.sock.close()
        for conn in self.conns:
            conn.close()


def upgrade(then=b""):
    """An answer: 101 Switching Protocols for the request's key, then the bytes `then`."""
    def answer(request):
        key = [line.split(b":", 1)[1].strip() for line in request.split(b"\r\n")
               if line.lower().startswith(b"sec-websocket-key:")][0]
        accept = base64.b64encode(hashlib.sha1(key + b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11").digest())
        return (b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                b"Sec-WebSocket-Accept: " + accept + b"\r\n\r\n" + then)
    return answer


@pytest.fixture
def canned():
    servers = []

    def make(answer, close_on_data=False):
        servers.append(CannedServer(answer, close_on_data))
        return servers[-1]
    yield make
    for srv in servers:
        srv.close()


@pytest.mark.parametrize("runtime,driver", RUNS)
def test_binary_frame_to_a_text_client_names_binary(canned, runtime, driver):
    url = canned(upgrade(bytes((0x82, 3)) + b"\x00\x01\x02")).url("/deepstream-v3")
    _, got = run_peer(runtime, driver, url, options={"handshake_timeout": 60000})
    assert got["errors"][0] == ["connectionError", url + ": this endpoint speaks deepstream's binary protocol "
                                "(a binary frame arrived): use protocol='binary' (the default for any path but "
                                "/deepstream-v3)", "C"], got
    assert got["states"] == FAILED_TWICE, got


@pytest.mark.parametrize("runtime,driver", RUNS)
def test_socket_closed_in_answer_to_our_challenge_names_text(canned, runtime, driver):
    url = canned(upgrade(), close_on_data=True).url("/deepstream")
    _, got = run_peer(runtime, driver, url, options={"handshake_timeout": 60000})
    assert got["errors"][0] == ["connectionError", url + ": this endpoint speaks deepstream's text protocol (it "
                                "closed the connection in answer to our binary CHALLENGE): " + USE_TEXT, "C"], got
    assert got["states"] == ["AWAITING_CONNECTION", "CHALLENGING", "RECONNECTING", "AWAITING_CONNECTION",
                             "CHALLENGING", "CLOSED"], got


@pytest.mark.parametrize("runtime,driver", RUNS)
def test_no_answer_to_our_challenge(canned, runtime, driver):
    url = canned(upgrade()).url("/deepstream")
    _, got = run_peer(runtime, driver, url)
    assert got["errors"][0] == ["connectionError", url + ": no answer to our binary-protocol CHALLENGE within "
                                "300 ms (option handshake_timeout): not a deepstream binary endpoint, or a server "
                                "too busy to answer", "C"], got
    assert got["states"] == ["AWAITING_CONNECTION", "CHALLENGING", "ERROR", "RECONNECTING", "AWAITING_CONNECTION",
                             "CHALLENGING", "ERROR", "CLOSED"], got


@pytest.mark.parametrize("runtime,driver", RUNS)
def test_http_status_other_than_101(canned, runtime, driver):
    url = canned(lambda request: b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n").url("/deepstream-v3")
    _, got = run_peer(runtime, driver, url)
    text = got["errors"][0][1]
    assert text.startswith("cannot connect to %s: the server answered the websocket upgrade of /deepstream-v3 "
                           "with 'HTTP/1.1 404 Not Found', not 101 Switching Protocols" % url), text
    assert text.endswith(TEXT_SETUP + ")"), text
