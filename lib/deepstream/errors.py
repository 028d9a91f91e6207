"""Names of the error events, for comparing with the `event` an error listener gets:

    from deepstream import errors
    def on_error(message, event, topic):
        if event == errors.CONNECTION_ERROR: ...
    client.on("error", on_error)
    client.on(errors.ACK_TIMEOUT, lambda topic, message: ...)

No library module imports this one: it costs a board nothing unless the
application imports it (plain string literals cost nothing at all). What each
error means: docs/PROTOCOL.md#errors. host_tests/test_stubs.py checks that
every name the library raises is here.
"""

# raised by this client (the reference client's names where it has one)
CONNECTION_ERROR = "connectionError"
REAUTHENTICATION_FAILURE = "reauthenticationFailure"  # a re-login refused (the JS client 7's name)
MESSAGE_PARSE_ERROR = "MESSAGE_PARSE_ERROR"
UNSOLICITED_MESSAGE = "UNSOLICITED_MESSAGE"
ACK_TIMEOUT = "ACK_TIMEOUT"
RESPONSE_TIMEOUT = "RESPONSE_TIMEOUT"
DELETE_TIMEOUT = "DELETE_TIMEOUT"
NOT_AUTHENTICATED = "NOT_AUTHENTICATED"
IS_CLOSED = "IS_CLOSED"
INVALID_AUTH_MSG = "INVALID_AUTH_MSG"
LISTENER_EXISTS = "LISTENER_EXISTS"
NOT_LISTENING = "NOT_LISTENING"
NOT_SUBSCRIBED = "NOT_SUBSCRIBED"
MAX_RECONNECTION_ATTEMPTS_REACHED = "MAX_RECONNECTION_ATTEMPTS_REACHED"
VERSION_EXISTS = "VERSION_EXISTS"
# ours
CALLBACK_ERROR = "CALLBACK_ERROR"
MESSAGE_TOO_LARGE = "MESSAGE_TOO_LARGE"
MESSAGE_DROPPED = "MESSAGE_DROPPED"
OUTBOX_CORRUPT = "OUTBOX_CORRUPT"
INSECURE_CONNECTION = "INSECURE_CONNECTION"
TOO_MANY_PENDING = "TOO_MANY_PENDING"
RECORD_DESTROYED = "RECORD_DESTROYED"
# sent by the server (T|E|CODE|...), passed on as the event name
MESSAGE_DENIED = "MESSAGE_DENIED"
MESSAGE_PERMISSION_ERROR = "MESSAGE_PERMISSION_ERROR"
INVALID_MESSAGE_DATA = "INVALID_MESSAGE_DATA"
RECORD_NOT_FOUND = "RECORD_NOT_FOUND"
NO_RPC_PROVIDER = "NO_RPC_PROVIDER"
ACCEPT_TIMEOUT = "ACCEPT_TIMEOUT"
MULTIPLE_ACCEPT = "MULTIPLE_ACCEPT"
MULTIPLE_RESPONSE = "MULTIPLE_RESPONSE"
INVALID_RPC_CORRELATION_ID = "INVALID_RPC_CORRELATION_ID"
TOO_MANY_AUTH_ATTEMPTS = "TOO_MANY_AUTH_ATTEMPTS"
CONNECTION_AUTHENTICATION_TIMEOUT = "CONNECTION_AUTHENTICATION_TIMEOUT"
# an RPC provider's answer to data 7.0.2 cannot reroute (docs/PROTOCOL.md)
REJECTED = "REJECTED"
