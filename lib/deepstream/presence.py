"""Presence: who is logged in, and notifications when users come and go.

Messages of the model, and what @deepstream/server 7.0.2 answers
(observed, docs/PROTOCOL.md has both wires):

    QUERY_ALL              everyone: QUERY_ALL_RESPONSE {names} (the asker
                           excluded; nobody: no names) -> a list
    QUERY {names, cid}     these users: QUERY_RESPONSE {cid, data:
                           {"a":true,"b":false}} (the asker included)
    SUBSCRIBE_ALL / UNSUBSCRIBE_ALL   everyone's joins/leaves (acked)
    SUBSCRIBE {names, cid} some users' (acked by cid)
    JOIN / LEAVE (_ALL)    first login / last logout of a user id

The cid is one counter starting at 1, shared by queries and bulk
(un)subscriptions, as in the reference client. Per-user (un)subscriptions
made by one piece of user code are sent as one bulk message just before the
next frame goes out (the reference client's next tick).

Callbacks: get_all answers `callback(result)` with a list of names or a dict
name -> online; notifications are `callback(name, online)` for both kinds
of subscription (the reference client swaps them for per-user ones).
Subscribed to everyone and to a user, 7.0.2 sends that user's joins and
leaves twice. The binary protocol tells the two apart (JOIN_ALL for the
subscription to everyone, JOIN for a user's): each callback runs once. The
text protocol does not (U|PNJ both times): every callback runs twice, as
with the reference client (the codec's PRESENCE_KINDS).
Queries still unanswered when the link drops are sent again after the
reconnect (those still in the offline queue go out once, as they are).
"""
from .compat import const, ordered_dict
from .message import check_name

T = "U"
_EMPTY = ()
_PRESENCE = const(7)
_PRESENCE_ERROR = const(1)
_PRESENCE_QUERY_ALL = const(2)
_PRESENCE_QUERY_ALL_RESPONSE = const(3)
_PRESENCE_QUERY = const(4)
_PRESENCE_QUERY_RESPONSE = const(5)
_PRESENCE_PRESENCE_JOIN = const(6)
_PRESENCE_PRESENCE_JOIN_ALL = const(7)
_PRESENCE_PRESENCE_LEAVE = const(8)
_PRESENCE_PRESENCE_LEAVE_ALL = const(9)
_PRESENCE_SUBSCRIBE = const(10)
_PRESENCE_UNSUBSCRIBE = const(11)
_PRESENCE_SUBSCRIBE_ALL = const(12)
_PRESENCE_UNSUBSCRIBE_ALL = const(13)


class PresenceHandler:
    def __init__(self, client):
        self._client = client
        self._counter = 1
        self._everyone = []  # pending QUERY_ALL, oldest first: (callback, errback)
        self._queries = ordered_dict()  # id -> (names, callback, errback), oldest first
        self._all = []  # callbacks for everyone's joins/leaves
        self._users = ordered_dict()  # name -> callbacks, in subscription order
        self._pending = ordered_dict()  # name -> SUBSCRIBE / UNSUBSCRIBE, sent in one bulk by _flush
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
            conn.send(_PRESENCE, _PRESENCE_QUERY_ALL)
            return
        if isinstance(names, str) or not isinstance(names, (list, tuple)):
            raise TypeError("presence names must be a list of strings")
        names = list(names)
        for name in names:
            check_name(name, "user name")
        qid = self._next_id()
        self._queries[qid] = (names, callback, errback)
        conn.send(_PRESENCE, _PRESENCE_QUERY, names=names, cid=qid)

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
                self._send_global(_PRESENCE_SUBSCRIBE_ALL)
            return
        check_name(name, "user name")
        cbs = self._users.get(name)
        if cbs is None:
            self._users[name] = [callback]
            self._schedule(name, _PRESENCE_SUBSCRIBE)
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
                self._send_global(_PRESENCE_UNSUBSCRIBE_ALL)
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
        self._schedule(name, _PRESENCE_UNSUBSCRIBE)

    def _send_global(self, action):
        c = self._client
        c._conn.send(_PRESENCE, action)
        # keyed "S"/"US" as the text protocol names them: the timeout text says which
        c._acks.add(_PRESENCE, action, "S" if action == _PRESENCE_SUBSCRIBE_ALL else "US",
                    c.options["subscription_timeout"])

    def _schedule(self, name, action):
        self._pending.pop(name, None)  # a name asked for again goes last, as in the reference
        self._pending[name] = action
        if not self._flush_due:
            self._flush_due = True
            self._client._conn.call_soon(self._flush)

    def _flush(self):
        self._flush_due = False
        pending, self._pending = self._pending, ordered_dict()
        for action in (_PRESENCE_SUBSCRIBE, _PRESENCE_UNSUBSCRIBE):
            names = [n for n in pending if pending[n] == action]
            if names:
                self._send_bulk(action, names)

    def _send_bulk(self, action, names):
        c = self._client
        bid = self._next_id()
        c._conn.send(_PRESENCE, action, names=names, cid=bid)
        c._acks.add(_PRESENCE, action, bid, c.options["subscription_timeout"])

    # ---- incoming -------------------------------------------------------

    def handle(self, m):
        c = self._client
        action = m.action
        if _PRESENCE_PRESENCE_JOIN <= action <= _PRESENCE_PRESENCE_LEAVE_ALL:
            if not m.name:
                c._error("presence %s without a user name" % m.action_text(), "MESSAGE_PARSE_ERROR", T)
                return
            online = action <= _PRESENCE_PRESENCE_JOIN_ALL
            if not c._conn.codec.PRESENCE_KINDS:  # text: either subscription's notice
                self._notify(self._all, m.name, online)
                self._notify(self._users.get(m.name, _EMPTY), m.name, online)
            elif action == _PRESENCE_PRESENCE_JOIN_ALL or action == _PRESENCE_PRESENCE_LEAVE_ALL:
                self._notify(self._all, m.name, online)
            else:
                self._notify(self._users.get(m.name, _EMPTY), m.name, online)
        elif action == _PRESENCE_QUERY_ALL_RESPONSE:
            self._answer_everyone(m)
        elif action == _PRESENCE_QUERY_RESPONSE:
            self._answer(m)
        elif m.is_ack:
            if action >= _PRESENCE_SUBSCRIBE_ALL:
                c._acks.clear(_PRESENCE, action, "S" if action == _PRESENCE_SUBSCRIBE_ALL else "US")
            elif m.cid is None:
                c._error("presence ack without a name", "MESSAGE_PARSE_ERROR", T)
            else:
                c._acks.clear(_PRESENCE, action, m.cid)
        elif action >= 100 or action == _PRESENCE_ERROR:
            c._report(m)
        else:
            c._error(m.code or str(action), "UNSOLICITED_MESSAGE", T)

    def _notify(self, cbs, name, online):
        c = self._client
        for cb in tuple(cbs):
            c._call(T, cb, name, online)

    def _answer(self, m):
        """QUERY_RESPONSE {cid, data: {name: online}}: the answer to query cid."""
        c = self._client
        entry = self._queries.pop(m.cid, None) if m.cid is not None else None
        if entry is None:
            c._error("presence answer without a query: " + m.describe(), "UNSOLICITED_MESSAGE", T)
            return
        if m.bad is None and isinstance(m.data, dict):
            c._call(T, entry[1], m.data)
            return
        text = "presence answer for query %s is not a JSON object: %s" % (m.cid, m.bad)
        c._error(text, "MESSAGE_PARSE_ERROR", T)
        if entry[2] is not None:
            c._call(T, entry[2], text)

    def _answer_everyone(self, m):
        """QUERY_ALL_RESPONSE {names}: the answer to the oldest query for everyone."""
        c = self._client
        names = list(m.names) if m.names else []
        if not self._everyone:
            if m.cid is not None and m.cid in self._queries:
                # text: U|Q|<id>|<not a JSON object>, a broken answer to query <id>
                entry = self._queries.pop(m.cid)
                text = "presence answer for query %s is not a JSON object: %s" % (m.cid, names[1][:60])
                c._error(text, "MESSAGE_PARSE_ERROR", T)
                if entry[2] is not None:
                    c._call(T, entry[2], text)
                return
            c._error("presence answer without a query: " + m.describe(), "UNSOLICITED_MESSAGE", T)
            return
        entry = self._everyone.pop(0)
        c._call(T, entry[0], names)

    # ---- reconnect ------------------------------------------------------

    def resubscribe(self):
        conn = self._client._conn
        if self._all:
            conn.send(_PRESENCE, _PRESENCE_SUBSCRIBE_ALL)
        self._pending = ordered_dict()  # the bulk below covers every user held now
        if self._users:
            self._send_bulk(_PRESENCE_SUBSCRIBE, list(self._users))
        # a query that left before the link dropped is lost; one still in the
        # offline queue goes out now: ask again for the former only
        missing = len(self._everyone) - conn.queued(_PRESENCE, _PRESENCE_QUERY_ALL, None)
        again = [qid for qid in self._queries if not conn.queued(_PRESENCE, _PRESENCE_QUERY, qid)]
        for _ in range(missing):
            conn.send(_PRESENCE, _PRESENCE_QUERY_ALL)
        for qid in again:
            conn.send(_PRESENCE, _PRESENCE_QUERY, names=self._queries[qid][0], cid=qid)
