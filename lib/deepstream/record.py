"""Records: synced JSON documents (client.record).

    rec = client.record.get_record("device/1")      # R|CR, shared per name
    rec.when_ready(lambda r: print(r.get()))
    rec.set("config.interval", 5)                    # R|P (local version + 1)
    rec.set({"config": {"interval": 5}}, cb)         # R|U with a write ack
    rec.subscribe("config", lambda value: ...)       # fires on real changes only
    rec.discard()                                    # R|US when the last user lets go

RecordHandler keeps one Record per name and routes every `R` message. The
pieces live in small modules (each must compile in a 96K MicroPython heap):
record_core.py (Record), record_merge.py (conflicts, loaded on the first
one), record_requests.py (snapshot/has/head/set_data), record_list.py
(lists), jsonpath.py (paths).

Conflicts go through a merge strategy `fn(record, remote_data,
remote_version, done)` calling `done(error, merged)`: REMOTE_WINS (the
default: option merge_strategy=None) or LOCAL_WINS, or your own.
"""
from .compat import json_loads, ordered_dict
from .jsonpath import copy as _copy, set as _set_path
from .message import DOCUMENTS, ParseError, UNDEFINED, build, check_name, parse_typed
from .record_core import LOCAL_WINS, REMOTE_WINS, Record, T, _NOTHING, _version  # noqa: F401 (public names)


class RecordHandler:
    """client.record: records, lists, snapshot/has/head, set_data, listen."""

    def __init__(self, client):
        self._client = client
        opts = client.options
        self._merge = opts["merge_strategy"]
        self._deep_copy = opts["record_deep_copy"]
        self._records = ordered_dict()  # name -> Record, in the order first asked for
        self._lists = {}  # name -> List
        self._destroying = {}  # name -> (action, Record): US/D sent, ack awaited
        self._requests = ordered_dict()  # "SN"/"HD" + 0x1f + name -> [(kind, callback)], oldest first
        self._cu_cbs = {}  # name -> [callbacks] of set_data writes with -1
        self._listeners = None  # listener.Listeners, made by the first listen()

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
        """callback(error, exists); asked with R|HD (7.0.2 never answers R|H)."""
        self._requests_module().ask(self, "has", name, callback)

    def head(self, name, callback):
        """callback(error, version) of the record on the server."""
        self._requests_module().ask(self, "head", name, callback)

    def set_data(self, name, path_or_data, value=_NOTHING, callback=None):
        """Write without subscribing: set_data(name, data[, cb]) or
        set_data(name, path, value[, cb]); R|CU unless the record is held."""
        from .record_requests import set_data
        set_data(self, name, path_or_data, value, callback)

    def _requests_module(self):
        import deepstream.record_requests as mod
        return mod

    def record_names(self):
        return list(self._records)

    def _send_read(self, name, send=True):
        c = self._client
        if send:
            c._conn.send(build(T, "CR", name))
        c._acks.add(T, "S", name, c.options["record_read_ack_timeout"])
        c._acks.add(T, "R", name, c.options["record_read_timeout"], "RESPONSE_TIMEOUT")

    def _forget(self, rec):
        if self._records.get(rec.name) is rec:
            del self._records[rec.name]
            self._lists.pop(rec.name, None)
        acks = self._client._acks
        acks.clear(T, "S", rec.name)
        acks.clear(T, "R", rec.name)

    # ---- listening ----------------------------------------------------------------

    def listen(self, pattern, callback):
        """callback(name, is_subscribed, response): active providers for records."""
        self._listening().listen(pattern, callback)

    def unlisten(self, pattern):
        self._listening().unlisten(pattern)

    def _listening(self):
        if self._listeners is None:
            from .listener import Listeners
            self._listeners = Listeners(self._client, T)
        return self._listeners

    # ---- incoming --------------------------------------------------------------------

    def handle(self, action, data, raw):
        c = self._client
        name = data[0] if data else ""
        if action in ("R", "U", "P"):
            self._on_data(action, data)
        elif action == "A":
            self._on_ack(data)
        elif action == "WA":
            self._on_write_ack(data)
        elif action == "E":
            self._on_error(data)
        elif action == "SH":
            rec = self._records.get(name)
            if rec is not None and len(data) > 1:
                rec.has_provider = data[1] == "T"
                rec._emit("hasProviderChanged", rec.has_provider)
        elif action in ("HD", "H"):
            self._requests_module().on_head(self, action, data)
        elif action in ("SP", "SR"):
            lst = self._listeners
            if (lst is None or not lst.handle(action, data)) and action == "SP":
                c._error(name, "UNSOLICITED_MESSAGE", T)
        else:
            c._error(name or action, "UNSOLICITED_MESSAGE", T)

    def _on_data(self, action, data):
        """R|R, R|U, R|P: checked completely before anything changes."""
        c = self._client
        name = data[0] if data else ""
        rec = self._records.get(name)
        snap = action == "R" and ("SN\x1f" + name) in self._requests
        if rec is None and not snap:
            c._error(name, "UNSOLICITED_MESSAGE", T)
            return
        version = _version(data[1]) if len(data) >= (4 if action == "P" else 3) else None
        if version is None:
            c._error("invalid version or missing field in R|%s for record '%s'" % (action, name),
                     "MESSAGE_PARSE_ERROR", T)
            return
        path = value = None
        try:
            if action == "P":
                if rec is None or not rec.is_ready:
                    return  # before the first read: the read brings the current state
                if version != rec.version + 1:
                    rec._resync()  # the reply (R|R, full data) is merged like an update
                    return
                path = data[2]
                value = parse_typed(data[3])
                new = _set_path(rec._data, path, value, False)
            else:
                new = json_loads(data[2])
                if not isinstance(new, DOCUMENTS):
                    raise ValueError("record data must be an object or array, got %s" % data[2][:40])
        except (ValueError, ParseError) as err:
            c._error("R|%s for record '%s' ignored: %s" % (action, name, err), "MESSAGE_PARSE_ERROR", T)
            return
        if snap:
            self._requests_module().answer(self, "SN", name, None, new if rec is None else _copy(new))
        if rec is None:
            return
        if action == "R":
            rec._syncing = False
            c._acks.clear(T, "R", name)
            if rec.version is None:
                rec._on_read(version, new)
                return
        elif rec.version is None:
            return
        rec._on_remote(action, version, new)

    def _on_ack(self, data):
        c = self._client
        if len(data) < 2:
            c._error("record ack without a name", "MESSAGE_PARSE_ERROR", T)
            return
        what, name = data[0], data[1]
        c._acks.clear(T, what, name)
        if what in ("US", "D"):
            pending = self._destroying.get(name)
            if pending is not None and pending[0] == what:
                del self._destroying[name]
                pending[1]._emit("discard" if what == "US" else "delete")
                return
            if what == "D":
                rec = self._records.get(name)
                if rec is not None:  # deleted by another client
                    rec._destroy()
                    rec._emit("delete")

    def _on_write_ack(self, data):
        c = self._client
        name = data[0] if data else ""
        try:
            versions = json_loads(data[1])
            error = parse_typed(data[2]) if len(data) > 2 else None
            if not isinstance(versions, list):
                raise ValueError("version list expected")
        except (ValueError, ParseError, IndexError) as err:
            c._error("bad write acknowledgement for '%s': %s" % (name, err), "MESSAGE_PARSE_ERROR", T)
            return
        if error is UNDEFINED:
            error = None
        if -1 in versions and name in self._cu_cbs:
            self._requests_module().pop_cu(self, name, error)
        rec = self._records.get(name)
        if rec is None and name in self._destroying:  # acks of writes sent before a discard
            rec = self._destroying[name][1]
        if rec is not None:
            rec._write_acked(versions, error)

    def _on_error(self, data):
        c = self._client
        code = data[0] if data else ""
        name = data[1] if len(data) > 1 else ""
        if code == "VERSION_EXISTS":
            from .record_merge import version_exists
            version_exists(self, data)
        elif code in ("SN", "HD", "H") and len(data) > 2:
            self._requests_module().on_request_error(self, code, name, data[2])
        elif code == "RECORD_NOT_FOUND" and self._requests and \
                self._requests_module().answer(self, "SN", name, code, None):
            pass  # 7.0.2's answer to a snapshot of a missing record
        else:
            if code == "MESSAGE_DENIED":
                refused = data[2] if len(data) > 2 else ""
                rec = self._records.get(name)
                if rec is not None:
                    if refused in ("CR", "S", "R"):
                        c._acks.clear(T, "S", name)
                        c._acks.clear(T, "R", name)
                    elif refused in ("U", "P") and rec.is_ready:
                        rec._resync()  # our version went up but the server's did not
                if refused in ("SN", "HD", "H") and self._requests:
                    self._requests_module().answer(self, "SN" if refused == "SN" else "HD", name, code, None)
                elif refused == "CU" and name in self._cu_cbs:
                    self._requests_module().pop_cu(self, name, code)
            c._handle_error(T, data)

    def resubscribe(self):
        """After a reconnect: read every record again, listen again, re-ask."""
        conn = self._client._conn
        for name in self._records:
            # a record created while offline has its R|CR still queued: timers only
            self._send_read(name, not conn.queued_count(build(T, "CR", name)))
        if self._listeners is not None:
            self._listeners.resubscribe()
        if self._requests:
            self._requests_module().resend(self)
