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
from .compat import ticks_diff, ticks_ms, urandom
from .ws import WebSocketError

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


def open_transport(t):
    """TCP connect, TLS, websocket upgrade for transport.Transport t."""
    from .transport import no_delay
    secure, host, port, path = parse_url(t.url)
    ai = socket.getaddrinfo(host, port, 0, socket.SOCK_STREAM)[0]
    sock = socket.socket(ai[0], socket.SOCK_STREAM)
    t.sock = sock  # so close() works whatever fails below
    sock.settimeout(t.timeout_ms / 1000)
    sock.connect(ai[-1])
    no_delay(sock)
    if secure:
        from .tls import ssl_context, tls_error_text

        ctx = ssl_context(t.ca_file, t.verify)
        try:
            sock = ctx.wrap_socket(sock, server_hostname=host)
        except Exception as err:  # ssl.SSLError (CPython), ValueError/OSError (mbedtls)
            raise OSError("TLS handshake with %s failed: %s" % (host, tls_error_text(err)))
        t.sock = sock
    # MicroPython TLS sockets have only read/write; CPython sockets only recv/send
    t._readinto = getattr(sock, "recv_into", None) or sock.readinto
    t._write = getattr(sock, "send", None) or sock.write
    # non-blocking from here on: MicroPython's blocking readinto() waits to fill the buffer
    sock.setblocking(False)
    t._poller = select.poll()
    t._poller.register(sock, select.POLLOUT)
    t.send_bytes(request(t.ws, host, port, path, None, secure))
    start = ticks_ms()
    buf = bytearray(256)  # the upgrade response is ~200 bytes; gone once connected
    while True:
        n = t.recv_into(buf)
        if n is None:
            left = t.timeout_ms - ticks_diff(ticks_ms(), start)
            if left <= 0 or not t._wait(select.POLLIN, left):
                raise OSError("websocket handshake timed out")
            continue
        # n == 0: the server closed; receive_handshake says what that means
        if t.ws.receive_handshake(memoryview(buf)[:n]):
            return


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
