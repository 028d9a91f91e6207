"""Making RPC calls: correlation ids, the accept/response timers, completion.

Loaded by RpcHandler on the first make(). The accept and the response of a
pending call, the hot path of a caller, are read in place by the codec,
straight from the frame (conn.rpc_in is this object: `pending`, `latest`,
`latest_key`, accepted(), complete()); everything else about RPCs (and any
reply that is not the common, well-formed case) is translated into a
message by the codec and checked by rpc.py, which hands the ones about our
calls back here. The choices about ids, timers and error texts are listed
in rpc.py's module doc.
"""
from .compat import const, ticks_add, urandom
from .message import UNDEFINED, check_name
from .rpc import T

_RPC = const(6)
_RPC_REQUEST = const(2)


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
        # cid -> [callback, phase, response deadline, timer entry]; the
        # cid is also the key of the call's one timer (only cids hold a ".")
        self.pending = {}
        self._on_timer = self._timed_out  # one bound method for every timer
        n = 0
        for b in urandom(5):
            n = (n << 8) | b
        self._prefix = _base36(n) + "."
        self._count = 0
        self.latest = ""  # the id of the latest call
        self.latest_key = ""  # ... as the codec compares it in place (text: the same str; binary: bytes)
        client.on("connectionStateChanged", self._state_changed)
        client._conn.rpc_in = self  # replies to our calls are read in place

    def make(self, name, data, callback):
        check_name(name, "rpc name")
        if callback is not None and not callable(callback):
            raise TypeError("rpc callback must be callable")
        if len(self.pending) >= self._client.options["max_pending_rpcs"]:
            return self._refuse(name, callback)
        cid = "%s%d" % (self._prefix, self._count + 1)  # one new string (base 36 took a loop)
        # data the codec cannot carry raises before anything is sent; the codec returns
        # the id as its receive() compares it (its cid_key()). (self._client._conn twice:
        # a local more would put make()'s frame on the heap, test_frames.py)
        self.latest_key = self._client._conn.codec.request(self._client._conn, name, cid, data)
        self._count += 1
        self.latest = cid
        self.pending[cid] = [callback, 2, None, None]
        self._start_timers(cid)
        return cid

    def _start_timers(self, cid):
        # The timers run from now, online or not: a call made or stuck offline
        # ends in its timeout instead of waiting for the link. One timer per
        # call (a board's memory is small): phase 1 waits for the accept, then
        # accepted() moves it to the response deadline; phase 2 waits for the
        # response. Whichever deadline comes first ends the call.
        call = self.pending[cid]
        ack_ms = self._client.options["rpc_ack_timeout"]
        res_ms = self._client.options["rpc_response_timeout"]
        if res_ms > 0:
            call[2] = ticks_add(self._client._conn.clock(), res_ms)
        if ack_ms > 0 and (res_ms <= 0 or ack_ms < res_ms):
            call[1] = 1
            call[3] = self._client._conn.timers.add(cid, ack_ms, self._on_timer, cid)
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
            call[3][0] = call[2]  # the same timer now waits for the response deadline

    def response(self, m):
        """RESPONSE (a message of the model) for a pending call."""
        if m.bad is not None:
            # the call is over either way: end it, and say why
            self._client._error("%s (RPC response %s)" % (m.bad, m.describe()), "MESSAGE_PARSE_ERROR", T)
            self.complete(m.cid, "MESSAGE_PARSE_ERROR", None)
            return
        self.complete(m.cid, None, None if m.data is UNDEFINED else m.data)

    def _timed_out(self, cid):
        call = self.pending.get(cid)
        if call is not None:
            conn = self._client._conn
            if conn.pending():  # it may still wait (offline): it must not go out late
                from .offline import unqueue
                unqueue(conn, _RPC, _RPC_REQUEST, cid)
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
