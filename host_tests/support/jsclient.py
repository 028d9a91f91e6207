"""Python wrapper around the official deepstream JS clients: deepstream.io-client-js@2.3.4
(text protocol) and @deepstream/client@7.0.5 (binary protocol).

The JS client runs in node (host_tests/support/jsclient.js) and is driven with JSON lines
over stdin/stdout. Every method sends one command and waits (with a deadline) for its reply.
Things the JS client is *told* (events received, record changes, RPC calls, presence,
errors, connection states) arrive as notifications: they are queued here and read with
``wait_for(predicate, timeout)`` / ``assert_none(predicate, within)``.

    JsClient(url, options=None, protocol=None, timeout=5.0)

protocol: "text" (2.3.4) or "binary" (7.0.5); None = from the URL's path: /deepstream-v3
is text, anything else binary. options: the JS client's options in 2.3.4's names (see
jsclient.js for how they map to 7.0.5, and for what 7.0.5 reports differently). The same
methods and notifications work with both clients.

    c = JsClient(srv.url)
    ok, data = c.login({"username": "a"})
    c.event_subscribe("news"); c.sync()
    ...
    n = c.wait_for(lambda n: n["kind"] == "event" and n["name"] == "news")
    c.close()

Notification dicts always have "kind":
  event           {"name", "data"}
  listen          {"pattern", "name", "isSubscribed"}      (event listening)
  record_listen   {"pattern", "name", "isSubscribed"}
  record          {"name", "path", "data"}                 (record subscription callback)
  record_event    {"name", "event": "delete"|"discard"|"error", ...}
  rpc             {"name", "data"}                         (our provider was called)
  presence        {"user", "loggedIn"}
  error           {"message", "event", "topic"}            (also appended to .errors)
  state           {"state"}                                (connectionStateChanged)
  uncaught / protocol_error                                (bugs in the harness or client)
"""

import json
import os
import subprocess
import threading
import time
from urllib.parse import urlsplit

try:
    from .dsserver import die_with_parent
except ImportError:  # imported as a top-level module (host_tests/support on sys.path)
    from dsserver import die_with_parent

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
JS_DRIVER = os.path.join(HERE, "jsclient.js")
NODE_DIR = os.path.join(REPO, "tools", "server")
CLIENT_PACKAGES = {"text": "deepstream.io-client-js", "binary": "@deepstream/client"}
TEXT_PATH = "/deepstream-v3"

DEFAULT_TIMEOUT = 5.0


class JsClientError(Exception):
    """The JS side answered a command with an error, or died."""


def protocol_of(url):
    """The protocol a URL's path names: "text" for /deepstream-v3, else "binary"."""
    return "text" if urlsplit(url).path == TEXT_PATH else "binary"


class JsClient:
    def __init__(self, url, options=None, node="node", timeout=DEFAULT_TIMEOUT, protocol=None):
        self.protocol = protocol_of(url) if protocol is None else protocol
        if self.protocol not in CLIENT_PACKAGES:
            raise ValueError("protocol must be one of %s, not %r" % (sorted(CLIENT_PACKAGES), protocol))
        package = CLIENT_PACKAGES[self.protocol]
        if not os.path.isdir(os.path.join(NODE_DIR, "node_modules", package)):
            raise RuntimeError("%s is not installed: run `make node`" % package)
        self.url = url
        self.timeout = timeout
        self.errors = []          # every error notification, in order
        self.history = []         # every notification ever received
        self._pending = []        # notifications not yet consumed by wait_for
        self._replies = {}
        self._next_id = 1
        self._cond = threading.Condition()
        self._stderr = []
        self._closed = False
        env = dict(os.environ)
        env["DS_NODE_DIR"] = NODE_DIR
        self.proc = subprocess.Popen(
            [node, JS_DRIVER],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            env=env, text=True, bufsize=1, preexec_fn=die_with_parent,
        )
        self._reader = threading.Thread(target=self._read_stdout, daemon=True)
        self._reader.start()
        self._err_reader = threading.Thread(target=self._read_stderr, daemon=True)
        self._err_reader.start()
        try:
            self.request("init", protocol=self.protocol, url=url, options=options or {})
        except BaseException:
            self.close()
            raise

    # ------------------------------------------------------------------ plumbing
    def _read_stdout(self):
        for line in self.proc.stdout:
            line = line.strip()
            if not line:
                continue
            try:
                msg = json.loads(line)
            except ValueError:
                msg = {"type": "note", "kind": "protocol_error", "message": line}
            with self._cond:
                if msg.get("type") == "reply":
                    self._replies[msg["id"]] = msg
                else:
                    msg.pop("type", None)
                    self.history.append(msg)
                    self._pending.append(msg)
                    if msg.get("kind") == "error":
                        self.errors.append(msg)
                self._cond.notify_all()
        with self._cond:
            self._closed = True
            self._cond.notify_all()

    def _read_stderr(self):
        for line in self.proc.stderr:
            self._stderr.append(line)

    def stderr_text(self):
        return "".join(self._stderr)

    def request(self, cmd, timeout=None, **args):
        """Send one command, wait for its reply and return its result."""
        timeout = self.timeout if timeout is None else timeout
        with self._cond:
            if self._closed or self.proc.poll() is not None:
                raise JsClientError("JS client process is gone: " + self.stderr_text())
            cid = self._next_id
            self._next_id += 1
        args["id"] = cid
        args["cmd"] = cmd
        try:
            self.proc.stdin.write(json.dumps(args) + "\n")
            self.proc.stdin.flush()
        except (BrokenPipeError, OSError) as e:
            raise JsClientError("cannot write to JS client: %s %s" % (e, self.stderr_text()))
        deadline = time.monotonic() + timeout
        with self._cond:
            while cid not in self._replies:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError("JS client: no reply to %r within %.1fs" % (cmd, timeout))
                if self._closed:
                    raise JsClientError("JS client exited: " + self.stderr_text())
                self._cond.wait(left)
            msg = self._replies.pop(cid)
        if "error" in msg and msg["error"] is not None:
            raise JsClientError("%s: %s" % (cmd, msg["error"]))
        return msg.get("result")

    # ------------------------------------------------------------------ notifications
    def wait_for(self, predicate, timeout=None, consume=True):
        """Wait for a notification matching predicate(note) -> bool; return it.

        Notifications already received count too. With consume=True (default) the
        returned notification is removed from the queue so the next wait_for finds
        the next one. Raises TimeoutError with the notifications seen."""
        timeout = self.timeout if timeout is None else timeout
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                for i, n in enumerate(self._pending):
                    if predicate(n):
                        if consume:
                            del self._pending[i]
                        return n
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(
                        "JS client: no matching notification within %.1fs; pending: %r"
                        % (timeout, self._pending[-20:]))
                self._cond.wait(left)

    def assert_none(self, predicate, within=0.3):
        """Assert that no notification matching predicate arrives within `within` seconds."""
        deadline = time.monotonic() + within
        with self._cond:
            while True:
                for n in self._pending:
                    if predicate(n):
                        raise AssertionError("unexpected notification: %r" % (n,))
                left = deadline - time.monotonic()
                if left <= 0:
                    return
                self._cond.wait(left)

    def notifications(self, kind=None):
        """Pending (unconsumed) notifications, optionally of one kind."""
        with self._cond:
            return [n for n in self._pending if kind is None or n.get("kind") == kind]

    def clear(self):
        with self._cond:
            self._pending = []

    def wait_event(self, name, timeout=None):
        """Wait for an event delivered to one of our subscriptions; return its data."""
        n = self.wait_for(lambda n: n["kind"] == "event" and n["name"] == name, timeout)
        return n["data"]

    def wait_record(self, name, path=None, timeout=None):
        """Wait for a record-subscription callback for name (and path); return the data."""
        n = self.wait_for(lambda n: n["kind"] == "record" and n["name"] == name
                          and n.get("path") == path, timeout)
        return n["data"]

    def wait_rpc(self, name, timeout=None):
        """Wait until our provider for `name` was called; return the request data."""
        return self.wait_for(lambda n: n["kind"] == "rpc" and n["name"] == name, timeout)["data"]

    def wait_presence(self, user=None, logged_in=None, timeout=None):
        def pred(n):
            return (n["kind"] == "presence" and (user is None or n["user"] == user)
                    and (logged_in is None or n["loggedIn"] == logged_in))
        return self.wait_for(pred, timeout)

    def wait_state(self, state, timeout=None):
        return self.wait_for(lambda n: n["kind"] == "state" and n["state"] == state, timeout)

    def wait_error(self, event=None, timeout=None):
        return self.wait_for(lambda n: n["kind"] == "error"
                             and (event is None or n["event"] == event), timeout)

    # ------------------------------------------------------------------ client API
    def login(self, auth=None, timeout=None):
        """-> (success, data) as given to the login callback (on failure 7.0.5 gives
        {"reason": ...} where 2.3.4 gives None)."""
        r = self.request("login", timeout=timeout, auth=auth or {})
        return r["success"], r["data"]

    def state(self):
        return self.request("state")

    def uid(self):
        return self.request("uid")

    def sync(self, timeout=None):
        """Round trip through the server (record.head, which 7.0.2 always answers):
        everything sent before it has been processed by the server when this returns
        (e.g. a subscription is active there)."""
        self.request("record.head", timeout=timeout, name="__jsclient_sync__")

    # events
    def event_subscribe(self, name):
        return self.request("event.subscribe", name=name)

    def event_unsubscribe(self, name):
        return self.request("event.unsubscribe", name=name)

    def event_emit(self, name, data=None):
        return self.request("event.emit", name=name, data=data)

    def event_listen(self, pattern, accept=True):
        return self.request("event.listen", pattern=pattern, accept=accept)

    def event_unlisten(self, pattern):
        return self.request("event.unlisten", pattern=pattern)

    # records
    def record_get(self, name, timeout=None):
        """getRecord(name) + whenReady: -> the record's data."""
        return self.request("record.get", timeout=timeout, name=name)["data"]

    def record_version(self, name):
        return self.request("record.data", name=name)["version"]

    def record_set(self, name, data, path=None, ack=False, timeout=None):
        """record.set([path,] data[, callback]). With ack=True waits for the write ack
        and returns its error (None on success)."""
        return self.request("record.set", timeout=timeout, name=name, path=path,
                            data=data, ack=ack)["error"]

    def record_erase(self, name, path, ack=False, timeout=None):
        """record.set(path, undefined[, callback]): the path is removed."""
        return self.request("record.set", timeout=timeout, name=name, path=path,
                            data=None, ack=ack, erase=True)["error"]

    def record_data(self, name, path=None):
        """record.get([path]) on the open record (no round trip)."""
        return self.request("record.data", name=name, path=path)["data"]

    def record_subscribe(self, name, path=None, trigger_now=False):
        return self.request("record.subscribe", name=name, path=path, triggerNow=trigger_now)

    def record_unsubscribe(self, name, path=None):
        return self.request("record.unsubscribe", name=name, path=path)

    def record_delete(self, name, timeout=None):
        """-> (deleted, error)."""
        r = self.request("record.delete", timeout=timeout, name=name)
        return r["deleted"], r["error"]

    def record_discard(self, name, timeout=None):
        """-> (discarded, error)."""
        r = self.request("record.discard", timeout=timeout, name=name)
        return r["discarded"], r["error"]

    def record_snapshot(self, name, timeout=None):
        """-> (error, data)."""
        r = self.request("record.snapshot", timeout=timeout, name=name)
        return r["error"], r["data"]

    def record_has(self, name, timeout=None):
        """-> (error, has). NB: over text, 7.0.2 never answers R|H: this times out (2.3.4
        reports RESPONSE_TIMEOUT after recordReadTimeout and never calls back); over
        binary it works."""
        r = self.request("record.has", timeout=timeout, name=name)
        return r["error"], r["has"]

    def record_head(self, name, timeout=None):
        """-> (error, version); 7.0.2 answers version -1 for a missing record."""
        r = self.request("record.head", timeout=timeout, name=name)
        return r["error"], r["version"]

    def record_set_data(self, name, data, path=None, timeout=None):
        """client.record.setData(name, [path,] data, cb) -> error or None."""
        return self.request("record.setData", timeout=timeout, name=name, path=path,
                            data=data)["error"]

    def record_listen(self, pattern, accept=True):
        return self.request("record.listen", pattern=pattern, accept=accept)

    def record_unlisten(self, pattern):
        return self.request("record.unlisten", pattern=pattern)

    # rpc
    def rpc_provide(self, name, behaviour="echo", data=None, message=None, delay_ms=0):
        """Provide `name`. behaviour: "echo" (send back the request data), "add"
        (sum of a list, or data["a"] + data["b"]), "answer" (send `data`), "reject",
        "error" (response.error(message)), "ignore" (never answer)."""
        return self.request("rpc.provide", name=name, behaviour=behaviour, data=data,
                            message=message, delayMs=delay_ms)

    def rpc_unprovide(self, name):
        return self.request("rpc.unprovide", name=name)

    def rpc_make(self, name, data=None, timeout=None):
        """-> (error, result) as given to the JS callback."""
        r = self.request("rpc.make", timeout=timeout, name=name, data=data)
        return r["error"], r["result"]

    # presence
    def presence_get_all(self, users=None, timeout=None):
        """getAll() -> list of usernames; getAll(users) -> {user: bool}. Raises
        JsClientError if the client reports an error (7.0.5 only, e.g. CLIENT_OFFLINE)."""
        r = self.request("presence.getAll", timeout=timeout, users=users)
        if r["error"] is not None:
            raise JsClientError("presence.getAll: %s" % r["error"])
        return r["users"]

    def presence_subscribe(self, user=None):
        return self.request("presence.subscribe", user=user)

    def presence_unsubscribe(self, user=None):
        return self.request("presence.unsubscribe", user=user)

    # lifetime
    def close(self):
        """Close the deepstream client and end the node process (idempotent)."""
        if self.proc.poll() is None:
            try:
                self.request("close", timeout=2)
            except Exception:
                pass
            try:
                self.proc.stdin.close()
            except Exception:
                pass
            try:
                self.proc.wait(timeout=3)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=3)
        self._reader.join(timeout=2)
        self._err_reader.join(timeout=2)
        for stream in (self.proc.stdin, self.proc.stdout, self.proc.stderr):
            try:
                stream.close()
            except Exception:
                pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
