"""RPC and presence against the real @deepstream/server 7.0.2, on both protocols (the
`protocol` fixture), with the official JS client of that protocol on the other side
(2.3.4 over text, 7.0.5 over binary), for our client on CPython and MicroPython (a
script run by the unix port, driven by client.poll()); and events, RPC and presence
between our client and 7.0.5 on the server as its npm package ships it (binary only).

Where the protocols differ by design, the tests say so: an RPC error is a text on
text (7.0.2 hands a 2.3.4 caller a provider's error as a typed string) and any JSON
value on binary; subscribed to everyone and to a user, a presence callback runs twice
on text (7.0.2 sends U|PNJ per subscription) and once on binary (JOIN_ALL apart from
JOIN); a rejected request with falsy data is rerouted on binary, answered REJECTED on
text (7.0.2's text endpoint would crash rerouting it: rpc.py).
"""
import asyncio
import json
import os
import subprocess

from deepstream import Client, RpcError
from support.mp import mp_lib
from support.pyclient import close, pump_during, pump_until

SECRET_RPCS = {"rpc": {"*": {"provide": True, "request": True}, "secret/*": {"provide": False, "request": False}}}


def provide(client, name, callback):
    client.rpc.provide(name, callback)
    assert pump_until(client, lambda: not client._acks.keys), "provide %s not acked" % name


def call(client, name, data=None, also=()):
    """make() and the (error, result) it ends with; `also`: our clients polled meanwhile."""
    got = []
    client.rpc.make(name, data, lambda err, res: got.append((err, res)))

    def answered():
        for other in also:
            other.poll(5)
        return got
    assert pump_until(client, answered), "no answer for %s" % name
    return got[0]


def test_js_calls_our_provider(ds_server, js_client, py_client, protocol):
    client, errors = py_client(ds_server.url_for(protocol))
    calls = []

    def add(data, response):
        calls.append(data)
        response.send(data["a"] + data["b"])
    provide(client, "py/add", add)
    js = js_client(login={"username": "js"}, protocol=protocol)
    assert pump_during(client, lambda: js.rpc_make("py/add", {"a": 1, "b": 2})) == (None, 3)
    assert calls == [{"a": 1, "b": 2}]
    assert errors == []


def test_our_provider_errors_reach_the_js_caller(ds_server, js_client, py_client, protocol):
    client, errors = py_client(ds_server.url_for(protocol))

    def fail(data, response):
        if data == "raise":
            raise ValueError("no such sensor")
        response.error("sensor offline")
    provide(client, "py/fail", fail)
    js = js_client(login={"username": "js"}, protocol=protocol)
    # 7.0.2 forwards a provider's error text to a 2.3.4 caller as a typed string: it shows the S
    prefix = {"text": "S", "binary": ""}[protocol]
    for data, expected in (("error", "sensor offline"), ("raise", "ValueError: no such sensor")):
        assert pump_during(client, lambda: js.rpc_make("py/fail", data)) == (prefix + expected, None)
    assert [e[0] for e in errors] == ["CALLBACK_ERROR"]


def test_we_call_a_js_provider(ds_server, js_client, py_client, protocol):
    js = js_client(login={"username": "js"}, protocol=protocol)
    js.rpc_provide("js/echo", "echo")
    js.rpc_provide("js/add", "add")
    js.rpc_provide("js/fail", "error", message="boom")
    js.rpc_provide("js/fail-object", "error", message={"code": 7})
    js.rpc_provide("js/reject", "reject")
    js.sync()
    client, errors = py_client(ds_server.url_for(protocol))
    value = {"a": [1, 2, {"b": None}], "s": "x"}
    assert call(client, "js/echo", value) == (None, value)
    assert call(client, "js/echo", "text") == (None, "text")
    assert call(client, "js/add", {"a": 2, "b": 40}) == (None, 42)
    assert call(client, "js/fail", 1) == ("boom", None)  # text: the 7.0.2 S prefix stripped
    # binary: REQUEST_ERROR carries a JSON value; text: 2.3.4 sends the error as a text
    assert call(client, "js/fail-object", 1) == ({"text": '{"code":7}', "binary": {"code": 7}}[protocol], None)
    assert call(client, "js/reject", 1) == ("NO_RPC_PROVIDER", None)
    assert call(client, "nobody/provides") == ("NO_RPC_PROVIDER", None)
    assert errors == []


def test_provide_unprovide_and_the_server_timeouts(ds_server_factory, js_client, py_client, protocol):
    """The server's ACCEPT_TIMEOUT (reported as ACK_TIMEOUT, the v3 name) and
    RESPONSE_TIMEOUT come before our own timers (6 s, 10 s); MESSAGE_DENIED by permissions."""
    srv = ds_server_factory(permissions=SECRET_RPCS, extra_config={"rpc": {"ackTimeout": 300,
                                                                          "responseTimeout": 600}})
    js = js_client(srv.url_for(protocol), login={"username": "js"})
    js.rpc_provide("js/silent", "ignore")  # accepts, never answers
    js.sync()
    provider, provider_errors = py_client(srv.url_for(protocol), login={"username": "py-provider"})
    client, errors = py_client(srv.url_for(protocol))
    served = []

    def no_accept(data, response):
        served.append(data)
        response.auto_ack = False  # and no answer
    provide(provider, "py/unaccepted", no_accept)
    provider.rpc.provide("secret/py", no_accept)
    assert call(client, "py/unaccepted", 1, also=[provider]) == ("ACK_TIMEOUT", None)
    assert served == [1]
    assert call(client, "js/silent", 2) == ("RESPONSE_TIMEOUT", None)
    assert call(client, "secret/js", 3) == ("MESSAGE_DENIED", None)
    provider.rpc.unprovide("py/unaccepted")
    assert pump_until(provider, lambda: not provider._acks.keys)
    assert call(client, "py/unaccepted", 4, also=[provider]) == ("NO_RPC_PROVIDER", None)
    assert served == [1]
    assert provider_errors == [("MESSAGE_DENIED", "secret/py", "P")] and errors == []


def test_rejection_falls_through_to_another_provider(ds_server, js_client, py_client, protocol):
    js = js_client(login={"username": "js"}, protocol=protocol)
    js.rpc_provide("shared/job", "answer", data="from-js")
    js.sync()
    client, errors = py_client(ds_server.url_for(protocol))
    rejected = []

    def busy(data, response):
        rejected.append(data)
        response.reject()
    provide(client, "shared/job", busy)
    caller, caller_errors = py_client(ds_server.url_for(protocol), login={"username": "py-caller"})
    # the server picks a provider at random: call until ours was tried once
    results = []
    for i in range(30):
        results.append(call(caller, "shared/job", i + 1, also=[client]))
        if rejected:
            break
    assert rejected, "our provider was never chosen in 30 calls"
    assert set(results) == {(None, "from-js")}
    # 7.0.2's text endpoint would crash rerouting falsy data: there our provider answers REJECTED
    falsy = {"text": {(None, "from-js"), ("REJECTED", None)}, "binary": {(None, "from-js")}}[protocol]
    for value in (0, None, ""):
        assert call(caller, "shared/job", value, also=[client]) in falsy
    # with the JS provider gone, a rejection leaves nobody: NO_RPC_PROVIDER
    js.rpc_unprovide("shared/job")
    js.sync()
    assert call(caller, "shared/job", "last", also=[client]) == ("NO_RPC_PROVIDER", None)
    assert rejected[-1] == "last"
    assert errors == [] and caller_errors == []


def test_a_disconnected_provider_is_no_longer_called(ds_server, js_client, py_client, protocol):
    """The server drops a connection's provides when it drops the connection: its
    presence leave says it has."""
    js = js_client(login={"username": "js"}, protocol=protocol)
    js.presence_subscribe("py-gone")
    js.sync()
    client, errors = py_client(ds_server.url_for(protocol), login={"username": "py-gone"})
    called = []
    provide(client, "py/gone", lambda data, response: (called.append(data), response.send("here")))
    assert pump_during(client, lambda: js.rpc_make("py/gone", 1)) == (None, "here")
    close(client)
    js.wait_presence("py-gone", False)
    assert js.rpc_make("py/gone", 2) == ("NO_RPC_PROVIDER", None)
    assert called == [1]
    # and the other way round: a JS provider that leaves
    js2 = js_client(login={"username": "js2"}, protocol=protocol)
    js2.rpc_provide("js/gone", "echo")
    js2.sync()
    caller, caller_errors = py_client(ds_server.url_for(protocol), login={"username": "py-caller"})
    left = []
    caller.presence.subscribe("js2", lambda user, online: left.append(not online))
    assert call(caller, "js/gone", 7) == (None, 7)
    js2.close()
    assert pump_until(caller, lambda: any(left))
    assert call(caller, "js/gone", 8) == ("NO_RPC_PROVIDER", None)
    assert errors == [] and caller_errors == []


def test_response_timeout_from_our_timer(ds_server, js_client, py_client, protocol):
    js = js_client(login={"username": "js"}, protocol=protocol)
    js.rpc_provide("js/silent", "ignore")  # accepts, then never answers
    js.sync()
    client, errors = py_client(ds_server.url_for(protocol), rpc_response_timeout=400)
    # ours: the server's RESPONSE_TIMEOUT (10 s) would come after call()'s 5 s
    assert call(client, "js/silent") == ("RESPONSE_TIMEOUT", None)
    assert errors == []


def test_presence_sees_us_log_in_and_out(ds_server, js_client, py_client, protocol):
    js = js_client(login={"username": "js-watcher"}, protocol=protocol)
    js.presence_subscribe()
    js.sync()
    client, errors = py_client(ds_server.url_for(protocol), login={"username": "py-presence"})
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
    client.presence.subscribe(lambda name, online: seen.append(("all", name, online)))
    client.presence.subscribe("js-late", lambda name, online: seen.append(("one", name, online)))
    assert pump_until(client, lambda: not client._acks.keys)
    late = js_client(login={"username": "js-late"}, protocol=protocol)
    # binary: JOIN_ALL reaches the subscription to everyone, JOIN the one to js-late: each
    # callback once. Text: 7.0.2 sends U|PNJ once per subscription and each reaches both
    # callbacks: each callback twice (as with the reference client, presence.py)
    times = {"text": 2, "binary": 1}[protocol]
    joins = [("all", "js-late", True), ("one", "js-late", True)] * times
    assert pump_until(client, lambda: len(seen) == len(joins)) and sorted(seen) == sorted(joins)
    late.close()
    leaves = [(who, name, False) for who, name, _ in joins]
    assert pump_until(client, lambda: len(seen) == 2 * len(joins)) and sorted(seen[len(joins):]) == sorted(leaves)
    client.presence.unsubscribe()
    client.presence.unsubscribe("js-late")
    assert pump_until(client, lambda: not client._acks.keys)  # acked (an ack not come: ACK_TIMEOUT)
    close(client)
    js.wait_presence("py-presence", False)
    assert errors == []


def test_awaitables_with_the_asyncio_driver(ds_server, js_client, protocol):
    js = js_client(login={"username": "js"}, protocol=protocol)
    js.rpc_provide("js/add", "add")
    js.sync()

    async def main():
        client = Client(ds_server.url_for(protocol))
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


def test_stock_server_events_rpc_presence_both_ways(stock_server, js_client, py_client):
    """The server as its npm package ships it, a bare host:port (binary), JS 7.0.5."""
    js = js_client(stock_server.binary_url, login={"username": "js-stock"})
    js.event_subscribe("stock/to-js")
    js.rpc_provide("stock/js-add", "add")
    js.presence_subscribe()
    js.sync()
    client, errors = py_client("ws://%s:%d" % (stock_server.host, stock_server.port), login={"username": "py-stock"})
    assert client.get_url() == stock_server.binary_url
    js.wait_presence("py-stock", True)
    got = []
    client.event.subscribe("stock/to-py", got.append)
    provide(client, "stock/py-add", lambda data, response: response.send(sum(data)))
    js.event_emit("stock/to-py", {"n": [1, None]})
    assert pump_until(client, lambda: got) and got == [{"n": [1, None]}]
    client.event.emit("stock/to-js", "hi")
    client.poll(0)
    assert js.wait_event("stock/to-js") == "hi"
    assert pump_during(client, lambda: js.rpc_make("stock/py-add", [1, 2])) == (None, 3)
    assert call(client, "stock/js-add", [3, 4]) == (None, 7)
    everyone = []
    client.presence.get_all(everyone.append)
    assert pump_until(client, lambda: everyone) and everyone == [["js-stock"]]
    close(client)
    js.wait_presence("py-stock", False)
    assert errors == []


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


# a provider and caller with presence, on the 64-bit port from .mpy: 104K is the smallest
# that runs it on either protocol (96K before the message model and the codecs, docs/MEMORY.md)
MP_HEAP = "112K"


def test_micropython_provides_and_calls(ds_server, js_client, micropython, protocol):
    js = js_client(login={"username": "js"}, protocol=protocol)
    js.rpc_provide("js/echo", "echo")
    js.presence_subscribe()
    js.sync()
    env = dict(os.environ, MICROPYPATH=mp_lib() + ":.frozen")
    proc = subprocess.Popen([micropython, "-X", "heapsize=" + MP_HEAP, "-c", MP_PEER % ds_server.url_for(protocol)],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env, text=True)
    try:
        js.wait_presence("mp-dev", True, timeout=15)
        # until the MicroPython provider is registered
        answer = js.rpc_make("mp/add", {"a": 20, "b": 22})
        while answer[0] == "NO_RPC_PROVIDER" and proc.poll() is None:
            answer = js.rpc_make("mp/add", {"a": 20, "b": 22})
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
