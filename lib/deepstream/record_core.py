"""Record: one synced JSON document, shared by every get_record() of its name.

The data side of a record: reading, writing (versions, write acks, the
text endpoint's path-set workaround), applying remote changes and notifying
subscribers.
Identity, subscriptions and lifetime are in record_base.py, conflicts in
record_merge.py (loaded on the first one), the handler in record.py.

Versions: every local write sends exactly local version + 1, never more
(7.0.2 breaks a record for good when it sees a version above current + 1).
"""
from .compat import const
from .jsonpath import copy as _copy, equal as _equal, get as _get, set as _set_path
from .jsonpath import tokens as _tokens, wire_path as _wire_path
from .message import DOCUMENTS, NUMBERS, UNDEFINED, check_json
from .record_base import CLOSED_TEXT, LOCAL_WINS, REMOTE_WINS, T, _NOTHING, RecordBase  # noqa: F401 (re-exported)

_RECORD = const(5)
_RECORD_READ = const(3)
_RECORD_UPDATE = const(18)
_RECORD_PATCH = const(19)
_RECORD_ERASE = const(20)


def _falsy_scalar(value):
    # 7.0.2's text endpoint answers a path set of 0, false or "" with R|E|INVALID_MESSAGE_DATA
    return value is False or value == "" or (not isinstance(value, bool) and isinstance(value, NUMBERS) and value == 0)


def _split_set_args(a, b, c, what, codec):
    """(path, value, callback, tokens) from set(value[, cb]) / set(path,
    value[, cb]); the path's tokens are made here and the value checked
    against what the codec can carry, to refuse what cannot be sent before
    anything happens; the tokens are used again for setting."""
    if b is _NOTHING:
        path, value, cb = None, a, c
    elif callable(b) and not isinstance(a, str):
        path, value, cb = None, a, b
    else:
        path, value, cb = a, b, c
    toks = None
    if path is not None:
        if not isinstance(path, str) or not path:
            raise ValueError("%s: path must be a non-empty string" % what)
        toks = _tokens(path)
        if value is not UNDEFINED:
            codec.check(value)
    elif not isinstance(value, DOCUMENTS):
        raise TypeError("%s: a value other than a dict or list needs a path" % what)
    else:
        check_json(value)
    if cb is not None and not callable(cb):
        raise TypeError("%s: callback must be callable" % what)
    return path, value, cb, toks


class Record(RecordBase):
    """One record, shared by every get_record() of its name (see usages)."""

    __slots__ = ()

    def get(self, path=None):
        """A copy of the data (or of the value at `path`); None if missing."""
        if self._destroyed("get"):
            return None
        value = _get(self._data, path)
        if value is UNDEFINED:
            return None
        return _copy(value) if self._h._deep_copy else value

    def set(self, path_or_data, value=_NOTHING, callback=None):
        """set(data[, callback]) or set(path, value[, callback]).

        With a callback the server is asked for a write acknowledgement and
        the callback gets None or the error text. UNDEFINED as value deletes
        the key. A set that changes nothing sends nothing.
        """
        if callback is None and self.is_ready and type(path_or_data) is str and value is not _NOTHING:
            self._set_at(path_or_data, value)  # a device loop's set(path, value): small frames only
        else:
            self._set_any(path_or_data, value, callback)

    async def set_async(self, path_or_data, value=_NOTHING):
        """`await rec.set_async(data)` / `await rec.set_async(path, value)`: the
        write, acknowledged by the server (the reference client's setWithAck);
        raises RecordError (awaitable.py) with the error a callback would get."""
        from .awaitable import _NOTHING as nothing, set_async
        return await set_async(self, path_or_data, nothing if value is _NOTHING else value)

    def _set_any(self, path_or_data, value, callback):
        path, value, cb, toks = _split_set_args(path_or_data, value, callback, "set", self._h._client._conn.codec)
        if self._destroyed("set"):
            return
        if not self.is_ready:
            value = _copy(value)
            self._later(lambda: self._set(path, value, cb, toks))
            return
        self._set(path, value, cb, toks)

    def _set_at(self, path, value):
        """set(path, value) on a ready record, without a callback: what _set()
        does for it, in frames small enough for the C stack (test_frames.py)."""
        if not path:
            raise ValueError("set: path must be a non-empty string")
        _tokens(path)  # refuse a bad path before anything happens
        new = _set_path(self._data, path, value)
        if new is self._data:
            return
        if value is not UNDEFINED and not self._h._client._conn.codec.FALSY_PATH_SET and _falsy_scalar(value):
            self._send_update(None, new, None, False)  # 7.0.2's text endpoint refuses this as a path set
        else:
            self._send_patch(_wire_path(self._data, path), value)
        self._apply(new)

    def _set(self, path, value, cb, toks):
        if self.is_destroyed:
            return
        old = self._data
        new = _set_path(old, toks, value) if path else (old if _equal(old, value) else _copy(value))
        is_open = self._h._client._conn.state == "OPEN"
        if new is old:
            if cb is not None:
                self._h._client._call(T, cb, None if is_open else CLOSED_TEXT)
            return
        if cb is not None:
            if is_open:
                if self._write_cbs is None:
                    self._write_cbs = {}
                self._write_cbs[self.version + 1] = cb
            else:  # the update itself stays queued, as in the reference
                self._h._client._call(T, cb, CLOSED_TEXT)
        if (path is not None and value is not UNDEFINED and not self._h._client._conn.codec.FALSY_PATH_SET
                and _falsy_scalar(value)):
            path = None  # 7.0.2's text endpoint refuses this as a path set: send the whole record
        self._send_update(path and _wire_path(old, path, toks), new, value, cb is not None)
        self._apply(new)

    def _send_update(self, path, data, value, write_ack):
        """UPDATE with `data`, or PATCH (ERASE) of `value` at `path` (already in
        wire form); write_ack: the server acknowledges it (correlation id:
        the version)."""
        if path is not None and not write_ack:
            self._send_patch(path, value)
            return
        v = self.version + 1
        conn = self._h._client._conn
        if path is None:
            conn.send(_RECORD, _RECORD_UPDATE, self.name, data, str(v) if write_ack else None, version=v,
                      write_ack=write_ack)
        else:
            conn.send(_RECORD, _RECORD_ERASE if value is UNDEFINED else _RECORD_PATCH, self.name, value,
                      str(v) if write_ack else None, path=path, version=v, write_ack=write_ack)
        self.version = v

    def _send_patch(self, path, value):
        # the common update, a PATCH without a write ack: encoded first (a value
        # the codec cannot carry raises before the version moves)
        conn = self._h._client._conn
        conn.codec.patch(conn, self, path, value)  # at version + 1
        self.version += 1

    def set_merge_strategy(self, fn):
        if not callable(fn):
            raise TypeError("merge strategy must be callable")
        self._merge = fn

    # ---- subscriptions --------------------------------------------------

    def _apply(self, new):
        """Adopt `new` as the data and notify subscribers whose value changed."""
        old = self._data
        self._data = new
        if self._subs:
            self._notify(old, new)

    def _notify(self, old, new):
        subs = self._subs
        deep = self._h._deep_copy
        c = self._h._client
        for path in tuple(subs):
            cbs = subs.get(path)
            if not cbs:
                continue
            if path is None:
                before, after = old, new
            else:
                before, after = _value_at(old, path), _value_at(new, path)
            if not _equal(before, after):
                value = None if after is UNDEFINED else (_copy(after) if deep else after)
                for cb in tuple(cbs):
                    c._call(T, cb, value)

    def _on_read(self, version, data):
        """The answer to our first read: the record is ready."""
        self.version = version
        self._apply(data)
        self.is_ready = True
        pending, self._pending = self._pending, None
        if pending:
            c = self._h._client
            for fn in pending:
                if self.is_destroyed:
                    return
                c._call(T, fn)
        if not self.is_destroyed:
            self._emit("ready", self)

    def _on_remote(self, is_patch, version, data):
        """UPDATE, PATCH (data = the patched result) or a later READ_RESPONSE, already parsed."""
        if version == self.version + 1:
            self.version = version
            self._apply(data)
        elif is_patch:
            self._resync()  # the reply (READ_RESPONSE, full data) is merged like an update
        elif version == self.version and _equal(data, self._data):
            pass  # e.g. our own resync reply: nothing new
        else:  # a conflict with the server's state: run the merge strategy
            from .record_merge import recover
            recover(self, version, data, False)

    def _resync(self):
        if not self._syncing:
            self._syncing = True
            self._h._client._conn.send(_RECORD, _RECORD_READ, self.name)

    def _write_acked(self, versions, error):
        cbs = self._write_cbs
        if not cbs:
            return
        for v in versions:
            cb = cbs.pop(v, None)
            if cb is not None:
                self._h._client._call(T, cb, error)


def _value_at(data, path):
    try:
        return _get(data, path)
    except ValueError:
        return UNDEFINED
