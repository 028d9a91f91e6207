"""Events: publish/subscribe, and listening for subscriptions (active providers)."""
from .compat import ordered_dict
from .constants import PART_SEPARATOR as PS
from .message import UNDEFINED, build, check_name, typed, value_at

T = "E"


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
            self._send_subscription("S", name)
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
        self._send_subscription("US", name)

    def emit(self, name, data=UNDEFINED):
        check_name(name, "event name")
        payload = typed(data)  # refuse what cannot be sent before sending anything
        # E|EVT|name|payload: one format is the quickest way to the message (tools/bench.py)
        self._client._conn.send("E\x1fEVT\x1f%s\x1f%s\x1e" % (name, payload))
        self._notify(name, None if data is UNDEFINED else data)

    def listen(self, pattern, callback):
        self._listening().listen(pattern, callback)

    def unlisten(self, pattern):
        self._listening().unlisten(pattern)

    def _listening(self):
        if self._listeners is None:
            from .listener import Listeners
            self._listeners = Listeners(self._client, T)
        return self._listeners

    # ---- internals ------------------------------------------------------

    def _send_subscription(self, action, name):
        c = self._client
        c._conn.send(build(T, action, name))
        c._acks.add(T, action, name, c.options["subscription_timeout"])

    def _notify(self, name, value):
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

    def _receive(self, frame, i, end):
        """E|EVT|name|data read in place: frame[i:end] is "name|data"; only the
        name and the value are sliced out. Bad data raises ParseError (the
        caller, Connection.receive_text, reports it)."""
        j = frame.find(PS, i, end)
        if j < 0:
            j = end
        if j == i:
            self._client._error("event message without a name", "MESSAGE_PARSE_ERROR", T)
            return
        end = value_at(frame, j + 1, end)  # now the value: no new local (test_frames.py)
        # an event for a name we no longer hold is a normal race: drop it
        self._notify(frame[i:j], end)

    def handle(self, action, data, raw):
        c = self._client
        if action == "EVT":  # without the separator after EVT: no name (_receive() reads the rest)
            c._error("event message without a name", "MESSAGE_PARSE_ERROR", T)
        elif action == "A":
            if len(data) < 2:
                c._error("ack without a name", "MESSAGE_PARSE_ERROR", T)
                return
            c._acks.clear(T, data[0], data[1])
        elif action in ("SP", "SR"):
            # SR after our unlisten is a normal race; SP for no listener is not
            lst = self._listeners
            if (lst is None or not lst.handle(action, data)) and action == "SP":
                c._error(data[0] if data else "", "UNSOLICITED_MESSAGE", T)
        elif action == "SH":
            pass
        elif action == "E":
            if data and data[0] == "NOT_SUBSCRIBED" and len(data) > 1:
                c._acks.clear(T, "US", data[1])
            c._handle_error(T, data)
        else:
            c._error(data[0] if data else action, "UNSOLICITED_MESSAGE", T)

    def resubscribe(self):
        for name in self._subs:
            self._client._conn.send(build(T, "S", name))
        if self._listeners is not None:
            self._listeners.resubscribe()
