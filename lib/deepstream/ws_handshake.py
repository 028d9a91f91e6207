"""The websocket opening handshake (RFC 6455 section 4), client side, and
the texts that explain a first contact that failed.

Needed only while a connection is being made: WebSocket.handshake_request()
and receive_handshake() (ws.py) import this module, and drop it again once
the websocket is open, so its code and texts are not resident while the
client runs (docs/MEMORY.md). A reconnect loads it again, and so does a
failed deepstream handshake (Connection.not_deepstream) for its text.

What @deepstream/server 7.0.2 does on first contact (docs/PROTOCOL.md): on
a path it serves as ws-text it answers 101 and sends C|A at once; on any
other path it closes the TCP connection without an HTTP answer; its binary
endpoint (the default configuration's only one, /deepstream) answers 101
and then waits, silent, for a binary-protocol client.
"""
import binascii
import hashlib

from . import _unload
from .compat import urandom
from .ws import WebSocketError

_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
_MAX_HEADERS = 8192  # bytes of HTTP response we are willing to buffer
_SETUP = "this client needs the server's ws-text endpoint, see README 'Server set-up'"


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
    ws._path = path or "/"  # for the error texts
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
        if ws._hs:
            raise WebSocketError("connection closed in the middle of the upgrade response for " + ws._path)
        raise WebSocketError(
            "the server closed the connection without answering the websocket upgrade of %s: "
            "no websocket endpoint at this path? (deepstream closes it so for every path it does not "
            "serve; in its default configuration it serves only its binary protocol, at /deepstream); "
            "%s" % (ws._path, _SETUP))
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
        raise WebSocketError(
            "the server answered the websocket upgrade of %s with '%s', not 101 Switching Protocols "
            "(a wrong path, or a proxy in the way?); %s" % (ws._path, status, _SETUP))
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


def not_deepstream_text(binary, url, timeout_ms):
    """The connectionError text of Connection.not_deepstream()."""
    if binary:
        return "%s: this endpoint speaks deepstream's binary protocol; %s" % (url, _SETUP)
    return ("%s: no deepstream message within %d ms of the websocket upgrade (option handshake_timeout). "
            "Likely causes: deepstream's binary endpoint (v4 and later serve it at /deepstream by "
            "default; it waits silently for a binary-protocol client), a server that is not deepstream, "
            "or one too busy to answer; %s" % (url, timeout_ms, _SETUP))


def release():
    """Unload this module: the websocket is open (or the attempt failed)."""
    _unload("ws_handshake")
