"""Active providers ("listening"), shared by events and records.

The server tells a listener that someone subscribed to a name matching its
pattern (SUBSCRIPTION_FOR_PATTERN_FOUND) or that the last subscriber left
(..._REMOVED). The listener answers a match with accept (LISTEN_ACCEPT) or
reject (LISTEN_REJECT) - promptly: the server waits 500 ms only.

The actions are the same for both topics, 22 apart (EVENT LISTEN is 5,
RECORD LISTEN 27): `_base`.

Loaded on the first listen() of a topic: a board that does not provide
data never loads it.
"""
from .compat import const, ordered_dict
from .message import TOPIC_LETTERS, check_name

_EVENT = const(4)
_EVENT_LISTEN = const(5)
_EVENT_UNLISTEN = const(6)
_EVENT_LISTEN_ACCEPT = const(7)
_EVENT_LISTEN_REJECT = const(8)
_EVENT_SUBSCRIPTION_FOR_PATTERN_FOUND = const(11)
_RECORD_LISTEN = const(27)


class ListenResponse:
    __slots__ = ("_listeners", "_pattern", "_name", "_answered")

    def __init__(self, listeners, pattern, name):
        self._listeners = listeners
        self._pattern = pattern
        self._name = name
        self._answered = False

    def accept(self):
        self._answer(_EVENT_LISTEN_ACCEPT)

    def reject(self):
        self._answer(_EVENT_LISTEN_REJECT)

    def _answer(self, action):
        if self._answered:
            raise RuntimeError("listen for '%s' already answered" % self._name)
        self._answered = True
        lst = self._listeners
        lst.client._conn.send(lst.topic, action + lst._base, name=self._pattern, sub=self._name)


class Listeners:
    """The listen/unlisten bookkeeping of one topic."""

    def __init__(self, client, topic):
        self.client = client
        self.topic = topic
        self.letter = TOPIC_LETTERS[topic]
        self._base = 0 if topic == _EVENT else _RECORD_LISTEN - _EVENT_LISTEN
        self._by_pattern = ordered_dict()  # pattern -> callback(name, is_subscribed, response)

    def listen(self, pattern, callback):
        check_name(pattern, "pattern")
        if not callable(callback):
            raise TypeError("listen callback must be callable")
        if pattern in self._by_pattern:
            self.client._error(pattern, "LISTENER_EXISTS", self.letter)
            return
        self._by_pattern[pattern] = callback
        self._send_listen(pattern)

    def unlisten(self, pattern):
        if self._by_pattern.pop(pattern, None) is None:
            self.client._error(pattern, "NOT_LISTENING", self.letter)
            return
        self.client._conn.send(self.topic, _EVENT_UNLISTEN + self._base, name=pattern)

    def handle(self, m):
        """A match found or removed (m.name: the pattern, m.subscription: the
        name). Returns False if no listener holds the pattern."""
        callback = self._by_pattern.get(m.name) if m.name else None
        if callback is None:
            return False
        name = m.subscription
        if not name:
            self.client._error("listen message without a name", "MESSAGE_PARSE_ERROR", self.letter)
        elif m.action - self._base == _EVENT_SUBSCRIPTION_FOR_PATTERN_FOUND:
            self.client._call(self.letter, callback, name, True, ListenResponse(self, m.name, name))
        else:
            self.client._call(self.letter, callback, name, False, None)
        return True

    def resubscribe(self):
        for pattern in self._by_pattern:
            self._send_listen(pattern)

    def _send_listen(self, pattern):
        c = self.client
        action = _EVENT_LISTEN + self._base
        c._conn.send(self.topic, action, name=pattern)
        c._acks.add(self.topic, action, pattern, c.options["subscription_timeout"])
