"""Making RPC calls: correlation ids, the accept/response timers, completion.

Loaded by RpcHandler on the first make(). The accept and the response of a
pending call, the hot path of a caller, are read here in place, straight
from the frame (receive(), hooked into Connection.receive_text); everything
else about RPCs (and any reply that is not the common, well-formed case) is
parsed and checked by rpc.py, which hands the ones about our calls back to
RpcCalls. The choices about ids, timers and error texts are listed in
rpc.py's module doc.
"""
from .compat import ticks_add, urandom
from .constants import PART_SEPARATOR as PS
from .message import UNDEFINED, ParseError, check_name, parse_typed, typed, value_at
from .rpc import T, to_text

_RES = "P\x1fRES\x1f"
_ACCEPT = "P\x1fA\x1fREQ\x1f"


def _base36(n):
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    out = ""
    while True:
        n, r = divmod(n, 36)
        out = digits[r] + out
        if not n:
            return out


_BAD = object()


def _value(frame, start, end):
    """The typed value in frame[start:end] (None for none or U), or _BAD."""
    try:
        return value_at(frame, start, end)
    except ParseError:
        return _BAD


class RpcCalls:
    def __init__(self, client):
        self._client = client
        # cid -> [callback, phase, response deadline, message, timer entry]; the
        # cid is also the key of the call's one timer (only cids hold a ".")
        self.pending = {}
        self._on_timer = self._timed_out  # one bound method for every timer
        n = 0
        for b in urandom(5):
            n = (n << 8) | b
        self._prefix = _base36(n) + "."
        self._count = 0
        self._latest = ""  # the id of the latest call
        client.on("connectionStateChanged", self._state_changed)
        client._conn.rpc_in = self.receive  # replies to our calls are read in place

    def make(self, name, data, callback):
        check_name(name, "rpc name")
        if callback is not None and not callable(callback):
            raise TypeError("rpc callback must be callable")
        data = typed(data)  # the payload: refused before anything is sent
        if len(self.pending) >= self._client.options["max_pending_rpcs"]:
            return self._refuse(name, callback)
        self._count += 1
        cid = self._latest = "%s%d" % (self._prefix, self._count)  # one new string (base 36 took a loop)
        data = "P\x1fREQ\x1f%s\x1f%s\x1f%s\x1e" % (name, cid, data)  # the message in one step: no field tuple
        self._send(cid, data, callback)
        return cid

    def _send(self, cid, msg, callback):
        call = self.pending[cid] = [callback, 2, None, msg, None]
        self._client._conn.send(msg)
        self._start_timers(cid, call)

    def _start_timers(self, cid, call):
        # The timers run from now, online or not: a call made or stuck offline
        # ends in its timeout instead of waiting for the link. One timer per
        # call (a board's memory is small): phase 1 waits for the accept, then
        # accepted() moves it to the response deadline; phase 2 waits for the
        # response. Whichever deadline comes first ends the call.
        ack_ms = self._client.options["rpc_ack_timeout"]
        res_ms = self._client.options["rpc_response_timeout"]
        if res_ms > 0:
            call[2] = ticks_add(self._client._conn.clock(), res_ms)
        if ack_ms > 0 and (res_ms <= 0 or ack_ms < res_ms):
            call[1] = 1
            call[4] = self._client._conn.timers.add(cid, ack_ms, self._on_timer, cid)
        elif res_ms > 0:
            self._client._conn.timers.add(cid, res_ms, self._on_timer, cid)

    def _refuse(self, name, callback):
        # bounded: refuse rather than let calls pile up on a small heap
        self._client._error("more than %d RPC calls pending: '%s' not sent"
                            % (self._client.options["max_pending_rpcs"], name), "TOO_MANY_PENDING", T)
        if callback is not None:
            self._client._call(T, callback, "TOO_MANY_PENDING", None)

    async def make_async(self, name, data):
        from .awaitable import Waiter, RpcError
        w = Waiter()

        def done(error, result):
            if error is None:
                w.set(result)
            else:
                w.fail(RpcError(error, "RPC '%s' failed: %s" % (name, error)))
        self.make(name, data, done)
        return await w.wait()

    def accepted(self, cid):
        call = self.pending[cid]
        if call[1] != 1:
            return
        call[1] = 2
        if call[2] is None:
            self._client._conn.timers.cancel(cid)
        else:
            call[4][0] = call[2]  # the same timer now waits for the response deadline

    def receive(self, frame, start, end):
        """The hot path of a call: P|A|REQ|name|cid and P|RES|name|cid|typed
        about a pending call, read in place from frame[start:end] (no split,
        no field list). False for anything else, which the general path
        (rpc.py) then parses, checks and reports."""
        if frame.startswith(_RES, start):
            start = frame.find(PS, start + 6, end)  # name | cid
            return self._response_in(frame, start, end)
        if frame.startswith(_ACCEPT, start):
            start = frame.find(PS, start + 8, end)  # name | cid
            return self._accept_in(frame, start, end)
        return False

    def _response_in(self, frame, i, end):
        # frame[i:end] is "|cid|typed"
        j = frame.find(PS, i + 1, end) if i >= 0 else -1  # cid | typed
        if j < 0 or frame.find(PS, j + 1, end) >= 0:
            return False
        i = self._cid_at(frame, i + 1, j)  # i, j reused (cid, value): a frame of 11 words
        if i is None:
            return False
        j = _value(frame, j + 1, end)
        if j is _BAD:
            return False  # the general path reports it and ends the call
        self.complete(i, None, j)
        return True

    def _accept_in(self, frame, i, end):
        # frame[i:end] is "|cid"
        i = self._cid_at(frame, i + 1, end) if i >= 0 else None
        if i is None:
            return False
        self.accepted(i)
        return True

    def _cid_at(self, frame, i, end):
        """The pending call's id that frame[i:end] holds, or None. Each new
        string costs MicroPython a search of its interned strings, so the id
        of the latest call (a device's usual one) is compared in place."""
        cid = self._latest
        if end - i != len(cid) or not frame.startswith(cid, i):
            cid = frame[i:end]  # another call's reply: its id sliced out
        return cid if cid in self.pending else None

    def response(self, data, raw):
        """P|RES|name|cid|typed for a pending call."""
        cid = data[1]
        value = None
        if len(data) > 2 and data[2]:
            try:
                value = parse_typed(data[2])
            except ParseError as err:
                # the call is over either way: end it, and say why
                self._client._error("%s (RPC response %s)" % (err, to_text(raw)), "MESSAGE_PARSE_ERROR", T)
                self.complete(cid, "MESSAGE_PARSE_ERROR", None)
                return
            if value is UNDEFINED:
                value = None
        self.complete(cid, None, value)

    def _timed_out(self, cid):
        call = self.pending.get(cid)
        if call is not None:
            conn = self._client._conn
            if conn.pending():  # it may still wait (offline): it must not go out late
                from .offline import unqueue
                unqueue(conn, call[3])
            self.complete(cid, "ACK_TIMEOUT" if call[1] == 1 else "RESPONSE_TIMEOUT", None)

    def complete(self, cid, error, result):
        call = self.pending.pop(cid, None)
        if call is None:
            return
        self._client._conn.timers.cancel(cid)
        if call[0] is not None:
            self._client._call(T, call[0], error, result)

    def _state_changed(self, state):
        if state == "CLOSED":
            for cid in list(self.pending):
                self.complete(cid, "IS_CLOSED", None)
