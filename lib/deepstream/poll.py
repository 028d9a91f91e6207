"""Polling driver: ``PollDriver(conn).poll(timeout_ms)`` from a plain loop.

No poll() waits longer than ``timeout_ms`` (or the core's next deadline, if
sooner), connecting included: an attempt (resolving the name, TCP connect,
websocket upgrade; ws_handshake.py) is taken a step further by each poll()
and fails after ``connect_timeout``. Only wss://'s TLS handshake blocks, for
what is left of the attempt's time (docs/FIRMWARE.md). Writes go through: when the
core's frame buffer is full (a burst of emits between two polls) the frame
is written at once, from inside the call that filled it, blocking for at
most ``send_timeout``; a link that takes nothing for that long is dead.
Network errors never raise out of poll() or a user call: they reach the
core as socket_error()/socket_closed().
"""
import select

from .compat import ticks_add, ticks_diff, ticks_ms
from .transport import CLOSE_TIMEOUT, Transport, WebSocketError, failed_text, option, pump, warn_if_insecure

_MAX_READS = 16  # reads per poll(): keeps one busy socket from starving timers


class PollDriver:
    def __init__(self, conn):
        self.conn = conn
        self._t = None  # Transport while a websocket is open
        self._opening = None  # Transport while a connection attempt is under way
        self._out = []  # pong/close replies waiting to be sent
        self._close_by = None  # ticks deadline for the server's close frame
        self._more = False  # input may remain unread (read cap hit, TLS-buffered bytes)
        # empty while no socket is open: poll() on it is then a plain sleep
        self._poller = select.poll()

    def poll(self, timeout_ms=0):
        conn = self.conn
        if self._t is not None:
            self._flush()  # what the user's calls since the last poll() left in the frame
        else:
            self._open()  # start the attempt the core asks for, or step the one under way
        wait = 0 if self._more else self._wait_ms(timeout_ms)
        if (self._poller.poll(wait) or self._more) and self._t is not None:
            self._read()
        if self._opening is not None:
            self._open()
        conn.tick()
        self._flush()
        if self._close_by is not None and ticks_diff(self._close_by, conn.clock()) <= 0:
            self._drop()  # the server never answered our close frame

    def _wait_ms(self, timeout_ms):
        # (no tuple of the two deadlines: this runs on every poll)
        left = self.conn.next_deadline()
        if left is not None:
            left = ticks_diff(left, self.conn.clock())
            if left < timeout_ms:
                timeout_ms = max(0, left)
        left = self._close_by
        if left is None and self._opening is not None:
            left = self._opening.wait  # the attempt's next step
        if left is not None:
            left = ticks_diff(left, self.conn.clock())
            if left < timeout_ms:
                timeout_ms = max(0, left)
        return timeout_ms

    def _open(self):
        """Start the connection attempt the core asks for, or take the one under way a
        step further (ws_handshake.py). Never waits: between steps the socket the attempt
        waits on is in the poller."""
        conn = self.conn
        t = self._opening
        if t is None:
            url = conn.take_open_request()
            if not url:
                return
            try:  # building the Transport allocates its buffers: MemoryError belongs here too
                t = Transport(url, option(conn, "connect_timeout"), option(conn, "max_message_size"),
                              option(conn, "ca_file"), option(conn, "verify"), option(conn, "dns_server"))
            except Exception as err:
                conn.socket_error(failed_text(url, err))
                conn.socket_closed(None)
                return
            self._opening = t
        else:
            try:  # the socket the attempt waited on
                self._poller.unregister(t.waiting[0])
            except Exception:  # closed already: the resolver's, once it answered
                pass
        try:
            from .ws_handshake import start, step
            if t.waiting is None:
                start(t, ticks_ms())
            done = step(t, ticks_ms())
        except Exception as err:  # OSError, WebSocketError, ValueError (bad url), TLS errors, MemoryError
            self._opening = None
            self._t = t
            self._drop(None, failed_text(t.url, err))
            return
        if getattr(conn, "_deliberate_close", False):  # close() while it was under way
            self.close()
            return
        if not done:
            self._poller.register(t.waiting[0], t.waiting[1])
            return
        self._opening = None
        self._t = t
        self._send_timeout = option(conn, "send_timeout")
        self._poller.register(t.sock, select.POLLIN)
        conn.write_through = self._write_through
        conn.socket_opened()
        warn_if_insecure(conn, t.url)
        self._feed()  # frames that came right behind the upgrade response

    def _read(self):
        t = self._t
        self._more = True
        try:
            for _ in range(_MAX_READS):
                view = t.ws.read_view()  # read straight into the websocket's buffer
                n = t.recv_into(view)
                if n is None:
                    self._more = t.pending()
                    return
                if n == 0:
                    self._drop("connection closed by the server")
                    return
                t.ws.commit(n)
                if not self._feed():
                    return
                if n < len(view) and not t.pending():
                    self._more = False  # a short read: nothing more waits (no second syscall to learn it)
                    return
        except Exception as err:  # OSError, MemoryError: drop the socket, the core reconnects
            self._fail(err)

    def _feed(self):
        """Hand what the websocket decoded to the core; False if the connection ended."""
        t = self._t
        try:
            more = pump(self.conn, t.ws, self._out)
            if self._out:
                self._send_replies()
        except WebSocketError as err:  # protocol violation: close with 1002
            self._fail(err, 1002)
            return False
        except Exception as err:  # OSError sending a reply, MemoryError
            self._fail(err)
            return False
        if not more:  # the server's close frame: ours went out in reply
            self._drop(None if self._close_by is not None else "closed by the server")
            return False
        return self._t is t

    def _send_replies(self):
        """Pong and close replies; False if sending failed (the link is dropped)."""
        try:
            while self._out:
                self._t.send_bytes(self._out.pop(0), self._send_timeout)
            return True
        except Exception as err:  # OSError, MemoryError
            self._fail(err)
            return False

    def _send_frame(self, n):
        """Write the n bytes the core lent (framed and masked, at
        conn.frame[conn.frame_start:]). On failure they go back to the core
        (queued for the next link), and the link is dropped. True if written."""
        conn = self.conn
        try:
            self._t.send_bytes(memoryview(conn.frame)[conn.frame_start:conn.frame_start + n], self._send_timeout)
            return True
        except Exception as err:  # OSError (timeout, reset), MemoryError
            conn.frame_unsent(n)
            self._fail(err)
            return False

    def _write_through(self, n):
        # the core's hook, called from inside send() when its frame is full
        return self._t is not None and self._send_frame(n)

    def _flush(self):
        t = self._t
        if t is None:
            return
        if self._out and not self._send_replies():
            return
        while self._t is t:
            n = self.conn.take_frame()
            if not n or not self._send_frame(n):
                break
        if self._t is t and self.conn.want_close and not t.ws.close_sent:
            self._send_close(t)

    def _send_close(self, t):
        conn = self.conn
        if conn.link_dead:  # the heartbeat found it dead: no close handshake to wait for
            self._drop()
            return
        try:
            t.send_bytes(t.ws.send_close(1000), self._send_timeout)
            self._close_by = ticks_add(conn.clock(), CLOSE_TIMEOUT)
        except Exception as err:
            self._fail(err)

    def flush(self, timeout_ms):
        """poll() until the core has nothing left to send (connecting and
        logging in first if it must); False if timeout_ms passed first."""
        conn = self.conn
        start = conn.clock()
        while True:
            self.poll(0)
            if not conn.pending():
                return True
            left = timeout_ms - ticks_diff(conn.clock(), start)
            if left <= 0 or (conn.stopped() and self._opening is None):  # (an attempt: the core waits)
                return False
            self.poll(left)

    def _fail(self, err, code=None):
        t = self._t
        if t is not None and code and not t.ws.close_sent:
            try:
                t.send_bytes(t.ws.send_close(code))
            except Exception:
                pass
        self._drop(None, _text(err))

    def _drop(self, reason=None, error=None):
        t = self._t
        if t is None:
            return
        self._t = None
        self.conn.write_through = None
        self._close_by = None
        self._more = False
        self._out = []
        try:
            self._poller.unregister(t.sock)
        except Exception:
            pass
        t.close()
        if error is not None:
            self.conn.socket_error(error)
        self.conn.socket_closed(reason)

    def close(self):
        """Drop the socket at once (no close handshake), e.g. before a deep sleep; give
        up an attempt under way."""
        t = self._opening
        if t is not None:
            self._opening = None
            try:
                self._poller.unregister(t.waiting[0])
            except Exception:  # not there (between steps)
                pass
            self._t = t
        self._drop()


def _text(err):
    return str(err) or type(err).__name__
