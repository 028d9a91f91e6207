"""The only place bytes hit the network: TCP (+TLS) sockets (opened by
ws_handshake.py: URL, connect, TLS, upgrade) and the event pump that both
drivers share.

TLS (wss://) verifies the server BY DEFAULT, on both runtimes: the
certificate must chain to a CA of the ``ca_file`` option (PEM with one or
more certificates, or DER) and name the host of the URL (DNS name or IP
address in subjectAltName). Without ``ca_file`` CPython uses the system CAs;
MicroPython has none, so there wss:// needs ``ca_file`` (a clear error says
so). Only ``verify=False`` turns verification off: the link is encrypted but
the server is not authenticated, and the drivers report an
``INSECURE_CONNECTION`` error event on every connection made that way.
"""
import select
import socket

from . import _unload
from .compat import ticks_diff, ticks_ms
from .constants import MESSAGE_TOO_LARGE
from .ws import MessageTooLarge, WebSocket, WebSocketError

try:
    from errno import EAGAIN, EWOULDBLOCK
except ImportError:
    EAGAIN = EWOULDBLOCK = 11

DEFAULTS = {"max_message_size": 16384, "connect_timeout": 10000, "ca_file": None, "verify": True,
            "send_timeout": 2000, "dns_server": None}
INSECURE_CONNECTION = "INSECURE_CONNECTION"
CLOSE_TIMEOUT = 2000  # ms a driver waits for the server's close frame after ours
# Names resolved by our own DNS query (dns.py), kept across reconnects: a name is
# asked for again only after an attempt to its address failed (the drivers).
RESOLVED = {}


def failed_text(url, err):
    """The connectionError text of a failed attempt (first_contact.py); a fixed one
    when the heap has no room to load that module (drivers never raise)."""
    try:
        from .first_contact import connect_error_text
        return connect_error_text(url, err)
    except MemoryError:
        return "cannot connect: out of memory (no heap for this attempt, nor to say more)"


def option(conn, name):
    """An option from the core (a fake core in tests may have none)."""
    opts = getattr(conn, "options", None) or {}
    return opts.get(name, DEFAULTS[name])


def no_delay(sock):
    """Small frames go out at once: without TCP_NODELAY a second small write
    waits for the peer's delayed ack (about 40 ms on Linux)."""
    try:
        sock.setsockopt(getattr(socket, "IPPROTO_TCP", 6), getattr(socket, "TCP_NODELAY", 1), 1)
    except (OSError, AttributeError, TypeError):
        pass  # a port without the option (some lwIP builds): only slower


def warn_if_insecure(conn, url):
    """Drivers call this right after conn.socket_opened(): a wss:// link
    opened with verify=False gets one INSECURE_CONNECTION error event."""
    if url.startswith("wss:") and option(conn, "verify") is False:
        conn.report_error(INSECURE_CONNECTION, "wss:// link without certificate verification "
                          "(verify=False): the server is not authenticated")


def _would_block(err):
    # CPython's TLS sockets say "would block" with SSLWantRead/WriteError
    # (checked by name so that ws:// never imports ssl)
    return (err.args and err.args[0] in (EAGAIN, EWOULDBLOCK)) or type(err).__name__.startswith("SSLWant")


def pump(conn, ws, out):
    """Hand decoded websocket events to the core; append reply bytes
    (pong, close) to ``out``. Returns False once the server's close frame
    arrived. WebSocketError other than MessageTooLarge propagates (fatal).
    Text and binary frames both go to the core: a frame of the protocol
    not in use fails the attempt with an explanation."""
    while True:
        try:
            ev = ws.next_event()
        except MessageTooLarge as err:  # skipped: the connection stays usable
            conn.report_error(MESSAGE_TOO_LARGE, str(err))
            continue
        if ev is None:
            return True
        kind = ev[0]
        if kind == "text":
            if ev[1]:  # 7.0.2 sends empty frames: nothing in them
                conn.receive_text(ev[1])
            continue
        if kind == "binary":
            conn.receive_binary(ev[1])
            continue
        reply = ws.reply(ev)
        if reply:
            out.append(reply)
        if kind == "close":
            return False


class Transport:
    """One TCP (+TLS) connection, non-blocking. Opened in steps that never wait
    (ws_handshake.start(), then step() whenever `waiting` is ready or `wait` has
    come: the drivers' business)."""

    def __init__(self, url, timeout_ms=10000, max_message_size=16384, ca_file=None, verify=True,
                 dns_server=None):
        self.url = url
        self.timeout_ms = timeout_ms
        self.ws = WebSocket(max_message_size)
        self.ca_file = ca_file
        self.verify = verify
        self.dns_server = dns_server
        self.sock = None
        # while opening (ws_handshake.py): (socket, poll mask) the attempt waits for, the
        # ticks of its next step (wait) and of its end (stop), dns.Resolver of the name,
        # the address it resolved to (target)
        self.waiting = self.resolver = self.target = None

    def _wait(self, mask, ms):
        self._poller.modify(self.sock, mask)
        return self._poller.poll(ms)

    def recv_into(self, buf):
        """Bytes read into buf; 0 at end of stream; None when nothing is available."""
        try:
            return self._readinto(buf)
        except OSError as err:
            if _would_block(err):
                return None
            raise

    def pending(self):
        """True if the TLS layer holds decrypted bytes that poll() cannot see (CPython)."""
        f = getattr(self.sock, "pending", None)
        return bool(f and f())

    def send_bytes(self, data, timeout_ms=None):
        """Send everything, waiting while the socket is full, for at most
        timeout_ms in all (default: the connect timeout)."""
        if timeout_ms is None:
            timeout_ms = self.timeout_ms
        mv = memoryview(data)
        i = 0
        start = None
        while i < len(mv):
            try:
                n = self._write(mv[i:])
            except OSError as err:
                if not _would_block(err):
                    raise
                n = None
            if n is None:  # MicroPython non-blocking write: nothing taken
                if start is None:
                    start = ticks_ms()
                left = timeout_ms - ticks_diff(ticks_ms(), start)
                if left <= 0 or not self._wait(select.POLLOUT, left):
                    raise OSError("send timed out after %d ms: the link takes no data" % timeout_ms)
                continue
            i += n

    def close(self):
        if self.waiting is not None:  # an attempt that failed or was given up
            if self.resolver is not None:
                self.resolver.close()
                self.resolver = None
            if self.target is not None:  # its name is resolved again next time
                RESOLVED.pop(self.host, None)
            self.waiting = None
            _unload("ws_handshake")
        if self.sock is not None:
            try:
                self.sock.close()
            except OSError:
                pass
            self.sock = None
