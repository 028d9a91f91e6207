"""Records with a FakeLink: snapshot, has, head (7.0.2 and v3 replies, timeouts),
set_data (R|CU) and record listening."""
from deepstream.testing import open_link


def ready_record(link, name="rec", version=1, data='{"a":1}'):
    rec = link.client.record.get_record(name)
    link.receive("R|R|%s|%d|%s+" % (name, version, data))
    link.sent()
    return rec


def collector():
    calls = []
    return calls, lambda *args: calls.append(args)


# ---- snapshot ------------------------------------------------------------------

def test_snapshot_asks_once_and_answers_everyone():
    link = open_link()
    calls, cb = collector()
    link.client.record.snapshot("s", cb)
    link.client.record.snapshot("s", cb)
    assert link.sent() == ["R|SN|s+"]
    link.receive('R|R|s|4|{"x":1}+')
    assert calls == [(None, {"x": 1}), (None, {"x": 1})]
    assert link.errors == []


def test_snapshot_of_a_held_record_is_local():
    link = open_link()
    ready_record(link, data='{"v":2}')
    calls, cb = collector()
    link.client.record.snapshot("rec", cb)
    assert calls == [(None, {"v": 2})] and link.sent() == []


def test_snapshot_missing_both_layouts():
    link = open_link()
    calls, cb = collector()
    link.client.record.snapshot("nope", cb)
    link.receive("R|E|RECORD_NOT_FOUND|nope+")  # 7.0.2
    link.client.record.snapshot("gone", cb)
    link.receive("R|E|SN|gone|RECORD_NOT_FOUND+")  # v3
    assert calls == [("RECORD_NOT_FOUND", None), ("RECORD_NOT_FOUND", None)]
    assert link.errors == []


def test_snapshot_timeout_calls_back_with_the_error():
    link = open_link(record_read_timeout=100)
    calls, cb = collector()
    link.client.record.snapshot("slow", cb)
    link.advance(99)
    assert calls == []
    link.advance(2)
    assert link.errors == [("RESPONSE_TIMEOUT", "No response received in time for R|SN|slow", "R")]
    assert calls == [("RESPONSE_TIMEOUT", None)]
    link.receive('R|R|slow|1|{}+')  # too late: nobody asked any more
    assert link.errors[-1] == ("UNSOLICITED_MESSAGE", "slow", "R")


# ---- has / head -------------------------------------------------------------------

def test_has_uses_head_and_version_minus_one_means_missing():
    link = open_link()
    calls, cb = collector()
    link.client.record.has("there", cb)
    link.client.record.has("missing", cb)
    assert link.sent() == ["R|HD|there+R|HD|missing+"]
    link.receive("R|HD|there|8|null+")
    link.receive("R|HD|missing|-1|null+")
    assert calls == [(None, True), (None, False)] and link.errors == []


def test_has_accepts_v3_answers():
    link = open_link()
    calls, cb = collector()
    for name in ("a", "b", "c"):
        link.client.record.has(name, cb)
    link.receive("R|H|a|T+")
    link.receive("R|H|b|F+")
    link.receive("R|E|HD|c|RECORD_NOT_FOUND+")
    assert calls == [(None, True), (None, False), (None, False)] and link.errors == []


def test_has_of_a_held_record_is_local_and_timeout():
    link = open_link(record_read_timeout=100)
    link.client.record.get_record("held")
    link.sent()
    calls, cb = collector()
    link.client.record.has("held", cb)
    assert calls == [(None, True)] and link.sent() == []
    link.client.record.has("silent", cb)
    link.advance(200)
    assert calls[-1] == ("RESPONSE_TIMEOUT", None)
    assert ("RESPONSE_TIMEOUT", "No response received in time for R|HD|silent", "R") in link.errors


def test_head():
    link = open_link()
    calls, cb = collector()
    link.client.record.head("r", cb)
    link.client.record.head("x", cb)
    link.receive("R|HD|r|5|null+")
    link.receive("R|HD|x|-1|null+")
    assert calls == [(None, 5), ("RECORD_NOT_FOUND", None)]


def test_unsolicited_head_reply():
    link = open_link()
    link.client.record  # in use (else every R message is unsolicited without loading records)
    link.receive("R|HD|who|1|null+")
    assert link.errors == [("UNSOLICITED_MESSAGE", "no entry for who", "R")]


# ---- set_data ----------------------------------------------------------------------

def test_set_data_without_a_record_uses_cu_with_config():
    link = open_link()
    calls, cb = collector()
    rec = link.client.record
    rec.set_data("d", {"a": 1})
    rec.set_data("d", "b.c", 3)
    rec.set_data("d", "l.0", "x", cb)
    assert link.sent() == ['R|CU|d|-1|{"a":1}|{}+R|CU|d|-1|b.c|N3|{}+'
                           'R|CU|d|-1|l[0]|Sx|{"writeSuccess":true}+']
    link.receive("R|WA|d|[-1]|L+")
    assert calls == [(None,)]


def test_set_data_callbacks_do_not_overwrite_each_other():
    link = open_link()
    calls = []
    link.client.record.set_data("d", {"a": 1}, lambda e: calls.append(("one", e)))
    link.client.record.set_data("d", {"a": 2}, lambda e: calls.append(("two", e)))
    link.receive("R|WA|d|[-1]|L+")
    link.receive("R|WA|d|[-1]|L+")
    assert calls == [("one", None), ("two", None)]


def test_set_data_goes_through_a_held_record():
    link = open_link()
    ready_record(link, version=3)
    link.client.record.set_data("rec", "a", 2)
    assert link.sent() == ["R|P|rec|4|a|N2+"]


def test_set_data_of_a_falsy_value_goes_through_a_record():
    # 7.0.2 refuses a path write of 0/false/"": read, write whole, discard
    link = open_link()
    calls, cb = collector()
    link.client.record.set_data("d", "count", 0, cb)
    assert link.sent() == ["R|CR|d+"]
    link.receive('R|R|d|2|{"count":5}+')
    assert link.sent() == ['R|U|d|3|{"count":0}|{"writeSuccess":true}+R|US|d+']
    link.receive("R|WA|d|[3]|L+")
    assert calls == [(None,)]


# ---- listening ------------------------------------------------------------------------

def test_record_listen_accept_reject_and_removal():
    link = open_link()
    calls = []

    def on_match(name, is_subscribed, response):
        calls.append((name, is_subscribed))
        if response is not None:
            response.accept() if name.endswith("1") else response.reject()
    link.client.record.listen("car/.*", on_match)
    assert link.sent() == ["R|L|car/.*+"]
    link.receive("R|A|L|car/.*+")
    link.receive("R|SP|car/.*|car/1+")
    link.receive("R|SP|car/.*|car/2+")
    assert link.sent() == ["R|LA|car/.*|car/1+", "R|LR|car/.*|car/2+"]
    link.receive("R|SR|car/.*|car/1+")
    assert calls == [("car/1", True), ("car/2", True), ("car/1", False)]
    link.client.record.unlisten("car/.*")
    assert link.sent() == ["R|UL|car/.*+"]
    link.client.record.unlisten("car/.*")
    assert link.errors == [("NOT_LISTENING", "car/.*", "R")]


def test_record_listen_ack_timeout():
    link = open_link(subscription_timeout=100)
    link.client.record.listen("p/.*", lambda *a: None)
    link.advance(150)
    assert link.errors == [("ACK_TIMEOUT", "No ACK message received in time for p/.*", "R")]
