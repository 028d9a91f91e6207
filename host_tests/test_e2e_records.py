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
