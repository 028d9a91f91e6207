"""Events: subscribe, emit, unsubscribe, listen, acks and timeouts."""
from deepstream.testing import open_link


def test_subscribe_emit_receive():
    link = open_link()
    got = []
    link.client.event.subscribe("news", got.append)
    assert link.sent() == ["E|S|news+"]
    link.receive("E|A|S|news+")
    link.receive("E|EVT|news|O{\"a\":[1,2]}+")
    assert got == [{"a": [1, 2]}]
    link.client.event.emit("news", "local")
    assert link.sent() == ["E|EVT|news|Slocal+"]
    assert got[-1] == "local"  # local subscribers hear their own emit


def test_emits_of_one_tick_share_a_frame():
    link = open_link()
    for i in range(3):
        link.client.event.emit("t", i)
    link.pump()
    assert link.sent() == ["E|EVT|t|N0+E|EVT|t|N1+E|EVT|t|N2+"]


def test_subscription_ack_timeout():
    link = open_link(subscription_timeout=100)
    link.client.event.subscribe("news", lambda d: None)
    link.advance(99)
    assert link.errors == []
    link.advance(2)
    assert link.errors == [("ACK_TIMEOUT", "No ACK message received in time for news", "E")]


def test_ack_cancels_timeout():
    link = open_link(subscription_timeout=100)
    link.client.event.subscribe("news", lambda d: None)
    link.receive("E|A|S|news+")
    link.advance(500)
    assert link.errors == []


def test_unsubscribe_only_when_last_callback_leaves():
    link = open_link()
    a = lambda d: None  # noqa: E731
    b = lambda d: None  # noqa: E731
    link.client.event.subscribe("n", a)
    link.client.event.subscribe("n", b)
    link.client.event.unsubscribe("n", a)
    link.pump()
    assert link.sent() == ["E|S|n+"]
    link.client.event.unsubscribe("n", b)
    assert link.sent() == ["E|US|n+"]


def test_listen_accept_reject_and_removal():
    link = open_link()
    calls = []

    def on_match(name, is_subscribed, response):
        calls.append((name, is_subscribed))
        if response is not None:
            if name.endswith("1"):
                response.accept()
            else:
                response.reject()
    link.client.event.listen("news/.*", on_match)
    assert link.sent() == ["E|L|news/.*+"]
    link.receive("E|SP|news/.*|news/1+")
    link.receive("E|SP|news/.*|news/2+")
    assert link.sent() == ["E|LA|news/.*|news/1+", "E|LR|news/.*|news/2+"]
    link.receive("E|SR|news/.*|news/1+")
    assert calls == [("news/1", True), ("news/2", True), ("news/1", False)]
    link.client.event.unlisten("news/.*")
    assert link.sent() == ["E|UL|news/.*+"]


def test_listen_twice_and_unlisten_unknown():
    link = open_link()
    link.client.event.listen("p", lambda *a: None)
    link.client.event.listen("p", lambda *a: None)
    link.client.event.unlisten("q")
    assert [e[0] for e in link.errors] == ["LISTENER_EXISTS", "NOT_LISTENING"]


def test_unsolicited_pattern_match():
    link = open_link()
    link.receive("E|SP|nobody/.*|nobody/1+")
    assert link.errors == [("UNSOLICITED_MESSAGE", "nobody/.*", "E")]


def test_server_error_message_reported():
    link = open_link()
    link.receive("E|E|MESSAGE_DENIED|secret|S+")
    assert link.errors == [("MESSAGE_DENIED", "secret", "E")]


def test_bad_names_refused_before_sending():
    link = open_link()
    for bad in ("", "a\x1eb", None):
        try:
            link.client.event.emit(bad, 1)
        except (ValueError, TypeError):
            continue
        raise AssertionError("accepted %r" % bad)
    link.pump()
    assert link.sent() == []


def test_pending_ack_limit_is_an_error_not_a_pile_up():
    link = open_link(max_pending_acks=2, subscription_timeout=100)
    for name in ("a", "b", "c"):
        link.client.event.subscribe(name, lambda d: None)
    assert link.sent() == ["E|S|a+E|S|b+E|S|c+"]  # every subscription still goes out
    assert link.errors == [("TOO_MANY_PENDING", "more than 2 acks pending: no timeout for c", "E")]
    link.advance(150)
    assert [e[1] for e in link.errors[1:]] == ["No ACK message received in time for a",
                                               "No ACK message received in time for b"]
