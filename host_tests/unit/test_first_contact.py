"""First contact with a server that is not (or not yet) a deepstream text endpoint:
the handshake timer (option handshake_timeout), a binary frame, an HTTP answer other
than 101, a connection closed instead of an answer. The same cases against the real
7.0.2 server are in host_tests/test_first_contact.py."""
from deepstream.testing import FakeLink
from deepstream.transport import pump
from deepstream.ws import OP_BINARY, WebSocket, WebSocketError, frame_header

SETUP = "see README 'Server set-up'"


def handshake_error(path, data):
    """The WebSocketError text of an upgrade to `path` answered with `data`."""
    ws = WebSocket()
    ws.handshake_request("h", 80, path)
    try:
        ws.receive_handshake(data)
    except WebSocketError as err:
        return str(err)
    raise AssertionError("no WebSocketError for %r" % data)


def states(link):
    seen = []
    link.client.on("connectionStateChanged", seen.append)
    return seen


def connection_errors(link):
    return [e[1] for e in link.errors if e[0] == "connectionError"]


def test_no_deepstream_message_fails_the_attempt():
    link = FakeLink("ws://h:1/deepstream", handshake_timeout=1000, reconnect_jitter=0)
    seen = states(link)
    link.open(accept=False)  # upgraded, and then nothing: a binary endpoint waits like this
    link.advance(999)
    assert link.errors == [] and link.client.get_connection_state() == "AWAITING_CONNECTION"
    link.advance(1)
    (text,) = connection_errors(link)
    assert text.startswith("ws://h:1/deepstream: no deepstream message within 1000 ms"), text
    assert "binary" in text and "ws-text" in text and SETUP in text, text
    # the socket was closed (FakeLink acts as the driver) and a reconnect is on its way
    assert seen == ["AWAITING_CONNECTION", "ERROR", "RECONNECTING"]
    link.advance(1)
    assert link.conn.take_open_request() == "ws://h:1/deepstream"


def test_the_texts_are_not_kept_loaded():
    import sys
    for name in ("deepstream.first_contact", "deepstream.ws_handshake"):
        sys.modules.pop(name, None)  # another test may have imported them itself
    link = FakeLink(handshake_timeout=100)
    link.open(accept=False)
    link.advance(100)
    assert len(connection_errors(link)) == 1
    assert "deepstream.first_contact" not in sys.modules and "deepstream.ws_handshake" not in sys.modules


def test_first_message_cancels_the_timer():
    for first in ("C|A+", "C|CH+", "C|PI+"):
        link = FakeLink(handshake_timeout=1000)
        link.open(accept=False)
        link.advance(500)
        link.receive(first)
        link.advance(5000)
        assert connection_errors(link) == [], (first, link.errors)


def test_default_is_five_seconds_and_zero_turns_it_off():
    link = FakeLink()
    link.open(accept=False)
    link.advance(4999)
    assert connection_errors(link) == []
    link.advance(1)
    assert len(connection_errors(link)) == 1
    link = FakeLink(handshake_timeout=0, heartbeat_interval=600000)
    link.open(accept=False)
    link.advance(60000)
    assert link.errors == [] and link.client.get_connection_state() == "AWAITING_CONNECTION"


def test_failed_handshakes_count_as_failed_attempts():
    """A server that upgrades but never speaks deepstream is given up like one that
    refuses connections (socket_opened used to reset the attempt count)."""
    link = FakeLink(handshake_timeout=100, max_reconnect_attempts=3, reconnect_interval_increment=50,
                    reconnect_jitter=0)
    for _ in range(4):
        link.open(accept=False)
        link.advance(400)
    assert link.client.get_connection_state() == "CLOSED"
    assert [e[0] for e in link.errors] == ["connectionError"] * 4 + ["MAX_RECONNECTION_ATTEMPTS_REACHED"]
    assert link.conn.take_open_request() is None


def test_a_deepstream_message_resets_the_attempt_count():
    link = FakeLink(handshake_timeout=100, max_reconnect_attempts=2, reconnect_interval_increment=50,
                    reconnect_jitter=0)
    for _ in range(6):
        link.open(accept=False)
        link.receive("C|A+")  # this attempt succeeded ...
        link.drop()  # ... and then the link was lost
        link.advance(10)
    assert link.client.get_connection_state() == "RECONNECTING"
    assert [e[0] for e in link.errors] == []


def test_a_timer_after_close_stays_quiet():
    link = FakeLink(handshake_timeout=100)
    link.open(accept=False)
    link.client.close()
    link.advance(1000)
    assert link.errors == []


def feed_binary(link, payload=b"\x00\x01\x02"):
    ws = WebSocket()
    ws.receive_data(frame_header(OP_BINARY, len(payload), False) + payload)
    out = []
    assert pump(link.conn, ws, out) is True
    link.pump()


def test_binary_frame_names_the_binary_protocol():
    link = FakeLink("ws://h:1/deepstream")
    seen = states(link)
    link.open(accept=False)
    feed_binary(link)
    feed_binary(link)  # the socket is closing: one error per attempt
    assert connection_errors(link) == [
        "ws://h:1/deepstream: this endpoint speaks deepstream's binary protocol (a binary frame arrived): "
        "use protocol='binary' (the default for any path but /deepstream-v3)"]
    assert seen == ["AWAITING_CONNECTION", "ERROR", "RECONNECTING"]
    link.advance(10000)  # the handshake timer went with the attempt
    assert len(link.errors) == 1


def test_binary_frame_on_an_open_link_drops_it():
    link = FakeLink()
    link.open()
    link.login()
    feed_binary(link)
    assert len(connection_errors(link)) == 1
    assert link.client.get_connection_state() == "RECONNECTING"


def test_http_status_other_than_101_names_status_line_and_path():
    text = handshake_error("/deepstream-v3", b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n")
    assert "'HTTP/1.1 404 Not Found'" in text and "/deepstream-v3" in text and SETUP in text, text


def test_connection_closed_instead_of_an_answer_names_the_path():
    text = handshake_error("/deepstream-v3", b"")
    assert text.startswith("the server closed the connection without answering the websocket "
                           "upgrade of /deepstream-v3: no websocket endpoint at this path?"), text
    assert SETUP in text, text
    ws = WebSocket()
    ws.handshake_request("h", 80, "/x")
    assert ws.receive_handshake(b"HTTP/1.1 101 Swi") is None
    try:
        ws.receive_handshake(memoryview(b""))
    except WebSocketError as err:
        assert str(err) == "connection closed in the middle of the upgrade response for /x", err
    else:
        raise AssertionError("no error")
