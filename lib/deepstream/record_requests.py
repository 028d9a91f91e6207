"""One-shot record requests of client.record: snapshot, has, head, set_data.

Functions of RecordHandler (record.py), loaded on first use: a device that
only holds records never loads them. Messages of the model, and what
@deepstream/server 7.0.2 answers (docs/PROTOCOL.md has both wires):

    READ {name}    -> READ_RESPONSE {name, version, data}; missing: RECORD_NOT_FOUND
                      (text: R|SN -> R|R, R|E|RECORD_NOT_FOUND|name; a v3 server's
                      R|E|SN|name|RECORD_NOT_FOUND is accepted too)
    HEAD {name}    -> HEAD_RESPONSE {name, version}; missing: version -1
                      (text: R|HD; 7.0.2 never answers the text R|H, so has()
                      asks with R|HD; a v3 R|H|name|T/F answer is accepted)
    CREATEANDUPDATE / CREATEANDPATCH {name, version -1, [path,] data}
                   -> applied without reply, or a write acknowledgement when
                      asked (text: R|CU|name|-1|... with its config field)

Requests are sent once per (action, name); every callback waiting for it is
answered by the reply. If nothing comes within record_read_timeout the
error event RESPONSE_TIMEOUT ("No response received in time for
R|SN|name") fires AND the callbacks get ("RESPONSE_TIMEOUT", None): unlike
2.3.4, nothing waits forever.
"""
from .compat import const
from .jsonpath import wire_path as _wire_path
from .message import UNDEFINED, check_name
from .record_core import T, _NOTHING, _falsy_scalar, _split_set_args

_RECORD = const(5)
_RECORD_READ = const(3)
_RECORD_HEAD = const(5)
_RECORD_CREATEANDUPDATE = const(16)
_RECORD_CREATEANDPATCH = const(17)
_RECORD_NOTIFY = const(2)


def ask(h, kind, name, callback):
    """snapshot() -> callback(error, data), has() -> callback(error, exists),
    head() -> callback(error, version): answered at once from a record we
    hold (has: held at all; snapshot/head: ready), else asked with READ / HEAD."""
    check_name(name, "record name")
    if not callable(callback):
        raise TypeError("%s: callback must be callable" % kind)
    rec = h._records.get(name)
    if rec is not None and (kind == "has" or rec.is_ready):
        h._client._call(T, callback, None, True if kind == "has" else rec.get() if kind == "snapshot" else rec.version)
        return
    action = _RECORD_READ if kind == "snapshot" else _RECORD_HEAD
    key = chr(action) + name
    waiting = h._requests.get(key)
    if waiting is None:
        h._requests[key] = [(kind, callback)]
        _send_request(h, action, name)
    else:
        waiting.append((kind, callback))


def _send_request(h, action, name, send=True):
    c = h._client
    if send:
        c._conn.send(_RECORD, action, name)
    c._acks.add(_RECORD, action, name, c.options["record_read_timeout"], "RESPONSE_TIMEOUT",
                lambda entry: _request_timeout(h, entry))


def _request_timeout(h, entry):
    action, name = entry[2], entry[3]
    h._client._error("No response received in time for R|%s|%s" % ("SN" if action == _RECORD_READ else "HD", name),
                     "RESPONSE_TIMEOUT", T)
    answer(h, action, name, "RESPONSE_TIMEOUT", None)


def answer(h, action, name, error, value, kinds=None):
    """Call the callbacks waiting for (action, name). False if none waited."""
    waiting = h._requests.pop(chr(action) + name, None)
    if waiting is None:
        return False
    c = h._client
    c._acks.clear(_RECORD, action, name)
    for kind, cb in waiting:
        if kinds is None:
            c._call(T, cb, error, value)
        else:
            args = kinds[kind]
            c._call(T, cb, args[0], args[1])
    return True


def on_head(h, m):
    """HEAD_RESPONSE {name, version} (-1: missing) answers has() and head();
    a v3 R|H|name|T/F (version None, data True/False) answers has() only."""
    name = m.name or ""
    if m.bad is not None:
        h._client._error(m.bad, "MESSAGE_PARSE_ERROR", T)
        return
    if m.version is None:
        found = m.data is True
        head = (None, None)
    else:
        found = m.version >= 0
        head = (None, m.version) if found else ("RECORD_NOT_FOUND", None)
    if not answer(h, _RECORD_HEAD, name, None, None, {"has": (None, found), "head": head}):
        h._client._error("no entry for " + name, "UNSOLICITED_MESSAGE", T)


def on_request_error(h, m):
    """An error about a READ or HEAD of ours (m.original): RECORD_NOT_FOUND
    (a snapshot of a missing record; v3: R|E|SN|name|CODE, R|E|HD|name|CODE),
    MESSAGE_DENIED. True if it answered a request."""
    err = m.error_name()
    name = m.name or ""
    if m.original == _RECORD_HEAD and err == "RECORD_NOT_FOUND":
        kinds = {"has": (None, False), "head": (err, None)}
    else:
        kinds = {"snapshot": (err, None), "has": (err, None), "head": (err, None)}
    return answer(h, m.original, name, None, None, kinds)


def resend(h):
    conn = h._client._conn
    for key in h._requests:
        action, name = ord(key[0]), key[1:]
        # still queued (asked while offline): only the timer is missing
        _send_request(h, action, name, not conn.queued(_RECORD, action, name))


# ---- writes without a record -----------------------------------------------


def set_data(h, name, path_or_data, value=_NOTHING, callback=None):
    """Write without subscribing: set_data(name, data[, cb]) or
    set_data(name, path, value[, cb]). Goes through the record if held,
    else CREATEANDUPDATE / CREATEANDPATCH with version -1 (creates the
    record if missing)."""
    check_name(name, "record name")
    conn = h._client._conn
    path, value, cb, toks = _split_set_args(path_or_data, value, callback, "set_data", conn.codec)
    rec = h._records.get(name)
    if (rec is None and path is not None and value is not UNDEFINED and not conn.codec.FALSY_PATH_SET
            and _falsy_scalar(value)):
        # 7.0.2's text endpoint refuses 0/false/"" in a path write (R|E|INVALID_MESSAGE_DATA):
        # write through a briefly held record instead, as a whole update
        rec = h.get_record(name)
        rec.set(path, value, cb)
        rec.discard()
        return
    if rec is not None:
        rec.set(path, value, cb) if path is not None else rec.set(value, cb)
        return
    if cb is not None:
        h._cu_cbs.setdefault(name, []).append(cb)
    if path is None:
        conn.send(_RECORD, _RECORD_CREATEANDUPDATE, name, value, "-1" if cb else None, version=-1,
                  write_ack=cb is not None)
    else:
        # the server's copy is unknown here: written for a record without the path
        conn.send(_RECORD, _RECORD_CREATEANDPATCH, name, value, "-1" if cb else None,
                  path=_wire_path({}, path, toks), version=-1, write_ack=cb is not None)


def pop_cu(h, name, error):
    cbs = h._cu_cbs.get(name)
    if cbs:
        cb = cbs.pop(0)
        if not cbs:
            del h._cu_cbs[name]
        h._client._call(T, cb, error)


# ---- notify (binary protocol) -------------------------------------------------------


def notify(h, names, callback):
    """NOTIFY {names, cid}: the server reads these records again from storage."""
    if isinstance(names, str) or not isinstance(names, (list, tuple)) or not names:
        raise TypeError("notify: names must be a non-empty list of record names")
    for name in names:
        check_name(name, "record name")
    if callback is not None and not callable(callback):
        raise TypeError("notify: callback must be callable")
    c = h._client
    conn = c._conn
    if not conn.codec.NOTIFY:
        raise RuntimeError("notify() needs the binary protocol (deepstream v4 and later): the text protocol has no "
                           "such message")
    if h._notifies is None:
        h._notifies = {}
    cid = "n%d" % len(h._notifies)
    while cid in h._notifies:
        cid += "+"
    h._notifies[cid] = callback
    conn.send(_RECORD, _RECORD_NOTIFY, names=list(names), cid=cid)
    c._acks.add(_RECORD, _RECORD_NOTIFY, cid, c.options["record_read_timeout"], "RESPONSE_TIMEOUT",
                lambda entry: notified(h, entry[3], "RESPONSE_TIMEOUT"))


def notified(h, cid, error):
    """The answer to notify() `cid` (its ack: error None). False if none waited."""
    if not h._notifies or cid not in h._notifies:
        return False
    cb = h._notifies.pop(cid)
    c = h._client
    c._acks.clear(_RECORD, _RECORD_NOTIFY, cid)
    if cb is not None:
        c._call(T, cb, error)
    return True
