"""Durable outbox: events emitted while offline, kept in a small append-only
file so they survive a reset or power loss and go out after the next login.

File format: a sequence of records, each
    2 bytes  payload length (big endian)
    4 bytes  CRC-32 of the payload (big endian)
    payload  one complete deepstream message as its codec encoded it (text:
             UTF-8 with its 0x1e; binary: a whole websocket frame, 0x82 first)
A record cut short by a power loss, or one whose CRC does not match, ends
the file: it and anything after it are skipped (and reported), everything
before it is kept; so does a message of the other protocol (a file written
before the URL changed), which would be garbage on this link. One append per
queued message (one flash write, no rewrite); the file is deleted once its
messages were handed to the socket.
They are read back one record at a time (Reader), so replaying a file
larger than the send queue needs no more memory than one message.
"""
import os

try:
    from binascii import crc32
except ImportError:  # ports built without binascii.crc32
    def crc32(data, crc=0):
        crc ^= 0xFFFFFFFF
        for b in data:
            crc ^= b
            for _ in range(8):
                crc = (crc >> 1) ^ (0xEDB88320 & -(crc & 1))
        return crc ^ 0xFFFFFFFF

_HEADER = 6


class Outbox:
    def __init__(self, path, max_bytes):
        self.path = path
        self.max_bytes = max_bytes
        self.size = self._file_size()

    def _file_size(self):
        try:
            return os.stat(self.path)[6]
        except OSError:
            return 0

    def append(self, payload):
        """Store one message (bytes). Returns False (and stores nothing) when full."""
        n = len(payload)
        if n > 0xFFFF or self.size + _HEADER + n > self.max_bytes:
            return False
        crc = crc32(payload) & 0xFFFFFFFF
        header = bytes((n >> 8, n & 0xFF, crc >> 24, (crc >> 16) & 0xFF, (crc >> 8) & 0xFF, crc & 0xFF))
        with open(self.path, "ab") as f:
            f.write(header + payload)  # one write: a torn tail is caught by length/CRC
        self.size += _HEADER + n
        return True

    def reader(self, framed=False):
        """Read the messages back for a link of the binary protocol (framed) or the text one."""
        return Reader(self, framed)

    def clear(self):
        try:
            os.remove(self.path)
        except OSError:
            pass
        self.size = 0


class Reader:
    """The records of an outbox file, one at a time: peek() is the next
    intact message (bytes) or None at the end; a torn or corrupt record ends
    the file (skipped counts the bytes from it to the end). reopen() goes on
    from where it stopped, for records appended meanwhile."""

    def __init__(self, outbox, framed=False):
        self.outbox = outbox
        self.framed = framed
        self.skipped = 0
        self.done = False
        self.pos = 0  # bytes of the file read (intact records) or skipped
        self._msg = None
        self._f = None
        self.reopen()

    def reopen(self):
        try:
            self._f = open(self.outbox.path, "rb")
            self._f.seek(self.pos)
        except OSError:
            self._f = None
        self.done = False
        self.next()

    def peek(self):
        return self._msg

    def next(self):
        """Move to the next record."""
        if self._msg is not None:
            self.pos += _HEADER + len(self._msg)
        self._msg = None
        f = self._f
        if f is not None:
            header = f.read(_HEADER)
            if len(header) == _HEADER:
                n = (header[0] << 8) | header[1]
                crc = (header[2] << 24) | (header[3] << 16) | (header[4] << 8) | header[5]
                payload = f.read(n)
                if len(payload) == n and (crc32(payload) & 0xFFFFFFFF) == crc and self._ours(payload):
                    self._msg = payload
                    return
            torn = self.outbox._file_size() - self.pos
            self.skipped += torn
            self.pos += torn
            self.close()
        self.done = True

    def _ours(self, payload):
        """A message of this link's protocol: a binary websocket frame, or text."""
        if self.framed:
            return payload[:1] == b"\x82"
        try:
            payload.decode()
            return True
        except UnicodeError:
            return False

    def close(self):
        if self._f is not None:
            self._f.close()
            self._f = None
