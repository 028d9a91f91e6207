"""The public entry point: `Client(url, **options)`; url may be a list of
cluster nodes (see docs/CLUSTER.md).

Holds the connection core and one handler per topic, routes incoming
messages to them, and turns every problem into an `error` event. Drivers
(poll.py, aio.py) are attached lazily by poll() / run().
"""
from . import _unload
from .compat import ticks_ms
from .connection import Connection
from .event import EventHandler
from .timers import AckTimeouts

_HANDLED_TOPICS = ("E", "R", "P", "U")


class Client:
    def __init__(self, url, clock=None, **options):
        from .options import merge, normalize_urls  # needed only here: unloaded below
        self.options = merge(options)
        urls = normalize_urls(url, self.options)
        _unload("options")
        self._listeners = {}  # emitter: event name -> list of callbacks
        self.last_error = None  # (message, event, topic) of the latest error
        self._acks = AckTimeouts(self)
        self._conn = Connection(self, urls, self.options, clock or ticks_ms)
        self.event = EventHandler(self)
        self._record = None
        self._rpc = None
        self._presence = None
        self._driver = None

    # ---- lazily loaded topics: a board that only emits never imports them

    @property
    def record(self):
        if self._record is None:
            from .record import RecordHandler
            self._record = RecordHandler(self)
        return self._record

    @property
    def rpc(self):
        if self._rpc is None:
            from .rpc import RpcHandler
            self._rpc = RpcHandler(self)
        return self._rpc

    @property
    def presence(self):
        if self._presence is None:
            from .presence import PresenceHandler
            self._presence = PresenceHandler(self)
        return self._presence

    # ---- connection -----------------------------------------------------

    def login(self, auth=None, callback=None):
        """Log in with `auth` (a dict, sent as JSON); callback(success, data)."""
        if auth is None:
            auth = {}
        if not isinstance(auth, dict):
            self._error("authParams is not an object", "INVALID_AUTH_MSG", "X")
            return self
        self._conn.authenticate(auth, callback)
        return self

    def login_async(self, auth=None):
        """`data = await client.login_async(auth)`; raises LoginError (see awaitable.py)."""
        from .awaitable import login_async
        return login_async(self, auth)

    def get_connection_state(self):
        return self._conn.state

    def get_url(self):
        """The URL in use or being tried: with several, the node of the moment."""
        return self._conn.url

    def close(self):
        self._conn.close()

    # ---- emitter --------------------------------------------------------

    def on(self, event, callback):
        self._listeners.setdefault(event, []).append(callback)
        return self

    def off(self, event=None, callback=None):
        if event is None:
            self._listeners.clear()
        elif callback is None:
            self._listeners.pop(event, None)
        else:
            cbs = self._listeners.get(event)
            if cbs and callback in cbs:
                cbs.remove(callback)
        return self

    def _emit(self, event, *args):
        cbs = self._listeners.get(event)
        if cbs:
            for cb in tuple(cbs):
                cb(*args)

    def _error(self, message, event, topic):
        """Report an error: `error(message, event, topic)` and `<event>(topic, message)`.

        With no listener the error is only kept in last_error: on a board an
        exception here would kill the loop (the JS client throws instead).
        """
        self.last_error = (message, event, topic)
        try:
            self._emit("error", message, event, topic)
            self._emit(event, topic, message)
        except Exception as err:  # an error listener that raises must not recurse
            self.last_error = ("error listener raised %s: %s" % (type(err).__name__, err), event, topic)

    # ---- incoming dispatch ------------------------------------------------

    def _dispatch(self, topic, action, data, raw):
        if topic == "E":
            self.event.handle(action, data, raw)
        elif topic in _HANDLED_TOPICS:
            attr = ("record", "rpc", "presence")[_HANDLED_TOPICS.index(topic) - 1]
            if topic != "P" and getattr(self, "_" + attr) is None:
                # nothing of that topic was ever asked for: don't load its code
                # (a stray RPC request is still answered: it must be rejected)
                self._error(raw.replace("\x1f", "|"), "UNSOLICITED_MESSAGE", topic)
                return
            getattr(self, attr).handle(action, data, raw)
        elif topic == "X" and action == "E":
            self._handle_error(topic, data)
        else:
            self._error("Received message for unknown topic " + topic, "MESSAGE_PARSE_ERROR", topic)

    def _handle_error(self, topic, data):
        """An `T|E|CODE|name...` message that no handler consumed."""
        code = data[0] if data else "UNKNOWN_ERROR"
        if code == "MESSAGE_DENIED" and len(data) > 2:
            self._acks.clear(topic, data[2], data[1])
        self._error(data[1] if len(data) > 1 else code, code, topic)

    def _resubscribe(self):
        self.event.resubscribe()
        for handler in (self._record, self._rpc, self._presence):
            if handler is not None:
                handler.resubscribe()

    # ---- drivers ----------------------------------------------------------

    def poll(self, timeout_ms=0):
        """Drive the client from a plain loop: connect when needed, wait up
        to timeout_ms for input, run due timers, send what is queued."""
        if self._driver is None:
            from .poll import PollDriver
            self._driver = PollDriver(self._conn)
        self._driver.poll(timeout_ms)

    async def run(self):
        """Drive the client as an asyncio task until close()."""
        from .aio import run
        await run(self._conn)

    def start(self):
        """Start run() as an asyncio task and return the task."""
        import asyncio
        return asyncio.create_task(self.run())
