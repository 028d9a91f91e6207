"""Getting to OPEN, and back after a lost link: the connection handshake
(C|CH, C|A, C|RED, C|REJ, C|E), login (A|REQ, A|A, A|E), a server that never
speaks deepstream (handshake_timeout), and the reconnect back-off.

Functions of Connection (connection.py), as offline.py's are: loaded while
connecting and unloaded once OPEN (connection._on_open), the way
ws_handshake.py is, so a board on a steady link does not hold this code. A
reconnect, a login() or a stray handshake message loads it again.
"""
from .compat import json_dumps, urandom
from .constants import (
    AUTHENTICATING, AWAITING_AUTHENTICATION, AWAITING_CONNECTION, CHALLENGING, CLOSED,
    RECONNECTING, T_AUTH, T_CONNECTION,
)
from .message import UNDEFINED, ParseError, build, parse_typed

RECONNECT = "reconnect"


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
    # A|REQ must travel alone: before A|A, 7.0.2 reads only the first
    # message of a frame. Auth data is raw JSON, never typed.
    conn._send_direct(build("A", "REQ", json_dumps(conn._auth_params)))
    conn._set_state(AUTHENTICATING)


def on_connection(conn, action, data):
    """A C message other than C|PI and C|PO."""
    c = conn.client
    if action == "CH":
        if conn.state != AWAITING_CONNECTION:  # a challenge comes first or not at all
            c._error("C|CH", "UNSOLICITED_MESSAGE", T_CONNECTION)
            return
        conn._set_state(CHALLENGING)
        conn._send_direct(build("C", "CHR", conn.original_url))
    elif action == "A":
        if conn.state in (AWAITING_CONNECTION, CHALLENGING):
            conn._set_state(AWAITING_AUTHENTICATION)
            if conn._auth_params is not None:
                send_auth(conn)
    elif action == "RED":
        if not data or not data[0]:
            c._error("redirect without a url", "MESSAGE_PARSE_ERROR", "C")
            return
        conn.url = data[0]
        conn._redirecting = True
        conn._close_socket()
    elif action == "REJ":
        conn._permanently_closed = True
        conn._close_socket()
        conn._set_state(CLOSED)
    elif action == "E":
        code = data[0] if data else ""
        text = data[1] if len(data) > 1 else ""
        if code == "CONNECTION_AUTHENTICATION_TIMEOUT":
            conn._permanently_closed = True
            conn._close_socket()
        c._error(text, code, T_CONNECTION)
    else:
        c._error(action, "UNSOLICITED_MESSAGE", T_CONNECTION)


def on_auth(conn, action, data):
    """An A message. An answer is expected while our A|REQ is out; after
    login() also before the connection handshake has completed (the
    reference client takes it then too), and an A|E right after a refusal
    (7.0.2 follows the last INVALID_AUTH_DATA with TOO_MANY_AUTH_ATTEMPTS).
    A login that succeeded returns (client data,): the caller goes OPEN."""
    state = conn.state
    expected = state == AUTHENTICATING or conn._auth_params is not None and (
        state in (AWAITING_CONNECTION, CHALLENGING) or (action == "E" and state == AWAITING_AUTHENTICATION))
    if action in ("A", "E") and not expected:
        # an answer to no login of ours must not take an OPEN link down
        conn.client._error("A|" + action + (("|" + data[0]) if data else ""), "UNSOLICITED_MESSAGE", T_AUTH)
        return
    if action == "A":
        return (_decode(conn, data[0]) if data else None,)
    if action == "E":
        code = data[0] if data else ""
        value = _decode(conn, data[1]) if len(data) > 1 else None
        if code == "TOO_MANY_AUTH_ATTEMPTS":
            conn._permanently_closed = True
        elif code == "INVALID_AUTH_MSG":
            conn._deliberate_close = True  # stays closed; a later login() reopens
            value = "invalid authentication message"
        else:
            conn._set_state(AWAITING_AUTHENTICATION)
        cb = conn._auth_callback
        if cb is not None:
            conn.client._call(T_AUTH, cb, False, value)
    else:
        conn.client._error(action, "UNSOLICITED_MESSAGE", T_AUTH)
    return None


def _decode(conn, field):
    try:
        value = parse_typed(field)
    except ParseError as err:
        conn.client._error(str(err), "MESSAGE_PARSE_ERROR", "X")
        return None
    return None if value is UNDEFINED else value


def not_deepstream(conn, binary=False):
    """This endpoint does not speak deepstream's text protocol: the driver
    saw a binary frame (binary=True), or the handshake timer found no
    deepstream message within handshake_timeout. The attempt fails with a
    connectionError that names the likely causes; reconnects follow as
    for a lost link (a failed handshake counts as a failed attempt)."""
    if conn._socket_open and not conn.want_close:  # else this socket is being closed already
        try:
            from .first_contact import explain
            text = explain("binary" if binary else "silent", conn.url, conn.options["handshake_timeout"])
        except MemoryError:  # no heap to load the explanation: the short of it
            text = "no deepstream message from this endpoint (out of memory for more)"
        conn.socket_error(text)
        conn._close_socket()  # socket_closed() cancels the handshake timer


def try_reconnect(conn):
    """The link is gone (and not on purpose): schedule the next attempt, or give up."""
    opts = conn.options
    if conn._reconnect_attempt < opts["max_reconnect_attempts"]:
        conn._set_state(RECONNECTING)
        conn._was_reconnecting = True
        delay = min(opts["max_reconnect_interval"],
                    opts["reconnect_interval_increment"] * conn._reconnect_attempt)
        # jitter, so a fleet of boards does not reconnect in lockstep
        delay += delay * opts["reconnect_jitter"] * urandom(1)[0] // 25500
        conn._reconnect_attempt += 1
        conn.timers.add(RECONNECT, delay, _reconnect, conn)
    else:
        attempts = conn._reconnect_attempt
        conn._deliberate_close = True
        conn._set_state(CLOSED)
        conn.client._error("gave up after %d reconnection attempts" % attempts,
                           "MAX_RECONNECTION_ATTEMPTS_REACHED", T_CONNECTION)


def _reconnect(conn):
    urls = conn._urls
    if urls is not None:  # a cluster: each attempt goes to the next node
        urls.append(urls.pop(0))
        conn.original_url = urls[0]
    conn.url = conn.original_url  # a redirect target is forgotten
    conn._open_request = conn.url
    conn._wake()
