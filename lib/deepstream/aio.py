"""asyncio driver: ``await run(conn)`` until the core is CLOSED with nothing to do.

Per socket: a reader task feeds the websocket and the core; this coroutine
is the only writer and the timer. The core calls ``conn.on_output()`` when
it has something for the driver (a frame, an open request, a close); that
sets an Event so user actions go out at once instead of at the next timer.
A synchronous call (emit, set, make) never waits for the writer: what it
cannot put into the core's frame buffer waits in the core's bounded queue
until the writer runs; ``await drain(conn)`` is the backpressure.
Runs unchanged on CPython's and MicroPython's asyncio.
"""
import asyncio

from .compat import IS_MICROPYTHON, ticks_add, ticks_diff, ticks_ms, wait_for_ms
from .constants import CLOSED
from .transport import (
    CLOSE_TIMEOUT, WebSocket, WebSocketError, failed_text, no_delay, option, pump, warn_if_insecure,
)

READ_SIZE = 1024
_HANDSHAKE_READ = 256


async def run(conn):
    wake = asyncio.Event()
    conn.on_output = wake.set
    if getattr(conn, "drained", None) is None:  # set whenever the writer caught up (drain() waits)
        conn.drained = asyncio.Event()
    try:
        while True:
            wake.clear()
            url = conn.take_open_request()
            if url:
                await _session(conn, url, wake)
                continue
            if conn.state == CLOSED and conn.next_deadline() is None:
                return
            await _wait(conn, wake, None)
            conn.tick()
    finally:
        conn.on_output = None
        conn.drained.set()


async def drain(conn):
    """Wait until the core has nothing left to send (nor, with confirm_events,
    to see confirmed): everything was handed to the socket. Returns at once
    after close()."""
    if getattr(conn, "drained", None) is None:  # before run() started
        conn.drained = asyncio.Event()
    while conn.pending() and not conn.stopped():
        conn.drained.clear()
        await conn.drained.wait()


async def _wait(conn, wake, other_deadline):
    """Wait for wake or the earliest deadline."""
    now = conn.clock()
    wait = None
    for deadline in (conn.next_deadline(), other_deadline):
        if deadline is not None:
            ms = max(0, ticks_diff(deadline, now))
            wait = ms if wait is None else min(wait, ms)
    if wait is None:
        await wake.wait()
        return
    try:
        await wait_for_ms(wake.wait(), wait)
    except asyncio.TimeoutError:
        pass


class _Session:
    def __init__(self, conn, reader, writer, ws, wake):
        self.conn = conn
        self.reader = reader
        self.writer = writer
        self.ws = ws
        self.wake = wake
        self.out = []  # pong/close replies from the reader, written by the writer
        self.done = False
        self.reason = None  # for conn.socket_closed()
        self.error = None  # for conn.socket_error()

    def end(self, reason=None, error=None):
        if not self.done:
            self.done = True
            self.reason = reason
            self.error = error
        self.wake.set()

    def feed(self, data=None):
        """Bytes read (data; None: already in the websocket's buffer) to the core."""
        ours = self.ws.close_sent  # we started the close handshake
        try:
            if data:
                self.ws.receive_data(data)
            if not pump(self.conn, self.ws, self.out):
                self.end(None if ours else "closed by the server")
        except WebSocketError as err:  # protocol violation: close with 1002
            if not self.ws.close_sent:
                self.out.append(self.ws.send_close(1002))
            self.end(None, str(err))
        self.wake.set()

    async def read_loop(self):
        reader = self.reader
        ws = self.ws
        # MicroPython's streams read straight into the websocket's buffer; CPython's
        # make new bytes per read
        readinto = getattr(reader, "readinto", None)
        try:  # MemoryError growing the buffer ends the session too (the core reconnects)
            while not self.done:
                if readinto:
                    n = await readinto(ws.read_view())
                    if n is None:  # a TLS record not complete yet
                        continue
                    if n:
                        ws.commit(n)
                    data = None
                else:
                    data = await reader.read(READ_SIZE)
                    n = len(data)
                if not n:
                    self.end("connection closed by the server")
                    return
                self.feed(data)
        except Exception as err:  # OSError, MemoryError: drop, the core reconnects
            self.end(None, str(err) or type(err).__name__)

    async def write_loop(self):
        conn, ws, writer = self.conn, self.ws, self.writer
        close_by = None
        while True:
            self.wake.clear()
            conn.tick()
            while self.out:
                writer.write(self.out.pop(0))
            if not self.done:
                while True:
                    n = conn.take_frame()
                    if not n:
                        break
                    try:  # written, or copied by the stream, before the core reuses its buffer
                        writer.write(memoryview(conn.frame)[conn.frame_start:conn.frame_start + n])
                    except Exception:
                        conn.frame_unsent(n)
                        raise
                    await writer.drain()
                    if self.done:
                        break
                if conn.want_close and not ws.close_sent:
                    if conn.link_dead:  # the heartbeat found it dead: no close handshake to wait for
                        self.end(None)
                        return
                    writer.write(ws.send_close(1000))
                    close_by = ticks_add(conn.clock(), CLOSE_TIMEOUT)
            await writer.drain()
            if not conn.pending():
                conn.drained.set()
            if self.done:
                return
            if close_by is not None and ticks_diff(close_by, conn.clock()) <= 0:
                self.end(None)  # the server never answered our close frame
                return
            await _wait(conn, self.wake, close_by)


async def open_async(url, timeout_ms=10000, max_message_size=16384, ca_file=None, verify=None,
                     dns_server=None):
    """Resolve, connect and upgrade, all within timeout_ms; returns (reader, writer, ws)."""
    from .ws_handshake import parse_url, release  # needed only now: released at the end either way
    try:
        start = ticks_ms()
        secure, host, port, path = parse_url(url)
        ctx = None
        if secure:
            from .tls import ssl_context

            ctx = ssl_context(ca_file, verify)
        # MicroPython's open_connection() resolves with getaddrinfo(), which blocks the
        # loop: the name is resolved first, without blocking (dns.resolve_async), as
        # everywhere dns_server is given; CPython's loop resolves it otherwise
        address = host
        if IS_MICROPYTHON or dns_server:
            from .ws_handshake import dns_server as server, getaddrinfo, is_address
            if not is_address(host):
                server = server(dns_server)
                if server is None:  # no resolver known: getaddrinfo, which says if it did not resolve
                    getaddrinfo(host, port)
                else:
                    from .dns import resolve_async
                    address = await resolve_async(host, server, timeout_ms)
        left = max(1, timeout_ms - ticks_diff(ticks_ms(), start))
        try:
            return await wait_for_ms(_open(address, host, port, path, ctx, max_message_size), left)
        except asyncio.TimeoutError:
            raise OSError("timed out: no websocket within %d ms (connect_timeout)" % timeout_ms)
    finally:
        release()


async def _open(address, host, port, path, ctx, max_message_size):
    writer = None
    try:
        try:
            if ctx is None or address == host:
                reader, writer = await asyncio.open_connection(address, port, ssl=ctx)
            else:  # TLS to an address resolved here: the certificate names the host
                reader, writer = await asyncio.open_connection(address, port, ssl=ctx, server_hostname=host)
        except OSError as err:
            if err.args and isinstance(err.args[0], int) and err.args[0] < 0:  # a resolver's error
                raise OSError("%s did not resolve (%s)" % (host, err))
            if address != host:
                from .transport import RESOLVED
                RESOLVED.pop(host, None)  # resolved again on the next attempt
            raise
        sock = getattr(writer, "s", None)  # MicroPython's stream keeps its socket here
        if sock is None and hasattr(writer, "get_extra_info"):
            sock = writer.get_extra_info("socket")
        if sock is not None:
            no_delay(sock)
        ws = WebSocket(max_message_size)
        writer.write(ws.handshake_request(host, port, path, secure=ctx is not None))
        await writer.drain()
        while True:
            # the upgrade response is ~200 bytes: small reads spare a board a 1 KB block
            data = await reader.read(_HANDSHAKE_READ)
            if ws.receive_handshake(data):  # b"" (closed): raises, saying what that means
                return reader, writer, ws
    except BaseException:
        if writer is not None:
            writer.close()
        raise


async def _session(conn, url, wake):
    try:
        reader, writer, ws = await open_async(url, option(conn, "connect_timeout"), option(conn, "max_message_size"),
                                              option(conn, "ca_file"), option(conn, "verify"),
                                              option(conn, "dns_server"))
    except Exception as err:  # OSError, WebSocketError, ValueError, MemoryError
        conn.socket_error(failed_text(url, err))
        conn.socket_closed(None)
        return
    s = _Session(conn, reader, writer, ws, wake)
    conn.socket_opened()
    warn_if_insecure(conn, url)
    s.feed()  # frames that came right behind the upgrade response
    task = asyncio.create_task(s.read_loop())
    try:
        await s.write_loop()
    except Exception as err:  # OSError writing
        s.end(None, str(err) or type(err).__name__)
    finally:
        task.cancel()
        try:
            await task
        except (asyncio.CancelledError, Exception):
            pass
        writer.close()
        try:
            await wait_for_ms(writer.wait_closed(), 1000)
        except Exception:  # OSError, TimeoutError: the socket is gone either way
            pass
        if s.error is not None:
            conn.socket_error(s.error)
        conn.socket_closed(s.reason)
