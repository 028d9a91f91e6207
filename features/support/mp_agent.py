"""Runs the deepstream client inside MicroPython for the behave harness.

    micropython -X heapsize=112K features/support/mp_agent.py <path to lib/>

One JSON command per stdin line, answered on stdout; the agent handles one
command at a time and only runs the client (client.poll) during "pump".

    {"op":"init","url":"localhost:7777","options":{...}}  -> Client(url, **options)
    {"op":"call","method":"event.subscribe","args":["news",{"$cb":"event:news"}]}
    {"op":"call","target":3,"method":"accept","args":[]}   (method of handle 3)
    {"op":"call","target":4,"method":"","args":[null,{}]}  (handle 4 is a function)
    {"op":"get","path":"last_error"}                      ("target" allowed too)
    {"op":"pump","ms":20}                                 poll the client for 20 ms
    {"op":"release","target":3}                           forget a handle
    {"op":"mem"}                                          -> {"free":..,"alloc":..} after gc
    {"op":"exit"}

Final answer of every command: {"ok":true,"result":...} (pump adds "done":true)
or {"ok":false,"kind":"call"|"pump"|"agent","error":"...","trace":"..."}.
Before it, any number of callback reports: {"cb":"event:news","args":[...]}.

Values: JSON as is (tuples become lists); {"$cb":name} in arguments becomes a
function reporting its calls; {"$lib":"deepstream.UNDEFINED"} is that object of
the library; every other object (listen response, record, RPC response, ...) is
kept in a table and sent as {"$h":id,"$t":type name}; {"$h":id} in arguments
stands for that object again.
Runs on CPython too (for debugging the agent itself).
"""
import gc
import json
import sys

if len(sys.argv) > 1:
    sys.path.insert(0, sys.argv[1])

try:
    from time import ticks_ms, ticks_diff, ticks_add
except ImportError:  # CPython
    from time import monotonic as _mono

    def ticks_ms():
        return int(_mono() * 1000)

    def ticks_diff(a, b):
        return a - b

    def ticks_add(a, b):
        return a + b

try:
    import io
except ImportError:
    io = None

client = None
handles = {}
next_handle = [1]


def out(obj):
    sys.stdout.write(json.dumps(obj))
    sys.stdout.write("\n")
    sys.stdout.flush()


def trace(exc):
    if io is None:
        return ""
    buf = io.StringIO()
    if hasattr(sys, "print_exception"):
        sys.print_exception(exc, buf)
    else:
        import traceback
        traceback.print_exception(type(exc), exc, exc.__traceback__, file=buf)
    return buf.getvalue()


def enc(v):
    if v is None or isinstance(v, (bool, int, float, str)):
        return v
    if isinstance(v, (list, tuple)):
        return [enc(x) for x in v]
    if isinstance(v, dict):
        ok = True
        for k in v:
            if not isinstance(k, str):
                ok = False
                break
        if ok:
            d = {}
            for k in v:
                d[k] = enc(v[k])
            return d
    for hid in handles:  # same object -> same handle
        if handles[hid] is v:
            return {"$h": hid, "$t": type(v).__name__}
    hid = next_handle[0]
    next_handle[0] = hid + 1
    handles[hid] = v
    return {"$h": hid, "$t": type(v).__name__}


def make_cb(name):
    def cb(*args):
        out({"cb": name, "args": [enc(a) for a in args]})
    return cb


def dec(v):
    if isinstance(v, list):
        return [dec(x) for x in v]
    if isinstance(v, dict):
        if len(v) == 1 and "$cb" in v:
            return make_cb(v["$cb"])
        if len(v) == 1 and "$h" in v:
            return handles[v["$h"]]
        if len(v) == 1 and "$lib" in v:
            module, _, name = v["$lib"].rpartition(".")
            return getattr(__import__(module, None, None, [name]), name)
        d = {}
        for k in v:
            d[k] = dec(v[k])
        return d
    return v


def resolve(cmd, path):
    obj = handles[cmd["target"]] if cmd.get("target") is not None else client
    if obj is None:
        raise RuntimeError("no client: send init first")
    for part in path.split(".") if path else ():  # "": the handle itself (a function)
        obj = getattr(obj, part)
    return obj


def pump(ms):
    deadline = ticks_add(ticks_ms(), ms)
    while True:
        left = ticks_diff(deadline, ticks_ms())
        if left <= 0:
            break
        client.poll(left)


def main():
    global client
    while True:
        line = sys.stdin.readline()
        if not line:
            break
        line = line.strip()
        if not line:
            continue
        kind = "agent"
        try:
            cmd = json.loads(line)
            op = cmd["op"]
            result = None
            reply = {"ok": True}
            if op == "init":
                # Load the whole library (driver included) before creating
                # the client: compiling .py sources needs large transient
                # blocks, which a fragmented small heap may no longer have
                # (a board would use frozen or .mpy modules instead).
                gc.collect()
                import deepstream.poll  # noqa: F401
                from deepstream import Client
                handles.clear()
                client = None
                gc.collect()
                kind = "call"
                client = Client(cmd["url"], **cmd.get("options", {}))
            elif op == "call":
                fn = resolve(cmd, cmd["method"])
                args = dec(cmd.get("args", []))
                kind = "call"
                result = fn(*args)
            elif op == "get":
                result = resolve(cmd, cmd["path"])
            elif op == "pump":
                kind = "pump"
                if client is None:
                    raise RuntimeError("no client: send init first")
                pump(cmd["ms"])
                reply["done"] = True
            elif op == "mem":
                gc.collect()
                result = {"free": gc.mem_free(), "alloc": gc.mem_alloc()}
            elif op == "release":
                handles.pop(cmd["target"], None)
            elif op == "exit":
                out(reply)
                break
            else:
                raise ValueError("unknown op " + str(op))
            reply["result"] = enc(result)
            out(reply)
        except Exception as exc:
            out({"ok": False, "kind": kind, "error": type(exc).__name__ + ": " + str(exc),
                 "trace": trace(exc)})


main()
