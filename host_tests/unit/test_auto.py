"""protocol="auto": the client encodes by the URL's guess until the endpoint
tells (a text one says C|A, a binary one stays silent for 500 ms). Here the
URL guesses binary and the endpoint speaks text: what waits is re-encoded,
in order, the frame buffer's and the ring's, or, without the heap for it,
dropped and counted; the old codec is unloaded. (A binary endpoint:
test_auto_binary.py; each link asked: test_auto_links.py; records, a call,
an outbox replay cut short: auto_cases.py; every message kind:
test_convert.py. Files of their own: each must fit the heap of the
MicroPython unit runs.)"""
from auto_helpers import BINARY_GUESS, AutoLink, failing, text_messages


def test_the_ring_behind_the_frame_buffer_is_converted_in_order():
    auto = AutoLink(BINARY_GUESS)
    for i in range(40):  # about 2.4 KB: the frame buffer (1 KB) and the ring behind it
        auto.client.event.emit("r", "%d:%s" % (i, "x" * 40))
    assert auto.conn._ring is not None and auto.conn._ring.used
    auto.open_text()
    auto.login()
    got = [int(m[9:].split(":")[0]) for m in text_messages(auto.sent())]  # E|EVT|r|S<i>:x...
    assert got == list(range(40))
    assert auto.errors == []


def test_the_codec_of_the_wrong_guess_is_unloaded():
    import sys
    auto = AutoLink(BINARY_GUESS)
    auto.client.event.emit("t", 1)
    auto.open_text()
    assert "deepstream.binary_codec" not in sys.modules  # nothing refers to it: its code is garbage
    assert "deepstream.convert" not in sys.modules


def test_no_room_to_re_encode_drops_the_rest_and_counts_it():
    undo = failing("message", 1)
    try:
        auto = AutoLink(BINARY_GUESS)
        for i in range(3):
            auto.client.event.emit("t", i)
        auto.open_text()
    finally:
        undo()
    assert auto.errors == [("MESSAGE_DROPPED", "out of memory re-encoding the send queue for the text protocol", "C")]
    auto.login()
    assert text_messages(auto.sent()) == ["E|EVT|t|N0"]
    assert auto.errors[-1] == ("MESSAGE_DROPPED", "2 messages were dropped from the send queue", "C")


def test_no_room_to_copy_the_queue_drops_it_never_sends_the_old_protocol():
    undo = failing("_take", 0)
    try:
        auto = AutoLink(BINARY_GUESS)
        for i in range(30):  # the frame buffer and the ring
            auto.client.event.emit("t", "%d:%s" % (i, "x" * 40))
        auto.open_text()
    finally:
        undo()
    auto.login()
    assert auto.sent() == ['A|REQ|{"username":"test"}+']  # no binary message on the text link
    assert auto.errors[-1] == ("MESSAGE_DROPPED", "30 messages were dropped from the send queue", "C")


def test_no_room_to_switch_drops_the_link_and_the_next_one_asks_again():
    undo = failing("switch", 0)
    try:
        auto = AutoLink(BINARY_GUESS)
        auto.client.event.emit("t", 1)
        auto.open_text()
    finally:
        undo()
    assert auto.errors == [("connectionError", "out of memory switching to the text protocol", "C")]
    assert auto.client.get_connection_state() == "RECONNECTING"
    auto.reconnect()
    auto.open_text()
    auto.login()
    assert text_messages(auto.sent()) == ["E|EVT|t|N1"]
