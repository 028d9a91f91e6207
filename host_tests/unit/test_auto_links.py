"""protocol="auto" over several links: each endpoint is asked again, and the
events confirm_events keeps are converted and sent again first."""
import binary_helpers  # noqa: F401 (binary_messages reads with it)
from auto_helpers import BINARY_GUESS, AutoLink, auth_ok, binary_messages, text_messages


def test_each_link_is_asked_and_kept_events_are_converted_and_sent_again_first():
    auto = AutoLink(BINARY_GUESS, confirm_events=True)
    auto.open_text()
    auto.login()
    auto.client.event.emit("e", 0)
    auto.client.event.emit("e", 1)
    assert text_messages(auto.sent()) == ["E|EVT|e|N0", "E|EVT|e|N1", "C|PI"]
    auto.drop()  # no C|PO: both may have been lost with the link
    auto.client.event.emit("e", 2)
    auto.reconnect()
    auto.open_binary()  # the next node speaks binary
    auto.receive(auth_ok())
    sent = binary_messages(auto.sent(), handshake=True)
    assert sent[0] == (2, 5, {"url": "ws://localhost:6020/deepstream"})  # CHALLENGE: binary now
    assert sent[2:] == [(4, 2, {"name": "e", "data": i}) for i in range(3)] + [(2, 2, {})]  # and their ping
    assert auto.errors == []
