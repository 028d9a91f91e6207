"""A fault-injecting TCP proxy for tests (threads, 127.0.0.1 only).

    proxy = TcpProxy(upstream_port).start()
    url = proxy.url("/deepstream-v3")        # ws://127.0.0.1:<proxy port>/deepstream-v3
    proxy.cut()          # close every live connection (FIN on both sides)
    proxy.reject()       # new connections are accepted and closed at once
    proxy.blackhole()    # live and new connections: bytes are dropped, sockets stay
                         # open (no FIN, no RST): only a heartbeat check can notice
    proxy.set_delay(ms)  # every chunk is forwarded ms milliseconds after it arrived
    proxy.set_trickle(True)  # to the client: one byte per send (TCP_NODELAY, ~1 ms apart)
    proxy.set_rate(bps)  # from the client: read at most bps bytes a second (a slow link up)
    proxy.stall()        # live connections: nothing is read any more, from either side,
                         # so the client's writes block once the kernel buffers are full;
                         # new connections pass
    proxy.deafen()       # live connections: what the client sends is dropped from now on
                         # (with what is still delayed on its way); the server's bytes still
                         # reach the client, then its close; new connections pass
    proxy.restore()      # new connections are forwarded again (delay/trickle stay)
    proxy.close()

With ``keep_sent=True`` the proxy reads what clients send as websocket frames (and
forwards only whole frames):
    proxy.sent_payloads()   # per connection (in the order they were accepted) the
                            # payloads its client sent, unmasked (support/wire.py reads them)
    proxy.drop_next(pred)   # the next client frame whose payload pred() accepts is not
                            # forwarded (a lost message); proxy.dropped lists such payloads

With ``keep_received=True`` the proxy keeps what the server sent:
    proxy.received()        # per connection (in the order they were accepted) the bytes
                            # forwarded to its client, the upgrade response first
                            # (frames(data) cuts them into websocket frames)

With ``tls_context`` (an ssl.SSLContext for the server side) the proxy
terminates TLS: clients speak wss:// to it, the upstream gets plain bytes.
Failed TLS handshakes are kept in ``proxy.tls_errors``.

Each connection has one thread running a select() loop over its two
sockets; control calls only set flags and wait (with a deadline) for the
threads to act on them.
"""

import select
import socket
import threading
import time

HOST = "127.0.0.1"
_TICK = 0.02  # s: how often a connection thread looks at its flags


class _Conn:
    def __init__(self, proxy, client, dead):
        self.proxy = proxy
        self.client = client
        self.up = None
        self.dead = dead  # black-holed: read and drop, never forward, never close
        self._gen = proxy._blackholed_gen  # a later blackhole() kills this connection
        self._stall_gen = proxy._stalled_gen  # a later stall() freezes it
        self._deaf_gen = proxy._deafened_gen  # a later deafen() drops what its client sends
        self.stop = False  # cut: close both sides and end
        self.finished = threading.Event()
        self.queues = {}  # socket -> list of (due time, bytes) to send to it
        self.sent = [] if proxy.keep_sent else None  # payloads the client sent (keep_sent)
        self.received = bytearray() if proxy.keep_received else None  # the server's bytes (keep_received)
        self._unframed = bytearray()  # keep_sent: client bytes not forwarded yet (part of a frame)
        self._upgraded = False
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        try:
            self._serve()
        except OSError:
            pass  # a peer reset or went away while we wrote to it: the connection ends
        except Exception as err:  # a test proxy must never take the test down
            self.proxy.errors.append(repr(err))
        finally:
            for s in (self.client, self.up):
                _close(s)
            self.finished.set()
            self.proxy._forget(self)

    def _serve(self):
        p = self.proxy
        if p.tls_context is not None:
            self.client.settimeout(5)
            try:
                self.client = p.tls_context.wrap_socket(self.client, server_side=True)
            except (OSError, ValueError) as err:  # ssl.SSLError is an OSError
                p.tls_errors.append(str(err))
                return
        if not self.dead:
            try:
                self.up = socket.create_connection((p.upstream_host, p.upstream_port), timeout=2)
            except OSError:
                return  # upstream down: the client sees the connection close
        for s in (self.client, self.up):
            if s is not None:
                s.settimeout(2)
                s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.queues = {self.client: [], self.up: []} if self.up is not None else {self.client: []}
        peers = {self.client: self.up, self.up: self.client}
        reading = [s for s in (self.client, self.up) if s is not None]
        budget, last = 0.0, time.monotonic()  # set_rate(): bytes the client may send now
        while not self.stop and not p.closed:
            if p.rate:
                now = time.monotonic()
                budget = min(budget + (now - last) * p.rate, p.rate * _TICK)
                last = now
                if budget < 1 and self.client in reading:
                    reading.remove(self.client)  # this tick's share is used up
                elif budget >= 1 and self.client not in reading:
                    reading.append(self.client)
            if p._stalled_gen > self._stall_gen:
                time.sleep(_TICK)  # stalled: read nothing, write nothing
                continue
            ready = [s for s in reading if getattr(s, "pending", lambda: 0)()]
            if not ready:
                timeout = _TICK
                due = [q[0][0] for q in self.queues.values() if q]
                if due:
                    timeout = max(0, min(timeout, min(due) - time.monotonic()))
                    if p.trickle and self.queues.get(self.client):
                        timeout = max(timeout, 0.001)  # one byte a millisecond
                ready = select.select(reading, [], [], timeout)[0] if reading else []
                if not reading:
                    time.sleep(timeout)
            for s in ready:
                try:
                    data = s.recv(int(budget) if p.rate and s is self.client else 65536)
                    if p.rate and s is self.client:
                        budget -= len(data)
                except (BlockingIOError, socket.timeout):
                    continue
                except OSError as err:
                    if type(err).__name__.startswith("SSLWant"):
                        continue
                    data = b""
                if not data:
                    if s is self.client or not self.dead_now():
                        # the client went away (or, live, the server did): pass the
                        # close on once what is queued has been written
                        self._drain()
                        return
                    reading.remove(s)  # black-holed: the server hung up, the client must not see it
                    continue
                if self.dead or self.dead_now() or (s is self.client and self.deaf_now()):
                    continue
                if s is self.client and self.sent is not None:
                    data = self._frames_from_client(data)
                    if not data:
                        continue
                if s is self.up and self.received is not None:
                    self.received += data
                self.queues[peers[s]].append((time.monotonic() + p.delay, data))
            self._flush()

    def _frames_from_client(self, data):
        """keep_sent: the client's bytes cut into websocket frames; each payload is kept,
        whole frames go upstream (except one drop_next() picked). Returns those bytes."""
        buf = self._unframed
        buf += data
        i = 0
        if not self._upgraded:  # the upgrade request goes on as it is
            i = buf.find(b"\r\n\r\n") + 4
            if i < 4:
                return b""
            self._upgraded = True
        out = bytearray(buf[:i])
        while True:
            frame = _frame_at(buf, i)
            if frame is None:
                break
            end, opcode, payload = frame
            drop = self.proxy._drop
            if opcode < 8:  # not close, ping, pong
                self.sent.append(payload)
                if drop is not None and drop(payload):
                    self.proxy._drop = None
                    self.proxy.dropped.append(payload)
                    i = end
                    continue
            out += buf[i:end]
            i = end
        del buf[:i]
        return bytes(out)

    def dead_now(self):
        if self.dead:
            return True
        if self.proxy._blackholed_gen > self._gen:
            self.dead = True
            for q in self.queues.values():
                del q[:]
        return self.dead

    def deaf_now(self):
        """True once deafen() was called after this connection began; the bytes
        delayed on their way to the server are dropped then."""
        if self.proxy._deafened_gen > self._deaf_gen:
            if self.up is not None:
                del self.queues[self.up][:]
            return True
        return False

    def _flush(self):
        now = time.monotonic()
        self.deaf_now()  # nothing more to the server once deafened
        for s, q in self.queues.items():
            while q and q[0][0] <= now and not self.dead_now():
                if self.proxy.trickle and s is self.client:
                    # one byte per pass: the other direction keeps flowing meanwhile
                    due, data = q[0]
                    s.sendall(data[:1])
                    if len(data) > 1:
                        q[0] = (due, data[1:])
                    else:
                        q.pop(0)
                    break
                s.sendall(q.pop(0)[1])

    def _drain(self):
        end = time.monotonic() + 5
        while any(self.queues.values()) and time.monotonic() < end and not self.dead:
            self._flush()
            time.sleep(0.001)


def _frame_at(buf, i):
    """The frame at buf[i] (a client's masked, or a server's): (index after it, opcode,
    unmasked payload), or None while it is incomplete."""
    if i + 2 > len(buf):
        return None
    opcode, n, masked = buf[i] & 0x0F, buf[i + 1] & 0x7F, buf[i + 1] & 0x80
    i += 2
    if n >= 126:
        size = 2 if n == 126 else 8
        if i + size > len(buf):
            return None
        n = int.from_bytes(buf[i:i + size], "big")
        i += size
    start = i + 4 if masked else i
    if start + n > len(buf):
        return None
    if not masked:
        return start + n, opcode, bytes(buf[start:start + n])
    mask = buf[i:start]
    return start + n, opcode, bytes(b ^ mask[k % 4] for k, b in enumerate(buf[start:start + n]))


def frames(data):
    """The websocket frames in what a server sent (keep_received: the upgrade response
    skipped): [(index after the frame, opcode, payload)], a trailing partial frame left out."""
    out = []
    i = data.find(b"\r\n\r\n") + 4
    while i >= 4:
        frame = _frame_at(data, i)
        if frame is None:
            break
        out.append(frame)
        i = frame[0]
    return out


def _close(s):
    if s is None:
        return
    try:
        s.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    try:
        s.close()
    except OSError:
        pass


class TcpProxy:
    def __init__(self, upstream_port, upstream_host=HOST, tls_context=None, port=0, keep_sent=False,
                 keep_received=False):
        self.upstream_host = upstream_host
        self.keep_sent = keep_sent
        self.keep_received = keep_received
        self._kept = []  # each connection's payloads from its client (keep_sent)
        self._received = []  # each connection's bytes from the server (keep_received)
        self._drop = None  # drop_next's predicate, until a frame matched it
        self.dropped = []
        self.upstream_port = upstream_port
        self.tls_context = tls_context
        self.mode = "pass"  # for new connections: pass, reject, hold (black hole)
        self.delay = 0.0
        self.trickle = False
        self.rate = 0  # bytes a second read from the client (0: as fast as it comes)
        self.closed = False
        self.accepted = 0  # connections accepted so far
        self.errors = []  # exceptions inside connection threads (should stay empty)
        self.tls_errors = []  # failed TLS handshakes (client refused our certificate, ...)
        self._blackholed_gen = 0
        self._stalled_gen = 0
        self._deafened_gen = 0
        self._conns = []
        self._lock = threading.Lock()
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind((HOST, port))
        self._listener.listen(16)
        self._listener.settimeout(_TICK * 5)
        self.port = self._listener.getsockname()[1]
        self._thread = threading.Thread(target=self._accept_loop, daemon=True)

    def url(self, path="/deepstream-v3", scheme=None):
        if scheme is None:
            scheme = "wss" if self.tls_context is not None else "ws"
        return "%s://%s:%d%s" % (scheme, HOST, self.port, path)

    def start(self):
        self._thread.start()
        return self

    def _accept_loop(self):
        while not self.closed:
            try:
                sock, _ = self._listener.accept()
            except (socket.timeout, OSError):
                continue
            self.accepted += 1
            if self.mode == "reject":
                _close(sock)
                continue
            conn = _Conn(self, sock, dead=self.mode == "hold")
            with self._lock:
                self._conns.append(conn)
                if conn.sent is not None:
                    self._kept.append(conn.sent)
                if conn.received is not None:
                    self._received.append(conn.received)
            conn.thread.start()

    def _forget(self, conn):
        with self._lock:
            if conn in self._conns:
                self._conns.remove(conn)

    def live(self):
        """Connections currently open (forwarding or black-holed)."""
        with self._lock:
            return list(self._conns)

    def sent_payloads(self):
        """keep_sent: per connection, the websocket payloads its client sent so far."""
        with self._lock:
            return [list(sent) for sent in self._kept]

    def received(self):
        """keep_received: per connection, the bytes its server sent so far."""
        with self._lock:
            return [bytes(data) for data in self._received]

    def drop_next(self, predicate):
        """keep_sent: do not forward the next client frame whose payload predicate() accepts."""
        assert self.keep_sent, "drop_next needs keep_sent=True"
        self._drop = predicate

    # ---- faults --------------------------------------------------------

    def cut(self, timeout=5.0):
        """Close every live connection now; new ones follow the current mode."""
        conns = self.live()
        for c in conns:
            c.stop = True
        for c in conns:
            c.finished.wait(timeout)

    def reject(self):
        self.mode = "reject"

    def blackhole(self):
        """Drop all bytes of live connections and hold new ones (no FIN, no RST)."""
        self.mode = "hold"
        self._blackholed_gen += 1

    def stall(self):
        """Stop reading (and forwarding) on every live connection; new ones pass.
        A client's writes block once the kernel buffers are full (MBs on loopback)."""
        self._stalled_gen += 1

    def deafen(self):
        """Live connections: drop what their clients send from now on, and what
        is still delayed on its way to the server; the server's bytes still go
        to the client (an uplink that died while the downlink works)."""
        self._deafened_gen += 1

    def restore(self):
        """Forward new connections again (black-holed ones stay dead)."""
        self.mode = "pass"

    def set_delay(self, ms):
        self.delay = ms / 1000.0

    def set_trickle(self, on=True):
        """Deliver bytes to the client one at a time (each its own TCP segment,
        about 1 ms apart); the other direction is forwarded as it comes."""
        self.trickle = on

    def set_rate(self, bps):
        """Read at most bps bytes a second from the client (0: no limit): the client's
        writes back up into its own send buffer."""
        self.rate = bps

    def close(self):
        self.closed = True
        self._thread.join(2)
        _close(self._listener)
        for c in self.live():
            c.finished.wait(2)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.close()
