"""Held records after a reconnect, restored by version (the binary
protocol's SUBSCRIBEANDHEAD; the codec's RESTORE_BY_HEAD).

One SUBSCRIBEANDHEAD names every ready record; the server subscribes us
again and answers with their versions (HEAD_RESPONSE_BULK, a name -> version
map; names it has no copy of in its cache come as single HEAD_RESPONSEs).
Only a record whose version moved is read again (READ): its answer goes
through record.py like any later read, so a conflict with changes made
offline is merged. A device with 20 records and a one-second outage
downloads none of them instead of 20.

Records not ready yet (never read: created offline, or before a first
answer) are read as at the start (SUBSCRIBECREATEANDREAD), which creates
them if missing. Writes made offline went out before this (they were
queued): by the time the versions arrive the server has them.

A record the server does not have (version -1: a server restarted without
persistent storage lost it, or another client deleted it while we were
away; nobody can tell these apart) is made again from our copy, offline
changes included: CREATEANDUPDATE at version 1, the version a new record's
first write takes (what 7.0.5 sends for a record created offline). It
creates the record without subscribing (SUBSCRIBEANDHEAD did: a
SUBSCRIBECREATEANDREAD now would be MULTIPLE_SUBSCRIPTIONS). If another client
wrote to it first (version 1 taken), 7.0.2 answers VERSION_EXISTS and the merge
strategy decides, as for any conflict; one that only made it (empty, version
0) gets our data on top. Our offline writes to it were refused (RECORD_UPDATE_ERROR,
which 7.0.2 sends before the versions: the write went first); the error
waits here for the version: the re-creation carries their data, so it is
dropped then, and reported otherwise.

`client.record.restore_stats` counts what this saved: records held at the
reconnect, read again, left alone, and made again.

Functions of RecordHandler (record.py), loaded on the first reconnect.
"""
from .compat import const

_RECORD = const(5)
_RECORD_CREATEANDUPDATE = const(16)
_RECORD_SUBSCRIBEANDHEAD = const(21)
_RECORD_SUBSCRIBECREATEANDREAD = const(23)


def restore(h):
    """After a reconnect: subscribe every ready record again and ask for its version."""
    conn = h._client._conn
    names = []
    for name in h._records:
        if h._records[name].is_ready:
            names.append(name)
        else:
            h._send_read(name, not conn.queued(_RECORD, _RECORD_SUBSCRIBECREATEANDREAD, name))
    h._restoring = {}
    stats = h.restore_stats
    stats["restores"] += 1
    stats["records"] += len(names)
    for i in range(0, len(names), 50):  # a message that fits a frame, as bulk subscriptions
        part = names[i:i + 50]
        for name in part:
            h._restoring[name] = True
        conn.send(_RECORD, _RECORD_SUBSCRIBEANDHEAD, names=part, cid=conn.codec.bulk_cid(conn, _RECORD, part))
    c = h._client
    for name in names:
        c._acks.add(_RECORD, _RECORD_SUBSCRIBEANDHEAD, name, c.options["record_read_ack_timeout"])


def on_versions(h, m):
    """HEAD_RESPONSE_BULK {versions}: read again what moved."""
    for name, version in (m.versions or {}).items():
        version_of(h, name, version)


def version_of(h, name, version):
    """The server's version of a record being restored. True if it was one."""
    restoring = h._restoring
    if not restoring:
        return False
    refused = restoring.pop(name, None)  # True, or the RECORD_UPDATE_ERROR of an offline write
    if refused is None:
        return False
    rec = h._records.get(name)
    if rec is not None and rec.is_ready:
        if version == -1:
            _recreate(h, rec)
            return True  # the refused writes' data is in it: no error
        if version == rec.version:
            h.restore_stats["unchanged"] += 1
        else:
            h.restore_stats["reread"] += 1
            rec._resync()  # the answer is merged like a remote update (record.py)
    if refused is not True:
        h._client._report(refused)
    return True


def _recreate(h, rec):
    """The server has no such record: made again from our data at version 1.
    Writes still waiting for their ack are in that data: its ack answers them
    (their versions are gone with the record)."""
    cbs = rec._write_cbs
    if cbs:
        waiting = [cbs.pop(v) for v in sorted(cbs)]
        if len(waiting) > 1:
            from .record_merge import _chain
            waiting = [_chain(h._client, waiting)]
        cbs[1] = waiting[0]
    h._client._conn.send(_RECORD, _RECORD_CREATEANDUPDATE, rec.name, rec._data, "1" if cbs else None, version=1,
                         write_ack=bool(cbs))
    rec.version = 1
    h.restore_stats["recreated"] += 1
