"""Our client must never send what @deepstream/server 7.0.2 dies of (the wire notes'
§6: data that is not JSON, a field present and empty, a text frame, more than one
message in a frame, anything but CHALLENGE, AUTH and PING before the login).

One session makes the client send every kind of message it can send over binary, to
the real server (through a TcpProxy, which cuts the link once: the reconnect's
SUBSCRIBEANDHEAD and resubscriptions), with a second client of ours as the peer that
subscribes to what we listen for and calls our RPCs. Every websocket frame our client
writes is recorded as it goes to the socket (unmasked, with the connection state at
that moment) and decoded by the server's own @deepstream/protobuf (support/pbdecode).
"""
import json

from binary_helpers import decode, unframe
from deepstream import Client
from deepstream.message import UNDEFINED
from support.pbdecode import decode_frames
from support.pyclient import pump_until
from support.tcpproxy import TcpProxy

# (topic, action, what the message carries) the session must have sent: the kinds of
# message the client can send
EXPECTED = {
    (2, 5, ""), (3, 2, "data"), (2, 2, ""),  # CHALLENGE, AUTH REQUEST, PING
    (4, 3, "names"), (4, 4, "names"), (4, 2, "data"), (4, 2, ""),  # event (un)subscribe (bulk), emit
    (4, 5, ""), (4, 6, ""), (4, 7, "sub"), (4, 8, "sub"),  # listen, unlisten, accept, reject
    (6, 8, "names"), (6, 9, "names"), (6, 2, "data"),  # provide, unprovide, make
    (6, 4, ""), (6, 5, "data"), (6, 5, ""), (6, 7, "data"), (6, 6, ""),  # accept, response, error, reject
    (7, 12, ""), (7, 13, ""), (7, 10, "names"), (7, 11, "names"),  # presence (un)subscribe all / users
    (7, 2, ""), (7, 4, "names"),  # get_all, get_all(users)
    (5, 23, "names"), (5, 21, "names"), (5, 26, "names"),  # get_record, restore, discard
    (5, 18, "data"), (5, 18, "data ack"),  # set(data) without and with a write ack
    (5, 19, "data path"), (5, 19, "data path ack"), (5, 20, "path"), (5, 20, "path ack"),  # path set, erase
    (5, 16, "data"), (5, 16, "data ack"), (5, 17, "data path"), (5, 17, "data path ack"),  # set_data
    (5, 17, "path"),  # set_data(name, path, UNDEFINED): a path erased in a record not held
    (5, 3, ""), (5, 5, ""), (5, 9, ""), (5, 2, "names"),  # snapshot, head/has, delete, notify
    (5, 27, ""), (5, 28, ""), (5, 29, "sub"), (5, 30, "sub"),  # record listen
}


def carried(fields):
    """What a message carries, as EXPECTED names it."""
    marks = (("data", "data"), ("names", "names"), ("path", "path"), ("subscription", "sub"), ("isWriteAck", "ack"))
    return " ".join(mark for field, mark in marks if field in fields)


class Recorder:
    """Every websocket frame the client's poll driver writes: (state, payload)."""

    def __init__(self, client):
        self.frames = []
        conn = client._conn
        driver = client._poll_driver()
        send = driver._send_frame  # the one way out, also for what a full frame buffer writes through

        def recording(n):
            wire = conn.frame[conn.frame_start:conn.frame_start + n]
            self.frames += [(conn.state, payload) for payload in unframe(wire)]
            return send(n)
        driver._send_frame = recording


def run_session(url, proxy):
    main = Client(proxy.url("/deepstream"), protocol="binary", heartbeat_interval=400, reconnect_jitter=0)
    recorder = Recorder(main)
    peer = Client(url, protocol="binary")
    errors = []
    main.on("error", lambda msg, event, topic: errors.append((event, msg)))
    got = []

    def until(what, cond, timeout=5.0):
        assert pump_until(main, lambda: peer.poll(5) or cond(), timeout), "%s; errors: %r" % (what, errors)

    def keep(*args):
        got.append(args)

    # before the login: these wait for it (nothing but CHALLENGE and AUTH may go first)
    main.event.subscribe("safe/e1", keep)
    main.event.emit("safe/e1", {"queued": True})
    main.login({"username": "safe-main"})
    peer.login({"username": "safe-peer"})
    until("login", lambda: main.get_connection_state() == peer.get_connection_state() == "OPEN")

    # events: a bulk (un)subscription, emits with and without data (one past the frame buffer)
    main.event.subscribe("safe/e2", keep)
    main.event.subscribe("safe/\u00e4\u6e29", keep)
    main.event.emit("safe/e1", {"t": 21.5, "s": "\u00fc\U0001f600"})
    main.event.emit("safe/e1")
    main.event.emit("safe/e1", "x" * 2000)
    main.event.unsubscribe("safe/e2")
    main.event.unsubscribe("safe/\u00e4\u6e29")
    main.event.listen("safe/ev/.*", lambda name, found, response: response and (
        response.accept() if name.endswith("1") else response.reject()))
    peer.event.subscribe("safe/ev/1", keep)
    peer.event.subscribe("safe/ev/2", keep)
    until("listen matches answered", lambda: recorder_has(recorder, (4, 7)) and recorder_has(recorder, (4, 8)))
    main.event.unlisten("safe/ev/.*")

    # RPC: provide, answer in every way, make, unprovide
    def provider(data, response):
        if data == "error":
            response.error("refused")
        elif data == "reject":
            response.reject()
        elif data == "nothing":
            response.send(UNDEFINED)
        else:
            response.ack()
            response.send(data)
    main.rpc.provide("safe/rpc", provider)
    main.rpc.provide("safe/rpc2", provider)
    peer.rpc.provide("safe/peer-rpc", lambda data, response: response.send(data))
    pump_until(main, lambda: peer.poll(5), 0.5)  # provided, on both sides
    for data in ("ok", "error", "reject", "nothing", None):
        peer.rpc.make("safe/rpc", data, keep)
    main.rpc.make("safe/peer-rpc", {"n": 1}, keep)
    main.rpc.make("safe/peer-rpc", None, keep)
    until("RPC answers", lambda: len([g for g in got if len(g) == 2]) >= 7)
    main.rpc.unprovide("safe/rpc")
    main.rpc.unprovide("safe/rpc2")

    # presence
    main.presence.subscribe(keep)
    main.presence.subscribe("safe-peer", keep)
    main.presence.subscribe("safe-nobody", keep)
    main.presence.get_all(keep)
    main.presence.get_all(["safe-peer", "safe-nobody"], keep)
    pump_until(main, lambda: peer.poll(5), 0.3)
    main.presence.unsubscribe("safe-peer")
    main.presence.unsubscribe("safe-nobody")
    main.presence.unsubscribe()

    # records: held, written every way, read without holding, listened for, let go
    rec = main.record.get_record("safe/r1")
    until("record ready", lambda: rec.is_ready)
    done = []
    rec.set({"a": 1, "b": {"c": 2}})
    rec.set({"a": 2, "b": {"c": 2}}, done.append)
    rec.set("b.c", 3)
    rec.set("b.d", 4, done.append)
    for falsy in (0, False, "", None):
        rec.set("f", falsy)
    rec.set("b.c", UNDEFINED)
    rec.set("b.d", UNDEFINED, done.append)
    main.record.set_data("safe/r2", {"k": 1})
    main.record.set_data("safe/r2", {"k": 2}, done.append)
    main.record.set_data("safe/r2", "k", 3)
    main.record.set_data("safe/r2", "k", 4, done.append)
    main.record.set_data("safe/r2", "gone", UNDEFINED)
    until("write acks", lambda: len(done) == 5)
    for ask in (main.record.snapshot, main.record.head, main.record.has):
        ask("safe/r2", keep)
        ask("safe/missing", keep)
    main.record.notify(["safe/r2", "safe/missing"], done.append)  # (storage has no copy: held ones would be deleted)
    main.record.listen("safe/rec/.*", lambda name, found, response: response and (
        response.accept() if name.endswith("1") else response.reject()))
    peer.record.get_record("safe/rec/1")
    peer.record.get_record("safe/rec/2")
    until("record listen matches answered", lambda: recorder_has(recorder, (5, 29)) and recorder_has(recorder, (5, 30)))
    main.record.unlisten("safe/rec/.*")
    gone = main.record.get_record("safe/r3")
    until("safe/r3 ready", lambda: gone.is_ready)
    gone.delete()
    dropped = main.record.get_record("safe/r4")
    until("safe/r4 ready", lambda: dropped.is_ready)
    dropped.discard()
    until("notify, delete, discard", lambda: len(done) == 6 and recorder_has(recorder, (5, 26)))

    # the link is cut: what is asked meanwhile waits; after the login, everything is restored
    main.event.subscribe("safe/e3", keep)
    main.rpc.provide("safe/rpc3", provider)
    main.presence.subscribe("safe-peer", keep)
    proxy.cut()
    until("link lost", lambda: main.get_connection_state() != "OPEN")
    main.event.emit("safe/e3", [1, None])
    rec.set("b.c", 9)
    until("back", lambda: main.get_connection_state() == "OPEN" and recorder_has(recorder, (5, 21)), 10)
    pump_until(main, lambda: peer.poll(5), 1.0)  # a heartbeat or two: PING
    main.close()
    peer.close()
    pump_until(main, lambda: peer.poll(5), 0.3)
    return recorder.frames, errors


def recorder_has(recorder, kind):
    return any((m.topic, m.action) == kind for m in (decode(p) for _, p in recorder.frames))


def empty_strings(value):
    """Strings that are present but empty, anywhere in a decoded field."""
    if isinstance(value, str):
        return value == ""
    if isinstance(value, list):
        return any(empty_strings(v) for v in value)
    if isinstance(value, dict):
        return any(k == "" or empty_strings(v) for k, v in value.items())
    return False


def test_every_message_the_client_sends_is_safe_for_the_server(ds_server):
    with TcpProxy(ds_server.port) as proxy:
        frames, errors = run_session(ds_server.url_for("binary"), proxy)
    decoded = decode_frames([payload for _, payload in frames])
    kinds = set()
    for (state, payload), d in zip(frames, decoded):
        where = "%s frame %s: %r" % (state, payload.hex(), d)
        assert "error" not in d, where  # the server can read it
        assert d["trailing"] == "", where  # one message per frame
        fields = d["fields"]
        if "data" in fields:
            json.loads(fields["data"])  # JSON, never empty
        assert not any(empty_strings(v) for v in fields.values()), where
        if state != "OPEN":
            assert (d["topic"], d["action"]) in ((2, 5), (3, 2), (2, 2)), where
        kinds.add((d["topic"], d["action"], carried(fields)))
    assert EXPECTED - kinds == set(), sorted(kinds)
    assert errors == []  # nor did the client see anything it could not take
    assert len([s for s, _ in frames if s != "OPEN"]) >= 4  # two logins, before and after the cut
    assert ds_server.running, ds_server.log_text()[-3000:]
    client = Client(ds_server.url_for("binary"), protocol="binary")  # and it still serves
    client.login({"username": "safe-after"})
    assert pump_until(client, lambda: client.get_connection_state() == "OPEN"), errors
    client.close()
