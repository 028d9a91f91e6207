"""Remote procedure calls: providing RPCs (here) and making them (rpc_call.py,
loaded on the first make(): a device that only serves RPCs never pays for it).

Wire (see docs/PROTOCOL.md): provide `P|S|name` (ack `P|A|S|name`), request
`P|REQ|name|cid|typed`, the provider accepts `P|A|REQ|name|cid` and answers
`P|RES|name|cid|typed`, `P|E|text|name|cid` (error) or `P|REJ|name|cid`
(the server then tries another provider, else `P|E|NO_RPC_PROVIDER|...`).

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
  request is answered with `P|E|<ExceptionType: text>|name|cid` (unless
  already answered).
* A request for a name we do not provide is rejected (`P|REJ`) and nothing
  else, as the reference client does (_respondToRpc in its rpc-handler.js):
  such a request is a normal race after an unprovide (issue 21).
* 7.0.2 crashes (the whole server process) when it reroutes a rejected
  request whose data is 0, false, "", null or absent to another provider
  (it re-encodes the already encoded data). So a rejection of such a request
  is sent as the error `REJECTED` instead of `P|REJ`: the caller gets
  "REJECTED" (2.3.4 callers: "SREJECTED") and no other provider is tried.
"""
from .compat import ordered_dict
from .message import UNDEFINED, ParseError, build, check_name, parse_typed, typed

T = "P"
_MAX_ERROR_TEXT = 100
# request data fields that 7.0.2 cannot reroute after a REJ (it would crash)
_NO_REROUTE = ("", "U", "L", "F", "N0", "S")

# `P|E|CODE|name|cid` codes the server sends to a requester
SERVER_CODES = ("NO_RPC_PROVIDER", "ACCEPT_TIMEOUT", "ACK_TIMEOUT", "RESPONSE_TIMEOUT",
                "MESSAGE_DENIED", "MESSAGE_PERMISSION_ERROR", "INVALID_MESSAGE_DATA")
# ... and to a provider, about its own answers: never the end of one of our calls
PROVIDER_CODES = ("MULTIPLE_ACCEPT", "MULTIPLE_RESPONSE", "INVALID_RPC_CORRELATION_ID")


def _rejection(name, cid, reroutable):
    if reroutable:
        return build(T, "REJ", name, cid)
    return build(T, "E", "REJECTED", name, cid)


def to_text(raw):
    """A message in the documentation notation, for error texts."""
    return raw.replace("\x1f", "|").replace("\x1e", "+")


def _clean_text(text):
    """An error text that fits in one field."""
    text = str(text).replace("\x1e", " ").replace("\x1f", " ")
    return text[:_MAX_ERROR_TEXT]


class RpcResponse:
    """Given to a provider callback with each request: answer it exactly once
    with send(data), error(message) or reject(); ack() accepts it early."""

    __slots__ = ("_handler", "name", "correlation_id", "auto_ack", "_acked", "_done", "_reroutable")

    def __init__(self, handler, name, cid, field=""):
        self._handler = handler
        self.name = name
        self.correlation_id = cid
        self.auto_ack = True
        self._acked = False
        self._done = False
        self._reroutable = field not in _NO_REROUTE

    @property
    def answered(self):
        return self._done

    def ack(self):
        """Tell the caller the request was accepted (sent once at most)."""
        if not self._acked:
            self._acked = True
            self._send(build(T, "A", "REQ", self.name, self.correlation_id))

    def send(self, data=None):
        """Answer with a result (any JSON-able value, or UNDEFINED)."""
        payload = typed(data)  # refuse what cannot be sent before anything else
        self._finish()
        self.ack()
        self._send(build(T, "RES", self.name, self.correlation_id, payload))

    def error(self, message):
        """Answer with an error text; the caller gets it as its error."""
        self._finish()
        self._acked = True
        self._send(build(T, "E", _clean_text(message), self.name, self.correlation_id))

    def reject(self):
        """Decline: the server tries another provider, else NO_RPC_PROVIDER.
        (For data 7.0.2 cannot reroute: the error REJECTED, see the module doc.)"""
        self._finish()
        self._acked = True
        self._send(_rejection(self.name, self.correlation_id, self._reroutable))

    def _finish(self):
        if self._done:
            raise RuntimeError("RPC '%s' (%s) already answered" % (self.name, self.correlation_id))
        self._done = True
        self.auto_ack = False

    def _send(self, message):
        self._handler._client._conn.send(message)


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
        self._send_subscription("S", name)

    def unprovide(self, name):
        """Stop serving `name` (nothing happens if it is not provided)."""
        check_name(name, "rpc name")
        if self._providers.pop(name, None) is not None:
            self._send_subscription("US", name)

    def make(self, name, data=None, callback=None):
        """Call RPC `name` with `data`; callback(error, result) once.

        error is None on success, else a text: NO_RPC_PROVIDER, ACK_TIMEOUT,
        RESPONSE_TIMEOUT, MESSAGE_DENIED, IS_CLOSED, MESSAGE_PARSE_ERROR or
        the provider's error text. Returns the correlation id.
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
        return None if self._calls is None else self._calls.pending.get(cid)

    def provider_names(self):
        return list(self._providers)

    # ---- incoming -------------------------------------------------------

    def handle(self, action, data, raw):
        c = self._client
        if action == "REQ":
            self._request(data, raw)
        elif action == "RES":
            if len(data) < 2 or not data[1]:
                c._error("RPC response without a correlation id: " + to_text(raw), "MESSAGE_PARSE_ERROR", T)
                return
            if self._pending(data[1]) is None:
                self._unsolicited(raw)
            else:
                self._calls.response(data, raw)
        elif action == "A":
            if not data:
                c._error("RPC ack without an action: " + to_text(raw), "MESSAGE_PARSE_ERROR", T)
            elif data[0] == "REQ":
                if len(data) < 3 or not data[2]:
                    c._error("RPC accept without a correlation id: " + to_text(raw), "MESSAGE_PARSE_ERROR", T)
                elif self._pending(data[2]) is not None:
                    self._calls.accepted(data[2])
                else:
                    self._unsolicited(raw)
            elif len(data) > 1:
                c._acks.clear(T, data[0], data[1])
            else:
                c._error("RPC ack without a name: " + to_text(raw), "MESSAGE_PARSE_ERROR", T)
        elif action == "E":
            self._error_message(data, raw)
        elif action == "REJ":
            # only providers send REJ; one reaching us is not ours to act on
            self._unsolicited(raw)
        else:
            c._error(action, "UNSOLICITED_MESSAGE", T)

    def _error_message(self, data, raw):
        c = self._client
        code = data[0] if data else ""
        if code == "MESSAGE_DENIED" and len(data) > 3 and data[2] == "REQ":
            cid = data[3]  # P|E|MESSAGE_DENIED|name|REQ|cid
        elif code in PROVIDER_CODES:
            name = data[1] if len(data) > 1 else ""
            cid = data[2] if len(data) > 2 else ""
            c._error("%s for RPC %s (%s)" % (code, name, cid), code, T)
            return
        elif len(data) >= 3 and code not in ("MESSAGE_DENIED", "MESSAGE_PERMISSION_ERROR"):
            cid = data[2]  # P|E|CODE|name|cid
        else:
            if code == "NOT_SUBSCRIBED" and len(data) > 1:
                c._acks.clear(T, "US", data[1])
            c._handle_error(T, data)  # provide denied, MULTIPLE_SUBSCRIPTIONS, ...
            return
        if self._pending(cid) is None:
            self._unsolicited(raw)
            return
        if code == "ACCEPT_TIMEOUT":
            code = "ACK_TIMEOUT"
        elif code not in SERVER_CODES and code[:1] == "S":
            code = code[1:]  # 7.0.2: the provider's text as a typed string
        self._calls.complete(cid, code, None)

    def _unsolicited(self, raw):
        self._client._error("no pending RPC for this correlation id: " + to_text(raw),
                            "UNSOLICITED_MESSAGE", T)

    # ---- requests for our providers ----------------------------------------

    def _request(self, data, raw):
        c = self._client
        if len(data) < 2 or not data[0] or not data[1]:
            c._error("RPC request without a name or correlation id: " + to_text(raw), "MESSAGE_PARSE_ERROR", T)
            return
        name, cid = data[0], data[1]
        field = data[2] if len(data) > 2 else ""
        callback = self._providers.get(name)
        if callback is None:  # rejected silently, as the reference does (issue 21)
            c._conn.send(_rejection(name, cid, field not in _NO_REROUTE))
            return
        response = RpcResponse(self, name, cid, field)
        value = None
        if field:
            try:
                value = parse_typed(field)
            except ParseError as err:
                c._error("%s (RPC request %s)" % (err, to_text(raw)), "MESSAGE_PARSE_ERROR", T)
                response.error("MESSAGE_PARSE_ERROR: bad request data")
                return
            if value is UNDEFINED:
                value = None
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
        c._conn.send(build(T, action, name))
        c._acks.add(T, action, name, c.options["subscription_timeout"])

    def resubscribe(self):
        for name in self._providers:
            self._client._conn.send(build(T, "S", name))
