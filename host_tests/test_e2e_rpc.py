"""RPC and presence against the real @deepstream/server 7.0.2, with the
official JS client 2.3.4 on the other side, for our client on CPython and
MicroPython (a script run by the unix port, driven by client.poll())."""
import asyncio
import json
import os
import subprocess
import sys
import threading
import time

from deepstream import Client, RpcError
from support.pyclient import open_client as _open_client, pump_until
from support.mp import mp_lib


def open_client(url, username="py-dev", **options):
    return _open_client(url, username, **options)


def provide(client, name, callback):
    client.rpc.provide(name, callback)
    assert pump_until(client, lambda: not client._acks.keys), "provide %s not acked" % name


def call(client, name, data=None, timeout=5.0):
    got = []
    client.rpc.make(name, data, lambda err, res: got.append((err, res)))
    assert pump_until(client, lambda: got, timeout), "no answer for %s" % name
    return got[0]


def _js_make_in_thread(js, name, data=None):
    box = []
    t = threading.Thread(target=lambda: box.append(js.rpc_make(name, data)))
    t.start()
    return box, t


def close(client):
    client.close()
    pump_until(client, lambda: False, 0.1)


def test_js_calls_our_provider(ds_server, js_client):
    client, errors = open_client(ds_server.url)
    calls = []

    def add(data, response):
        calls.append(data)
        response.send(data["a"] + data["b"])
    provide(client, "py/add", add)
    js = js_client(login={"username": "js"})
    answer, t = _js_make_in_thread(js, "py/add", {"a": 1, "b": 2})
    assert pump_until(client, lambda: answer)
    t.join()
    assert answer == [(None, 3)]
    assert calls == [{"a": 1, "b": 2}]
    assert errors == []
    close(client)


def test_our_provider_errors_reach_the_js_caller(ds_server, js_client):
    client, errors = open_client(ds_server.url)

    def fail(data, response):
        if data == "raise":
            raise ValueError("no such sensor")
        response.error("sensor offline")
    provide(client, "py/fail", fail)
    js = js_client(login={"username": "js"})
    for data, expected in (("error", "Ssensor offline"), ("raise", "SValueError: no such sensor")):
        box, t = _js_make_in_thread(js, "py/fail", data)
        assert pump_until(client, lambda: box)
        t.join()
        # 7.0.2 forwards a provider's error text as a typed string: 2.3.4 shows the S
        assert box == [(expected, None)]
    assert [e[0] for e in errors] == ["CALLBACK_ERROR"]
    close(client)


def test_we_call_a_js_provider(ds_server, js_client):
    js = js_client(login={"username": "js"})
    js.rpc_provide("js/echo", "echo")
    js.rpc_provide("js/add", "add")
    js.rpc_provide("js/fail", "error", message="boom")
    js.sync()
    client, errors = open_client(ds_server.url)
    value = {"a": [1, 2, {"b": None}], "s": "x"}
    assert call(client, "js/echo", value) == (None, value)
    assert call(client, "js/echo", "text") == (None, "text")
    assert call(client, "js/add", {"a": 2, "b": 40}) == (None, 42)
    assert call(client, "js/fail", 1) == ("boom", None)  # the 7.0.2 S prefix stripped
    assert call(client, "nobody/provides") == ("NO_RPC_PROVIDER", None)
    assert errors == []
    close(client)


def test_rejection_falls_through_to_another_provider(ds_server, js_client):
    js = js_client(login={"username": "js"})
    js.rpc_provide("shared/job", "answer", data="from-js")
    js.sync()
    client, errors = open_client(ds_server.url)
    rejected = []

    def busy(data, response):
        rejected.append(data)
        response.reject()
    provide(client, "shared/job", busy)
    caller, caller_errors = open_client(ds_server.url, username="py-caller")
    # the server picks a provider at random: call until ours was tried once
    results = []
    for i in range(30):
        got = []
        caller.rpc.make("shared/job", i + 1, lambda err, res: got.append((err, res)))
        assert pump_until_all([client, caller], lambda: got), (i, results, rejected, errors, caller_errors)
        results.append(got[0])
        if rejected:
            break
    assert rejected, "our provider was never chosen in 30 calls"
    assert set(results) == {(None, "from-js")}
    # 7.0.2 would crash rerouting falsy data: our provider answers REJECTED
    for value in (0, None, ""):
        got = []
        caller.rpc.make("shared/job", value, lambda err, res: got.append((err, res)))
        assert pump_until_all([client, caller], lambda: got)
        assert got[0] in ((None, "from-js"), ("REJECTED", None)), got
    # with the JS provider gone, a rejection leaves nobody: NO_RPC_PROVIDER
    js.rpc_unprovide("shared/job")
    js.sync()
    got = []
    caller.rpc.make("shared/job", "last", lambda err, res: got.append((err, res)))
    assert pump_until_all([client, caller], lambda: got)
    assert got == [("NO_RPC_PROVIDER", None)]
    assert rejected[-1] == "last"
    assert errors == [] and caller_errors == []
    close(client)
    close(caller)


def pump_until_all(clients, cond, timeout=5.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        for c in clients:
            c.poll(10)
        if cond():
            return True
    return False


def test_a_disconnected_provider_is_no_longer_called(ds_server, js_client):
    js = js_client(login={"username": "js"})
    client, errors = open_client(ds_server.url)
    called = []
    provide(client, "py/gone", lambda data, response: (called.append(data), response.send("here")))
    box, t = _js_make_in_thread(js, "py/gone", 1)
    assert pump_until(client, lambda: box)
    t.join()
    assert box == [(None, "here")]
    close(client)
    assert js.rpc_make("py/gone", 2) == ("NO_RPC_PROVIDER", None)
    assert 2 not in called
    # and the other way round: a JS provider that leaves
    js2 = js_client(login={"username": "js2"})
    js2.rpc_provide("js/gone", "echo")
    js2.sync()
    caller, caller_errors = open_client(ds_server.url, username="py-caller")
    assert call(caller, "js/gone", 7) == (None, 7)
    js2.close()
    assert pump_until(caller, lambda: False, 0.3) is False
    assert call(caller, "js/gone", 8) == ("NO_RPC_PROVIDER", None)
    assert caller_errors == []
    close(caller)


def test_response_timeout_from_our_timer(ds_server, js_client):
    js = js_client(login={"username": "js"})
    js.rpc_provide("js/silent", "ignore")  # 2.3.4 auto-acks, then never answers
    js.sync()
    client, errors = open_client(ds_server.url, rpc_response_timeout=400)
    t0 = time.monotonic()
    assert call(client, "js/silent") == ("RESPONSE_TIMEOUT", None)
    assert 0.35 < time.monotonic() - t0 < 2.0
    assert errors == []
    close(client)


def test_presence_sees_us_log_in_and_out(ds_server, js_client):
    js = js_client(login={"username": "js-watcher"})
    js.presence_subscribe()
    js.sync()
    client, errors = open_client(ds_server.url, username="py-presence")
    js.wait_presence("py-presence", True)
    # and what we see of the others
    everyone = []
    client.presence.get_all(everyone.append)
    some = []
    client.presence.get_all(["js-watcher", "nobody", "py-presence"], some.append)
    assert pump_until(client, lambda: everyone and some)
    assert "js-watcher" in everyone[0] and "py-presence" not in everyone[0]  # 7.0.2 leaves us out
    assert some[0] == {"js-watcher": True, "nobody": False, "py-presence": True}
    seen = []
    client.presence.subscribe(lambda name, online: seen.append((name, online)))
    client.presence.subscribe("js-late", lambda name, online: seen.append(("one", name, online)))
    assert pump_until(client, lambda: not client._acks.keys)
    late = js_client(login={"username": "js-late"})
    assert pump_until(client, lambda: len(seen) >= 2)
    late.close()
    assert pump_until(client, lambda: len(seen) >= 4)
    # subscribed to everyone and to js-late, 7.0.2 sends each notification
    # twice (once per subscription), and each reaches both callbacks
    pump_until(client, lambda: len(seen) >= 8, 1.0)
    assert sorted(set(seen), key=repr) == sorted([("js-late", True), ("one", "js-late", True),
                                                  ("js-late", False), ("one", "js-late", False)], key=repr)
    assert len(seen) == 8, seen
    close(client)
    js.wait_presence("py-presence", False)
    assert errors == []


def test_awaitables_with_the_asyncio_driver(ds_server, js_client):
    js = js_client(login={"username": "js"})
    js.rpc_provide("js/add", "add")
    js.sync()

    async def main():
        client = Client(ds_server.url)
        task = client.start()
        try:
            await client.login_async({"username": "py-async"})
            total = await client.rpc.make_async("js/add", [1, 2, 3])
            try:
                await client.rpc.make_async("nobody/here", 1)
            except RpcError as err:
                code = err.code
            users = await client.presence.get_all_async()
            status = await client.presence.get_all_async(["js"])
            return total, code, users, status
        finally:
            client.close()
            await asyncio.wait_for(task, 5)
    total, code, users, status = asyncio.run(main())
    assert total == 6
    assert code == "NO_RPC_PROVIDER"
    assert "js" in users and status == {"js": True}


MP_PEER = r"""
import gc
import json
from deepstream import Client
from time import ticks_ms, ticks_diff
client = Client(%r)
errors = []
client.on("error", lambda msg, event, topic: errors.append([event, msg]))
served = []
result = []
def add(data, response):
    served.append(data)
    response.send(data["a"] + data["b"])
client.login({"username": "mp-dev"})
client.rpc.provide("mp/add", add)
client.rpc.make("js/echo", {"x": [1, 2]}, lambda err, res: result.append([err, res]))
gc.collect()
start = ticks_ms()
while not (served and result) and ticks_diff(ticks_ms(), start) < 20000:
    client.poll(20)
for _ in range(10):
    client.poll(10)
print(json.dumps({"served": served, "result": result, "errors": errors}))
client.close()
client.poll(50)
"""


def test_micropython_provides_and_calls(ds_server, js_client, micropython):
    js = js_client(login={"username": "js"})
    js.rpc_provide("js/echo", "echo")
    js.presence_subscribe()
    js.sync()
    env = dict(os.environ, MICROPYPATH=mp_lib() + ":.frozen")
    proc = subprocess.Popen([micropython, "-X", "heapsize=96K", "-c", MP_PEER % ds_server.url],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env, text=True)
    try:
        js.wait_presence("mp-dev", True, timeout=15)
        answer = None
        end = time.monotonic() + 15
        while time.monotonic() < end:  # until the MicroPython provider is registered
            answer = js.rpc_make("mp/add", {"a": 20, "b": 22})
            if answer[0] != "NO_RPC_PROVIDER":
                break
            time.sleep(0.05)
        assert answer == (None, 42)
        out, _ = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0, out
    report = json.loads(out.strip().splitlines()[-1])
    assert report == {"served": [{"a": 20, "b": 22}], "result": [[None, {"x": [1, 2]}]], "errors": []}, out
    js.wait_presence("mp-dev", False, timeout=10)


if __name__ == "__main__":
    sys.exit("run with pytest")
