"""Remote procedure calls: providing RPCs (here) and making them (rpc_call.py,
loaded on the first make(): a device that only serves RPCs never pays for it).

Messages of the model (docs/PROTOCOL.md has both wires): PROVIDE and
UNPROVIDE (acked), REQUEST {name, cid, data}; the provider answers ACCEPT,
then RESPONSE {data}, REQUEST_ERROR {data: the error} or REJECT (the server
then tries another provider, else NO_RPC_PROVIDER).

Choices (beyond the reference client 2.3.4):
* Correlation ids are `<prefix>.<counter>`: a random base-36 prefix made once
  per client (40 bits) and a decimal counter. The server keys RPCs by id
  alone, so the prefix keeps ids of different clients apart; each id is a
  short string.
* Timers are keyed by correlation id, so concurrent calls of one RPC each
  keep their own (2.3.4 keys them by name). They start at make(), online or
  not, and survive a reconnect: a call made or lost while offline still ends
  in ACK_TIMEOUT / RESPONSE_TIMEOUT on time, and a request that timed out
  before it could be sent is taken out of the queue.
  close() (or giving up reconnecting) ends every pending call with IS_CLOSED.
* Error texts given to `make` callbacks: the server's codes as they are,
  except 7.0.2's ACCEPT_TIMEOUT, reported as ACK_TIMEOUT (the v3 name and
  our own accept timer's). 7.0.2 forwards a provider's error text as a typed
  string (`Soops`): a leading `S` is stripped from any text that is not a
  server code. (A v3 server sends the text bare, so there a text starting
  with `S` would lose that letter; we target 7.0.2.)
* Auto-ack: the accept is sent when the provider callback returns, unless
  the callback set `response.auto_ack = False` or already answered. Nothing
  is sent between the callback's return and the next frame taken, so this is
  the reference client's "next tick".
* A provider callback that raises: a CALLBACK_ERROR error event
  `<ExceptionType>: <text>` (as for every callback, client._call), and the
  request is answered with the error `<ExceptionType>: <text>` (unless
  already answered).
* A request for a name we do not provide is rejected (REJECT) and nothing
  else, as the reference client does (_respondToRpc in its rpc-handler.js):
  such a request is a normal race after an unprovide.
* On the text endpoint, 7.0.2 crashes (the whole server process) when it
  reroutes a rejected request whose data is 0, false, "", null or absent to
  another provider (it re-encodes the already encoded data). So there a
  rejection of such a request is sent as the error `REJECTED` instead of
  REJECT: the caller gets "REJECTED" (2.3.4 callers: "SREJECTED") and no
  other provider is tried (the codec's REJECT_FALSY_CRASHES).
"""
from .compat import const, ordered_dict
from .message import UNDEFINED, check_name

T = "P"
_RPC = const(6)
_RPC_ERROR = const(1)
_RPC_REQUEST = const(2)
_RPC_ACCEPT = const(4)
_RPC_RESPONSE = const(5)
_RPC_REJECT = const(6)
_RPC_REQUEST_ERROR = const(7)
_RPC_PROVIDE = const(8)
_RPC_UNPROVIDE = const(9)
_RPC_ACCEPT_TIMEOUT = const(101)
_RPC_MULTIPLE_ACCEPT = const(102)
_RPC_INVALID_RPC_CORRELATION_ID = const(103)
_RPC_MULTIPLE_RESPONSE = const(105)
_RPC_NOT_PROVIDED = const(110)


def _falsy(value):
    """Request data 7.0.2's text endpoint cannot reroute after a REJECT."""
    return value is None or value is UNDEFINED or value is False or value == 0 or value == ""


class RpcResponse:
    """Given to a provider callback with each request: answer it exactly once
    with send(data), error(message) or reject(); ack() accepts it early."""

    __slots__ = ("_handler", "name", "correlation_id", "auto_ack", "_acked", "_done", "_reroutable")

    def __init__(self, handler, name, cid, data=None):
        self._handler = handler
        self.name = name
        self.correlation_id = cid
        self.auto_ack = True
        self._acked = False
        self._done = False
        self._reroutable = not _falsy(data)

    @property
    def answered(self):
        return self._done

    def ack(self):
        """Tell the caller the request was accepted (sent once at most)."""
        if not self._acked:
            self._acked = True
            self._send(_RPC_ACCEPT)

    def send(self, data=None):
        """Answer with a result (any JSON-able value, or UNDEFINED)."""
        conn = self._handler._client._conn
        wire = conn.codec.encode(_RPC, _RPC_RESPONSE, self.name, data, self.correlation_id)  # refused before anything else
        self._finish()
        self.ack()
        conn.push(wire, _RPC)

    def error(self, message):
        """Answer with an error; the caller gets it as its error."""
        self._finish()
        self._acked = True
        self._send(_RPC_REQUEST_ERROR, message if isinstance(message, str) else str(message))

    def reject(self):
        """Decline: the server tries another provider, else NO_RPC_PROVIDER.
        (For data 7.0.2 cannot reroute: the error REJECTED, see the module doc.)"""
        self._finish()
        self._acked = True
        _reject(self._handler._client._conn, self.name, self.correlation_id, self._reroutable)

    def _finish(self):
        if self._done:
            raise RuntimeError("RPC '%s' (%s) already answered" % (self.name, self.correlation_id))
        self._done = True
        self.auto_ack = False

    def _send(self, action, data=UNDEFINED):
        self._handler._client._conn.send(_RPC, action, self.name, data, self.correlation_id)


def _reject(conn, name, cid, reroutable):
    if reroutable or not conn.codec.REJECT_FALSY_CRASHES:
        conn.send(_RPC, _RPC_REJECT, name, cid=cid)
    else:
        conn.send(_RPC, _RPC_REQUEST_ERROR, name, "REJECTED", cid)


class RpcHandler:
    def __init__(self, client):
        self._client = client
        self._providers = ordered_dict()  # name -> callback(data, response), in provide order
        self._calls = None  # RpcCalls (rpc_call.py) from the first make()

    # ---- API ------------------------------------------------------------

    def provide(self, name, callback):
        """Serve RPC `name`: callback(data, response) for every request."""
        check_name(name, "rpc name")
        if not callable(callback):
            raise TypeError("rpc provider callback must be callable")
        if name in self._providers:
            raise ValueError("RPC '%s' already provided" % name)
        self._providers[name] = callback
        self._send_subscription(_RPC_PROVIDE, name)

    def unprovide(self, name):
        """Stop serving `name` (nothing happens if it is not provided)."""
        check_name(name, "rpc name")
        if self._providers.pop(name, None) is not None:
            self._send_subscription(_RPC_UNPROVIDE, name)

    def make(self, name, data=None, callback=None):
        """Call RPC `name` with `data`; callback(error, result) once.

        error is None on success, else a text: NO_RPC_PROVIDER, ACK_TIMEOUT,
        RESPONSE_TIMEOUT, MESSAGE_DENIED, IS_CLOSED, MESSAGE_PARSE_ERROR or
        the provider's error (a text, or on binary any JSON value). Returns
        the correlation id.
        """
        return (self._calls or self._caller()).make(name, data, callback)

    async def make_async(self, name, data=None):
        """`result = await client.rpc.make_async(name, data)`; raises RpcError
        (with .code, the error text a make() callback would get)."""
        return await self._caller().make_async(name, data)

    def _caller(self):
        if self._calls is None:
            from .rpc_call import RpcCalls
            self._calls = RpcCalls(self._client)
        return self._calls

    def _pending(self, cid):
        """The state of our call `cid`, or None (then the message is unsolicited)."""
        return None if self._calls is None or cid is None else self._calls.pending.get(cid)

    def provider_names(self):
        return list(self._providers)

    # ---- incoming -------------------------------------------------------

    def handle(self, m):
        c = self._client
        action = m.action
        if action == _RPC_REQUEST:
            self._request(m)
        elif m.is_ack:
            c._acks.clear_names(_RPC, action, m)
        elif action == _RPC_RESPONSE or action == _RPC_ACCEPT:
            if m.cid is None:
                c._error("RPC %s without a correlation id: %s" % ("response" if action == _RPC_RESPONSE else "accept",
                                                                  m.describe()), "MESSAGE_PARSE_ERROR", T)
            elif self._pending(m.cid) is None:
                self._unsolicited(m)
            elif action == _RPC_ACCEPT:
                self._calls.accepted(m.cid)
            else:
                self._calls.response(m)
        elif action == _RPC_REJECT:
            # only providers send REJECT; one reaching us is not ours to act on
            self._unsolicited(m)
        elif action >= 100 or action == _RPC_ERROR or action == _RPC_REQUEST_ERROR:
            self._error_message(m)
        else:
            c._error(m.code or str(action), "UNSOLICITED_MESSAGE", T)

    def _error_message(self, m):
        c = self._client
        action = m.action
        if action == _RPC_MULTIPLE_ACCEPT or action == _RPC_MULTIPLE_RESPONSE or action == _RPC_INVALID_RPC_CORRELATION_ID:
            # about an answer of ours as a provider: never the end of one of our calls
            code = m.error_name()
            c._error("%s for RPC %s (%s)" % (code, m.name or "", m.cid or ""), code, T)
            return
        if m.cid is None or (m.original is not None and m.original != _RPC_REQUEST):
            if action == _RPC_NOT_PROVIDED and m.name:
                c._acks.clear(_RPC, _RPC_UNPROVIDE, m.name)
            c._report(m)  # provide denied, MULTIPLE_PROVIDERS, ...
            return
        if self._pending(m.cid) is None:
            self._unsolicited(m)
            return
        if action == _RPC_REQUEST_ERROR:
            error = "" if m.data is UNDEFINED else m.data  # the provider's error
        elif action == _RPC_ACCEPT_TIMEOUT:
            error = "ACK_TIMEOUT"  # the v3 name, and our own accept timer's
        else:
            error = m.error_name()
        self._calls.complete(m.cid, error, None)

    def _unsolicited(self, m):
        self._client._error("no pending RPC for this correlation id: " + m.describe(), "UNSOLICITED_MESSAGE", T)

    # ---- requests for our providers ----------------------------------------

    def _request(self, m):
        c = self._client
        name, cid = m.name, m.cid
        if not name or not cid:
            c._error("RPC request without a name or correlation id: " + m.describe(), "MESSAGE_PARSE_ERROR", T)
            return
        value = None if m.data is UNDEFINED else m.data
        callback = self._providers.get(name)
        if callback is None:  # rejected silently, as the reference does
            _reject(c._conn, name, cid, not _falsy(m.data))
            return
        response = RpcResponse(self, name, cid, m.data)
        if m.bad is not None:
            c._error("%s (RPC request %s)" % (m.bad, m.describe()), "MESSAGE_PARSE_ERROR", T)
            response.error("MESSAGE_PARSE_ERROR: bad request data")
            return
        err = c._call(T, callback, value, response)
        if err is not None:  # raised (reported as CALLBACK_ERROR): the caller gets an answer all the same
            if not response._done:
                response.error("%s: %s" % (type(err).__name__, err))
            return
        if response.auto_ack and not response._done:
            response.ack()

    # ---- resubscribe ------------------------------------------------------

    def _send_subscription(self, action, name):
        c = self._client
        c._conn.codec.bulk(c._conn, _RPC, action, name)
        c._acks.add(_RPC, action, name, c.options["subscription_timeout"])

    def resubscribe(self):
        conn = self._client._conn
        for name in self._providers:
            conn.codec.bulk(conn, _RPC, _RPC_PROVIDE, name)
