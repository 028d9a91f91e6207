"""Records: synced JSON documents (client.record).

    rec = client.record.get_record("device/1")      # SUBSCRIBECREATEANDREAD, shared per name
    rec.when_ready(lambda r: print(r.get()))
    rec.set("config.interval", 5)                    # PATCH (local version + 1)
    rec.set({"config": {"interval": 5}}, cb)         # UPDATE with a write ack
    rec.subscribe("config", lambda value: ...)       # fires on real changes only
    rec.discard()                                    # UNSUBSCRIBE when the last user lets go

RecordHandler keeps one Record per name and routes every RECORD message
of the model (text: `R|...`; docs/PROTOCOL.md has both wires). The
pieces live in small modules (each must compile in a 96K MicroPython heap):
record_core.py (Record), record_merge.py (conflicts, loaded on the first
one), record_requests.py (snapshot/has/head/set_data), record_list.py
(lists), jsonpath.py (paths).

Conflicts go through a merge strategy `fn(record, remote_data,
remote_version, done)` calling `done(error, merged)`: REMOTE_WINS (the
default: option merge_strategy=None) or LOCAL_WINS, or your own.
"""
from .compat import const, ordered_dict
from .jsonpath import copy as _copy, set as _set_path
from .message import DOCUMENTS, UNDEFINED, check_name
from .record_core import LOCAL_WINS, REMOTE_WINS, Record, T, _NOTHING  # noqa: F401 (public names)

_RECORD = const(5)
_RECORD_ERROR = const(1)
_RECORD_NOTIFY = const(2)
_RECORD_READ = const(3)
_RECORD_READ_RESPONSE = const(4)
_RECORD_HEAD = const(5)
_RECORD_HEAD_RESPONSE = const(6)
_RECORD_HEAD_RESPONSE_BULK = const(8)
_RECORD_DELETE = const(9)
_RECORD_DELETE_SUCCESS = const(10)
_RECORD_DELETED = const(13)
_RECORD_WRITE_ACKNOWLEDGEMENT = const(14)
_RECORD_UPDATE = const(18)
_RECORD_PATCH = const(19)
_RECORD_SUBSCRIBECREATEANDREAD = const(23)
_RECORD_UNSUBSCRIBE = const(26)
_RECORD_SUBSCRIPTION_HAS_PROVIDER = const(31)
_RECORD_SUBSCRIPTION_HAS_NO_PROVIDER = const(32)
_RECORD_SUBSCRIPTION_FOR_PATTERN_FOUND = const(33)
_RECORD_SUBSCRIPTION_FOR_PATTERN_REMOVED = const(34)
_RECORD_PATCH_MULTI = const(35)
_RECORD_VERSION_EXISTS = const(102)
_RECORD_INVALID_VERSION = const(108)
_RECORD_RECORD_NOTIFY_ERROR = const(113)
_RECORD_MESSAGE_DENIED = const(115)


def _what(m):
    """A record message's kind for error texts: R|U (text) or UPDATE (binary)."""
    if m.raw is not None:
        return m.raw[:3].replace("\x1f", "|")
    return {_RECORD_READ_RESPONSE: "READ_RESPONSE", _RECORD_UPDATE: "UPDATE"}.get(m.action, "PATCH")


class RecordHandler:
    """client.record: records, lists, snapshot/has/head, set_data, listen."""

    def __init__(self, client):
        self._client = client
        opts = client.options
        self._merge = opts["merge_strategy"]
        self._deep_copy = opts["record_deep_copy"]
        self._records = ordered_dict()  # name -> Record, in the order first asked for
        self._lists = {}  # name -> List
        self._destroying = {}  # name -> (action, Record): UNSUBSCRIBE/DELETE sent, answer awaited
        self._requests = ordered_dict()  # chr(READ/HEAD) + name -> [(kind, callback)], oldest first
        self._cu_cbs = {}  # name -> [callbacks] of set_data writes with -1
        self._notifies = None  # correlation id -> callback of a notify() awaiting its ack
        self._listeners = None  # listener.Listeners, made by the first listen()
        self._restoring = None  # binary: name -> True while its version is asked after a reconnect
        # what restoring by version saved (record_restore.py): reconnects, records held
        # then, left alone (their version had not moved), read again
        self.restore_stats = {"restores": 0, "records": 0, "unchanged": 0, "reread": 0}

    # ---- records -----------------------------------------------------------

    def get_record(self, name):
        """The record `name` (created or read on the server); one object per name."""
        check_name(name, "record name")
        rec = self._records.get(name)
        if rec is None:
            rec = Record(self, name)
            self._records[name] = rec
            self._send_read(name)
        rec.usages += 1
        return rec

    def get_list(self, name):
        """A list: a record whose data is a JSON array of record names."""
        lst = self._lists.get(name)
        if lst is not None and not lst._record.is_destroyed:
            lst._record.usages += 1
            return lst
        from .record_list import List
        lst = List(self.get_record(name))
        self._lists[name] = lst
        return lst

    # ---- one-shot requests (record_requests.py, loaded on first use) ----------

    def snapshot(self, name, callback):
        """callback(error, data): the record's current data, without subscribing."""
        self._requests_module().ask(self, "snapshot", name, callback)

    async def snapshot_async(self, name):
        """`data = await client.record.snapshot_async(name)`; RecordError (see awaitable.py)."""
        from .awaitable import snapshot_async
        return await snapshot_async(self, name)

    def has(self, name, callback):
        """callback(error, exists); asked with HEAD (7.0.2 never answers the text R|H)."""
        self._requests_module().ask(self, "has", name, callback)

    def head(self, name, callback):
        """callback(error, version) of the record on the server."""
        self._requests_module().ask(self, "head", name, callback)

    def set_data(self, name, path_or_data, value=_NOTHING, callback=None):
        """Write without subscribing: set_data(name, data[, cb]) or
        set_data(name, path, value[, cb]); CREATEANDUPDATE/CREATEANDPATCH
        (version -1) unless the record is held."""
        from .record_requests import set_data
        set_data(self, name, path_or_data, value, callback)

    def notify(self, names, callback=None):
        """Ask the server to read records `names` again from its storage (after
        a change made there by other means); their subscribers get the stored
        data. callback(error) once the server has done it. deepstream v4 and
        later, binary protocol only: the text protocol has no such message."""
        self._requests_module().notify(self, names, callback)

    async def notify_async(self, names):
        """`await client.record.notify_async(names)`; raises RecordError."""
        from .awaitable import notify_async
        return await notify_async(self, names)

    def _requests_module(self):
        import deepstream.record_requests as mod
        return mod

    def record_names(self):
        return list(self._records)

    def _send_read(self, name, send=True):
        c = self._client
        if send:
            c._conn.codec.bulk(c._conn, _RECORD, _RECORD_SUBSCRIBECREATEANDREAD, name)
        c._acks.add(_RECORD, _RECORD_SUBSCRIBECREATEANDREAD, name, c.options["record_read_ack_timeout"])
        c._acks.add(_RECORD, _RECORD_READ_RESPONSE, name, c.options["record_read_timeout"], "RESPONSE_TIMEOUT")

    def _forget(self, rec):
        if self._records.get(rec.name) is rec:
            del self._records[rec.name]
            self._lists.pop(rec.name, None)
        acks = self._client._acks
        acks.clear(_RECORD, _RECORD_SUBSCRIBECREATEANDREAD, rec.name)
        acks.clear(_RECORD, _RECORD_READ_RESPONSE, rec.name)

    # ---- listening ----------------------------------------------------------------

    def listen(self, pattern, callback):
        """callback(name, is_subscribed, response): active providers for records."""
        self._listening().listen(pattern, callback)

    def unlisten(self, pattern):
        self._listening().unlisten(pattern)

    def _listening(self):
        if self._listeners is None:
            from .listener import Listeners
            self._listeners = Listeners(self._client, _RECORD)
        return self._listeners

    # ---- incoming --------------------------------------------------------------------

    def handle(self, m):
        c = self._client
        action = m.action
        if m.is_ack:
            if action == _RECORD_NOTIFY:
                self._requests_module().notified(self, m.cid, None)
                return
            self._on_ack(m)
        elif action == _RECORD_READ_RESPONSE or action == _RECORD_UPDATE or action == _RECORD_PATCH:
            self._on_data(m)
        elif action == _RECORD_DELETE_SUCCESS or action == _RECORD_DELETED:
            self._on_deleted(m.name or "")
        elif action == _RECORD_WRITE_ACKNOWLEDGEMENT:
            self._on_write_ack(m)
        elif action >= 100 or action == _RECORD_ERROR:
            self._on_error(m)
        elif action == _RECORD_SUBSCRIPTION_HAS_PROVIDER or action == _RECORD_SUBSCRIPTION_HAS_NO_PROVIDER:
            rec = self._records.get(m.name)
            if rec is not None:
                rec.has_provider = action == _RECORD_SUBSCRIPTION_HAS_PROVIDER
                rec._emit("hasProviderChanged", rec.has_provider)
        elif action == _RECORD_HEAD_RESPONSE:
            if self._restoring and m.name in self._restoring:
                from .record_restore import version_of
                version_of(self, m.name, m.version)
            else:
                self._requests_module().on_head(self, m)
        elif action == _RECORD_HEAD_RESPONSE_BULK:
            from .record_restore import on_versions
            on_versions(self, m)
        elif action == _RECORD_PATCH_MULTI:  # servers >= 10.1: several path sets at once, applied by reading again
            rec = self._records.get(m.name)
            if rec is not None and rec.is_ready:
                rec._resync()
        elif action == _RECORD_SUBSCRIPTION_FOR_PATTERN_FOUND or action == _RECORD_SUBSCRIPTION_FOR_PATTERN_REMOVED:
            lst = self._listeners
            if (lst is None or not lst.handle(m)) and action == _RECORD_SUBSCRIPTION_FOR_PATTERN_FOUND:
                c._error(m.name or "", "UNSOLICITED_MESSAGE", T)
        else:
            c._error(m.name or m.code or str(action), "UNSOLICITED_MESSAGE", T)

    def _on_data(self, m):
        """READ_RESPONSE, UPDATE, PATCH: checked completely before anything changes."""
        c = self._client
        action = m.action
        name = m.name or ""
        rec = self._records.get(name)
        snap = action == _RECORD_READ_RESPONSE and self._requests and (chr(_RECORD_READ) + name) in self._requests
        if rec is None and not snap:
            c._error(name, "UNSOLICITED_MESSAGE", T)
            return
        if m.version is None:
            c._error(m.bad or "invalid version or missing field in %s for record '%s'" % (_what(m), name),
                     "MESSAGE_PARSE_ERROR", T)
            return
        version = m.version
        try:
            if m.bad is not None:
                raise ValueError(m.bad)
            if action == _RECORD_PATCH:
                if rec is None or not rec.is_ready:
                    return  # before the first read: the read brings the current state
                if version != rec.version + 1:
                    rec._resync()  # the reply (full data) is merged like an update
                    return
                new = _set_path(rec._data, m.path, m.data, False)
            else:
                new = m.data
                if not isinstance(new, DOCUMENTS):
                    raise ValueError("record data must be an object or array, got %s" % repr(new)[:40])
        except ValueError as err:
            c._error("%s for record '%s' ignored: %s" % (_what(m), name, err), "MESSAGE_PARSE_ERROR", T)
            return
        if snap:
            self._requests_module().answer(self, _RECORD_READ, name, None, new if rec is None else _copy(new))
        if rec is None:
            return
        if action == _RECORD_READ_RESPONSE:
            rec._syncing = False
            c._acks.clear(_RECORD, _RECORD_READ_RESPONSE, name)
            if rec.version is None:
                rec._on_read(version, new)
                return
        elif rec.version is None:
            return
        rec._on_remote(action == _RECORD_PATCH, version, new)

    def _on_ack(self, m):
        c = self._client
        action = m.action
        if action == _RECORD_DELETE_SUCCESS:  # text: R|A|D, to every holder
            self._on_deleted(m.name or "")
            return
        c._acks.clear_names(_RECORD, action, m)
        if action == _RECORD_UNSUBSCRIBE:
            for name in m.names or ():
                pending = self._destroying.get(name)
                if pending is not None and pending[0] == _RECORD_UNSUBSCRIBE:
                    del self._destroying[name]
                    pending[1]._emit("discard")

    def _on_deleted(self, name):
        """The record was deleted: by us (DELETE_SUCCESS), or by another client."""
        self._client._acks.clear(_RECORD, _RECORD_DELETE, name)
        pending = self._destroying.get(name)
        if pending is not None and pending[0] == _RECORD_DELETE:
            del self._destroying[name]
            pending[1]._emit("delete")
            return
        rec = self._records.get(name)
        if rec is not None:  # deleted by another client
            rec._destroy()
            rec._emit("delete")

    def _on_write_ack(self, m):
        """A write acknowledgement: the versions it acknowledges come as a list
        (text), or as the correlation id we gave the write (binary: its version)."""
        name = m.name or ""
        versions = m.versions
        if versions is None:
            versions = [int(m.cid)] if m.cid and m.cid.lstrip("-").isdigit() else []
        error = None if m.data is UNDEFINED else m.data
        if m.bad is not None:
            self._client._error(m.bad, "MESSAGE_PARSE_ERROR", T)
            return
        self._write_acked(name, versions, error)

    def _write_acked(self, name, versions, error):
        if -1 in versions and name in self._cu_cbs:
            self._requests_module().pop_cu(self, name, error)
        rec = self._records.get(name)
        if rec is None and name in self._destroying:  # acks of writes sent before a discard
            rec = self._destroying[name][1]
        if rec is not None:
            rec._write_acked(versions, error)

    def _on_error(self, m):
        c = self._client
        action = m.action
        name = m.name or ""
        if action == _RECORD_VERSION_EXISTS:
            from .record_merge import version_exists
            version_exists(self, m)
            return
        if action == _RECORD_INVALID_VERSION:  # a gap in versions: read again, then merge
            rec = self._records.get(name)
            if rec is not None and rec.is_ready:
                rec._resync()
        if (m.original == _RECORD_READ or m.original == _RECORD_HEAD) and self._requests:
            if self._requests_module().on_request_error(self, m) and action != _RECORD_MESSAGE_DENIED:
                return  # a snapshot/has/head answered: RECORD_NOT_FOUND is no error then
        if (m.original == _RECORD_NOTIFY or action == _RECORD_RECORD_NOTIFY_ERROR) and m.cid:
            if self._requests_module().notified(self, m.cid, m.error_name()):
                return  # the notify() callback has it
        if action == _RECORD_MESSAGE_DENIED:
            refused = m.original
            rec = self._records.get(name)
            if rec is not None:
                if refused == _RECORD_SUBSCRIBECREATEANDREAD:
                    c._acks.clear(_RECORD, _RECORD_SUBSCRIBECREATEANDREAD, name)
                    c._acks.clear(_RECORD, _RECORD_READ_RESPONSE, name)
                elif (refused == _RECORD_UPDATE or refused == _RECORD_PATCH) and rec.is_ready:
                    rec._resync()  # our version went up but the server's did not
        if m.is_write_ack and m.cid:  # a write of ours with a callback was refused (set_data's: cid -1)
            self._write_acked(name, [int(m.cid)] if m.cid.lstrip("-").isdigit() else [], m.error_name())
        c._report(m)

    def resubscribe(self):
        """After a reconnect: read every record again (binary: only the ones
        whose version changed, record_restore.py), listen again, re-ask."""
        conn = self._client._conn
        if self._records:
            if conn.codec.RESTORE_BY_HEAD:
                from .record_restore import restore
                restore(self)
            else:
                for name in self._records:
                    # a record created while offline has its read still queued: timers only
                    self._send_read(name, not conn.queued(_RECORD, _RECORD_SUBSCRIBECREATEANDREAD, name))
        if self._listeners is not None:
            self._listeners.resubscribe()
        if self._requests:
            self._requests_module().resend(self)
