"""The public entry point: `Client(url, **options)`; url may be a list of
cluster nodes (see docs/CLUSTER.md).

Holds the connection core and one handler per topic, routes incoming
messages to them, and turns every problem into an `error` event. Drivers
(poll.py, aio.py) are attached lazily by poll() / run().

Every piece of user code (listeners, callbacks, merge strategies) is called
through `_call`: an exception in it becomes a CALLBACK_ERROR error event and
the client carries on as if the callback had returned.
"""
from . import _unload
from .compat import const, ticks_ms
from .connection import Connection
from .event import EventHandler
from .message import TOPIC_LETTERS
from .timers import AckTimeouts

_EVENT = const(4)
_RECORD = const(5)
_RPC = const(6)
_PRESENCE = const(7)

_NONE = object()  # "no argument" for _call (None is an argument)


class Client:
    def __init__(self, url, clock=None, **options):
        from .options import choose_codec, merge, normalize_urls  # needed only here: unloaded below
        self.options = merge(options)
        urls = normalize_urls(url, self.options)
        codec = choose_codec(self.options["protocol"], urls[0])
        _unload("options")
        self._listeners = {}  # emitter: event name -> list of callbacks
        self.last_error = None  # (message, event, topic) of the latest error
        self._reporting = False  # error listeners are running: never re-entered
        self._acks = AckTimeouts(self)
        self._conn = Connection(self, urls, self.options, clock or ticks_ms, codec)
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
        """Log in with `auth` (a dict, sent as JSON); callback(success, data).
        `auth` may be a function returning that dict, called before every
        login, re-logins included; None from it means "not now" (credentials.py)."""
        if auth is None:
            auth = {}
        if not isinstance(auth, dict) and not callable(auth):  # issue 21: or a function
            self._error("authParams is not an object", "INVALID_AUTH_MSG", "X")
            return self
        from .handshake import authenticate
        authenticate(self._conn, auth, callback)
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

    def _emit(self, event, topic, a, b=_NONE, c=_NONE):
        cbs = self._listeners.get(event)
        if cbs:
            for cb in tuple(cbs):
                self._call(topic, cb, a, b, c)

    def _call(self, topic, fn, a=_NONE, b=_NONE, c=_NONE, d=_NONE):
        """Run user code fn(a, b, c, d) (as many arguments as given). An
        exception in it becomes a CALLBACK_ERROR error event ("<Type>:
        <text>", on `topic`) and is returned; None if fn returned. Fixed
        arguments instead of *args: no tuple per call on MicroPython."""
        try:
            if a is _NONE:
                fn()
            elif b is _NONE:
                fn(a)
            elif c is _NONE:
                fn(a, b)
            elif d is _NONE:
                fn(a, b, c)
            else:
                fn(a, b, c, d)
        except Exception as err:  # KeyboardInterrupt and SystemExit still end the program
            try:
                text = "%s: %s" % (type(err).__name__, err)
            except Exception:  # no heap left for the text, or a __str__ that raises
                text = type(err).__name__
            self._error(text, "CALLBACK_ERROR", topic)
            return err
        return None

    def _error(self, message, event, topic):
        """Report an error: `error(message, event, topic)` and `<event>(topic, message)`.

        It is kept in last_error; with no `error` listener it is printed
        (option print_errors; error_print.py limits repeats). Never raises: on
        a board an exception here would end the loop (the JS client throws).
        An error that arises while error listeners run (one raised, say) is
        only kept and printed: error listeners are never re-entered. With no
        heap left to report it (error_print.py not loaded yet, say), it is
        printed as a plain line.
        """
        try:
            self.last_error = (message, event, topic)
            if self._reporting or not self._listeners.get("error"):
                if self.options["print_errors"]:
                    from .error_print import print_error
                    print_error(message, event, topic)
                if self._reporting:
                    return
            self._reporting = True
            try:
                self._emit("error", topic, message, event, topic)
                self._emit(event, topic, topic, message)
            finally:
                self._reporting = False
        except MemoryError:
            if self.options["print_errors"]:
                print("deepstream:", event, message)

    # ---- incoming dispatch ------------------------------------------------

    def _dispatch(self, m):
        """A message of the model (message.Message) for a topic handler."""
        topic = m.topic
        if topic == _EVENT:
            self.event.handle(m)
            return
        if topic == _RPC:
            handler = self.rpc  # loaded even for a stray request: it must be rejected
        elif topic == _RECORD:
            handler = self._record
        elif topic == _PRESENCE:
            handler = self._presence
        else:  # the parser's errors: a message of ours the server could not read
            self._error(m.text or m.describe(), m.error_name(), "X")
            return
        if handler is None:
            # nothing of that topic was ever asked for: don't load its code
            self._error(m.describe(), "UNSOLICITED_MESSAGE", TOPIC_LETTERS[topic])
            return
        handler.handle(m)

    def _report(self, m):
        """An error message (T|E|CODE|name..., or an action >= 100) that no
        handler consumed: an error event named after its code."""
        code = m.error_name()
        letter = TOPIC_LETTERS[m.topic]
        if m.original is not None and code == "MESSAGE_DENIED" and m.name is not None:
            self._acks.clear(m.topic, m.original, m.name)
        self._error(m.name if m.name is not None else (m.text or code), code, letter)

    def _resubscribe(self):
        self.event.resubscribe()
        for handler in (self._record, self._rpc, self._presence):
            if handler is not None:
                handler.resubscribe()

    # ---- drivers ----------------------------------------------------------

    def poll(self, timeout_ms=0):
        """Drive the client from a plain loop: connect when needed, wait up
        to timeout_ms for input, run due timers, send what is queued."""
        (self._driver or self._poll_driver()).poll(timeout_ms)  # the hot loop: one call less

    def flush(self, timeout_ms=5000):
        """Hand everything queued to the OS now (connecting and logging in
        first if needed; with confirm_events, until the server confirmed the
        events). True when nothing is left, False after timeout_ms. The call
        to make before machine.deepsleep()."""
        return self._poll_driver().flush(timeout_ms)

    def _poll_driver(self):
        if self._driver is None:
            from .poll import PollDriver
            self._driver = PollDriver(self._conn)
        return self._driver

    async def drain(self):
        """asyncio backpressure: returns when everything queued has been
        handed to the socket (with confirm_events: and confirmed)."""
        from .aio import drain
        await drain(self._conn)

    async def run(self):
        """Drive the client as an asyncio task until close()."""
        from .aio import run
        await run(self._conn)

    def start(self):
        """Start run() as an asyncio task and return the task."""
        import asyncio
        return asyncio.create_task(self.run())
