"""Records against the real @deepstream/server 7.0.2: our client on both runtimes
(CPython, and MicroPython with the library as .mpy: support/device.py) and both
protocols, the official JS client on the other side (2.3.4 on text, 7.0.5 on binary).
Binary runs against the configuration the server's npm package ships (binary only,
what a new user runs: the `stock_server`), text against the generated configuration's
ws-text endpoint. What goes on the wire is read through a TcpProxy where it matters.
"""
import re

from support.device import UNDEFINED


def test_get_set_path_set_and_erase_both_ways(device, protocol_url, js, names):
    name = names("rec")
    dev = device(protocol_url)
    rec = dev.ready_record(name)
    rec.call("subscribe", dev.cb("data"))
    js.record_get(name)
    # ours -> JS: a whole set, a path set, an erase
    for args, want in ((({"a": 1, "b": {"c": [1, 2]}},), {"a": 1, "b": {"c": [1, 2]}}),
                       (("b.c[1]", "x"), {"a": 1, "b": {"c": [1, "x"]}}),
                       (("a", UNDEFINED), {"b": {"c": [1, "x"]}})):
        rec.call("set", *args)
        dev.until(lambda: js.record_data(name) == want, "%r at the JS client" % (want,))
        assert rec.call("get") == want and dev.calls("data")[-1] == [want]
    # JS -> ours: the same three
    js.record_set(name, {"j": {"k": 1}, "l": [0]})
    dev.until(lambda: rec.call("get") == {"j": {"k": 1}, "l": [0]}, "JS's whole set")
    js.record_set(name, 2, path="j.k")
    dev.until(lambda: rec.call("get") == {"j": {"k": 2}, "l": [0]}, "JS's path set")
    js.record_erase(name, "l")
    dev.until(lambda: rec.call("get") == {"j": {"k": 2}}, "JS's erase")
    assert dev.calls("data")[-1] == [{"j": {"k": 2}}]
    assert rec.get("version") == js.record_version(name) == 6
    assert dev.errors() == [] and js.errors == []


def test_falsy_path_sets(device, protocol_url, protocol, js, names, tap):
    """0, false and "" set by path. 7.0.2's text endpoint refuses them as a path set
    (INVALID_MESSAGE_DATA), so on text they go out as a whole update (the codec's
    FALSY_PATH_SET); the binary endpoint takes the path set as it is."""
    name = names("zero")
    dev = device(tap.url)
    rec = dev.ready_record(name)
    rec.call("set", "count", 5)
    for path, value in (("count", 0), ("flag", False), ("s", "")):
        rec.call("set", path, value, dev.cb("ack"))
    dev.until(lambda: len(dev.calls("ack")) == 3, "3 write acks")
    assert dev.calls("ack") == [[None]] * 3 and dev.errors() == []
    assert js.record_snapshot(name) == (None, {"count": 0, "flag": False, "s": ""})
    writes = [(m["action"], m["path"]) for m in tap.sent() if m["action"] in ("UPDATE", "PATCH")]
    if protocol == "binary":
        assert writes == [("PATCH", "count"), ("PATCH", "count"), ("PATCH", "flag"), ("PATCH", "s")]
    else:
        assert writes == [("PATCH", "count"), ("UPDATE", None), ("UPDATE", None), ("UPDATE", None)]


def test_paths_as_written_and_rewritten_build_our_document(device, protocol_url, js, names, tap):
    """A path that creates a list goes out in bracket form on both protocols: 7.0.2
    reads `fresh.0.x` as an object key on either endpoint (the next test)."""
    dev = device(tap.url)
    name = names("paths")
    rec = dev.ready_record(name)
    rec.call("set", {"pets": [{"name": "Ruffles"}], "o": {"0": "a"}}, dev.cb("ack"))
    rec.call("set", "pets.0.name", "Max", dev.cb("ack"))  # into the existing list: sent as written
    rec.call("set", "o[0]", "b", dev.cb("ack"))  # a numeric key of an object: as written
    rec.call("set", "fresh.0.x", 1, dev.cb("ack"))  # creates a list: sent as fresh[0].x
    rec.call("set", "pets.1.tags.0", "good", dev.cb("ack"))  # creates an object holding a list
    dev.call("record.set_data", names("paths-cu"), "l.0", "x", dev.cb("ack"))  # not held: a new record's
    dev.until(lambda: len(dev.calls("ack")) == 6, "6 write acks")
    assert dev.calls("ack") == [[None]] * 6 and dev.errors() == []
    paths = [m["path"] for m in tap.sent() if m["path"] is not None]
    assert paths == ["pets.0.name", "o[0]", "fresh[0].x", "pets[1].tags[0]", "l[0]"], paths
    expected = {"pets": [{"name": "Max"}, {"tags": ["good"]}], "o": {"0": "b"}, "fresh": [{"x": 1}]}
    assert rec.call("get") == expected
    assert js.record_snapshot(name) == (None, expected)  # the server's copy
    assert js.record_snapshot(names("paths-cu")) == (None, {"l": ["x"]})


def test_the_reference_clients_verbatim_path_creates_an_object(js_client, protocol_url, names):
    """Why we rewrite a path that creates a list: sent as written (2.3.4 and 7.0.5 do),
    the server builds an object, on both endpoints; 2.3.4 itself builds a list (its
    copy then differs from the server's), 7.0.5 an object as the server does."""
    name = names("verbatim")
    js = js_client(protocol_url, login=True)
    js.record_get(name)
    assert js.record_set(name, 1, path="fresh.0.x", ack=True) is None
    mine = {"fresh": [{"x": 1}]} if js.protocol == "text" else {"fresh": {"0": {"x": 1}}}
    assert js.record_data(name) == mine
    other = js_client(protocol_url, login=True)
    assert other.record_snapshot(name) == (None, {"fresh": {"0": {"x": 1}}})


def test_the_reference_clients_falsy_path_set(js_client, protocol_url, protocol, names):
    """Why the codecs' FALSY_PATH_SET differ: a path set of 0 as the reference clients
    send it, as written. 7.0.2's text endpoint refuses it (INVALID_MESSAGE_DATA; 2.3.4's
    write is never acknowledged), its binary endpoint takes it (7.0.5)."""
    name = names("falsy")
    js = js_client(protocol_url, login=True)
    js.record_get(name)
    other = js_client(protocol_url, login=True)
    if protocol == "text":
        js.record_set(name, 0, path="n")
        assert js.wait_error("INVALID_MESSAGE_DATA")["message"] == "0"
        assert other.record_snapshot(name) == (None, {})
    else:
        assert js.record_set(name, 0, path="n", ack=True) is None
        assert other.record_snapshot(name) == (None, {"n": 0})


def test_concurrent_edits_by_path_and_whole_converge(device, protocol_url, js, names):
    name = names("shared")
    js.record_get(name)
    dev = device(protocol_url)
    rec = dev.ready_record(name)
    for i in range(10):
        # both sides write at once, by path and whole, without waiting for each other
        rec.call("set", "py.n", i)
        rec.call("set", "list[0].name", "py%d" % i)  # a bracket path into a list
        js.record_set(name, {"js": i, "pets": [{"name": "js%d" % i}]} if i % 2 else "js%d" % i,
                      path=None if i % 2 else "js")
        if i % 3 == 0:
            rec.call("set", {"py": {"n": i}, "whole": i})
        dev.run(30)
    rec.call("set", "final", "py")  # one more write each, then let everything settle
    js.record_set(name, "js", path="final2")

    def converged():
        return js.record_data(name) == rec.call("get") and js.record_version(name) == rec.get("version")
    dev.until(converged, "convergence", timeout=10)
    assert js.record_snapshot(name) == (None, rec.call("get"))
    assert [e for e in dev.errors() if e[0] != "VERSION_EXISTS"] == []


def test_write_acks_and_set_data(device, protocol_url, protocol, js, names, tap):
    """Write acks of every kind of write; set_data without holding the record:
    CREATEANDUPDATE / CREATEANDPATCH with version -1, with and without a write ack;
    set_data on a held record goes through the record (its version + 1)."""
    dev = device(tap.url)
    rec = dev.ready_record(names("held"))
    rec.call("set", "a.b", 1, dev.cb("ack"))
    rec.call("set", {"whole": [1, 2]}, dev.cb("ack"))
    rec.call("set", "whole", UNDEFINED, dev.cb("ack"))
    new, patched = names("new"), names("patched")
    dev.call("record.set_data", new, {"x": 1})
    dev.call("record.set_data", new, {"x": 2, "y": 3}, dev.cb("ack"))
    dev.call("record.set_data", patched, "p.q", "v")
    dev.call("record.set_data", patched, "r", [1], dev.cb("ack"))
    dev.call("record.set_data", names("held"), "c", 3, dev.cb("ack"))
    dev.until(lambda: len(dev.calls("ack")) == 6, "6 write acks")
    assert dev.calls("ack") == [[None]] * 6 and dev.errors() == []
    sent = [(m["action"], m["name"], m["version"], m["path"], m["write_ack"]) for m in tap.sent()
            if m["action"] not in ("SUBSCRIBECREATEANDREAD",)]
    erase = ("ERASE", names("held"), 3, "whole", True)
    assert sent == [("PATCH", names("held"), 1, "a.b", True), ("UPDATE", names("held"), 2, None, True), erase,
                    ("CREATEANDUPDATE", new, -1, None, False), ("CREATEANDUPDATE", new, -1, None, True),
                    ("CREATEANDPATCH", patched, -1, "p.q", False), ("CREATEANDPATCH", patched, -1, "r", True),
                    ("PATCH", names("held"), 4, "c", True)], sent
    assert js.record_snapshot(new) == (None, {"x": 2, "y": 3})
    assert js.record_snapshot(patched) == (None, {"p": {"q": "v"}, "r": [1]})
    assert js.record_snapshot(names("held")) == (None, {"c": 3})


def test_snapshot_head_and_has(device, protocol_url, js, names, tap):
    """For a record on the server, a missing one, and one we hold (answered at
    once, nothing sent)."""
    there, missing, held = names("there"), names("missing"), names("held")
    assert js.record_set_data(there, {"a": 1}) is None
    dev = device(tap.url)
    rec = dev.ready_record(held)
    rec.call("set", {"h": 1}, dev.cb("ack"))
    dev.until(lambda: dev.calls("ack"), "write ack")
    asked = len(tap.sent())
    for name in (held, there, missing):
        for kind in ("snapshot", "head", "has"):
            dev.call("record." + kind, name, dev.cb("%s %s" % (kind, name)))
    assert dev.calls("snapshot " + held) == [[None, {"h": 1}]]  # answered within the call
    assert dev.calls("head " + held) == [[None, 1]] and dev.calls("has " + held) == [[None, True]]
    keys = ["%s %s" % (kind, name) for name in (there, missing) for kind in ("snapshot", "head", "has")]
    dev.until(lambda: all(dev.calls(k) for k in keys), "6 answers")
    answers = {n: a for n, a in dev.recorder.log if n.split(" ")[0] in ("snapshot", "head", "has")}
    assert answers == {
        "snapshot " + held: [None, {"h": 1}], "head " + held: [None, 1], "has " + held: [None, True],
        "snapshot " + there: [None, {"a": 1}], "head " + there: [None, 1], "has " + there: [None, True],
        "snapshot " + missing: ["RECORD_NOT_FOUND", None], "head " + missing: ["RECORD_NOT_FOUND", None],
        "has " + missing: [None, False]}
    requests = [(m["action"], m["name"]) for m in tap.sent()[asked:]]
    # has and head share one HEAD; nothing about the held record
    assert sorted(requests) == sorted([("READ", there), ("HEAD", there), ("READ", missing), ("HEAD", missing)])
    assert dev.errors() == []


def test_delete_and_discard(device, protocol_url, js, names):
    """Each side sees the other's delete; the deleter gets its own delete event.
    A discarded record hears nothing more."""
    dev = device(protocol_url)
    mine, theirs, dropped = names("del-mine"), names("del-theirs"), names("discarded")
    js.record_get(mine)
    rec = dev.ready_record(mine)
    rec.call("on", "delete", dev.cb("deleted mine"))
    rec.call("delete")
    dev.until(lambda: dev.calls("deleted mine"), "our delete event")
    js.wait_for(lambda n: n["kind"] == "record_event" and n["name"] == mine and n["event"] == "delete")
    assert rec.get("is_destroyed") and mine not in dev.call("record.record_names")
    rec2 = dev.ready_record(theirs)
    js.record_get(theirs)
    rec2.call("on", "delete", dev.cb("deleted theirs"))
    assert js.record_delete(theirs)[0]
    dev.until(lambda: dev.calls("deleted theirs"), "JS's delete")
    assert rec2.get("is_destroyed")
    rec3 = dev.ready_record(dropped)
    rec3.call("on", "discard", dev.cb("discarded"))
    rec3.call("discard")
    dev.until(lambda: dev.calls("discarded"), "discard event")
    assert js.record_set_data(dropped, {"after": 1}) is None  # we are no longer subscribed: no message
    dev.run(200)
    assert rec3.get("is_destroyed") and dev.errors() == []


def test_lists(device, protocol_url, js, names):
    name = names("list")
    js.record_get(name)
    dev = device(protocol_url)
    lst = dev.call("record.get_list", name)
    dev.until(lambda: lst.get("is_ready"), "list ready")
    for event in ("entry-added", "entry-removed", "entry-moved"):
        lst.call("on", event, dev.cb(event))
    lst.call("subscribe", dev.cb("entries"))
    lst.call("add_entry", "a")
    lst.call("add_entry", "b")
    lst.call("add_entry", "c", 0)
    lst.call("remove_entry", "a")
    dev.until(lambda: js.record_data(name) == ["c", "b"], "our entries at the JS client")
    lst.call("set_entries", ["b", "c", "b"], dev.cb("ack"))
    dev.until(lambda: dev.calls("ack") == [[None]], "write ack")
    lst.call("remove_entry", "b", 2)
    dev.until(lambda: js.record_data(name) == ["b", "c"], "an entry removed by index")
    assert not lst.call("is_empty")
    # theirs: the whole list replaced
    js.record_set(name, ["c", "d"])
    dev.until(lambda: lst.call("get_entries") == ["c", "d"], "JS's entries")
    assert dev.calls("entries")[-1] == [["c", "d"]]
    assert dev.calls("entry-added") == [["a", 0], ["b", 1], ["c", 0], ["b", 2], ["d", 1]]
    assert dev.calls("entry-removed") == [["a", 1], ["b", 2], ["b", 0]]
    assert dev.calls("entry-moved") == [["a", 1], ["b", 2], ["b", 1], ["b", 0], ["c", 1], ["c", 0]]
    assert dev.errors() == []


def test_listen_and_providers(device, protocol_url, protocol, js, names):
    """Our listener: matches found and removed, accepted or rejected. Theirs: our
    record learns whether it has a provider (has_provider, "hasProviderChanged")."""
    dev = device(protocol_url)
    ours = names("ours")
    dev.call("record.listen", re.escape(ours) + "/.*", dev.cb("match"))
    js.record_get(ours + "/1")
    dev.until(lambda: dev.calls("match"), "a match")
    (sub, found, response), = dev.calls("match")
    assert (sub, found) == (ours + "/1", True)
    response.call("accept")
    js.record_get(ours + "/2")
    dev.until(lambda: len(dev.calls("match")) == 2, "a second match")
    dev.calls("match")[1][2].call("reject")
    js.sync()  # the server has our answers
    js.record_discard(ours + "/1")
    js.record_discard(ours + "/2")
    # only the accepted match is removed
    dev.until(lambda: len(dev.calls("match")) == 3, "the match removed")
    assert dev.calls("match")[2] == [ours + "/1", False, None]
    # their listener and our record
    theirs = names("theirs")
    js.record_listen(re.escape(theirs) + "/.*", accept=True)
    js.sync()
    rec = dev.call("record.get_record", theirs + "/1")
    rec.call("on", "hasProviderChanged", dev.cb("provider"))
    dev.until(lambda: rec.get("has_provider"), "has_provider")
    js.record_unlisten(re.escape(theirs) + "/.*")
    dev.until(lambda: not rec.get("has_provider"), "no provider")
    assert dev.calls("provider") == [[True], [False]]
    dev.call("record.unlisten", re.escape(ours) + "/.*")
    dev.sync()  # the listen and unlisten acks have arrived
    assert dev.errors() == []
