"""Records with a FakeLink: get_record, reading, subscriptions, reconnect."""
from deepstream.testing import open_link, ready_record


# ---- get_record ------------------------------------------------------------

def test_get_record_reads_once_and_shares_the_record():
    link = open_link()
    a = link.client.record.get_record("rec")
    b = link.client.record.get_record("rec")
    assert a is b and a.usages == 2 and a.name == "rec"
    assert link.sent() == ["R|CR|rec+"]
    assert not a.is_ready and a.version is None
    seen = []
    a.when_ready(seen.append)
    link.receive("R|A|S|rec+")
    link.receive('R|R|rec|3|{"x":[1,2]}+')
    assert a.is_ready and a.version == 3
    assert seen == [a]
    assert a.get() == {"x": [1, 2]} and a.get("x[1]") == 2 and a.get("nope") is None
    a.when_ready(seen.append)  # already ready: at once
    assert seen == [a, a]
    assert link.errors == []


def test_get_returns_copies():
    link = open_link()
    rec = ready_record(link, data='{"l":[1]}')
    rec.get("l").append(2)
    rec.get()["l"] = None
    assert rec.get() == {"l": [1]}


def test_read_ack_and_read_timeouts():
    link = open_link(record_read_ack_timeout=100, record_read_timeout=300)
    link.client.record.get_record("slow")
    link.advance(101)
    assert link.errors == [("ACK_TIMEOUT", "No ACK message received in time for slow", "R")]
    link.advance(200)
    assert link.errors[1] == ("RESPONSE_TIMEOUT", "No ACK message received in time for slow", "R")


def test_ack_and_read_cancel_the_timeouts():
    link = open_link(record_read_ack_timeout=100, record_read_timeout=300)
    ready_record(link, "fast")
    link.advance(1000)
    assert link.errors == []


def test_bad_names_refused():
    link = open_link()
    for bad in ("", None, "a\x1fb"):
        try:
            link.client.record.get_record(bad)
        except (TypeError, ValueError):
            continue
        raise AssertionError("accepted %r" % bad)
    assert link.sent() == []


# ---- subscriptions ------------------------------------------------------------------------

def test_subscriptions_fire_on_real_changes_only():
    link = open_link()
    rec = ready_record(link, data='{"a":{"b":1},"c":2}')
    whole, at_b, at_c = [], [], []
    rec.subscribe(whole.append)
    rec.subscribe("a.b", at_b.append)
    rec.subscribe("c", at_c.append)
    rec.set("a.b", 1)  # no change
    rec.set("c", 3)
    assert whole == [{"a": {"b": 1}, "c": 3}] and at_b == [] and at_c == [3]
    link.receive('R|U|rec|3|{"a":{"b":5},"c":3}+')  # remote: only a.b changed
    assert at_b == [5] and at_c == [3] and len(whole) == 2
    link.receive("R|P|rec|4|a.b|U+")  # deleted: subscribers get None
    assert at_b == [5, None]


def test_subscribe_trigger_now_and_unsubscribe():
    link = open_link()
    rec = link.client.record.get_record("rec")
    got, whole = [], []
    rec.subscribe("a", got.append, True)
    rec.subscribe(whole.append, True)
    assert got == [] and whole == []  # not ready yet
    link.receive('R|R|rec|1|{"a":7}+')
    assert got == [7] and whole == [{"a": 7}]
    rec.unsubscribe("a", got.append)
    rec.unsubscribe(whole.append)
    rec.set("a", 8)
    assert got == [7] and whole == [{"a": 7}]


def test_subscription_callbacks_get_copies():
    link = open_link()
    rec = ready_record(link, data='{"l":[1]}')
    rec.subscribe("l", lambda v: v.append("mine"))
    rec.set("l", [1, 2])
    assert rec.get("l") == [1, 2]


def test_has_provider():
    link = open_link()
    rec = ready_record(link)
    seen = []
    rec.on("hasProviderChanged", seen.append)
    link.receive("R|SH|rec|T+")
    assert rec.has_provider is True
    link.receive("R|SH|rec|F+")
    assert seen == [True, False] and rec.has_provider is False
    link.receive("R|SH|other|T+")  # after a discard: fine
    assert link.errors == []


# ---- reconnect ----------------------------------------------------------------------------------

def test_reconnect_reads_records_again_and_merges():
    link = open_link(reconnect_interval_increment=10)
    rec = ready_record(link, version=2, data='{"a":1}')
    link.client.record.listen("rec/.*", lambda *a: None)
    link.sent()
    link.drop()
    fresh = link.client.record.get_record("fresh")  # created offline: CR queued once
    link.advance(50)
    link.open()
    link.login()
    sent = "".join(link.sent())
    assert sent.count("R|CR|rec+") == 1 and sent.count("R|CR|fresh+") == 1
    assert "R|L|rec/.*+" in sent
    link.receive('R|R|rec|4|{"a":4}+')  # others wrote while we were away
    assert rec.version == 4 and rec.get() == {"a": 4}
    link.receive("R|R|fresh|0|{}+")
    assert fresh.is_ready and link.errors == []
