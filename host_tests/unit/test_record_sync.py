"""Records with a FakeLink: remote updates, versions, conflicts and merge strategies."""
import json

from deepstream.record import LOCAL_WINS, REMOTE_WINS
from deepstream.testing import open_link, ready_record


# ---- remote updates, versions and conflicts --------------------------------------------------

def test_remote_update_and_patch_in_order():
    link = open_link()
    rec = ready_record(link, version=1)
    link.receive('R|U|rec|2|{"a":2,"l":[]}+')
    link.receive("R|P|rec|3|l[1]|Sx+")
    assert rec.version == 3 and rec.get() == {"a": 2, "l": [None, "x"]}
    assert link.sent() == [] and link.errors == []


def test_a_remote_patch_far_past_a_lists_end_is_refused_not_built():
    link = open_link()
    rec = ready_record(link, version=1, data='{"l":[]}')
    link.receive("R|P|rec|2|l[10000000]|N1+")  # ten million holes: more than any heap
    assert rec.version == 1 and rec.get() == {"l": []}
    assert [e[0] for e in link.errors] == ["MESSAGE_PARSE_ERROR"] and "list index" in link.errors[0][1]
    link.receive("R|P|rec|2|l[0]|N1+")
    assert rec.version == 2 and rec.get() == {"l": [1]}


def test_out_of_order_patch_fetches_the_full_state():
    link = open_link()
    rec = ready_record(link, version=1)
    link.receive("R|P|rec|5|a|N5+")
    assert link.sent() == ["R|SN|rec+"] and rec.get() == {"a": 1}
    link.receive("R|P|rec|6|a|N6+")  # the snapshot is already on its way
    assert link.sent() == []
    link.receive('R|R|rec|6|{"a":6}+')
    assert rec.version == 6 and rec.get() == {"a": 6}
    link.receive("R|P|rec|7|a|N7+")
    assert rec.get() == {"a": 7} and link.sent() == []


def test_version_exists_remote_wins_by_default():
    link = open_link()
    rec = ready_record(link, version=3, data='{"name":"a"}')
    acks = []
    rec.set("name", "mine", acks.append)
    link.sent()
    link.receive('R|E|VERSION_EXISTS|rec|4|{"name":"theirs"}|{"writeSuccess":true}+')
    assert rec.version == 4 and rec.get() == {"name": "theirs"}
    assert acks == [None]  # settled by the merge, as the reference client does
    assert link.sent() == [] and link.errors == []
    rec.set("name", "next")
    assert link.sent() == ["R|P|rec|5|name|Snext+"]  # never above current + 1


def test_version_exists_local_wins_sends_the_local_data_on_top():
    link = open_link(merge_strategy=LOCAL_WINS)
    rec = ready_record(link, version=3, data='{"name":"a"}')
    acks = []
    rec.set("name", "mine", acks.append)
    link.sent()
    link.receive('R|E|VERSION_EXISTS|rec|4|{"name":"theirs"}|{"writeSuccess":true}+')
    assert link.sent() == ['R|U|rec|5|{"name":"mine"}|{"writeSuccess":true}+']
    assert rec.version == 5 and rec.get() == {"name": "mine"} and acks == []
    link.receive("R|WA|rec|[5]|L+")
    assert acks == [None]


def test_remote_update_with_unexpected_version_is_merged():
    link = open_link()
    rec = ready_record(link, version=1)
    got = []
    rec.subscribe("a", got.append)
    link.receive('R|U|rec|9|{"a":9}+')
    assert rec.version == 9 and got == [9]


def test_per_record_merge_strategy_and_failure():
    link = open_link()
    rec = ready_record(link, version=1, data='{"a":1,"b":1}')
    calls = []

    def merge(record, remote, version, done):
        calls.append((record.name, remote, version))
        merged = dict(remote)
        merged["b"] = record.get("b")
        done(None, merged)
    rec.set_merge_strategy(merge)
    rec.set("b", 2)
    link.sent()
    link.receive('R|E|VERSION_EXISTS|rec|2|{"a":5,"b":1}+')
    assert calls == [("rec", {"a": 5, "b": 1}, 2)]
    frames = link.sent()
    assert len(frames) == 1 and frames[0].startswith("R|U|rec|3|"), frames
    assert json.loads(frames[0][len("R|U|rec|3|"):-1]) == {"a": 5, "b": 2}
    assert rec.get() == {"a": 5, "b": 2} and rec.version == 3
    rec.set_merge_strategy(lambda r, d, v, done: done("no way"))
    link.receive('R|E|VERSION_EXISTS|rec|4|{"a":6}+')
    assert link.errors[-1][0] == "VERSION_EXISTS" and rec.get() == {"a": 5, "b": 2}


def test_remote_wins_with_later_writes_in_flight_resyncs():
    link = open_link()
    rec = ready_record(link, version=4, data='{"a":0,"b":0}')
    rec.set("a", 1)  # v5: refused, someone else wrote 5
    rec.set("b", 2)  # v6: accepted by the server on top of their 5
    link.sent()
    link.receive('R|E|VERSION_EXISTS|rec|5|{"a":9,"b":0}+')
    assert rec.get() == {"a": 9, "b": 0} and rec.version == 5
    assert link.sent() == ["R|SN|rec+"]
    link.receive('R|R|rec|6|{"a":9,"b":2}+')
    assert rec.get() == {"a": 9, "b": 2} and rec.version == 6


def test_a_denied_write_answers_its_own_write_ack():
    """7.0.2 names the refused write's version (-1: set_data's): each callback once."""
    link = open_link()
    rec = ready_record(link, version=2)
    acks = []
    rec.set("a", 5, acks.append)
    link.client.record.set_data("other", {"x": 1}, lambda e: acks.append(("first", e)))
    link.client.record.set_data("other", {"y": 1}, lambda e: acks.append(("second", e)))
    link.sent()
    link.receive("R|E|MESSAGE_DENIED|rec|P|3+")
    link.receive("R|E|MESSAGE_DENIED|other|CU|-1+")
    link.receive("R|WA|other|[-1]|L+")
    assert acks == ["MESSAGE_DENIED", ("first", "MESSAGE_DENIED"), ("second", None)]


def test_merge_strategies_exported():
    out = []
    REMOTE_WINS(None, {"r": 1}, 2, lambda e, d: out.append(d))
    assert out == [{"r": 1}]


def test_denied_write_does_not_leave_the_version_ahead():
    link = open_link()
    rec = ready_record(link, version=2)
    rec.set("a", 5)
    link.sent()
    link.receive("R|E|MESSAGE_DENIED|rec|P|3+")
    assert link.errors == [("MESSAGE_DENIED", "rec", "R")]
    assert link.sent() == ["R|SN|rec+"]
    link.receive('R|R|rec|2|{"a":1}+')
    assert rec.version == 2 and rec.get() == {"a": 1}
    # a write sent after the snapshot request could still have been accepted: check once more
    assert link.sent() == ["R|SN|rec+"]
    link.receive('R|R|rec|2|{"a":1}+')
    assert link.sent() == []
    rec.set("a", 6)
    assert link.sent() == ["R|P|rec|3|a|N6+"]
