"""The part of a Record that is not about data: identity, subscriptions,
events, discard/delete and destruction (record_core.Record builds on it).
Split from record_core.py so each module compiles in a small heap."""
from .compat import const, ordered_dict
from .jsonpath import tokens as _tokens

T = "R"
_RECORD = const(5)
_RECORD_DELETE = const(9)
_RECORD_UNSUBSCRIBE = const(26)
CLOSED_TEXT = "Connection error: error updating record as connection was closed"
RECORD_DESTROYED = "RECORD_DESTROYED"  # error event: a discarded/deleted record was used
_NOTHING = object()  # "argument not given" (None is a value)


def REMOTE_WINS(record, remote_data, remote_version, done):
    done(None, remote_data)


def LOCAL_WINS(record, remote_data, remote_version, done):
    done(None, record._data)


class RecordBase:
    """One record, shared by every get_record() of its name (see usages)."""

    __slots__ = ("name", "version", "usages", "is_ready", "is_destroyed", "has_provider",
                 "_h", "_data", "_subs", "_pending", "_write_cbs", "_merge", "_events", "_syncing")

    def __init__(self, handler, name):
        self.name = name
        self.version = None  # None until the first read
        self.usages = 0
        self.is_ready = False
        self.is_destroyed = False
        self.has_provider = False
        self._h = handler
        self._data = {}
        self._subs = None  # path (None = whole record) -> [callbacks]
        self._pending = None  # calls waiting for ready, in order
        self._write_cbs = None  # version -> write-ack callback
        self._merge = None  # per-record merge strategy
        self._events = None  # "delete"/"discard"/"ready"/"hasProviderChanged" -> [callbacks]
        self._syncing = False  # a READ of ours is on its way

    def __repr__(self):
        return "<Record %s v%s%s>" % (self.name, self.version,
                                      " destroyed" if self.is_destroyed else "")

    # ---- reading ------------------------------------------------------

    def when_ready(self, callback):
        """callback(record) once the record has its data (at once if it has)."""
        if self.is_ready:
            self._h._client._call(T, callback, self)
        elif not self.is_destroyed:
            self._later(lambda: callback(self))

    async def when_ready_async(self):
        """`await record.when_ready_async()` -> the record; RecordError if discarded."""
        from .awaitable import when_ready_async
        return await when_ready_async(self)

    # ---- writing ------------------------------------------------------

    def subscribe(self, path, callback=None, trigger_now=False):
        """subscribe(path, cb[, trigger_now]) or subscribe(cb[, trigger_now]).

        cb(value) runs whenever the value at the path (or the whole data)
        really changed, for local and remote changes.
        """
        if callable(path):
            if isinstance(callback, bool):
                trigger_now = callback
            path, callback = None, path
        if path is not None:
            if not isinstance(path, str) or not path:
                raise ValueError("subscribe: path must be a non-empty string")
            _tokens(path)
        if not callable(callback):
            raise TypeError("subscribe: callback must be callable")
        if self._destroyed("subscribe"):
            return
        if trigger_now:
            def now(rec):
                rec._add_sub(path, callback)
                callback(rec.get(path))
            self.when_ready(now)
        else:
            self._add_sub(path, callback)

    def _add_sub(self, path, callback):
        if self._subs is None:
            self._subs = ordered_dict()  # notified in subscription order
        self._subs.setdefault(path, []).append(callback)

    def unsubscribe(self, path=None, callback=None):
        """unsubscribe(path[, cb]), unsubscribe(cb) or unsubscribe(): local only."""
        if callable(path):
            path, callback = None, path
        if self._destroyed("unsubscribe"):
            return
        subs = self._subs
        if not subs or path not in subs:
            return
        if callback is None:
            del subs[path]
        else:
            cbs = subs[path]
            if callback in cbs:
                cbs.remove(callback)
            if not cbs:
                del subs[path]

    def on(self, event, callback):
        """Record events: ready, delete, discard, hasProviderChanged(bool)."""
        if self._events is None:
            self._events = {}
        self._events.setdefault(event, []).append(callback)

    def off(self, event, callback=None):
        cbs = self._events.get(event) if self._events else None
        if cbs is None:
            return
        if callback is None:
            del self._events[event]
        elif callback in cbs:
            cbs.remove(callback)

    def _emit(self, event, *args):
        cbs = self._events.get(event) if self._events else None
        if cbs:
            c = self._h._client
            for cb in tuple(cbs):
                c._call(T, cb, *args)  # record events are rare: the args tuple is no per-message cost

    # ---- lifetime --------------------------------------------------------

    def discard(self):
        """Release one usage; the last one unsubscribes (UNSUBSCRIBE)."""
        if not self._destroyed("discard"):
            self.when_ready(_discard)

    def delete(self):
        """Delete the record on the server (DELETE); every holder sees it deleted."""
        if not self._destroyed("delete"):
            self.when_ready(_delete)

    def _destroyed(self, method):
        if self.is_destroyed:
            self._h._client._error("Can't invoke '%s'. Record '%s' is already destroyed" % (method, self.name),
                                   RECORD_DESTROYED, T)
            return True
        return False

    def _destroy(self):
        self.is_destroyed = True
        self.is_ready = False
        self._subs = None
        self._pending = None
        self._h._forget(self)  # _write_cbs stay: acks of earlier writes still come

    # ---- internals ---------------------------------------------------------

    def _later(self, fn):
        if self._pending is None:
            self._pending = []
        self._pending.append(fn)


def _discard(rec):
    rec.usages -= 1
    if rec.usages <= 0:
        h = rec._h
        h._destroying[rec.name] = (_RECORD_UNSUBSCRIBE, rec)
        rec._destroy()
        conn = h._client._conn
        conn.codec.bulk(conn, _RECORD, _RECORD_UNSUBSCRIBE, rec.name)
        h._client._acks.add(_RECORD, _RECORD_UNSUBSCRIBE, rec.name, h._client.options["subscription_timeout"])


def _delete(rec):
    h = rec._h
    h._destroying[rec.name] = (_RECORD_DELETE, rec)
    rec._destroy()
    h._client._conn.send(_RECORD, _RECORD_DELETE, rec.name)
    h._client._acks.add(_RECORD, _RECORD_DELETE, rec.name, h._client.options["record_delete_timeout"],
                        "DELETE_TIMEOUT")
