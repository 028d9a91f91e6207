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
from .compat import ticks_add, ticks_diff, urandom
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
    """True for an IPv4 address or an IPv6 literal: nothing to resolve."""
    return ":" in host or host.replace(".", "").isdigit()


def dns_server(option):
    """The resolver to ask for names: the option dns_server ("a.b.c.d[:port]"), else the
    one the network interface uses (MicroPython); None when not known: getaddrinfo()
    then. (dns.py is loaded only once there is a resolver to ask.)"""
    if option:
        return option
    try:
        import network  # a board's: imported here only, never at the top of lib/

        option = network.ipconfig("dns")
    except Exception:  # CPython, a port without network or ipconfig (before 1.24)
        return None
    return option if isinstance(option, str) and option and option[0] != "0" else None  # 0.0.0.0: none


def getaddrinfo(host, port):
    """socket.getaddrinfo()'s first entry for host: instant for an address; for a name,
    used only where no resolver address is known (on lwIP it waits for the answer).
    OSError names a host that did not resolve."""
    try:
        return socket.getaddrinfo(host, port, 0, socket.SOCK_STREAM)[0]
    except OSError as err:
        raise OSError("%s did not resolve (%s)" % (host, str(err) or type(err).__name__))


def start(t, now):
    """Start opening transport.Transport t; step() takes it on. Nothing here waits but
    getaddrinfo() for a name where no resolver address is known."""
    from .transport import RESOLVED
    t.waiting = (None, 0)  # an attempt under way (what it waits for comes below)
    t.request = None
    secure, host, port, path = parse_url(t.url)
    t.host = host
    t.stop = ticks_add(now, t.timeout_ms)  # the attempt's end
    ip = host if is_address(host) else RESOLVED.get(host)
    if ip is None:
        server = dns_server(t.dns_server)
        if server is not None:  # our own query: answered in later steps
            from .dns import Resolver
            r = t.resolver = Resolver(host, server, t.timeout_ms, now)
            t.waiting = (r.sock, select.POLLIN)
            t.wait = r.next_deadline()
            return
        ip = host
    elif ip != host:
        t.target = ip
    connect(t, ip, port)


def connect(t, host, port):
    """Start the TCP connect to host (an address; a name only where no resolver is
    known): it completes in later steps."""
    from .transport import no_delay
    info = getaddrinfo(host, port)
    sock = socket.socket(info[0], socket.SOCK_STREAM)
    t.sock = sock  # so that close() works whatever fails below
    sock.setblocking(False)
    try:
        sock.connect(info[-1])
    except OSError as err:
        if not (err.args and err.args[0] in (EINPROGRESS, EAGAIN, EALREADY)):
            raise
    no_delay(sock)
    t.waiting = (sock, select.POLLOUT)
    t.wait = t.stop


def step(t, now):
    """One step of t's opening, which never waits: True once the websocket is open;
    False: call again when t.waiting is ready or t.wait has come. Raises OSError,
    WebSocketError or ValueError when the attempt failed (then t.close())."""
    r = t.resolver
    if r is not None:  # resolving the name
        host = r.step(now)
        if host is None:
            t.wait = r.next_deadline()
            return False
        from .transport import RESOLVED
        r.close()
        t.resolver = None
        if len(RESOLVED) > 8:
            RESOLVED.clear()
        RESOLVED[r.name] = t.target = host
        connect(t, host, parse_url(t.url)[2])
    req = t.request
    if req is None:  # the TCP connect under way
        p = select.poll()
        p.register(t.sock, select.POLLOUT)
        ready = p.poll(0)
        if not ready:
            if ticks_diff(now, t.stop) >= 0:
                raise OSError("TCP connect to %s timed out after %d ms" % (t.target or t.host, t.timeout_ms))
            return False
        secure, host, port, path = parse_url(t.url)
        if secure:  # the one step that blocks (tls.py)
            from .tls import wrap
            wrap(t, host, ready[0][1] & (select.POLLERR | select.POLLHUP))
        sock = t.sock
        # MicroPython TLS sockets have only read/write; CPython sockets only recv/send
        t._readinto = getattr(sock, "recv_into", None) or sock.readinto
        t._write = getattr(sock, "send", None) or sock.write
        t._poller = select.poll()
        t._poller.register(sock, select.POLLOUT)
        req = t.request = memoryview(request(t.ws, host, port, path, None, secure))
        t.buf = bytearray(256)  # the upgrade response is ~200 bytes; gone once connected
    mask = select.POLLOUT
    while len(req):  # the upgrade request: what the socket takes of it (the first send
        try:  # also says whether the TCP connect failed)
            n = t._write(req)
        except OSError as err:
            if not _would_block(err):
                raise
            n = None
        if n is None:
            break
        req = t.request = req[n:]
    else:
        mask = select.POLLIN
        while True:
            n = t.recv_into(t.buf)
            if n is None:
                break
            # n == 0: the server closed; receive_handshake says what that means
            if t.ws.receive_handshake(memoryview(t.buf)[:n]):
                t.waiting = t.target = t.request = t.buf = None  # done: nothing to forget
                release()
                return True
    if ticks_diff(now, t.stop) >= 0:
        raise OSError("websocket upgrade timed out: %s took the connection, no answer within %d ms"
                      % (t.target or t.host, t.timeout_ms))
    t.waiting = (t.sock, mask)
    t.wait = t.stop
    return False


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
