"""The websocket opening handshake (RFC 6455 section 4), client side.

Needed only while a connection is being made: WebSocket.handshake_request()
and receive_handshake() (ws.py) import this module, and drop it again once
the websocket is open, so its code and texts are not resident while the
client runs (docs/MEMORY.md). A reconnect loads it again. What a failed
upgrade means is said by first_contact.py, loaded only then.
"""
import binascii
import hashlib

from . import _unload
from .compat import urandom
from .ws import WebSocketError

_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
_MAX_HEADERS = 8192  # bytes of HTTP response we are willing to buffer


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
