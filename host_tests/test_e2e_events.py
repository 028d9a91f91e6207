"""Events against the real @deepstream/server 7.0.2, with the official JS
client 2.3.4 on the other side, for our client on CPython and MicroPython."""
import os
import subprocess

import pytest

from deepstream import Client
from support.pyclient import open_client as _open_client, pump_until
from support.dsserver import DeepstreamServer
from support.mp import mp_lib

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)


def open_client(url, username="py-client", **options):
    return _open_client(url, username, **options)


def test_login_and_state(ds_server):
    client, errors = open_client(ds_server.url)
    assert client.get_connection_state() == "OPEN"
    client.close()
    pump_until(client, lambda: False, 0.1)
    assert client.get_connection_state() == "CLOSED"
    assert errors == []


@pytest.mark.parametrize("value", ["text", "", 42, 3.5, -1, True, False, None,
                                   {"a": [1, 2, {"b": "c"}]}, [1, "x"]])
def test_js_to_python_and_back(ds_server, js_client, value):
    js = js_client(ds_server.url)
    assert js.login({"username": "js"})[0]
    client, errors = open_client(ds_server.url)
    got = []
    client.event.subscribe("interop/to-py", got.append)
    js.event_subscribe("interop/to-js")
    # subscriptions are confirmed once both round trips have passed the server
    assert pump_until(client, lambda: not client._acks.keys)
    js.sync()
    js.event_emit("interop/to-py", value)
    assert pump_until(client, lambda: got), errors
    assert got == [value]
    client.event.emit("interop/to-js", value)
    client.poll(0)
    assert js.wait_event("interop/to-js") == value
    assert errors == []
    client.close()


def test_listen_accept_from_js_subscription(ds_server, js_client):
    client, errors = open_client(ds_server.url)
    matches = []

    def on_match(name, is_subscribed, response):
        matches.append((name, is_subscribed))
        if response is not None:
            response.accept()
    client.event.listen("sensors/.*", on_match)
    assert pump_until(client, lambda: not client._acks.keys)
    js = js_client(ds_server.url)
    js.login({"username": "js"})
    js.event_subscribe("sensors/temp")
    assert pump_until(client, lambda: matches == [("sensors/temp", True)]), matches
    # the server sends SR only to a listener whose accept it has processed:
    # a subscription acked after our LA proves the server has it
    client.event.subscribe("barrier", lambda d: None)
    assert pump_until(client, lambda: not client._acks.keys)
    js.event_unsubscribe("sensors/temp")
    assert pump_until(client, lambda: len(matches) == 2), matches
    assert matches[1] == ("sensors/temp", False)
    assert errors == []
    client.close()


def test_micropython_interop_both_directions(ds_server, js_client, micropython):
    js = js_client(ds_server.url)
    js.login({"username": "js"})
    js.event_subscribe("interop/from-mp")
    js.event_subscribe("interop/got")
    js.sync()
    env = dict(os.environ, MICROPYPATH=mp_lib() + ":.frozen")
    proc = subprocess.Popen([micropython, "-X", "heapsize=96K", os.path.join(HERE, "peers", "mp_event_peer.py"),
                             ds_server.url], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env, text=True)
    try:
        first = js.wait_event("interop/from-mp", timeout=15)
        assert first["runtime"] == "micropython"
        js.event_emit("interop/to-mp", {"from": "js", "list": [1, 2, 3]})
        assert js.wait_event("interop/got", timeout=10) == {"from": "js", "list": [1, 2, 3]}
        out, _ = proc.communicate(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0, out
    assert "errors: []" in out, out


def test_wrong_password_with_file_auth():
    with DeepstreamServer(auth={"dev1": {"password": "secret", "clientData": {"role": "device"}}}) as srv:
        client = Client(srv.url)
        result = []
        client.login({"username": "dev1", "password": "wrong"}, lambda ok, data: result.append((ok, data)))
        assert pump_until(client, lambda: result)
        assert result[0][0] is False
        assert client.get_connection_state() == "AWAITING_AUTHENTICATION"
        client.login({"username": "dev1", "password": "secret"}, lambda ok, data: result.append((ok, data)))
        assert pump_until(client, lambda: len(result) == 2)
        assert result[1] == (True, {"role": "device"})
        client.close()


def test_heartbeats_keep_a_quiet_link_open():
    with DeepstreamServer(heartbeat_interval=300) as srv:
        client, errors = open_client(srv.url, heartbeat_interval=300)
        states = []
        client.on("connectionStateChanged", states.append)
        pump_until(client, lambda: False, 1.5)  # five server intervals
        assert client.get_connection_state() == "OPEN"
        assert states == [] and errors == []
        client.close()


def test_server_restart_reconnects_and_resubscribes():
    with DeepstreamServer() as srv:
        client, errors = open_client(srv.url, reconnect_interval_increment=200)
        got = []
        client.event.subscribe("after/restart", got.append)
        assert pump_until(client, lambda: not client._acks.keys)
        srv.stop()
        assert pump_until(client, lambda: client.get_connection_state() == "RECONNECTING")
        srv.start()
        assert pump_until(client, lambda: client.get_connection_state() == "OPEN", 10)
        other, _ = open_client(srv.url, username="other")
        # the resubscription races the emit: emit until it arrives
        assert pump_until(client, lambda: (other.event.emit("after/restart", "hi"), other.poll(0), got)[2], 5)
        assert got[0] == "hi"
        client.close()
        other.close()
