"""The connection state machine (sans-IO).

Driven by a driver (poll.py, aio.py) through a handful of calls: it asks for
a socket (take_open_request), is told what happened on it (socket_opened,
receive_text, socket_closed, socket_error), runs its timers (tick) and hands
out frames to send (take_frame). It never does I/O and never sleeps.

The states and transitions are the reference client's (see docs/PROTOCOL.md):
CLOSED, AWAITING_CONNECTION, CHALLENGING, AWAITING_AUTHENTICATION,
AUTHENTICATING, OPEN, ERROR, RECONNECTING. `_set_state` is the only place
the state changes. How the link gets to OPEN (challenge, login, redirect,
reconnect back-off) is in handshake.py, loaded only while it does.

Sending: every message is encoded straight into one preallocated frame
buffer (`out`), the payload of the next websocket frame, with HEADROOM bytes
in front of it so that the driver writes the header and masks in place. When
the buffer is full a synchronous driver writes it at once (`write_through`);
what cannot go out now (offline, or a writer that has not run yet) waits in
a byte ring of max_queued_bytes (ring.py, handled by offline.py).
"""
from . import _unload
from .compat import const, ticks_diff
from .constants import ACTIONS, AWAITING_CONNECTION, CLOSED, ERROR, OPEN, RECONNECTING, T_AUTH, T_CONNECTION
from .constants import MESSAGE_SEPARATOR as MS
from .message import ParseError, build, split
from .timers import Timers

EVT = "E\x1fEVT\x1f"
PING = "C\x1fPI\x1e"
HEADROOM = const(14)  # before the payload: the longest websocket header (10) + mask key (4)
FRAME_BYTES = const(1024)  # payload of one frame: the write-through unit
_RESERVE = const(5)  # kept free in every frame for confirm_events' C|PI
_ROOM = const(FRAME_BYTES - _RESERVE)  # payload bytes a frame takes
HEARTBEAT = "heartbeat"
HANDSHAKE = "handshake"  # from the websocket upgrade to the server's first C message


def _encode(message):
    try:
        return message.encode()
    except MemoryError:  # send() drops the message: never the caller's loop
        return None


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
        self.link_dead = False  # with want_close: drop it at once, a close handshake would only wait
        self.on_output = None  # driver hook: something to send (the asyncio writer wakes)
        self.write_through = None  # driver hook: write_through(n) writes `out` now, True if sent
        self.rpc_in = None  # rpc_call.py's in-place reader of replies to our calls, once loaded
        self._open_request = self.url  # the reference client connects at construction
        self._socket_open = False
        self.out = bytearray(HEADROOM + FRAME_BYTES)  # the next frame, and the first part of the queue
        self.frame = self.out  # the buffer take_frame() lent (out, or a handshake message's)
        self._fill = 0  # payload bytes in out (from HEADROOM on)
        self._lent = False  # out was taken by the driver: reset on the next call
        self._direct = []  # messages that bypass the queue (auth, pong, challenge reply, ping)
        self._ring = None  # ring.Ring: what waits (offline, or behind the writer), made on first use
        self._confirm = options["confirm_events"]
        if options["confirm_events"]:  # used from the first event on: made now, on a fresh heap
            from .ring import Ring
            self._ring = Ring(options["max_queued_bytes"])
        self.dropped = 0  # messages dropped from the queue in this outage
        self._pinging = False  # confirm_events: a C|PI is in flight
        self._barrier = 0  # bytes of the ring's kept events that its C|PO confirms
        self._outbox = None
        self._replay = None  # outbox.Reader while the outbox is being sent
        self._replay_after = 0  # queued ring bytes that go out before the outbox
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
        if self.state == OPEN and self._fill and not self._lent and self.options["confirm_events"]:
            from .offline import left_open
            left_open(self)  # never written: waits for the next link, but its events are kept already
        self.state = state
        if state != OPEN:
            self.client._acks.cancel_all()
        self.client._emit("connectionStateChanged", T_CONNECTION, state)
        if state == OPEN:  # listeners are isolated (client._call): a raising one cannot skip this
            self._on_open()

    # ---- user actions ---------------------------------------------------

    def send(self, message):
        """Send one built message (str). It is encoded into the frame buffer;
        what does not fit there now (offline, or a writer that has not run
        yet) waits in the ring behind it. Never blocks for long, never raises.

        The common case (online, nothing queued, room left in the frame) is
        decided here in a small frame; everything else is _send()."""
        data = _encode(message)
        if (data is not None and self.state == OPEN and not self._lent and not self._confirm
                and self._replay is None and (self._ring is None or not self._ring.used)
                and self._fill + len(data) <= _ROOM):
            self._put(data)  # one copy into the frame, nothing kept
            if self._fill == len(data):
                self._wake()  # a frame begun: the asyncio writer has something to write
            return
        self._send(message, data)

    def _send(self, message, data):
        if data is None:  # a full heap drops this message, never the caller's loop
            self.dropped += 1  # counted in the MESSAGE_DROPPED total after the next login
            self.client._error("out of memory: message dropped", "MESSAGE_DROPPED", message[:1])
            return
        online = self.state == OPEN
        if not online and self._outbox is not None and message.startswith(EVT):
            if not self._outbox.append(data):
                from .offline import note_dropped
                note_dropped(self, "outbox file full (%d bytes)" % self._outbox.max_bytes)
            return
        if self._lent:
            self._reclaim()
        ring = self._ring
        if (ring is not None and ring.used != ring.kept) or self._replay is not None:
            self._queue(data)  # behind what already waits, in order
            return
        fill = self._fill
        n = len(data)
        if fill + n > len(self.out) - (HEADROOM + _RESERVE):
            if not fill and online:  # one big message: a frame of its own
                self.out = bytearray(HEADROOM + n + _RESERVE)
            elif not (online and self._write_out()):  # full: a synchronous driver writes it now
                if online and self.state != OPEN:  # that write found the link dead
                    self.send(message)
                else:
                    self._queue(data)
                return
            fill = 0
        i = HEADROOM + fill
        self.out[i:i + n] = data
        self._fill = fill + n
        if not fill:
            self._wake()
        if self._confirm and online and message.startswith(EVT):
            from .offline import keep_sent
            keep_sent(self, data)

    def _put(self, data):
        i = HEADROOM + self._fill
        self.out[i:i + len(data)] = data
        self._fill += len(data)

    def _queue(self, data):
        try:
            from .offline import queue
        except MemoryError:  # no heap to load the queue's code: this message is dropped, counted
            self.dropped += 1
            self.client._error("out of memory: message dropped", "MESSAGE_DROPPED", "C")
            return
        queue(self, data)

    def _write_out(self):
        """Hand the full frame to a synchronous driver; True if it went out."""
        hook = self.write_through
        if hook is None or not self._socket_open:
            return False
        n = self._seal()
        if not n or not hook(n):
            return False
        self._reclaim()
        return True

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
        self.link_dead = False
        self._redirecting = False
        self._last_ping = self.clock()
        if self.options["handshake_timeout"]:
            from .handshake import not_deepstream
            self.timers.add(HANDSHAKE, self.options["handshake_timeout"], not_deepstream, self)
        self._set_state(AWAITING_CONNECTION)
        self._schedule_heartbeat()

    def not_deepstream(self, binary=False):
        """For drivers (and the handshake timer): this endpoint does not speak
        deepstream's text protocol (handshake.not_deepstream)."""
        from .handshake import not_deepstream
        not_deepstream(self, binary)

    def socket_error(self, text):
        self._set_state(ERROR)
        self.client._error(text, "connectionError", T_CONNECTION)

    def socket_closed(self, reason=None):
        self._socket_open = False
        self._pinging = False  # a ping in flight on the dead link will never be answered
        self.want_close = False
        self.timers.cancel(HEARTBEAT)
        self.timers.cancel(HANDSHAKE)
        self._direct = []
        if self._redirecting:
            self._open_request = self.url
            return
        if self._deliberate_close or self._permanently_closed:
            self._set_state(CLOSED)
            return
        try:
            from .handshake import try_reconnect
        except MemoryError:  # no heap to load the reconnect code now: decide again in a second
            self.timers.add("reconnect", 1000, Connection.socket_closed, self)
            return
        try_reconnect(self)

    def receive_text(self, frame):
        """One websocket text frame: each message in it is handled in turn.

        Messages are found with find() and never sliced out as a whole when
        a handler can read them in place (events, and the accept and
        response of our RPC calls: the hot paths). Pieces
        shorter than 3 characters are dropped, as the reference client and
        the server do (this also drops the empty tail); a frame ending
        without 0x1e is taken as complete (docs/PROTOCOL.md)."""
        if self._deliberate_close:
            return  # after close(): what still arrives during the close handshake is dropped
        start = 0
        size = len(frame)
        while start < size:
            end = frame.find(MS, start)
            if end < 0:
                end = size
            if end - start > 2:
                try:
                    if frame.startswith(EVT, start):
                        self.client.event._receive(frame, start + 6, end)
                    elif frame.startswith("P", start) and self.rpc_in is not None and self.rpc_in(frame, start, end):
                        pass  # a reply to one of our calls, read in place (rpc_call.py)
                    else:
                        self._handle(frame[start:end])
                except MemoryError:
                    self.client._error("out of memory handling a message (dropped)", "MESSAGE_PARSE_ERROR", "X")
                except ParseError as err:  # the data of an event (parse_typed): reported here, not in a try of its own
                    self.client._error(str(err), "MESSAGE_PARSE_ERROR", "X")
                except Exception as err:  # a user callback or a bug: never kill the client
                    self.client._error("%s: %s" % (type(err).__name__, err), "CALLBACK_ERROR", frame[start])
            start = end + 1

    def tick(self):
        self.timers.fire()

    def next_deadline(self):
        return self.timers.next_deadline()

    def take_frame(self):
        """The next frame to write: its payload is frame[HEADROOM:HEADROOM + n]
        (conn.frame); returns n, or 0 when there is nothing to send. The
        buffer is the driver's until its next call into the core (it writes
        the header and masks the payload in place)."""
        if self._lent:
            self._reclaim()
        if self._soon:
            soon, self._soon = self._soon, []
            for fn in soon:
                fn()
        if self._fill or self._direct or self._ring is not None or self._replay is not None:
            return self._seal()
        return 0  # the usual poll turn: nothing to send

    def _seal(self):
        """Complete the frame (direct messages, then what the ring and the
        outbox hold) and lend it to the driver; returns its payload size."""
        direct = self._direct
        if self.state != OPEN:
            # before login only the handshake's own messages go out, each alone in
            # a small frame of its own: the frame buffer holds what waits for OPEN
            if not direct:
                return 0
            data = direct.pop(0).encode()
            self.frame = bytearray(HEADROOM + len(data))
            self.frame[HEADROOM:] = data
            return len(data)
        self.frame = self.out
        room = len(self.out) - HEADROOM - _RESERVE
        while direct and self._fill + len(direct[0]) <= room:
            self._put(direct.pop(0).encode())
        if (self._ring is not None and self._ring.used) or self._replay is not None:
            from .offline import refill
            refill(self, room)
        if self._fill:
            self._lent = True
        return self._fill

    def _reclaim(self):
        """The driver wrote the frame it took: the buffer is ours again."""
        self._lent = False
        self._fill = 0
        if len(self.out) != HEADROOM + FRAME_BYTES:  # it grew for one big message
            self.out = self.frame = bytearray(HEADROOM + FRAME_BYTES)
        if self._replay is not None and self._replay.done:
            from .offline import replay_done
            replay_done(self)

    def frame_unsent(self, n, intact=True):
        """For drivers: writing the frame just taken failed, and its payload is
        intact again (unmasked). It stays queued for the next link; a frame
        whose masking failed midway (intact=False) is lost, and counted."""
        if self.frame is not self.out:
            return  # a handshake message: it belonged to that socket
        self._lent = False
        if not intact:
            self.dropped += self.out.count(b"\x1e", HEADROOM, HEADROOM + n)
            self._fill = 0
            self.client._error("out of memory framing %d bytes: their messages are lost" % n, "MESSAGE_DROPPED", "C")

    def queued_count(self, message):
        """How many copies of message (str) wait to be sent: handlers ask after a
        reconnect (what is still queued needs no second copy). The frame
        buffer is searched here; offline.py is loaded only if the ring exists."""
        data = message.encode()
        n = 0
        if self._fill and not self._lent:
            out = self.out
            i = HEADROOM
            end = HEADROOM + self._fill
            while True:
                i = out.find(data, i, end)
                if i < 0:
                    break
                if i == HEADROOM or out[i - 1] == 0x1E:  # a whole message, not the tail of one
                    n += 1
                i += len(data)
        if self._ring is not None:
            from .offline import ring_count
            n += ring_count(self._ring, data)
        return n

    def stopped(self):
        """CLOSED with no reconnect or reopen coming: nothing more will be sent."""
        return self.state == CLOSED and self._open_request is None and self.timers.next_deadline() is None

    def pending(self):
        """True while something waits to be sent, or (confirm_events) to be
        confirmed by the server: what flush() and drain() wait for."""
        ring = self._ring
        return bool((self._fill and not self._lent) or self._direct or self._soon or self._replay is not None
                    or (ring is not None and ring.used) or (self._outbox is not None and self._outbox.size))

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
            from .handshake import on_auth
            logged_in = on_auth(self, action, data)
            if logged_in is not None:
                # OPEN here, once the handshake code has returned: unloaded then
                # (_on_open), its memory is free for the restore that follows
                on_auth = None
                self._set_state(OPEN)
                cb = self._auth_callback
                if cb is not None:
                    self.client._call(T_AUTH, cb, True, logged_in[0])
        else:
            self.client._dispatch(topic, action, data, msg)

    def _handle_connection(self, action, data):
        self.timers.cancel(HANDSHAKE)
        self._reconnect_attempt = 0  # the server speaks deepstream: this attempt succeeded
        if action == "PI":
            self._last_ping = self.clock()
            self._send_direct(build("C", "PO"))
        elif action == "PO":
            if self._pinging:  # the answer to our confirmation ping
                from .offline import confirmed
                confirmed(self)
        else:  # the handshake's own messages (and stray ones)
            from .handshake import on_connection
            on_connection(self, action, data)

    # ---- outgoing -------------------------------------------------------

    def _send_direct(self, message):
        """A message that skips the queue. Once OPEN it goes at the end of the
        current frame (a C|PI must follow what it confirms); before, each
        handshake message travels in a frame of its own."""
        if self._lent:
            self._reclaim()
        if self.state == OPEN and self._fill + len(message) <= len(self.out) - HEADROOM:
            if not self._fill:
                self._wake()
            self._put(message.encode())
            return
        self._direct.append(message)
        self._wake()

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
        _unload("handshake")  # a steady link does not need it: a reconnect or a login() loads it again
        if self._ring is not None or self._outbox is not None or self.dropped or (self._was_reconnecting and self._fill):
            from .offline import restore
            restore(self)  # resubscribe, resend, replay the outbox, report drops
            if self._ring is None and self._replay is None:
                _unload("offline")  # likewise: loaded again by the next outage
        elif self._was_reconnecting:  # nothing waits: only the handlers' state to send again
            self._was_reconnecting = False
            self.client._resubscribe()
        if self.pending():
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
            self.link_dead = True
            self._close_socket()
        else:
            self._schedule_heartbeat()
