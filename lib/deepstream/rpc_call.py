"""Making RPC calls: correlation ids, the accept/response timers, completion.

Loaded by RpcHandler on the first make() (rpc.py parses the incoming
messages and hands the ones about our calls to RpcCalls). The choices about
ids, timers and error texts are listed in rpc.py's module doc.
"""
from .compat import ticks_add, ticks_diff, urandom
from .message import UNDEFINED, ParseError, check_name, parse_typed, typed
from .rpc import T, to_text

_KEY = "P\x1f"  # + cid: the one timer of a call (ack keys never start so)


def _base36(n):
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    out = ""
    while True:
        n, r = divmod(n, 36)
        out = digits[r] + out
        if not n:
            return out


class RpcCalls:
    def __init__(self, client):
        self._client = client
        self.pending = {}  # cid -> [name, callback, phase, response deadline, message, timer key]
        self._on_timer = self._timed_out  # one bound method for every timer
        n = 0
        for b in urandom(5):
            n = (n << 8) | b
        self._prefix = _base36(n) + "."
        self._count = 0
        client.on("connectionStateChanged", self._state_changed)

    def make(self, name, data, callback):
        check_name(name, "rpc name")
        if callback is not None and not callable(callback):
            raise TypeError("rpc callback must be callable")
        payload = typed(data)
        limit = self._client.options["max_pending_rpcs"]
        if len(self.pending) >= limit:
            # bounded: refuse rather than let calls pile up on a small heap
            self._client._error("more than %d RPC calls pending: '%s' not sent" % (limit, name),
                                "TOO_MANY_PENDING", T)
            if callback is not None:
                self._client._call(T, callback, "TOO_MANY_PENDING", None)
            return None
        self._count += 1
        cid = self._prefix + _base36(self._count)
        msg = "P\x1fREQ\x1f%s\x1f%s\x1f%s\x1e" % (name, cid, payload)  # one step: no field tuple
        call = [name, callback, 0, None, msg, _KEY + cid]
        self.pending[cid] = call
        self._client._conn.send(msg)
        # the timers run from now, online or not: a call made or stuck
        # offline ends in its timeout instead of waiting for the link
        self._start_timers(cid, call)
        return cid

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

    # One timer per call, to keep a board's memory small: phase 1 waits for
    # the accept (then the response deadline is re-armed), phase 2 for the
    # response. Whichever of the two deadlines comes first ends the call.

    def _start_timers(self, cid, call):
        c = self._client
        conn = c._conn
        options = c.options
        ack_ms = options["rpc_ack_timeout"]
        res_ms = options["rpc_response_timeout"]
        if res_ms > 0:
            call[3] = ticks_add(conn.clock(), res_ms)
        if ack_ms > 0 and (res_ms <= 0 or ack_ms < res_ms):
            call[2] = 1
            conn.timers.add(call[5], ack_ms, self._on_timer, cid)
        else:
            call[2] = 2
            if res_ms > 0:
                conn.timers.add(call[5], res_ms, self._on_timer, cid)

    def accepted(self, cid):
        call = self.pending[cid]
        if call[2] != 1:
            return
        call[2] = 2
        conn = self._client._conn
        if call[3] is None:
            conn.timers.cancel(call[5])
        else:
            conn.timers.add(call[5], max(0, ticks_diff(call[3], conn.clock())), self._on_timer, cid)

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
                unqueue(conn, call[4])
            self.complete(cid, "ACK_TIMEOUT" if call[2] == 1 else "RESPONSE_TIMEOUT", None)

    def complete(self, cid, error, result):
        call = self.pending.pop(cid, None)
        if call is None:
            return
        self._client._conn.timers.cancel(call[5])
        if call[1] is not None:
            self._client._call(T, call[1], error, result)

    def _state_changed(self, state):
        if state == "CLOSED":
            for cid in list(self.pending):
                self.complete(cid, "IS_CLOSED", None)
