"""Fresh credentials for every login: `client.login(fn, cb)` with
a function instead of a dict. A device lives for months, a token for an hour:
fn() is called before each login (the first one, and every re-login after a
reconnect, a failover or a redirect) and returns the auth dict to send.

It may return None: "not now" (say, the token server is unreachable). The
client then leaves this link (a server drops a link that stays
unauthenticated, 7.0.2 after unauthenticatedClientTimeout, and then refuses
the client for good) and asks again after the next reconnect interval: the
n-th "not now" in a row waits min(max_reconnect_interval,
reconnect_interval_increment * n), plus the jitter (handshake.try_reconnect).
Such a wait is not a failed attempt: max_reconnect_attempts never ends it.
A function that raises is a CALLBACK_ERROR and counts as "not now"; one
that returns neither a dict nor None is an INVALID_AUTH_MSG, likewise.

This module only decides what the login carries; the caller encodes and
sends it (handshake.send_auth), whatever the protocol. Loaded only for a
function, and unloaded again after each use.
"""

def get(conn):
    """The auth dict for the login about to be sent, or None: not now (this
    link is left; the next attempt asks again)."""
    source = conn._auth_params
    got = []
    failed = conn.client._call("A", lambda: got.append(source()))
    auth = got[0] if got else None
    waits = getattr(conn, "_auth_waits", 0)  # "not now"s in a row (handshake.try_reconnect waits by it)
    if isinstance(auth, dict):
        if waits:
            conn._auth_waits = 0
        return auth
    if failed is None and auth is not None:
        conn.client._error("authParams is not an object", "INVALID_AUTH_MSG", "X")
    conn._auth_waits = waits + 1
    conn.link_dead = True  # nothing was said on this link: no close handshake to wait for
    conn._close_socket()
    return None
