"""No user callback can break the client, records and lists: see test_callbacks.py.
(A file of its own: each must compile in the 128K heap of the MicroPython unit runs.)"""
from deepstream.testing import open_link, ready_record
from callback_helpers import Boom, callback_errors, only_callback_errors


# ---- records and lists -----------------------------------------------------------------------

def test_record_subscriber_raising_on_first_read_keeps_ready():
    link = open_link()
    rec = link.client.record.get_record("rec")
    rec.subscribe("a", Boom(), True)  # trigger_now: runs when the record is ready
    rec.subscribe(Boom())
    ready, later = [], []
    rec.when_ready(Boom())
    rec.when_ready(lambda r: ready.append(r.get("a")))
    rec.on("ready", Boom())
    rec.set("b", 2)  # queued until ready
    link.receive("R|A|S|rec+")
    link.receive('R|R|rec|1|{"a":1}+')
    assert rec.is_ready and ready == [1] and rec.get() == {"a": 1, "b": 2}
    assert link.sent() == ["R|CR|rec+", "R|P|rec|2|b|N2+"]
    rec.subscribe("a", later.append)
    link.receive("R|P|rec|3|a|N5+")
    assert later == [5]
    # "a": trigger_now and a=5; whole record: first read, set b, a=5; when_ready; ready
    assert len(callback_errors(link)) == len(link.errors) == 7, link.errors


def test_record_subscriber_raising_on_local_set():
    link = open_link()
    rec = ready_record(link)
    got = []
    rec.subscribe("a", Boom())
    rec.subscribe("a", got.append)
    rec.set("a", 2)
    assert got == [2] and rec.get("a") == 2
    assert link.sent() == ["R|P|rec|2|a|N2+"]
    only_callback_errors(link, "R")


def test_write_ack_callbacks_raising():
    link = open_link()
    rec = ready_record(link)
    boom = Boom()
    rec.set("a", 2, boom)
    rec.set("a", 2, boom)  # changes nothing: answered at once
    link.receive("R|WA|rec|[2]|L+")
    assert boom.calls == [(None,), (None,)]
    only_callback_errors(link, "R", 2)
    link.client.close()
    rec2_cb = Boom()
    rec.set("a", 3, rec2_cb)  # not open: CLOSED_TEXT at once
    assert len(rec2_cb.calls) == 1


def test_record_events_raising():
    link = open_link()
    rec = ready_record(link)
    boom = Boom()
    for name in ("delete", "hasProviderChanged"):
        rec.on(name, boom)
    link.receive("R|SH|rec|T+")
    assert rec.has_provider is True
    rec.delete()
    link.receive("R|A|D|rec+")
    assert boom.calls == [(True,), ()]
    assert rec.is_destroyed
    only_callback_errors(link, "R", 2)


def test_merge_strategy_raising_is_as_if_it_returned():
    link = open_link()
    rec = ready_record(link, version=1, data='{"a":1}')
    boom = Boom()
    rec.set_merge_strategy(boom)
    link.receive('R|U|rec|5|{"a":9}+')  # a gap in versions: a conflict
    assert len(boom.calls) == 1
    assert rec.version == 1 and rec.get() == {"a": 1}  # nothing merged, nothing sent
    assert link.sent() == []
    only_callback_errors(link, "R")

    def done_then_raise(record, remote, version, done):
        done(None, remote)
        raise ValueError("after done")
    rec.set_merge_strategy(done_then_raise)
    link.receive('R|U|rec|6|{"a":7}+')
    assert rec.version == 6 and rec.get() == {"a": 7}
    assert link.errors == [("CALLBACK_ERROR", "ValueError: after done", "R")]


def test_chained_write_callbacks_each_isolated():
    link = open_link()
    rec = ready_record(link, version=1, data='{"a":1}')
    first, second = Boom(), []
    rec.set_merge_strategy(lambda r, remote, v, done: done(None, {"a": 100}))
    rec.set("a", 2, first)
    rec.set("a", 3, second.append)
    link.sent()
    link.receive('R|E|VERSION_EXISTS|rec|3|{"a":50}|{"writeSuccess":true}+')  # both writes refused
    assert link.sent() == ['R|U|rec|4|{"a":100}|{"writeSuccess":true}+']
    link.receive("R|WA|rec|[4]|L+")
    assert len(first.calls) == 1 and second == [None]
    only_callback_errors(link, "R")


def test_snapshot_has_head_set_data_callbacks_raising():
    link = open_link()
    boom, got = Boom(), []
    link.client.record.snapshot("s", boom)
    link.client.record.snapshot("s", lambda err, data: got.append(data))
    link.client.record.has("h", boom)
    link.client.record.head("h", lambda err, v: got.append(v))
    link.client.record.set_data("d", {"x": 1}, boom)
    link.client.record.set_data("d", {"x": 2}, lambda err: got.append(err))
    link.sent()
    link.receive('R|R|s|3|{"k":1}+')
    link.receive("R|HD|h|4|null+")
    link.receive("R|WA|d|[-1]|L+")
    link.receive("R|WA|d|[-1]|L+")
    assert got == [{"k": 1}, 4, None]
    assert len(boom.calls) == 3
    only_callback_errors(link, "R", 3)
    rec = ready_record(link, name="held")
    rec.when_ready(lambda r: None)
    link.client.record.snapshot("held", boom)  # answered at once from the held record
    assert len(boom.calls) == 4 and callback_errors(link)


def test_list_entry_events_raising():
    link = open_link()
    lst = link.client.record.get_list("l")
    added = []
    lst.on("entry-added", Boom())
    lst.on("entry-added", lambda e, i: added.append(e))
    lst.subscribe(Boom())
    lst.add_entry("b", 5)  # an index out of range, raised once the list is ready
    link.receive("R|A|S|l+")
    link.receive('R|R|l|1|["a"]+')
    assert lst.is_ready
    lst.add_entry("x")
    assert added == ["x"] and lst.get_entries() == ["a", "x"]
    errors = [e[1] for e in callback_errors(link)]
    # subscriber on the first read, the queued add_entry, entry-added and subscriber on "x"
    assert len(errors) == len(link.errors) == 4, errors
    assert errors[1] == "ValueError: index 5 is not within the current entries (0..1)", errors


