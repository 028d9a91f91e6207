"""Awaitable forms of the callback API, for the asyncio driver.

One naming scheme: every callback method `x(..., callback)` that answers
once has an awaitable twin `x_async(...)` taking the same arguments without
the callback. It returns what the callback would be given as its result and
raises a DeepstreamError subclass where the callback would be given an error:

    result = await client.rpc.make_async("add", {"a": 1})   # RpcError
    data = await client.login_async({"username": "dev1"})     # LoginError
    users = await client.presence.get_all_async()             # PresenceError
    users = await client.presence.get_all_async(["a", "b"])   # {"a": True, ...}
    await record.when_ready_async()                            # see record.py
    data = await client.record.snapshot_async("name")         # RecordError

`err.code` is the error text the callback would get (e.g. "NO_RPC_PROVIDER",
"ACK_TIMEOUT", a provider's own error text); str(err) is a sentence.
The client must be driven by its asyncio task (client.start()) meanwhile:
the answer arrives through it. The awaitables have no timeout of their own
beyond the client's (RPC timers); wrap them in asyncio.wait_for if needed.

MicroPython's asyncio has Event but no Future, so Waiter is a one-shot
result built on asyncio.Event; it works the same on CPython.
"""
from .compat import asyncio


_NOTHING = object()  # "no value given" (None is a value), as record_base's


class DeepstreamError(Exception):
    """An error answer; `.code` is the text a callback would be given."""

    def __init__(self, code, message=None, data=None):
        super().__init__(message or str(code))
        self.code = code
        self.data = data


class RpcError(DeepstreamError):
    pass


class LoginError(DeepstreamError):
    pass


class RecordError(DeepstreamError):
    pass


class PresenceError(DeepstreamError):
    pass


class Waiter:
    """A result set once from a callback and awaited from a task."""

    __slots__ = ("_event", "_value", "_error", "done")

    def __init__(self):
        if asyncio is None:
            raise RuntimeError("this MicroPython build has no asyncio")
        self._event = asyncio.Event()
        self._value = None
        self._error = None
        self.done = False

    def set(self, value):
        if not self.done:
            self.done = True
            self._value = value
            self._event.set()

    def fail(self, error):
        if not self.done:
            self.done = True
            self._error = error
            self._event.set()

    async def wait(self):
        await self._event.wait()
        if self._error is not None:
            raise self._error
        return self._value


async def login_async(client, auth=None):
    """Log in; returns the server's login data, raises LoginError."""
    if auth is not None and not isinstance(auth, dict) and not callable(auth):
        raise TypeError("auth must be a dict or a function returning one")
    w = Waiter()

    def done(success, data):
        if success:
            w.set(data)
        else:
            w.fail(LoginError("LOGIN_FAILED", "login failed: %r" % (data,), data))
    client.login(auth, done)
    return await w.wait()


async def when_ready_async(record):
    """Wait until a record (or list) has its data; returns it."""
    if getattr(record, "is_destroyed", False):
        raise RecordError("IS_DESTROYED", "record '%s' was discarded or deleted" % record.name)
    w = Waiter()
    record.when_ready(lambda *args: w.set(record))
    return await w.wait()


async def snapshot_async(record_handler, name):
    """A record's data without subscribing; raises RecordError."""
    w = Waiter()

    def done(error, data):
        if error is None:
            w.set(data)
        else:
            w.fail(RecordError(error, "snapshot of '%s' failed: %s" % (name, error)))
    record_handler.snapshot(name, done)
    return await w.wait()


async def set_async(record, path_or_data, value):
    """record.set() until the server acknowledges the write; raises RecordError."""
    w = Waiter()

    def done(error):
        if error is None:
            w.set(None)
        else:
            w.fail(RecordError(error, "write to '%s' failed: %s" % (record.name, error)))
    if value is _NOTHING:
        record.set(path_or_data, done)
    else:
        record.set(path_or_data, value, done)
    return await w.wait()


async def notify_async(record_handler, names):
    """client.record.notify() until the server acknowledges it; raises RecordError."""
    w = Waiter()

    def done(error):
        if error is None:
            w.set(None)
        else:
            w.fail(RecordError(error, "notify failed: %s" % error))
    record_handler.notify(names, done)
    return await w.wait()
