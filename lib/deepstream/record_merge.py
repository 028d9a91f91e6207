"""Conflict resolution for records, loaded on the first conflict.

An incoming update with an unexpected version, or VERSION_EXISTS, goes
through the merge strategy `fn(record, remote_data, remote_version, done)`;
`done(error, merged)`. The record then takes the server's version; if the
merged data differs from the server's it is sent as a whole update on top of
the server's version (never higher than current + 1).
"""
from .compat import json_loads
from .jsonpath import copy as _copy, equal as _equal
from .message import DOCUMENTS
from .record_core import CLOSED_TEXT, REMOTE_WINS, T, WRITE_ACK, _version


def recover(rec, remote_version, remote_data, config):
    """Run the merge strategy for a conflict with the server's state."""
    strategy = rec._merge or rec._h._merge or REMOTE_WINS
    done_once = []

    def done(error, merged=None):
        if done_once:
            return
        done_once.append(1)
        _recovered(rec, remote_version, remote_data, config, error, merged)
    # raising before done() is as if it returned without calling it: nothing is merged
    rec._h._client._call(T, strategy, rec, _copy(remote_data), remote_version, done)


def _recovered(rec, remote_version, remote_data, config, error, merged):
    if rec.is_destroyed:
        return
    if error is not None:
        rec._h._client._error("received update for %s but version is %s (merge failed: %s)"
                              % (remote_version, rec.version, error), "VERSION_EXISTS", T)
        return
    old_version = rec.version
    rec.version = remote_version
    if _equal(rec._data, remote_data):
        _settle_writes(rec, remote_version)
        return
    if not isinstance(merged, DOCUMENTS):
        rec._h._client._error("merge strategy for '%s' gave %s, not a dict or list"
                              % (rec.name, type(merged).__name__), "VERSION_EXISTS", T)
        return
    if _equal(merged, remote_data):
        rec._apply(remote_data)  # parsed by us, shared with nobody
        _settle_writes(rec, remote_version)
        if old_version is not None and old_version > remote_version:
            rec._resync()  # later writes of ours may have been accepted meanwhile
        return
    # the merged data differs from the server's: send it on top of the server's
    # version; the callbacks of the refused writes wait for this write's ack
    waiting = _take_refused(rec, remote_version + 1)
    c = rec._h._client
    if waiting and c._conn.state != "OPEN":
        for cb in waiting:
            c._call(T, cb, CLOSED_TEXT)
        waiting = None
    if waiting:
        rec._write_cbs[remote_version + 1] = waiting[0] if len(waiting) == 1 else _chain(c, waiting)
    merged = _copy(merged)
    rec._send_update(None, merged, None, WRITE_ACK if (waiting or config == WRITE_ACK) else None)
    rec._apply(merged)


def _take_refused(rec, upto):
    """Remove and return the write callbacks of versions <= upto (refused
    by the server: an accepted write's ack comes before the conflict)."""
    cbs = rec._write_cbs
    if not cbs:
        return None
    return [cbs.pop(v) for v in sorted([v for v in cbs if v <= upto])]


def _settle_writes(rec, remote_version):
    """The merge kept the server's data: the refused writes are settled."""
    c = rec._h._client
    for cb in _take_refused(rec, remote_version) or ():
        c._call(T, cb, None)


def _chain(client, cbs):
    def call_all(error):
        for cb in cbs:
            client._call(T, cb, error)
    return call_all


def version_exists(handler, data):
    """R|E|VERSION_EXISTS|name|v|<json>[|config]: the server refused a write of ours."""
    c = handler._client
    name = data[1] if len(data) > 1 else ""
    version = _version(data[2]) if len(data) > 3 else None
    if version is None:
        c._error("bad VERSION_EXISTS message for '%s'" % name, "MESSAGE_PARSE_ERROR", T)
        return
    try:
        remote = json_loads(data[3])
        if not isinstance(remote, DOCUMENTS):
            raise ValueError("record data must be an object or array")
    except ValueError as err:
        c._error("VERSION_EXISTS for '%s' ignored: %s" % (name, err), "MESSAGE_PARSE_ERROR", T)
        return
    rec = handler._records.get(name)
    if rec is None or not rec.is_ready:
        if name in handler._cu_cbs:
            from .record_requests import pop_cu
            pop_cu(handler, name, "VERSION_EXISTS")
        c._error("received update for %d (record '%s' not held)" % (version, name), "VERSION_EXISTS", T)
        return
    recover(rec, version, remote, data[4] if len(data) > 4 else None)
