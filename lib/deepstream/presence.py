"""Presence: who is logged in, and notifications when users come and go.

Wire, and what @deepstream/server 7.0.2 answers (observed, docs/PROTOCOL.md):

    U|Q|Q                  everyone: U|Q|alice|bob (one field per user id,
                           the asker excluded); nobody: U|Q (no field) -> []
    U|Q|<n>|["a","b"]      these users: U|Q|<n>|{"a":true,"b":false}
                           (the asker is included here); [] -> {}
    U|S|S / U|US|US        all joins/leaves: acked U|A|S|S / U|A|US|US
    U|S|<n>|["a"]          one user's: acked U|A|S|<n>|undefined (sic)
    U|PNJ|user, U|PNL|user first login / last logout of a user id

`<n>` is one counter starting at 1, shared by queries and bulk
(un)subscriptions, as in the reference client. Per-user (un)subscriptions
made by one piece of user code are sent as one bulk message just before the
next frame goes out (the reference client's next tick).

Callbacks: get_all answers `callback(result)` with a list of names or a dict
name -> online; notifications are `callback(name, online)` for both kinds
of subscription (the reference client swaps them for per-user ones).
Subscribed to everyone and to a user, 7.0.2 sends that user's joins and
leaves twice, so the callbacks run twice (as with the reference client).
Queries still unanswered when the link drops are sent again after the
reconnect (those still in the offline queue go out once, as they are).
"""
from .compat import json_loads, ordered_dict
from .message import build, check_json, check_name

T = "U"
_EMPTY = ()
_Q_ALL = build(T, "Q", "Q")


class PresenceHandler:
    def __init__(self, client):
        self._client = client
        self._counter = 1
        self._everyone = []  # pending U|Q|Q, oldest first: (callback, errback)
        self._queries = ordered_dict()  # id -> (names, callback, errback), oldest first
        self._all = []  # callbacks for everyone's joins/leaves
        self._users = ordered_dict()  # name -> callbacks, in subscription order
        self._pending = ordered_dict()  # name -> "S" / "US", sent in one bulk by _flush
        self._flush_due = False

    # ---- queries ----------------------------------------------------------

    def get_all(self, names=None, callback=None):
        """get_all(callback): callback(list of logged-in users but us);
        get_all(names, callback): callback({name: online})."""
        if callback is None and callable(names):
            names, callback = None, names
        if not callable(callback):
            raise TypeError("presence get_all needs a callback")
        self._query(names, callback, None)

    async def get_all_async(self, names=None):
        """`await client.presence.get_all_async(names=None)`; raises PresenceError."""
        from .awaitable import PresenceError, Waiter
        w = Waiter()
        self._query(names, w.set, lambda text: w.fail(PresenceError("MESSAGE_PARSE_ERROR", text)))
        return await w.wait()

    def _query(self, names, callback, errback):
        conn = self._client._conn
        if names is None:
            self._everyone.append((callback, errback))
            conn.send(_Q_ALL)
            return
        if isinstance(names, str) or not isinstance(names, (list, tuple)):
            raise TypeError("presence names must be a list of strings")
        names = list(names)
        for name in names:
            check_name(name, "user name")
        qid = self._next_id()
        self._queries[qid] = (names, callback, errback)
        conn.send(build(T, "Q", qid, check_json(names)))

    def _next_id(self):
        n = self._counter
        self._counter += 1
        return str(n)

    # ---- subscriptions ------------------------------------------------------

    def subscribe(self, name, callback=None):
        """subscribe(callback) for everyone, subscribe(name, callback) for one
        user: callback(name, online) on each login (True) / logout (False)."""
        if callback is None and callable(name):
            name, callback = None, name
        if not callable(callback):
            raise TypeError("presence callback must be callable")
        if name is None:
            self._all.append(callback)
            if len(self._all) == 1:
                self._send_global("S")
            return
        check_name(name, "user name")
        cbs = self._users.get(name)
        if cbs is None:
            self._users[name] = [callback]
            self._schedule(name, "S")
        else:
            cbs.append(callback)

    def unsubscribe(self, name=None, callback=None):
        """unsubscribe() / unsubscribe(callback): from everyone's;
        unsubscribe(name) / unsubscribe(name, callback): from one user's.
        The server is told when the last callback goes."""
        if callback is None and callable(name):
            name, callback = None, name
        if name is None:
            if not self._all:
                self._client._error("not subscribed to presence", "NOT_SUBSCRIBED", T)
                return
            if callback is None:
                self._all = []
            elif callback in self._all:
                self._all.remove(callback)
            if not self._all:
                self._send_global("US")
            return
        check_name(name, "user name")
        cbs = self._users.get(name)
        if cbs is None:
            self._client._error(name, "NOT_SUBSCRIBED", T)
            return
        if callback is not None:
            if callback in cbs:
                cbs.remove(callback)
            if cbs:
                return
        del self._users[name]
        self._schedule(name, "US")

    def _send_global(self, action):
        c = self._client
        c._conn.send(build(T, action, action))
        c._acks.add(T, action, action, c.options["subscription_timeout"])

    def _schedule(self, name, action):
        self._pending.pop(name, None)  # a name asked for again goes last, as in the reference
        self._pending[name] = action
        if not self._flush_due:
            self._flush_due = True
            self._client._conn.call_soon(self._flush)

    def _flush(self):
        self._flush_due = False
        pending, self._pending = self._pending, ordered_dict()
        for action in ("S", "US"):
            names = [n for n in pending if pending[n] == action]
            if names:
                self._send_bulk(action, names)

    def _send_bulk(self, action, names):
        c = self._client
        bid = self._next_id()
        c._conn.send(build(T, action, bid, check_json(names)))
        c._acks.add(T, action, bid, c.options["subscription_timeout"])

    # ---- incoming -------------------------------------------------------

    def handle(self, action, data, raw):
        c = self._client
        if action in ("PNJ", "PNL"):
            if not data or not data[0]:
                c._error("presence %s without a user name" % action, "MESSAGE_PARSE_ERROR", T)
                return
            self._notify(data[0], action == "PNJ")
        elif action == "Q":
            self._answer(data)
        elif action == "A":
            if len(data) < 2:
                c._error("presence ack without a name", "MESSAGE_PARSE_ERROR", T)
                return
            c._acks.clear(T, data[0], data[1])
        elif action == "E":
            c._handle_error(T, data)
        else:
            c._error(action, "UNSOLICITED_MESSAGE", T)

    def _notify(self, name, online):
        c = self._client
        for cb in tuple(self._all):
            c._call(T, cb, name, online)
        for cb in tuple(self._users.get(name, _EMPTY)):
            c._call(T, cb, name, online)

    def _answer(self, data):
        """U|Q|<id>|{...} answers a query for users, U|Q[|name...] one for everyone.
        As the reference client, a JSON object after a pending id is the former."""
        c = self._client
        if len(data) == 2 and data[0] in self._queries:
            body = data[1]
            try:
                value = json_loads(body)
            except ValueError:
                value = None
            if isinstance(value, dict):
                entry = self._queries.pop(data[0])
                c._call(T, entry[1], value)
                return
            if not self._everyone:
                # no query for everyone to give it to: a broken answer to query <id>
                entry = self._queries.pop(data[0])
                text = "presence answer for query %s is not a JSON object: %s" % (data[0], body[:60])
                c._error(text, "MESSAGE_PARSE_ERROR", T)
                if entry[2] is not None:
                    c._call(T, entry[2], text)
                return
        if not self._everyone:
            c._error("presence answer without a query: U|Q|" + "|".join(data), "UNSOLICITED_MESSAGE", T)
            return
        entry = self._everyone.pop(0)
        c._call(T, entry[0], data)

    # ---- reconnect ------------------------------------------------------

    def resubscribe(self):
        conn = self._client._conn
        if self._all:
            conn.send(build(T, "S", "S"))
        self._pending = ordered_dict()  # the bulk below covers every user held now
        if self._users:
            self._send_bulk("S", list(self._users))
        # a query that left before the link dropped is lost; one still in the
        # offline queue goes out now: ask again for the former only
        missing = len(self._everyone) - conn.queued_count(_Q_ALL)
        again = []
        for qid in self._queries:
            msg = build(T, "Q", qid, check_json(self._queries[qid][0]))
            if not conn.queued_count(msg):
                again.append(msg)
        for _ in range(missing):
            conn.send(_Q_ALL)
        for msg in again:
            conn.send(msg)
