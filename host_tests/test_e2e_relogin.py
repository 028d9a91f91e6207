"""Fresh credentials on every re-login (issue 21), against the real
@deepstream/server 7.0.2 with file-based auth: the password changes while the
server is down (it restarts with the new users file), as a short-lived token
would expire; the client picks the new one up at the next reconnect when it
logs in with a function, and reports reauthenticationFailure when it re-sends
the old one. CPython and the MicroPython unix port, both protocols."""
import os
import queue
import subprocess
import threading

from deepstream import Client
from support.dsserver import DeepstreamServer
from support.mp import mp_lib
from support.pyclient import pump_until

HERE = os.path.dirname(os.path.abspath(__file__))


def users(password, n):
    return {"dev1": {"password": password, "clientData": {"n": n}}}


def logged_in_client(srv, protocol, auth):
    client = Client(srv.url_for(protocol), reconnect_interval_increment=200, max_reconnect_attempts=100)
    errors, results = [], []
    client.on("error", lambda msg, event, topic: errors.append((event, msg, topic)))
    client.login(auth, lambda ok, data: results.append((ok, data)))
    assert pump_until(client, lambda: results, 10), errors
    assert results == [(True, {"n": 1})], (results, errors)
    return client, errors, results


def change_password(srv, client, password):
    """The server goes down, comes back with the new password in its users file."""
    srv.stop()
    assert pump_until(client, lambda: client.get_connection_state() == "RECONNECTING")
    srv.auth = users(password, 2)
    srv.start()


def test_a_changed_password_is_picked_up_at_the_next_reconnect(protocol):
    with DeepstreamServer(auth=users("one", 1)) as srv:
        password = ["one"]
        asked = []

        def credentials():
            asked.append(password[0])
            return {"username": "dev1", "password": password[0]}
        client, errors, results = logged_in_client(srv, protocol, credentials)
        password[0] = "two"
        change_password(srv, client, "two")
        assert pump_until(client, lambda: len(results) == 2, 15), (results, errors)
        assert results[1] == (True, {"n": 2})
        assert asked == ["one", "two"]  # once per login
        assert client.get_connection_state() == "OPEN"
        assert {e[0] for e in errors} <= {"connectionError"}, errors
        client.close()


def test_a_refused_relogin_raises_reauthentication_failure(protocol):
    with DeepstreamServer(auth=users("one", 1)) as srv:
        client, errors, results = logged_in_client(srv, protocol, {"username": "dev1", "password": "one"})
        change_password(srv, client, "two")
        assert pump_until(client, lambda: len(results) == 2, 15), (results, errors)
        assert results[1] == (False, None)  # 7.0.2 gives no data (text: A|E|INVALID_AUTH_DATA|U)
        assert ("reauthenticationFailure", "INVALID_AUTH_DATA", "A") in errors, errors
        assert client.get_connection_state() == "AWAITING_AUTHENTICATION"
        client.close()


def _lines(proc):
    lines = queue.Queue()

    def read():
        for line in proc.stdout:
            lines.put(line.rstrip("\n"))
        lines.put(None)
    threading.Thread(target=read, daemon=True).start()
    return lines


def _until(lines, prefix, seen, timeout=20):
    while True:
        line = lines.get(timeout=timeout)
        assert line is not None, "the peer ended first: %r" % seen
        seen.append(line)
        if line.startswith(prefix):
            return line


def test_micropython_reads_a_fresh_token_from_a_file_before_every_login(protocol, micropython, tmp_path):
    token = tmp_path / "token"
    token.write_text("one\n")
    with DeepstreamServer(auth=users("one", 1)) as srv:
        env = dict(os.environ, MICROPYPATH=mp_lib() + ":.frozen")
        proc = subprocess.Popen([micropython, "-X", "heapsize=96K", os.path.join(HERE, "peers", "mp_token_peer.py"),
                                 srv.url_for(protocol), str(token), "2"], stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT,
                                env=env, text=True)
        seen = []
        try:
            lines = _lines(proc)
            assert _until(lines, "login", seen) == 'login True {"n": 1}', seen
            srv.stop()
            _until(lines, "error connectionError", seen)
            token.write_text("two\n")
            srv.auth = users("two", 2)
            srv.start()
            assert _until(lines, "login", seen) == 'login True {"n": 2}', seen
            proc.wait(10)
        finally:
            if proc.poll() is None:
                proc.kill()
            proc.wait()
        assert proc.returncode == 0, seen
        assert [line for line in seen if line.startswith("error") and "connectionError" not in line] == []
