"""protocol="auto", the URL guessing text, the endpoint speaking binary: what
the binary protocol cannot carry is reported, and outbox records stored as
text are converted as they are replayed."""
import binary_helpers  # noqa: F401 (binary_messages reads with it)
from auto_helpers import TEXT_GUESS, AutoLink, binary_messages, failing, fresh_outbox


def test_what_the_endpoint_cannot_carry_is_reported():
    auto = AutoLink(TEXT_GUESS)
    auto.client.event.emit("t", float("nan"))  # text has a NaN, JSON none
    auto.client.event.emit("t", 1)
    auto.open_binary()
    assert [e[0] for e in auto.errors] == ["MESSAGE_DROPPED"]
    assert "found a binary endpoint: a queued text message has no binary form" in auto.errors[0][1]
    import sys
    assert "deepstream.detect" not in sys.modules  # told: the detection goes
    auto.login_binary()
    assert binary_messages(auto.sent()) == [(4, 2, {"name": "t", "data": 1})]
    assert auto.errors[-1] == ("MESSAGE_DROPPED", "1 messages were dropped from the send queue", "C")


def test_outbox_records_of_the_guess_are_converted_on_replay():
    auto = AutoLink(TEXT_GUESS, outbox_file=fresh_outbox())
    try:
        auto.client.event.emit("o", 1)
        auto.client.event.emit("o", float("nan"))  # a text event binary cannot carry
        auto.client.event.emit("o", 2)
        assert auto.conn._outbox._file_size()
        auto.open_binary()
        auto.login_binary()
        assert binary_messages(auto.sent()) == [(4, 2, {"name": "o", "data": i}) for i in (1, 2)]
        assert [e[0] for e in auto.errors] == ["MESSAGE_DROPPED"]
        assert "has no binary form" in auto.errors[0][1]
        import sys
        assert "deepstream.convert" not in sys.modules  # replayed: the code that read text goes
        assert "deepstream.text_codec" not in sys.modules
    finally:
        fresh_outbox()


def test_no_room_to_switch_after_the_silence_drops_the_link_unchallenged():
    undo = failing("switch", 0)
    try:
        auto = AutoLink(TEXT_GUESS)
        auto.client.event.emit("t", 1)
        auto.open_binary(accept=False)
    finally:
        undo()
    assert auto.errors == [("connectionError", "out of memory switching to the binary protocol", "C")]
    assert auto.sent() == []  # no CHALLENGE: the link is dropped, the next one asks again
    auto.reconnect()
    auto.open_binary()
    auto.login_binary()
    assert binary_messages(auto.sent()) == [(4, 2, {"name": "t", "data": 1})]
