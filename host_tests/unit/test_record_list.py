"""Lists with a FakeLink: entries, add/remove with and without index, entry events."""
from deepstream.testing import FakeLink


def open_list(data='["a","b"]', name="l"):
    link = FakeLink()
    link.open()
    link.login()
    lst = link.client.record.get_list(name)
    link.receive("R|R|%s|1|%s+" % (name, data))
    link.sent()
    return link, lst


def test_entries_and_is_empty():
    link, lst = open_list()
    assert lst.get_entries() == ["a", "b"] and not lst.is_empty()
    assert lst.name == "l" and lst.is_ready and lst.version == 1
    _, empty = open_list("{}", "e")  # a new record is {}: an empty list
    assert empty.get_entries() == [] and empty.is_empty()


def test_add_and_remove_send_whole_updates():
    link, lst = open_list()
    lst.add_entry("c")
    lst.add_entry("z", 0)
    lst.remove_entry("a")
    assert link.sent() == ['R|U|l|2|["a","b","c"]+R|U|l|3|["z","a","b","c"]+R|U|l|4|["z","b","c"]+']
    lst.set_entries(["x"])
    assert link.sent() == ['R|U|l|5|["x"]+'] and lst.get_entries() == ["x"]


def test_remove_with_index_removes_only_that_occurrence():
    link, lst = open_list('["a","b","a"]')
    lst.remove_entry("a", 2)
    assert lst.get_entries() == ["a", "b"]
    link2, lst2 = open_list('["a","b","a"]', "m")
    lst2.remove_entry("a")
    assert lst2.get_entries() == ["b"]


def test_bad_entries_and_indexes_refused():
    link, lst = open_list()
    for call in (lambda: lst.add_entry(5), lambda: lst.add_entry("c", 3), lambda: lst.add_entry("c", -1),
                 lambda: lst.set_entries(["a", 1]), lambda: lst.set_entries("ab"),
                 lambda: lst.remove_entry("a", 9)):
        try:
            call()
        except (TypeError, ValueError):
            continue
        raise AssertionError("accepted")
    assert link.sent() == [] and lst.get_entries() == ["a", "b"]


def test_calls_before_ready_are_queued():
    link = FakeLink()
    link.open()
    link.login()
    lst = link.client.record.get_list("q")
    lst.add_entry("x")
    lst.remove_entry("a")
    link.sent()
    link.receive('R|R|q|3|["a"]+')
    assert link.sent() == ['R|U|q|4|["a","x"]+R|U|q|5|["x"]+']


def test_entry_events_for_local_and_remote_changes():
    link, lst = open_list('["a","b"]')
    events = []
    lst.on("entry-added", lambda e, i: events.append(("add", e, i)))
    lst.on("entry-removed", lambda e, i: events.append(("rm", e, i)))
    lst.on("entry-moved", lambda e, i: events.append(("mv", e, i)))
    lst.add_entry("c")
    assert events == [("add", "c", 2)]
    del events[:]
    link.receive('R|U|l|3|["b","c"]+')  # remote: a removed, b and c moved
    assert events == [("rm", "a", 0), ("mv", "b", 0), ("mv", "c", 1)]  # in list order, on both runtimes
    del events[:]
    link.receive('R|U|l|4|["zz","yy","b","xx","c","yy"]+')
    assert events == [("add", "zz", 0), ("add", "yy", 1), ("add", "yy", 5), ("mv", "b", 2),
                      ("add", "xx", 3), ("mv", "c", 4)]
    link.receive('R|U|l|5|["b","c"]+')
    del events[:]
    del events[:]
    lst.remove_entry("c")
    assert events == [("rm", "c", 1)]


def test_subscribe_gets_the_entries():
    link, lst = open_list()
    seen = []
    lst.subscribe(seen.append)
    lst.add_entry("c")
    link.receive('R|U|l|3|{"not":"a list"}+')
    assert seen == [["a", "b", "c"], []]
    lst.unsubscribe(seen.append)
    lst.add_entry("d")
    assert len(seen) == 2


def test_get_list_is_shared_and_discard_counts():
    link, lst = open_list()
    again = link.client.record.get_list("l")
    assert again is lst
    lst.discard()
    assert link.sent() == []
    again.discard()
    assert link.sent() == ["R|US|l+"] and lst.is_destroyed
