"""The names of the error actions (numbers >= 100 in the message model).

Errors reach the user as events named after the text protocol's codes
(`MESSAGE_DENIED`, `VERSION_EXISTS`, ...) on both protocols. The binary
protocol sends only the numbers; the text protocol only the names. This
table turns one into the other. Loaded on the first error message: a
board that never gets one never holds it.
"""

# index: topic number; entry: the names of actions 100, 101, ... of that topic
_ERRORS = (
    None,
    None,
    ("CONNECTION_AUTHENTICATION_TIMEOUT", "INVALID_MESSAGE"),
    ("TOO_MANY_AUTH_ATTEMPTS", "INVALID_MESSAGE", "INVALID_MESSAGE_DATA"),
    ("INVALID_LISTEN_REGEX", "LISTEN_RESPONSE_TIMEOUT", "LISTEN_UNSUCCESSFUL", "MESSAGE_PERMISSION_ERROR",
     "MESSAGE_DENIED", "INVALID_MESSAGE_DATA", "MULTIPLE_SUBSCRIPTIONS", "NOT_SUBSCRIBED"),
    ("CACHE_RETRIEVAL_TIMEOUT", "STORAGE_RETRIEVAL_TIMEOUT", "VERSION_EXISTS", "RECORD_LOAD_ERROR",
     "RECORD_CREATE_ERROR", "RECORD_UPDATE_ERROR", "RECORD_DELETE_ERROR", "RECORD_NOT_FOUND",
     "INVALID_VERSION", "INVALID_PATCH_ON_HOTPATH", "INVALID_LISTEN_REGEX", "LISTEN_RESPONSE_TIMEOUT",
     "LISTEN_UNSUCCESSFUL", "RECORD_NOTIFY_ERROR", "MESSAGE_PERMISSION_ERROR", "MESSAGE_DENIED",
     "INVALID_MESSAGE_DATA", "MULTIPLE_SUBSCRIPTIONS", "NOT_SUBSCRIBED"),
    ("NO_RPC_PROVIDER", "ACCEPT_TIMEOUT", "MULTIPLE_ACCEPT", "INVALID_RPC_CORRELATION_ID", "RESPONSE_TIMEOUT",
     "MULTIPLE_RESPONSE", "MESSAGE_PERMISSION_ERROR", "MESSAGE_DENIED", "INVALID_MESSAGE_DATA",
     "MULTIPLE_PROVIDERS", "NOT_PROVIDED"),
    ("INVALID_PRESENCE_USERS", "MESSAGE_PERMISSION_ERROR", "MESSAGE_DENIED", "MULTIPLE_SUBSCRIPTIONS",
     "NOT_SUBSCRIBED"),
)
# the parser topic's actions are all errors, from 0
_PARSER = ("UNKNOWN", "UNKNOWN_TOPIC", "UNKNOWN_ACTION", "INVALID_MESSAGE", "MESSAGE_PARSE_ERROR",
           "MAXIMUM_MESSAGE_SIZE_EXCEEDED", "ERROR", "INVALID_META_PARAMS")


def name(topic, action):
    """The error name of (topic, action); "ERROR" for one this table does not know."""
    if topic == 1:
        return _PARSER[action] if 0 <= action < len(_PARSER) else "ERROR"
    names = _ERRORS[topic] if 0 <= topic < len(_ERRORS) else None
    if names is not None and 100 <= action < 100 + len(names):
        return names[action - 100]
    return "ERROR"


def number(topic, code):
    """The action number of error `code` on `topic` (the text protocol's
    names), or 1 (the topic's generic ERROR) for a name not in the table."""
    names = _ERRORS[topic] if 0 <= topic < len(_ERRORS) else None
    if names is not None:
        for i in range(len(names)):
            if names[i] == code:
                return 100 + i
    return 1
