"""Deadlines, in one small table keyed by string.

The core never sleeps: it adds deadlines here, the driver asks for the next
one and calls fire() when it has passed. A key names what the timer is for
(an ack key, "heartbeat", "reconnect"), so adding a key again replaces the
old timer and an incoming ack can cancel it by name.
"""
from .compat import ordered_dict, ticks_add, ticks_diff
from .message import TOPIC_LETTERS


class Timers:
    def __init__(self, clock):
        self.clock = clock
        self._table = ordered_dict()  # key -> [deadline, fn, arg]; due ones fire in the order added
        # no deadline in the table is earlier than this (it may be earlier than
        # all of them, after a cancel or a deadline moved later): a poll turn with
        # nothing due costs one comparison, not a walk through the table
        self._next = None

    def add(self, key, delay_ms, fn, arg=None):
        """Returns the entry: its owner may move entry[0] (the deadline) later in place."""
        entry = self._table[key] = [ticks_add(self.clock(), delay_ms), fn, arg]
        if self._next is None or ticks_diff(entry[0], self._next) < 0:
            self._next = entry[0]
        return entry

    def cancel(self, key):
        return self._table.pop(key, None) is not None

    def has(self, key):
        return key in self._table

    def cancel_all(self, keep=None):
        """Cancel every timer, or every one whose key is not in `keep`."""
        if keep is None:
            self._table.clear()
            self._next = None
            return
        for key in [k for k in self._table if k not in keep]:
            del self._table[key]

    def next_deadline(self):
        """The earliest deadline (or one a little before it: waking early is
        harmless, fire() then finds the true one); None with no timers."""
        return self._next if self._table else None

    def fire(self):
        """Call every timer whose deadline has passed (each once)."""
        if self._table and ticks_diff(self.clock(), self._next) >= 0:
            self._expired()

    def _expired(self):
        now = self.clock()
        due = [key for key, entry in self._table.items() if ticks_diff(now, entry[0]) >= 0]
        for key in due:
            entry = self._table.pop(key, None)
            if entry is not None:
                entry[1](entry[2])
        best = None  # the true next deadline, timers the callbacks added included
        for entry in self._table.values():
            if best is None or ticks_diff(entry[0], best) < 0:
                best = entry[0]
        self._next = best


def ack_key(topic, action, name):
    # topic and action numbers as one character each: a short key, apart from
    # the RPC calls' timers (keyed by their correlation ids)
    return chr(topic) + chr(action) + name


class AckTimeouts:
    """The reference client's ack-timeout registry, on top of Timers.

    Entries are created only while the connection is OPEN (as in the
    reference client); leaving OPEN cancels them all.
    """

    def __init__(self, client):
        self.client = client
        self.keys = set()

    def add(self, topic, action, name, timeout, event="ACK_TIMEOUT", callback=None):
        conn = self.client._conn
        if conn.state != "OPEN" or timeout < 1:
            return
        key = ack_key(topic, action, name)
        limit = self.client.options["max_pending_acks"]
        if len(self.keys) >= limit and key not in self.keys:
            # bounded: the request still goes out, only its timeout is not watched
            self.client._error("more than %d acks pending: no timeout for %s" % (limit, name),
                               "TOO_MANY_PENDING", TOPIC_LETTERS[topic])
            return
        self.keys.add(key)
        conn.timers.add(key, timeout, self._expired, (key, topic, action, name, event, callback))

    def clear(self, topic, action, name):
        key = ack_key(topic, action, name)
        self.keys.discard(key)
        return self.client._conn.timers.cancel(key)

    def clear_names(self, topic, action, m):
        """An ack (message m of the model, acking `action`): clear the timer of
        every name it acknowledges (a text ack names one; a binary one is
        matched to its names by correlation id, connection.bulk)."""
        names = m.names
        if names is None:
            if m.cid is None:  # a binary ack of an id we no longer wait for is no error
                self.client._error("ack without a name", "MESSAGE_PARSE_ERROR", TOPIC_LETTERS[topic])
            return
        for name in names:
            self.clear(topic, action, name)

    def cancel_all(self):
        timers = self.client._conn.timers
        for key in self.keys:
            timers.cancel(key)
        self.keys.clear()

    def _expired(self, entry):
        key, topic, action, name, event, callback = entry
        self.keys.discard(key)
        if callback is not None:
            callback(entry)
            return
        msg = "No ACK message received in time for " + name if name else "No ACK message received in time"
        letter = TOPIC_LETTERS[topic]
        self.client._error(msg, event, letter)
        if self.client._conn.state == "AWAITING_AUTHENTICATION":
            self.client._error(
                "Your message timed out because you're not authenticated. Have you called login()?",
                "NOT_AUTHENTICATED", letter)
