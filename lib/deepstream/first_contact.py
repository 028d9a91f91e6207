"""Why a first contact failed: the texts of the connectionError events for a
server that is not (or not yet) the deepstream endpoint the client expects.

What @deepstream/server 7.0.2 does (docs/PROTOCOL.md): on a path it serves as
ws-text it answers 101 and sends C|A at once; on any other path it closes the
TCP connection without an HTTP answer; its binary endpoint (the shipped
configuration's only one, /deepstream) answers 101 and then waits, silent,
for a binary-protocol client's CHALLENGE, and closes the socket on a text
frame.

Also the text of an attempt that failed below the websocket (refused, reset,
DNS, TLS: connect_error_text). Loaded only when a first contact fails, by the
drivers, ws_handshake.py and handshake.not_deepstream(), and unloaded by
explain() and connect_error_text() themselves: none of it is resident while
things work (docs/MEMORY.md).
"""
from . import _unload

try:
    from errno import ECONNREFUSED, ECONNRESET
except ImportError:
    ECONNREFUSED, ECONNRESET = 111, 104

_TEXT_SETUP = "the text protocol needs the server's ws-text endpoint, see README 'Server set-up'"


def explain(kind, where, detail=None):
    """The text for `kind`: "closed" (no answer to the upgrade of path `where`),
    "partial" (closed in the middle of the answer), "status" (status line
    `detail` instead of 101), and for url `where`: "binary" (a binary frame
    on a text link), "text" (a text frame on a binary link), "silent" (no
    text-protocol message within `detail` ms), "silent-binary" (no answer
    to our binary CHALLENGE within `detail` ms), "closed-challenge" (the
    socket closed in answer to our CHALLENGE)."""
    _unload("first_contact")
    if kind == "closed":
        return ("the server closed the connection without answering the websocket upgrade of %s: "
                "no websocket endpoint at this path? (deepstream closes it so for every path it does not "
                "serve; its default configuration serves the binary protocol at /deepstream, and the text "
                "protocol nowhere: %s)" % (where, _TEXT_SETUP))
    if kind == "partial":
        return "connection closed in the middle of the upgrade response for " + where
    if kind == "status":
        return ("the server answered the websocket upgrade of %s with '%s', not 101 Switching Protocols "
                "(a wrong path, or a proxy in the way? %s)" % (where, detail, _TEXT_SETUP))
    if kind == "binary":
        return ("%s: this endpoint speaks deepstream's binary protocol (a binary frame arrived): use "
                "protocol='binary' (the default for any path but /deepstream-v3)" % where)
    if kind == "text" or kind == "closed-challenge":
        return ("%s: this endpoint speaks deepstream's text protocol (%s): use protocol='text', or the "
                "path /deepstream-v3, which chooses it" % (where, "a text frame arrived" if kind == "text" else
                                                           "it closed the connection in answer to our binary "
                                                           "CHALLENGE"))
    if kind == "silent-binary":
        return ("%s: no answer to our binary-protocol CHALLENGE within %d ms (option handshake_timeout): "
                "not a deepstream binary endpoint, or a server too busy to answer" % (where, detail))
    return ("%s: no deepstream message within %d ms of the websocket upgrade (option handshake_timeout). "
            "Likely causes: deepstream's binary endpoint (v4 and later serve it at /deepstream by "
            "default; it waits silently for a binary-protocol client: use protocol='binary'), a server "
            "that is not deepstream, or one too busy to answer; %s" % (where, detail, _TEXT_SETUP))


def connect_error_text(url, err):
    """The connectionError text for a connection attempt that failed.

    Refused or reset (nobody listens there): the reference client's text,
    which the conformance suite checks word for word. Anything else (DNS,
    TLS, a timeout, an upgrade the server refused) keeps its own text.
    """
    _unload("first_contact")
    text = str(err) or type(err).__name__
    if isinstance(err, OSError) and (err.errno in (ECONNREFUSED, ECONNRESET) or (
            # CPython's asyncio, one refusal per address of a dual-stack name, and no errno
            text.startswith("Multiple exceptions: ")
            and text.count("[Errno ") == text.count("[Errno %d]" % ECONNREFUSED))):
        return "Can't connect! Deepstream server unreachable on " + url
    return "cannot connect to %s: %s" % (url, text)
