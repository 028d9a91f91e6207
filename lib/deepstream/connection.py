"""The connection state machine (sans-IO).

Driven by a driver (poll.py, aio.py) through a handful of calls: it asks for
a socket (take_open_request), is told what happened on it (socket_opened,
receive_text, socket_closed, socket_error), runs its timers (tick) and hands
out frames to send (take_frame). It never does I/O and never sleeps.

The states and transitions are the reference client's (see docs/PROTOCOL.md):
CLOSED, AWAITING_CONNECTION, CHALLENGING, AWAITING_AUTHENTICATION,
AUTHENTICATING, OPEN, ERROR, RECONNECTING. `_set_state` is the only place
the state changes.
"""
from .compat import json_dumps, ticks_diff, urandom
from .constants import (
    ACTIONS, AWAITING_AUTHENTICATION, AWAITING_CONNECTION, AUTHENTICATING,
    CHALLENGING, CLOSED, ERROR, OPEN, RECONNECTING, T_AUTH, T_CONNECTION,
)
from .message import UNDEFINED, ParseError, build, iter_messages, parse_typed, split
from .timers import Timers

EVT = "E\x1fEVT\x1f"
PING = "C\x1fPI\x1e"
_FRAME_BYTES = 1024  # a frame is closed once it reaches this size
HEARTBEAT = "heartbeat"
RECONNECT = "reconnect"


class Connection:
    def __init__(self, client, urls, options, clock):
        self.client = client
        self.options = options
        self.clock = clock
        self.timers = Timers(clock)
        # urls: normalized by options.normalize_urls; several = cluster nodes, and
        # the list turns by one on every reconnect, its head the node in use
        self._urls = urls if len(urls) > 1 else None
        self.original_url = urls[0]
        self.url = self.original_url
        self.state = CLOSED
        self.want_close = False  # the driver closes the socket when set
        self.on_output = None  # driver hook: called when a frame becomes ready
        self._open_request = self.url  # the reference client connects at construction
        self._socket_open = False
        self._direct = []  # frames that bypass the queue (auth, pong, challenge reply)
        self._queue = []  # messages waiting for OPEN, sent batched
        self._queued_bytes = 0
        self.dropped = 0  # messages dropped from the offline queue in this outage
        self._unconfirmed = []  # events sent but not yet confirmed (confirm_events)
        self._barrier = 0  # how many of them the C|PI in flight confirms
        self._outbox = None
        self._outbox_sent = False  # outbox replayed: delete the file once taken
        if options["outbox_file"]:
            from .outbox import Outbox
            self._outbox = Outbox(options["outbox_file"], options["outbox_max_bytes"])
        self._soon = []  # handler hooks run once before the next frame is taken
        self._auth_params = None
        self._auth_callback = None
        self._deliberate_close = False
        self._redirecting = False
        self._permanently_closed = False  # C|REJ, too many auth attempts, auth timeout
        self._reconnect_attempt = 0
        self._was_reconnecting = False
        self._last_ping = clock()

    # ---- state ----------------------------------------------------------

    def _set_state(self, state):
        if state == self.state:
            return
        self.state = state
        if state != OPEN:
            self.client._acks.cancel_all()
        self.client._emit("connectionStateChanged", state)
        if state == OPEN:
            self._on_open()

    # ---- user actions ---------------------------------------------------

    def authenticate(self, params, callback):
        self._auth_params = params
        self._auth_callback = callback
        if self._permanently_closed:
            self.client._error("this client's connection was closed", "IS_CLOSED", "X")
            return
        if self._deliberate_close and self.state == CLOSED:
            self._deliberate_close = False
            self._open_request = self.original_url
            self._wake()
            return
        if self.state == AWAITING_AUTHENTICATION:
            self._send_auth()

    def send(self, message):
        """Queue one built message; it goes out batched once OPEN."""
        try:
            self._enqueue(message)
        except MemoryError:  # a full heap drops this message, never the caller's loop
            self.dropped += 1  # counted in the MESSAGE_DROPPED total after the next login
            self.client._error("out of memory: message dropped", "MESSAGE_DROPPED", message[:1])

    def _enqueue(self, message):
        if self.state == OPEN:
            self._queue.append(message)
            self._queued_bytes += len(message)
            if len(self._queue) == 1:
                self._wake()
            return
        if self._outbox is not None and message.startswith(EVT):
            if not self._outbox.append(message):
                from .offline import note_dropped
                note_dropped(self, "outbox file full (%d bytes)" % self._outbox.max_bytes)
            return
        self._queue.append(message)
        self._queued_bytes += len(message)
        opts = self.options
        if len(self._queue) > opts["max_queued_messages"] or self._queued_bytes > opts["max_queued_bytes"]:
            from .offline import trim_queue
            trim_queue(self)

    def call_soon(self, fn):
        """Run fn() once, just before the next frame is taken: lets a handler
        batch what one piece of user code asks for (the reference client's
        "next tick", e.g. presence subscriptions for several users)."""
        self._soon.append(fn)
        self._wake()

    def close(self):
        self._deliberate_close = True
        self._open_request = None
        self.timers.cancel_all()  # a pending reconnect too: nothing may reopen
        self.want_close = self._socket_open
        self._set_state(CLOSED)
        self._wake()

    # ---- driver interface -----------------------------------------------

    def take_open_request(self):
        url = self._open_request
        self._open_request = None
        return url

    def socket_opened(self):
        self._socket_open = True
        self.want_close = False
        self._redirecting = False
        self._reconnect_attempt = 0
        self._last_ping = self.clock()
        self._set_state(AWAITING_CONNECTION)
        self._schedule_heartbeat()

    def socket_error(self, text):
        self._set_state(ERROR)
        self.client._error(text, "connectionError", T_CONNECTION)

    def socket_closed(self, reason=None):
        self._socket_open = False
        self._barrier = 0  # a ping in flight on the dead link will never be answered
        self.want_close = False
        self.timers.cancel(HEARTBEAT)
        self._direct = []
        if self._redirecting:
            self._open_request = self.url
            return
        if self._deliberate_close or self._permanently_closed:
            self._set_state(CLOSED)
            return
        self._try_reconnect()

    def receive_text(self, frame):
        if self._deliberate_close:
            return  # after close(): what still arrives during the close handshake is dropped
        for msg in iter_messages(frame):
            try:
                self._handle(msg)
            except MemoryError:
                self.client._error("out of memory handling a message (dropped)", "MESSAGE_PARSE_ERROR", "X")
            except Exception as err:  # a user callback or a bug: never kill the client
                self.client._error("%s: %s" % (type(err).__name__, err), "CALLBACK_ERROR", msg[:1])

    def tick(self):
        self.timers.fire()

    def next_deadline(self):
        return self.timers.next_deadline()

    def take_frame(self):
        if self._soon:
            soon, self._soon = self._soon, []
            for fn in soon:
                fn()
        if self._direct:
            return self._direct.pop(0)
        if self.state != OPEN or not self._queue:
            return None
        # up to max_messages_per_packet messages and about _FRAME_BYTES per
        # frame: small frames need small contiguous blocks on a fragmented heap
        queue = self._queue
        n = min(len(queue), self.options["max_messages_per_packet"])
        size = 0
        for i in range(n):
            size += len(queue[i])
            if size >= _FRAME_BYTES:
                n = i + 1
                break
        if n == len(queue):
            taken = queue
            self._queue = []
        else:
            taken = queue[:n]
            del queue[:n]
        frame = "".join(taken)
        self._queued_bytes -= len(frame)
        if self.options["confirm_events"]:
            from .offline import add_barrier
            frame = add_barrier(self, taken, frame)
        if self._outbox_sent and not self._queue:
            self._outbox_sent = False
            self._outbox.clear()  # every stored event has been handed to the socket
        return frame

    def report_error(self, event, message, topic=T_CONNECTION):
        """For drivers: an error seen below the core (e.g. an oversize frame)."""
        self.client._error(message, event, topic)

    # ---- incoming -------------------------------------------------------

    def _handle(self, msg):
        try:
            topic, action, data = split(msg)
        except ParseError as err:
            self.client._error(str(err), "MESSAGE_PARSE_ERROR", "X")
            return
        if action not in ACTIONS:
            self.client._error("Unknown action " + action, "MESSAGE_PARSE_ERROR", "X")
            return
        if topic == T_CONNECTION:
            self._handle_connection(action, data)
        elif topic == T_AUTH:
            self._handle_auth(action, data)
        else:
            self.client._dispatch(topic, action, data, msg)

    def _handle_connection(self, action, data):
        if action == "PI":
            self._last_ping = self.clock()
            self._send_direct(build("C", "PO"))
        elif action == "PO":
            if self._barrier:  # the answer to our confirmation ping
                from .offline import confirmed
                confirmed(self)
        elif action == "CH":
            if self.state != AWAITING_CONNECTION:  # a challenge comes first or not at all
                self.client._error("C|CH", "UNSOLICITED_MESSAGE", T_CONNECTION)
                return
            self._set_state(CHALLENGING)
            self._send_direct(build("C", "CHR", self.original_url))
        elif action == "A":
            if self.state in (AWAITING_CONNECTION, CHALLENGING):
                self._set_state(AWAITING_AUTHENTICATION)
                if self._auth_params is not None:
                    self._send_auth()
        elif action == "RED":
            if not data or not data[0]:
                self.client._error("redirect without a url", "MESSAGE_PARSE_ERROR", "C")
                return
            self.url = data[0]
            self._redirecting = True
            self._close_socket()
        elif action == "REJ":
            self._permanently_closed = True
            self._close_socket()
            self._set_state(CLOSED)
        elif action == "E":
            code = data[0] if data else ""
            text = data[1] if len(data) > 1 else ""
            if code == "CONNECTION_AUTHENTICATION_TIMEOUT":
                self._permanently_closed = True
                self._close_socket()
            self.client._error(text, code, T_CONNECTION)
        else:
            self.client._error(action, "UNSOLICITED_MESSAGE", T_CONNECTION)

    def _handle_auth(self, action, data):
        if (action == "A" and self.state != AUTHENTICATING) or (
                action == "E" and self.state not in (AUTHENTICATING, AWAITING_AUTHENTICATION)):
            # an answer to no login of ours must not take an OPEN link down
            self.client._error("A|" + action + (("|" + data[0]) if data else ""), "UNSOLICITED_MESSAGE", T_AUTH)
            return
        if action == "A":
            self._set_state(OPEN)
            self._auth_done(True, self._decode(data[0]) if data else None)
        elif action == "E":
            code = data[0] if data else ""
            value = self._decode(data[1]) if len(data) > 1 else None
            if code == "TOO_MANY_AUTH_ATTEMPTS":
                self._permanently_closed = True
            elif code == "INVALID_AUTH_MSG":
                self._deliberate_close = True  # stays closed; a later login() reopens
                value = "invalid authentication message"
            else:
                self._set_state(AWAITING_AUTHENTICATION)
            self._auth_done(False, value)
        else:
            self.client._error(action, "UNSOLICITED_MESSAGE", T_AUTH)

    def _decode(self, field):
        try:
            value = parse_typed(field)
        except ParseError as err:
            self.client._error(str(err), "MESSAGE_PARSE_ERROR", "X")
            return None
        return None if value is UNDEFINED else value

    def _auth_done(self, success, data):
        cb = self._auth_callback
        if cb is not None:
            cb(success, data)

    # ---- outgoing -------------------------------------------------------

    def _send_direct(self, message):
        self._direct.append(message)
        self._wake()

    def _send_auth(self):
        # A|REQ must travel alone: before A|A, 7.0.2 reads only the first
        # message of a frame. Auth data is raw JSON, never typed.
        self._send_direct(build("A", "REQ", json_dumps(self._auth_params)))
        self._set_state(AUTHENTICATING)

    def _wake(self):
        if self.on_output is not None:
            self.on_output()

    def _close_socket(self):
        self.timers.cancel(HEARTBEAT)
        if self._socket_open:
            self.want_close = True
            self._wake()

    # ---- open, heartbeat, reconnect ------------------------------------

    def _on_open(self):
        if self._was_reconnecting or self._unconfirmed or self._outbox is not None or self.dropped:
            from .offline import restore
            restore(self)  # resubscribe, resend, replay the outbox, report drops
        if self._queue:
            self._wake()

    def _schedule_heartbeat(self):
        self.timers.add(HEARTBEAT, self.options["heartbeat_interval"], self._check_heartbeat)

    def _check_heartbeat(self, _):
        window = 2 * self.options["heartbeat_interval"]
        if ticks_diff(self.clock(), self._last_ping) > window:
            self.client._error("heartbeat not received in the last %d milliseconds" % window,
                               "connectionError", T_CONNECTION)
            # the link is dead now, not when its close handshake ends: leave
            # OPEN so that what is sent meanwhile waits in the queue
            self._set_state(RECONNECTING)
            self._was_reconnecting = True
            self._close_socket()
        else:
            self._schedule_heartbeat()

    def _try_reconnect(self):
        opts = self.options
        if self._reconnect_attempt < opts["max_reconnect_attempts"]:
            self._set_state(RECONNECTING)
            self._was_reconnecting = True
            delay = min(opts["max_reconnect_interval"],
                        opts["reconnect_interval_increment"] * self._reconnect_attempt)
            # jitter, so a fleet of boards does not reconnect in lockstep
            delay += delay * opts["reconnect_jitter"] * urandom(1)[0] // 25500
            self._reconnect_attempt += 1
            self.timers.add(RECONNECT, delay, self._reconnect)
        else:
            attempts = self._reconnect_attempt
            self._deliberate_close = True
            self._set_state(CLOSED)
            self.client._error("gave up after %d reconnection attempts" % attempts,
                               "MAX_RECONNECTION_ATTEMPTS_REACHED", T_CONNECTION)

    def _reconnect(self, _):
        urls = self._urls
        if urls is not None:  # a cluster: each attempt goes to the next node
            urls.append(urls.pop(0))
            self.original_url = urls[0]
        self.url = self.original_url  # a redirect target is forgotten
        self._open_request = self.url
        self._wake()

