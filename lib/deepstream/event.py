"""Events: publish/subscribe, and listening for subscriptions (active providers).

Protocol-free: messages of the model go out through the connection, whose
codec writes them (text: `E|S|name`, one name per message; binary: the
names of one tick in one SUBSCRIBE). Incoming events are read in place by
the codec, which calls _notify(name, value).
"""
from .compat import const, ordered_dict
from .message import UNDEFINED, check_name

T = "E"
_EVENT = const(4)
_EVENT_ERROR = const(1)
_EVENT_EMIT = const(2)
_EVENT_SUBSCRIBE = const(3)
_EVENT_UNSUBSCRIBE = const(4)
_EVENT_SUBSCRIPTION_FOR_PATTERN_FOUND = const(11)
_EVENT_SUBSCRIPTION_FOR_PATTERN_REMOVED = const(12)
_EVENT_NOT_SUBSCRIBED = const(107)


class EventHandler:
    def __init__(self, client):
        self._client = client
        self._subs = ordered_dict()  # name -> list of callbacks, in subscription order
        self._listeners = None  # listener.Listeners, made by the first listen()

    # ---- API ------------------------------------------------------------

    def subscribe(self, name, callback):
        check_name(name, "event name")
        if not callable(callback):
            raise TypeError("event callback must be callable")
        cbs = self._subs.get(name)
        if cbs is None:
            self._subs[name] = [callback]
            self._send_subscription(_EVENT_SUBSCRIBE, name)
        else:
            cbs.append(callback)

    def unsubscribe(self, name, callback=None):
        check_name(name, "event name")
        cbs = self._subs.get(name)
        if cbs is None:
            self._client._error(name, "NOT_SUBSCRIBED", T)
            return
        if callback is not None:
            try:
                cbs.remove(callback)
            except ValueError:
                pass
            if cbs:
                return
        del self._subs[name]
        self._send_subscription(_EVENT_UNSUBSCRIBE, name)

    def emit(self, name, data=UNDEFINED):
        check_name(name, "event name")
        conn = self._client._conn
        conn.codec.emit(conn, name, data)  # data the codec cannot carry raises before anything is sent
        self._notify(name, None if data is UNDEFINED else data)

    def listen(self, pattern, callback):
        self._listening().listen(pattern, callback)

    def unlisten(self, pattern):
        self._listening().unlisten(pattern)

    def _listening(self):
        if self._listeners is None:
            from .listener import Listeners
            self._listeners = Listeners(self._client, _EVENT)
        return self._listeners

    # ---- internals ------------------------------------------------------

    def _send_subscription(self, action, name):
        c = self._client
        c._conn.codec.bulk(c._conn, _EVENT, action, name)
        c._acks.add(_EVENT, action, name, c.options["subscription_timeout"])

    def _notify(self, name, value):
        """An event arrived (value: None for none): the codec calls this."""
        cbs = self._subs.get(name)
        if cbs:
            if len(cbs) == 1:
                self._client._call(T, cbs[0], value)
            else:
                self._notify_all(name, value)

    def _notify_all(self, name, value):
        c = self._client
        for cb in tuple(self._subs[name]):  # a callback may unsubscribe itself
            c._call(T, cb, value)

    def handle(self, m):
        """A message of the model that is not an event read in place."""
        c = self._client
        action = m.action
        if m.is_ack:
            c._acks.clear_names(_EVENT, action, m)
        elif action == _EVENT_EMIT:  # an event the codec could not read in place
            if not m.name:
                c._error("event message without a name", "MESSAGE_PARSE_ERROR", T)
            elif m.bad is not None:
                c._error(m.bad, "MESSAGE_PARSE_ERROR", T)
            else:
                self._notify(m.name, None if m.data is UNDEFINED else m.data)
        elif action == _EVENT_SUBSCRIPTION_FOR_PATTERN_FOUND or action == _EVENT_SUBSCRIPTION_FOR_PATTERN_REMOVED:
            # REMOVED after our unlisten is a normal race; FOUND for no listener is not
            lst = self._listeners
            if (lst is None or not lst.handle(m)) and action == _EVENT_SUBSCRIPTION_FOR_PATTERN_FOUND:
                c._error(m.name or "", "UNSOLICITED_MESSAGE", T)
        elif action == 9 or action == 10:
            pass  # has-provider notices: the server sends them to record subscribers only
        elif action >= 100 or action == _EVENT_ERROR:
            if action == _EVENT_NOT_SUBSCRIBED and m.name:
                c._acks.clear(_EVENT, _EVENT_UNSUBSCRIBE, m.name)
            c._report(m)
        else:
            c._error(m.name or m.code or str(action), "UNSOLICITED_MESSAGE", T)

    def resubscribe(self):
        conn = self._client._conn
        for name in self._subs:
            conn.codec.bulk(conn, _EVENT, _EVENT_SUBSCRIBE, name)
        if self._listeners is not None:
            self._listeners.resubscribe()
