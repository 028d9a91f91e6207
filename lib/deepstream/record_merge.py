"""Conflict resolution for records, loaded on the first conflict.

An incoming update with an unexpected version, or VERSION_EXISTS, goes
through the merge strategy `fn(record, remote_data, remote_version, done)`;
`done(error, merged)`. The record then takes the server's version; if the
merged data differs from the server's it is sent as a whole update on top of
the server's version (never higher than current + 1).
"""
from .jsonpath import copy as _copy, equal as _equal
from .message import DOCUMENTS
from .record_core import CLOSED_TEXT, REMOTE_WINS, T


def recover(rec, remote_version, remote_data, write_ack):
    """Run the merge strategy for a conflict with the server's state."""
    strategy = rec._merge or rec._h._merge or REMOTE_WINS
    done_once = []

    def done(error, merged=None):
        if done_once:
            return
        done_once.append(1)
        _recovered(rec, remote_version, remote_data, write_ack, error, merged)
    # raising before done() is as if it returned without calling it: nothing is merged
    rec._h._client._call(T, strategy, rec, _copy(remote_data), remote_version, done)


def _recovered(rec, remote_version, remote_data, write_ack, error, merged):
    if rec.is_destroyed:
        return
    if error is not None:
        c = rec._h._client
        c._error("received update for %s but version is %s (merge failed: %s)"
                 % (remote_version, rec.version, error), "VERSION_EXISTS", T)
        for cb in _take_refused(rec, remote_version) or ():
            c._call(T, cb, "VERSION_EXISTS")  # writes the server refused, nothing merged
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
    c = rec._h._client
    if _refused_again(rec, remote_version):
        # 7.0.2 refuses every write to a record whose transition an INVALID_VERSION
        # left stuck: sending the merge again would loop without end. The server's
        # data is taken, and the writes it refused are told so.
        c._error("record '%s': the server refused our merged data %d times on top of version %d: its "
                 "data is kept" % (rec.name, _MAX_REFUSALS, remote_version), "VERSION_EXISTS", T)
        rec._apply(remote_data)
        for cb in _take_refused(rec, remote_version + 1) or ():
            c._call(T, cb, "VERSION_EXISTS")
        return
    waiting = _take_refused(rec, remote_version + 1)
    if waiting and c._conn.state != "OPEN":
        for cb in waiting:
            c._call(T, cb, CLOSED_TEXT)
        waiting = None
    if waiting:
        rec._write_cbs[remote_version + 1] = waiting[0] if len(waiting) == 1 else _chain(c, waiting)
    merged = _copy(merged)
    rec._send_update(None, merged, None, bool(waiting or write_ack))
    rec._apply(merged)


_MAX_REFUSALS = 3  # merged writes refused on top of one server version before we give up


def _refused_again(rec, remote_version):
    """Count a merged write about to go on top of remote_version; True when
    the server has refused that many already (the same version each time)."""
    h = rec._h
    refusals = getattr(h, "_refusals", None)  # name -> [version, times]: made on the first conflict
    if refusals is None:
        refusals = h._refusals = {}
    seen = refusals.get(rec.name)
    if seen is None or seen[0] != remote_version:
        refusals[rec.name] = [remote_version, 1]
        return False
    seen[1] += 1
    if seen[1] > _MAX_REFUSALS:
        del refusals[rec.name]
        return True
    return False


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


def version_exists(handler, m):
    """VERSION_EXISTS {name, version, data: the server's}: a write of ours was refused."""
    c = handler._client
    name = m.name or ""
    if m.version is None:
        c._error(m.bad or "bad VERSION_EXISTS message for '%s'" % name, "MESSAGE_PARSE_ERROR", T)
        return
    remote = m.data
    if m.bad is not None or not isinstance(remote, DOCUMENTS):
        c._error("VERSION_EXISTS for '%s' ignored: %s" % (name, m.bad or "record data must be an object or array"),
                 "MESSAGE_PARSE_ERROR", T)
        return
    rec = handler._records.get(name)
    if rec is None or not rec.is_ready:
        if name in handler._cu_cbs:
            from .record_requests import pop_cu
            pop_cu(handler, name, "VERSION_EXISTS")
        c._error("received update for %d (record '%s' not held)" % (m.version, name), "VERSION_EXISTS", T)
        return
    recover(rec, m.version, remote, m.is_write_ack)
