"""The connection state machine, driven through deepstream.testing.FakeLink."""
import json

from deepstream.testing import FakeLink


def states(link):
    seen = []
    link.client.on("connectionStateChanged", seen.append)
    return seen


def test_url_rules():
    assert FakeLink("localhost:7777").opened == [] and FakeLink("localhost:7777").conn.url == "ws://localhost:7777/deepstream"
    assert FakeLink("ws://h:1/deepstream-v3").conn.url == "ws://h:1/deepstream-v3"
    assert FakeLink("wss://h/").conn.url == "wss://h/"
    assert FakeLink("h:1", path="/x").conn.url == "ws://h:1/x"
    for bad in ("http://h:1", "ftp://h", ""):
        try:
            FakeLink(bad)
        except ValueError:
            continue
        raise AssertionError("accepted " + bad)


def test_handshake_and_login_alone_in_frame():
    link = FakeLink()
    seen = states(link)
    link.client.event.subscribe("news", lambda d: None)
    got = []
    link.client.login({"username": "u", "password": "p"}, lambda ok, data: got.append((ok, data)))
    link.open()
    frames = link.sent()
    assert len(frames) == 1 and frames[0].startswith("A|REQ|{") and frames[0].endswith("}+")
    assert json.loads(frames[0][6:-1]) == {"username": "u", "password": "p"}
    link.receive("A|A|O{\"x\":1}+")
    assert got == [(True, {"x": 1})]
    assert link.sent() == ["E|S|news+"]
    assert seen == ["AWAITING_CONNECTION", "AWAITING_AUTHENTICATION", "AUTHENTICATING", "OPEN"]


def test_queued_messages_go_out_in_one_frame_after_login():
    link = FakeLink()
    link.open()
    link.client.event.subscribe("a", lambda d: None)
    link.client.event.subscribe("b", lambda d: None)
    link.client.event.emit("c", 1)
    link.login()
    assert link.sent()[-1] == "E|S|a+E|S|b+E|EVT|c|N1+"


def test_challenge_is_answered_with_original_url():
    link = FakeLink("localhost:7777")
    seen = states(link)
    link.open(accept=False)
    link.receive("C|CH+")
    assert link.sent() == ["C|CHR|ws://localhost:7777/deepstream+"]
    assert seen[-1] == "CHALLENGING"
    link.receive("C|A+")
    assert seen[-1] == "AWAITING_AUTHENTICATION"


def test_redirect_and_reject():
    link = FakeLink("localhost:7777")
    link.open(accept=False)
    link.receive("C|RED|ws://localhost:8888/deepstream+")
    assert link.conn.take_open_request() == "ws://localhost:8888/deepstream"
    link.conn.socket_opened()
    link.receive("C|REJ+")
    assert link.client.get_connection_state() == "CLOSED"
    link.client.login({"username": "x"})
    assert link.errors[-1] == ("IS_CLOSED", "this client's connection was closed", "X")


def test_login_failure_and_too_many_attempts():
    link = FakeLink()
    link.open()
    got = []
    link.client.login({"username": "u"}, lambda ok, data: got.append((ok, data)))
    link.receive("A|E|INVALID_AUTH_DATA|Sinvalid user+")
    assert got == [(False, "invalid user")]
    assert link.client.get_connection_state() == "AWAITING_AUTHENTICATION"
    link.receive("A|E|TOO_MANY_AUTH_ATTEMPTS+")
    assert got[-1] == (False, None)
    link.drop()  # the server closes: no reconnect
    assert link.client.get_connection_state() == "CLOSED"
    assert link.conn.next_deadline() is None


def test_ping_pong_and_heartbeat_loss():
    link = FakeLink(heartbeat_interval=500)
    link.open()
    link.login()
    link.sent()
    link.receive("C|PI+")
    assert link.sent() == ["C|PO+"]
    link.advance(1600)
    assert ("connectionError", "heartbeat not received in the last 1000 milliseconds", "C") in link.errors
    assert link.client.get_connection_state() == "RECONNECTING"


def test_reconnect_backoff_and_resubscribe():
    link = FakeLink(reconnect_interval_increment=1000, reconnect_jitter=0)
    link.client.event.subscribe("news", lambda d: None)
    link.open()
    link.login()
    link.sent()
    link.drop()
    assert link.client.get_connection_state() == "RECONNECTING"
    link.advance(0)
    assert link.conn.take_open_request() == "ws://localhost:6020/deepstream"
    link.drop()  # the retry fails
    link.advance(999)
    assert link.conn.take_open_request() is None
    link.advance(1)
    assert link.conn.take_open_request() is not None
    link.conn.socket_opened()
    link.receive("C|A+")
    assert link.sent() == ['A|REQ|{"username":"test"}+']  # credentials re-sent by themselves
    link.receive("A|A+")
    assert link.sent() == ["E|S|news+"]


def test_max_reconnect_attempts():
    link = FakeLink(max_reconnect_attempts=1, reconnect_interval_increment=10)
    link.open()
    link.drop()
    link.advance(0)
    link.conn.take_open_request()
    link.drop()
    assert link.client.get_connection_state() == "CLOSED"
    assert link.errors[-1][0] == "MAX_RECONNECTION_ATTEMPTS_REACHED"


def test_close_cancels_every_timer_including_reconnect():
    link = FakeLink()
    link.open()
    link.drop()
    assert link.conn.next_deadline() is not None  # a reconnect is pending
    link.client.close()
    assert link.conn.next_deadline() is None
    link.advance(60000)
    assert link.conn.take_open_request() is None
    assert link.client.get_connection_state() == "CLOSED"


def test_close_while_open_closes_socket():
    link = FakeLink()
    link.open()
    link.login()
    link.client.event.subscribe("x", lambda d: None)
    link.client.close()
    assert link.conn.want_close is True
    link.pump()
    assert link.client.get_connection_state() == "CLOSED"
    link.advance(10000)
    assert link.errors == []


def test_bad_messages_raise_reference_errors_and_keep_working():
    link = FakeLink()
    link.open()
    link.login()
    got = []
    link.client.event.subscribe("news", got.append)
    link.receive("hello+E|XX|a+Z|S|a+E|EVT|news|Zbad+E|EVT|news|O{bad+")
    events = [e[0] for e in link.errors]
    msgs = [e[1] for e in link.errors]
    assert events == ["MESSAGE_PARSE_ERROR"] * 5, link.errors
    assert msgs[:4] == ["Insufficiant message parts", "Unknown action XX",
                        "Received message for unknown topic Z", "UNKNOWN_TYPE (Zbad)"]
    link.receive("E|EVT|news|Sok+")
    assert got == ["ok"]


def test_empty_frame_ignored():
    link = FakeLink()
    link.open()
    link.receive("")
    assert link.errors == []


def test_callback_exception_does_not_kill_client():
    link = FakeLink()
    link.open()
    link.login()

    def boom(data):
        raise RuntimeError("user bug")
    link.client.event.subscribe("news", boom)
    got = []
    link.client.event.subscribe("other", got.append)
    link.receive("E|EVT|news|S1+E|EVT|other|S2+")
    assert link.errors[0][0] == "CALLBACK_ERROR" and "user bug" in link.errors[0][1]
    assert got == ["2"]


def test_unknown_option_refused():
    try:
        FakeLink(subscriptionTimeout=5)
    except ValueError as err:
        assert "subscriptionTimeout" in str(err)
        return
    raise AssertionError("accepted a camelCase option")


def test_heartbeat_verdict_leaves_open_at_once_and_keeps_emits():
    link = FakeLink(heartbeat_interval=500, reconnect_jitter=0, reconnect_interval_increment=1000)
    link.open()
    link.login()
    link.conn.want_close = False
    link.conn._socket_open = True
    # the driver is still doing the close handshake on the dead link:
    link.pump = lambda: None
    link.advance(1600)
    assert link.client.get_connection_state() == "RECONNECTING"
    link.client.event.emit("r", 1)
    assert link.conn.take_frame() == 0  # queued, not written into the dead socket
    assert link.conn.queued(4, 2, "r") == 1  # EVENT EMIT about r


def test_auth_answers_nobody_asked_for_do_not_change_the_state():
    link = FakeLink()
    link.open()
    link.login()
    link.receive("A|E|INVALID_AUTH_DATA|Sx+")
    link.receive("A|A+")
    assert link.client.get_connection_state() == "OPEN"
    assert [e[0] for e in link.errors] == ["UNSOLICITED_MESSAGE", "UNSOLICITED_MESSAGE"]
    link.sent()
    link.receive("C|CH+")  # a challenge once logged in
    assert link.client.get_connection_state() == "OPEN" and link.sent() == []
    assert [e[0] for e in link.errors] == ["UNSOLICITED_MESSAGE"] * 3
    fresh = FakeLink()
    fresh.open()
    fresh.receive("A|A+")  # no login was sent
    assert fresh.client.get_connection_state() == "AWAITING_AUTHENTICATION"


def test_auth_answers_before_the_handshake_go_to_a_pending_login():
    for accept_first in (False, True):  # C|A never came / a challenge is still open
        link = FakeLink()
        link.open(accept=False)
        if accept_first:
            link.receive("C|CH+")
        got = []
        link.client.login({"username": "u"}, lambda ok, data: got.append((ok, data)))
        link.receive("A|E|INVALID_AUTH_DATA|Sbad+")
        assert got == [(False, "bad")] and link.errors == []
        assert link.client.get_connection_state() == "AWAITING_AUTHENTICATION"
    link = FakeLink()
    link.open(accept=False)
    got = []
    link.client.login({"username": "u"}, lambda ok, data: got.append((ok, data)))
    link.receive("A|A|O{\"id\":1}+")
    assert got == [(True, {"id": 1})] and link.errors == []
    assert link.client.get_connection_state() == "OPEN"


def test_auth_answers_without_login_before_the_handshake_are_unsolicited():
    link = FakeLink()
    link.open(accept=False)
    link.receive("A|E|INVALID_AUTH_DATA|Sbad+")
    link.receive("A|A+")
    assert [e[:2] for e in link.errors] == [("UNSOLICITED_MESSAGE", "A|E|INVALID_AUTH_DATA"),
                                            ("UNSOLICITED_MESSAGE", "A|A")]
    assert link.client.get_connection_state() == "AWAITING_CONNECTION"
    link.receive("C|A+")
    link.receive("A|E|INVALID_AUTH_DATA|Sbad+")  # accepted, no login: still none asked
    assert len(link.errors) == 3 and link.client.get_connection_state() == "AWAITING_AUTHENTICATION"


def test_frames_hold_at_most_a_kilobyte_of_whole_messages():
    link = FakeLink()
    link.open()
    link.login()
    link.sent()
    for _ in range(30):
        link.client.event.emit("big", "x" * 90)  # 102 bytes per message: 9 fit in 1 KB
    frames = link.sent()
    assert [f.count("E|EVT|big|S") for f in frames] == [9, 9, 9, 3]
    assert all(len(f) <= 1024 and f.endswith("+") for f in frames)


def test_out_of_memory_for_the_send_queue_is_an_error_event():
    link = FakeLink()
    link.open()
    link.login()
    link.drop()
    import deepstream.ring

    class NoRoom:
        def __init__(self, size, framed=False):
            raise MemoryError()
    real, deepstream.ring.Ring = deepstream.ring.Ring, NoRoom
    try:
        for _ in range(11):  # the frame buffer takes 10: the ring is needed for the 11th
            link.client.event.emit("r", "x" * 90)  # must not raise
    finally:
        deepstream.ring.Ring = real
    assert link.errors[-1] == ("MESSAGE_DROPPED", "out of memory for the send queue (max_queued_bytes 8192): "
                               "dropping the oldest messages", "C")


def _outage_on_a_scattered_heap(grows):
    """40 emits of 100 bytes while offline, with no free block over 2 KB when
    the ring is made; `grows`: one turns up by the time the ring is full."""
    link = FakeLink()
    link.open()
    link.login()
    link.sent()
    link.drop()
    import deepstream.ring

    real = deepstream.ring.Ring

    class Scattered(real):
        def __init__(self, size, framed=False):
            if size > 2048:
                raise MemoryError()
            real.__init__(self, size, framed)

        def grow(self, size):
            if not grows:
                raise MemoryError()
            real.grow(self, size)
    deepstream.ring.Ring = Scattered
    try:
        for i in range(40):  # 10 fit the frame buffer, the rest need the ring
            link.client.event.emit("r", "%02d" % i + "x" * 88)
    finally:
        deepstream.ring.Ring = real
    size = link.client._conn._ring.size
    errors = list(link.errors)
    link.open()
    link.login()
    got = [int(m[len("E|EVT|r|S"):][:2]) for f in link.sent() for m in f.split("+") if m.startswith("E|EVT|r|S")]
    return size, errors, got


def test_a_scattered_heap_gets_a_smaller_send_queue_not_none():
    size, errors, got = _outage_on_a_scattered_heap(grows=False)
    assert size == 2048
    assert errors[-1] == ("MESSAGE_DROPPED", "send queue full (2048 of max_queued_bytes 8192: no larger "
                          "free block on the heap): dropping the oldest messages", "C")
    assert got == list(range(40 - len(got), 40)) and len(got) >= 25, got  # the newest, in order


def test_a_send_queue_made_small_grows_when_the_heap_allows():
    size, errors, got = _outage_on_a_scattered_heap(grows=True)
    assert size == 8192 and errors == [] and got == list(range(40)), (size, errors, got)


def test_no_send_queue_at_all_drops_what_the_frame_buffer_cannot_hold():
    link = FakeLink(max_queued_bytes=0)
    link.open()
    link.login()
    link.drop()
    for _ in range(11):  # the frame buffer takes 10 of these; there is no ring for the 11th
        link.client.event.emit("r", "x" * 90)  # must not raise
    assert link.errors[-1] == ("MESSAGE_DROPPED", "a message of 100 bytes does not fit max_queued_bytes 0: "
                               "dropping the oldest messages", "C")


def test_unused_topics_do_not_load_their_handlers():
    link = FakeLink()
    link.open()
    link.login()
    link.receive("R|A|S|x+U|PNJ|bob+")
    assert link.client._record is None and link.client._presence is None
    assert link.errors == [("UNSOLICITED_MESSAGE", "R|A|S|x", "R"), ("UNSOLICITED_MESSAGE", "U|PNJ|bob", "U")]
    link.receive("P|REQ|nothere|c1|N1+")  # a stray request is still rejected
    assert link.sent()[-1] == "P|REJ|nothere|c1+"


def test_messages_after_close_are_dropped():
    link = FakeLink()
    link.open(accept=False)
    got = []
    link.client.event.subscribe("n", got.append)
    link.client.login({"username": "u"})
    link.receive("C|A+")
    link.client.close()  # while AUTHENTICATING; the close handshake is under way
    link.conn.receive_text("A\x1fA\x1eE\x1fEVT\x1fn\x1fS1\x1e")
    assert link.errors == [] and got == []
    assert link.client.get_connection_state() == "CLOSED"


def test_a_message_split_across_frames_is_not_glued():
    # docs/PROTOCOL.md: every frame is complete; halves are refused, never joined
    link = FakeLink()
    link.open()
    link.login()
    got = []
    link.client.event.subscribe("news", got.append)
    link.conn.receive_text("E\x1fEV")
    link.conn.receive_text("T\x1fnews\x1fShi\x1e")
    assert got == []
    assert [e[0] for e in link.errors] == ["MESSAGE_PARSE_ERROR", "MESSAGE_PARSE_ERROR"]
    link.receive("E|EVT|news|Sok+")  # the next whole message is fine
    assert got == ["ok"]
