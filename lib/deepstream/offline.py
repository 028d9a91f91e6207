"""What the connection does about messages across an outage, loaded only
when there is one (or when confirm_events / outbox_file are set): bounding
the offline queue, restoring state when the link is back, replaying the
durable outbox, and confirm_events' ping barrier. Functions of Connection
(connection.py), kept apart so a board on a steady link never loads them.
"""
from .connection import EVT, PING

# messages a handler's resubscribe() recreates after a reconnect: queued
# copies from the outage are dropped so nothing is subscribed twice
_RESTORED = ("E\x1fS\x1f", "E\x1fUS\x1f", "E\x1fL\x1f", "E\x1fUL\x1f", "P\x1fS\x1f", "P\x1fUS\x1f",
             "R\x1fCR\x1f", "R\x1fUS\x1f", "R\x1fL\x1f", "R\x1fUL\x1f", "U\x1fS\x1f", "U\x1fUS\x1f")


def _restored(msg):
    for prefix in _RESTORED:
        if msg.startswith(prefix):
            return True
    return False


def trim_queue(conn):
    """Bound the offline queue: drop the oldest data message (never a
    subscription, which the server must see) until within both limits."""
    opts = conn.options
    queue = conn._queue
    while len(queue) > opts["max_queued_messages"] or conn._queued_bytes > opts["max_queued_bytes"]:
        for i, msg in enumerate(queue):
            if not _restored(msg):
                break
        else:
            return
        conn._queued_bytes -= len(queue.pop(i))
        note_dropped(conn, "offline queue full (%d messages, %d bytes)"
                     % (opts["max_queued_messages"], opts["max_queued_bytes"]))


def note_dropped(conn, why):
    if not conn.dropped:  # once per outage; the total is reported after login
        conn.client._error(why + ": dropping the oldest messages", "MESSAGE_DROPPED", "C")
    conn.dropped += 1


def restore(conn):
    """OPEN again after an outage (or with an outbox): put the queue in order."""
    if conn._was_reconnecting:
        conn._was_reconnecting = False
        # queued (un)subscriptions from the outage are recreated by the
        # handlers from their state: drop them so none is sent twice
        conn._queue = [m for m in conn._queue if not _restored(m)]
        conn.client._resubscribe()  # appends to what is still queued
    if conn._unconfirmed:  # events a dead link may have swallowed go first
        conn._queue[0:0] = conn._unconfirmed
        conn._unconfirmed = []
        conn._barrier = 0
    if conn._outbox is not None:
        _replay_outbox(conn)
    conn._queued_bytes = 0
    for msg in conn._queue:
        conn._queued_bytes += len(msg)
    if conn.dropped:
        conn.client._error("%d messages were dropped while offline" % conn.dropped, "MESSAGE_DROPPED", "C")
        conn.dropped = 0


def _replay_outbox(conn):
    outbox = conn._outbox
    messages, skipped = outbox.load()
    if skipped:
        conn.client._error("outbox file %s: skipped %d torn or corrupt bytes at its end"
                           % (outbox.path, skipped), "OUTBOX_CORRUPT", "C")
    conn._queue.extend(messages)
    if messages or skipped:
        conn._outbox_sent = True
        if not messages:
            outbox.clear()
            conn._outbox_sent = False


def add_barrier(conn, taken, frame):
    """confirm_events: remember the events of this frame and, if no ping
    is in flight, follow them with C|PI. The server answers C|PO only
    after processing everything before it, so the pong confirms them."""
    unconfirmed = conn._unconfirmed
    for msg in taken:
        if msg.startswith(EVT):
            unconfirmed.append(msg)
    excess = len(unconfirmed) - conn.options["max_queued_messages"]
    if excess > 0:  # bounded: the oldest are taken as delivered
        del unconfirmed[:excess]
        conn._barrier = max(0, conn._barrier - excess)
    if unconfirmed and not conn._barrier:
        conn._barrier = len(unconfirmed)
        frame += PING
    return frame


def confirmed(conn):
    """C|PO for our barrier ping: everything before it has arrived."""
    del conn._unconfirmed[:conn._barrier]
    conn._barrier = 0
    if conn._unconfirmed:  # sent after the last ping: needs one of its own
        conn._barrier = len(conn._unconfirmed)
        conn._send_direct(PING)
