"""protocol="auto" cases that load a topic's modules besides both codecs and
the converter: what a firmware app queues before its first connection
(events, a record) reaches an endpoint of the protocol the URL did not
guess as a client of that protocol sends it, both ways; after an outage,
what the reconnect makes again is not converted; a call made before is
answered; an outbox replay cut short goes on after a switch. (Every message
kind: test_convert.py.)

Not a test_*.py file: host_tests/test_auto_cases.py runs these on CPython
and on MicroPython with a heap of their own (more than the unit runs' 160K
on the 64-bit unix port)."""
from auto_helpers import BINARY_GUESS, TEXT_GUESS, AutoLink, auth_ok, fresh_outbox, nop, payload, text_messages


def offline_calls(link):
    """What a firmware app does before its first connection."""
    c = link.client
    c.event.subscribe("cmd", nop)
    link.pump()  # the end of a tick: binary's subscriptions of it go out as one message
    c.event.emit("temp", 21.5)
    c.event.emit("note", {"a": [1, None], "b": "x"})
    c.record.get_record("dev")
    link.pump()
    c.event.emit("temp", 22)


def test_what_waits_goes_out_as_a_text_client_sends_it():
    link = AutoLink(BINARY_GUESS)
    offline_calls(link)
    link.open_text()
    link.login()
    assert text_messages(link.sent()) == [
        "E|S|cmd", "E|EVT|temp|N21.5", 'E|EVT|note|O{"a":[1,null],"b":"x"}', "R|CR|dev", "E|EVT|temp|N22"]
    assert link.errors == []


def test_what_waits_goes_out_as_a_binary_client_sends_it():
    link = AutoLink(TEXT_GUESS)
    offline_calls(link)
    link.open_binary()
    link.login_binary()
    assert link.sent() == [
        payload(2, 5, name="ws://localhost:6020/deepstream-v3"), payload(3, 2, data={"username": "test"}),
        payload(4, 3, names=["cmd"], cid="0"), payload(4, 2, name="temp", data=21.5),
        payload(4, 2, name="note", data={"a": [1, None], "b": "x"}), payload(5, 23, names=["dev"], cid="1"),
        payload(4, 2, name="temp", data=22)]
    assert link.errors == []


def test_what_a_reconnect_makes_again_is_not_converted():
    # the restore's SUBSCRIBEANDHEAD (binary only) waits when the link dies again at once
    auto = AutoLink(TEXT_GUESS)
    auto.open_binary()
    auto.login_binary()
    auto.client.record.get_record("cfg")
    auto.receive(payload(5, 4, name="cfg", data={"a": 1}, version=1))  # READ_RESPONSE
    auto.drop()
    auto.reconnect()
    auto.open_binary()
    auto.conn.receive_binary(auth_ok())  # OPEN: the restore queues SUBSCRIBEANDHEAD ...
    auto.conn.socket_closed("connection lost")  # ... and the link is gone before it is sent
    auto.frames = []
    auto.reconnect()
    auto.open_text()  # converted, it would be a MESSAGE_DROPPED: text has no such message
    auto.login()
    assert "R|CR|cfg" in text_messages(auto.sent())
    assert auto.errors == []


def test_a_call_made_before_is_answered_on_the_protocol_found():
    auto = AutoLink(BINARY_GUESS)
    got = []
    cid = auto.client.rpc.make("add", 1, lambda err, data: got.append((err, data)))
    auto.open_text()
    auto.login()
    assert text_messages(auto.sent()) == ["P|REQ|add|%s|N1" % cid]
    auto.receive("P|A|REQ|add|%s+" % cid)
    auto.receive("P|RES|add|%s|N2+" % cid)  # read in place, compared with the id as text
    assert got == [(None, 2)]
    assert auto.errors == []


def test_a_replay_cut_short_goes_on_after_the_switch():
    # the outbox waits behind what the ring held when its replay began, counted in bytes:
    # re-encoded, that count must follow (shorter, the outbox would never go on; longer,
    # it would go before what waited)
    auto = AutoLink(TEXT_GUESS, outbox_file=fresh_outbox())
    try:
        auto.open_binary()
        auto.login_binary()
        auto.drop()
        for i in range(3):
            auto.client.event.emit("o", i)  # into the outbox
        for i in range(20):  # behind the frame buffer, in the ring
            auto.client.presence.get_all(["u%d/%s" % (i, "x" * 60)], len)
        auto.reconnect()
        auto.open_binary()
        conn = auto.conn
        conn.receive_binary(auth_ok())  # OPEN: the ring's messages go first, then the outbox ...
        assert conn._replay is not None and conn._replay_after
        conn.socket_closed("connection lost")  # ... but the link is gone before they are written
        auto.frames = []
        auto.reconnect()
        auto.open_text()
        auto.login()
        sent = text_messages(auto.sent())
        assert len(sent) == 23 and all(m.startswith("U|Q|") for m in sent[:20])  # what waited ...
        assert sent[20:] == ["E|EVT|o|N0", "E|EVT|o|N1", "E|EVT|o|N2"]  # ... then the rest of the outbox
        assert not conn._outbox._file_size()  # all of it handed to the socket: deleted
    finally:
        fresh_outbox()
