"""Our client in an end-to-end test, on either runtime: in this process (CPython) or
in a MicroPython unix-port process with the library as .mpy, driven by the behave
step library's adapters (features/support/runtime.py, mp_agent.py). The same test
code drives both.

    dev = Device("micropython", url, "dev-1", heartbeat_interval=1000)   # logged in
    rec = dev.call("record.get_record", "r/1")       # a Handle: rec.call(...), rec.get(...)
    dev.until(lambda: rec.get("is_ready"), "r/1 ready")   # (or: rec = dev.ready_record("r/1"))
    rec.call("set", "a", 1, dev.cb("ack"))            # the callback's calls are recorded
    rec.call("set", "a", UNDEFINED)                   # deepstream.UNDEFINED there
    dev.until(lambda: dev.calls("ack"))               # -> [[None]]: one list of args per call
    dev.errors()                                      # [(event, message, topic)]
    dev.sync()                                        # a round trip through the server
    dev.close()

until() lets the client run (client.poll) between checks of its condition and fails
the test with the device's error events when the deadline passes.
"""
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(HERE)), "features", "support"))
from runtime import UNDEFINED, CallError, Callback, Library, Recorder, make_adapter  # noqa: E402,F401 (for tests)

RUNTIMES = ("cpython", "micropython")
# MicroPython's heap (64-bit unix port, library as .mpy, the agent resident): 160K, as
# the behave runs; it runs every record test here (3 of 3 runs, 2026-12). 128K passes
# most runs but the agent now and then finds no block of a few hundred bytes; at 112K
# the record modules no longer load after the agent.
HEAP = "160K"


class Device:
    def __init__(self, runtime, url, username="device", heap=HEAP, login=True, **options):
        self.runtime = runtime
        self.url = url
        self.recorder = Recorder()
        self.adapter = make_adapter(runtime, self.recorder)
        if runtime == "micropython":
            self.adapter.heapsize = heap
        self.adapter.init(url, options)
        self.call("on", "error", self.cb("error"))
        if login:
            self.call("login", {"username": username}, self.cb("login"))
            self.until(lambda: self.calls("login"), "login answered")
            assert self.calls("login")[0][0] is True, self.calls("login")

    def call(self, path, *args):
        """Call the client's method at a dotted path (e.g. "record.get_record")."""
        return self.adapter.call(path, *args)

    def get(self, path):
        return self.adapter.get(path)

    def cb(self, name):
        """A callback argument whose calls are recorded under `name`."""
        return Callback(name)

    def calls(self, name):
        """The argument lists of every call of callback `name` so far."""
        return self.recorder.calls(name)

    def errors(self):
        return [(event, message, topic) for message, event, topic in self.calls("error")]

    def run(self, ms):
        """Let the client run for `ms` milliseconds."""
        self.adapter.wait(ms)

    def until(self, condition, what="the condition", timeout=5.0):
        """Run the client until condition() is true; fail after `timeout` seconds."""
        deadline = time.monotonic() + timeout
        while not condition():
            assert time.monotonic() < deadline, "%s: no %s within %.1f s; errors %r" % (
                self.runtime, what, timeout, self.errors())
            self.adapter.wait(20)

    def ready_record(self, name):
        """The record `name`, got (a Handle) and loaded."""
        rec = self.call("record.get_record", name)
        self.until(lambda: rec.get("is_ready"), name + " ready")
        return rec

    def sync(self):
        """A round trip (a record head): what the client sent before is answered."""
        calls = len(self.calls("sync"))
        self.call("record.head", "device/sync", self.cb("sync"))
        self.until(lambda: len(self.calls("sync")) > calls, "round trip")

    def close(self):
        self.adapter.shutdown()
