"""Active providers ("listening"), shared by events and records.

The server tells a listener that someone subscribed to a name matching its
pattern (SP) or that the last subscriber left (SR). The listener answers SP
with accept (LA) or reject (LR) - promptly: the server waits 500 ms only.
"""
from .message import build, check_name


class ListenResponse:
    __slots__ = ("_listener", "_name", "_answered")

    def __init__(self, listener, name):
        self._listener = listener
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
        lst = self._listener
        lst.client._conn.send(build(lst.topic, action, lst.pattern, self._name))


class Listener:
    __slots__ = ("client", "topic", "pattern", "callback")

    def __init__(self, client, topic, pattern, callback):
        self.client = client
        self.topic = topic
        self.pattern = pattern
        self.callback = callback

    def send_listen(self):
        self.client._conn.send(build(self.topic, "L", self.pattern))
        self.client._acks.add(self.topic, "L", self.pattern, self.client.options["subscription_timeout"])

    def handle(self, action, data):
        name = data[1] if len(data) > 1 else ""
        if not name:
            self.client._error("listen message without a name", "MESSAGE_PARSE_ERROR", self.topic)
        elif action == "SP":
            self.callback(name, True, ListenResponse(self, name))
        elif action == "SR":
            self.callback(name, False, None)
        else:
            self.client._error(data[0] + "|" + name, "UNSOLICITED_MESSAGE", self.topic)


class Listeners:
    """The listen/unlisten bookkeeping of one topic."""

    def __init__(self, client, topic):
        self.client = client
        self.topic = topic
        self._by_pattern = {}

    def listen(self, pattern, callback):
        check_name(pattern, "pattern")
        if not callable(callback):
            raise TypeError("listen callback must be callable")
        if pattern in self._by_pattern:
            self.client._error(pattern, "LISTENER_EXISTS", self.topic)
            return
        lst = Listener(self.client, self.topic, pattern, callback)
        self._by_pattern[pattern] = lst
        lst.send_listen()

    def unlisten(self, pattern):
        if self._by_pattern.pop(pattern, None) is None:
            self.client._error(pattern, "NOT_LISTENING", self.topic)
            return
        self.client._conn.send(build(self.topic, "UL", pattern))

    def handle(self, action, data):
        """SP/SR for a pattern. Returns False if no listener holds it."""
        lst = self._by_pattern.get(data[0]) if data else None
        if lst is None:
            return False
        lst.handle(action, data)
        return True

    def resubscribe(self):
        for lst in self._by_pattern.values():
            lst.send_listen()
