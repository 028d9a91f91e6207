"""Events and the connection against the real @deepstream/server 7.0.2, on both protocols
(the `protocol` fixture), with the official JS client of that protocol on the other side
(2.3.4 over text, 7.0.5 over binary), for our client on CPython and MicroPython.

Where the two protocols differ by design, the tests say so: what goes on the wire (read
back through a recording proxy, support/wire.py): one (un)subscription per name on text,
the names of one tick in one message with a correlation id on binary.
"""
import json
import os
import subprocess

import pytest

from deepstream import UNDEFINED
from support.dsserver import PATHS, DeepstreamServer
from support.mp import mp_lib
from support.pyclient import close, login, pump, pump_during, pump_until
from support.tcpproxy import TcpProxy
from support.wire import sent

HERE = os.path.dirname(os.path.abspath(__file__))
HEARTBEAT = 300  # ms: the heartbeat server's interval, and its clients'
USERS = {"dev1": {"password": "secret", "clientData": {"role": "device"}}}
DEV1 = {"username": "dev1", "password": "secret"}
_EVENT, _SUBSCRIBE, _UNSUBSCRIBE = 4, 3, 4


def acked(client):
    """Every subscription, listen and provide asked for so far is acked (the server has it)."""
    return pump_until(client, lambda: not client._acks.keys)


@pytest.fixture
def recorder(ds_server):
    """A proxy in front of the session's server that keeps what each client sent:
    recorder.url(protocol), recorder.sent(protocol, connection=0)."""
    proxy = TcpProxy(ds_server.port, keep_sent=True).start()
    proxy.url_for = lambda protocol: proxy.url(PATHS[protocol])
    proxy.sent = lambda protocol, connection=0: sent(proxy.sent_payloads()[connection], protocol)
    yield proxy
    proxy.close()


@pytest.fixture(scope="module")
def hb_server():
    """File auth and a short heartbeat on both endpoints: a binary client that does
    not ping is closed after 2-3 intervals, a text one that does not answer pings too."""
    with DeepstreamServer(auth=USERS, heartbeat_interval=HEARTBEAT) as srv:
        yield srv


def test_login_and_state(recorder, py_client, protocol):
    client, errors = py_client(recorder.url_for(protocol))
    assert client.get_connection_state() == "OPEN"
    assert close(client)  # the socket is closed too
    assert client.get_connection_state() == "CLOSED"
    assert errors == []
    first = [m for m in recorder.sent(protocol) if m != "C|PO"][:2]
    if protocol == "binary":  # the client speaks first: CHALLENGE, then (after ACCEPT) AUTH
        assert [(m["topic"], m["action"]) for m in first] == [(2, 5), (3, 2)], first
        assert first[0]["fields"]["url"] == recorder.url_for(protocol)
        assert json.loads(first[1]["fields"]["data"]) == {"username": "py-client"}
    else:  # the server speaks first (C|A)
        assert first[0] == 'A|REQ|{"username":"py-client"}', first


@pytest.mark.parametrize("value", ["text", "", 42, 3.5, -1, True, False, None, UNDEFINED,
                                   {"a": [1, 2, {"b": "c"}]}, [1, "x"]])
def test_js_to_python_and_back(recorder, js_client, py_client, protocol, value):
    """UNDEFINED: emit(name) without data (the JS client's emit(name) for None too):
    a subscriber gets None; on binary the message has no data field, on text U."""
    js = js_client(login={"username": "js"}, protocol=protocol)
    client, errors = py_client(recorder.url_for(protocol))
    got = []
    client.event.subscribe("interop/to-py", got.append)
    js.event_subscribe("interop/to-js")
    assert acked(client)
    js.sync()
    received = None if value is UNDEFINED else value
    js.event_emit("interop/to-py", received)
    assert pump_until(client, lambda: got), errors
    assert got == [received]
    client.event.emit("interop/to-js", value)
    client.poll(0)
    assert js.wait_event("interop/to-js") == received
    (emit,) = [m for m in recorder.sent(protocol) if "interop/to-js" in str(m)]
    if protocol == "binary":
        data = emit["fields"].get("data")
        assert (data is None) if value is UNDEFINED else (json.loads(data) == value), emit
    else:
        assert emit.endswith("|U") == (value is UNDEFINED), emit
    assert errors == []


def test_subscriptions_of_one_tick_go_out_together(recorder, js_client, protocol, py_client):
    client, errors = py_client(recorder.url_for(protocol))
    got = []
    for name in ("bulk/a", "bulk/b", "bulk/c"):
        client.event.subscribe(name, lambda data, name=name: got.append((name, data)))
    assert acked(client)
    client.event.unsubscribe("bulk/b")
    client.event.unsubscribe("bulk/c")
    assert acked(client)
    js = js_client(login={"username": "js"}, protocol=protocol)
    for name in ("bulk/b", "bulk/c", "bulk/a"):  # bulk/a last: b and c would arrive before it
        js.event_emit(name, name)
    assert pump_until(client, lambda: got) and got == [("bulk/a", "bulk/a")]
    wire = [m for m in recorder.sent(protocol) if "bulk/" in str(m)]
    if protocol == "binary":  # acks carry no names: they are matched by correlation id
        assert [(m["topic"], m["action"], m["fields"]["names"]) for m in wire] == [
            (_EVENT, _SUBSCRIBE, ["bulk/a", "bulk/b", "bulk/c"]), (_EVENT, _UNSUBSCRIBE, ["bulk/b", "bulk/c"])]
        assert wire[0]["fields"]["correlationId"] != wire[1]["fields"]["correlationId"]
    else:  # one message per name, each acked by name
        assert wire == ["E|S|bulk/a", "E|S|bulk/b", "E|S|bulk/c", "E|US|bulk/b", "E|US|bulk/c"]
    assert errors == []  # an ack not matched would have ended in ACK_TIMEOUT


def test_listen_accept_reject_and_match_removed(ds_server, js_client, protocol, py_client):
    client, errors = py_client(ds_server.url_for(protocol))
    matches = []

    def on_match(name, is_subscribed, response):
        matches.append((name, is_subscribed))
        if response is not None:
            response.accept() if name.endswith("temp") else response.reject()
    client.event.listen("sensors/.*", on_match)
    assert acked(client)
    js = js_client(login={"username": "js"}, protocol=protocol)
    js.event_subscribe("sensors/temp")
    js.event_subscribe("sensors/rejected")
    assert pump_until(client, lambda: len(matches) == 2), matches
    assert sorted(matches) == [("sensors/rejected", True), ("sensors/temp", True)]
    # the server sends the match-removed notice only to a listener whose accept it has
    # processed: a subscription acked after our accept proves the server has it
    client.event.subscribe("barrier", lambda d: None)
    assert acked(client)
    js.event_unsubscribe("sensors/rejected")  # rejected: no notice, before the next one
    js.event_unsubscribe("sensors/temp")
    assert pump_until(client, lambda: len(matches) == 3), matches
    assert matches[2] == ("sensors/temp", False)
    assert errors == []


def test_errors_have_the_same_names_on_both_protocols(ds_server_factory, protocol, py_client):
    srv = ds_server_factory(permissions={"event": {"*": {"publish": True, "subscribe": True, "listen": True},
                                                   "secret/*": {"publish": False, "subscribe": False,
                                                                "listen": True}}})
    client, errors = py_client(srv.url_for(protocol))
    client.event.subscribe("secret/sub", lambda d: None)  # refused: MESSAGE_DENIED, which ends its ack
    assert acked(client)
    client.event.emit("secret/pub", 1)
    client.event.subscribe("twice", lambda d: None)
    assert acked(client)
    conn = client._conn
    conn.codec.bulk(conn, _EVENT, _SUBSCRIBE, "twice")  # behind the client's back: the server's error
    client.event.unsubscribe("never")  # the client's own
    client.event.subscribe("barrier", lambda d: None)
    assert acked(client)
    assert sorted(errors) == [("MESSAGE_DENIED", "secret/pub", "E"), ("MESSAGE_DENIED", "secret/sub", "E"),
                              ("MULTIPLE_SUBSCRIPTIONS", "twice", "E"), ("NOT_SUBSCRIBED", "never", "E")], errors


def test_micropython_interop_both_directions(ds_server, js_client, micropython, protocol):
    js = js_client(login={"username": "js"}, protocol=protocol)
    js.event_subscribe("interop/from-mp")
    js.event_subscribe("interop/got")
    js.sync()
    env = dict(os.environ, MICROPYPATH=mp_lib() + ":.frozen")
    proc = subprocess.Popen([micropython, "-X", "heapsize=96K", os.path.join(HERE, "peers", "mp_event_peer.py"),
                             ds_server.url_for(protocol)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            env=env, text=True)
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


# ---- login, heartbeats, reconnects ----------------------------------------------------------

def test_file_auth_refusal_then_client_data(hb_server, py_client, protocol):
    client, errors = py_client(hb_server.url_for(protocol), login=None, heartbeat_interval=HEARTBEAT)
    assert login(client, {"username": "dev1", "password": "wrong"}) == (False, None)
    assert client.get_connection_state() == "AWAITING_AUTHENTICATION"
    assert login(client, DEV1) == (True, {"role": "device"})
    assert client.get_connection_state() == "OPEN"
    assert errors == []


def test_heartbeats_keep_a_quiet_link_open(hb_server, py_client, protocol):
    """Text: the server pings, the client answers; binary: the client pings, the
    server answers. Either way the server closes a link silent for 2-3 intervals."""
    client, errors = py_client(hb_server.url_for(protocol), login=DEV1, heartbeat_interval=HEARTBEAT)
    states = []
    client.on("connectionStateChanged", states.append)
    pump(client, 5 * HEARTBEAT)
    assert client.get_connection_state() == "OPEN"
    assert states == [] and errors == []


def test_a_silent_link_is_dead_after_two_intervals(hb_server, py_client, protocol):
    proxy = TcpProxy(hb_server.port).start()
    try:
        client, errors = py_client(proxy.url(PATHS[protocol]), login=DEV1, heartbeat_interval=HEARTBEAT,
                                   reconnect_interval_increment=50)
        proxy.blackhole()  # no FIN, no RST: only the heartbeat can tell
        assert pump_until(client, lambda: client.get_connection_state() == "RECONNECTING", 10 * HEARTBEAT / 1000)
        assert errors == [("connectionError", "heartbeat not received in the last %d milliseconds" % (2 * HEARTBEAT),
                           "C")]
        proxy.restore()
        assert pump_until(client, lambda: client.get_connection_state() == "OPEN", 10), errors
    finally:
        proxy.close()


def test_server_restart_reconnects_and_resubscribes(hb_server, py_client, protocol):
    client, errors = py_client(hb_server.url_for(protocol), login=DEV1, heartbeat_interval=HEARTBEAT,
                               reconnect_interval_increment=200)
    got = []
    client.event.subscribe("after/restart", got.append)
    assert acked(client)
    hb_server.stop()
    assert pump_until(client, lambda: client.get_connection_state() == "RECONNECTING")
    hb_server.start()
    assert pump_until(client, lambda: client.get_connection_state() == "OPEN", 10)
    other, _ = py_client(hb_server.url_for(protocol), login=DEV1, heartbeat_interval=HEARTBEAT)
    # the resubscription races the emit: emit until it arrives
    assert pump_until(client, lambda: (other.event.emit("after/restart", "hi"), other.poll(0), got)[2], 5)
    assert got[0] == "hi"


def brief(message, protocol):
    """A sent message in short: text as it is; binary as (topic letter, action, names or name)."""
    if protocol == "text":
        return message
    fields = message["fields"]
    return "?XCAERPU"[message["topic"]], message["action"], fields.get("names", fields.get("name"))


def test_after_a_reconnect_everything_is_restored_in_the_order_asked(recorder, py_client, js_client, protocol,
                                                                     request):
    client, errors = py_client(recorder.url_for(protocol), reconnect_interval_increment=50)
    got, seen = [], []
    for name in ("restore/e1", "restore/e2", "restore/e3"):
        client.event.subscribe(name, got.append)
    client.event.listen("restore/l/.*", lambda name, found, response: response and response.accept())
    for name in ("restore/p1", "restore/p2"):
        client.rpc.provide(name, lambda data, response: response.send(data))
    client.presence.subscribe(lambda user, online: None)
    for user in ("restore-u1", "restore-u2"):
        client.presence.subscribe(user, lambda user, online: seen.append((user, online)))
    assert acked(client)
    recorder.cut()
    assert pump_until(client, lambda: client.get_connection_state() == "RECONNECTING")
    assert pump_until(client, lambda: client.get_connection_state() == "OPEN")
    assert acked(client)
    restored = [b for b in (brief(m, protocol) for m in recorder.sent(protocol, 1)) if b[0] in "EPU"]
    js = js_client(login={"username": "restore-u2"}, protocol=protocol)
    js.event_emit("restore/e2", "again")
    assert pump_during(client, lambda: js.rpc_make("restore/p1", 1)) == (None, 1)
    assert pump_until(client, lambda: got and seen) and got == ["again"] and set(seen) == {("restore-u2", True)}
    assert restored == {
        "text": ["E|S|restore/e1", "E|S|restore/e2", "E|S|restore/e3", "E|L|restore/l/.*", "P|S|restore/p1",
                 "P|S|restore/p2", "U|S|S", 'U|S|2|["restore-u1","restore-u2"]'],
        "binary": [("E", _SUBSCRIBE, ["restore/e1", "restore/e2", "restore/e3"]), ("E", 5, "restore/l/.*"),
                   ("P", 8, ["restore/p1", "restore/p2"]), ("U", 12, None),
                   ("U", 10, ["restore-u1", "restore-u2"])]}[protocol]
    assert errors == []
