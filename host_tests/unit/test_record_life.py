"""Records with a FakeLink: bad input from the server, discard, delete."""
from deepstream.testing import open_link, ready_record


# ---- bad input from the server ---------------------------------------------------------------

def _bad(link, rec, text, event="MESSAGE_PARSE_ERROR"):
    before, version = rec.get(), rec.version
    del link.errors[:]
    link.receive(text)
    assert rec.get() == before and rec.version == version, text
    assert len(link.errors) == 1 and link.errors[0][0] == event, (text, link.errors)
    return link.errors[0][1]


def test_bad_input_leaves_the_data_unchanged():
    link = open_link()
    rec = ready_record(link, version=1, data='{"a":{"b":1},"n":5}')
    assert "version" in _bad(link, rec, 'R|U|rec|x|{"a":1}+')
    assert "version" in _bad(link, rec, "R|P|rec|2.5|a|N1+")
    assert "version" in _bad(link, rec, "R|U|rec|2+")  # no data field
    _bad(link, rec, "R|U|rec|2|{bad+")
    assert "object or array" in _bad(link, rec, 'R|U|rec|2|"str"+')
    assert "invalid data or path" in _bad(link, rec, "R|P|rec|2|n.deeper|N1+")
    _bad(link, rec, "R|P|rec|2|a.b|Zbad+")
    assert _bad(link, rec, 'R|U|nobody|2|{"a":1}+', "UNSOLICITED_MESSAGE") == "nobody"
    _bad(link, rec, "R|E|VERSION_EXISTS|rec|x|{}+")
    _bad(link, rec, "R|E|VERSION_EXISTS|rec|3|[bad+")
    _bad(link, rec, "R|WA|rec|nope|L+")
    # and the record still works
    del link.errors[:]
    link.receive('R|P|rec|2|a.b|N2+')
    assert rec.get("a.b") == 2 and link.errors == []


# ---- discard and delete ------------------------------------------------------------------------

def test_discard_unsubscribes_with_the_last_usage():
    link = open_link(subscription_timeout=100)
    a = link.client.record.get_record("rec")
    link.client.record.get_record("rec")
    link.receive('R|R|rec|1|{}+')
    link.sent()
    a.discard()
    assert link.sent() == [] and not a.is_destroyed
    events = []
    a.on("discard", lambda: events.append("discard"))
    a.discard()
    assert link.sent() == ["R|US|rec+"] and a.is_destroyed
    link.receive("R|A|US|rec+")
    assert events == ["discard"]
    link.advance(500)
    assert link.errors == []
    b = link.client.record.get_record("rec")  # a new record object
    assert b is not a and link.sent() == ["R|CR|rec+"]


def test_discard_ack_timeout():
    link = open_link(subscription_timeout=100)
    rec = ready_record(link)
    rec.discard()
    link.advance(150)
    assert link.errors == [("ACK_TIMEOUT", "No ACK message received in time for rec", "R")]


def test_destroyed_record_refuses_use():
    link = open_link()
    rec = ready_record(link)
    rec.discard()
    link.sent()
    for call in (lambda: rec.set("a", 2), lambda: rec.get(), lambda: rec.subscribe(print),
                 lambda: rec.discard(), lambda: rec.delete()):
        call()
    assert link.sent() == []
    assert [e[0] for e in link.errors] == ["RECORD_DESTROYED"] * 5
    assert link.errors[0][1] == "Can't invoke 'set'. Record 'rec' is already destroyed"


def test_discard_and_delete_before_ready_wait_for_ready():
    link = open_link()
    rec = link.client.record.get_record("rec")
    rec.delete()
    assert link.sent() == ["R|CR|rec+"]
    link.receive("R|R|rec|1|{}+")
    assert link.sent() == ["R|D|rec+"] and rec.is_destroyed


def test_delete_acks_and_times_out():
    link = open_link(record_delete_timeout=100)
    rec = ready_record(link)
    events = []
    rec.on("delete", lambda: events.append("delete"))
    rec.delete()
    assert link.sent() == ["R|D|rec+"]
    link.receive("R|A|D|rec+")
    assert events == ["delete"]
    other = ready_record(link, "other")
    other.delete()
    link.advance(150)
    assert link.errors == [("DELETE_TIMEOUT", "No ACK message received in time for other", "R")]


def test_delete_by_another_client_destroys_the_record():
    link = open_link()
    rec = ready_record(link)
    events = []
    rec.on("delete", lambda: events.append("delete"))
    link.receive("R|A|D|rec+")
    assert events == ["delete"] and rec.is_destroyed
    assert "rec" not in link.client.record.record_names()
    rec.set("a", 3)
    assert link.sent() == [] and link.errors[-1][0] == "RECORD_DESTROYED"
