"""The connection state machine (sans-IO).

Driven by a driver (poll.py, aio.py) through a handful of calls: it asks for
a socket (take_open_request), is told what happened on it (socket_opened,
receive_text/receive_binary, socket_closed, socket_error), runs its timers
(tick) and hands out bytes to write (take_frame). It never does I/O and
never sleeps.

The wire is the codec's (text_codec.py or binary_codec.py, chosen by the
`protocol` option or the URL): frames become messages of the model in the
codec's receive(), which hands them to dispatch(); messages become bytes in
the codec's encode(), which send() puts into the frame buffer.

The states and transitions are the reference client's (see docs/PROTOCOL.md):
CLOSED, AWAITING_CONNECTION, CHALLENGING, AWAITING_AUTHENTICATION,
AUTHENTICATING, OPEN, ERROR, RECONNECTING. `_set_state` is the only place
the state changes. How the link gets to OPEN (challenge, login, redirect,
reconnect back-off) is in handshake.py, loaded only while it does.

Sending: every message is encoded straight into one preallocated frame
buffer (`out`), with HEADROOM bytes in front of it for the websocket header
of a text frame; a binary message carries its own header (one websocket
frame per message, several to a socket write). When the buffer is full a
synchronous driver writes it at once (`write_through`); what cannot go out
now (offline, or a writer that has not run yet) waits in a byte ring of
max_queued_bytes (ring.py, handled by offline.py).
"""
from . import _unload
from .compat import const, ticks_diff
from .constants import AUTHENTICATING, AWAITING_CONNECTION, CLOSED, ERROR, OPEN, RECONNECTING
from .message import TOPIC_LETTERS, UNDEFINED
from .timers import Timers

_CONNECTION = const(2)
_AUTH = const(3)
_CONNECTION_PING = const(2)
_CONNECTION_PONG = const(3)
HEADROOM = const(14)  # before the payload: the longest websocket header (10) + mask key (4)
FRAME_BYTES = const(1024)  # payload of one frame: the write-through unit
_RESERVE = const(13)  # kept free in every frame for confirm_events' ping (a binary one: 13 bytes)
_ROOM = const(FRAME_BYTES - _RESERVE)  # payload bytes a frame takes
_BULK_NAMES = const(50)  # names in one bulk (un)subscription: a message that fits a frame
HEARTBEAT = "heartbeat"
HANDSHAKE = "handshake"  # from the websocket upgrade to the server's first connection message


class Connection:
    def __init__(self, client, urls, options, clock, codec):
        self.client = client
        self.options = options
        self.clock = clock
        self.timers = Timers(clock)
        # urls: normalized by options.normalize_urls; several = cluster nodes, and
        # the list turns by one on every reconnect, its head the node in use
        self._urls = urls if len(urls) > 1 else None
        self.original_url = urls[0]
        self.url = self.original_url
        self.codec = codec  # text_codec or binary_codec (options.choose_codec)
        self.detecting = options["protocol"] == "auto"  # handshake.py: which endpoint is this?
        self.state = CLOSED
        self.want_close = False  # the driver closes the socket when set
        self.link_dead = False  # with want_close: drop it at once, a close handshake would only wait
        self.on_output = None  # driver hook: something to send (the asyncio writer wakes)
        self.write_through = None  # driver hook: write_through(n) writes the frame now, True if sent
        self.rpc_in = None  # rpc_call.RpcCalls once loaded: the codec reads replies to our calls in place
        self._open_request = self.url  # the reference client connects at construction
        self._socket_open = False
        self.out = bytearray(HEADROOM + FRAME_BYTES)  # the next frame(s), and the first part of the queue
        self.frame = self.out  # the buffer take_frame() lent (out, or a handshake message's)
        self.frame_start = 0  # where the bytes take_frame() lent begin
        self._fill = 0  # payload bytes in out (from HEADROOM on)
        self._lent = False  # out was taken by the driver: reset on the next call
        self._direct = []  # encoded messages that bypass the queue (auth, pong, challenge, ping)
        self._ring = None  # ring.Ring: what waits (offline, or behind the writer), made on first use
        self._confirm = options["confirm_events"]
        if options["confirm_events"]:  # used from the first event on: made now, on a fresh heap
            from .ring import Ring
            self._ring = Ring(options["max_queued_bytes"], self.codec.NAME == "binary")
        self.dropped = 0  # messages dropped from the queue in this outage
        self._pinging = False  # confirm_events: a barrier ping is in flight
        self._barrier = 0  # bytes of the ring's kept events that its pong confirms
        self.pings = 0  # pings put on this link, and pongs received: the barrier's is the latest
        self.pongs = 0
        self._barrier_ping = 0
        self._outbox = None
        self._replay = None  # outbox.Reader while the outbox is being sent
        self._replay_after = 0  # queued ring bytes that go out before the outbox
        if options["outbox_file"]:
            from .outbox import Outbox
            self._outbox = Outbox(options["outbox_file"], options["outbox_max_bytes"])
        self._soon = []  # handler hooks run once before the next frame is taken
        self._auth_params = None  # a dict, or (issue 21) a function returning one (credentials.py)
        self._auth_callback = None
        self._deliberate_close = False
        self._redirecting = False
        self._permanently_closed = False  # REJECT, too many auth attempts, auth timeout
        self._reconnect_attempt = 0
        self._was_reconnecting = False
        self._last_ping = clock()
        self.heard = False  # binary: a frame arrived since the last heartbeat check
        codec.attach(self)  # the codec's own state on this connection, if it has any

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
        self.client._emit("connectionStateChanged", "C", state)
        if state == OPEN:  # listeners are isolated (client._call): a raising one cannot skip this
            try:
                self._on_open()
            except MemoryError:
                # issue 21: never OPEN without the subscriptions (the error used to be
                # caught far up as a dropped message): leave this link at once, the next
                # login restores them all, one reconnect interval from now
                self._reconnect_attempt = 1
                self.socket_error("out of memory restoring the subscriptions after the login")
                self.link_dead = True
                self._close_socket()

    # ---- user actions ---------------------------------------------------

    def send(self, topic, action, name=None, data=UNDEFINED, cid=None, names=None, path=None,
             version=None, write_ack=False, sub=None):
        """Send one message of the model: the codec encodes it (raising
        TypeError/ValueError for data it cannot carry, before anything is
        sent), push() puts it into the frame buffer or the queue."""
        if self.codec.BULK:  # a bulk (un)subscription asked for before this goes first
            self.codec.flush_bulk(self)
        try:
            wire = self.codec.encode(topic, action, name, data, cid, names, path, version, write_ack, sub)
        except MemoryError:  # dropped, never the caller's loop
            wire = None
        self.push(wire, topic)

    def push(self, data, topic=0, event=False):
        """One encoded message (bytes, or None: it could not be encoded for
        want of heap). It goes into the frame buffer; what does not fit there
        now (offline, or a writer that has not run yet) waits in the ring
        behind it. Never blocks for long, never raises.

        The common case (online, nothing queued, room left in the frame) is
        decided in reserve(), in a small frame; everything else is _send()."""
        i = -1 if data is None else self.reserve(len(data))
        if i < 0:
            self._send(data, topic, event)
        else:
            self.out[i:i + len(data)] = data  # one copy into the frame, nothing kept

    def reserve(self, n):
        """Room for an encoded message of n bytes in the frame buffer, now: its
        index in `out` (the codec may write it there itself), or -1 when
        push() must decide where it goes (offline, queued, confirm_events, full)."""
        if (self.state == OPEN and not self._lent and not self._confirm and self._replay is None
                and (self._ring is None or not self._ring.used) and self._fill + n <= _ROOM):
            i = HEADROOM + self._fill
            self._fill += n
            if self._fill == n:
                self._wake()  # a frame begun: the asyncio writer has something to write
            return i
        return -1

    def _send(self, data, topic, event):
        if data is None:  # a full heap drops this message, never the caller's loop
            self.dropped += 1  # counted in the MESSAGE_DROPPED total after the next login
            self.client._error("out of memory: message dropped", "MESSAGE_DROPPED", TOPIC_LETTERS[topic])
            return
        online = self.state == OPEN
        if not online and self._outbox is not None and event:
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
                    self.push(data, topic, event)
                else:
                    self._queue(data)
                return
            fill = 0
        i = HEADROOM + fill
        self.out[i:i + n] = data
        self._fill = fill + n
        if not fill:
            self._wake()
        if self._confirm and online and event:
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
        if n:
            n = self._framed(n)
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
        self.heard = False
        self.pings = self.pongs = 0
        self.detecting = self.options["protocol"] == "auto"  # every endpoint is asked: cluster nodes may differ
        if self.options["handshake_timeout"]:
            from .handshake import timed_out
            self.timers.add(HANDSHAKE, self.options["handshake_timeout"], timed_out, self)
        self._set_state(AWAITING_CONNECTION)
        self._schedule_heartbeat()
        if self.codec.CLIENT_CHALLENGES or self.detecting:
            from .handshake import opened
            opened(self)

    def socket_error(self, text):
        self._set_state(ERROR)
        self.client._error(text, "connectionError", "C")

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
        """One websocket text frame (str), for the text codec to read."""
        if self._deliberate_close:
            return  # after close(): what still arrives during the close handshake is dropped
        if self.codec.NAME == "text":
            self.codec.receive(self, frame)
        else:  # a text frame on a binary link: the wrong endpoint, or (protocol="auto") a text one
            from .handshake import not_deepstream
            if not_deepstream(self, "text"):
                self.codec.receive(self, frame)

    def receive_binary(self, frame):
        """One websocket binary frame (bytes), for the binary codec to read."""
        if self._deliberate_close:
            return
        if self.codec.NAME == "binary":
            self.codec.receive(self, frame)
        else:
            from .handshake import not_deepstream
            not_deepstream(self, "binary")

    def tick(self):
        self.timers.fire()

    def next_deadline(self):
        return self.timers.next_deadline()

    def take_frame(self, framed=True):
        """The next bytes to write, framed and masked: conn.frame[conn.frame_start:
        conn.frame_start + n]; returns n, or 0 when there is nothing to send.
        The buffer is the driver's until its next call into the core; if the
        write fails the driver calls frame_unsent(n). framed=False:
        take_payload()."""
        if self._lent:
            self._reclaim()
        if self._soon:
            soon, self._soon = self._soon, []
            for fn in soon:
                fn()
        if self._fill or self._direct or self._ring is not None or self._replay is not None:
            n = self._seal()
            return self._framed(n) if n and framed else n
        return 0  # the usual poll turn: nothing to send

    def take_payload(self):
        """What take_frame() lends, before the codec frames it: the encoded
        messages at frame[HEADROOM:HEADROOM + n] (a binary one with its
        frame header and an empty mask key). deepstream.testing reads them so."""
        return self.take_frame(False)

    def _framed(self, n):
        """Frame and mask what _seal() lent (the codec's seal()); returns the
        bytes to write (from frame_start), 0 if none."""
        try:
            self.frame_start = self.codec.seal(self.frame, HEADROOM, n)
        except MemoryError:  # out of heap for the masking: the frame is lost, and counted
            self._lost()
            return 0
        return n + HEADROOM - self.frame_start

    def _seal(self):
        """Complete the frame (direct messages, then what the ring and the
        outbox hold) and lend it to the driver; returns its payload size."""
        direct = self._direct
        if self.state != OPEN:
            # before login only the handshake's own messages go out, each alone in
            # a small frame of its own: the frame buffer holds what waits for OPEN
            if not direct:
                return 0
            data = direct.pop(0)
            self.frame = bytearray(HEADROOM + len(data))
            self.frame[HEADROOM:] = data
            return len(data)
        self.frame = self.out
        room = len(self.out) - HEADROOM - _RESERVE
        while direct and self._fill + len(direct[0]) <= room:
            self._put(direct.pop(0))
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
        """For drivers: writing the bytes just taken failed. Their messages
        stay queued for the next link (unmasked again here); bytes whose
        masking failed midway (intact=False) are lost, and counted."""
        if self.frame is not self.out:
            return  # a handshake message: it belonged to that socket
        self._lent = False
        if not intact:
            self._lost()
            return
        try:
            self.codec.unseal(self.out, HEADROOM, self._fill)
        except MemoryError:
            self._lost()

    def _lost(self):
        """Masking the frame buffer failed midway (out of heap): its messages
        are lost, and counted."""
        fill = self._fill
        self._lent = False
        self.dropped += self.codec.count(self.out, HEADROOM, HEADROOM + fill)
        self._fill = 0
        self.client._error("out of memory framing %d bytes: their messages are lost" % fill, "MESSAGE_DROPPED", "C")

    def queued(self, topic, action, key):
        """How many messages (topic, action) about `key` (a name, an id; None:
        any) wait to be sent: handlers ask after a reconnect (what is still
        queued needs no second copy). The frame buffer is searched here;
        offline.py is loaded only if the ring exists."""
        n = 0
        if self._fill and not self._lent:
            codec = self.codec
            i = HEADROOM
            end = HEADROOM + self._fill
            while i < end:
                stop = codec.message_end(self.out, i, end)
                if codec.matches(bytes(self.out[i:stop]), topic, action, key):
                    n += 1
                i = stop
        if self._ring is not None:
            from .offline import ring_count
            n += ring_count(self, topic, action, key)
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

    def report_error(self, event, message, topic="C"):
        """For drivers: an error seen below the core (e.g. an oversize frame)."""
        self.client._error(message, event, topic)

    # ---- incoming -------------------------------------------------------

    def dispatch(self, m):
        """A message of the model that the codec did not read in place."""
        topic = m.topic
        if topic == _CONNECTION:
            self.timers.cancel(HANDSHAKE)
            self._reconnect_attempt = 0  # the server speaks deepstream: this attempt succeeded
            if m.action == _CONNECTION_PING:
                self._last_ping = self.clock()
                self.send_direct(self.codec.PONG)
            elif m.action == _CONNECTION_PONG:
                self.pong()
            else:  # the handshake's own messages (and stray ones)
                from .handshake import on_connection
                on_connection(self, m)
        elif topic == _AUTH:
            from .handshake import on_auth
            logged_in = on_auth(self, m)
            if logged_in is not None:
                # OPEN here, once the handshake code has returned: unloaded then
                # (_on_open), its memory is free for the restore that follows
                on_auth = None
                self._set_state(OPEN)
                cb = self._auth_callback
                if cb is not None:
                    self.client._call("A", cb, True, logged_in[0])
        elif topic == 0:
            self.client._error("Received message for unknown topic " + m.code, "MESSAGE_PARSE_ERROR", m.code)
        else:
            self.client._dispatch(m)

    def pong(self):
        """A pong: the answer to our pings in order (binary: heartbeats too)."""
        self.pongs += 1
        if self._pinging and self.pongs >= self._barrier_ping:  # the answer to our confirmation ping
            from .offline import confirmed
            confirmed(self)

    # ---- outgoing -------------------------------------------------------

    def send_direct(self, data):
        """An encoded message that skips the queue. Once OPEN it goes at the
        end of the current frame (a ping must follow what it confirms);
        before, each handshake message travels in a frame of its own."""
        if self._lent:
            self._reclaim()
        if data is self.codec.PING and (self.state == OPEN or self.state == AUTHENTICATING):
            # counted where it joins the stream: its pong comes in this order. One sent while
            # the login is on its way is answered if the server has let us in when it reads it:
            # counted, the pong it may not get makes a confirmation later, never one too early
            self.pings += 1
        if self.state == OPEN and self._fill + len(data) <= len(self.out) - HEADROOM:
            if not self._fill:
                self._wake()
            self._put(data)
            return
        self._direct.append(data)
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
        if self._was_reconnecting and self.codec.BULK:
            self.acked_names = {}  # the acks of the dead link's bulk messages never come
        # after an outage, does the frame that waited hold an (un)subscription that
        # offline.restore must drop before the handlers make theirs again? Without
        # one, the login answer needs no outage code: importing it here (6.6 KB,
        # ~100 interned names) ran out of memory on MicroPython (issue 21)
        subscribing = self._was_reconnecting and self._fill and self.codec.restorable(
            self.out, HEADROOM, HEADROOM + self._fill)
        if self._ring is not None or self._outbox is not None or self.dropped or subscribing:
            from .offline import restore
            restore(self)  # resubscribe, resend, replay the outbox, report drops
            if self._ring is None and self._replay is None:
                _unload("offline")  # likewise: loaded again by the next outage
        elif self._was_reconnecting:  # nothing waits that they make again: only the handlers' state to send
            self._was_reconnecting = False
            self.client._resubscribe()
        if self.pending():
            self._wake()

    def _schedule_heartbeat(self):
        self.timers.add(HEARTBEAT, self.options["heartbeat_interval"], self._check_heartbeat)

    def _check_heartbeat(self, _):
        """Every heartbeat_interval: a link silent for two intervals is dead
        (text: no ping from the server; binary: no frame at all). On binary
        the client pings, and the server's pongs keep an idle link alive."""
        window = 2 * self.options["heartbeat_interval"]
        now = self.clock()
        if self.heard:
            self.heard = False
            self._last_ping = now
        # binary: before login the server answers no ping, so silence proves
        # nothing then (the handshake timer and the server's login deadline cover it)
        if ticks_diff(now, self._last_ping) > window and (self.state == OPEN or not self.codec.CLIENT_PINGS):
            self.client._error("heartbeat not received in the last %d milliseconds" % window,
                               "connectionError", "C")
            # the link is dead now, not when its close handshake ends: leave
            # OPEN so that what is sent meanwhile waits in the queue
            self._set_state(RECONNECTING)
            self._was_reconnecting = True
            self.link_dead = True
            self._close_socket()
            return
        if self.codec.CLIENT_PINGS:  # from the socket's start: the server closes a link silent for 2 intervals
            self.send_direct(self.codec.PING)
        self._schedule_heartbeat()
