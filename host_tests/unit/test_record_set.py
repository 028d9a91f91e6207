"""Records with a FakeLink: set (paths, versions, the 7.0.2 rules) and write acks."""
import json

from deepstream.message import UNDEFINED
from deepstream.testing import open_link, ready_record


# ---- set -----------------------------------------------------------------------

def test_path_set_sends_a_patch_with_the_next_version():
    link = open_link()
    rec = ready_record(link, version=4)
    rec.set("b.c", "x")
    assert link.sent() == ["R|P|rec|5|b.c|Sx+"]
    assert rec.version == 5 and rec.get() == {"a": 1, "b": {"c": "x"}}
    rec.set("n", 2.5)
    rec.set("t", True)
    rec.set("z", None)
    rec.set("o", {"k": [1]})
    assert link.sent() == ['R|P|rec|6|n|N2.5+R|P|rec|7|t|T+R|P|rec|8|z|L+R|P|rec|9|o|O{"k":[1]}+']


def test_whole_set_sends_an_update():
    link = open_link()
    rec = ready_record(link, version=1)
    rec.set({"q": [1, 2]})
    assert link.sent() == ['R|U|rec|2|{"q":[1,2]}+']
    assert rec.get() == {"q": [1, 2]} and rec.version == 2
    rec.set([1, 2])  # arrays are records too
    assert link.sent() == ["R|U|rec|3|[1,2]+"]


def test_unchanged_set_sends_nothing_but_calls_back():
    link = open_link()
    rec = ready_record(link, data='{"a":1,"l":[1,{"b":2}]}')
    acks = []
    rec.set("a", 1)
    rec.set("a", 1.0)
    rec.set("l", [1, {"b": 2}], acks.append)
    rec.set({"a": 1, "l": [1, {"b": 2}]})
    rec.set("missing", UNDEFINED)
    assert link.sent() == [] and rec.version == 1
    assert acks == [None]
    rec.set("a", True)  # true is not 1
    assert link.sent() == ["R|P|rec|2|a|T+"]


def test_paths_go_out_as_written_unless_the_server_would_build_another_shape():
    link = open_link()
    rec = ready_record(link, data='{"pets":[{"name":"dog"}],"o":{"0":"a"}}')
    rec.set("pets.0.name", "cat")  # into the existing list: the server reads it as we do
    rec.set("pets[1].name", "cow")
    rec.set("o[0]", "b")  # an object with a numeric key: stays a key
    rec.set("new.0", "x")  # created as a list (next token numeric): the server needs [0]
    assert link.sent() == ["R|P|rec|2|pets.0.name|Scat+R|P|rec|3|pets[1].name|Scow+"
                           "R|P|rec|4|o[0]|Sb+R|P|rec|5|new[0]|Sx+"]
    assert rec.get() == {"pets": [{"name": "cat"}, {"name": "cow"}], "o": {"0": "b"}, "new": ["x"]}


def test_falsy_path_values_go_as_whole_updates():
    # 7.0.2 answers R|P with 0, false or "" with R|E|INVALID_MESSAGE_DATA
    link = open_link()
    rec = ready_record(link, data='{"count":3}')
    rec.set("count", 0)
    rec.set("flag", False)
    rec.set("s", "")
    frames = link.sent()
    msgs = frames[0].split("+")[:-1]
    assert [m.split("|")[:3] for m in msgs] == [["R", "U", "rec"]] * 3
    assert [m.split("|")[3] for m in msgs] == ["2", "3", "4"]
    assert json.loads(msgs[2].split("|")[4]) == {"count": 0, "flag": False, "s": ""}
    rec.set("count", 1)
    assert link.sent() == ["R|P|rec|5|count|N1+"]


def test_undefined_deletes_a_key():
    link = open_link()
    rec = ready_record(link, data='{"a":1,"b":2}')
    rec.set("a", UNDEFINED)
    assert link.sent() == ["R|P|rec|2|a|U+"]
    assert rec.get() == {"b": 2}


def test_sets_before_ready_are_queued_in_order():
    link = open_link()
    rec = link.client.record.get_record("rec")
    value = {"k": 1}
    rec.set("a", value)
    value["k"] = 99  # the queued set keeps what was given at the time
    rec.set("b", 2)
    rec.set({"whole": True})
    rec.set("c", 3)
    assert link.sent() == ["R|CR|rec+"]
    link.receive("R|R|rec|7|{}+")
    assert link.sent() == ['R|P|rec|8|a|O{"k":1}+R|P|rec|9|b|N2+R|U|rec|10|{"whole":true}+R|P|rec|11|c|N3+']
    assert rec.get() == {"whole": True, "c": 3} and rec.version == 11


def test_bad_set_arguments_raise_before_sending():
    link = open_link()
    rec = ready_record(link)
    for args in ((5,), ("",), ("", 1), ("a", object()), ("..", 1), ({"a": float("nan")},), (3, 4)):
        try:
            rec.set(*args)
        except (TypeError, ValueError):
            continue
        raise AssertionError("accepted %r" % (args,))
    try:
        rec.set("a.b", 1)  # a is 1: no path into a number
    except ValueError as err:
        assert "invalid data or path" in str(err)
    else:
        raise AssertionError("set through a scalar accepted")
    assert link.sent() == [] and rec.get() == {"a": 1}


# ---- write acknowledgements ------------------------------------------------------------

def test_write_ack_config_is_exact_and_acks_reach_the_callback():
    link = open_link()
    rec = ready_record(link, version=5)
    acks = []
    rec.set("a", 2, lambda err: acks.append(("p", err)))
    rec.set({"a": 3}, lambda err: acks.append(("u", err)))
    assert link.sent() == ['R|P|rec|6|a|N2|{"writeSuccess":true}+R|U|rec|7|{"a":3}|{"writeSuccess":true}+']
    link.receive("R|WA|rec|[6]|L+")
    link.receive("R|WA|rec|[7]|Sstorage failed+")
    assert acks == [("p", None), ("u", "storage failed")]


def test_write_ack_with_several_versions():
    link = open_link()
    rec = ready_record(link, version=1)
    acks = []
    rec.set("a", 2, acks.append)
    rec.set("a", 3, acks.append)
    link.receive("R|WA|rec|[2,3]|L+")
    assert acks == [None, None]


def test_set_with_callback_while_offline_reports_the_connection_error():
    link = open_link(max_reconnect_attempts=5)
    rec = ready_record(link, version=1)
    link.drop()
    acks = []
    rec.set("a", 2, acks.append)
    assert acks == ["Connection error: error updating record as connection was closed"]
    assert rec.get("a") == 2  # applied locally, the update waits in the queue


def test_a_write_made_offline_asks_for_no_ack():
    """Its callback has had its answer. Asked for an ack, 7.0.2 creates a missing record
    (one a restart lost) at version 0 under our higher version: INVALID_VERSION, and
    every later write to it is refused (test_e2e_records_sync.py)."""
    link = open_link(max_reconnect_attempts=5)
    rec = ready_record(link, version=1)
    link.drop()
    rec.set("a", 2, lambda error: None)
    rec.set({"a": 3}, lambda error: None)
    link.advance(0)
    link.open()
    link.receive("A|A+")
    assert link.sent()[1:] == ['R|P|rec|2|a|N2+R|U|rec|3|{"a":3}+R|CR|rec+']
