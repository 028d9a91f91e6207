"""Offline behaviour of the core: bounded queue, drop counting, no double
subscriptions after a reconnect, confirmed events, durable outbox."""
import os

from deepstream.testing import FakeLink

OUTBOX = "/tmp/ds-test-outbox-%d.bin" % os.getpid() if hasattr(os, "getpid") else "/tmp/ds-test-outbox.bin"


def online(**options):
    options.setdefault("reconnect_jitter", 0)
    link = FakeLink(**options)
    link.open()
    link.login()
    link.sent()
    return link


def reconnect(link):
    link.advance(0)
    link.open()
    link.receive("A|A+")


def test_events_emitted_offline_go_out_in_order_after_login():
    link = online()
    link.drop()
    for i in range(3):
        link.client.event.emit("r", i)
    assert link.sent() == []
    reconnect(link)
    assert link.sent()[1:] == ["E|EVT|r|N0+E|EVT|r|N1+E|EVT|r|N2+"]


def _events(frames):
    """The numbers of the E|EVT|r events in frames, in order."""
    out = []
    for frame in frames:
        for msg in frame.split("+"):
            if msg.startswith("E|EVT|r|S"):
                out.append(int(msg[9:].split(":")[0]))
    return out


def _emit(link, i):
    link.client.event.emit("r", "%d:%s" % (i, "x" * (91 - len(str(i)))))  # 102 bytes on the wire


def test_offline_queue_drops_oldest_and_counts():
    # the frame buffer holds 9 of these, the ring (306 bytes) 3 more
    link = online(max_queued_bytes=306)
    link.drop()
    for i in range(15):
        _emit(link, i)
    assert [e[0] for e in link.errors] == ["MESSAGE_DROPPED"]  # once, when dropping starts
    reconnect(link)
    assert _events(link.sent()) == list(range(3, 15))
    assert link.errors[-1] == ("MESSAGE_DROPPED", "3 messages were dropped from the send queue", "C")


def test_offline_queue_heap_is_the_ring_and_the_frame_buffer():
    link = online(max_queued_bytes=1000)
    link.drop()
    for i in range(100):
        _emit(link, i)
    assert link.conn._ring.size == 1000 and len(link.conn.out) == 14 + 1024
    reconnect(link)
    sent = _events(link.sent())
    assert sent == list(range(100 - len(sent), 100)) and len(sent) == 9 + 1000 // 102


def test_a_subscription_dropped_from_a_full_queue_is_made_again_after_login():
    link = FakeLink(max_queued_bytes=210)  # two events and, after login, E|S|a
    link.open()
    link.client.event.subscribe("a", lambda d: None)  # E|S|a is the oldest waiting message
    for i in range(12):
        _emit(link, i)
    link.login()
    frames = link.sent()
    assert _events(frames) == list(range(1, 12))
    assert "".join(frames).count("E|S|a+") == 1 and frames[-1].endswith("E|S|a+")


def test_subscribe_made_offline_is_sent_once_after_reconnect():
    link = online()
    link.client.event.subscribe("old", lambda d: None)
    link.sent()
    link.drop()
    link.client.event.subscribe("new", lambda d: None)
    link.client.event.unsubscribe("old")
    reconnect(link)
    assert link.sent()[1:] == ["E|S|new+"]


def test_reconnect_jitter_stays_within_bounds():
    for _ in range(20):
        link = online(reconnect_interval_increment=1000, reconnect_jitter=25)
        link.drop()
        link.advance(0)
        link.conn.take_open_request()
        link.drop()  # second attempt: 1000 ms plus up to 25 %
        link.advance(999)
        assert link.conn.take_open_request() is None
        link.advance(251)
        assert link.conn.take_open_request() is not None


def test_confirm_events_resends_what_a_dead_link_swallowed():
    link = online(confirm_events=True)
    link.client.event.emit("r", 1)
    assert link.sent() == ["E|EVT|r|N1+C|PI+"]
    link.receive("C|PO+")  # confirmed
    link.client.event.emit("r", 2)
    link.client.event.emit("r", 3)
    assert link.sent() == ["E|EVT|r|N2+E|EVT|r|N3+C|PI+"]
    link.client.event.emit("r", 4)
    assert link.sent() == ["E|EVT|r|N4+"]  # one ping in flight at a time
    link.drop()  # the link died before the pong: 2, 3 and 4 may be lost
    link.client.event.emit("r", 5)
    reconnect(link)
    assert link.sent()[1:] == ["E|EVT|r|N2+E|EVT|r|N3+E|EVT|r|N4+E|EVT|r|N5+C|PI+"]


def test_confirm_events_says_so_when_a_full_queue_forgets_unconfirmed_events():
    # a black hole: events go out, no pong comes; the ring keeps 3 for resending
    link = online(confirm_events=True, max_queued_bytes=306)
    for i in range(5):
        _emit(link, i)
        link.sent()
    assert link.errors == [("MESSAGE_DROPPED", "send queue full (max_queued_bytes 306): events sent but not "
                            "yet confirmed are no longer kept to send again", "C")]  # 0 and 1: said once
    link.drop()
    reconnect(link)
    assert _events(link.sent()) == [2, 3, 4]
    assert link.errors[-1] == ("MESSAGE_DROPPED", "2 messages were dropped from the send queue", "C")


def test_confirm_events_pong_covers_only_what_preceded_the_ping():
    link = online(confirm_events=True)
    link.client.event.emit("r", 1)
    link.sent()
    link.client.event.emit("r", 2)
    link.sent()
    link.receive("C|PO+")
    assert link.sent() == ["C|PI+"]  # event 2 gets its own confirmation
    link.receive("C|PO+")
    assert not link.conn.pending()  # nothing left to confirm


def _remove(path):
    try:
        os.remove(path)
    except OSError:
        pass


def _exists(path):
    try:
        os.stat(path)
        return True
    except OSError:
        return False


def test_outbox_replayed_once_after_login():
    _remove(OUTBOX)
    link = online(outbox_file=OUTBOX)
    link.drop()
    link.client.event.emit("r", 1)
    link.client.event.emit("r", 2)
    second = FakeLink(outbox_file=OUTBOX)
    second.open()
    second.login()
    assert second.sent()[-1] == "E|EVT|r|N1+E|EVT|r|N2+"
    assert not _exists(OUTBOX)
    second.drop()
    second.advance(10000)
    second.open()
    second.receive("A|A+")
    assert second.sent()[1:] == []  # nothing sent twice


def test_outbox_torn_tail_is_skipped_with_an_error():
    _remove(OUTBOX)
    link = online(outbox_file=OUTBOX)
    link.drop()
    link.client.event.emit("r", 1)
    link.client.event.emit("r", 2)
    with open(OUTBOX, "rb") as f:
        data = f.read()
    with open(OUTBOX, "wb") as f:
        f.write(data[:-3])  # power lost in the middle of the second write
    second = FakeLink(outbox_file=OUTBOX)
    second.open()
    second.login()
    assert second.sent()[-1] == "E|EVT|r|N1+"
    assert second.errors[0][0] == "OUTBOX_CORRUPT"
    assert not _exists(OUTBOX)


def test_outbox_full_counts_drops():
    _remove(OUTBOX)
    link = online(outbox_file=OUTBOX, outbox_max_bytes=40)
    link.drop()
    for i in range(5):
        link.client.event.emit("r", i)  # 11 bytes + 6 header each: two fit
    assert [e[0] for e in link.errors] == ["MESSAGE_DROPPED"]
    reconnect(link)
    assert link.sent()[1:] == ["E|EVT|r|N0+E|EVT|r|N1+"]
    assert link.errors[-1][1] == "3 messages were dropped from the send queue"
    _remove(OUTBOX)


def test_queued_sees_the_frame_buffer_and_the_ring_whole_messages_only():
    link = online(max_queued_bytes=400)  # nothing is dropped
    link.drop()
    conn = link.conn
    for i in range(12):  # 102 bytes each: 9 in the frame buffer, the rest in the ring
        _emit(link, i)
    link.client.event.emit("x", "a")
    link.client.event.emit("rx", "a")  # ends like E|EVT|x|Sa: not about x
    emit = (4, 2)  # EVENT EMIT in the message model
    assert conn.queued(*emit, "x") == 1
    assert conn.queued(*emit, "r") == 12  # 9 in the frame buffer, 3 in the ring
    assert conn.queued(*emit, None) == 14
    assert conn.queued(*emit, "none") == 0
    assert conn.queued(4, 3, None) == 0  # no subscription waits


class _NoRoom:
    """Stands in for deepstream.offline in sys.modules: importing anything from it
    fails as MicroPython's import did at 112K (issue 21: the interned-name table
    had to grow by a 7 KB block the scattered heap no longer had)."""

    def __getattr__(self, name):
        raise MemoryError("memory allocation failed (simulated)")


def _without_room_for_offline(test):
    def run():
        import sys
        before = sys.modules.get("deepstream.offline")
        sys.modules["deepstream.offline"] = _NoRoom()
        try:
            test()
        finally:
            if before is None:
                sys.modules.pop("deepstream.offline", None)
            else:
                sys.modules["deepstream.offline"] = before
    return run


def test_login_answer_loads_no_outage_code_when_only_a_path_set_waited():
    # issue 21: the published "Record Connectivity" sequence; the frame that waited
    # holds no (un)subscription, so the login answer restores without offline.py
    link = online()
    rec = link.client.record.get_record("connectionRecord")
    link.receive("R|A|S|connectionRecord+")
    link.receive('R|R|connectionRecord|100|{"pets":[{"name":"Ruffles"}]}+')
    link.client.record.listen("recordPrefix/.*", lambda name, found, response: None)
    link.receive("R|A|L|recordPrefix/.*+")
    link.sent()
    link.drop()
    rec.set("pets.0.name", "Max")

    @_without_room_for_offline
    def relogin():
        reconnect(link)
    relogin()
    assert link.client.get_connection_state() == "OPEN"
    assert link.sent()[1:] == ["R|P|connectionRecord|101|pets.0.name|SMax+R|CR|connectionRecord+"
                               "R|L|recordPrefix/.*+"]
    assert link.errors == []


def test_out_of_memory_restoring_after_a_login_leaves_the_link_and_restores_on_the_next():
    # issue 21: the MemoryError used to end as "out of memory handling a message",
    # the client OPEN without the subscriptions made before the outage
    link = online()
    link.client.event.subscribe("a", lambda data: None)
    link.receive("E|A|S|a+")
    link.sent()
    link.drop()
    link.client.event.subscribe("b", lambda data: None)  # queued: restore must drop this copy
    states = []
    link.client.on("connectionStateChanged", states.append)

    @_without_room_for_offline
    def relogin():
        reconnect(link)
    relogin()
    assert link.errors == [("connectionError", "out of memory restoring the subscriptions after the login", "C")]
    assert states == ["AWAITING_CONNECTION", "AWAITING_AUTHENTICATION", "AUTHENTICATING", "OPEN", "ERROR",
                      "RECONNECTING"]
    assert link.sent()[1:] == []
    link.advance(3999)  # one reconnect interval (4000 ms, no jitter)
    assert link.conn.take_open_request() is None
    link.advance(1)
    link.open()
    link.receive("A|A+")
    assert link.sent()[1:] == ["E|S|a+E|S|b+"]
    assert link.client.get_connection_state() == "OPEN"
