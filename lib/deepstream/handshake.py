"""Getting to OPEN, and back after a lost link: the connection handshake
(CHALLENGE, ACCEPT, REDIRECT, REJECT), login (AUTH REQUEST and its answers),
an endpoint that does not speak our protocol (handshake_timeout, the wrong
kind of frame), the `protocol="auto"` choice, and the reconnect back-off.

Protocol differences here are the codec's profile: who speaks first
(binary: the client sends CHALLENGE; text: the server sends C|A, or C|CH to
be answered with our URL).

Functions of Connection (connection.py), as offline.py's are: loaded while
connecting and unloaded once OPEN (connection._on_open), the way
ws_handshake.py is, so a board on a steady link does not hold this code. A
reconnect, a login() or a stray handshake message loads it again.
"""
from . import _unload
from .compat import const, urandom
from .connection import HANDSHAKE
from .constants import (
    AUTHENTICATING, AWAITING_AUTHENTICATION, AWAITING_CONNECTION, CHALLENGING, CLOSED,
    RECONNECTING,
)

_CONNECTION = const(2)
_AUTH = const(3)
_CONNECTION_ACCEPT = const(4)
_CONNECTION_CHALLENGE = const(5)
_CONNECTION_REJECT = const(6)
_CONNECTION_REDIRECT = const(7)
_CONNECTION_AUTHENTICATION_TIMEOUT = const(100)
_AUTH_REQUEST = const(2)
_AUTH_AUTH_SUCCESSFUL = const(3)
_AUTH_AUTH_UNSUCCESSFUL = const(4)
_AUTH_TOO_MANY_AUTH_ATTEMPTS = const(100)
_AUTH_INVALID_MESSAGE_DATA = const(102)
RECONNECT = "reconnect"
DETECT = "detect"
_DETECT_MS = const(500)  # protocol="auto": a text endpoint says C|A at once; silence after this means binary


def authenticate(conn, params, callback):
    """client.login(): keep the credentials, and send them when it is time."""
    conn._auth_params = params
    conn._auth_callback = callback
    if conn._permanently_closed:
        conn.client._error("this client's connection was closed", "IS_CLOSED", "X")
        return
    if conn._deliberate_close and conn.state == CLOSED:
        conn._deliberate_close = False
        conn._open_request = conn.original_url
        conn._wake()
        return
    if conn.state == AWAITING_AUTHENTICATION:
        send_auth(conn)


def send_auth(conn):
    auth = conn._auth_params
    if callable(auth):  # fresh credentials from a function before every login
        from . import credentials
        auth = credentials.get(conn)  # (`get`: a name interned anyway, docs/MEMORY.md)
        _unload("credentials")
        if auth is None:
            return  # not now: get() left this link, the next one asks again
    # the login travels alone: before it is answered, 7.0.2 reads only the first
    # message of a frame. Auth data is the JSON of a dict (never typed, never empty)
    conn.send_direct(conn.codec.encode(_AUTH, _AUTH_REQUEST, data=auth))
    conn._set_state(AUTHENTICATING)


def opened(conn):
    """The websocket is up and the client speaks first: a binary endpoint
    waits for our CHALLENGE. With protocol="auto" it waits briefly first:
    a text endpoint would have said C|A."""
    if conn.detecting:
        # a binary endpoint answers only our CHALLENGE: its handshake time starts with that (_silent)
        conn.timers.cancel(HANDSHAKE)
        conn.timers.add(DETECT, _DETECT_MS, _silent, conn)
        return
    challenge(conn)


def challenge(conn):
    conn._set_state(CHALLENGING)
    conn.send_direct(conn.codec.encode(_CONNECTION, _CONNECTION_CHALLENGE, name=conn.original_url))


def _silent(conn):
    """protocol="auto": no C|A from the server: this is a binary endpoint."""
    if conn.state == AWAITING_CONNECTION and conn._socket_open:
        from . import binary_codec
        conn.codec = binary_codec
        binary_codec.attach(conn)
        conn.detecting = False
        if conn.options["handshake_timeout"]:
            conn.timers.add(HANDSHAKE, conn.options["handshake_timeout"], timed_out, conn)
        challenge(conn)


def on_connection(conn, m):
    """A connection message other than a ping or a pong."""
    c = conn.client
    action = m.action
    conn.timers.cancel(DETECT)
    conn.detecting = False  # the server spoke first: whatever it said, this endpoint is text
    if action == _CONNECTION_CHALLENGE:
        if conn.state != AWAITING_CONNECTION:  # a challenge comes first or not at all
            c._error("C|CH", "UNSOLICITED_MESSAGE", "C")
            return
        challenge(conn)  # text: C|CHR|<url>
    elif action == _CONNECTION_ACCEPT:
        if conn.state in (AWAITING_CONNECTION, CHALLENGING):
            conn._set_state(AWAITING_AUTHENTICATION)
            if conn._auth_params is not None:
                send_auth(conn)
    elif action == _CONNECTION_REDIRECT:
        if m.url is None:
            c._error(m.bad or "redirect without a url", "MESSAGE_PARSE_ERROR", "C")
            return
        conn.url = m.url
        conn._redirecting = True
        conn._close_socket()
    elif action == _CONNECTION_REJECT:
        conn._permanently_closed = True
        conn._close_socket()
        conn._set_state(CLOSED)
    elif action >= 100 or action == 1:  # errors: C|E|CODE|text, CONNECTION 100/101
        if action == _CONNECTION_AUTHENTICATION_TIMEOUT:
            conn._permanently_closed = True
            conn._close_socket()
        c._error(m.text or "", m.error_name(), "C")
    else:
        c._error(m.code or str(action), "UNSOLICITED_MESSAGE", "C")


def _answer_text(m):
    """An unexpected login answer as the error text: its first fields (A|A, A|E|CODE)."""
    if m.raw is not None:
        return "|".join(m.raw.split("\x1f")[:3])
    return m.describe()


def on_auth(conn, m):
    """An AUTH message. An answer is expected while our login is out; after
    login() also before the connection handshake has completed (the
    reference client takes it then too), and a refusal right after a
    refusal (7.0.2 follows the last AUTH_UNSUCCESSFUL with
    TOO_MANY_AUTH_ATTEMPTS). A login that succeeded returns (client data,):
    the caller goes OPEN."""
    state = conn.state
    action = m.action
    success = action == _AUTH_AUTH_SUCCESSFUL
    if not success and action < 100 and action != _AUTH_AUTH_UNSUCCESSFUL and action != 1:
        conn.client._error(m.code or str(action), "UNSOLICITED_MESSAGE", "A")
        return None
    expected = state == AUTHENTICATING or conn._auth_params is not None and (
        state in (AWAITING_CONNECTION, CHALLENGING) or (not success and state == AWAITING_AUTHENTICATION))
    if not expected:
        # an answer to no login of ours must not take an OPEN link down
        conn.client._error(_answer_text(m), "UNSOLICITED_MESSAGE", "A")
        return None
    value = m.data
    if m.bad is not None:
        conn.client._error(m.bad, "MESSAGE_PARSE_ERROR", "X")
        value = None
    elif value is not None and not isinstance(value, (dict, list, str, int, float, bool)):
        value = None  # UNDEFINED: no data
    if success:
        return (value,)
    if action == _AUTH_TOO_MANY_AUTH_ATTEMPTS:
        conn._permanently_closed = True
    elif action == _AUTH_INVALID_MESSAGE_DATA:
        conn._deliberate_close = True  # stays closed; a later login() reopens
        value = "invalid authentication message"
    else:
        conn._set_state(AWAITING_AUTHENTICATION)
        if conn._was_reconnecting:
            # a refused login on a link the client re-established (a re-login) is an
            # error event too (the JS client 7's name); no attribute of its own (heap)
            conn.client._error(str(value) if value is not None else m.code or "INVALID_AUTH_DATA",
                               "reauthenticationFailure", "A")
    cb = conn._auth_callback
    if cb is not None:
        conn.client._call("A", cb, False, value)
    return None


def timed_out(conn):
    """The handshake timer: no connection message within handshake_timeout."""
    not_deepstream(conn, None)


def not_deepstream(conn, frame):
    """This endpoint does not speak the protocol in use: the driver saw a
    frame of the other kind (frame "text" or "binary"), or the handshake
    timer found no answer within handshake_timeout (frame None). The
    attempt fails with a connectionError that names the likely causes and
    the option that fixes it; reconnects follow as for a lost link (a failed
    handshake counts as a failed attempt)."""
    if conn._socket_open and not conn.want_close:  # else this socket is being closed already
        if frame is None:
            kind = "silent-binary" if conn.codec.CLIENT_CHALLENGES else "silent"
        else:
            kind = frame  # "text": a text frame on a binary link; "binary": the reverse
        try:
            from .first_contact import explain
            text = explain(kind, conn.url, conn.options["handshake_timeout"])
        except MemoryError:  # no heap to load the explanation: the short of it
            text = "no deepstream message from this endpoint (out of memory for more)"
        conn.socket_error(text)
        conn._close_socket()  # socket_closed() cancels the handshake timer


def try_reconnect(conn):
    """The link is gone (and not on purpose): schedule the next attempt, or give up."""
    if conn.state == CHALLENGING and conn.codec.CLIENT_CHALLENGES:
        # closed in answer to our binary CHALLENGE: a text endpoint does that
        from .first_contact import explain
        conn.client._error(explain("closed-challenge", conn.url), "connectionError", "C")
    opts = conn.options
    # issue 21: a link left unauthenticated after "not now"s from a credentials function
    # (credentials.py): the n-th in a row waits like the n-th attempt, and counts as none
    waits = 0
    if conn.state == AWAITING_AUTHENTICATION and callable(conn._auth_params):
        waits = getattr(conn, "_auth_waits", 0)  # made by credentials.py only: no heap for a dict
    if waits or conn._reconnect_attempt < opts["max_reconnect_attempts"]:
        conn._set_state(RECONNECTING)
        conn._was_reconnecting = True
        delay = min(opts["max_reconnect_interval"],
                    opts["reconnect_interval_increment"] * (waits or conn._reconnect_attempt))
        # jitter, so a fleet of boards does not reconnect in lockstep
        delay += delay * opts["reconnect_jitter"] * urandom(1)[0] // 25500
        if not waits:
            conn._reconnect_attempt += 1
        conn.timers.add(RECONNECT, delay, _reconnect, conn)
    else:
        attempts = conn._reconnect_attempt
        conn._deliberate_close = True
        conn._set_state(CLOSED)
        conn.client._error("gave up after %d reconnection attempts" % attempts,
                           "MAX_RECONNECTION_ATTEMPTS_REACHED", "C")


def _reconnect(conn):
    urls = conn._urls
    if urls is not None:  # a cluster: each attempt goes to the next node
        urls.append(urls.pop(0))
        conn.original_url = urls[0]
    conn.url = conn.original_url  # a redirect target is forgotten
    conn._open_request = conn.url
    conn._wake()
