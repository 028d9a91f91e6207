"""Active providers ("listening"), shared by events and records.

The server tells a listener that someone subscribed to a name matching its
pattern (SP) or that the last subscriber left (SR). The listener answers SP
with accept (LA) or reject (LR) - promptly: the server waits 500 ms only.

Loaded on the first listen() of a topic: a board that does not provide
data never loads it.
"""
from .compat import ordered_dict
from .message import build, check_name


class ListenResponse:
    __slots__ = ("_listeners", "_pattern", "_name", "_answered")

    def __init__(self, listeners, pattern, name):
        self._listeners = listeners
        self._pattern = pattern
        self._name = name
        self._answered = False

    def accept(self):
        self._answer("LA")

    def reject(self):
        self._answer("LR")

    def _answer(self, action):
        if self._answered:
            raise RuntimeError("listen for '%s' already answered" % self._name)
        self._answered = True
        lst = self._listeners
        lst.client._conn.send(build(lst.topic, action, self._pattern, self._name))


class Listeners:
    """The listen/unlisten bookkeeping of one topic."""

    def __init__(self, client, topic):
        self.client = client
        self.topic = topic
        self._by_pattern = ordered_dict()  # pattern -> callback(name, is_subscribed, response)

    def listen(self, pattern, callback):
        check_name(pattern, "pattern")
        if not callable(callback):
            raise TypeError("listen callback must be callable")
        if pattern in self._by_pattern:
            self.client._error(pattern, "LISTENER_EXISTS", self.topic)
            return
        self._by_pattern[pattern] = callback
        self._send_listen(pattern)

    def unlisten(self, pattern):
        if self._by_pattern.pop(pattern, None) is None:
            self.client._error(pattern, "NOT_LISTENING", self.topic)
            return
        self.client._conn.send(build(self.topic, "UL", pattern))

    def handle(self, action, data):
        """SP/SR|pattern|name. Returns False if no listener holds the pattern."""
        callback = self._by_pattern.get(data[0]) if data else None
        if callback is None:
            return False
        name = data[1] if len(data) > 1 else ""
        if not name:
            self.client._error("listen message without a name", "MESSAGE_PARSE_ERROR", self.topic)
        elif action == "SP":
            self.client._call(self.topic, callback, name, True, ListenResponse(self, data[0], name))
        else:
            self.client._call(self.topic, callback, name, False, None)
        return True

    def resubscribe(self):
        for pattern in self._by_pattern:
            self._send_listen(pattern)

    def _send_listen(self, pattern):
        c = self.client
        c._conn.send(build(self.topic, "L", pattern))
        c._acks.add(self.topic, "L", pattern, c.options["subscription_timeout"])
