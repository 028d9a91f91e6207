"""protocol="auto": which protocol this endpoint speaks. A text endpoint
says C|A at once; a binary one waits for our CHALLENGE, so silence for
500 ms (handshake.opened's timer) means binary. Each link is asked.

Loaded only for an "auto" client while a link is asked, and unloaded by the
endpoint's first connection message (handshake.on_connection), so that
handshake.py, which every client loads while connecting, stays free of it.
Until a link has told, the client encodes by the URL's guess; if the
endpoint speaks the other protocol, what waits is re-encoded (convert.py,
loaded only then)."""
from .connection import HANDSHAKE
from .constants import AWAITING_CONNECTION


def silent(conn):
    """No C|A from the server: this is a binary endpoint."""
    if conn.state == AWAITING_CONNECTION and conn._socket_open:
        from . import binary_codec
        if _use(conn, binary_codec):
            from .handshake import challenge, timed_out
            conn.detecting = False
            if conn.options["handshake_timeout"]:
                conn.timers.add(HANDSHAKE, conn.options["handshake_timeout"], timed_out, conn)
            challenge(conn)


def use_text(conn):
    """A text frame on a binary link before the endpoint told: it is a text
    endpoint's first word (True: the frame is the text codec's)."""
    from . import text_codec
    return _use(conn, text_codec)


def _use(conn, codec):
    """The endpoint speaks codec's protocol. False when the heap had no room
    to switch to it: the link is dropped (a timer callback must not raise),
    and the next one asks again."""
    if conn.codec.NAME != codec.NAME:
        try:
            from .convert import switch
            switch(conn, codec)  # (it unloads itself, and the old codec)
        except MemoryError:
            conn.socket_error("out of memory switching to the %s protocol" % codec.NAME)
            conn._close_socket()
            return False
    return True
