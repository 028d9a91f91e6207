"""One-shot record requests of client.record: snapshot, has, head, set_data.

Functions of RecordHandler (record.py), loaded on first use: a device that
only holds records never loads them. What @deepstream/server 7.0.2 answers on the text endpoint:

    R|SN|name   -> R|R|name|v|<json>; missing: R|E|RECORD_NOT_FOUND|name
                   (v3: R|E|SN|name|RECORD_NOT_FOUND - both are accepted)
    R|HD|name   -> R|HD|name|v|null; missing: version -1
                   (v3: R|HD|name|v, missing R|E|HD|name|RECORD_NOT_FOUND)
    R|H|name    -> 7.0.2: nothing at all. So has() asks with R|HD; a v3
                   answer R|H|name|T/F is accepted too.
    R|CU|name|-1|<json>|<config>, R|CU|name|-1|path|<typed>|<config>
                -> applied without reply (config {}), or R|WA|name|[-1]|L
                   (config {"writeSuccess":true}); the config field is
                   always sent (7.0.2 tells the two forms apart by count).

Requests are sent once per (action, name); every callback waiting for it is
answered by the reply. If nothing comes within record_read_timeout the
error event RESPONSE_TIMEOUT ("No response received in time for
R|SN|name") fires AND the callbacks get ("RESPONSE_TIMEOUT", None): unlike
2.3.4, nothing waits forever.
"""
from .jsonpath import wire_path as _wire_path
from .message import UNDEFINED, build, check_json, check_name
from .record_core import NO_ACK, T, WRITE_ACK, _NOTHING, _falsy_scalar, _split_set_args, _version


def ask(h, kind, name, callback):
    """snapshot() -> callback(error, data), has() -> callback(error, exists),
    head() -> callback(error, version): answered at once from a record we
    hold (has: held at all; snapshot/head: ready), else asked with R|SN / R|HD."""
    check_name(name, "record name")
    if not callable(callback):
        raise TypeError("%s: callback must be callable" % kind)
    rec = h._records.get(name)
    if rec is not None and (kind == "has" or rec.is_ready):
        h._client._call(T, callback, None, True if kind == "has" else rec.get() if kind == "snapshot" else rec.version)
        return
    action = "SN" if kind == "snapshot" else "HD"
    key = action + "\x1f" + name
    waiting = h._requests.get(key)
    if waiting is None:
        h._requests[key] = [(kind, callback)]
        _send_request(h, action, name)
    else:
        waiting.append((kind, callback))


def _send_request(h, action, name, send=True):
    c = h._client
    if send:
        c._conn.send(build(T, action, name))
    c._acks.add(T, action, name, c.options["record_read_timeout"], "RESPONSE_TIMEOUT",
                lambda entry: _request_timeout(h, entry))


def _request_timeout(h, entry):
    action, name = entry[2], entry[3]
    h._client._error("No response received in time for R|%s|%s" % (action, name), "RESPONSE_TIMEOUT", T)
    answer(h, action, name, "RESPONSE_TIMEOUT", None)


def answer(h, action, name, error, value, kinds=None):
    """Call the callbacks waiting for (action, name). False if none waited."""
    waiting = h._requests.pop(action + "\x1f" + name, None)
    if waiting is None:
        return False
    c = h._client
    c._acks.clear(T, action, name)
    for kind, cb in waiting:
        if kinds is None:
            c._call(T, cb, error, value)
        else:
            args = kinds[kind]
            c._call(T, cb, args[0], args[1])
    return True


def on_head(h, action, data):
    """R|HD|name|v[|null] (7.0.2) or v3's R|H|name|T/F: answers has() and head()."""
    name = data[0] if data else ""
    if action == "H":
        found = len(data) > 1 and data[1] == "T"
        head = (None, None)
    else:
        v = _version(data[1]) if len(data) > 1 else None
        if v is None:
            h._client._error("bad version in R|HD for '%s'" % name, "MESSAGE_PARSE_ERROR", T)
            return
        found = v >= 0
        head = (None, v) if found else ("RECORD_NOT_FOUND", None)
    if not answer(h, "HD", name, None, None, {"has": (None, found), "head": head}):
        h._client._error("no entry for " + name, "UNSOLICITED_MESSAGE", T)


def on_request_error(h, code, name, err):
    """v3: R|E|SN|name|CODE, R|E|HD|name|CODE, R|E|H|name|CODE."""
    if code != "SN" and err == "RECORD_NOT_FOUND":
        kinds = {"has": (None, False), "head": (err, None)}
    else:
        kinds = {"snapshot": (err, None), "has": (err, None), "head": (err, None)}
    if not answer(h, "SN" if code == "SN" else "HD", name, None, None, kinds):
        h._client._error("no entry for " + name, "UNSOLICITED_MESSAGE", T)


def resend(h):
    conn = h._client._conn
    for key in h._requests:
        action, name = key.split("\x1f", 1)
        # still queued (asked while offline): only the timer is missing
        _send_request(h, action, name, not conn.queued_count(build(T, action, name)))


# ---- writes without a record -----------------------------------------------


def set_data(h, name, path_or_data, value=_NOTHING, callback=None):
    """Write without subscribing: set_data(name, data[, cb]) or
    set_data(name, path, value[, cb]). Goes through the record if held,
    else R|CU with version -1 (creates the record if missing)."""
    check_name(name, "record name")
    path, value, cb, payload, toks = _split_set_args(path_or_data, value, callback, "set_data")
    rec = h._records.get(name)
    if rec is None and path is not None and value is not UNDEFINED and _falsy_scalar(value):
        # 7.0.2 refuses 0/false/"" in a path write (R|E|INVALID_MESSAGE_DATA):
        # write through a briefly held record instead, as a whole update
        rec = h.get_record(name)
        rec.set(path, value, cb)
        rec.discard()
        return
    if rec is not None:
        rec.set(path, value, cb) if path is not None else rec.set(value, cb)
        return
    config = NO_ACK
    if cb is not None:
        config = WRITE_ACK
        h._cu_cbs.setdefault(name, []).append(cb)
    if path is None:
        msg = build(T, "CU", name, "-1", check_json(value), config)
    else:
        # the server's copy is unknown here: written for a record without the path
        msg = build(T, "CU", name, "-1", _wire_path({}, path, toks), payload or "U", config)
    h._client._conn.send(msg)


def pop_cu(h, name, error):
    cbs = h._cu_cbs.get(name)
    if cbs:
        cb = cbs.pop(0)
        if not cbs:
            del h._cu_cbs[name]
        h._client._call(T, cb, error)
