"""The test harness itself: real server (text and binary endpoints on one port), official
JS clients (2.3.4 over text, 7.0.5 over binary), binary frame decoder, MicroPython runner.
These pass before our client exists, and prove the fixtures work."""

import time

import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from support.dsserver import PATHS, ServerError, handshake
from support.jsclient import JsClientError, protocol_of
from support.pbdecode import decode_frames
from support.tcpproxy import TcpProxy
from support.wire import sent

US = "\x1f"
RS = "\x1e"
CHALLENGE = bytes.fromhex("0610021a020805")  # binary CONNECTION CHALLENGE, no fields
ACCEPT = bytes.fromhex("0610021a020804")     # binary CONNECTION ACCEPT
SECRET_EVENTS = {"event": {"*": {"publish": True, "subscribe": True, "listen": True},
                           "secret/*": {"publish": False, "subscribe": True, "listen": True}}}


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


def test_js_client_protocol_follows_the_url_unless_given():
    assert protocol_of("ws://127.0.0.1:1/deepstream-v3") == "text"
    assert protocol_of("ws://127.0.0.1:1/deepstream") == "binary"
    assert protocol_of("ws://127.0.0.1:1") == "binary"


def test_js_clients_exchange_an_event(js_client, protocol):
    a = js_client(login={"username": "alice"}, protocol=protocol)
    b = js_client(login={"username": "bob"}, protocol=protocol)
    assert (a.protocol, b.protocol) == (protocol, protocol)
    b.event_subscribe("infra/news")
    b.sync()
    a.event_emit("infra/news", {"n": 1, "s": "x", "l": [1, 2.5, None, True]})
    assert b.wait_event("infra/news") == {"n": 1, "s": "x", "l": [1, 2.5, None, True]}
    a.event_emit("infra/news", "plain")
    assert b.wait_event("infra/news") == "plain"
    assert a.errors == [] and b.errors == []


def test_js_clients_records_and_rpc(js_client, protocol):
    a = js_client(login=True, protocol=protocol)
    b = js_client(login=True, protocol=protocol)
    rec = "infra/rec/" + protocol  # records outlive the clients on the session's server
    b.rpc_provide("infra/add", "add")
    b.sync()
    assert a.rpc_make("infra/add", {"a": 2, "b": 3}) == (None, 5)
    assert b.wait_rpc("infra/add") == {"a": 2, "b": 3}
    assert b.record_get(rec) == {}
    b.record_subscribe(rec)
    assert a.record_set(rec, {"x": 1}, ack=True) is None
    assert b.wait_record(rec) == {"x": 1}
    assert a.record_snapshot(rec) == (None, {"x": 1})
    assert b.record_discard(rec) == (True, None)


def listen_note(client, kind, name):
    note = client.wait_for(lambda n: n["kind"] == kind and n["name"] == name)
    return note["pattern"], note["isSubscribed"]


def test_every_command_over_both_protocols(ds_server_factory, js_client, protocol):
    """The same commands give the same results with 2.3.4 over text and 7.0.5 over binary,
    but for the differences jsclient.js lists."""
    srv = ds_server_factory(extra_config={"rpc": {"responseTimeout": 300}})
    a = js_client(srv.url_for(protocol), login={"username": "a"})
    b = js_client(srv.url_for(protocol), login={"username": "b"})
    a.event_listen("cmd/ev/.*")
    a.record_listen("cmd/rec/.*", accept=False)
    a.sync()
    b.event_subscribe("cmd/ev/1")
    assert listen_note(a, "listen", "cmd/ev/1") == ("cmd/ev/.*", True)
    a.sync()  # a's accept is through
    b.event_unsubscribe("cmd/ev/1")
    assert listen_note(a, "listen", "cmd/ev/1") == ("cmd/ev/.*", False)  # a had accepted
    b.record_get("cmd/rec/1")
    assert listen_note(a, "record_listen", "cmd/rec/1") == ("cmd/rec/.*", True)

    assert a.record_set_data("cmd/data", {"z": 1}) is None
    assert a.record_set_data("cmd/data", 5, path="y") is None
    assert a.record_snapshot("cmd/data") == (None, {"z": 1, "y": 5})
    assert a.record_head("cmd/data") == (None, 2)
    assert a.record_head("cmd/missing") == (None, -1)
    assert b.record_get("cmd/data") == {"z": 1, "y": 5}
    b.record_subscribe("cmd/data", "z")
    assert a.record_get("cmd/data") == {"z": 1, "y": 5} and a.record_version("cmd/data") == 2
    assert a.record_set("cmd/data", 2, path="z", ack=True) is None
    assert a.record_data("cmd/data", "z") == 2 and a.record_version("cmd/data") == 3
    assert b.wait_record("cmd/data", "z") == 2
    assert a.record_delete("cmd/data") == (True, None)
    b.wait_for(lambda n: n["kind"] == "record_event" and n["event"] == "delete")

    for behaviour in ("echo", "answer", "reject", "error", "ignore"):
        b.rpc_provide("cmd/" + behaviour, behaviour, data={"ans": 1}, message="bad")
    b.sync()
    assert a.rpc_make("cmd/echo", {"q": 1}) == (None, {"q": 1})
    assert a.rpc_make("cmd/answer") == (None, {"ans": 1})
    assert a.rpc_make("cmd/reject", 1) == ("NO_RPC_PROVIDER", None)
    assert a.rpc_make("cmd/error", 1) == ({"text": "Sbad", "binary": "bad"}[protocol], None)
    assert a.rpc_make("cmd/ignore", 1) == ("RESPONSE_TIMEOUT", None)
    b.rpc_unprovide("cmd/echo")
    b.sync()
    assert a.rpc_make("cmd/echo", 1) == ("NO_RPC_PROVIDER", None)
    assert [n["data"] for n in b.notifications("rpc")] == [{"q": 1}, None, 1, 1, 1]

    assert a.presence_get_all() == ["b"]
    assert a.presence_get_all(["b", "c"]) == {"b": True, "c": False}
    a.presence_subscribe()
    a.presence_subscribe("c")
    a.sync()
    c = js_client(srv.url_for(protocol), login={"username": "c"})
    # one note per subscription; 2.3.4 calls both callbacks for each of the server's two joins
    for _ in range({"text": 4, "binary": 2}[protocol]):
        a.wait_presence("c", True)
    a.assert_none(lambda n: n["kind"] == "presence")
    a.presence_unsubscribe()
    a.presence_unsubscribe("c")
    a.sync()
    c.close()
    a.assert_none(lambda n: n["kind"] == "presence")
    assert a.errors == [] and b.errors == []


def test_text_and_binary_clients_meet_on_one_server(js_client):
    text = js_client(protocol="text", login={"username": "infra-mix-text"})
    binary = js_client(protocol="binary", login={"username": "infra-mix-binary"})
    assert (text.protocol, binary.protocol) == ("text", "binary")
    for sender, receiver in ((binary, text), (text, binary)):
        name = "infra/mix/to-" + receiver.protocol
        receiver.event_subscribe(name)
        receiver.rpc_provide(name, "add")
        assert receiver.record_get(name) == {}
        receiver.record_subscribe(name)
        receiver.presence_subscribe("infra-mix-late-" + sender.protocol)
        receiver.sync()
        sender.event_emit(name, {"x": [1, "a"], "y": None})
        assert receiver.wait_event(name) == {"x": [1, "a"], "y": None}
        sender.event_emit(name)
        assert receiver.wait_event(name) is None
        assert sender.rpc_make(name, [1, 2, 3.5]) == (None, 6.5)
        assert sender.record_set(name, {"by": sender.protocol}, ack=True) is None
        assert receiver.wait_record(name) == {"by": sender.protocol}
        js_client(protocol=sender.protocol, login={"username": "infra-mix-late-" + sender.protocol})
        receiver.wait_presence("infra-mix-late-" + sender.protocol, True)
    assert text.errors == [] and binary.errors == []


REFUSED = {"text": None, "binary": {"reason": "INVALID_AUTHENTICATION_DETAILS"}}


def test_file_auth_and_restart_on_same_port(ds_server_factory, js_client, protocol):
    srv = ds_server_factory(auth={"userA": {"password": "pwA", "clientData": {"role": "a"}}},
                            heartbeat_interval=1000)
    c = js_client(srv.url_for(protocol), options={"heartbeatInterval": 1000,
                                                  "reconnectIntervalIncrement": 500})
    assert c.protocol == protocol
    assert c.login({"username": "userA", "password": "wrong"}) == (False, REFUSED[protocol])
    assert c.login({"username": "userA", "password": "pwA"}) == (True, {"role": "a"})
    port = srv.port
    srv.stop()
    assert not srv.running
    c.wait_state("RECONNECTING")
    srv.start()
    assert srv.port == port
    assert handshake("127.0.0.1", port).startswith("C" + US + "A")
    c.wait_state("OPEN", timeout=10)   # both clients reconnect and log in again by themselves
    assert "Deepstream started" in srv.log_text()


def test_shipped_config_serves_the_binary_client_only(ds_server_factory, js_client):
    srv = ds_server_factory(default_config=True)
    with pytest.raises(ServerError, match="no ws-text endpoint"):
        srv.url_for("text")
    a = js_client(srv.binary_url, login={"username": "alice"})
    b = js_client(srv.url_for("binary"), login={"username": "bob"})
    assert a.protocol == b.protocol == "binary"
    b.event_subscribe("infra/shipped")
    b.rpc_provide("infra/shipped", "echo")
    b.sync()
    a.event_emit("infra/shipped", {"n": 1})
    assert b.wait_event("infra/shipped") == {"n": 1}
    assert a.rpc_make("infra/shipped", "hi") == (None, "hi")
    assert a.presence_get_all() == ["bob"]
    assert a.errors == [] and b.errors == []


def test_options_without_a_7_0_5_equivalent_are_refused(js_client):
    with pytest.raises(JsClientError, match="rpcAckTimeout .* no equivalent"):
        js_client(protocol="binary", options={"rpcAckTimeout": 100})


def test_recording_proxy_gives_back_what_a_client_sent(ds_server, js_client, protocol):
    with TcpProxy(ds_server.port, keep_sent=True) as proxy:
        c = js_client(proxy.url(PATHS[protocol]), login={"username": "infra-rec"})
        c.event_subscribe("infra/rec")
        c.sync()
        messages = sent(proxy.sent_payloads()[0], protocol)
    if protocol == "binary":  # CHALLENGE, AUTH, the subscription (7.0.5: one name, a correlation id)
        assert [(m["topic"], m["action"]) for m in messages[:2]] == [(2, 5), (3, 2)], messages
        assert messages[0]["fields"]["url"] == proxy.url(PATHS[protocol])
        assert {"action": 3, "correlationId": "0", "names": ["infra/rec"]} in [m["fields"] for m in messages]
    else:
        messages = [m for m in messages if m != "C|PO"]  # answers to the server's pings, at any time
        assert messages[0] == 'A|REQ|{"username":"infra-rec"}' and "E|S|infra/rec" in messages, messages


def test_micropython_runs_with_lib_on_path(run_micropython):
    rc, out, err = run_micropython(
        "import sys, gc\n"
        "import deepstream\n"
        "print(sys.implementation.name, gc.mem_free() + gc.mem_alloc() <= 96 * 1024)\n")
    assert rc == 0, err
    assert out.split() == ["micropython", "True"]


def test_server_heartbeat_and_permissions(ds_server_factory, js_client, protocol):
    srv = ds_server_factory(heartbeat_interval=300, permissions=SECRET_EVENTS)
    with connect(srv.url_for(protocol), open_timeout=5) as ws:
        if protocol == "text":  # the server pings at once and every interval
            assert ws.recv(timeout=5) == "C" + US + "A" + RS
            assert ws.recv(timeout=3) == "C" + US + "PI" + RS
        else:  # the server never pings: a client that goes silent is closed
            ws.send(CHALLENGE)
            assert ws.recv(timeout=5) == ACCEPT
            silent = time.monotonic()
            with pytest.raises(ConnectionClosed):
                ws.recv(timeout=3)  # the server default (30 s) would keep it open
            assert time.monotonic() - silent >= 0.5  # after 2-3 intervals
    c = js_client(srv.url_for(protocol), login=True, options={"heartbeatInterval": 300})
    c.event_emit("secret/x", 1)
    err = c.wait_error("MESSAGE_DENIED")
    # 7.0.5 names the topic in full and drops the event name (jsclient.js)
    assert (err["topic"], err["message"]) == {"text": ("E", "secret/x"),
                                              "binary": ("EVENT", '{"topic":4}')}[protocol]


# ---- pbdecode: frames of /work/shared/protocol-binary.md §5 -----------------------------------

DOCUMENTED_FRAMES = [  # (payload hex, topic, action, fields on the wire)
    ("1c10031a18080212147b22757365726e616d65223a22616c696365227d",  # AUTH REQUEST
     3, 2, {"action": 2, "data": '{"username":"alice"}'}),
    ("2310041a1f0802120f7b2273636f7265223a5b312c325d7d320a6e6577732f73706f7274",  # EVENT EMIT
     4, 2, {"action": 2, "data": '{"score":[1,2]}', "name": "news/sport"}),
    ("1810051a14080632056465762f3268ffffffffffffffffff01",  # HEAD_RESPONSE, version -1
     5, 6, {"action": 6, "name": "dev/2", "version": -1}),
    ("1e10051a1a0808720a0a06722f726563311001720a0a06722f726563321000",  # HEAD_RESPONSE_BULK
     5, 8, {"action": 8, "versions": {"r/rec1": 1, "r/rec2": 0}}),
    ("2610051a22081012077b2261223a317d1a013132056465762f33580168ffffffffffffffffff01",
     5, 16, {"action": 16, "data": '{"a":1}', "correlationId": "1", "name": "dev/3",  # CREATEANDUPDATE
             "isWriteAck": True, "version": -1}),
    ("1910051a15081332056465762f31580062067374617475736804",  # relayed erase: PATCH, no data
     5, 19, {"action": 19, "name": "dev/1", "isWriteAck": False, "path": "status", "version": 4}),
    ("2910061a2508051201331a146d7862796171306d2d6d6138656a73616f6767693a086d6174682f616464",
     6, 5, {"action": 5, "data": "3", "correlationId": "mxbyaq0m-ma8ejsaoggi",  # RPC RESPONSE
            "name": "math/add"}),
    ("0b10071a0708034a03626f62", 7, 3, {"action": 3, "names": ["bob"]}),  # QUERY_ALL_RESPONSE
    ("0810031a0408021200", 3, 2, {"action": 2, "data": ""}),  # AUTH REQUEST, data present but empty
    ("0610011a020801", 1, 1, {"action": 1}),  # PARSER UNKNOWN_TOPIC
]


def test_pbdecode_documented_frames():
    got = decode_frames([bytes.fromhex(payload) for payload, *_ in DOCUMENTED_FRAMES])
    assert got == [{"topic": topic, "action": action, "fields": fields, "trailing": ""}
                   for _, topic, action, fields in DOCUMENTED_FRAMES]


def test_pbdecode_trailing_bytes_and_frames_the_server_cannot_decode():
    subscribe, ping = "1010041a0c08031a01303a056d69782f32", "0610021a020802"
    got = decode_frames([subscribe + ping, "ffffff", ping[2:], "", "0610321a020801", "0210021a00"])
    assert got[0] == {"topic": 4, "action": 3, "trailing": ping,
                      "fields": {"action": 3, "correlationId": "0", "names": ["mix/2"]}}
    assert ["error" in frame for frame in got[1:5]] == [True] * 4, got  # garbage, no length, empty
    assert got[4]["error"] == "no message type for topic 50"
    assert got[5] == {"topic": 2, "action": None, "fields": {}, "trailing": "1a00"}
