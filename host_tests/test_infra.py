"""The test harness itself: real server (text and binary endpoints on one port), official
JS client, MicroPython runner. These pass before our client exists, and prove the
fixtures work."""

import pytest
from websockets.sync.client import connect

from support.dsserver import handshake

US = "\x1f"
RS = "\x1e"
CHALLENGE = bytes.fromhex("0610021a020805")  # binary CONNECTION CHALLENGE, no fields
ACCEPT = bytes.fromhex("0610021a020804")     # binary CONNECTION ACCEPT


def test_server_serves_both_protocols_on_one_port(ds_server):
    base = "ws://127.0.0.1:%d" % ds_server.port
    assert ds_server.url == ds_server.url_for("text") == base + "/deepstream-v3"
    assert ds_server.binary_url == ds_server.url_for("binary") == base + "/deepstream"
    with connect(ds_server.url, open_timeout=5) as ws:
        first = ws.recv(timeout=5)
    assert first == "C" + US + "A" + RS
    with connect(ds_server.binary_url, open_timeout=5) as ws:
        ws.send(CHALLENGE)
        assert ws.recv(timeout=5) == ACCEPT
    with pytest.raises(ValueError):
        ds_server.url_for("json")


def test_js_clients_exchange_an_event(js_client):
    a = js_client(login={"username": "alice"})
    b = js_client(login={"username": "bob"})
    b.event_subscribe("infra/news")
    b.sync()
    a.event_emit("infra/news", {"n": 1, "s": "x", "l": [1, 2.5, None, True]})
    assert b.wait_event("infra/news") == {"n": 1, "s": "x", "l": [1, 2.5, None, True]}
    a.event_emit("infra/news", "plain")
    assert b.wait_event("infra/news") == "plain"
    assert a.errors == [] and b.errors == []


def test_js_clients_records_and_rpc(js_client):
    a = js_client(login=True)
    b = js_client(login=True)
    b.rpc_provide("infra/add", "add")
    b.sync()
    assert a.rpc_make("infra/add", {"a": 2, "b": 3}) == (None, 5)
    assert b.wait_rpc("infra/add") == {"a": 2, "b": 3}
    b.record_subscribe("infra/rec")
    b.record_get("infra/rec")
    assert a.record_set("infra/rec", {"x": 1}, ack=True) is None
    assert b.wait_record("infra/rec") == {"x": 1}
    assert a.record_snapshot("infra/rec") == (None, {"x": 1})


def test_file_auth_and_restart_on_same_port(ds_server_factory, js_client):
    srv = ds_server_factory(auth={"userA": {"password": "pwA", "clientData": {"role": "a"}}},
                            heartbeat_interval=1000)
    c = js_client(srv.url)
    assert c.login({"username": "userA", "password": "wrong"}) == (False, None)
    assert c.login({"username": "userA", "password": "pwA"}) == (True, {"role": "a"})
    port = srv.port
    srv.stop()
    assert not srv.running
    c.wait_state("RECONNECTING")
    srv.start()
    assert srv.port == port
    assert handshake("127.0.0.1", port).startswith("C" + US + "A")
    c.wait_state("OPEN", timeout=10)   # 2.3.4 reconnects and logs in again by itself
    assert "Deepstream started" in srv.log_text()


def test_micropython_runs_with_lib_on_path(run_micropython):
    rc, out, err = run_micropython(
        "import sys, gc\n"
        "import deepstream\n"
        "print(sys.implementation.name, gc.mem_free() + gc.mem_alloc() <= 96 * 1024)\n")
    assert rc == 0, err
    assert out.split() == ["micropython", "True"]


def test_server_heartbeat_and_permissions(ds_server_factory, js_client):
    srv = ds_server_factory(heartbeat_interval=300, permissions={
        "event": {"*": {"publish": True, "subscribe": True, "listen": True},
                  "secret/*": {"publish": False, "subscribe": True, "listen": True}}})
    with connect(srv.url, open_timeout=5) as ws:
        assert ws.recv(timeout=5) == "C" + US + "A" + RS
        assert ws.recv(timeout=3) == "C" + US + "PI" + RS
    c = js_client(srv.url, login=True)
    c.event_emit("secret/x", 1)
    err = c.wait_error("MESSAGE_DENIED")
    assert err["topic"] == "E" and err["message"] == "secret/x"
