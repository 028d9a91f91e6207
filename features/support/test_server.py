"""Scripted deepstream test server for the behave harness (CPython only).

A deliberately small RFC 6455 server on plain sockets and threads, so the
harness controls every byte: it can send zero-length frames, drop all client
sockets at once without waiting for a close handshake, stop listening and
listen again on the same port.

What it records: every deepstream message it receives (a text frame split on
0x1e, each piece kept with its trailing 0x1e), and every raw text frame.
"""
import base64
import hashlib
import socket
import struct
import threading
import time

_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
MSG_SEP = "\x1e"


def split_messages(frame):
    """Split one text frame into deepstream messages, each with its 0x1e."""
    out = []
    start = 0
    while start < len(frame):
        end = frame.find(MSG_SEP, start)
        if end < 0:
            out.append(frame[start:])  # unterminated last message: kept as is
            break
        if end > start:
            out.append(frame[start:end + 1])
        start = end + 1
    return out


class _Conn:
    """One accepted websocket connection, read by its own thread."""

    def __init__(self, server, sock, addr):
        self.server = server
        self.sock = sock
        self.addr = addr
        self.path = None
        self.open = False
        self.send_lock = threading.Lock()

    # -- handshake ---------------------------------------------------------
    def handshake(self):
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = self.sock.recv(4096)
            if not chunk:
                raise ConnectionError("closed during handshake")
            data += chunk
            if len(data) > 65536:
                raise ConnectionError("handshake too large")
        head, _, rest = data.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        method, target, _version = lines[0].split(" ", 2)
        headers = {}
        for line in lines[1:]:
            k, _, v = line.partition(":")
            headers[k.strip().lower()] = v.strip()
        self.path = target
        key = headers.get("sec-websocket-key")
        ok = (
            method == "GET"
            and "websocket" in headers.get("upgrade", "").lower()
            and key is not None
            and target == self.server.path
        )
        if not ok:
            self.sock.sendall(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
            self.server.note(f"rejected handshake {lines[0]!r}")
            raise ConnectionError("bad handshake")
        accept = base64.b64encode(hashlib.sha1(key.encode() + _GUID).digest()).decode()
        self.sock.sendall(
            (
                "HTTP/1.1 101 Switching Protocols\r\n"
                "Upgrade: websocket\r\n"
                "Connection: Upgrade\r\n"
                f"Sec-WebSocket-Accept: {accept}\r\n\r\n"
            ).encode()
        )
        return rest

    # -- frames --------------------------------------------------------------
    def _read_exact(self, n):
        while len(self._buf) < n:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("eof")
            self._buf += chunk
        out, self._buf = self._buf[:n], self._buf[n:]
        return out

    def _read_frame(self):
        b0, b1 = self._read_exact(2)
        fin, opcode = b0 & 0x80, b0 & 0x0F
        masked, length = b1 & 0x80, b1 & 0x7F
        if b0 & 0x70:
            self.server.note("frame with RSV bits set")
        if length == 126:
            (length,) = struct.unpack("!H", self._read_exact(2))
        elif length == 127:
            (length,) = struct.unpack("!Q", self._read_exact(8))
        if not masked:
            self.server.note("client frame not masked (RFC 6455 violation)")
        mask = self._read_exact(4) if masked else None
        payload = self._read_exact(length)
        if mask:
            payload = bytes(c ^ mask[i & 3] for i, c in enumerate(payload))
        return bool(fin), opcode, payload

    def send_frame(self, opcode, payload):
        n = len(payload)
        if n < 126:
            head = struct.pack("!BB", 0x80 | opcode, n)
        elif n < 65536:
            head = struct.pack("!BBH", 0x80 | opcode, 126, n)
        else:
            head = struct.pack("!BBQ", 0x80 | opcode, 127, n)
        with self.send_lock:
            self.sock.sendall(head + payload)

    def send_text(self, text):
        self.send_frame(0x1, text.encode("utf-8"))

    def run(self):
        try:
            self._buf = self.handshake()
            self.open = True
            self.server._connected(self)
            fragments = None
            while True:
                fin, opcode, payload = self._read_frame()
                if opcode == 0x8:  # close: answer and end
                    try:
                        self.send_frame(0x8, payload[:2])
                    except OSError:
                        pass
                    break
                if opcode == 0x9:
                    self.send_frame(0xA, payload)
                    continue
                if opcode == 0xA:
                    continue
                if opcode == 0x2:
                    self.server.note("binary frame received")
                if opcode in (0x1, 0x2):
                    fragments = [payload]
                elif opcode == 0x0 and fragments is not None:
                    fragments.append(payload)
                else:
                    self.server.note(f"unexpected opcode {opcode}")
                    continue
                if fin:
                    self.server._received(self, b"".join(fragments).decode("utf-8"))
                    fragments = None
        except (OSError, ConnectionError, ValueError):
            pass
        finally:
            self.close()

    def close(self, send_close=False):
        was_open, self.open = self.open, False
        if send_close and was_open:
            try:
                self.send_frame(0x8, struct.pack("!H", 1000))
            except OSError:
                pass
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        try:
            self.sock.close()
        except OSError:
            pass
        self.server._disconnected(self)


class TestServer:
    """A websocket server on localhost:<port><path>, restartable."""

    __test__ = False  # not a pytest test class

    def __init__(self, port, path="/deepstream", host="localhost"):
        self.host = host
        self.port = port
        self.path = path
        self.url = f"ws://{host}:{port}{path}"
        self._lock = threading.Lock()
        self._cond = threading.Condition(self._lock)
        self._listeners = []
        self._accept_threads = []
        self.connections = []  # open, handshaken connections in connect order
        self.last_connection = None
        self.connect_count = 0  # handshakes completed since creation
        self.messages = []  # received deepstream messages (with trailing 0x1e)
        self.frames = []  # received text frames
        self.notes = []  # protocol oddities seen (for diagnostics)

    # -- lifecycle --------------------------------------------------------------
    @property
    def listening(self):
        return bool(self._listeners)

    def start(self):
        """Listen on 127.0.0.1 (and ::1 when the host has IPv6), so that
        "localhost" works whichever address the client resolves first."""
        if self._listeners:
            return
        self._listeners = [self._bind(socket.AF_INET, "127.0.0.1", required=True)]
        if socket.has_ipv6:
            six = self._bind(socket.AF_INET6, "::1", required=False)
            if six is not None:
                self._listeners.append(six)
        for lsock in self._listeners:
            t = threading.Thread(target=self._accept_loop, args=(lsock,), daemon=True,
                                 name=f"ds-test-server-{self.port}")
            self._accept_threads.append(t)
            t.start()

    def _bind(self, family, addr, required):
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if family == socket.AF_INET6:
            sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        deadline = time.monotonic() + (2 if required else 0)
        while True:
            try:
                sock.bind((addr, self.port))
                break
            except OSError:
                if time.monotonic() >= deadline:
                    sock.close()
                    if required:
                        raise
                    return None
                time.sleep(0.05)
        sock.listen(16)
        return sock

    def _accept_loop(self, lsock):
        while True:
            try:
                sock, addr = lsock.accept()
            except OSError:
                return
            if lsock not in self._listeners:
                sock.close()
                return
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            conn = _Conn(self, sock, addr)
            threading.Thread(target=conn.run, daemon=True).start()

    def stop_listening(self):
        lsocks, self._listeners = self._listeners, []
        for lsock in lsocks:
            try:
                lsock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            lsock.close()
        for t in self._accept_threads:
            t.join(1)
        self._accept_threads = []

    def close_connections(self):
        """Close every client socket (close frame, then the TCP connection)."""
        with self._lock:
            conns = list(self.connections)
        for c in conns:
            c.close(send_close=True)

    def stop(self):
        """`the connection to the server is lost`: drop clients, stop listening."""
        self.stop_listening()
        self.close_connections()

    def reset(self):
        """Per scenario: forget messages and frames."""
        with self._lock:
            self.messages = []
            self.frames = []
            self.notes = []

    # -- callbacks from connection threads ----------------------------------------
    def _connected(self, conn):
        with self._cond:
            self.connections.append(conn)
            self.last_connection = conn
            self.connect_count += 1
            self._cond.notify_all()

    def _disconnected(self, conn):
        with self._cond:
            if conn in self.connections:
                self.connections.remove(conn)
            self._cond.notify_all()

    def _received(self, conn, text):
        with self._lock:
            self.frames.append(text)
            self.messages.extend(split_messages(text))

    def note(self, text):
        with self._lock:
            self.notes.append(text)

    # -- queries and actions used by the steps --------------------------------------
    @property
    def active_connections(self):
        with self._lock:
            return len(self.connections)

    @property
    def last_message(self):
        with self._lock:
            return self.messages[-1] if self.messages else None

    def snapshot(self):
        with self._lock:
            return list(self.messages)

    def frames_snapshot(self):
        with self._lock:
            return list(self.frames)

    def send(self, text):
        """Send a text frame (may be empty) to the last connected socket."""
        conn = self.last_connection
        if conn is None or not conn.open:
            raise AssertionError(f"{self.url}: no connected client to send {text!r} to")
        conn.send_text(text)
