"""What waits to be sent, and what happens to it across an outage. Functions
of Connection (connection.py), kept apart so that a board on a steady link
with the polling driver never loads them.

Messages that cannot go out now wait first in the connection's frame buffer
(1 KB) and, once that is full, in a byte ring of max_queued_bytes (ring.py),
made on first use. The ring holds, oldest first, the events confirm_events
still guards ("kept": sent, not yet confirmed) and then the queued
messages. When it is full the oldest whole messages make room: kept ones
first (they were sent at least once), then queued ones (counted, reported).
Also here: confirm_events' ping barrier, restoring state when the link is
back, replaying the durable outbox.
"""
from .compat import const
from .connection import HEADROOM, OPEN
from .message import RESTORED

_CONNECTION = const(2)
_EVENT = const(4)
_EVENT_EMIT = const(2)

def _kind(conn, msg):
    topic, action = conn.codec.kind(msg)
    return topic * 256 + action


def _restored(conn, msg):
    return _kind(conn, msg) in RESTORED


def _is_event(conn, msg):
    return _kind(conn, msg) == _EVENT * 256 + _EVENT_EMIT


_SMALLEST_RING = 1024


def ring(conn):
    """The ring, made on first use. A heap scattered by the application may
    have no free block of max_queued_bytes then (docs/MEMORY.md): the ring is
    made as large as fits, halving down to 1 KB, rather than not at all."""
    r = conn._ring
    if r is None:
        from .ring import Ring
        size = conn.options["max_queued_bytes"]
        framed = conn.codec.NAME == "binary"
        while True:
            try:
                r = conn._ring = Ring(size, framed)
                return r
            except MemoryError:
                if size <= _SMALLEST_RING:
                    raise
                size = max(_SMALLEST_RING, size // 2)
    return r


def _make_room(conn, r, n):
    """Drop the oldest messages until n bytes fit. A ring made smaller than
    max_queued_bytes first tries, once per outage, to grow to it: the heap
    that had no such block then often has one a few calls later (a stale
    pointer on the stack kept garbage alive: the collector is conservative)."""
    want = conn.options["max_queued_bytes"]
    if r.free() < n and r.size < want and not r.grow_tried:
        r.grow_tried = True  # a failed try costs a collection: not on every message
        try:
            r.grow(want)
        except MemoryError:
            pass
    while r.free() < n:
        _drop_oldest(conn, r)


def _full(conn, r):
    want = conn.options["max_queued_bytes"]
    if r.size < want:  # made smaller on a scattered heap: say so where it matters
        return "send queue full (%d of max_queued_bytes %d: no larger free block on the heap)" % (r.size, want)
    return "send queue full (max_queued_bytes %d)" % r.size


def note_dropped(conn, why, what=": dropping the oldest messages"):
    if not conn.dropped:  # once per outage; the total is reported after login
        conn.client._error(why + what, "MESSAGE_DROPPED", "C")
    conn.dropped += 1


def _drop_oldest(conn, r):
    """Make room in the ring by forgetting the oldest message: a kept event,
    else the first one waiting in the frame buffer, else the ring's oldest."""
    if not r.kept and conn._fill and not conn._lent:
        _drop_first_of_frame(conn, r)
        return
    if not r.kept and conn.state != OPEN and _restored(conn, r.peek(32)):
        conn._was_reconnecting = True  # a lost (un)subscription: recreate them all after login
    size, queued = r.drop_oldest()
    if queued:
        conn._replay_after = max(0, conn._replay_after - size)
        note_dropped(conn, _full(conn, r))
    else:  # sent, not yet confirmed: if the link swallowed it, it is not sent again
        conn._barrier = max(0, conn._barrier - size)
        note_dropped(conn, _full(conn, r), ": events sent but not yet confirmed are no longer kept to send again")


def _drop_first_of_frame(conn, r):
    out = conn.out
    end = HEADROOM + conn._fill
    first = conn.codec.message_end(out, HEADROOM, end)
    if conn.state != OPEN and _restored(conn, bytes(out[HEADROOM:first])):
        conn._was_reconnecting = True
    out[HEADROOM:HEADROOM + end - first] = bytes(out[first:end])
    conn._fill -= first - HEADROOM
    note_dropped(conn, _full(conn, r))
    # the ring's oldest move up into the frame buffer, so that it stays the front of the queue
    room = len(out) - HEADROOM - len(conn.codec.PING) - conn._fill
    if room > 0 and r.queued():
        n = r.take(out, HEADROOM + conn._fill, room, conn.state == OPEN and conn.options["confirm_events"])
        conn._fill += n
        conn._replay_after = max(0, conn._replay_after - n)


def queue(conn, data):
    """Queue one encoded message behind everything that waits. When the ring
    is full a synchronous driver writes frames out first (OPEN); otherwise
    the oldest messages go."""
    try:
        r = ring(conn)
    except MemoryError:
        note_dropped(conn, "out of memory for the send queue (max_queued_bytes %d)" % conn.options["max_queued_bytes"])
        return
    n = len(data)
    if n > r.size:
        note_dropped(conn, "a message of %d bytes does not fit max_queued_bytes %d" % (n, r.size))
        return
    while r.free() < n and conn.state == OPEN and r.queued() and conn._write_out():
        pass
    _make_room(conn, r, n)
    r.put(data)
    if conn.state == OPEN and r.used == n:
        conn._wake()


def keep_sent(conn, data):
    """confirm_events: an event just put into the frame is kept until a C|PO
    confirms it (nothing is queued in the ring while this path runs)."""
    r = ring(conn)
    n = len(data)
    if n > r.size:
        return
    _make_room(conn, r, n)
    r.put(data)
    r.kept += n


def refill(conn, room):
    """Fill the frame from the ring's queued messages and the outbox, in
    order; with confirm_events, end it with C|PI if events wait for one."""
    r = conn._ring
    keep = conn.options["confirm_events"]
    if r is not None and r.queued() and conn._fill < room:
        limit = room - conn._fill
        if conn._replay is not None and conn._replay_after:
            limit = min(limit, conn._replay_after)  # the outbox goes after these
        n = r.take(conn.out, HEADROOM + conn._fill, limit, keep)
        if not n and not conn._fill:  # one message bigger than a frame: a frame of its own
            size = r._length((r.head + r.kept) % r.size)
            conn.out = conn.frame = bytearray(HEADROOM + size + len(conn.codec.PING))
            n = r.take(conn.out, HEADROOM, size, keep)
        conn._fill += n
        if conn._replay_after:
            conn._replay_after = max(0, conn._replay_after - n)
    if conn._replay is not None and not conn._replay_after and conn._fill < room:
        _replay(conn, room)
    if keep and r is not None and r.kept and not conn._pinging:
        ping = conn.codec.PING
        i = HEADROOM + conn._fill
        conn.out[i:i + len(ping)] = ping  # room is kept for it in every frame
        conn._fill += len(ping)
        conn.pings += 1
        _barrier(conn, r.kept)


def _barrier(conn, kept):
    """The ping just put on the link confirms the `kept` bytes of events
    before it, once its pong (counted, in order) comes back."""
    conn._barrier = kept
    conn._barrier_ping = conn.pings
    conn._pinging = True


def confirmed(conn):
    """The pong of our barrier ping: everything before it has arrived."""
    r = conn._ring
    conn._pinging = False
    if r is None:
        return
    r.release(conn._barrier)
    conn._barrier = 0
    if r.kept:  # sent after the last ping: needs one of its own
        conn.send_direct(conn.codec.PING)  # counted there
        _barrier(conn, r.kept)


def _filter_out(conn, keep):
    """Keep the messages waiting in the frame buffer for which keep(msg) is true."""
    out = conn.out
    end = HEADROOM + conn._fill
    read = write = HEADROOM
    message_end = conn.codec.message_end
    while read < end:
        stop = message_end(out, read, end)
        msg = bytes(out[read:stop])
        if keep(msg):
            if write != read:
                out[write:write + len(msg)] = msg
            write += len(msg)
        read = stop
    conn._fill = write - HEADROOM


def left_open(conn):
    """confirm_events: the link is gone with messages in the frame buffer that
    were never written. They wait for the next link, except its events (the
    ring keeps those) and the link's own ping (a stale pong is harmless)."""
    _filter_out(conn, lambda m: _kind(conn, m) >> 8 != _CONNECTION and not _is_event(conn, m))


def restore(conn):
    """OPEN again after an outage (or with an outbox): put what waits in order:
    kept events first (the dead link may have swallowed them), then what was
    queued (frame buffer, then ring), then resubscriptions, then the outbox."""
    reconnect = conn._was_reconnecting
    if reconnect and conn._fill:
        # queued (un)subscriptions from the outage are recreated by the handlers
        # from their state below: dropped here so that none is sent twice
        _filter_out(conn, lambda m: not _restored(conn, m))
    r = conn._ring
    if r is not None:
        if reconnect:
            r.filter(lambda msg, queued: not _restored(conn, msg) if queued else _is_event(conn, msg))
        if r.kept and conn._fill:  # the frame buffer's messages go behind the kept events
            data = bytes(conn.out[HEADROOM:HEADROOM + conn._fill])
            conn._fill = 0
            while r.free() < len(data) and r.used:
                _drop_oldest(conn, r)
            if r.free() >= len(data):
                r.insert_front(data)
        r.requeue()
        r.grow_tried = False
        conn._barrier = 0
        conn._pinging = False
    if reconnect:
        conn._was_reconnecting = False
        conn.client._resubscribe()  # queued behind what still waits
    if conn._outbox is not None and conn._replay is None and conn._outbox.size:
        conn._replay = conn._outbox.reader(conn.codec.NAME == "binary")
        conn._replay_after = r.queued() if r is not None else 0
    if conn.dropped:
        conn.client._error("%d messages were dropped from the send queue" % conn.dropped, "MESSAGE_DROPPED", "C")
        conn.dropped = 0


def _replay(conn, room):
    """Copy the outbox's next events into the frame (as many as fit)."""
    reader = conn._replay
    out = conn.out
    keep = conn.options["confirm_events"]
    while conn._fill < room:
        msg = reader.peek()
        if msg is None:
            break
        n = len(msg)
        if conn._fill + n > room:
            if conn._fill:
                break
            reader.next()  # larger than a frame: refused when written, too
            continue
        i = HEADROOM + conn._fill
        out[i:i + n] = msg
        conn._fill += n
        reader.next()
        if keep:
            keep_sent(conn, msg)
    if reader.skipped:
        conn.client._error("outbox file %s: skipped %d torn or corrupt bytes at its end"
                           % (conn._outbox.path, reader.skipped), "OUTBOX_CORRUPT", "C")
        reader.skipped = 0
    if reader.done and not conn._fill:  # nothing of it in this frame (a corrupt file)
        replay_done(conn)


def replay_done(conn):
    """Every stored event has been handed to the socket: delete the file
    (unless events were stored meanwhile: then they are replayed too)."""
    reader = conn._replay
    if conn._outbox._file_size() > reader.pos:
        reader.reopen()
        return
    reader.close()
    conn._replay = None
    conn._outbox.clear()


# ---- looking into the queue (reconnects, timeouts) ---------------------------


def ring_count(conn, topic, action, key):
    """How many queued messages (topic, action) about key the ring holds."""
    n = 0
    for msg, queued in conn._ring.messages():
        if queued and conn.codec.matches(msg, topic, action, key):
            n += 1
    return n


def unqueue(conn, topic, action, key):
    """Take the first waiting message (topic, action) about key out; True if it was there."""
    found = [False]

    def keep(msg, queued=True):
        if queued and not found[0] and conn.codec.matches(msg, topic, action, key):
            found[0] = True
            return False
        return True
    if conn._fill and not conn._lent:
        _filter_out(conn, keep)
    if not found[0] and conn._ring is not None:
        conn._ring.filter(keep)
    return found[0]
