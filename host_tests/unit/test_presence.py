"""Presence: queries (everyone / some users), subscriptions, bulk ids, bad input."""
import json

from binary_helpers import open_binary_link
from deepstream.testing import open_link


def test_query_everyone():
    link = open_link()
    got = []
    link.client.presence.get_all(got.append)
    assert link.sent() == ["U|Q|Q+"]
    link.receive("U|Q|bob|open+")
    assert got == [["bob", "open"]]
    link.client.presence.get_all(got.append)
    link.receive("U|Q+")  # nobody (7.0.2 leaves the asker out)
    assert got[1] == []


def test_query_everyone_over_binary():
    link = open_binary_link()
    got = []
    link.client.presence.get_all(got.append)
    assert link.sent() == [bytes.fromhex("0610071a020802")]  # QUERY_ALL
    link.receive("0b10071a0708034a03626f62")  # QUERY_ALL_RESPONSE, names (field 9) ["bob"]
    assert got == [["bob"]] and link.errors == []


def test_query_users():
    link = open_link()
    got = []
    link.client.presence.get_all(["bob", "zed"], got.append)
    sent = link.sent()
    assert len(sent) == 1 and sent[0].startswith("U|Q|1|")
    assert json.loads(sent[0][6:-1]) == ["bob", "zed"]
    link.receive("U|Q|1|{\"bob\":true,\"zed\":false}+")
    assert got == [{"bob": True, "zed": False}]
    link.client.presence.get_all([], got.append)
    assert link.sent() == ["U|Q|2|[]+"]
    link.receive("U|Q|2|{}+")
    assert got[1] == {}
    assert link.errors == []


def test_answers_reach_the_right_query():
    link = open_link()
    everyone, some = [], []
    link.client.presence.get_all(everyone.append)
    link.client.presence.get_all(["a"], some.append)
    link.receive("U|Q|1|{\"a\":true}+")
    link.receive("U|Q|1|x+")  # users "1" and "x": an answer for everyone
    assert some == [{"a": True}]
    assert everyone == [["1", "x"]]


def test_subscribe_all_and_notifications():
    link = open_link(subscription_timeout=100)
    seen = []
    cb = lambda name, online: seen.append((name, online))  # noqa: E731
    link.client.presence.subscribe(cb)
    assert link.sent() == ["U|S|S+"]
    link.receive("U|A|S|S+")
    link.receive("U|PNJ|dave+")
    link.receive("U|PNL|dave+")
    assert seen == [("dave", True), ("dave", False)]
    link.client.presence.unsubscribe(cb)
    assert link.sent() == ["U|US|US+"]
    link.receive("U|A|US|US+")
    link.receive("U|PNJ|eve+")
    link.advance(500)
    assert seen == [("dave", True), ("dave", False)]
    assert link.errors == []


def test_user_subscriptions_are_batched_with_shared_ids():
    link = open_link(subscription_timeout=100)
    seen = []
    cb = lambda name, online: seen.append((name, online))  # noqa: E731
    link.client.presence.get_all(["x"], lambda r: None)  # takes id 1
    link.sent()
    link.client.presence.subscribe("bob", cb)
    link.client.presence.subscribe("erin", cb)
    assert link.sent() == ['U|S|2|["bob","erin"]+']  # in the order asked, on both runtimes
    link.receive("U|A|S|2|undefined+")  # 7.0.2's ack
    link.receive("U|PNL|bob+")
    link.receive("U|PNL|zed+")  # not ours: nobody called
    assert seen == [("bob", False)]
    link.client.presence.unsubscribe("bob")
    assert link.sent() == ["U|US|3|[\"bob\"]+"]
    link.receive("U|A|US|3|undefined+")
    link.advance(500)
    assert link.errors == []


def test_subscribe_then_unsubscribe_in_one_go():
    link = open_link()
    cb = lambda n, o: None  # noqa: E731
    link.client.presence.subscribe("bob", cb)
    link.client.presence.unsubscribe("bob", cb)
    assert link.sent() == ["U|US|1|[\"bob\"]+"]


def test_a_user_asked_for_again_goes_last_in_the_batch():
    link = open_link()
    cb = lambda n, o: None  # noqa: E731
    p = link.client.presence
    for name in ("zoe", "adam", "mia"):
        p.subscribe(name, cb)
    p.unsubscribe("zoe")
    p.subscribe("zoe", cb)  # as in the reference client: zoe's pending subscribe moves to the end
    assert link.sent() == ['U|S|1|["adam","mia","zoe"]+']


def test_bulk_ack_timeout():
    link = open_link(subscription_timeout=100)
    link.client.presence.subscribe("bob", lambda n, o: None)
    link.sent()
    link.advance(101)
    assert link.errors == [("ACK_TIMEOUT", "No ACK message received in time for 1", "U")]


def test_double_notification_when_subscribed_twice():
    link = open_link()
    seen = []
    link.client.presence.subscribe(lambda n, o: seen.append(("all", n, o)))
    link.client.presence.subscribe("bob", lambda n, o: seen.append(("bob", n, o)))
    link.receive("U|PNL|bob+")
    assert seen == [("all", "bob", False), ("bob", "bob", False)]


def test_unsubscribe_unknown():
    link = open_link()
    link.client.presence.unsubscribe("nobody")
    link.client.presence.unsubscribe()
    assert [e[0] for e in link.errors] == ["NOT_SUBSCRIBED", "NOT_SUBSCRIBED"]
    assert link.sent() == []


def test_bad_arguments():
    link = open_link()
    p = link.client.presence
    for call in (lambda: p.get_all(None), lambda: p.get_all("bob", print),
                 lambda: p.get_all(["a\x1eb"], print), lambda: p.subscribe("bob"),
                 lambda: p.subscribe("", print)):
        try:
            call()
        except (TypeError, ValueError):
            continue
        raise AssertionError("accepted")
    assert link.sent() == []


def test_resubscribe_after_reconnect():
    link = open_link()
    p = link.client.presence
    p.subscribe(lambda n, o: None)
    p.subscribe("zoe", lambda n, o: None)
    got = []
    p.get_all(got.append)
    link.sent()  # all of it left before the link dropped
    link.drop()
    link.advance(0)
    link.open()
    link.receive("A|A+")
    assert link.sent()[1:] == ["U|S|S+U|S|2|[\"zoe\"]+U|Q|Q+"]
    link.receive("U|Q|amy+")
    assert got == [["amy"]]


def test_query_made_offline_is_sent_once():
    link = open_link()
    link.drop()
    got = []
    link.client.presence.get_all(["a"], got.append)
    link.advance(0)
    link.open()
    link.receive("A|A+")
    assert link.sent()[1:] == ["U|Q|1|[\"a\"]+"]


def test_non_json_answer_to_a_query():
    link = open_link()
    got = []
    link.client.presence.get_all(["a"], got.append)
    link.receive("U|Q|1|{bad+")
    assert got == []
    assert link.errors == [("MESSAGE_PARSE_ERROR",
                            "presence answer for query 1 is not a JSON object: {bad", "U")]
    link.receive("U|Q|1|{\"a\":true}+")  # the query is over: not answered twice
    assert got == []
    assert link.errors[-1][0] == "UNSOLICITED_MESSAGE"


def test_unsolicited_and_malformed_messages():
    link = open_link()
    link.client.presence  # the handler is in use (else every U message is unsolicited)
    link.receive("U|Q|bob+")
    link.receive("U|PNJ+")
    link.receive("U|A|S+")
    link.receive("U|EVT|x+")
    assert [e[0] for e in link.errors] == ["UNSOLICITED_MESSAGE", "MESSAGE_PARSE_ERROR",
                                            "MESSAGE_PARSE_ERROR", "UNSOLICITED_MESSAGE"]
    link.receive("U|E|MESSAGE_DENIED|S|S+")
    assert link.errors[-1][:2] == ("MESSAGE_DENIED", "S")
