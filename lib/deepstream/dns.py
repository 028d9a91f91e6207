"""Resolving a host name without blocking: the client's own DNS query.

lwIP's getaddrinfo() (Pico W, ESP32) waits for the answer, up to about 7 s
when the resolver does not answer, and the loop with it. So, where the
resolver's address is known (the option dns_server, else what the network
interface uses: network.ipconfig("dns")), the client sends one small query
itself: UDP, one question for an A record, built and answered in one buffer
of 512 bytes (the largest UDP answer without EDNS), sent again every
RESEND_MS until an answer or the attempt's deadline. The driver steps it
from its loop (ws_handshake.py) and never waits on it.

Loaded only while a name is being resolved with a resolver to ask. Bad answers (truncated,
malformed, for another query) never raise out of the client: an answer for
another query id is ignored, anything else fails the attempt with a text
that says what was wrong (ValueError from parse(), turned into OSError).
"""
import socket

from .compat import const, ticks_add, ticks_diff, urandom

BUF_SIZE = const(512)
RESEND_MS = const(1000)
_TYPE_A = const(1)
_CLASS_IN = const(1)
_RCODES = {1: "format error", 2: "server failure", 3: "no such name", 4: "not implemented", 5: "refused"}


def server_address(text):
    """("a.b.c.d", port) of a resolver given as "a.b.c.d" or "a.b.c.d:port"."""
    host, _, port = text.partition(":")
    return host, int(port) if port else 53


def query(buf, qid, name):
    """Write the query for the A record of name (str or bytes) into buf; returns its
    length. ValueError for a name that cannot be asked for."""
    raw = name.encode() if isinstance(name, str) else name
    end = len(raw)
    if end and raw[end - 1] == 0x2E:  # a trailing dot: the same name
        end -= 1
    if not 0 < end <= 253:
        raise ValueError("not a host name: %r" % (name,))
    buf[0] = qid >> 8
    buf[1] = qid & 0xFF
    for i in range(2, 12):
        buf[i] = 0
    buf[2] = 0x01  # recursion desired
    buf[5] = 1  # one question
    i = 12
    start = 0
    while True:
        dot = raw.find(b".", start, end)
        if dot < 0:
            dot = end
        n = dot - start
        if not 0 < n < 64:
            raise ValueError("not a host name: %r" % (name,))
        buf[i] = n
        buf[i + 1:i + 1 + n] = raw[start:dot]
        i += 1 + n
        if dot == end:
            break
        start = dot + 1
    buf[i] = 0
    buf[i + 1] = 0
    buf[i + 2] = _TYPE_A
    buf[i + 3] = 0
    buf[i + 4] = _CLASS_IN
    return i + 5


def answer_id(buf, n):
    """The query id of the datagram in buf[:n] (-1 if it is too short for one)."""
    return buf[0] << 8 | buf[1] if n >= 2 else -1


def _u16(buf, i):
    return buf[i] << 8 | buf[i + 1]


def _skip_name(buf, i, n):
    """The index just past the (possibly compressed) name at i."""
    for _ in range(128):  # a name has at most 127 labels
        if i >= n:
            raise ValueError("truncated answer")
        b = buf[i]
        if b == 0:
            return i + 1
        if b & 0xC0 == 0xC0:  # a pointer ends the name
            if i + 2 > n:
                raise ValueError("truncated answer")
            return i + 2
        if b & 0xC0:
            raise ValueError("malformed answer (label type 0x%02x)" % b)
        i += 1 + b
    raise ValueError("malformed answer (a name without an end)")


def parse(buf, n, qid):
    """The first IPv4 address in the answer buf[:n] to query qid, as "a.b.c.d".
    ValueError says what is wrong with it."""
    if n < 12:
        raise ValueError("truncated answer (%d bytes)" % n)
    if answer_id(buf, n) != qid:
        raise ValueError("an answer to another query (id %d, not %d)" % (answer_id(buf, n), qid))
    flags = _u16(buf, 2)
    if not flags & 0x8000:
        raise ValueError("not an answer (a query)")
    rcode = flags & 0x0F
    if rcode:
        raise ValueError("the server says: %s" % _RCODES.get(rcode, "error %d" % rcode))
    questions = _u16(buf, 4)
    answers = _u16(buf, 6)
    i = 12
    for _ in range(questions):
        i = _skip_name(buf, i, n) + 4
    for _ in range(answers):
        i = _skip_name(buf, i, n)
        if i + 10 > n:
            raise ValueError("truncated answer")
        size = _u16(buf, i + 8)
        data = i + 10
        if data + size > n:
            raise ValueError("truncated answer")
        if _u16(buf, i) == _TYPE_A and _u16(buf, i + 2) == _CLASS_IN:
            if size != 4:
                raise ValueError("malformed answer (an A record of %d bytes)" % size)
            return "%d.%d.%d.%d" % (buf[data], buf[data + 1], buf[data + 2], buf[data + 3])
        i = data + size
    if flags & 0x0200:
        raise ValueError("truncated answer (TC), with no address in it")
    raise ValueError("no IPv4 address (A record) in the answer")


class Resolver:
    """One name being resolved: step() it whenever its socket is readable or its
    deadline (next_deadline()) has come; it never waits."""

    def __init__(self, name, server, timeout_ms, now):
        """server: the resolver, "a.b.c.d" or "a.b.c.d:port" (ws_handshake.dns_server)."""
        self.name = name
        self.server = server = server_address(server)
        self.timeout_ms = timeout_ms
        self.raw = name.encode()
        self.buf = bytearray(BUF_SIZE)  # the query, then each answer: the only buffer
        self.qid = urandom(1)[0] << 8 | urandom(1)[0]
        query(self.buf, self.qid, self.raw)  # a name that cannot be asked for fails now
        self.deadline = ticks_add(now, timeout_ms)
        self.resend = now
        self.ignored = 0  # datagrams for another query
        self.sock = None
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock = sock
        sock.setblocking(False)
        sock.connect(socket.getaddrinfo(server[0], server[1])[0][-1])
        self._read = getattr(sock, "recv_into", None) or sock.readinto

    def next_deadline(self):
        return self.resend if ticks_diff(self.resend, self.deadline) < 0 else self.deadline

    def step(self, now):
        """The address once it is known, None meanwhile; OSError when the name did not
        resolve (the text names it and says why)."""
        while True:
            try:
                n = self._read(self.buf)
            except OSError as err:
                if err.args and err.args[0] in (11, 35):  # EAGAIN/EWOULDBLOCK: nothing yet
                    break
                raise self._fail("the DNS server %s cannot be reached (%s)" % (self.server[0], err))
            if n is None:
                break
            if answer_id(self.buf, n) != self.qid:
                self.ignored += 1  # late, stray or forged: not ours
                continue
            try:
                return parse(self.buf, n, self.qid)
            except ValueError as err:
                raise self._fail("%s (from the DNS server %s)" % (err, self.server[0]))
        if ticks_diff(now, self.deadline) >= 0:
            why = "no answer from the DNS server %s within %d ms" % (self.server[0], self.timeout_ms)
            if self.ignored:
                why += " (%d answers to other queries ignored)" % self.ignored
            raise self._fail(why)
        if ticks_diff(now, self.resend) >= 0:
            n = query(self.buf, self.qid, self.raw)  # again: an answer may have overwritten it
            try:
                self.sock.send(memoryview(self.buf)[:n])
            except OSError as err:
                if not (err.args and err.args[0] in (11, 35)):  # a full queue: the next resend
                    raise self._fail("the DNS server %s cannot be reached (%s)" % (self.server[0], err))
            self.resend = ticks_add(now, RESEND_MS)
        return None

    def _fail(self, why):
        self.close()
        return OSError("%s did not resolve: %s" % (self.name, why))

    def close(self):
        sock, self.sock = self.sock, None
        if sock is not None:
            try:
                sock.close()
            except OSError:
                pass


async def resolve_async(host, server, timeout_ms):
    """For the asyncio driver (MicroPython's open_connection() would call the blocking
    getaddrinfo()): host's address from resolver `server`, kept as the polling driver
    keeps it."""
    from .compat import sleep_ms, ticks_ms
    from .transport import RESOLVED
    ip = RESOLVED.get(host)
    if ip is not None:
        return ip
    r = Resolver(host, server, timeout_ms, ticks_ms())
    try:
        while True:
            ip = r.step(ticks_ms())
            if ip is not None:
                if len(RESOLVED) > 8:
                    RESOLVED.clear()
                RESOLVED[host] = ip
                return ip
            # an answer takes a few ms: look again soon, the loop runs meanwhile
            await sleep_ms(max(0, min(10, ticks_diff(r.next_deadline(), ticks_ms()))))
    finally:
        r.close()
