"""Opening a connection: the URL, TCP connect, TLS and the websocket opening
handshake (RFC 6455 section 4), client side.

Needed only while a connection is being made: Transport.connect()
(transport.py), aio.open_async() and WebSocket.handshake_request() /
receive_handshake() (ws.py) import this module, and drop it again once the
websocket is open or the attempt failed, so its code and texts are not
resident while the client runs (docs/MEMORY.md). A reconnect loads it again.
What a failed upgrade means is said by first_contact.py, loaded only then.
"""
import binascii
import hashlib
import select
import socket

from . import _unload
from .compat import ticks_add, ticks_diff, ticks_ms, urandom
from .transport import _would_block
from .ws import WebSocketError

try:
    from errno import EAGAIN, EALREADY, EINPROGRESS  # lwIP on newlib (ESP32): 119 and 120
except ImportError:  # a port without errno: the Linux numbers
    EAGAIN, EALREADY, EINPROGRESS = 11, 114, 115

_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
_MAX_HEADERS = 8192  # bytes of HTTP response we are willing to buffer


def parse_url(url):
    """"ws://host[:port]/path" -> (secure, host, port, path). Raises ValueError."""
    i = url.find("://")
    scheme = url[:i]
    if i < 0 or scheme not in ("ws", "wss"):
        raise ValueError("not a ws:// or wss:// url: " + url)
    rest = url[i + 3:]
    j = rest.find("/")
    hostport, path = (rest, "/") if j < 0 else (rest[:j], rest[j:])
    port = 443 if scheme == "wss" else 80
    if hostport.startswith("["):  # [IPv6]:port
        k = hostport.find("]")
        host, tail = hostport[1:k], hostport[k + 1:]
    else:
        k = hostport.find(":")
        host, tail = (hostport, "") if k < 0 else (hostport[:k], hostport[k:])
    if tail:
        if not tail.startswith(":") or not tail[1:].isdigit():
            raise ValueError("bad port in url: " + url)
        port = int(tail[1:])
    if not host:
        raise ValueError("no host in url: " + url)
    return scheme == "wss", host, port, path


def is_address(host):
    """True for an IPv4 address (dotted quad) or an IPv6 literal: nothing to resolve."""
    if ":" in host:
        return True
    parts = host.split(".")
    return len(parts) == 4 and all(p.isdigit() and len(p) <= 3 for p in parts)


def address_info(host, port):
    """getaddrinfo's first entry for host: instant for an address; for a name, used only
    where no resolver address is known (on lwIP it waits for the answer). OSError names
    a host that did not resolve."""
    try:
        return socket.getaddrinfo(host, port, 0, socket.SOCK_STREAM)[0]
    except OSError as err:
        raise OSError("%s did not resolve (%s)" % (host, str(err) or type(err).__name__))


async def address_async(host, port, dns_server, timeout_ms):
    """For the asyncio driver on MicroPython: the address of host, resolved without
    blocking the loop where the resolver is known (dns.py; else getaddrinfo)."""
    from .transport import RESOLVED, remember
    if is_address(host):
        return host
    ip = RESOLVED.get(host)
    if ip is not None:
        return ip
    from .dns import Resolver, server_address
    server = server_address(dns_server)
    if server is None:
        address_info(host, port)  # a name that does not resolve is said so here
        return host
    from .compat import sleep_ms
    r = Resolver(host, server, timeout_ms, ticks_ms())
    try:
        while True:
            ip = r.step(ticks_ms())
            if ip is not None:
                remember(host, ip)
                return ip
            # an answer takes a few ms: look again soon, the loop runs meanwhile
            await sleep_ms(max(0, min(10, ticks_diff(r.next_deadline(), ticks_ms()))))
    finally:
        r.close()


# what an attempt is doing: its steps, in order
_RESOLVE, _CONNECT, _UPGRADE = 0, 1, 2


class Opening:
    """One connection attempt of transport.Transport t, made in steps that never wait
    (transport.py, Transport.advance): resolve the host (our own DNS query where the
    resolver is known: dns.py), a non-blocking TCP connect, TLS for wss:// (the one
    step that blocks, up to what is left of the attempt's time), the websocket upgrade.
    The whole attempt has connect_timeout; each step says what it waits for (waiting:
    socket and poll mask) and until when (due)."""

    def __init__(self, t, now):
        from .transport import RESOLVED
        self.secure, self.host, self.port, self.path = parse_url(t.url)
        self.deadline = ticks_add(now, t.timeout_ms)
        self.due = self.deadline
        self.step = _RESOLVE
        self.resolver = None
        self.address = None  # the address the name resolved to (None: an address in the url)
        self.request = None  # the upgrade request, until it is all sent
        self.buf = None
        host = self.host
        ip = host if is_address(host) else RESOLVED.get(host)
        if ip is None:
            from .dns import server_address
            server = server_address(t.dns_server)
            if server is None:
                self._connect(t, address_info(host, self.port))
                return
            from .dns import Resolver
            self.resolver = Resolver(host, server, t.timeout_ms, now)
            t.waiting = (self.resolver.sock, select.POLLIN)
            self.due = self.resolver.next_deadline()
            return
        if ip != host:
            self.address = ip
        self._connect(t, address_info(ip, self.port))

    def _connect(self, t, ai):
        """Start the TCP connect to getaddrinfo entry ai; it completes in later steps."""
        from .transport import no_delay
        sock = socket.socket(ai[0], socket.SOCK_STREAM)
        t.sock = sock  # so that close() works whatever fails below
        sock.setblocking(False)
        self.sockaddr = ai[-1]
        try:
            sock.connect(ai[-1])
        except OSError as err:
            if not (err.args and err.args[0] in (EINPROGRESS, EAGAIN, EALREADY)):
                raise
        no_delay(sock)
        self.step = _CONNECT
        self.poller = select.poll()
        self.poller.register(sock, select.POLLOUT)
        t.waiting = (sock, select.POLLOUT)
        self.due = self.deadline

    def advance(self, t, now):
        """True once the websocket is open; False: call again when t.waiting is ready or
        self.due has come. Raises OSError/WebSocketError/ValueError when the attempt fails."""
        if self.step == _RESOLVE:
            ip = self.resolver.step(now)
            if ip is None:
                self.due = self.resolver.next_deadline()
                return False
            from .transport import remember
            self.resolver.close()
            self.resolver = None
            remember(self.host, ip)
            self.address = ip
            self._connect(t, address_info(ip, self.port))
        if self.step == _CONNECT:
            ready = self.poller.poll(0)
            if not ready:
                if ticks_diff(now, self.deadline) >= 0:
                    raise OSError("TCP connect to %s:%d timed out after %d ms"
                                  % (self.address or self.host, self.port, t.timeout_ms))
                return False
            if self.secure and ready[0][1] & (select.POLLERR | select.POLLHUP):
                self._refused(t)  # before TLS would hide why
            self._connected(t)
        if not self._send_request(t):
            return self._waiting(t, now, select.POLLOUT)
        while True:
            n = t.recv_into(self.buf)
            if n is None:
                return self._waiting(t, now, select.POLLIN)
            # n == 0: the server closed; receive_handshake says what that means
            if t.ws.receive_handshake(memoryview(self.buf)[:n]):
                self.buf = None
                return True

    def _refused(self, t):
        """The connect failed: a second connect() raises why (POSIX; ws:// learns it from
        the first send instead, which lwIP answers more truly)."""
        try:
            t.sock.connect(self.sockaddr)
        except OSError as err:
            if not (err.args and err.args[0] in (EINPROGRESS, EALREADY)):
                raise

    def _connected(self, t):
        """TCP is up (or failed: the first send says which)."""
        self.poller = None
        sock = t.sock
        if self.secure:
            self._tls(t, sock)
        # MicroPython TLS sockets have only read/write; CPython sockets only recv/send
        sock = t.sock
        t._readinto = getattr(sock, "recv_into", None) or sock.readinto
        t._write = getattr(sock, "send", None) or sock.write
        t._poller = select.poll()
        t._poller.register(sock, select.POLLOUT)
        self.request = memoryview(request(t.ws, self.host, self.port, self.path, None, self.secure))
        self.buf = bytearray(256)  # the upgrade response is ~200 bytes; gone once connected
        self.step = _UPGRADE

    def _tls(self, t, sock):
        # the one step that blocks: ssl's handshake, for what is left of the attempt's time
        from .tls import ssl_context, tls_error_text

        left = ticks_diff(self.deadline, ticks_ms())
        ctx = ssl_context(t.ca_file, t.verify)
        try:
            sock.setblocking(True)
            sock.settimeout(max(left, 1) / 1000)
            sock = ctx.wrap_socket(sock, server_hostname=self.host)
        except Exception as err:  # ssl.SSLError (CPython), ValueError/OSError (mbedtls)
            raise OSError("TLS handshake with %s failed: %s" % (self.host, tls_error_text(err)))
        sock.setblocking(False)
        t.sock = sock

    def _send_request(self, t):
        """Send what the socket takes of the upgrade request; True once all of it went."""
        req = self.request
        while req is not None and len(req):
            try:
                n = t._write(req)
            except OSError as err:
                if not _would_block(err):
                    raise
                n = None
            if n is None:
                return False
            req = self.request = req[n:]
        self.request = None
        return True

    def _waiting(self, t, now, mask):
        if ticks_diff(now, self.deadline) >= 0:
            raise OSError("websocket upgrade timed out: %s:%d accepted the connection but sent no "
                          "answer within %d ms" % (self.address or self.host, self.port, t.timeout_ms))
        t.waiting = (t.sock, mask)
        self.due = self.deadline
        return False

    def forget(self):
        """The attempt failed: a name resolved for it is asked for again next time."""
        if self.address is not None:
            from .transport import forget
            forget(self.host)

    def close(self):
        if self.resolver is not None:
            self.resolver.close()
            self.resolver = None


def _b64(data):
    return binascii.b2a_base64(data)[:-1]  # strip the trailing newline


def accept_key(key):
    """Sec-WebSocket-Accept value the server must send for our key (bytes)."""
    return _b64(hashlib.sha1(key + _GUID).digest())


def request(ws, host, port, path, key, secure):
    """The upgrade request (bytes); remembers the key in ws._key."""
    if key is None:
        key = _b64(urandom(16))
    ws._key = key
    ws._path = path or "/"  # for the error texts (first_contact.py)
    if ":" in host:  # IPv6 literal
        host = "[" + host + "]"
    if port != (443 if secure else 80):
        host = "%s:%d" % (host, port)
    return (
        "GET %s HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\n"
        "Connection: Upgrade\r\nSec-WebSocket-Key: %s\r\n"
        "Sec-WebSocket-Version: 13\r\n\r\n" % (path or "/", host, key.decode())
    ).encode()


def receive(ws, data):
    """Feed response bytes: None = need more, else the bytes that came right
    behind the headers (frames). b"" = the server closed the connection.
    Raises WebSocketError."""
    if not data:
        from .first_contact import explain
        raise WebSocketError(explain("partial" if ws._hs else "closed", ws._path))
    hs = ws._hs + data
    ws._hs = b""
    end = hs.find(b"\r\n\r\n")
    if end < 0:
        if len(hs) > _MAX_HEADERS:
            raise WebSocketError("handshake response headers too long")
        ws._hs = hs
        return None
    lines = hs[:end].split(b"\r\n")
    status = lines[0].decode()
    parts = status.split(" ")
    if len(parts) < 2 or parts[1] != "101":
        from .first_contact import explain
        raise WebSocketError(explain("status", ws._path, status))
    headers = {}
    for line in lines[1:]:
        i = line.find(b":")
        if i > 0:
            headers[line[:i].strip().lower()] = line[i + 1:].strip()
    if headers.get(b"upgrade", b"").lower() != b"websocket":
        raise WebSocketError("handshake: no 'Upgrade: websocket' in " + status)
    if headers.get(b"sec-websocket-accept") != accept_key(ws._key):
        raise WebSocketError("handshake: bad Sec-WebSocket-Accept")
    return hs[end + 4:]


def release():
    """Unload this module: the websocket is open (or the attempt failed)."""
    _unload("ws_handshake")
