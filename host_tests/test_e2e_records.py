"""Records against the real @deepstream/server 7.0.2, with the official JS
client 2.3.4 editing the same records (our client on CPython)."""
import time

from support.pyclient import open_client as _open_client, pump, pump_until


def open_client(url, username="py-records"):
    return _open_client(url, username)


def ready(client, name):
    rec = client.record.get_record(name)
    assert pump_until(client, lambda: rec.is_ready), name
    return rec


def test_set_count_zero_works_against_702(ds_server, js_client):
    client, errors = open_client(ds_server.url)
    rec = ready(client, "e2e/zero")
    rec.set("count", 5)
    acks = []
    rec.set("count", 0, acks.append)  # 7.0.2 refuses R|P with N0: sent as R|U
    rec.set("flag", False, acks.append)
    rec.set("s", "", acks.append)
    assert pump_until(client, lambda: len(acks) == 3), errors
    assert acks == [None, None, None] and errors == []
    js = js_client(ds_server.url)
    assert js.login({"username": "js"})[0]
    err, data = js.record_snapshot("e2e/zero")
    assert err is None and data == {"count": 0, "flag": False, "s": ""}


def test_write_acks_arrive(ds_server):
    client, errors = open_client(ds_server.url)
    rec = ready(client, "e2e/acks")
    acks = []
    rec.set("a.b", 1, acks.append)
    rec.set({"whole": [1, 2]}, acks.append)
    client.record.set_data("e2e/acks-cu", "x[0]", "y", acks.append)
    assert pump_until(client, lambda: len(acks) == 3), errors
    assert acks == [None, None, None] and errors == []


def test_paths_as_written_and_rewritten_build_our_document_on_702(ds_server, js_client):
    client, errors = open_client(ds_server.url)
    sent = []
    send = client._conn.send
    client._conn.send = lambda msg: (sent.append(msg), send(msg))
    rec = ready(client, "e2e/paths")
    acks = []
    rec.set({"pets": [{"name": "Ruffles"}], "o": {"0": "a"}}, acks.append)
    rec.set("pets.0.name", "Max", acks.append)  # into the existing list: sent as written
    rec.set("o[0]", "b", acks.append)  # a numeric key of an object: as written
    rec.set("fresh.0.x", 1, acks.append)  # creates a list: sent as fresh[0].x
    rec.set("pets.1.tags.0", "good", acks.append)  # creates an object holding a list
    client.record.set_data("e2e/paths-cu", "l.0", "x", acks.append)  # R|CU: written for a new record
    assert pump_until(client, lambda: len(acks) == 6), errors
    assert acks == [None] * 6 and errors == []
    paths = [m.split("\x1f")[4] for m in sent if m[:4] in ("R\x1fP\x1f", "R\x1fCU")]
    assert paths == ["pets.0.name", "o[0]", "fresh[0].x", "pets[1].tags[0]", "l[0]"], paths
    expected = {"pets": [{"name": "Max"}, {"tags": ["good"]}], "o": {"0": "b"}, "fresh": [{"x": 1}]}
    assert rec.get() == expected
    js = js_client(ds_server.url, login=True)
    assert js.record_snapshot("e2e/paths") == (None, expected)  # the server's copy
    assert js.record_snapshot("e2e/paths-cu") == (None, {"l": ["x"]})


def test_the_reference_clients_verbatim_path_creates_an_object_on_702(ds_server, js_client):
    """Why we rewrite a path that creates a list: sent as written (2.3.4 does), the
    server builds an object where the client built a list."""
    js = js_client(ds_server.url, login=True)
    js.record_get("e2e/verbatim")
    assert js.record_set("e2e/verbatim", 1, path="fresh.0.x", ack=True) is None
    assert js.record_data("e2e/verbatim") == {"fresh": [{"x": 1}]}
    other = js_client(ds_server.url, login=True)
    assert other.record_snapshot("e2e/verbatim") == (None, {"fresh": {"0": {"x": 1}}})


def test_concurrent_edits_by_path_and_whole_converge(ds_server, js_client):
    name = "e2e/shared"
    js = js_client(ds_server.url)
    assert js.login({"username": "js"})[0]
    js.record_get(name)
    client, errors = open_client(ds_server.url)
    rec = ready(client, name)
    for i in range(10):
        # both sides write at once, by path and whole, without waiting for each other
        rec.set("py.n", i)
        rec.set("list[0].name", "py%d" % i)  # a bracket path into a list
        js.record_set(name, {"js": i, "pets": [{"name": "js%d" % i}]} if i % 2 else "js%d" % i,
                      path=None if i % 2 else "js")
        if i % 3 == 0:
            rec.set({"py": {"n": i}, "whole": i})
        pump(client, 30)
    rec.set("final", "py")  # one more write each, then let everything settle
    js.record_set(name, "js", path="final2")

    def converged():
        data = js.record_data(name)
        return data == rec.get() and js.record_version(name) == rec.version

    end = time.monotonic() + 10
    while time.monotonic() < end and not converged():
        pump(client, 100)
    assert converged(), (rec.version, rec.get(), js.record_version(name), js.record_data(name))
    err, snap = js.record_snapshot(name)
    assert snap == rec.get()
    assert [e for e in errors if e[0] != "VERSION_EXISTS"] == []


def test_delete_is_seen_by_the_other_client(ds_server, js_client):
    js = js_client(ds_server.url)
    assert js.login({"username": "js"})[0]
    client, errors = open_client(ds_server.url)
    # ours deletes, the JS client sees it
    js.record_get("e2e/del-1")
    rec = ready(client, "e2e/del-1")
    deleted = []
    rec.on("delete", lambda: deleted.append(1))
    rec.delete()
    assert pump_until(client, lambda: deleted), errors
    js.wait_for(lambda n: n["kind"] == "record_event" and n["name"] == "e2e/del-1" and n["event"] == "delete")
    # the JS client deletes, ours sees it
    rec2 = ready(client, "e2e/del-2")
    js.record_get("e2e/del-2")
    seen = []
    rec2.on("delete", lambda: seen.append(1))
    assert js.record_delete("e2e/del-2")[0]
    assert pump_until(client, lambda: seen), errors
    assert rec2.is_destroyed and errors == []


def test_has_and_snapshot_against_702(ds_server):
    client, errors = open_client(ds_server.url)
    rec = ready(client, "e2e/exists")
    rec.set("a", 1)
    rec.discard()
    pump(client, 100)
    got = []
    client.record.has("e2e/exists", lambda e, v: got.append(("has", e, v)))
    client.record.has("e2e/never-was", lambda e, v: got.append(("has", e, v)))
    client.record.snapshot("e2e/exists", lambda e, v: got.append(("snap", e, v)))
    client.record.snapshot("e2e/never-was", lambda e, v: got.append(("snap", e, v)))
    assert pump_until(client, lambda: len(got) == 4), errors
    assert sorted(got, key=repr) == sorted([("has", None, True), ("has", None, False),
                                            ("snap", None, {"a": 1}),
                                            ("snap", "RECORD_NOT_FOUND", None)], key=repr)
    assert errors == []
